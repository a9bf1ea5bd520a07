-- setup: generate --users 30 --items 40 --ratings 600 --seed 3
-- evaluate_model runs training's cross-validation and publishes nothing: the same options and
-- errors as train_and_get_recommendations, a JSON report, no model version, no table.

create table train as select userid, movieid, rating from ratings;

select json_extract(r, '$.algorithm') as algorithm,
       json_extract(r, '$.folds') as folds,
       json_extract(r, '$.ratings') as ratings,
       round(json_extract(r, '$.rmse'), 3) as rmse,
       round(json_extract(r, '$.mae'), 3) as mae,
       json_array_length(json_extract(r, '$.cv.rmse')) as folds_reported
  from (select evaluate_model('MOVIELENS.PUBLIC.train') as r);

-- The same seed and folds as training give the same numbers.
select round(json_extract(evaluate_model('train', '{"folds": 3, "seed": 7}'), '$.rmse'), 6) =
       round(json_extract(train_and_get_recommendations('train', 'out', '{"folds": 3, "seed": 7}'),
                          '$.rmse'), 6) as same_as_training;
drop table out;

select json_extract(evaluate_model('train', '{"algorithm": "baseline", "folds": 2}'), '$.algorithm')
       as algorithm;

-- Bad input: the errors of training.
select evaluate_model('nope');
create table empty as select * from train where 0;
select evaluate_model('empty');
select evaluate_model('train', '{"params": {"method": "als"}}');
select evaluate_model('train', '{"folds": 0}');
select evaluate_model('train', '{"folds": 1}');
select evaluate_model('train', 'not json');
select evaluate_model(NULL) is null as null_result;

-- Nothing was written by evaluate_model or by the failures: no table.
select count(*) as tables_named_out from sqlite_schema where name = 'out';
