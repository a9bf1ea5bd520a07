-- setup: load movielens
-- serve-sql: create table ratings_train_data as select USERID, MOVIEID, RATING from ratings limit 10000
-- The guide's SQL in psql through the extension, as written except what is Snowflake's own
-- (`use ...`, warehouses, `create or replace table`, timestamp_ntz, the UI's CSV loading, here
-- \copy). reco serve runs on its own warehouse, where the input table is made the same way
-- (serve-sql above).
create table movies  (
    movieid int,
    title varchar,
    genres varchar
);
create table ratings (
    userid int,
    movieid int,
    rating float,
    timestamp bigint
);
\copy movies from '$DATA/movies.csv' csv header
\copy ratings from '$DATA/ratings.csv' csv header
select * from ratings limit 10;

create table ratings_train_data as
    (select USERID, MOVIEID, RATING
    from ratings limit 10000);

create table user_movie_recommendations
(USERID float,
TOP_10_RECOMMENDATIONS variant);

select train_and_get_recommendations('MOVIELENS.PUBLIC.ratings_train_data','MOVIELENS.PUBLIC.user_movie_recommendations');

select deploy_model('movielens-model-v1', 'models:/ratings_train_data');

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
where nr.movieid = m.movieid;

-- The same through the pure external-function path (one /invoke call per row): same numbers.
set reco.invoke_mode = 'http';
select nr.USERID, nr.MOVIEID, invoke_model('movielens-model-v1', nr.USERID, nr.MOVIEID) as rating_prediction
from no_ratings nr order by 1, 2;
reset reco.invoke_mode;

-- A user's top 10 from the endpoint, and a new user's from their ratings (fold-in).
select recommend('movielens-model-v1', 1);
select jsonb_array_length(recommend_for('movielens-model-v1', '[[1, 5], [260, 4.5], [1196, 5]]', 3)->'recommendations') as k;
