#!/usr/bin/env python3
"""One option table, three entry points: every job option and every hyperparameter that
`reco train --list-params --json` lists is accepted, with the same name and the same effect,
by the command line (its own flag and --set), by the SQL function's options JSON and by the
options of POST /train; an unknown name is refused by all three. The README's option tables are
the ones `reco train --list-params --markdown` prints."""
import http.client
import json
import os
import select
import subprocess
import time

import recotest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Values for options without a default; a row added without one here fails the test, on purpose.
SAMPLES = {
    "model": "opt-model",
    "rating_min": 0.5,
    "rating_max": 5.0,
    "user_column": "userid",
    "item_column": "movieid",
    "rating_column": "rating",
    "timestamp_column": "timestamp",
}
# Values that differ from the defaults, so that "took effect" means something.
CHANGED = {"algorithm": "baseline", "folds": 3, "seed": 7, "top_k": 4, "split": "stratified", "test_ratio": 0.2,
           "test_n": 2, "train_files": "u1.base", "test_files": "u1.test", "k": 5, "relevance_threshold": 4.0}
# Hyperparameter values where the generic rule below would give one the training refuses: a
# neighbourhood model's memory limit of 8 bytes, or fewer neighbours kept than k.
PARAM_VALUES = {"memory_limit": 1 << 30, "max_neighbors": 50}


