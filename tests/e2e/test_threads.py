"""Both cores without changing results (issue 14): `reco train` and `reco evaluate` with 1, 2
and 3 threads give byte-identical model artifacts, output tables and CV numbers, in Surprise's
sequential order (folds side by side, the refit beside them) and with the block schedule
(parallel=on: some folds split over threads)."""
import hashlib
import json
import os

import recotest


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# created_at comes from it: whole artifacts are then comparable.
FIXED_TIME = {"SOURCE_DATE_EPOCH": "1700000000"}


class Threads(recotest.RecoTestCase):
    def setUp(self):
        super().setUp()
        data = os.path.join(self.home, "generated")
        self.reco("generate", "movielens", data, "--users", "120", "--items", "300", "--ratings",
                  "12000", "--seed", "4")
        self.reco("load", "movielens", data)

    def check_mode(self, parallel):
        artifacts, tables, cvs, evals = set(), set(), set(), set()
        for threads in ("1", "2", "3"):
            model = f"m-{parallel}-{threads}"
            out = f"recs_{parallel}_{threads}"
            r = json.loads(self.reco("train", "--input", "ratings", "--output", out, "--model", model,
                                     "--set", f"parallel={parallel}", "--set", "n_epochs=5",
                                     "-j", threads, "--json", env=FIXED_TIME).stdout)
            artifacts.add(digest(os.path.join(self.home, "models", model, "v1", "model.reco")))
            rows = self.query(f"select USERID, TOP_10_RECOMMENDATIONS from {out} order by USERID")
            self.assertEqual(len(rows), 120)
            tables.add(json.dumps(rows))
            cvs.add((r["rmse"], r["mae"]))
            e = json.loads(self.reco("evaluate", "--input", "ratings", "--set", f"parallel={parallel}",
                                     "--set", "n_epochs=5", "-j", threads, "--json").stdout)
            evals.add(json.dumps(e["cv"], sort_keys=True))
            self.assertEqual((e["rmse"], e["mae"]), (r["rmse"], r["mae"]))
        self.assertEqual(len(artifacts), 1, "model artifacts differ between thread counts")
        self.assertEqual(len(tables), 1, "output tables differ between thread counts")
        self.assertEqual(len(cvs), 1)
        self.assertEqual(len(evals), 1, "per-fold CV numbers differ between thread counts")

    def test_sequential_order(self):
        self.check_mode("off")

    def test_block_schedule(self):
        self.check_mode("on")

    def test_the_refit_is_the_standalone_fit(self):
        # Beside the folds or alone (--folds 0), the published model gives the same top-10 and
        # the same predictions (its artifact differs only by the CV numbers in its metadata;
        # the unit tests compare the factors bit for bit).
        self.reco("train", "--input", "ratings", "--model", "with-cv", "--output", "with_cv", "-j", "2")
        self.reco("train", "--input", "ratings", "--model", "no-cv", "--output", "no_cv", "--folds", "0",
                  "-j", "2")
        self.assertEqual(self.query("select * from with_cv order by USERID"),
                         self.query("select * from no_cv order by USERID"))
        pairs = self.query("select USERID as u, MOVIEID as i from ratings order by 1, 2 limit 50")
        predictions = {}
        for model in ("with-cv", "no-cv"):
            query = " union all ".join(
                f"select invoke_model('{model}', {p['u']}, {p['i']}) as p" for p in pairs)
            self.sql(f"select deploy_model('{model}', 'models:/{model}')")
            predictions[model] = self.query(query)
        self.assertEqual(len(predictions["no-cv"]), 50)
        self.assertTrue(all(isinstance(r["p"], float) for r in predictions["no-cv"]), predictions["no-cv"][:3])
        self.assertEqual(predictions["with-cv"], predictions["no-cv"])


if __name__ == "__main__":
    recotest.main()
