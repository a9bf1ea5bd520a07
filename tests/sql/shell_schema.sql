-- .tables and .schema describe what the warehouse holds.

.tables
create table ratings(userid integer not null, movieid integer not null, rating real,
                     timestamp integer);
create index ratings_user on ratings(userid);
create table movies(movieid integer primary key, title text, genres text);
create view good_movies as
  select m.title, avg(r.rating) as mean from movies m join ratings r using (movieid)
  group by m.movieid having mean >= 4;
create temp table scratch(x);
.tables
.schema
.schema ratings
.schema GOOD_MOVIES
.schema nothing_here
drop view good_movies;
.tables
