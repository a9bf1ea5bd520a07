-- Errors name the line where the failing statement begins, and the script carries on
-- (without --bail); the exit status is then 1.

create table t(a integer primary key, b text not null);
insert into t values (1, 'one');

select * from no_such_table;

select a,
       b
  from t
 where c = 1;

insert into t values (2, 'two');
selct * from t;
insert into t values (1, 'duplicate');
insert into t values (3, NULL);
select * from t order by a;

-- A failing statement in the middle of a line does not stop the ones after it.
select 1 as before; select nothing; select 3 as after;

-- Dot-command mistakes are errors too.
.nosuchcommand
.mode fancy
.headers sometimes
.read does_not_exist.sql

select 'still running' as status;
