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

-- ---------------------------------------------------------------------------------------------
-- Scheduled tasks over pg_cron (README, "Keeping models fresh on PostgreSQL: tasks over pg_cron").
-- create_task / drop_task / suspend_task / resume_task / execute_task as on the embedded
-- warehouse: a task is a row of reco_tasks plus one pg_cron job, in the database pg_cron serves
-- (cron.database_name), whose command is `SELECT reco_run_task('NAME')`. reco_run_task runs the
-- task's SQL in a subtransaction and records every run in reco_task_runs (Succeeded, Failed with
-- the error, Skipped with the reason); task_history adds pg_cron's own records of runs that
-- never reached it (running, or stopped by a cancel or a crash).
-- ---------------------------------------------------------------------------------------------

CREATE TABLE reco_tasks (
  name text PRIMARY KEY,
  schedule text NOT NULL,            -- as given
  cron text NOT NULL,                -- pg_cron's schedule, in UTC
  sql text NOT NULL,
  when_changed text,                 -- run only when this table changed since the last success
  when_changed_oid oid,              -- the table the change counter follows
  seen_changes bigint,               -- its change counter at the last successful run
  suspended boolean NOT NULL DEFAULT false,
  jobid bigint,                      -- pg_cron's job (NULL while suspended)
  owner name NOT NULL DEFAULT current_user,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reco_task_runs (
  id bigserial PRIMARY KEY,
  task text NOT NULL,
  trigger text NOT NULL,             -- schedule (pg_cron) or sql (execute_task)
  state text NOT NULL,               -- Succeeded, Failed, Skipped
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  error text,                        -- why Failed or Skipped
  result jsonb                       -- the value of a task whose SQL is one SELECT
);
CREATE INDEX reco_task_runs_task ON reco_task_runs (task, id);

-- when_changed: a statement-level trigger on the table bumps its row here, in the writer's
-- transaction (so a run sees exactly the committed changes).
CREATE TABLE reco_table_changes (
  tbl oid PRIMARY KEY,
  changes bigint NOT NULL DEFAULT 0
);

SELECT pg_catalog.pg_extension_config_dump('reco_tasks', '');
SELECT pg_catalog.pg_extension_config_dump('reco_task_runs', '');
SELECT pg_catalog.pg_extension_config_dump('reco_table_changes', '');

CREATE FUNCTION reco_count_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  UPDATE reco_table_changes SET changes = changes + 1 WHERE tbl = TG_RELID;
  RETURN NULL;
END
$$;
-- A SECURITY DEFINER function runs with a fixed search_path: this extension's schema (its
-- plan is then cached; ALTER EXTENSION reco SET SCHEMA needs this statement again).
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION reco_count_change() SET search_path = %I, pg_catalog, pg_temp',
                 current_schema());
END
$$;

