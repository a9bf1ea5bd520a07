"""Hyperparameter search (issue 11 part 4): `reco tune`, the options JSON "search" in SQL and
over HTTP; the best setting is trained and published, the table of every setting is kept with
the model version; bad search spaces get a precise error. Generated data: no MovieLens needed."""
import json
import tempfile
import unittest

import recotest
from recotest import generated_home, run_in_home
from test_serve import ServeTestCase


class Tune(ServeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="reco-tune-")
        cls.home = generated_home(cls.tmp.name, users=80, items=150, ratings=4000, seed=3)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def reco(self, *args, check=True):
        return run_in_home(self.home, *args, check=check)

    def test_grid_from_the_cli_trains_and_keeps_the_table(self):
        out = self.reco("tune", "--input", "ratings", "--model", "g", "--output", "g_recs", "--param",
                        "n_factors=2,30", "--param", "reg_all=0.02,0.4", "--set", "n_epochs=10").stdout
        self.assertIn("Search (grid, 4 setting(s), metric rmse, lower is better)", out)
        rows = [l for l in out.splitlines() if l.startswith(("* ", "  ")) and l.split()[0][0] in "*0123456789"]
        self.assertEqual(len(rows), 4, out)
        self.assertEqual(sum(1 for r in rows if r.startswith("* ")), 1)
        shown = json.loads(self.reco("models", "show", "g", "--json").stdout)
        search = shown["run"]["search"]
        self.assertEqual(search["method"], "grid")
        self.assertEqual(len(search["settings"]), 4)
        best = search["settings"][search["best"]]
        self.assertEqual(min(s["rmse"] for s in search["settings"]), best["rmse"])
        # The published model is the best setting, and its own CV is that setting's.
        params = shown["metadata"]["hyperparameters"]
        self.assertEqual((params["n_factors"], params["reg_all"]),
                         (best["params"]["n_factors"], best["params"]["reg_all"]))
        self.assertEqual(params["n_epochs"], 10, "a --set outside the search stays")
        self.assertAlmostEqual(shown["run"]["cv"]["mean"]["rmse"], best["rmse"], places=12)
        self.assertEqual(json.loads(self.reco("sql", "--mode", "json", "-c",
                                              "select count(*) as n from g_recs").stdout)[0]["n"], 80)

    def test_random_on_a_ranking_metric_from_sql(self):
        search = {"method": "random", "trials": 3, "metric": "ndcg@10",
                  "params": {"lr_all": {"min": 0.002, "max": 0.02, "log": True}, "n_factors": [5, 20]}}
        r = json.loads(self.reco("sql", "--mode", "json", "-c",
                                 "select train_and_get_recommendations('ratings', 'r_recs', '%s') as r"
                                 % json.dumps({"search": search, "model": "r"})).stdout)[0]["r"]
        r = json.loads(r) if isinstance(r, str) else r
        self.assertEqual(r["search"]["metric"], "ndcg@10")
        self.assertFalse(r["search"]["lower_is_better"])
        settings = r["search"]["settings"]
        self.assertEqual(len(settings), 3)
        self.assertEqual(max(s["ndcg@10"] for s in settings), settings[r["search"]["best"]]["ndcg@10"])
        self.assertIn("search_s", r["timings"])
        # The same seed draws the same settings; evaluate_model runs the same search, publishing nothing.
        e = json.loads(self.reco("sql", "--mode", "json", "-c", "select evaluate_model('ratings', '%s') as e"
                                 % json.dumps({"search": search})).stdout)[0]["e"]
        e = json.loads(e) if isinstance(e, str) else e
        self.assertEqual([x["params"] for x in e["search"]["settings"]], [x["params"] for x in settings])
        self.assertEqual(e["params"]["lr_all"], settings[r["search"]["best"]]["params"]["lr_all"])

    def test_over_http(self):
        server = self.serve(self.home)
        body = {"data": [[0, "ratings", "h_recs", {"model": "h", "search": {"params": {"n_factors": [3, 6]}}}]]}
        headers = {"sf-external-function-query-batch-id": "tune-1"}
        r = server.post_json("/train", body, headers)
        self.assertIn(r.status, (200, 202), r)
        done = server.wait_until(lambda: (lambda x: x if x.status == 200 else None)(
            server.request("GET", "/train", headers=headers)), timeout=120, what="the tuning job")
        result = done.json()["data"][0][1]
        self.assertEqual(len(result["search"]["settings"]), 2)

    def test_bad_searches(self):
        cases = (
            (["--param", "n_factors=10,20", "--metric", "ndcg@5"], "metric ndcg@5 is not reported"),
            (["--param", "n_trees=1,2"], "n_trees is not a parameter of svd"),
            (["--param", "n_factors"], "expected NAME=V1,V2"),
            (["--param", "lr_all=a..b"], "a range is MIN..MAX"),
            (["--param", "lr_all=0.1..0.01", "--method", "random"], "min < max"),
            (["--param", "lr_all=0.01..0.1", "--method", "grid"], "ranges are for method random"),
            (["--param", "n_factors=1,2,3,4,5,6", "--param", "n_epochs=1,2,3,4,5,6", "--param",
              "lr_all=1,2,3,4,5,6", "--param", "reg_all=1,2,3,4,5,6"], "1296 settings (6480 fits with 5 folds)"),
            (["--param", "n_factors=10,20", "--folds", "0"], "search needs cross-validation"),
            (["--param", "n_factors=0,10"], "n_factors"),
        )
        for args, needle in cases:
            p = self.reco("tune", "--input", "ratings", *args, check=False)
            self.assertIn(p.returncode, (64, 65), (args, p.stderr))
            self.assertIn(needle, p.stderr, args)
        p = self.reco("sql", "-c", "select evaluate_model('ratings', '{\"search\": {\"params\": 5}}')", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("search: params must be a non-empty object", p.stderr)
        # None of the refused searches published a model (the default name is the input table's).
        self.assertEqual(self.reco("models", "ratings", check=False).returncode, 66)


if __name__ == "__main__":
    recotest.main()
