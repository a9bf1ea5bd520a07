-- setup: generate --users 30 --items 40 --ratings 600 --seed 3
-- Every bad input to train_and_get_recommendations gets an error that names the problem, and a
-- failed call leaves nothing behind: no output table, no model version.

create table train as select userid, movieid, rating from ratings;

-- Tables that do not exist, and names that are not plain identifiers (no SQL injection).
select train_and_get_recommendations('nope', 'out');
select train_and_get_recommendations('train', 'x; drop table ratings');
select train_and_get_recommendations('train"; drop table ratings; --', 'out');
select train_and_get_recommendations('a.b.c.d', 'out');
select train_and_get_recommendations('train', 'train');
select count(*) as ratings_still_there from ratings;

-- Missing columns.
create table no_rating as select userid, movieid from ratings;
select train_and_get_recommendations('no_rating', 'out');
select train_and_get_recommendations('train', 'out', '{"user_column": "customer"}');

-- Bad values.
create table with_null as select * from train;
update with_null set rating = NULL where rowid = 5;
select train_and_get_recommendations('with_null', 'out');
create table with_text as select * from train;
update with_text set rating = 'great' where rowid = 7;
select train_and_get_recommendations('with_text', 'out');
create table with_bad_id as select * from train;
update with_bad_id set movieid = 2.5 where rowid = 9;
select train_and_get_recommendations('with_bad_id', 'out');
select train_and_get_recommendations('train', 'out', '{"rating_min": 1, "rating_max": 4}');

-- A (user, item) pair rated twice.
create table dup as select * from train;
insert into dup select * from train where rowid = 1;
select train_and_get_recommendations('dup', 'out');

-- Fewer ratings than folds, and no ratings at all.
create table tiny as select * from train limit 3;
select train_and_get_recommendations('tiny', 'out');
create table empty as select * from train where 0;
select train_and_get_recommendations('empty', 'out');

-- An existing output table with other columns is not touched.
create table bad_out (a int, b int, c int);
insert into bad_out values (1, 2, 3);
select train_and_get_recommendations('train', 'bad_out');
select * from bad_out;

-- Hyperparameters and options.
select train_and_get_recommendations('train', 'out', '{"params": {"n_factor": 10}}');
select train_and_get_recommendations('train', 'out', '{"params": {"n_factors": 0}}');
select train_and_get_recommendations('train', 'out', '{"params": {"lr_all": "fast"}}');
select train_and_get_recommendations('train', 'out', '{"algorithm": "knn"}');
select train_and_get_recommendations('train', 'out', '{"algorithm": "knn_basic", "params": {"similarity": "jaccard"}}');
select train_and_get_recommendations('train', 'out', '{"algorithm": "knn_basic", "params": {"k": 3, "min_k": 5}}');
select train_and_get_recommendations('train', 'out', '{"algorithm": "knn_with_means", "params": {"shrinkage": 50}}');
select train_and_get_recommendations('train', 'out', '{"algorithm": "slope_one", "params": {"k": 5}}');
select train_and_get_recommendations('train', 'out', '{"folds": "five"}');
select train_and_get_recommendations('train', 'out', '{"folds": 1}');
select train_and_get_recommendations('train', 'out', '{"colour": "blue"}');
select train_and_get_recommendations('train', 'out', '{"search": {"params": {"n_trees": [1, 2]}}}');
select train_and_get_recommendations('train', 'out', '{"search": {"params": {"n_factors": [2, 3]}, "metric": "auc"}}');
select train_and_get_recommendations('train', 'out', '{"search": {"method": "random", "params": {"lr_all": {"min": 0}}}}');
select train_and_get_recommendations('train', 'out', '{"split": {"kind": "stratified", "test_ratio": 0}}');
-- Ranking models: EASE refuses an item count over its memory cap before allocating; their
-- scores are not ratings, so a search cannot optimise RMSE.
select train_and_get_recommendations('train', 'out', '{"algorithm": "ease", "params": {"max_memory": 1000}}');
select train_and_get_recommendations('train', 'out', '{"algorithm": "ials", "split": {"kind": "stratified"}, "search": {"params": {"factors": [2, 3]}}}');
select train_and_get_recommendations('train', 'out', 'not json');
select train_and_get_recommendations('train', 'out', '{"model": "../escape"}');

-- NULL in, NULL out.
select train_and_get_recommendations(NULL, 'out') is null as null_result;

-- Nothing was written by any of the failures above.
select count(*) as output_tables from sqlite_schema where name = 'out';
