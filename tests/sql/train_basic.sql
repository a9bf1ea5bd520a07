-- setup: generate --users 30 --items 40 --ratings 600 --seed 3
-- train_and_get_recommendations as in the guide: the output table is created (or its rows
-- replaced), one row per user with a JSON array of 10 unrated items, and each call makes a new
-- model version. Results are deterministic for a seed.

create or replace table ratings_train_data as (select USERID, MOVIEID, RATING from ratings);
create or replace table user_movie_recommendations (USERID float, TOP_10_RECOMMENDATIONS variant);

select json_extract(r, '$.model') as model, json_extract(r, '$.version') as version,
       json_extract(r, '$.output_rows') as output_rows, json_extract(r, '$.ratings') as ratings,
       json_extract(r, '$.users') as users, json_extract(r, '$.items') as items,
       round(json_extract(r, '$.rmse'), 3) as rmse, round(json_extract(r, '$.mae'), 3) as mae,
       json_extract(r, '$.artifact_uri') as artifact
  from (select train_and_get_recommendations('MOVIELENS.PUBLIC.ratings_train_data',
                                             'MOVIELENS.PUBLIC.user_movie_recommendations') as r);

select * from user_movie_recommendations order by USERID limit 5;

-- Every array has 10 distinct items, none of them rated by that user.
select count(*) as users,
       sum(json_array_length(TOP_10_RECOMMENDATIONS) = 10) as with_10_items
  from user_movie_recommendations;
select count(*) as already_rated
  from user_movie_recommendations r, json_each(r.TOP_10_RECOMMENDATIONS) j
  join ratings_train_data t on t.userid = r.userid and t.movieid = j.value;
select count(*) as repeated
  from (select r.userid, j.value from user_movie_recommendations r, json_each(r.TOP_10_RECOMMENDATIONS) j
        group by 1, 2 having count(*) > 1);

-- A second run replaces the rows (not appended) and makes version 2 of the same model.
select json_extract(train_and_get_recommendations('ratings_train_data', 'user_movie_recommendations'),
                    '$.version') as version;
select count(*) as users from user_movie_recommendations;

-- Options: another algorithm, seed, model name, top_k; a new output table is created.
select json_extract(r, '$.model') as model, json_extract(r, '$.algorithm') as algorithm,
       json_extract(r, '$.folds') as folds, json_extract(r, '$.rmse') as rmse
  from (select train_and_get_recommendations('ratings_train_data', 'top3',
          '{"algorithm": "baseline", "folds": 0, "model": "bsl", "top_k": 3, "seed": 9}') as r);
select * from top3 order by USERID limit 3;
.schema top3
