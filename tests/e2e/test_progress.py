"""Progress and cancel (issue 12): a running training reports its step, fraction and ETA in its
job record and GET /jobs/{id}; `reco jobs cancel`, Ctrl-C (SIGINT) in `reco train` and
`reco sql`, and DELETE /jobs/{id} stop it within about a second; a cancelled job is recorded as
Cancelled and writes nothing (no model version, no output table)."""
import json
import os
import signal
import subprocess
import time

import recotest
from recotest import RECO
from test_serve import ServeTestCase

# Slow enough to be caught running (tens of seconds if never cancelled), small to generate.
SLOW = ["--set", "n_epochs=400", "--set", "n_factors=50"]


class Progress(ServeTestCase, recotest.RecoTestCase):
    def setUp(self):
        recotest.RecoTestCase.setUp(self)
        data = os.path.join(self.home, "generated")
        self.reco("generate", "movielens", data, "--users", "2000", "--items", "1500", "--ratings", "200000",
                  "--seed", "6")
        self.reco("load", "movielens", data)

    def start(self, *args, stderr=subprocess.DEVNULL):
        env = dict(os.environ, RECO_HOME=self.home)
        env.pop("RECO_DB", None)
        # A new session: the signal reaches reco only, and SIGINT is not ignored as it is for
        # background jobs of a non-interactive shell.
        return subprocess.Popen([RECO, *args], env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                start_new_session=True)

    def jobs(self):
        return json.loads(self.reco("jobs", "--json", "--limit", "0").stdout)

    def running_job(self, timeout=60):
        """The newest job once its record shows training progress (fraction > 0)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            jobs = [j for j in self.jobs() if j["state"] == "InProgress"]
            if jobs and (jobs[0].get("progress") or {}).get("fraction", 0) > 0:
                return jobs[0]
            time.sleep(0.1)
        self.fail("no job showed progress within %d s: %s" % (timeout, self.jobs()[:1]))

    def assert_nothing_written(self, model, table):
        self.assertFalse(os.path.exists(os.path.join(self.home, "models", model)), "a version was published")
        self.assertEqual(self.query("select count(*) as n from sqlite_schema where name = '%s'" % table), [{"n": 0}])

    def wait_exit(self, p, since, limit=3.0):
        """Waits for p; returns (seconds since `since`, stdout, stderr)."""
        out, err = p.communicate(timeout=60)
        took = time.time() - since
        self.assertLess(took, limit, "took %.2f s to stop" % took)
        return took, out or "", err or ""

    def test_progress_reaches_the_record_and_cancel_stops_the_job(self):
        p = self.start("--quiet", "train", "--input", "ratings", "--output", "recs", "--model", "slow", *SLOW)
        first = self.running_job()
        progress = first["progress"]
        self.assertEqual(progress["step"], "cross-validation + fit")
        self.assertEqual((progress["unit"], progress["total"]), ("fits", 6))
        for key in ("fraction", "eta_s", "rate", "detail", "elapsed_s"):
            self.assertIn(key, progress)
        self.assertRegex(progress["detail"], r"(fold \d|fit on all ratings): epoch \d+/400, train RMSE \d\.\d{4}")
        # It advances while the job runs (the record is rewritten about once a second).
        deadline = time.time() + 20
        while time.time() < deadline:
            later = self.reco("jobs", "show", first["id"], "--json").stdout
            if json.loads(later)["progress"]["fraction"] > progress["fraction"]:
                break
            time.sleep(0.2)
        else:
            self.fail("progress did not advance")
        since = time.time()
        out = self.reco("jobs", "cancel", first["id"]).stdout
        self.assertIn("cancel requested", out)
        took, _, _ = self.wait_exit(p, since)
        print("test_progress: reco jobs cancel -> exit in %.2f s" % took)
        self.assertEqual(p.returncode, 130)
        job = json.loads(self.reco("jobs", "show", first["id"], "--json").stdout)
        self.assertEqual(job["state"], "Cancelled")
        self.assertIn("requested by `reco jobs cancel`", job["failure"])
        self.assert_nothing_written("slow", "recs")
        # Cancelling it again, or a job that does not exist: clear errors.
        again = self.reco("jobs", "cancel", first["id"], check=False)
        self.assertEqual(again.returncode, 65)
        self.assertIn("already finished (Cancelled", again.stderr)
        unknown = self.reco("jobs", "cancel", "job-nope", check=False)
        self.assertEqual(unknown.returncode, 66)
        self.assertIn("no job with id 'job-nope'", unknown.stderr)
        # --follow on a finished job prints it and says by its status that it did not complete.
        follow = self.reco("jobs", "show", first["id"], "--follow", check=False)
        self.assertEqual(follow.returncode, 1)
        self.assertIn("Cancelled", follow.stdout)

    def test_ctrl_c_in_train_and_in_sql(self):
        p = self.start("train", "--input", "ratings", "--output", "recs", "--model", "slow", *SLOW,
                       stderr=subprocess.PIPE)
        self.running_job()
        since = time.time()
        p.send_signal(signal.SIGINT)
        _, _, err = self.wait_exit(p, since)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn("cancelled: interrupted (Ctrl-C)", err)
        # Not a terminal: plain progress lines.
        self.assertIn("cross-validation + fit", err)
        self.assertEqual(self.jobs()[0]["state"], "Cancelled")
        self.assert_nothing_written("slow", "recs")

        options = json.dumps({"model": "slow-sql", "params": {"n_epochs": 400, "n_factors": 50}})
        p = self.start("sql", "-c", "select train_and_get_recommendations('ratings', 'sql_recs', '%s')" % options,
                       "-c", "select 'never run'", stderr=subprocess.PIPE)
        self.running_job()
        since = time.time()
        p.send_signal(signal.SIGINT)
        _, out, err = self.wait_exit(p, since)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cancelled: interrupted (Ctrl-C)", err)
        self.assertNotIn("never run", out)
        self.assertEqual(self.jobs()[0]["state"], "Cancelled")
        self.assert_nothing_written("slow-sql", "sql_recs")

    def test_follow_and_delete_over_http(self):
        server = self.serve(self.home)
        batch = {"sf-external-function-query-batch-id": "slow-%d" % os.getpid()}
        options = json.dumps({"model": "slow-http", "params": {"n_epochs": 400, "n_factors": 50}})
        r = server.post_json("/train", {"data": [[0, "ratings", "http_recs", options]]}, batch)
        self.assertEqual(r.status, 202, r)
        job_id = r.json()["jobs"][0]["job"]
        seen = server.wait_until(
            lambda: (lambda j: j if (j.get("progress") or {}).get("fraction", 0) > 0 else None)(
                server.request("GET", "/jobs/" + job_id).json()),
            timeout=60, what="progress in GET /jobs/{id}")
        self.assertEqual(seen["state"], "InProgress")
        self.assertIn("eta_s", seen["progress"])
        # `reco jobs show --follow` follows it from another process until it ends.
        follower = self.start("jobs", "show", job_id, "--follow", stderr=subprocess.PIPE)
        time.sleep(1.0)
        since = time.time()
        d = server.request("DELETE", "/jobs/" + job_id)
        self.assertEqual(d.status, 202, d)
        self.assertTrue(d.json()["cancel_requested"])
        done = server.wait_until(
            lambda: (lambda j: j if j["state"] != "InProgress" else None)(
                server.request("GET", "/jobs/" + job_id).json()),
            timeout=10, what="the job to stop")
        self.assertLess(time.time() - since, 3.0)
        self.assertEqual(done["state"], "Cancelled")
        self.assertIn("requested by DELETE /jobs/", done["failure"])
        out, err = follower.communicate(timeout=30)
        self.assertEqual(follower.returncode, 1)
        self.assertIn("cross-validation + fit", err)
        self.assertIn("Cancelled", out)
        # The external-function poll reports it, naming the row.
        polled = server.request("GET", "/train", headers=batch)
        self.assert_error(polled, 400, "row 0", "was cancelled")
        self.assert_error(server.request("DELETE", "/jobs/" + job_id), 409, "already finished")
        self.assert_error(server.request("DELETE", "/jobs/job-nope"), 404, "no job with id")
        self.assert_nothing_written("slow-http", "http_recs")
        server.stop()


if __name__ == "__main__":
    recotest.main()
