"""The web console in a real browser: Debian's Chromium, headless, driven by puppeteer-core
(tests/browser/console.test.mjs) against a real `reco serve` with a token, on ml-latest-small.

Prepares the home (three versions of one model, an endpoint, a movie title and a table name with
HTML in them, a training job running in another process), then runs the browser script with what
the pages must show, and checks its verdict. Screenshots go to $RECO_ARTIFACTS (default:
<build>/test-artifacts/console)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import unittest

from recotest import MOVIELENS, RECO, SKIP, require_movielens
from test_serve import ServeTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER_DIR = os.path.join(os.path.dirname(HERE), "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TOKEN = "console-test-token-0123456789"
HTML_TITLE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
HTML_TABLE = "<img src=x onerror=alert(1)>"


def require_browser():
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append("Chromium (%s; Debian package chromium)" % CHROMIUM)
    if not shutil.which("node"):
        missing.append("node")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "puppeteer-core")):
        missing.append("puppeteer-core (npm ci --prefix tests/browser)")
    if not missing:
        return
    message = "browser tests need: " + ", ".join(missing) + " (make test installs them)"
    if os.environ.get("RECO_REQUIRE_BROWSER") == "1":
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)
    print("SKIPPED: " + message, file=sys.stderr)
    sys.exit(SKIP)


class ConsoleInBrowser(ServeTestCase):
    def run_reco(self, home, *args, check=True):
        env = dict(os.environ, RECO_HOME=home)
        env.pop("RECO_DB", None)
        p = subprocess.run([RECO, "--quiet", *args], capture_output=True, text=True, env=env, timeout=600)
        if check and p.returncode != 0:
            self.fail("reco %s failed (%d):\n%s" % (" ".join(args), p.returncode, p.stderr))
        return p

    def rows(self, home, sql):
        out = self.run_reco(home, "sql", "--mode", "json", "-c", sql).stdout.strip()
        return json.loads(out) if out else []

    def test_console(self):
        home = self.fresh_home()
        self.run_reco(home, "load", "movielens", MOVIELENS)
        # Version 2 comes from a search, so its page shows the table of settings tried.
        self.run_reco(home, "train", "--input", "ratings", "--output", "recs", "--model", "films", "--seed", "1",
                      "--set", "n_factors=10")
        self.run_reco(home, "tune", "--input", "ratings", "--output", "recs", "--model", "films", "--seed", "2",
                      "--param", "n_factors=40,41")
        self.run_reco(home, "train", "--input", "ratings", "--output", "recs", "--model", "films", "--seed", "3",
                      "--set", "n_factors=5")
        self.run_reco(home, "endpoints", "deploy", "web", "models:/films/1")
        user = 1
        # A title with HTML in it, on a movie user 1 rated; a table whose name is HTML.
        target = self.rows(home, "select movieid from ratings where userid = %d order by movieid limit 1" % user)[0]
        self.run_reco(home, "sql", "-c", "update movies set title = '%s' where movieid = %d"
                      % (HTML_TITLE.replace("'", "''"), target["movieid"]),
                      "-c", 'create table "%s" (a integer)' % HTML_TABLE)
        rated = self.rows(home, "select m.title from ratings r join movies m using (movieid) where r.userid = %d "
                                "order by r.rating desc, r.rowid limit 5" % user)
        # A task with one run (daily: the server will not run it during the test).
        self.run_reco(home, "tasks", "create", "nightly", "--schedule", "1 DAY", "--sql",
                      "select count(*) from ratings")
        self.run_reco(home, "tasks", "run", "nightly")
        jobs = json.loads(self.run_reco(home, "jobs", "--json").stdout)
        completed = [j["id"] for j in jobs if j["state"] == "Completed"][0]

        server = self.serve(home, "--token", TOKEN)
        auth = {"Authorization": "Bearer " + TOKEN}
        top = server.request("GET", "/endpoints/web/users/%d" % user, headers=auth).json()
        # The top-10 the page must show: what the endpoint recommends after the redeploy to v2.
        payload = "1,1\n1,2\n2,3\n"

        # A training job in another process, long enough to watch and cancel.
        env = dict(os.environ, RECO_HOME=home)
        runner = subprocess.Popen([RECO, "--quiet", "train", "--input", "ratings", "--model", "slow", "--set",
                                   "n_epochs=5000"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(lambda: runner.poll() is None and os.killpg(runner.pid, signal.SIGKILL))
        running = server.wait_until(
            lambda: [j["id"] for j in server.request("GET", "/jobs", headers=auth).json()["jobs"]
                     if j["state"] == "InProgress" and j.get("progress", {}).get("fraction") is not None],
            timeout=60, what="the slow job to report progress")[0]

        # The explorer's titles after the redeploy (v2): ask the API the page uses, once v2 serves.
        v2_top = self.expected_top(home, user)
        scenario = {
            "endpoint": "web", "model": "films", "user": user, "redeploy_version": 2, "deleted_version": 3,
            "payload": payload, "running_job": running, "completed_job": completed,
            "rated_titles": [r["title"] for r in rated], "top_titles": v2_top, "html_title": HTML_TITLE,
            "html_table": HTML_TABLE, "n_ratings": 100836, "task": "nightly",
        }
        self.assertEqual(len(top["recommendations"]), 10)
        artifacts = os.environ.get("RECO_ARTIFACTS") or os.path.join(os.path.dirname(RECO), "test-artifacts",
                                                                     "console")
        shutil.rmtree(artifacts, ignore_errors=True)
        node_env = dict(os.environ, RECO_URL=server.url, RECO_TOKEN=TOKEN, RECO_SCENARIO=json.dumps(scenario),
                        RECO_ARTIFACTS=artifacts, RECO_BIN=RECO, RECO_HOME=home, CHROMIUM=CHROMIUM)
        p = subprocess.run(["node", os.path.join(BROWSER_DIR, "console.test.mjs")], cwd=BROWSER_DIR, env=node_env,
                           capture_output=True, text=True, timeout=300)
        print(p.stdout, file=sys.stderr)
        self.assertEqual(p.returncode, 0, "browser checks failed (screenshots in %s):\n%s\n%s"
                         % (artifacts, p.stdout[-3000:], p.stderr[-3000:]))
        self.assertTrue(os.path.exists(os.path.join(artifacts, "explorer.png")))

        # The job cancelled from the page ended as Cancelled, and published nothing.
        self.assertEqual(runner.wait(timeout=30), 130)
        job = json.loads(self.run_reco(home, "jobs", "show", running, "--json").stdout)
        self.assertEqual(job["state"], "Cancelled")
        self.assertEqual(self.run_reco(home, "models", "slow", check=False).returncode, 66)

    def expected_top(self, home, user):
        """Titles of user's top-10 from models:/films/2, as `reco recommend` ranks them."""
        out = self.run_reco(home, "recommend", "--model", "films", "--version", "2", "--user", str(user),
                            "--json").stdout
        titles = [r["title"] for r in json.loads(out)["recommendations"]]
        self.assertEqual(len(titles), 10, out)
        return titles

if __name__ == "__main__":
    require_movielens()
    require_browser()
    unittest.main(verbosity=2)
