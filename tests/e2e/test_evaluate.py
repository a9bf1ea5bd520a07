"""Evaluation that publishes nothing (issue 14): `reco evaluate`, SQL evaluate_model and
POST /evaluate run training's cross-validation with the same options and report the same
numbers, and leave the home byte for byte as it was, except the job records."""
import hashlib
import json
import os

import recotest
from test_serve import ServeTestCase

BATCH = "sf-external-function-query-batch-id"


def snapshot(home):
    """Every file of the home but the job records, the server's batch records (the polling
    bookkeeping of the external-function protocol) and SQLite's shared-memory index, hashed."""
    out = {}
    for root, dirs, files in os.walk(home):
        rel = os.path.relpath(root, home)
        if rel.split(os.sep)[0] in ("jobs", "serve"):
            continue
        for f in files:
            if f.endswith("-shm"):
                continue
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, home)] = hashlib.sha256(fh.read()).hexdigest()
    return out


class Evaluate(ServeTestCase, recotest.RecoTestCase):
    def setUp(self):
        recotest.RecoTestCase.setUp(self)
        data = os.path.join(self.home, "generated")
        self.reco("generate", "movielens", data, "--users", "60", "--items", "200", "--ratings", "4000",
                  "--seed", "2")
        self.reco("load", "movielens", data)

    def test_cli_sql_and_http_agree_and_publish_nothing(self):
        before = snapshot(self.home)
        cli = json.loads(self.reco("evaluate", "--input", "ratings", "-k", "3", "--seed", "5", "--json").stdout)
        self.assertEqual((cli["folds"], cli["ratings"], cli["algorithm"]), (3, 4000, "svd"))
        self.assertEqual(len(cli["cv"]["rmse"]), 3)
        table = self.reco("evaluate", "--input", "ratings", "-k", "3", "--seed", "5").stdout
        self.assertIn("RMSE (testset)", table)
        self.assertIn("nothing published", table)
        sql = self.query("select evaluate_model('ratings', '{\"folds\": 3, \"seed\": 5}') as r")[0]["r"]
        self.assertAlmostEqual(sql["rmse"], cli["rmse"], places=12)
        server = self.serve(self.home)
        r = server.post_json("/evaluate", {"data": [[0, "ratings", {"folds": 3, "seed": 5}], [1, None]]},
                             {BATCH: "eval-1"})
        self.assertIn(r.status, (200, 202), r)
        done = server.wait_until(
            lambda: (lambda p: p if p.status == 200 else None)(server.request("GET", "/evaluate", headers={BATCH: "eval-1"})),
            timeout=120, what="the evaluation")
        data = done.json()["data"]
        self.assertEqual(data[1], [1, None])
        self.assertAlmostEqual(data[0][1]["rmse"], cli["rmse"], places=12)
        server.stop()
        self.assertEqual(snapshot(self.home), before)
        self.assertFalse(os.path.exists(os.path.join(self.home, "models")))
        kinds = [j["kind"] for j in json.loads(self.reco("jobs", "--json").stdout)]
        self.assertEqual(kinds, ["evaluate"] * 4)
        # The same numbers as training's cross-validation.
        train = json.loads(self.reco("train", "--input", "ratings", "-k", "3", "--seed", "5", "--json").stdout)
        self.assertAlmostEqual(train["rmse"], cli["rmse"], places=12)

    def test_bad_input(self):
        for args, code, message in [
                (["--input", "nope"], 66, "input table 'nope' does not exist"),
                (["--input", "ratings", "-k", "0"], 64, "folds must be 2..100, got 0"),
                (["--input", "ratings", "--set", "method=als"], 64, "unknown svd parameter 'method'"),
                (["--input", "ratings", "--output", "x"], 64, "--output is not an option of reco evaluate"),
        ]:
            r = self.reco("evaluate", *args, check=False)
            self.assertEqual(r.returncode, code, (args, r.stderr))
            self.assertIn(message, r.stderr, args)
        server = self.serve(self.home)
        r = server.post_json("/evaluate", {"data": [[0, "ratings", '{"folds": 1}']]})
        self.assert_error(r, 400, "row 0 (data[0]), argument 2 (options_json)")
        r = server.post_json("/evaluate", {"data": [[0, "ratings; drop", None]]})
        self.assert_error(r, 400, "argument 1 (input_table)")


if __name__ == "__main__":
    recotest.main()
