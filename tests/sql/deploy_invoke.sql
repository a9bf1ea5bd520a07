-- setup: generate --users 30 --items 40 --ratings 600 --seed 3
-- The guide's real-time half: deploy_model records an endpoint, invoke_model answers from it
-- in-process (the guide's query runs as written), recommend lists a user's best unrated items.
-- Bad input is answered with an error naming the argument; NULL gives NULL.

create or replace table ratings_train_data as (select USERID, MOVIEID, RATING from ratings);
select json_extract(train_and_get_recommendations('ratings_train_data', 'recs'), '$.version') as trained_version;

select json_extract(d, '$.name') as endpoint, json_extract(d, '$.model') as model,
       json_extract(d, '$.version') as version, json_extract(d, '$.status') as status,
       json_extract(d, '$.generation') as generation, json_extract(d, '$.n_users') as users
  from (select deploy_model('movielens-model-v1', 'models:/ratings_train_data') as d);

-- The guide's query: a prediction for every pair a user has not rated (here: user 1 and 3
-- items), joined to the titles.
create table no_ratings as
  select u.USERID, m.MOVIEID from (select 1 as USERID) u, movies m
   where m.MOVIEID not in (select MOVIEID from ratings where USERID = 1) order by m.MOVIEID limit 3;
select nr.USERID, nr.MOVIEID, m.title,
       round(invoke_model('movielens-model-v1', nr.USERID, nr.MOVIEID), 2) as rating_prediction
  from no_ratings nr, movies m where nr.movieid = m.movieid order by nr.MOVIEID;

-- Predictions stay on the rating scale and ids may come as 10, 10.0, '10' or '10.0'.
select min(p) >= 0.5 as in_scale_low, max(p) <= 5.0 as in_scale_high
  from (select invoke_model('movielens-model-v1', USERID, MOVIEID) as p from ratings);
select invoke_model('movielens-model-v1', 1, 2) = invoke_model('movielens-model-v1', '1.0', 2.0)
       as same_for_text_and_real,
       invoke_model('movielens-model-v1', 1, 2) = invoke_model('movielens-model-v1', ' 1 ', '2')
       as same_for_padded_text;
select invoke_model(null, 1, 2) is null as null_name, invoke_model('movielens-model-v1', null, 2) is null as null_user,
       invoke_model('movielens-model-v1', 1, null) is null as null_item;

-- An unknown user or item gets the fallback estimate, not an error.
select invoke_model('movielens-model-v1', 999999, 1) between 0.5 and 5.0 as unknown_user_ok;

-- recommend: the k best items the user has not rated, best first.
select json_array_length(recommend('movielens-model-v1', 1)) as default_k,
       json_array_length(recommend('movielens-model-v1', 1, 3)) as k3;
select count(*) as rated_items_recommended
  from json_each(recommend('movielens-model-v1', 1, 20)) j
  join ratings r on r.USERID = 1 and r.MOVIEID = j.value;
select recommend('movielens-model-v1', 1, 5) = (select json_group_array(value) from (select j.value
         from recs, json_each(recs.TOP_10_RECOMMENDATIONS) j where recs.USERID = 1 limit 5))
       as matches_output_table;

-- Redeploying the same name updates the endpoint; a new version is served at once.
select json_extract(train_and_get_recommendations('ratings_train_data', 'recs', '{"seed": 7}'), '$.version') as trained_version;
select json_extract(d, '$.status') as status, json_extract(d, '$.version') as version,
       json_extract(d, '$.generation') as generation
  from (select deploy_model('movielens-model-v1', 'models:/ratings_train_data') as d);

-- Errors name the argument; a failed deployment leaves the endpoint as it was.
select invoke_model('no-such-endpoint', 1, 2);
select invoke_model('movielens-model-v1', 'abc', 2);
select invoke_model('movielens-model-v1', 1.5, 2);
select invoke_model('movielens-model-v1', 1, '');
select recommend('movielens-model-v1', 1, 0);
select deploy_model('bad name!', 'models:/ratings_train_data');
select deploy_model('movielens-model-v1', 'models:/no_such_model');
select deploy_model('movielens-model-v1', 's3://bucket/model.tar.gz');
select deploy_model('movielens-model-v1', '');
select deploy_model('movielens-model-v1', 'models:/ratings_train_data/9');
select invoke_model('movielens-model-v1', 1, 2) between 0.5 and 5.0 as still_serving;
