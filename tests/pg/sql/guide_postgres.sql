-- warehouse: postgres
-- database: movielens
-- setup: load movielens
-- The guide's architecture on PostgreSQL: the tables live in this database (loaded by
-- `reco --db postgresql://... load movielens`), `reco serve --db` on the same database is the
-- model service, and the guide's SQL runs here through the extension. Trained on every rating:
-- 610 users, each with 10 distinct items they have not rated (the same table as on SQLite with
-- the same seed). Skipped while the reco binary has no PostgreSQL warehouse.
select * from ratings order by userid, movieid limit 5;

create table ratings_train_data as
    (select USERID, MOVIEID, RATING
    from ratings);

create table user_movie_recommendations
(USERID float,
TOP_10_RECOMMENDATIONS variant);

select t->'users' as users, t->'ratings' as ratings, t->'output_rows' as output_rows, t->'rmse' as cv_rmse
  from (select train_and_get_recommendations('MOVIELENS.PUBLIC.ratings_train_data','MOVIELENS.PUBLIC.user_movie_recommendations') as t) r;

select * from user_movie_recommendations order by userid limit 5;
select count(*) as rows, count(distinct userid) as users,
       bool_and(jsonb_array_length(top_10_recommendations) = 10) as ten_each,
       bool_and((select count(distinct e) from jsonb_array_elements(top_10_recommendations) e) = 10) as distinct_each
  from user_movie_recommendations;
select count(*) as recommended_but_rated
  from user_movie_recommendations u, jsonb_array_elements(u.top_10_recommendations) e, ratings r
 where r.userid = u.userid and r.movieid = e::int;

select deploy_model('movielens-model-v1', 'models:/ratings_train_data') ->> 'status' as status;

-- create a table to hold pairs of users and movies where we DO NOT have a rating
create table no_ratings (USERID float, MOVIEID float);

insert into no_ratings (USERID, MOVIEID) values
    ('1', '610'),
    ('10', '313'),
    ('10', '297'),
    ('5', '18'),
    ('5', '19');

--real-time prediction for an individual movie for a particular user
select nr.USERID, nr.MOVIEID, m.title, invoke_model('movielens-model-v1', nr.USERID, nr.MOVIEID) as rating_prediction 
from no_ratings nr, movies m
where nr.movieid = m.movieid
order by 1, 2;

-- The same through the pure external-function path (one /invoke call per row): same numbers.
set reco.invoke_mode = 'http';
select nr.USERID, nr.MOVIEID, m.title, invoke_model('movielens-model-v1', nr.USERID, nr.MOVIEID) as rating_prediction 
from no_ratings nr, movies m
where nr.movieid = m.movieid
order by 1, 2;
