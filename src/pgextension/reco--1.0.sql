-- reco 1.0: the guide's SQL functions, answered by `reco serve` (README, "PostgreSQL extension").
\echo Use "CREATE EXTENSION reco" to load this file. \quit

-- The guide's column type for JSON values (TOP_10_RECOMMENDATIONS variant).
CREATE DOMAIN variant AS jsonb;

-- train_and_get_recommendations(input, output [, options]): reco serve reads the input table and
-- replaces the output table (in the database it is configured with), then answers the training
-- job's result. Calls POST /train and polls GET /train under one batch id.
CREATE FUNCTION train_and_get_recommendations(input text, output text, options jsonb DEFAULT NULL)
  RETURNS jsonb LANGUAGE c VOLATILE PARALLEL UNSAFE
  AS 'MODULE_PATHNAME', 'reco_train_and_get_recommendations';

-- deploy_model(endpoint, model_url [, options]): creates or updates an endpoint (POST /deploy);
-- options: a promotion policy, {"promote_if": {"metric": "rmse", "margin": 0.001}}.
CREATE FUNCTION deploy_model(endpoint text, model_url text, options jsonb DEFAULT NULL)
  RETURNS jsonb LANGUAGE c VOLATILE PARALLEL UNSAFE
  AS 'MODULE_PATHNAME', 'reco_deploy_model';

-- rollback_model(endpoint [, version]): back to the previous deployment, or to version N.
CREATE FUNCTION rollback_model(endpoint text)
  RETURNS jsonb LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE
  AS 'MODULE_PATHNAME', 'reco_rollback_model';
CREATE FUNCTION rollback_model(endpoint text, version int)
  RETURNS jsonb LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE
  AS 'MODULE_PATHNAME', 'reco_rollback_model';

-- invoke_model(endpoint, user_id, item_id): the predicted rating. Ids of any type holding an
-- integral value (int, bigint, numeric, float, text: 10, 10.0, '10', '10.0').
CREATE FUNCTION invoke_model(endpoint text, user_id anycompatible, item_id anycompatible)
  RETURNS float8 LANGUAGE c VOLATILE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'reco_invoke_model';

-- recommend(endpoint, user_id [, k]): JSON array of the k best items the user has not rated.
CREATE FUNCTION recommend(endpoint text, user_id anyelement, k int DEFAULT 10)
  RETURNS jsonb LANGUAGE c VOLATILE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'reco_recommend';

-- recommend_for(endpoint, ratings [, k]): a new user's top-k from [[item, rating], ...].
CREATE FUNCTION recommend_for(endpoint text, ratings jsonb, k int DEFAULT 10)
  RETURNS jsonb LANGUAGE c VOLATILE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'reco_recommend_for';

-- Grants. Training and deploying change what reco serve publishes and serves, so only roles
-- granted reco_admin may call them; predicting and recommending need reco_user (which
-- reco_admin includes). The roles are created here when missing (NOLOGIN; grant them to login
-- roles: GRANT reco_user TO app; GRANT reco_admin TO ml_team).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reco_user') THEN
    CREATE ROLE reco_user NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reco_admin') THEN
    CREATE ROLE reco_admin NOLOGIN;
  END IF;
  GRANT reco_user TO reco_admin;
END
$$;

REVOKE ALL ON FUNCTION train_and_get_recommendations(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION deploy_model(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION rollback_model(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rollback_model(text, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION invoke_model(text, anycompatible, anycompatible) FROM PUBLIC;
REVOKE ALL ON FUNCTION recommend(text, anyelement, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION recommend_for(text, jsonb, int) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION train_and_get_recommendations(text, text, jsonb) TO reco_admin;
GRANT EXECUTE ON FUNCTION deploy_model(text, text, jsonb) TO reco_admin;
GRANT EXECUTE ON FUNCTION rollback_model(text) TO reco_admin;
GRANT EXECUTE ON FUNCTION rollback_model(text, int) TO reco_admin;
GRANT EXECUTE ON FUNCTION invoke_model(text, anycompatible, anycompatible) TO reco_user;
GRANT EXECUTE ON FUNCTION recommend(text, anyelement, int) TO reco_user;
GRANT EXECUTE ON FUNCTION recommend_for(text, jsonb, int) TO reco_user;
