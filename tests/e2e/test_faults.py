"""Fault injection (issue 13): `reco train`, `reco load` and `reco endpoints deploy` killed with
SIGKILL at every deterministic kill point (RECO_KILL_AT, src/core/faults.h) and at random moments,
then the home is checked after the next command (which runs recovery, src/training/recovery.h):

  - job records, run.json files and the registry agree: no job InProgress, a Completed job's
    version is visible, a Failed job made no visible version, every visible version's run.json
    says Completed;
  - an output table is never partial, and whenever it holds a job's rows (its
    _reco_publications row exists) that job's version is visible and the job Completed;
  - a version directory without model.reco holds only a run.json saying Failed (its job failed
    too), and no temporary file stays;
  - a killed load leaves the table absent or complete.

RECO_FAULT_RUNS sets the number of random-moment kills (default 6; the reliability figures in
BENCHMARKS.md come from RECO_FAULT_RUNS=200)."""
import glob
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

import recotest

RECO = recotest.RECO
KILL_POINTS = ["publish:staged", "publish:before-commit", "publish:committed", "publish:visible",
               "job:before-record"]


class Faults(recotest.RecoTestCase):
    def setUp(self):
        super().setUp()
        self.data = os.path.join(self.home, "generated")
        self.reco("generate", "movielens", self.data, "--users", "80", "--items", "400", "--ratings", "8000",
                  "--seed", "3")
        self.reco("load", "movielens", self.data)
        self.n_users = 80

    def env(self, **extra):
        env = dict(os.environ, RECO_HOME=self.home)
        env.pop("RECO_DB", None)
        env.update(extra)
        return env

    def train_args(self, seed):
        return [RECO, "--quiet", "train", "--input", "ratings", "-k", "0", "--output", "recs", "--seed", str(seed),
                "--set", "n_epochs=3"]

    def killed(self, args, **env):
        p = subprocess.run(args, env=self.env(**env), capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, -signal.SIGKILL, "expected a kill, got %d:\n%s" % (p.returncode, p.stderr))

    def check_invariants(self):
        # Any command that opens the home settles it first.
        jobs = json.loads(self.reco("jobs", "--json", "--limit", "0").stdout)
        models = os.path.join(self.home, "models")
        visible = {}
        failed = set()
        for d in glob.glob(os.path.join(models, "*", "v*")):
            with open(os.path.join(d, "run.json")) as f:
                run = json.load(f)
            if os.path.exists(os.path.join(d, "model.reco")):
                self.assertEqual(run["state"], "Completed", d)
                visible[run["job"]] = d
            else:
                # Rolled back: only run.json stays, saying why.
                self.assertEqual(os.listdir(d), ["run.json"], "unsettled version directory %s" % d)
                self.assertEqual(run["state"], "Failed", d)
                failed.add(run["job"])
        for j in jobs:
            self.assertIn(j["state"], ("Completed", "Failed"), j)
            if j["state"] == "Completed":
                self.assertIn(j["id"], visible, "job %s Completed without a visible version" % j["id"])
            else:
                self.assertNotIn(j["id"], visible, "failed job %s has a visible version" % j["id"])
        for job in failed:
            self.assertEqual([x["state"] for x in jobs if x["id"] == job], ["Failed"])
        leftovers = [p for p in glob.glob(os.path.join(self.home, "**", "*.tmp-*"), recursive=True)]
        self.assertEqual(leftovers, [])
        db = sqlite3.connect(os.path.join(self.home, "warehouse.db"))
        try:
            tables = {r[0] for r in db.execute("select name from sqlite_schema where type = 'table'")}
            if "recs" in tables:
                self.assertEqual(db.execute("select count(*) from recs").fetchone()[0], self.n_users)
            if "_reco_publications" in tables:
                for (job,) in db.execute("select job from _reco_publications"):
                    self.assertIn(job, visible, "the output table holds rows of job %s, which has no version" % job)
                    self.assertEqual([x["state"] for x in jobs if x["id"] == job], ["Completed"])
            if "loaded" in tables:
                self.assertEqual(db.execute("select count(*) from loaded").fetchone()[0], 8000)
        finally:
            db.close()
        return jobs, visible

    def test_train_killed_at_every_kill_point(self):
        for seed, point in enumerate(KILL_POINTS):
            self.killed(self.train_args(seed), RECO_KILL_AT=point)
            jobs, visible = self.check_invariants()
            last = max(jobs, key=lambda j: j["created_ns"])
            # Before the output table's commit the job failed; from the commit on it completed.
            expect = "Failed" if point in ("publish:staged", "publish:before-commit") else "Completed"
            self.assertEqual(last["state"], expect, (point, last))
        # A load killed before its commit leaves no table.
        self.killed([RECO, "--quiet", "load", "csv", os.path.join(self.data, "ratings.csv"), "--table", "loaded"],
                    RECO_KILL_AT="load:before-commit")
        self.check_invariants()
        self.assertEqual(self.query("select count(*) as n from sqlite_schema where name = 'loaded'"), [{"n": 0}])
        # And a normal run afterwards works.
        self.reco(*self.train_args(99)[2:])
        self.check_invariants()

    def test_train_load_and_deploy_killed_at_random_moments(self):
        runs = int(os.environ.get("RECO_FAULT_RUNS", "6"))
        rng = random.Random(13)
        ratings = os.path.join(self.data, "ratings.csv")
        self.reco(*self.train_args(1)[2:])
        # Every version stays (retention would remove the oldest after 20, and this test holds
        # each Completed job to a visible version).
        self.reco("models", "policy", "ratings", "--keep-versions", "100000")
        kinds = {"train": 0, "load": 0, "deploy": 0}
        for i in range(runs):
            kind = ["train", "load", "deploy"][i % 3]
            kinds[kind] += 1
            if kind == "train":
                args = self.train_args(100 + i)
            elif kind == "load":
                args = [RECO, "--quiet", "load", "csv", ratings, "--table", "loaded", "--replace"]
            else:
                args = [RECO, "--quiet", "endpoints", "deploy", "ep", "models:/ratings"]
            p = subprocess.Popen(args, env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0, 0.4))
            p.send_signal(signal.SIGKILL)
            _, err = p.communicate(timeout=300)
            self.assertIn(p.returncode, (0, -signal.SIGKILL), err)
            self.check_invariants()
        print("test_faults: %d random kills (%s)" % (runs, kinds), file=sys.stderr)


if __name__ == "__main__":
    recotest.main()
