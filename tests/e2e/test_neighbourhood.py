#!/usr/bin/env python3
"""The neighbourhood models (issue 11 part 1: knn_* and slope_one) through every entry point:
trained from the CLI and from SQL, published, deployed with deploy_model, predicted with
invoke_model and /invocations, ranked with recommend, and folded in with recommend_for (an
item-based knn model or a slope one model gives a training user's own ratings exactly their list;
a user-based one refuses, saying why). Generated data: no MovieLens needed."""
import json
import tempfile

import recotest
from recotest import HomeQueries, generated_home
from test_serve import ServeTestCase


class Neighbourhood(HomeQueries, ServeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="reco-knn-")
        cls.home = generated_home(cls.tmp.name, users=80, items=120, ratings=3000, seed=11)
        cls.run_reco("train", "--input", "ratings", "--output", "knn_out", "--model", "knn", "--folds", "2",
                     "--algo", "knn_baseline", "--set", "similarity=pearson_baseline", "--set", "user_based=false",
                     "--set", "k=20")
        cls.run_reco("train", "--input", "ratings", "--model", "ub", "--folds", "0", "--algo", "knn_with_means")
        p = cls.run_reco("sql", "--mode", "json", "-c", "select train_and_get_recommendations('ratings', 'so_out', "
                         "'{\"algorithm\": \"slope_one\", \"folds\": 2, \"model\": \"so\"}') as r")
        result = json.loads(p.stdout)[0]["r"]
        cls.slope_one_result = json.loads(result) if isinstance(result, str) else result
        cls.run_reco("endpoints", "deploy", "ub", "models:/ub")


    def test_trained_published_and_recorded(self):
        shown = json.loads(self.run_reco("models", "show", "knn", "--json").stdout)["metadata"]
        self.assertEqual(shown["algorithm"], "knn_baseline")
        self.assertEqual(shown["hyperparameters"]["k"], 20)
        self.assertEqual(shown["hyperparameters"]["similarity"], "pearson_baseline")
        self.assertEqual(self.sql("select count(*) as n from knn_out")["n"], 80)
        self.assertLess(self.slope_one_result["rmse"], 1.2)
        so = json.loads(self.run_reco("models", "show", "so", "--json").stdout)["metadata"]
        self.assertEqual(so["algorithm"], "slope_one")

    def test_deployed_invoked_ranked_and_folded_in(self):
        self.sql("select deploy_model('so', 'models:/so') as r")
        self.sql("select deploy_model('knn', 'models:/knn') as r")
        user = self.sql("select userid from ratings group by 1 having count(*) between 20 and 60 limit 1")["userid"]
        ratings = self.user_ratings(user)
        for endpoint in ("knn", "so"):
            p = self.sql("select invoke_model('%s', %d, %d) as r" % (endpoint, user, ratings[0][0]))["r"]
            self.assertTrue(0.5 <= p <= 5.0, p)
            top = self.value("select recommend('%s', %d, 10) as r" % (endpoint, user))
            self.assertEqual(len(top), 10)
            folded = self.value("select recommend_for('%s', '%s', 10) as r" % (endpoint, json.dumps(ratings)))
            self.assertEqual((folded["used"], folded["fallback"]), (len(ratings), False))
            self.assertEqual([r["item"] for r in folded["recommendations"]], top, endpoint)
        server = self.serve(self.home)
        r = server.post_json("/endpoints/so/invocations", {"instances": [[user, ratings[0][0]]]})
        self.assertEqual(r.status, 200, r)
        r = server.post_json("/endpoints/knn/recommend", {"ratings": ratings, "k": 5})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["recommendations"]), 5)
        r = server.post_json("/endpoints/ub/recommend", {"ratings": ratings, "k": 5})
        self.assertEqual(r.status, 400, r)
        self.assertIn("not available for user-based knn_with_means", r.json()["error"])
        p = self.sql("select recommend_for('ub', '[[1, 4]]')", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("train with user_based=false", p.stderr)


if __name__ == "__main__":
    recotest.main()