-- The pg_cron schedule (UTC) of a reco schedule, or an ERROR (22023) naming what cannot be
-- written for pg_cron 1.4 (whole minutes, one UTC clock).
CREATE FUNCTION reco_task_cron(schedule text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  w text[] := regexp_split_to_array(btrim(schedule), '\s+');
  names text[] := ARRAY['minute', 'hour', 'day of month', 'month', 'day of week'];
  lo int[] := ARRAY[0, 0, 1, 1, 0];
  hi int[] := ARRAY[59, 23, 31, 12, 7];
  months text[] := ARRAY['JAN','FEB','MAR','APR','MAY','JUN','JUL','AUG','SEP','OCT','NOV','DEC'];
  days text[] := ARRAY['SUN','MON','TUE','WED','THU','FRI','SAT'];
  out text[] := '{}';
  n bigint; per bigint; secs bigint; m bigint; h bigint;
  unit text; field text; item text; range text; step int; a int; b int; v int;
  vals int[]; k int; tok text; dom int[]; mon int[]; dow_star boolean;
BEGIN
  IF array_length(w, 1) >= 2 AND upper(w[1]) = 'USING' AND upper(w[2]) = 'CRON' THEN
    w := w[3:];
  END IF;
  IF coalesce(array_length(w, 1), 0) = 2 THEN
    IF w[1] !~ '^[0-9]{1,9}$' OR w[1]::bigint < 1 THEN
      RAISE EXCEPTION 'interval ''%'': the count ''%'' is not a whole number from 1',
        left(schedule, 100), left(w[1], 20) USING ERRCODE = '22023';
    END IF;
    n := w[1]::bigint;
    unit := regexp_replace(upper(w[2]), '(.)S$', '\1');
    per := CASE unit WHEN 'SECOND' THEN 1 WHEN 'MINUTE' THEN 60 WHEN 'HOUR' THEN 3600
                     WHEN 'DAY' THEN 86400 END;
    IF per IS NULL THEN
      RAISE EXCEPTION 'interval ''%'': unknown unit ''%'' (SECOND, MINUTE, HOUR or DAY)',
        left(schedule, 100), left(w[2], 20) USING ERRCODE = '22023';
    END IF;
    secs := n * per;
    m := secs / 60;
    IF secs % 60 = 0 AND m < 60 AND 60 % m = 0 THEN
      RETURN CASE WHEN m = 1 THEN '* * * * *' ELSE format('*/%s * * * *', m) END;
    ELSIF secs % 3600 = 0 AND secs / 3600 < 24 AND 24 % (secs / 3600) = 0 THEN
      h := secs / 3600;
      RETURN CASE WHEN h = 1 THEN '0 * * * *' ELSE format('0 */%s * * *', h) END;
    ELSIF secs = 86400 THEN
      RETURN '0 0 * * *';
    END IF;
    RAISE EXCEPTION 'interval ''%'': pg_cron cannot run a task every % seconds', left(schedule, 100), secs
      USING ERRCODE = '22023',
            HINT = 'pg_cron 1.4 schedules whole minutes on the UTC clock: use a number of '
                   'minutes that divides 60 (1, 5, 15, 30 MINUTE), of hours that divides 24 '
                   '(1, 2, 6, 12 HOUR), 1 DAY, or a cron expression';
  END IF;
  IF coalesce(array_length(w, 1), 0) NOT IN (5, 6) THEN
    RAISE EXCEPTION 'schedule ''%'' is neither a cron expression (5 fields: minute hour '
      'day-of-month month day-of-week, then an optional time zone) nor an interval '
      '(''60 MINUTE'', ''1 DAY''): it has % word(s)', left(schedule, 100),
      coalesce(array_length(w, 1), 0) USING ERRCODE = '22023';
  END IF;
  IF array_length(w, 1) = 6 THEN
    IF NOT EXISTS (SELECT FROM pg_timezone_names WHERE name = w[6])
       AND NOT EXISTS (SELECT FROM pg_timezone_abbrevs WHERE abbrev = upper(w[6])) THEN
      RAISE EXCEPTION 'unknown time zone ''%''', left(w[6], 60) USING ERRCODE = '22023';
    END IF;
    IF upper(w[6]) NOT IN ('UTC', 'GMT', 'Z', 'ZULU', 'UCT', 'UNIVERSAL', 'ETC/UTC', 'ETC/GMT',
                           'ETC/UCT', 'ETC/ZULU', 'ETC/UNIVERSAL', 'ETC/GMT0', 'GMT0') THEN
      RAISE EXCEPTION 'time zone ''%'': pg_cron runs every schedule on one clock, UTC', left(w[6], 60)
        USING ERRCODE = '22023',
              HINT = 'pg_cron 1.4 (Debian''s postgresql-15-cron) has no per-job time zone: give the '
                     'times in UTC (drop the time zone, or write UTC)';
    END IF;
  END IF;
  FOR k IN 1..5 LOOP
    field := w[k];
    vals := '{}';
    IF field = '*' OR field = '*/1' THEN
      out := out || '*'::text;
      IF k = 5 THEN dow_star := true; END IF;
      IF k = 3 THEN dom := NULL; END IF;
      IF k = 4 THEN mon := ARRAY(SELECT generate_series(1, 12)); END IF;
      CONTINUE;
    END IF;
    FOREACH item IN ARRAY string_to_array(field, ',') LOOP
      IF item = '' THEN
        RAISE EXCEPTION 'cron field % (%) ''%'': an empty list item', k, names[k], left(field, 50)
          USING ERRCODE = '22023';
      END IF;
      range := split_part(item, '/', 1);
      step := 1;
      IF position('/' IN item) > 0 THEN
        tok := substr(item, position('/' IN item) + 1);
        IF tok !~ '^[0-9]{1,6}$' OR tok::int < 1 THEN
          RAISE EXCEPTION 'cron field % (%) ''%'': step ''%'' is not a positive number', k, names[k],
            left(field, 50), left(tok, 20) USING ERRCODE = '22023';
        END IF;
        step := tok::int;
      END IF;
      IF range = '*' THEN
        a := lo[k]; b := hi[k];
      ELSE
        FOR v IN 0..1 LOOP
          tok := CASE WHEN position('-' IN range) > 1 THEN split_part(range, '-', v + 1)
                      WHEN v = 0 THEN range END;
          IF tok IS NULL THEN
            b := CASE WHEN position('/' IN item) > 0 THEN hi[k] ELSE a END;  -- "5/15": from 5 on
            EXIT;
          END IF;
          IF k = 4 AND array_position(months, upper(tok)) IS NOT NULL THEN
            n := array_position(months, upper(tok));
          ELSIF k = 5 AND array_position(days, upper(tok)) IS NOT NULL THEN
            n := array_position(days, upper(tok)) - 1;
          ELSIF tok ~ '^[0-9]{1,6}$' THEN
            n := tok::int;
          ELSE
            RAISE EXCEPTION 'cron field % (%) ''%'': ''%'' is not a number%', k, names[k],
              left(field, 50), left(tok, 20),
              CASE k WHEN 4 THEN ' or a month name (JAN-DEC)' WHEN 5 THEN ' or a day name (SUN-SAT)'
                     ELSE '' END USING ERRCODE = '22023';
          END IF;
          IF n < lo[k] OR n > hi[k] THEN
            RAISE EXCEPTION 'cron field % (%) ''%'': % is outside %-%', k, names[k], left(field, 50),
              n, lo[k], hi[k] USING ERRCODE = '22023';
          END IF;
          IF v = 0 THEN a := n; ELSE b := n; END IF;
        END LOOP;
        IF a > b THEN
          RAISE EXCEPTION 'cron field % (%) ''%'': range %-% runs backwards', k, names[k],
            left(field, 50), a, b USING ERRCODE = '22023';
        END IF;
      END IF;
      vals := vals || ARRAY(SELECT CASE WHEN k = 5 THEN s % 7 ELSE s END
                            FROM generate_series(a, b, step) s);
    END LOOP;
    vals := ARRAY(SELECT DISTINCT x FROM unnest(vals) x ORDER BY x);
    IF k = 3 THEN dom := vals; END IF;
    IF k = 4 THEN mon := vals; END IF;
    IF k = 5 THEN dow_star := false; END IF;
    -- Explicit values: pg_cron's (Vixie cron's) parser then reads exactly what reco read.
    out := out || array_to_string(vals, ',');
  END LOOP;
  -- Refuse what can never fire ("0 0 31 2 *") now, not by silence later.
  IF dow_star AND dom IS NOT NULL AND NOT EXISTS (
       SELECT FROM unnest(dom) d, unnest(mon) mo
       WHERE d <= CASE WHEN mo = 2 THEN 29 WHEN mo IN (4, 6, 9, 11) THEN 30 ELSE 31 END) THEN
    RAISE EXCEPTION 'schedule ''%'' never fires (no month of it has that day)', left(schedule, 100)
      USING ERRCODE = '22023';
  END IF;
  RETURN array_to_string(out, ' ');
