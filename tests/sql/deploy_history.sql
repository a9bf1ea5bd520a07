-- setup: generate --users 30 --items 40 --ratings 600 --seed 3
-- Deployment history, rollback_model and promotion by metric (deploy_model's options): every
-- change is in the history with its cause (sql here), a worse model is refused and the endpoint
-- stays, rollback goes back one deployment at a time; bad input is an error naming it.

select json_extract(train_and_get_recommendations('ratings', 'recs', '{"folds": 3, "seed": 1}'), '$.version') as v1;
select json_extract(train_and_get_recommendations('ratings', 'recs', '{"folds": 3, "seed": 1, "params": {"n_factors": 2, "n_epochs": 2}}'), '$.version') as v2;
select json_extract(train_and_get_recommendations('ratings', 'recs', '{"folds": 0}'), '$.version') as v3_without_cv;

select json_extract(d, '$.status') as status, json_extract(d, '$.version') as version, json_extract(d, '$.cause') as cause
  from (select deploy_model('ep', 'models:/ratings/1') as d);

-- v2 (2 factors, 2 epochs) cross-validates worse on the same data: refused, the endpoint stays.
select json_extract(d, '$.status') as status, json_extract(d, '$.promoted') as promoted,
       json_extract(d, '$.version') as still_serving, json_extract(d, '$.promotion.comparable') as comparable,
       json_extract(d, '$.promotion.improvement') < 0 as worse
  from (select deploy_model('ep', 'models:/ratings/2', '{"promote_if": {"metric": "rmse", "margin": 0.001}}') as d);
select json_extract(deploy_model('ep', 'models:/ratings/2', '{"promote_if": "mae"}'), '$.reason') like 'promotion refused on mae: candidate models:/ratings/2 has CV mae %' as refused_on_mae;

-- Without a policy it deploys; then back, and no further.
select json_extract(deploy_model('ep', 'models:/ratings/2'), '$.generation') as generation;
select json_extract(d, '$.event') as event, json_extract(d, '$.version') as version,
       json_extract(d, '$.previous.version') as previous, json_extract(d, '$.generation') as generation
  from (select rollback_model('ep') as d);
select rollback_model('ep');
select json_extract(rollback_model('ep', 2), '$.version') as named_version;
select json_extract(rollback_model('ep', '1'), '$.version') as named_as_text;

-- NULL gives NULL; NULL options are no options.
select rollback_model(null) is null as null_endpoint, rollback_model('ep', null) is null as null_version,
       deploy_model('ep', 'models:/ratings/1', null) is not null as null_options_deploy;

-- Bad input.
select rollback_model('nope');
select rollback_model('ep', 9);
select rollback_model('ep', 0);
select rollback_model('ep', 'two');
select rollback_model('ep', 1);
select deploy_model('ep', 'models:/ratings/3', '{"promote_if": {"metric": "rmse"}}');
select deploy_model('ep', 'models:/ratings/2', '{"promote_if": {"metric": "ndcg"}}');
select deploy_model('ep', 'models:/ratings/2', '{"promote_if": {"metric": "rmse", "margin": -1}}');
select deploy_model('ep', 'models:/ratings/2', '{"promote": "rmse"}');
select deploy_model('ep', 'models:/ratings/2', 'rmse');
select json_extract(d, '$.version') as version, json_extract(d, '$.generation') as generation
  from (select deploy_model('ep', 'models:/ratings/1', '{}') as d);

-- Ranking metrics cross-validation reports are higher-is-better; their cut-off must match.
select json_extract(deploy_model('ep', 'models:/ratings/2', '{"promote_if": "ndcg@10"}'), '$.promotion.direction') as direction;
select deploy_model('ep', 'models:/ratings/2', '{"promote_if": "ndcg@5"}');
