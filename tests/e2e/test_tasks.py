#!/usr/bin/env python3
"""Tasks end to end: `reco tasks create|list|show|history|run|suspend|resume|drop` and their
errors; `reco serve` running a data-triggered retrain-and-promote task (the guide's automation);
two servers on one home running each scheduled time once; SIGTERM during a run recorded as
Failed with the reason. Schedules are a second apart, so nothing sleeps for minutes (the
scheduler's logic under a controllable clock is in tests/unit/tasks)."""
import json
import os
import signal
import time

import recotest
from test_serve import ServeTestCase, run_reco

RETRAIN_SQL = ("select deploy_model('ep', json_extract(train_and_get_recommendations('ratings', 'recs', "
               "'{\"folds\": 3, \"params\": {\"n_factors\": 5}}'), '$.artifact_uri'), "
               "'{\"promote_if\": {\"metric\": \"rmse\"}}')")


class TasksTest(ServeTestCase):
    def home_with_ratings(self):
        home = self.fresh_home()
        data = os.path.join(home, "generated")
        run_reco(home, "generate", "movielens", data, "--users", "60", "--items", "90", "--ratings", "1500",
                 "--seed", "2")
        run_reco(home, "load", "movielens", data)
        return home

    def reco_json(self, home, *args):
        return json.loads(run_reco(home, *args, "--json").stdout)

    def runs(self, home, name):
        return self.reco_json(home, "tasks", "history", name)

    def test_command_line_and_its_errors(self):
        home = self.home_with_ratings()
        run_reco(home, "sql", "-c", "create table log(n int)")
        t = self.reco_json(home, "tasks", "create", "count", "--schedule", "0 3 * * * Europe/Paris", "--sql",
                           "insert into log select count(*) from ratings", "--when-changed", "ratings")
        self.assertEqual((t["name"], t["state"], t["when_changed"]), ("count", "Started", "ratings"))
        self.assertRegex(t["next_run"], r"T0[12]:00:00Z$")  # 03:00 in Paris is 01:00 or 02:00 UTC
        self.assertIn("count", run_reco(home, "tasks").stdout)
        self.assertIn("Europe/Paris", run_reco(home, "tasks", "show", "count").stdout)
        self.assertEqual(self.reco_json(home, "tasks", "run", "count")["state"], "Succeeded")
        self.assertEqual(self.reco_json(home, "tasks", "run", "count")["state"], "Skipped")
        self.assertEqual(self.reco_json(home, "tasks", "suspend", "count")["state"], "Suspended")
        self.assertEqual(self.reco_json(home, "tasks", "resume", "count")["state"], "Started")
        history = run_reco(home, "tasks", "history", "count").stdout
        self.assertIn("Succeeded", history)
        self.assertIn("has not changed since the last successful run", history)
        self.assertEqual([r["trigger"] for r in self.runs(home, "count")], ["cli", "cli"])

        def fails(code, fragment, *args):
            p = run_reco(home, *args, check=False)
            self.assertEqual(p.returncode, code, (args, p.stdout, p.stderr))
            self.assertIn(fragment, p.stderr)

        fails(64, "cron field 2 (hour) '25': 25 is outside 0-23", "tasks", "create", "x", "-s", "0 25 * * *",
              "--sql", "select 1")
        fails(64, "cron field 5 (day of week) 'FUNDAY'", "tasks", "create", "x", "-s", "0 1 * * FUNDAY", "--sql",
              "select 1")
        fails(64, "unknown time zone 'Europe/Atlantis'", "tasks", "create", "x", "-s", "0 1 * * * Europe/Atlantis",
              "--sql", "select 1")
        fails(64, "unknown unit 'WEEK'", "tasks", "create", "x", "-s", "2 WEEK", "--sql", "select 1")
        fails(65, "task count exists already", "tasks", "create", "count", "-s", "1 DAY", "--sql", "select 1")
        fails(66, "no task named 'nope'", "tasks", "show", "nope")
        fails(66, "no task named 'nope'", "tasks", "run", "nope")
        fails(66, "no task named 'nope'", "tasks", "history", "nope")
        # A run whose SQL fails exits 1 like a failed statement, and is recorded.
        run_reco(home, "tasks", "create", "broken", "-s", "1 DAY", "--sql", "select no_such_function()")
        p = run_reco(home, "tasks", "run", "broken", "--json", check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("no such function: no_such_function", json.loads(p.stdout)["error"])
        self.assertIn("dropped task broken", run_reco(home, "tasks", "drop", "broken").stdout)
        self.assertEqual(self.runs(home, "broken")[0]["state"], "Failed")  # the history stays
        fails(66, "no task named 'broken'", "tasks", "drop", "broken")

    def test_serve_runs_a_data_triggered_retrain_and_promote_task(self):
        home = self.home_with_ratings()
        run_reco(home, "tasks", "create", "retrain", "--schedule", "1 SECOND", "--when-changed", "ratings",
                 "--sql", RETRAIN_SQL)
        server = self.serve(home, "--task-interval", "100")
        server.wait_until(lambda: [r for r in self.runs(home, "retrain") if r["state"] == "Succeeded"], timeout=30,
                          what="the first scheduled run")
        # Unchanged data: the next occurrences are skipped, and say why.
        server.wait_until(lambda: [r for r in self.runs(home, "retrain")
                                   if "has not changed" in (r["error"] or "")], timeout=10,
                          what="a run skipped for unchanged data")
        self.assertEqual(server.request("GET", "/endpoints/ep").json()["serving"]["version"], 1)
        # New ratings: the next occurrence retrains; the new version is promoted or refused on
        # its CV RMSE, and the endpoint's history says which, caused by the task.
        run_reco(home, "sql", "-c", "insert into ratings select USERID, MOVIEID + 100000, RATING, TIMESTAMP "
                                    "from ratings limit 50")
        server.wait_until(lambda: len([r for r in self.runs(home, "retrain") if r["state"] == "Succeeded"]) >= 2,
                          timeout=30, what="a run after the change")
        runs = self.runs(home, "retrain")
        succeeded = [r for r in runs if r["state"] == "Succeeded"]
        self.assertEqual(len(succeeded), 2, runs)
        for r in succeeded:
            self.assertEqual(r["trigger"], "schedule")
            self.assertEqual(len(r["jobs"]), 1)
            self.assertTrue(r["scheduled_time"].endswith("Z"))
            job = self.reco_json(home, "jobs", "show", r["jobs"][0])
            self.assertEqual(job["state"], "Completed")
        self.assertTrue(all(r["state"] in ("Succeeded", "Skipped") for r in runs), runs)
        history = json.loads(server.request("GET", "/endpoints/ep/history").text())["events"]
        self.assertEqual([e["cause"] for e in history], ["task:retrain", "task:retrain"])
        self.assertEqual(history[0]["event"], "deploy")
        self.assertIn(history[1]["event"], ("deploy", "promotion_refused"))
        self.assertIn("promotion", history[1])
        self.assertEqual(server.stop(), 0)

    def test_two_servers_run_each_scheduled_time_once(self):
        home = self.home_with_ratings()
        run_reco(home, "sql", "-c", "create table log(at text)")
        run_reco(home, "tasks", "create", "tick", "--schedule", "1 SECOND", "--sql",
                 "insert into log values (strftime('%Y-%m-%dT%H:%M:%f', 'now'))")
        a = self.serve(home, "--task-interval", "50")
        b = self.serve(home, "--task-interval", "50")
        a.wait_until(lambda: len(self.runs(home, "tick")) >= 6, timeout=30, what="six runs")
        self.assertEqual(a.stop(), 0)
        self.assertEqual(b.stop(), 0)
        runs = self.runs(home, "tick")
        scheduled = [r["scheduled_time"] for r in runs if r["state"] != "Skipped"]
        self.assertEqual(len(scheduled), len(set(scheduled)), runs)  # no scheduled time twice
        logged = int(run_reco(home, "sql", "-c", "select count(*) from log", "--mode", "csv").stdout.split()[-1])
        self.assertEqual(logged, len([r for r in runs if r["state"] == "Succeeded"]), runs)

    def test_a_run_interrupted_by_shutdown_is_recorded_failed_with_the_reason(self):
        home = self.home_with_ratings()
        run_reco(home, "tasks", "create", "forever", "--schedule", "1 SECOND", "--sql",
                 "with recursive n(x) as (select 1 union all select x + 1 from n) select count(*) from n")
        server = self.serve(home, "--task-interval", "100")
        server.wait_until(lambda: [r for r in self.runs(home, "forever") if r["state"] == "Executing"],
                          timeout=30, what="the run to start")
        t0 = time.monotonic()
        self.assertEqual(server.stop(signal.SIGTERM), 0)
        self.assertLess(time.monotonic() - t0, 10)
        failed = [r for r in self.runs(home, "forever") if r["state"] == "Failed"]
        self.assertEqual(len(failed), 1, self.runs(home, "forever"))
        self.assertIn("the server stopped (SIGTERM) while the task was running", failed[0]["error"])
        self.assertEqual([r for r in self.runs(home, "forever") if r["state"] == "Executing"], [])


if __name__ == "__main__":
    recotest.main()