class Server:
    def __init__(self, home):
        env = dict(os.environ)
        env.pop("RECO_TOKEN", None)
        env.pop("RECO_DB", None)
        self.proc = subprocess.Popen([recotest.RECO, "--quiet", "--home", home, "serve", "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("http://"):
            self.close()
            raise AssertionError("reco serve did not start: %r" % line)
        self.host, port = line.strip()[len("http://"):].rsplit(":", 1)
        self.port = int(port)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class OptionTableTest(recotest.RecoTestCase):
    def setUp(self):
        super().setUp()
        gen = os.path.join(self.home, "gen")
        self.reco("generate", "movielens", gen, "--users", "30", "--items", "40", "--ratings", "600", "--seed", "3")
        self.reco("load", "movielens", gen)
        self.listing = json.loads(self.reco("train", "--list-params", "--json").stdout)
        self.server = Server(self.home)
        self.addCleanup(self.server.close)
        self.outputs = 0

    def fresh_output(self):
        self.outputs += 1
        return "out_%d" % self.outputs

    # --- the three entry points; each returns the effective options the job recorded ---

    def via_cli(self, options, params, use_flags):
        args = ["train", "--input", "ratings", "--output", self.fresh_output(), "--json"]
        rows = {r["name"]: r for r in self.listing["job_options"]}
        for name, value in options.items():
            if use_flags:
                args += [rows[name]["flag"], str(value)]
            else:
                args += ["--set", "%s=%s" % (name, value)]
        for name, value in params.items():
            args += ["--set", "%s=%s" % (name, json.dumps(value) if isinstance(value, bool) else value)]
        summary = json.loads(self.reco(*args).stdout)
        return self.recorded_options(summary["job"])

    def via_sql(self, options, params):
        spec = dict(options)
        spec["params"] = params
        text = json.dumps(spec).replace("'", "''")
        rows = self.query("select train_and_get_recommendations('ratings', '%s', '%s') as r"
                          % (self.fresh_output(), text))
        return self.recorded_options(rows[0]["r"]["job"])

    def via_http(self, options, params):
        spec = dict(options)
        spec["params"] = params
        status, body = self.server.request("POST", "/train", json.dumps({"data": [[0, "ratings", self.fresh_output(), spec]]}),
                                           {"Content-Type": "application/json"})
        self.assertEqual(status, 202, body)
        job = body["jobs"][0]["job"]
        deadline = time.monotonic() + 120
        while True:
            status, record = self.server.request("GET", "/jobs/" + job)
            self.assertEqual(status, 200, record)
            if record["state"] != "InProgress":
                break
            self.assertLess(time.monotonic(), deadline, "training job %s did not finish" % job)
            time.sleep(0.05)
        self.assertEqual(record["state"], "Completed", record.get("failure"))
        return record["request"]["options"]

    def recorded_options(self, job):
        return json.loads(self.reco("jobs", "show", job, "--json").stdout)["request"]["options"]

    def value_for(self, row):
        if row["name"] in CHANGED:
            return CHANGED[row["name"]]
        if row["default_value"] is not None:
            return row["default_value"]
        self.assertIn(row["name"], SAMPLES, "option %s has no default and no sample value in this test" % row["name"])
        return SAMPLES[row["name"]]

    def check_everywhere(self, options, params, expect_options, expect_params):
        fast = {} if "folds" in options else {"folds": 2}
        for path, run in (("cli flags", lambda: self.via_cli({**fast, **options}, params, True)),
                          ("cli --set", lambda: self.via_cli({**fast, **options}, params, False)),
                          ("sql", lambda: self.via_sql({**fast, **options}, params)),
                          ("http", lambda: self.via_http({**fast, **options}, params))):
            with self.subTest(path=path, options=options, params=params):
                recorded = run()
                for name, value in expect_options.items():
                    self.assertEqual(recorded[name], value, "%s of %s" % (name, path))
                for name, value in expect_params.items():
                    self.assertEqual(recorded["params"][name], value, "%s of %s" % (name, path))

    def test_every_job_option_through_every_entry_point(self):
        rows = self.listing["job_options"]
        self.assertEqual([r["name"] for r in rows],
                         ["algorithm", "folds", "seed", "model", "rating_min", "rating_max", "user_column",
                          "item_column", "rating_column", "timestamp_column", "top_k", "split", "test_ratio",
                          "test_n", "train_files", "test_files", "k",
                          "relevance_threshold"])
        for row in rows:
            self.assertTrue(row["flag"], row)
            value = self.value_for(row)
            self.check_everywhere({row["name"]: value}, {}, {row["name"]: value}, {})

    def test_every_hyperparameter_through_every_entry_point(self):
        for algorithm in self.listing["algorithms"]:
            for row in algorithm["params"]:
                options = {"algorithm": algorithm["name"]}
                if row["only_when"]:
                    condition, wanted = row["only_when"].split("=")
                    params = {condition: wanted}
                else:
                    params = {}
                value = row["default_value"]
                if isinstance(value, float) and not isinstance(value, bool):
                    value = value / 2 if value else 0.25
                elif row["type"] == "bytes":  # a memory cap: half the default still fits the data
                    value = value // 2
                elif isinstance(value, int) and not isinstance(value, bool):
                    value = max(1, min(value // 2, 8))
                elif row["default_value"] is None:  # derived from another option
                    value = 0.001
                value = PARAM_VALUES.get(row["name"], value)
                params[row["name"]] = value
                self.check_everywhere(options, params, {}, {row["name"]: value})

    def test_unknown_names_are_refused_everywhere(self):
        p = self.reco("train", "--input", "ratings", "--set", "no_such_option=1", check=False)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("unknown svd parameter 'no_such_option'", p.stderr)
        p = self.reco("train", "--input", "ratings", "--no-such-option", "1", check=False)
        self.assertEqual(p.returncode, 64, p.stderr)
        p = self.sql("select train_and_get_recommendations('ratings', 'o', '{\"no_such_option\": 1}')", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("options: unknown key 'no_such_option' (expected algorithm, folds, seed, model, params,",
                      p.stderr)
        status, body = self.server.request("POST", "/train",
                                           json.dumps({"data": [[0, "ratings", "o", {"no_such_option": 1}]]}),
                                           {"Content-Type": "application/json"})
        self.assertEqual(status, 400, body)
        self.assertIn("unknown key 'no_such_option'", body["error"])
        status, body = self.server.request("POST", "/train",
                                           json.dumps({"data": [[0, "ratings", "o", {"params": {"n_factors": 0}}]]}),
                                           {"Content-Type": "application/json"})
        self.assertEqual(status, 400, body)
        self.assertIn("svd parameter n_factors=0 is out of range", body["error"])

    def test_help_and_readme_come_from_the_table(self):
        help_text = self.reco("train", "--help").stdout
        for row in self.listing["job_options"]:
            self.assertIn(row["flag"], help_text)
        markdown = self.reco("train", "--list-params", "--markdown").stdout
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        self.assertIn(markdown, readme, "README.md's option tables differ from `reco train --list-params "
                                        "--markdown`: paste its output into README.md")
        serve_markdown = self.reco("serve", "--list-settings", "--markdown").stdout
        self.assertIn(serve_markdown, readme, "README.md's server settings differ from `reco serve "
                                              "--list-settings --markdown`")


if __name__ == "__main__":
    recotest.main()
