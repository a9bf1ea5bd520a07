-- setup: generate --users 30 --items 40 --ratings 600 --seed 3
-- serve-sql: create table ratings_train_data as select USERID, MOVIEID, RATING from ratings
-- Every bad input of the extension's functions gets an ERROR naming the problem (and the
-- service's message when it comes from reco serve); NULL arguments give NULL.
\set VERBOSITY verbose
select train_and_get_recommendations('ratings_train_data', 'recs', '{"folds": 0}')->'version' as version;
select deploy_model('m', 'models:/ratings_train_data') is not null as deployed;
-- NULL in, NULL out.
select train_and_get_recommendations(null, 'x') is null as a, train_and_get_recommendations('ratings_train_data', null) is null as b,
       deploy_model(null, 'models:/x') is null as c, deploy_model('m', null) is null as d,
       invoke_model(null, 1, 2) is null as e, invoke_model('m', null, 2) is null as f, invoke_model('m', 1, null) is null as g,
       recommend(null, 1) is null as h, recommend('m', null::int) is null as i, recommend('m', 1, null) is null as j,
       recommend_for('m', null) is null as k, rollback_model(null) is null as l, rollback_model('m', null) is null as m;
-- Ids must be integral values, of whatever type.
select invoke_model('m', 1.5, 2);
select invoke_model('m', '1', 'abc');
select invoke_model('m', 1::float8, 2.5::float8);
select invoke_model('m', '', '2');
select invoke_model('m', 1, true);
select recommend('m', 1e30::float8);
-- k in 1..10000.
select recommend('m', 1, 0);
select recommend_for('m', '[[1, 5]]', 10001);
-- What the service refuses: unknown endpoint, model, table, option; bad promotion policy;
-- bad ratings; nothing to roll back to.
select invoke_model('nope', 1, 2);
select recommend('nope', 1);
select deploy_model('m2', 'models:/no_such_model');
select deploy_model('bad name!', 'models:/ratings_train_data');
select deploy_model('m', 'models:/ratings_train_data', '{"promote_if": {"metric": "speed"}}');
select train_and_get_recommendations('no_such_table', 'out');
select train_and_get_recommendations('ratings_train_data', 'out', '{"folds": 1000}');
select train_and_get_recommendations('ratings_train_data', 'out', '{"colour": "red"}');
select train_and_get_recommendations('ratings_train_data', 'bad table name;');
select recommend_for('m', '{"not": "a list"}');
select rollback_model('m');
select rollback_model('m', 0);
select rollback_model('m', 99);
-- Settings: only URLs of reco serve; a missing token file.
set reco.service_url = 'ftp://example.com';
select recommend('m', 1);
reset reco.service_url;
set reco.token_file = '/nonexistent/token';
select recommend('m', 1);
reset reco.token_file;
set reco.invoke_mode = 'fast';
-- Ids of types with no common type: PostgreSQL finds no function (pass both as text, or cast).
select invoke_model('m', 1, '2'::text);
