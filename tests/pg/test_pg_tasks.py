"""Scheduled tasks on PostgreSQL (README, "Tasks on PostgreSQL: pg_cron"): create_task, drop_task,
suspend_task, resume_task, execute_task and task_history of the extension reco, over pg_cron.

pg_cron has to be in shared_preload_libraries and serves one database (cron.database_name), so
this module starts its own throw-away cluster with pg_cron preloaded (scripts/pg-cluster.sh with
RECO_PG_PRELOAD=pg_cron; pg_cron serves its database reco_test, where the tasks live); the pg
fixture's shared cluster, which does not preload pg_cron, shows the error when pg_cron is
missing. The tests run in order in that one database, each with its own task and table names.
pg_cron 1.4 (Debian 12) schedules whole minutes: the tests run a task's pg_cron command
themselves, in a session of its own as pg_cron does, and one test (test_zz_...) waits for
pg_cron's own runs of two tasks created when the module starts (a minute at most)."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import pgtest
import test_serve

ENV = pgtest.cluster_env()  # the shared cluster (no pg_cron), or a loud skip
pgtest.require_extension(ENV)
SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")
CRON = {}  # the settings of this module's cluster with pg_cron
STATE_DIR = tempfile.mkdtemp(prefix="reco-pgcron-")
CREATED = []  # when setUpModule scheduled the tasks pg_cron runs on its own


def setUpModule():
    state = os.path.join(STATE_DIR, "cluster.env")
    env = dict(os.environ, RECO_PG_PRELOAD="pg_cron")
    p = subprocess.run([os.path.join(SCRIPTS, "pg-cluster.sh"), "start", state], env=env, capture_output=True,
                       text=True, timeout=180)
    if p.returncode != 0:
        raise AssertionError("pg-cluster.sh start failed (%d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    CRON.update(pgtest.read_state(state))
    sql("create extension pg_cron")
    sql("create extension reco")
    # pg_cron's own runs, checked at the end (test_zz_pg_cron_runs_the_tasks): one task that
    # writes a row, one whose SQL fails.
    sql("create table fired (at timestamptz default clock_timestamp())")
    sql("select create_task('fires', '1 MINUTE', 'insert into fired default values')")
    sql("select create_task('fails', '* * * * *', 'select 1/0')")
    # A run whose session is terminated (reco cannot record it: pg_cron does), and one still
    # running when the others have ended.
    sql("select create_task('killed', '* * * * *', 'select pg_terminate_backend(pg_backend_pid())')")
    sql("select create_task('sleeper', '* * * * *', 'select pg_sleep(15)')")
    CREATED.append(time.time())


def tearDownModule():
    state = os.path.join(STATE_DIR, "cluster.env")
    subprocess.run([os.path.join(SCRIPTS, "pg-cluster.sh"), "stop", state], capture_output=True, timeout=120)
    shutil.rmtree(STATE_DIR, ignore_errors=True)


def sql(statement, check=True, database=None, env=None):
    e = dict(CRON)
    if env:
        e.update(env)
    return pgtest.psql(e, statement, check=check, database=database)


def value(statement, **kw):
    return sql(statement, **kw).stdout.strip()


def error(statement, **kw):
    p = sql(statement, check=False, **kw)
    if p.returncode == 0:
        raise AssertionError("expected an error from %s, got %r" % (statement, p.stdout))
    return p.stderr


def cron_command(task):
    """What pg_cron runs for the task (cron.job's command), run in a session of its own."""
    command = value("select command from cron.job where jobname = 'reco-task:%s'" % task)
    if not command:
        raise AssertionError("no pg_cron job for task %s" % task)
    return json.loads(value(command))


def quiet_schedule():
    """A schedule pg_cron does not fire while this module runs (once an hour, half an hour from
    now): a test that runs a task's command by hand must not race the scheduler's own run."""
    return "%d * * * *" % ((time.gmtime().tm_min + 30) % 60)


def runs(task):
    """The task's runs in task_history, oldest first."""
    out = value("select coalesce(json_agg(h order by started_at), '[]') from task_history h where task = '%s'" % task)
    return json.loads(out)


class TasksTest(unittest.TestCase):
    def test_create_suspend_resume_drop(self):
        t = json.loads(value("select create_task('life', '60 MINUTE', 'select 1')"))
        self.assertEqual((t["name"], t["schedule"], t["cron"], t["suspended"]), ("life", "60 MINUTE", "0 * * * *", False))
        job = value("select schedule || '|' || command || '|' || active from cron.job where jobid = %d" % t["jobid"])
        self.assertEqual(job, "0 * * * *|SELECT public.reco_run_task('life')|true")
        self.assertIn("task 'life' exists", error("select create_task('life', '1 DAY', 'select 2')"))
        t = json.loads(value("select create_task('life', '1 DAY', 'select 2', '{\"replace\": true}')"))
        self.assertEqual(t["cron"], "0 0 * * *")
        self.assertEqual(value("select count(*) from cron.job where jobname = 'reco-task:life'"), "1")
        # Suspending removes the pg_cron job; resuming schedules it again from now.
        s = json.loads(value("select suspend_task('life')"))
        self.assertEqual((s["suspended"], s["jobid"]), (True, None))
        self.assertEqual(value("select count(*) from cron.job where jobname = 'reco-task:life'"), "0")
        self.assertEqual(json.loads(value("select execute_task('life')"))["state"], "Succeeded")  # still runs by hand
        r = json.loads(value("select resume_task('life')"))
        self.assertFalse(r["suspended"])
        self.assertEqual(value("select schedule from cron.job where jobid = %d" % r["jobid"]), "0 0 * * *")
        d = json.loads(value("select drop_task('life')"))
        self.assertEqual(d, {"task": "life", "dropped": True})
        self.assertEqual(value("select count(*) from cron.job where jobname = 'reco-task:life'"), "0")
        self.assertEqual([x["state"] for x in runs("life")], ["Succeeded"])  # the history stays
        err = error("select drop_task('life')")
        self.assertIn("drop_task: no task 'life'", err)
        self.assertIn("the tasks: ", err)
        self.assertIn("resume_task: no task 'nope'", error("select resume_task('nope')"))
        # NULL in a required argument gives NULL, as on SQLite.
        self.assertEqual(value("select create_task(null, '1 DAY', 'select 1') is null and create_task('x', null, "
                               "'select 1') is null and drop_task(null) is null and execute_task(null) is null "
                               "and suspend_task(null) is null and resume_task(null) is null"), "t")
        for statement, fragment in [
            ("select create_task('a b', '1 DAY', 'select 1')", "create_task: task name 'a b'"),
            ("select create_task('x', '1 DAY', '  ')", "create_task: sql is empty"),
            ("select create_task('x', '1 DAY', 'select 1', '{\"when\": \"t\"}')", "create_task: unknown option 'when'"),
            ("select create_task('x', '1 DAY', 'select 1', '[1]')", "options must be a JSON object, not array"),
            ("select create_task('x', '1 DAY', 'select 1', '{\"replace\": 1}')", "option replace must be true or false"),
            ("select create_task('x', '1 DAY', 'select 1', '{\"when_changed\": \"nosuch\"}')",
             "when_changed table 'nosuch' does not exist"),
        ]:
            self.assertIn(fragment, error(statement))
        self.assertEqual(value("select count(*) from reco_tasks where name = 'x'"), "0")

    def test_schedules_translate_or_name_the_field(self):
        for schedule, cron in [("1 MINUTE", "* * * * *"), ("15 minutes", "*/15 * * * *"), ("120 SECONDS", "*/2 * * * *"),
                               ("2 HOURS", "0 */2 * * *"), ("1 day", "0 0 * * *"), ("24 HOUR", "0 0 * * *"),
                               ("0 3 * * *", "0 3 * * *"), ("USING CRON */20 * * * * UTC", "0,20,40 * * * *"),
                               ("5/15 8-18 1,15 JAN,jul MON-FRI", "5,20,35,50 8,9,10,11,12,13,14,15,16,17,18 1,15 1,7 "
                                                                  "1,2,3,4,5"),
                               ("0 12 * * 7", "0 12 * * 0"), ("0 0 29 2 *", "0 0 29 2 *")]:
            self.assertEqual(value("select reco_task_cron('%s')" % schedule), cron, schedule)
        for schedule, fragment in [
            ("0 24 * * *", "cron field 2 (hour) '24': 24 is outside 0-23"),
            ("61 * * * *", "cron field 1 (minute) '61': 61 is outside 0-59"),
            ("0 0 0 * *", "cron field 3 (day of month) '0': 0 is outside 1-31"),
            ("0 0 * FOO *", "cron field 4 (month) 'FOO': 'FOO' is not a number or a month name (JAN-DEC)"),
            ("0 0 * * XYZ", "cron field 5 (day of week) 'XYZ': 'XYZ' is not a number or a day name (SUN-SAT)"),
            ("0 5-2 * * *", "cron field 2 (hour) '5-2': range 5-2 runs backwards"),
            ("*/0 * * * *", "cron field 1 (minute) '*/0': step '0' is not a positive number"),
            ("1,,2 * * * *", "cron field 1 (minute) '1,,2': an empty list item"),
            ("0 0 31 2 *", "schedule '0 0 31 2 *' never fires"),
            ("0 0 * *", "schedule '0 0 * *' is neither a cron expression (5 fields"),
            ("0 3 * * * Europe/Paris", "time zone 'Europe/Paris': pg_cron runs every schedule on one clock, UTC"),
            ("0 3 * * * Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
            ("90 MINUTE", "interval '90 MINUTE': pg_cron cannot run a task every 5400 seconds"),
            ("30 SECONDS", "interval '30 SECONDS': pg_cron cannot run a task every 30 seconds"),
            ("2 DAYS", "interval '2 DAYS': pg_cron cannot run a task every 172800 seconds"),
            ("5 FORTNIGHTS", "interval '5 FORTNIGHTS': unknown unit 'FORTNIGHTS'"),
            ("0 MINUTE", "interval '0 MINUTE': the count '0' is not a whole number from 1"),
        ]:
            err = error("select create_task('bad', '%s', 'select 1')" % schedule)
            self.assertIn("create_task: " + fragment, err)
        self.assertIn("HINT:  pg_cron 1.4 schedules whole minutes", error("select create_task('bad', '7 MINUTE', 'select 1')"))
        self.assertIn("no per-job time zone", error("select create_task('bad', '0 1 * * * Asia/Tokyo', 'select 1')"))
        self.assertEqual(value("select count(*) from reco_tasks where name = 'bad'"), "0")

    def test_failed_run_recorded_and_next_run_happens(self):
        sql("create table flaky_log (n int)")
        sql("select create_task('flaky', '%s', 'insert into flaky_log values (1); select 1/0')" % quiet_schedule())
        first = cron_command("flaky")
        self.assertEqual((first["state"], first["trigger"], first["error"]), ("Failed", "schedule", "division by zero"))
        # The failed run's writes are rolled back; the job stays scheduled and runs again.
        self.assertEqual(value("select count(*) from flaky_log"), "0")
        self.assertEqual(value("select active from cron.job where jobname = 'reco-task:flaky'"), "t")
        second = cron_command("flaky")
        self.assertEqual(second["state"], "Failed")
        sql("select create_task('flaky', '%s', 'insert into flaky_log values (2)', '{\"replace\": true}')"
            % quiet_schedule())
        self.assertEqual(cron_command("flaky")["state"], "Succeeded")
        self.assertEqual(value("select count(*) from flaky_log"), "1")
        self.assertEqual([(r["state"], r["error"]) for r in runs("flaky")],
                         [("Failed", "division by zero"), ("Failed", "division by zero"), ("Succeeded", None)])

    def test_when_changed_runs_only_after_a_change(self):
        sql("create table wc_ratings (userid int, movieid int, rating float)")
        sql("insert into wc_ratings values (1, 1, 4)")
        sql("create table wc_log (n bigint)")
        sql("select create_task('wc', '%s', 'insert into wc_log select count(*) from wc_ratings', "
            "'{\"when_changed\": \"wc_ratings\"}')" % quiet_schedule())

        def run():
            return json.loads(value("select execute_task('wc')"))

        self.assertEqual(run()["state"], "Succeeded")  # the first run always runs
        skipped = run()
        self.assertEqual((skipped["state"], skipped["error"]),
                         ("Skipped", "table wc_ratings has not changed since the last successful run"))
        self.assertEqual(cron_command("wc")["state"], "Skipped")
        sql("insert into wc_ratings values (2, 1, 3)")
        self.assertEqual(cron_command("wc")["state"], "Succeeded")
        self.assertEqual(run()["state"], "Skipped")
        # A change that was rolled back is no change (the counter moves in the writer's transaction).
        sql("begin; insert into wc_ratings values (3, 1, 3); rollback")
        self.assertEqual(run()["state"], "Skipped")
        for change in ["update wc_ratings set rating = 5 where userid = 1", "delete from wc_ratings where userid = 2",
                       "truncate wc_ratings"]:
            sql(change)
            self.assertEqual(run()["state"], "Succeeded", change)
            self.assertEqual(run()["state"], "Skipped", change)
        # Replaced (dropped and created again, the trigger with it): a change; the trigger comes back.
        sql("drop table wc_ratings; create table wc_ratings (userid int, movieid int, rating float)")
        self.assertEqual(run()["state"], "Succeeded")
        self.assertEqual(run()["state"], "Skipped")
        sql("insert into wc_ratings values (9, 9, 1)")
        self.assertEqual(run()["state"], "Succeeded")
        self.assertEqual(value("select string_agg(n::text, ',' order by n) from wc_log"), "0,0,1,1,1,2,2")
        # A failed run does not count as having seen the change: the next one runs again.
        sql("insert into wc_ratings values (10, 9, 1)")
        sql("drop table wc_log")
        failed = run()
        self.assertEqual(failed["state"], "Failed")
        self.assertIn("wc_log", failed["error"])
        sql("create table wc_log (n bigint)")
        self.assertEqual(run()["state"], "Succeeded")
        sql("drop table wc_ratings")
        gone = run()
        self.assertEqual((gone["state"], gone["error"]), ("Failed", "when_changed table 'wc_ratings' does not exist"))
        sql("select drop_task('wc')")

    def test_overlapping_run_is_skipped_and_drop_while_running(self):
        sql("select create_task('slow', '%s', 'select pg_sleep(4)')" % quiet_schedule())
        full = dict(os.environ)
        full.update(CRON)
        first = subprocess.Popen(["psql", "-X", "-qAt", "-c", "select execute_task('slow')"], env=full,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if value("select count(*) from pg_stat_activity where query = 'select execute_task(''slow'')' "
                     "and wait_event = 'PgSleep'") == "1":
                break
            time.sleep(0.05)
        else:
            first.kill()
            self.fail("the first run never started")
        second = cron_command("slow")
        self.assertEqual((second["state"], second["error"]), ("Skipped", "the previous run of the task is still executing"))
        # Dropped while it runs: the run finishes and is recorded; the task is not scheduled again.
        self.assertEqual(json.loads(value("select drop_task('slow')"))["dropped"], True)
        self.assertEqual(value("select count(*) from cron.job where jobname = 'reco-task:slow'"), "0")
        out, err = first.communicate(timeout=30)
        self.assertEqual(first.returncode, 0, err)
        self.assertEqual(json.loads(out)["state"], "Succeeded")
        self.assertEqual([(r["trigger"], r["state"]) for r in runs("slow")], [("sql", "Succeeded"), ("schedule", "Skipped")])

    def test_rights_a_task_runs_as_its_creator_and_any_writer_counts(self):
        sql("create role alice nologin; grant reco_admin to alice; grant usage on schema cron to alice; "
            "create role writer nologin; create table alice_t (x int); alter table alice_t owner to alice; "
            "grant insert on alice_t to writer; create table alice_log (who name)")
        sql("alter table alice_log owner to alice")
        t = json.loads(value("set role alice; select create_task('alice_task', '1 DAY', "
                             "'insert into alice_log values (current_user)', '{\"when_changed\": \"alice_t\"}')"))
        self.assertEqual(t["owner"], "alice")
        self.assertEqual(value("select username from cron.job where jobid = %d" % t["jobid"]), "alice")

        def run():
            return json.loads(value("set role alice; " + value("select command from cron.job where jobid = %d"
                                                              % t["jobid"])))

        self.assertEqual(run()["state"], "Succeeded")
        self.assertEqual(run()["state"], "Skipped")
        # A writer with no right on reco's tables still moves the counter (the trigger's function
        # is SECURITY DEFINER).
        sql("set role writer; insert into alice_t values (1)")
        self.assertEqual(run()["state"], "Succeeded")
        self.assertEqual(value("select string_agg(who, ',') from alice_log"), "alice,alice")
        # Without reco_admin: no task functions.
        for statement in ["select create_task('w', '1 DAY', 'select 1')", "select execute_task('alice_task')",
                          "select drop_task('alice_task')"]:
            self.assertIn("permission denied for function", error("set role writer; " + statement))
        self.assertEqual(json.loads(value("set role alice; select drop_task('alice_task')"))["dropped"], True)

    def test_pg_cron_missing_says_what_to_do(self):
        # The shared cluster does not preload pg_cron.
        db = pgtest.create_database(ENV, "reco_nocron")
        self.addCleanup(pgtest.drop_database, ENV, db)
        pgtest.psql(ENV, "create extension reco", database=db)
        p = pgtest.psql(ENV, "select create_task('t', '1 DAY', 'select 1')", check=False, database=db)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("create_task: tasks on PostgreSQL run through pg_cron, which this server has not loaded", p.stderr)
        self.assertIn("shared_preload_libraries = 'pg_cron' and cron.database_name = '%s'" % db, p.stderr)
        self.assertIn("then run CREATE EXTENSION pg_cron in database %s" % db, p.stderr)
        self.assertIn("install Debian's postgresql-15-cron", p.stderr)
        # The same for a role that may not read cron settings (the check is SECURITY DEFINER).
        role = "reco_nocron_%d" % os.getpid()
        pgtest.psql(ENV, "create role %s nologin; grant reco_admin to %s" % (role, role))
        self.addCleanup(pgtest.psql, ENV, "drop role if exists %s" % role, check=False)
        p = pgtest.psql(ENV, "set role %s; select create_task('t', '1 DAY', 'select 1')" % role, check=False, database=db)
        self.assertIn("create_task: tasks on PostgreSQL run through pg_cron, which this server has not loaded", p.stderr)
        # execute_task still works there (the task table is the extension's): but no task exists.
        p = pgtest.psql(ENV, "select execute_task('t')", check=False, database=db)
        self.assertIn("execute_task: no task 't'", p.stderr)
        # A database other than the one pg_cron serves.
        sql("create database other_db")
        self.addCleanup(sql, "drop database if exists other_db with (force)", check=False)
        sql("create extension reco", database="other_db")
        err = error("select create_task('t', '1 DAY', 'select 1')", database="other_db")
        self.assertIn("create_task: pg_cron serves database 'reco_test' (cron.database_name), not 'other_db'", err)
        self.assertIn("create tasks in database reco_test", err)

    def test_recipe_retrain_when_ratings_change_and_deploy_only_if_better(self):
        """The README's recipe through `reco serve --db postgresql://...`: a task retrains on the
        ratings table when it changed and deploys the model only if its CV RMSE is better."""
        if not pgtest.RECO or not os.path.exists(pgtest.RECO):
            self.fail("RECO_BIN does not point to the reco binary: %r" % pgtest.RECO)
        home = tempfile.mkdtemp(prefix="reco-pgcron-home-")
        self.addCleanup(shutil.rmtree, home, True)
        url = "postgresql://%s@%s:%s/reco_test" % (CRON["PGUSER"], CRON["PGHOST"], CRON["PGPORT"])
        db_env = {"PGPASSWORD": CRON["PGPASSWORD"]}
        data = os.path.join(home, "generated")
        test_serve.run_reco(home, "generate", "movielens", data, "--users", "80", "--items", "150", "--ratings",
                            "3000", "--seed", "11")
        test_serve.run_reco(home, "--db", url, "load", "movielens", data, env=db_env)
        token = "pgcron-token-" + os.urandom(8).hex()
        tokens = tempfile.mkdtemp(prefix="reco-pgcron-token-")
        self.addCleanup(shutil.rmtree, tokens, True)
        token_file = pgtest.readable_token_file(tokens, token, CRON)
        serve = test_serve.Serve(home, "--db", url, "--token-file", token_file, env=db_env)
        self.addCleanup(serve.close)
        sql("alter database reco_test set reco.service_url = '%s'" % serve.url)
        sql("alter database reco_test set reco.token_file = '%s'" % token_file)

        def train_sql(options):
            return "train_and_get_recommendations('ratings', 'recipe_recs', '%s')->>'artifact_uri'" % json.dumps(options)

        def new_ratings(seed):
            sql("insert into ratings (userid, movieid, rating, timestamp) select %d + u, m, "
                "1 + ((u * 7 + m * %d) %% 5), 1700000000 from generate_series(1, 5) u, generate_series(1, 20) m"
                % (1000 * seed, seed))

        # What serves now: a weak model (random predictions), deployed by hand.
        first = json.loads(value("select deploy_model('recipe-ep', %s)"
                                 % train_sql({"algorithm": "normal_predictor", "folds": 3})))
        self.assertEqual((first["name"], first["version"]), ("recipe-ep", 1), first)
        # The recipe: retrain when ratings changed, deploy only if the CV RMSE is better by 0.001.
        sql("select create_task('retrain', '%s', $sql$select deploy_model('recipe-ep', %s, "
            "'{\"promote_if\": {\"metric\": \"rmse\", \"margin\": 0.001}}')$sql$, "
            "'{\"when_changed\": \"ratings\"}')" % (quiet_schedule(), train_sql({"folds": 3})))
        promoted = cron_command("retrain")  # its first run runs
        self.assertEqual(promoted["state"], "Succeeded", promoted)
        self.assertTrue(promoted["result"]["promoted"], promoted)
        self.assertEqual(promoted["result"]["version"], 2, promoted)
        self.assertIn("promoted on rmse", promoted["result"]["reason"])
        # Nothing changed: skipped, and no training job started.

        def jobs():
            r = serve.request("GET", "/jobs", headers={"Authorization": "Bearer " + token})
            self.assertEqual(r.status, 200, r)
            return len(r.json()["jobs"])

        before = jobs()
        self.assertEqual(cron_command("retrain")["state"], "Skipped")
        self.assertEqual(json.loads(value("select execute_task('retrain')"))["state"], "Skipped")
        self.assertEqual(jobs(), before)
        # New ratings (noisy ones, which make the CV RMSE worse): retrained, and refused.
        new_ratings(3)
        refused = cron_command("retrain")
        self.assertEqual(refused["state"], "Succeeded", refused)
        result = refused["result"]
        self.assertEqual((result["promoted"], result["status"], result["version"]), (False, "PromotionRefused", 2), result)
        self.assertIn("promotion refused on rmse", result["reason"])
        p = result["promotion"]
        self.assertLessEqual(p["serving"]["value"] - p["candidate"]["value"], 0.001)
        self.assertEqual(jobs(), before + 1)
        self.assertEqual([r["state"] for r in runs("retrain")], ["Succeeded", "Skipped", "Skipped", "Succeeded"])
        # The endpoint's history has the hand deployment, the promotion and the refusal.
        history = test_serve.run_reco(home, "endpoints", "history", "recipe-ep", "--json").stdout
        events = [e["event"] for e in json.loads(history)["events"]]
        self.assertEqual(events[-3:], ["deploy", "deploy", "promotion_refused"], history)
        sql("select drop_task('retrain')")

    def test_zz_pg_cron_runs_the_tasks(self):
        """pg_cron's own runs of the tasks created when the module started: the next whole minute."""
        deadline = CREATED[0] + 75
        while time.time() < deadline:
            states = {t: [r["state"] for r in runs(t) if r["trigger"] == "schedule"] for t in ("fires", "fails")}
            if states["fires"] and states["fails"] and "Executing" not in states["fires"] + states["fails"]:
                break
            time.sleep(0.5)
        fires, fails = runs("fires"), runs("fails")
        self.assertTrue(fires and fails, "pg_cron did not run the tasks within 75 s: %r %r" % (fires, fails))
        self.assertEqual(fires[0]["state"], "Succeeded")
        self.assertGreaterEqual(int(value("select count(*) from fired")), 1)
        self.assertEqual((fails[0]["state"], fails[0]["trigger"], fails[0]["error"]),
                         ("Failed", "schedule", "division by zero"))
        # pg_cron's records where reco could not record the run: executing, or cancelled.
        sleeper = runs("sleeper")
        self.assertEqual([(r["state"], r["trigger"], r["run_id"]) for r in sleeper][:1],
                         [("Executing", "schedule", None)], sleeper)
        self.assertIsNotNone(sleeper[0]["cron_runid"])
        deadline = time.time() + 10
        while time.time() < deadline and [r["state"] for r in runs("killed")] in ([], ["Executing"]):
            time.sleep(0.2)
        killed = runs("killed")
        self.assertEqual([(r["state"], r["trigger"], r["run_id"]) for r in killed][:1],
                         [("Failed", "schedule", None)], killed)
        self.assertIn("ended before the run did (killed, or the server crashed)", killed[0]["error"])
        self.assertEqual(value("select active from cron.job where jobname = 'reco-task:killed'"), "t")
        # pg_cron itself saw the job succeed (reco_run_task recorded the failure and returned).
        self.assertEqual(value("select string_agg(distinct d.status, ',') from cron.job_run_details d join cron.job j "
                               "using (jobid) where j.jobname = 'reco-task:fails'"), "succeeded")


if __name__ == "__main__":
    unittest.main(verbosity=2)
