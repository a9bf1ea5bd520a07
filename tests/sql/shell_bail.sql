-- options: --bail
-- With --bail the first error stops the script with exit status 1.

create table t(a);
insert into t values (1);
select a from t;
insert into missing values (2);
select 'never printed' as b;
