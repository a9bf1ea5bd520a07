-- Read by shell_read.sql (not a test of its own).
insert into t values (1, 'from inner');
select * from t;
select * from inner_missing;
insert into t values (2, 'after the error');
