"""Blend (linear stacking, issue 11 part 5) through the CLI, SQL and an endpoint, on generated data:
at least as accurate as its bases on the same folds, reproducible from the seed, deployable, and
refusing bad base lists."""
import json
import os

import recotest
from recotest import RecoTestCase


class Blend(RecoTestCase):
    def setUp(self):
        super().setUp()
        data = os.path.join(self.home, "data")
        self.reco("generate", "movielens", data, "--users", "150", "--items", "200", "--ratings", "9000", "--seed",
                  "4")
        self.reco("load", "movielens", data)

    def evaluate(self, *args):
        return json.loads(self.reco("evaluate", "--input", "ratings", "--ranking-k", "0", "--json", *args).stdout)

    def test_as_accurate_as_its_bases_and_reproducible(self):
        bases = "baseline,svd(n_factors=10;n_epochs=30)"
        baseline = self.evaluate("--algo", "baseline")["rmse"]
        svd = self.evaluate("--algo", "svd", "--set", "n_factors=10", "--set", "n_epochs=30")["rmse"]
        blend = self.evaluate("--algo", "blend", "--set", "algorithms=" + bases)
        self.assertLessEqual(blend["rmse"], min(baseline, svd) + 0.002, (baseline, svd, blend["rmse"]))
        self.assertEqual(self.evaluate("--algo", "blend", "--set", "algorithms=" + bases)["cv"]["rmse"],
                         blend["cv"]["rmse"])

    def test_sql_train_deploy_invoke_and_the_artifact(self):
        options = json.dumps({"algorithm": "blend", "folds": 0,
                              "params": {"algorithms": "baseline,svd(n_factors=5)", "blend_folds": 3}})
        self.sql("select train_and_get_recommendations('ratings', 'recs', '%s')" % options)
        rows = self.query("select count(*) as n from recs")
        self.assertEqual(rows[0]["n"], 150)
        shown = json.loads(self.reco("models", "show", "ratings", "--json").stdout)
        self.assertEqual(shown["run"]["algorithm"], "blend")
        self.sql("select deploy_model('b', 'models:/ratings')")
        user, item = self.query("select userid, movieid from ratings limit 1")[0].values()
        via_sql = self.query("select invoke_model('b', %d, %d) as p" % (user, item))[0]["p"]
        via_cli = json.loads(self.reco("predict", "--model", "ratings", str(user), str(item), "--json").stdout)
        self.assertAlmostEqual(via_sql, via_cli["prediction"], places=5)
        top = json.loads(self.reco("recommend", "--model", "ratings", "--user", str(user), "--json").stdout)
        self.assertEqual(len(top["recommendations"]), 10)
        p = self.sql("select recommend_for('b', '[[%d, 4]]')" % item, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("fold-in is not available for blend models", p.stderr)

    def test_bad_base_lists(self):
        for value, needle in (("svd", "1 base algorithms in 'svd'; a blend takes 2 to 8"),
                              ("svd,knn_nope", "'knn_nope'"),
                              ("svd,blend", "cannot contain another blend"),
                              ("svd(n_trees=3),baseline", "n_trees")):
            p = self.reco("evaluate", "--input", "ratings", "--algo", "blend", "--set", "algorithms=" + value,
                          check=False)
            self.assertEqual(p.returncode, 64, (value, p.stderr))
            self.assertIn(needle, p.stderr)


if __name__ == "__main__":
    recotest.main()
