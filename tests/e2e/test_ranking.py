"""Ranking metrics in every evaluation (issue 11 part 3): the CV printout's ranking rows, the JSON
keys, the options k and relevance_threshold through the CLI, SQL and HTTP, and bad input.
Generated data: no MovieLens needed."""
import json
import os

import recotest
from recotest import RecoTestCase

ROWS = ["Precision@{k} (testset)", "Recall@{k} (testset)", "NDCG@{k} (testset)", "MAP@{k} (testset)",
        "HitRate@{k} (testset)", "Coverage (testset)", "Obscurity (testset)"]
KEYS = ["precision@{k}", "recall@{k}", "ndcg@{k}", "map@{k}", "hitrate@{k}", "coverage", "obscurity"]


class RankingMetrics(RecoTestCase):
    def setUp(self):
        super().setUp()
        data = os.path.join(self.home, "data")
        self.reco("generate", "movielens", data, "--users", "80", "--items", "150", "--ratings", "4000", "--seed", "2")
        self.reco("load", "movielens", data)

    def test_the_cli_prints_and_records_them(self):
        out = self.reco("train", "--input", "ratings", "--model", "r", "--ranking-k", "5").stdout
        lines = out.splitlines()
        header = [l for l in lines if "Fold 1" in l][0]
        # The label column widens to the longest ranking label ("Precision@5 (testset)" + a space).
        self.assertTrue(header.startswith(" " * 22 + "Fold 1"), header)
        labels = [l.split(")")[0] + ")" for l in lines if "(testset)" in l]
        self.assertEqual(labels, ["RMSE (testset)", "MAE (testset)"] + [r.format(k=5) for r in ROWS])
        summary = json.loads(self.reco("train", "--input", "ratings", "--model", "r", "--json").stdout)
        for key in KEYS:
            value = summary[key.format(k=10)]
            self.assertGreaterEqual(value, 0.0)
            self.assertLessEqual(value, 1.0)
        self.assertGreater(summary["ndcg@10"], 0.0)
        self.assertGreater(summary["coverage"], 0.0)
        run = json.loads(self.reco("models", "show", "r/2", "--json").stdout)["run"]
        self.assertEqual(len(run["cv"]["precision@10"]), 5)
        self.assertEqual(run["cv"]["ranking"]["k"], 10)
        self.assertEqual(run["cv"]["ranking"]["relevance_threshold"], 3.5)
        self.assertTrue(all(n > 0 for n in run["cv"]["ranking"]["users"]))

    def test_k_0_skips_them(self):
        out = self.reco("evaluate", "--input", "ratings", "--ranking-k", "0").stdout
        self.assertNotIn("Precision", out)
        self.assertIn("\nRMSE (testset)    ", out)  # Surprise's 18-wide label column
        j = json.loads(self.reco("evaluate", "--input", "ratings", "-k", "3", "--ranking-k", "0", "--json").stdout)
        self.assertNotIn("ndcg@10", j)
        self.assertNotIn("ranking", j["cv"])

    def test_the_threshold_changes_what_is_relevant(self):
        low = json.loads(self.reco("evaluate", "--input", "ratings", "--json", "--relevance-threshold", "1").stdout)
        high = json.loads(self.reco("evaluate", "--input", "ratings", "--json", "--relevance-threshold", "4.5").stdout)
        # Same lists, more relevant items: precision rises with a lower threshold.
        self.assertGreater(low["precision@10"], high["precision@10"])
        self.assertEqual(low["coverage"], high["coverage"])
        self.assertEqual(low["rmse"], high["rmse"])

    def test_sql_and_its_options(self):
        r = self.query("select train_and_get_recommendations('ratings', 'recs', '{\"k\": 3, \"relevance_threshold\": 4}')"
                       " as r")
        result = json.loads(r[0]["r"]) if isinstance(r[0]["r"], str) else r[0]["r"]
        self.assertIn("ndcg@3", result)
        self.assertIn("hitrate@3", result)
        e = self.query("select evaluate_model('ratings') as e")
        result = json.loads(e[0]["e"]) if isinstance(e[0]["e"], str) else e[0]["e"]
        self.assertIn("map@10", result)
        self.assertEqual(len(result["cv"]["recall@10"]), 5)

    def test_a_stratified_split(self):
        out = self.reco("evaluate", "--input", "ratings", "--split", "stratified", "--test-ratio", "0.2").stdout
        self.assertIn("NDCG@10 (testset)", out)
        j = json.loads(self.reco("evaluate", "--input", "ratings", "--split", "stratified", "--json").stdout)
        self.assertEqual(j["folds"], 1)
        self.assertEqual(j["split"], "stratified")
        self.assertEqual(len(j["cv"]["rmse"]), 1)
        r = self.query("select evaluate_model('ratings', '{\"split\": {\"kind\": \"stratified\", "
                       "\"test_ratio\": 0.3}}') as e")
        result = json.loads(r[0]["e"]) if isinstance(r[0]["e"], str) else r[0]["e"]
        self.assertEqual(result["split"], "stratified")
        self.assertIn("precision@10", result)
        # A different ratio is a different split.
        self.assertNotEqual(result["rmse"], j["rmse"])
        summary = json.loads(self.reco("train", "--input", "ratings", "--model", "s", "--split", "stratified",
                                       "--json").stdout)
        self.assertEqual(summary["folds"], 1)
        for options, needle in (('{"split": {"kind": "last_n", "m": 1}}', "unknown key 'm'"),
                                ('{"split": {"kind": "files"}}', "0 train_files and 0 test_files"),
                                ('{"split": {"kind": "last_n", "n": 0}}', "test_n: 0 is out of range"),
                                ('{"split": {"kind": "files", "train_files": [1]}}', "split.train_files must be"),
                                ('{"split": {"kind": "files", "train_files": ["a,b"]}}', "has a comma"),
                                ('{"split": {"kind": "stratified", "test_ratio": 1}}', "test_ratio: 1 is out of range"),
                                ('{"split": "nope"}', "'nope' is not a split kind")):
            p = self.sql("select evaluate_model('ratings', '%s')" % options, check=False)
            self.assertNotEqual(p.returncode, 0, options)
            self.assertIn(needle, p.stderr)

    def test_a_last_n_split_by_timestamp(self):
        # Each user's most recent rating (the generator writes timestamps) is the test set; the CLI and
        # SQL agree.
        j = json.loads(self.reco("evaluate", "--input", "ratings", "--split", "last_n", "--test-n", "1",
                                 "--json").stdout)
        self.assertEqual((j["split"], j["folds"]), ("last_n", 1))
        r = self.query("select evaluate_model('ratings', '{\"split\": {\"kind\": \"last_n\", \"n\": 1}}') as e")
        result = json.loads(r[0]["e"]) if isinstance(r[0]["e"], str) else r[0]["e"]
        self.assertEqual(result["rmse"], j["rmse"])
        # Held-out ratings are the latest: rewriting every other timestamp to be later changes the split.
        self.sql("update ratings set timestamp = timestamp + 1000000000 where rowid % 2 = 0")
        moved = json.loads(self.reco("evaluate", "--input", "ratings", "--split", "last_n", "--json").stdout)
        self.assertNotEqual(moved["rmse"], j["rmse"])
        self.sql("create table notime as select userid, movieid, rating from ratings")
        p = self.reco("evaluate", "--input", "notime", "--split", "last_n", check=False)
        self.assertEqual(p.returncode, 66)
        self.assertIn("has no timestamp column", p.stderr)
        self.sql("update ratings set timestamp = 'soon' where rowid = 3")
        p = self.reco("evaluate", "--input", "ratings", "--split", "last_n", check=False)
        self.assertEqual(p.returncode, 65)
        self.assertIn("row 3: column timestamp is 'soon', expected a number (a timestamp)", p.stderr)

    def test_predefined_folds_from_files(self):
        rows = self.query("select userid, movieid, rating from ratings order by rowid")
        paths = []
        for f in range(2):
            test = rows[f::3]
            train = [r for k, r in enumerate(rows) if k % 3 != f]
            for name, part in (("u%d.base" % (f + 1), train), ("u%d.test" % (f + 1), test)):
                path = os.path.join(self.home, name)
                with open(path, "w") as out:
                    out.writelines("%d\t%d\t%s\t0\n" % (r["userid"], r["movieid"], r["rating"]) for r in part)
                paths.append(path)
        j = json.loads(self.reco("evaluate", "--input", "ratings", "--split", "files", "--train-files",
                                 "%s,%s" % (paths[0], paths[2]), "--test-files", "%s,%s" % (paths[1], paths[3]),
                                 "--json").stdout)
        self.assertEqual((j["split"], j["folds"]), ("files", 2))
        options = json.dumps({"split": {"kind": "files", "train_files": [paths[0], paths[2]],
                                        "test_files": [paths[1], paths[3]]}})
        r = self.query("select evaluate_model('ratings', '%s') as e" % options)
        result = json.loads(r[0]["e"]) if isinstance(r[0]["e"], str) else r[0]["e"]
        self.assertEqual(result["cv"]["rmse"], j["cv"]["rmse"])
        with open(paths[1], "a") as out:
            out.write("99999\t1\t3\t0\n")
        p = self.reco("evaluate", "--input", "ratings", "--split", "files", "--train-files", paths[0],
                      "--test-files", paths[1], check=False)
        self.assertEqual(p.returncode, 65)
        self.assertIn("u1.test', line %d: user 99999 is not in the input table" % (len(rows[0::3]) + 1), p.stderr)

    def test_bad_options(self):
        for args, needle in ((["--ranking-k", "-1"], "k: -1 is out of range"),
                             (["--ranking-k", "abc"], "k: 'abc' is not an integer"),
                             (["--relevance-threshold", "x"], "relevance_threshold: 'x' is not a number"),
                             (["--ranking-k", "500"], "k: 500 is larger than the 150 items")):
            p = self.reco("evaluate", "--input", "ratings", *args, check=False)
            self.assertEqual(p.returncode, 64, (args, p.stderr))
            self.assertIn(needle, p.stderr)
        p = self.sql("select train_and_get_recommendations('ratings', 'o', '{\"k\": 1001}')", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("k: 1001 is out of range", p.stderr)


if __name__ == "__main__":
    recotest.main()
