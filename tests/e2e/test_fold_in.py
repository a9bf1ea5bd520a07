"""New users without retraining (issue 11 part 6): recommend_for(endpoint, ratings_json [, k]) in
SQL and POST /endpoints/NAME/recommend over HTTP, for svd and baseline endpoints. A baseline user
folded in from their own training ratings gets exactly their list; bad input gets a precise error.
Generated data: no MovieLens needed."""
import json
import tempfile

import recotest
from recotest import HomeQueries, generated_home
from test_serve import ServeTestCase


class FoldIn(HomeQueries, ServeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="reco-fold-in-")
        cls.home = generated_home(cls.tmp.name, users=120, items=200, ratings=8000, seed=6)
        cls.run_reco("train", "--input", "ratings", "--model", "svd", "--folds", "0", "--set", "n_factors=10")
        cls.run_reco("train", "--input", "ratings", "--model", "base", "--folds", "0", "--algo", "baseline")
        cls.run_reco("endpoints", "deploy", "svd", "models:/svd")
        cls.run_reco("endpoints", "deploy", "base", "models:/base")


    def test_a_folded_in_user_is_the_trained_one(self):
        """Baseline (ALS) ends each epoch with the user step that fold-in solves: a user folded in
        from their training ratings gets exactly the list the model has for them."""
        user = self.sql("select userid from ratings group by 1 having count(*) between 40 and 90 limit 1")["userid"]
        ratings = self.user_ratings(user)
        folded = self.value("select recommend_for('base', '%s', 10) as r" % json.dumps(ratings))
        self.assertEqual((folded["used"], folded["ignored"], folded["fallback"]), (len(ratings), 0, False))
        self.assertEqual([r["item"] for r in folded["recommendations"]],
                         self.value("select recommend('base', %d, 10) as r" % user))
        # The object form gives the same.
        as_object = self.value("select recommend_for('base', '%s', 10) as r"
                               % json.dumps({str(i): r for i, r in ratings}))
        self.assertEqual(as_object["recommendations"], folded["recommendations"])

        svd = self.value("select recommend_for('svd', '%s', 10) as r" % json.dumps(ratings))
        items = [r["item"] for r in svd["recommendations"]]
        self.assertEqual(len(items), 10)
        self.assertFalse(set(items) & {i for i, _ in ratings}, "rated items are never recommended back")
        scores = [r["score"] for r in svd["recommendations"]]
        self.assertEqual(scores, sorted(scores, reverse=True))

    def test_over_http(self):
        server = self.serve(self.home)
        ratings = [[1, 5.0], [2, 1.0], [999999, 4.0]]
        r = server.post_json("/endpoints/svd/recommend", {"ratings": ratings, "k": 3})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual((body["used"] + body["ignored"], len(body["recommendations"])), (3, 3))
        for rec in body["recommendations"]:
            self.assertLessEqual(rec["prediction"], 5.0)
            self.assertGreaterEqual(rec["prediction"], 0.5)
        r = server.post_json("/endpoints/svd/recommend", {"user": 1, "k": 4})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["known"])
        self.assertEqual([x["rank"] for x in r.json()["recommendations"]], [1, 2, 3, 4])
        sql_top = self.sql("select recommend('svd', 1, 4) as r")["r"]
        sql_top = json.loads(sql_top) if isinstance(sql_top, str) else sql_top
        self.assertEqual([x["item"] for x in r.json()["recommendations"]], sql_top)
        for body, status, needle in (({}, 400, "\"user\""), ({"user": 1, "ratings": []}, 400, "\"user\""),
                                     ({"user": "x"}, 400, "user must be an integer"),
                                     ({"user": 1, "k": 0}, 400, "k must be"),
                                     ({"ratings": [[1, 4], [1, 3]]}, 400, "item 1 is rated twice"),
                                     ({"ratings": "nope"}, 400, "ratings must be")):
            r = server.post_json("/endpoints/svd/recommend", body)
            self.assertEqual(r.status, status, (body, r))
            self.assertIn(needle, r.json()["error"], body)
        r = server.post_json("/endpoints/nope/recommend", {"user": 1})
        self.assertEqual(r.status, 404, r)
        fallback = server.post_json("/endpoints/base/recommend", {"ratings": [[999999, 4]]}).json()
        self.assertTrue(fallback["fallback"])
        self.assertIn("none of the 1 rated items is known", fallback["note"])

    def test_sql_errors_and_nulls(self):
        self.assertIsNone(self.sql("select recommend_for('svd', null) as r")["r"])
        self.assertIsNone(self.sql("select recommend_for(null, '[]') as r")["r"])
        for statement, needle in (("select recommend_for('svd', 'not json')", "ratings_json is not valid JSON"),
                                  ("select recommend_for('svd', '[[1, 4]]', 0)", "k must be between 1"),
                                  ("select recommend_for('nope', '[]')", "nope"),
                                  ("select recommend_for('svd', '[[1, 4], [1, 2]]')", "item 1 is rated twice")):
            p = self.sql(statement, check=False)
            self.assertNotEqual(p.returncode, 0, statement)
            self.assertIn("recommend_for", p.stderr)
            self.assertIn(needle, p.stderr)


if __name__ == "__main__":
    recotest.main()