END
$$;

-- pg_cron present in this database, or an ERROR (55000) saying exactly what to do. SECURITY
-- DEFINER: only superusers (and pg_read_all_settings) may read cron.database_name.
CREATE FUNCTION reco_task_require_cron(fn text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  cron_db text;
BEGIN
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
    RETURN;
  END IF;
  cron_db := current_setting('cron.database_name', true);
  IF cron_db IS NULL THEN
    RAISE EXCEPTION '%: tasks on PostgreSQL run through pg_cron, which this server has not loaded', fn
      USING ERRCODE = '55000',
            HINT = format('install Debian''s postgresql-15-cron; in postgresql.conf set '
                          'shared_preload_libraries = ''pg_cron'' and cron.database_name = %L; '
                          'restart PostgreSQL; then run CREATE EXTENSION pg_cron in database %s',
                          current_database(), current_database());
  ELSIF cron_db <> current_database() THEN
    RAISE EXCEPTION '%: pg_cron serves database % (cron.database_name), not % where this task would run',
      fn, quote_literal(cron_db), quote_literal(current_database())
      USING ERRCODE = '55000',
            HINT = format('create tasks in database %s (with CREATE EXTENSION reco there), or set '
                          'cron.database_name = %L in postgresql.conf, restart PostgreSQL and run '
                          'CREATE EXTENSION pg_cron here', cron_db, current_database());
  ELSE
    RAISE EXCEPTION '%: pg_cron is loaded but its extension is not created in this database', fn
      USING ERRCODE = '55000', HINT = 'run CREATE EXTENSION pg_cron (as a superuser), then try again';
  END IF;
END
$$;

CREATE FUNCTION reco_task_json(t reco_tasks) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('name', t.name, 'schedule', t.schedule, 'cron', t.cron, 'sql', t.sql,
           'when_changed', t.when_changed, 'suspended', t.suspended, 'jobid', t.jobid,
           'owner', t.owner, 'created_at', t.created_at, 'updated_at', t.updated_at)
$$;

CREATE FUNCTION reco_task_get(fn text, task_name text) RETURNS reco_tasks LANGUAGE plpgsql AS $$
DECLARE
  t reco_tasks;
BEGIN
  SELECT * INTO t FROM reco_tasks WHERE name = task_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION '%: no task %', fn, quote_literal(task_name) USING ERRCODE = '42704',
      DETAIL = coalesce('the tasks: ' || (SELECT string_agg(name, ', ' ORDER BY name) FROM reco_tasks),
                        'there are no tasks');
  END IF;
  RETURN t;
END
$$;

-- The schema this extension lives in (it is relocatable).
CREATE FUNCTION reco_task_schema() RETURNS name LANGUAGE sql STABLE AS $$
  SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'reco'
$$;

-- The pg_cron job of a task: its command calls reco_run_task in this extension's schema.
CREATE FUNCTION reco_task_schedule_job(t reco_tasks) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN cron.schedule('reco-task:' || t.name, t.cron,
    format('SELECT %I.reco_run_task(%L)',
           reco_task_schema(), t.name));
END
$$;

CREATE FUNCTION reco_task_unschedule_job(t reco_tasks) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF t.jobid IS NOT NULL AND EXISTS (SELECT FROM cron.job WHERE jobid = t.jobid) THEN
    PERFORM cron.unschedule(t.jobid);
  END IF;
END
$$;

-- The change counter's trigger on a when_changed table (one per table, shared by its tasks).
CREATE FUNCTION reco_task_watch(rel regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO reco_table_changes (tbl) VALUES (rel) ON CONFLICT DO NOTHING;
  IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = rel AND tgname = 'reco_task_changes') THEN
    EXECUTE format('CREATE TRIGGER reco_task_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                   'ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.reco_count_change()', rel,
                   reco_task_schema());
  END IF;
END
$$;

-- create_task(name, schedule, sql [, options]): options {"when_changed": "TABLE", "replace": true}.
CREATE FUNCTION create_task(name text, schedule text, sql text, options jsonb DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  t reco_tasks;
  old reco_tasks;
  key text;
  rel regclass;
  replace boolean := false;
BEGIN
  IF name IS NULL OR schedule IS NULL OR sql IS NULL THEN
    RETURN NULL;
  END IF;
  IF name !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' THEN
    RAISE EXCEPTION 'create_task: task name %: use 1 to 128 letters, digits, ''.'', ''_'' or ''-'', '
      'starting with a letter or digit', quote_literal(left(name, 130)) USING ERRCODE = '22023';
  END IF;
  IF btrim(sql) = '' THEN
    RAISE EXCEPTION 'create_task: sql is empty' USING ERRCODE = '22023';
  END IF;
  IF options IS NOT NULL THEN
    IF jsonb_typeof(options) <> 'object' THEN
      RAISE EXCEPTION 'create_task: options must be a JSON object, not %', jsonb_typeof(options)
        USING ERRCODE = '22023';
    END IF;
    FOR key IN SELECT jsonb_object_keys(options) LOOP
      IF key NOT IN ('when_changed', 'replace') THEN
        RAISE EXCEPTION 'create_task: unknown option %', quote_literal(key) USING ERRCODE = '22023',
          HINT = 'the options are when_changed (a table name) and replace (true or false)';
      END IF;
    END LOOP;
    IF options ? 'when_changed' AND jsonb_typeof(options->'when_changed') <> 'string' THEN
      RAISE EXCEPTION 'create_task: option when_changed must be a table name (a string)'
        USING ERRCODE = '22023';
    END IF;
    IF options ? 'replace' AND jsonb_typeof(options->'replace') <> 'boolean' THEN
      RAISE EXCEPTION 'create_task: option replace must be true or false' USING ERRCODE = '22023';
    END IF;
    replace := coalesce((options->>'replace')::boolean, false);
    t.when_changed := options->>'when_changed';
  END IF;
  BEGIN
    t.cron := reco_task_cron(schedule);
  EXCEPTION WHEN invalid_parameter_value THEN
    DECLARE
      msg text; hint text;
    BEGIN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
      IF hint = '' THEN
        RAISE EXCEPTION 'create_task: %', msg USING ERRCODE = '22023';
      END IF;
      RAISE EXCEPTION 'create_task: %', msg USING ERRCODE = '22023', HINT = hint;
    END;
  END;
  PERFORM reco_task_require_cron('create_task');
  IF t.when_changed IS NOT NULL THEN
    rel := to_regclass(t.when_changed);
    IF rel IS NULL THEN
      RAISE EXCEPTION 'create_task: when_changed table % does not exist', quote_literal(t.when_changed)
        USING ERRCODE = '42P01';
    END IF;
    PERFORM reco_task_watch(rel);
    t.when_changed_oid := rel;
  END IF;
  SELECT * INTO old FROM reco_tasks WHERE reco_tasks.name = create_task.name FOR UPDATE;
  IF FOUND THEN
    IF NOT replace THEN
      RAISE EXCEPTION 'create_task: task % exists', quote_literal(name) USING ERRCODE = '42710',
        HINT = 'drop_task it first, or pass {"replace": true}';
    END IF;
    PERFORM reco_task_unschedule_job(old);
    DELETE FROM reco_tasks WHERE reco_tasks.name = old.name;
  END IF;
  t.name := name;
  t.schedule := schedule;
  t.sql := sql;
  t.suspended := false;
  t.owner := current_user;
  t.created_at := now();
  t.updated_at := now();
  t.jobid := reco_task_schedule_job(t);
  INSERT INTO reco_tasks SELECT t.*;
  RETURN reco_task_json(t);
END
$$;

CREATE FUNCTION drop_task(name text) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  t reco_tasks;
BEGIN
  IF name IS NULL THEN RETURN NULL; END IF;
  t := reco_task_get('drop_task', name);
  PERFORM reco_task_require_cron('drop_task');
  PERFORM reco_task_unschedule_job(t);
  DELETE FROM reco_tasks WHERE reco_tasks.name = t.name;
  -- The trigger goes when no other task follows its table.
  IF t.when_changed_oid IS NOT NULL
     AND NOT EXISTS (SELECT FROM reco_tasks WHERE when_changed_oid = t.when_changed_oid) THEN
    IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = t.when_changed_oid
                                        AND tgname = 'reco_task_changes') THEN
      EXECUTE format('DROP TRIGGER reco_task_changes ON %s', t.when_changed_oid::regclass);
    END IF;
    DELETE FROM reco_table_changes WHERE tbl = t.when_changed_oid;
  END IF;
  RETURN jsonb_build_object('task', t.name, 'dropped', true);
END
$$;

CREATE FUNCTION reco_task_set_suspended(fn text, task_name text, suspend boolean)
  RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  t reco_tasks;
BEGIN
  IF task_name IS NULL THEN RETURN NULL; END IF;
  t := reco_task_get(fn, task_name);
  PERFORM reco_task_require_cron(fn);
  -- Suspending removes the pg_cron job; resuming schedules it again, from now (no catching up).
  PERFORM reco_task_unschedule_job(t);
  t.jobid := CASE WHEN suspend THEN NULL ELSE reco_task_schedule_job(t) END;
  t.suspended := suspend;
  t.updated_at := now();
  UPDATE reco_tasks SET jobid = t.jobid, suspended = t.suspended, updated_at = t.updated_at
   WHERE name = t.name;
  RETURN reco_task_json(t);
END
$$;

CREATE FUNCTION suspend_task(name text) RETURNS jsonb LANGUAGE sql VOLATILE AS $$
  SELECT reco_task_set_suspended('suspend_task', name, true)
$$;

CREATE FUNCTION resume_task(name text) RETURNS jsonb LANGUAGE sql VOLATILE AS $$
  SELECT reco_task_set_suspended('resume_task', name, false)
$$;

-- One run of a task: pg_cron's job calls it (trigger 'schedule'), execute_task too ('sql').
CREATE FUNCTION reco_run_task(task_name text, run_trigger text DEFAULT 'schedule')
  RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  t reco_tasks;
  started timestamptz := clock_timestamp();
  run reco_task_runs;
  rel regclass;
  changes bigint;
  err text;
  res jsonb;
  res_text text;
BEGIN
  t := reco_task_get(CASE run_trigger WHEN 'sql' THEN 'execute_task' ELSE 'reco_run_task' END,
                     task_name);
  run.task := t.name;
  run.trigger := run_trigger;
  run.started_at := started;
  IF NOT pg_try_advisory_xact_lock(hashtext('reco_run_task'), hashtext(t.name)) THEN
    run.state := 'Skipped';
    run.error := 'the previous run of the task is still executing';
  ELSIF t.when_changed IS NOT NULL THEN
    rel := to_regclass(t.when_changed);
    IF rel IS NULL THEN
      run.state := 'Failed';
      run.error := format('when_changed table %s does not exist', quote_literal(t.when_changed));
    ELSE
      IF rel::oid IS DISTINCT FROM t.when_changed_oid THEN
        -- The table was dropped and created again (the trigger went with it): that is a change.
        PERFORM reco_task_watch(rel);
        t.seen_changes := NULL;
        UPDATE reco_tasks SET when_changed_oid = rel, seen_changes = NULL WHERE name = t.name;
      END IF;
      SELECT c.changes INTO changes FROM reco_table_changes c WHERE c.tbl = rel;
      IF changes IS NOT DISTINCT FROM t.seen_changes THEN
        run.state := 'Skipped';
        run.error := format('table %s has not changed since the last successful run',
                            t.when_changed);
      END IF;
    END IF;
  END IF;
  IF run.state IS NULL THEN
    BEGIN
      -- One SELECT: its first value is the run's result (JSON as itself, anything else as a
      -- JSON string); otherwise the SQL runs as a script.
      IF t.sql ~* '^\s*(select|with)\s' AND position(';' IN rtrim(rtrim(t.sql), ';')) = 0 THEN
        EXECUTE t.sql INTO res_text;
        BEGIN
          res := res_text::jsonb;
        EXCEPTION WHEN invalid_text_representation THEN
          res := to_jsonb(res_text);
        END;
      ELSE
        EXECUTE t.sql;
      END IF;
      run.state := 'Succeeded';
      run.result := res;
      IF t.when_changed IS NOT NULL THEN
        UPDATE reco_tasks SET seen_changes = changes WHERE name = t.name;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS err = MESSAGE_TEXT;
      run.state := 'Failed';
      run.error := err;
    END;
  END IF;
  run.finished_at := clock_timestamp();
  INSERT INTO reco_task_runs (task, trigger, state, started_at, finished_at, error, result)
  VALUES (run.task, run.trigger, run.state, run.started_at, run.finished_at, run.error, run.result)
  RETURNING id INTO run.id;
  RETURN jsonb_strip_nulls(to_jsonb(run));
