-- The default output of `reco sql`: psql-like aligned tables.
-- Numbers are right-aligned, text left-aligned, NULL is empty, widths count display columns.

create table movies(movieid integer primary key, title text, rating real, votes integer);
insert into movies values
  (1, 'Toy Story (1995)', 3.92, 215),
  (2, 'Amélie (Fabuleux destin d''Amélie Poulain, Le) (2001)', 4.18, 120),
  (3, '千と千尋の神隠し (2001)', 4.0, NULL),
  (4, NULL, NULL, 0),
  (5, 'Ça tourne 🎬', 0.1, -3);

select * from movies order by movieid;

-- A single row says "(1 row)"; an empty result still shows its columns.
select count(*) as n from movies;
select * from movies where movieid > 100;

-- Floats print the shortest text that reads back as the same double.
select 0.1 + 0.2 as sum, 1.0 / 3 as third, 2.0 as two, 1e300 * 10 as big, -0.5 as neg,
       9223372036854775807 as max_int, 1e999 as inf;

-- Multi-line text stays on one line (\n), blobs show their size.
select 'first line' || char(10) || 'second' || char(9) || 'tabbed' as text,
       x'0001ff' as bytes, zeroblob(1000) as zeros, '' as empty;

-- Column names as written, including expressions.
select movieid, upper(title), rating * 2 from movies where movieid in (1, 5) order by 1;

-- Statements without result columns print nothing.
update movies set votes = votes + 1 where movieid = 1;
delete from movies where movieid = 4;
select movieid, votes from movies order by movieid;

-- Several statements on one line run one after the other.
select 1 as a; select 2 as b;

-- The last statement needs no semicolon.
.headers off
select title, rating from movies where movieid <= 2 order by movieid
