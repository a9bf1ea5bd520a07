-- setup: generate --users 20 --items 30 --ratings 300 --seed 4
-- Tasks from SQL: create_task (cron or interval, when_changed), execute_task (runs now; the
-- condition applies), suspend/resume/drop; bad input is an error naming the field or the task.

create table log(n int);
select json_extract(t, '$.name') as name, json_extract(t, '$.schedule') as schedule,
       json_extract(t, '$.state') as state, json_extract(t, '$.when_changed') as when_changed
  from (select create_task('count_ratings', '60 MINUTE', 'insert into log select count(*) from ratings',
                           '{"when_changed": "ratings"}') as t);
select json_extract(create_task('nightly', 'USING CRON 30 2 * * * Europe/Paris', 'delete from log'), '$.schedule') as schedule;

-- The first run has nothing to compare with; the second finds the table unchanged.
select json_extract(r, '$.state') as state, json_extract(r, '$.trigger') as trigger, json_extract(r, '$.error') as error
  from (select execute_task('count_ratings') as r);
select json_extract(r, '$.state') as state, json_extract(r, '$.error') as error
  from (select execute_task('count_ratings') as r);
insert into ratings values (999, 1, 4.0, 0);
select json_extract(execute_task('count_ratings'), '$.state') as state_after_a_change;
select n from log;

-- A task whose SQL fails: the run says why.
select json_extract(create_task('broken', '1 DAY', 'insert into no_such_table values (1)'), '$.state') as state;
select json_extract(r, '$.state') as state, json_extract(r, '$.error') as error from (select execute_task('broken') as r);

select json_extract(suspend_task('nightly'), '$.state') as suspended, json_extract(resume_task('nightly'), '$.state') as resumed;
select drop_task('broken');
select create_task('count_ratings', '1 DAY', 'select 1', '{"replace": true}') is not null as replaced;
select create_task(null, '1 DAY', 'select 1') is null as null_name, drop_task(null) is null as null_drop,
       execute_task(null) is null as null_execute;

-- Bad input.
select create_task('t', '0 24 * * *', 'select 1');
select create_task('t', '*/0 * * * *', 'select 1');
select create_task('t', '0 0 31 2 *', 'select 1');
select create_task('t', '0 3 * * * Mars/Olympus', 'select 1');
select create_task('t', '60 FORTNIGHTS', 'select 1');
select create_task('t', 'every hour', 'select 1');
select create_task('t', '1 DAY', '  ');
select create_task('bad name', '1 DAY', 'select 1');
select create_task('nightly', '1 DAY', 'select 1');
select create_task('t', '1 DAY', 'select 1', '{"when": "ratings"}');
select create_task('t', '1 DAY', 'select 1', '{"when_changed": "a.b.c.d"}');
select execute_task('no_such_task');
select drop_task('broken');
select suspend_task('no_such_task');

-- Snowflake's task statements run too (reco sql translates them); a new task is suspended until
-- resumed, as in Snowflake.
create or replace task weekly warehouse = compute_wh schedule = 'USING CRON 0 4 * * SUN UTC'
  as insert into log select count(*) from ratings;
alter task weekly resume;
execute task weekly;
alter task weekly suspend;
drop task weekly;
create task streamy schedule = '1 DAY' when system$stream_has_data('ratings_stream') as select 1;