END
$$;

-- execute_task(name): runs the task now, in this session and transaction; returns the run.
CREATE FUNCTION execute_task(name text) RETURNS jsonb LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN name IS NULL THEN NULL ELSE reco_run_task(name, 'sql') END
$$;

-- Every run, newest first: reco's records, plus pg_cron's for runs that never recorded one
-- (still executing, or stopped by a cancel, a timeout or a crash).
CREATE FUNCTION reco_task_history_rows()
  RETURNS TABLE (task text, run_id bigint, trigger text, state text, started_at timestamptz,
                 finished_at timestamptz, error text, result jsonb, cron_runid bigint)
  LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY SELECT r.task, r.id, r.trigger, r.state, r.started_at, r.finished_at, r.error,
                      r.result, NULL::bigint FROM reco_task_runs r;
  IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
    RETURN QUERY EXECUTE $q$
      SELECT substr(j.jobname, 11), NULL::bigint, 'schedule'::text,
             CASE WHEN d.status = 'failed' OR gone THEN 'Failed' ELSE 'Executing' END,
             d.start_time, d.end_time,
             CASE WHEN d.status = 'failed' THEN d.return_message
                  WHEN gone THEN format('the session running it (pid %s) ended before the run did '
                                        '(killed, or the server crashed)', d.job_pid) END,
             NULL::jsonb, d.runid
        FROM cron.job_run_details d JOIN cron.job j ON j.jobid = d.jobid,
             LATERAL (SELECT d.status <> 'failed' AND coalesce(d.job_pid, 0) <> 0
                             AND NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = d.job_pid)
                      AS gone) g
       WHERE j.jobname LIKE 'reco-task:%'
         AND d.status <> 'succeeded'
         AND NOT EXISTS (SELECT FROM reco_task_runs r
                          WHERE r.task = substr(j.jobname, 11) AND r.trigger = 'schedule'
                            AND r.started_at >= d.start_time
                            AND (d.end_time IS NULL OR r.finished_at <= d.end_time))
    $q$;
  END IF;
