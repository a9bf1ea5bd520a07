"""The ranking models (ials, bpr, ease) and explicit ALS (issue 11 part 2) through the same entry
points as svd: `reco train --algo`, the CV printout (RMSE/MAE n/a for ranking models), artifacts,
`reco predict` (a ranking model's score is not clipped), `reco recommend`, endpoints with
recommend_for (fold-in), determinism from the seed, and bad input. Generated data: no MovieLens
needed."""
import json
import tempfile
import unittest

import recotest
from recotest import HomeQueries, generated_home

SMALL = {
    "als": ["rank=4", "max_iter=3"],
    "ials": ["factors=8", "iterations=3", "regularization=1"],
    "bpr": ["factors=8", "iterations=5", "learning_rate=0.05"],
    "ease": ["lambda=50"],
}


class RankingModels(HomeQueries, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="reco-ranking-models-")
        cls.home = generated_home(cls.tmp.name, users=120, items=200, ratings=6000, seed=8)
        cls.summaries = {}
        for algo, params in SMALL.items():
            args = ["train", "--input", "ratings", "--model", algo, "--algo", algo, "--split", "stratified",
                    "--json"]
            for p in params:
                args += ["--set", p]
            cls.summaries[algo] = json.loads(cls.run_reco(*args).stdout)

    def test_summary_has_ranking_metrics_and_rmse_only_for_rating_models(self):
        for algo, s in self.summaries.items():
            with self.subTest(algo):
                self.assertGreater(s["ndcg@10"], 0.0)
                if algo == "als":
                    self.assertGreater(s["rmse"], 0.0)
                else:
                    self.assertIsNone(s["rmse"])
                    self.assertIsNone(s["mae"])
        table = self.run_reco("evaluate", "--input", "ratings", "--algo", "ease", "--split", "stratified").stdout
        self.assertRegex(table, r"RMSE \(testset\)\s+n/a\s+n/a\s+n/a")
        self.assertRegex(table, r"NDCG@10 \(testset\)\s+0\.\d{4}")

    def test_predict_returns_the_unclipped_score_and_recommend_ranks_by_it(self):
        user = self.sql("select min(userid) as u from ratings")["u"]
        for algo in ("ials", "ease", "bpr"):
            with self.subTest(algo):
                out = json.loads(self.run_reco("recommend", "--model", algo, "--user", str(user), "-k", "5",
                                               "--json").stdout)
                recs = out["recommendations"]
                self.assertEqual(len(recs), 5)
                self.assertEqual([r["predicted"] for r in recs], [r["score"] for r in recs])
                scores = [r["score"] for r in recs]
                self.assertEqual(scores, sorted(scores, reverse=True))
                p = json.loads(self.run_reco("predict", "--model", algo, str(user), str(recs[0]["movieid"]),
                                             "--json").stdout)
                self.assertAlmostEqual(p["prediction"], p["estimate"])
        # An item the user rated scores about 1 under ials (preference 1), an unrelated one near 0:
        # below the 0.5 floor of the rating scale, which a rating model would clip to.
        rated = json.loads(self.run_reco("sql", "--mode", "json", "-c",
                                         "select movieid from ratings where userid = %d" % user).stdout)
        low = min(json.loads(self.run_reco("predict", "--model", "ials", str(user), str(i), "--json").stdout)
                  ["prediction"] for i in (1, 2, 3, 5, 8, 13, 21, 34) if i not in {r["movieid"] for r in rated})
        self.assertLess(low, 0.5)

    def test_same_seed_same_model(self):
        for algo in ("ials", "bpr", "ease"):
            with self.subTest(algo):
                args = ["train", "--input", "ratings", "--model", algo + "_again", "--algo", algo, "--folds", "0"]
                for p in SMALL[algo]:
                    args += ["--set", p]
                self.run_reco(*args)
                a = json.loads(self.run_reco("recommend", "--model", algo, "--user", "1", "-k", "10",
                                             "--json").stdout)["recommendations"]
                b = json.loads(self.run_reco("recommend", "--model", algo + "_again", "--user", "1", "-k", "10",
                                             "--json").stdout)["recommendations"]
                self.assertEqual(a, b)

    def test_fold_in_through_an_endpoint(self):
        for algo in ("ials", "ease", "als"):
            with self.subTest(algo):
                self.run_reco("endpoints", "deploy", algo + "-ep", "models:/" + algo)
                rows = json.loads(self.run_reco(
                    "sql", "--mode", "json", "-c",
                    "select movieid, rating from ratings where userid = 1 limit 8").stdout)
                ratings = [[r["movieid"], r["rating"]] for r in rows] + [[99999999, 4.0]]
                out = self.value("select recommend_for('%s-ep', '%s', 5) as r" % (algo, json.dumps(ratings)))
                self.assertEqual((out["used"], out["ignored"], out["fallback"]), (len(rows), 1, False))
                items = [r["item"] for r in out["recommendations"]]
                self.assertEqual(len(items), 5)
                self.assertFalse(set(items) & {r["movieid"] for r in rows})
        self.run_reco("endpoints", "deploy", "bpr-ep", "models:/bpr")
        p = self.run_reco("sql", "-c", "select recommend_for('bpr-ep', '[[1, 4]]', 5)", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not available for bpr", p.stderr + p.stdout)

    def test_bad_input(self):
        p = self.run_reco("train", "--input", "ratings", "--algo", "ease", "--folds", "0", "--set", "max_memory=1000",
                          check=False)
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("items need a", p.stderr)
        self.assertIn("max_memory", p.stderr)
        p = self.run_reco("train", "--input", "ratings", "--algo", "ials", "--folds", "0", "--set", "n_factors=8",
                          check=False)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("factors", p.stderr)
        p = self.run_reco("tune", "--input", "ratings", "--algo", "bpr", "--split", "stratified", "--param",
                          "factors=4,8", check=False)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("metric rmse does not apply to bpr", p.stderr)


if __name__ == "__main__":
    recotest.main()
