-- .read runs another file; its errors name that file, and the outer script continues.
.mode csv
create table t(a integer, b text);
.read inputs/shell_read_inner.sql
select count(*) as rows_after_read from t;
.echo off
select 'not echoed' as quiet;
.echo on
.bail on
select * from missing_after_bail;
select 'never printed';