END
$$;

CREATE VIEW task_history AS
  SELECT * FROM reco_task_history_rows() ORDER BY started_at DESC NULLS FIRST;

-- Grants: tasks run SQL on schedule with their creator's rights; reco_admin may manage them.
-- reco_count_change stays executable by all: whoever owns a when_changed table creates the
-- trigger, and a trigger function can only run as a trigger (it moves its own table's counter).
REVOKE ALL ON FUNCTION create_task(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION drop_task(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION suspend_task(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION resume_task(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION execute_task(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION reco_run_task(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION create_task(text, text, text, jsonb) TO reco_admin;
GRANT EXECUTE ON FUNCTION drop_task(text) TO reco_admin;
GRANT EXECUTE ON FUNCTION suspend_task(text) TO reco_admin;
GRANT EXECUTE ON FUNCTION resume_task(text) TO reco_admin;
GRANT EXECUTE ON FUNCTION execute_task(text) TO reco_admin;
GRANT EXECUTE ON FUNCTION reco_run_task(text, text) TO reco_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON reco_tasks, reco_task_runs, reco_table_changes TO reco_admin;
GRANT USAGE ON SEQUENCE reco_task_runs_id_seq TO reco_admin;
GRANT SELECT ON task_history TO reco_admin;
