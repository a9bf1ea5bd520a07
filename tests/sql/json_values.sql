-- setup: generate --users 30 --items 40 --ratings 600 --seed 3
-- options: --mode json
-- JSON columns print as JSON in --mode json: columns declared VARIANT / OBJECT / ARRAY / JSON
-- holding an object or array, and results of JSON functions (SQLite's json1, reco's own).
-- Snowflake's element access (X[0], X:key.sub, X['key']), FLATTEN and PARSE_JSON work.

create or replace table ratings_train_data as (select USERID, MOVIEID, RATING from ratings);
create or replace table user_movie_recommendations (USERID float, TOP_10_RECOMMENDATIONS variant);
select json_extract(train_and_get_recommendations('ratings_train_data', 'user_movie_recommendations'), '$.output_rows') as rows;

-- The recommendations are JSON arrays, not strings; the first of them is an item id.
select * from user_movie_recommendations order by USERID limit 2;
select USERID, TOP_10_RECOMMENDATIONS[0] as best, u.TOP_10_RECOMMENDATIONS[9] as tenth
  from user_movie_recommendations u order by USERID limit 2;
-- Without an alias, a select-list item is named as written (as in Snowflake).
select TOP_10_RECOMMENDATIONS[0], TOP_10_RECOMMENDATIONS[1] + 0
  from user_movie_recommendations order by USERID limit 1;
-- One row per recommended item, with its rank (FLATTEN is SQLite's json_each: key, value, ...).
select u.USERID, f.key + 1 as rank, f.value as movieid
  from user_movie_recommendations u, lateral flatten(input => u.TOP_10_RECOMMENDATIONS) f
 where u.USERID = 1 and f.key < 3;

-- reco's JSON results are JSON too.
select deploy_model('ep', 'models:/ratings_train_data'):status as status,
       recommend('ep', 1, 3) as top3;

-- Declared types and JSON functions; text that is not an object or array stays a string.
create table docs (v variant, o object, t text);
insert into docs values ('{"a": {"b": [5, 6]}, "z": "last"}', '[1, 2]', '[3]'),
                        ('plain', 'not json {', '{}');
select v, o, t, json_object('k', t) as made, json(t) as normalised from docs;
select v:a.b[1] as ab, v['z'] as z, o[0] as o0, (v):z as z_again from docs where rowid = 1;
select parse_json('{"b": 1,
  "a": [true, null]}') as parsed, parse_json(null) as null_in_null_out;
select value from table(flatten(input => parse_json('[1, {"x": 2}]')));

-- Bad input: PARSE_JSON of text that is not JSON names the position.
select parse_json('{"a": }');
select parse_json('');
-- Element access on text that is not JSON is SQLite's error.
select v:a from docs where v = 'plain';
