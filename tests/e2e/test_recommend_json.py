#!/usr/bin/env python3
"""`reco recommend` and `reco predict`: --json output, and scores that show the ranking (the
unclipped score beside the clipped prediction, so top items at the top of the scale still show
their order)."""
import json
import os

import recotest


class RecommendJsonTest(recotest.RecoTestCase):
    def setUp(self):
        super().setUp()
        if recotest.movielens_available():
            self.reco("load", "movielens", recotest.MOVIELENS)
        else:
            data = os.path.join(self.home, "generated")
            self.reco("generate", "movielens", data, "--users", "80", "--items", "300", "--ratings", "5000",
                      "--seed", "4")
            self.reco("load", "movielens", data)
        self.reco("train", "--input", "ratings", "-k", "0", "--seed", "1")

    def test_recommend_json_ranks_by_the_unclipped_score(self):
        out = json.loads(self.reco("recommend", "--model", "ratings", "--user", "1", "--json").stdout)
        self.assertEqual(out["user"], 1)
        self.assertTrue(out["known_user"])
        recs = out["recommendations"]
        self.assertEqual([r["rank"] for r in recs], list(range(1, 11)))
        scores = [r["score"] for r in recs]
        self.assertEqual(scores, sorted(scores, reverse=True))
        for r in recs:
            self.assertEqual(r["predicted"], min(max(r["score"], 0.5), 5.0))
            self.assertIsInstance(r["movieid"], int)
            self.assertIsInstance(r["title"], str)
        if recotest.movielens_available():
            # User 1 rates generously: the whole top-10 predicts the top of the scale, and only
            # the score shows the order.
            self.assertEqual({r["predicted"] for r in recs}, {5.0})
            self.assertEqual(len(set(scores)), 10)
            self.assertTrue(all(r["title"] for r in recs))

    def test_recommend_table_shows_the_score_column(self):
        table = self.reco("recommend", "--model", "ratings", "--user", "1", "-k", "3").stdout.splitlines()
        self.assertEqual([c.strip() for c in table[0].split("|")], ["rank", "movieid", "predicted", "score", "title"])
        as_json = json.loads(self.reco("recommend", "--model", "ratings", "--user", "1", "-k", "3",
                                       "--json").stdout)["recommendations"]
        for line, rec in zip(table[2:], as_json):
            cells = [c.strip() for c in line.split("|")]
            self.assertEqual(cells[3], "%.4f" % rec["score"])
            self.assertEqual(cells[2], "%.3f" % rec["predicted"])

    def test_unknown_user_is_said(self):
        p = recotest.subprocess.run([recotest.RECO, "--home", self.home, "recommend", "--model", "ratings",
                                     "--user", "987654321", "--json"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(json.loads(p.stdout)["known_user"])
        self.assertIn("not in the model's training data", p.stderr)

    def test_predict_json_pair_and_file(self):
        one = json.loads(self.reco("predict", "--model", "ratings", "1", "10", "--json").stdout)
        self.assertEqual((one["user"], one["item"]), (1, 10))
        self.assertEqual(one["prediction"], min(max(one["estimate"], 0.5), 5.0))
        text = float(self.reco("predict", "--model", "ratings", "1", "10").stdout)
        self.assertEqual(text, one["prediction"])
        payload = os.path.join(self.home, "payload.csv")
        with open(payload, "w") as f:
            f.write("1,10\n1,987654321\n")
        many = json.loads(self.reco("predict", payload, "--model", "ratings", "--json").stdout)
        self.assertEqual(len(many), 2)
        self.assertEqual(many[0], one)
        self.assertFalse(many[1]["known_item"])
        self.assertTrue(many[1]["known_user"])

    def test_predict_json_bad_input(self):
        p = self.reco("predict", "--url", "http://127.0.0.1:9", payload_path(self), "--json", check=False)
        self.assertEqual(p.returncode, 64)
        self.assertIn("--json is for in-process predictions", p.stderr)
        p = self.reco("predict", "--model", "ratings", "1", "x1", "--json", check=False)
        self.assertEqual(p.returncode, 64)
        self.assertIn("ITEM 'x1' is not an integer id", p.stderr)
        self.assertEqual(p.stdout, "")


def payload_path(test):
    path = os.path.join(test.home, "p.csv")
    with open(path, "w") as f:
        f.write("1,10\n")
    return path


if __name__ == "__main__":
    recotest.main()
