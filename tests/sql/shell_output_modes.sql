-- The csv, json and line output modes and the .headers switch.

create table t(id integer, name text, score real, note text);
insert into t values
  (1, 'plain', 1.5, NULL),
  (2, 'with, comma', 2.0, 'say "hi"'),
  (3, 'two' || char(10) || 'lines', NULL, ''),
  (4, 'Amélie', -0.25, 'naïve');

.mode csv
select * from t order by id;
.headers off
select id, name from t where id = 2;
.headers on

.mode json
select * from t order by id;
select 1 as only where 0;
select x'cafe' as blob, 1e999 as inf, 7 as n, '7' as s;

.mode line
select id, name, score from t where id in (1, 4) order by id;

.mode
.mode table
select id, score from t order by id;
