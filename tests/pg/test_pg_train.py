"""`reco train` on PostgreSQL: the recommendations table equals SQLite's for the same seed (on
ml-latest-small: 610 users x 10 distinct unrated items), and `reco serve --db postgresql://...`
answers /train over HTTP by reading and writing the same database."""
import json
import os
import sys
import unittest

import pgtest

ENV = pgtest.cluster_env()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import test_serve  # noqa: E402  (Serve: a reco serve process on a free port)


def recommendations(rows):
    """{user: [items]} from the rows of `select USERID, TOP_10_RECOMMENDATIONS ...` (any key case)."""
    out = {}
    for r in rows:
        values = list(r.values())
        items = values[1] if isinstance(values[1], list) else json.loads(values[1])
        out[int(values[0])] = items
    return out


class TrainTest(pgtest.PgTestCase):
    def test_recommendations_equal_sqlite(self):
        folder = self.ratings_folder()
        self.reco("load", "movielens", folder)
        self.reco("load", "movielens", folder, db="sqlite")
        args = ["train", "--input", "%s.PUBLIC.ratings" % self.db.upper(), "--output", "recs", "-k", "0",
                "--seed", "7"]
        # The database part of the guide's three-part name folds like PostgreSQL's names do.
        self.reco(*args)
        self.reco("train", "--input", "MOVIELENS.PUBLIC.ratings", "--output", "recs", "-k", "0", "--seed", "7",
                  db="sqlite")
        sql = "select USERID, TOP_10_RECOMMENDATIONS from recs order by USERID"
        pg = recommendations(self.rows(sql))
        lite = recommendations(self.rows(sql, db="sqlite"))
        self.assertEqual(pg, lite)
        rated = {}
        for r in self.rows("select userId, movieId from ratings"):
            u, i = list(r.values())
            rated.setdefault(int(u), set()).add(int(i))
        self.assertEqual(set(pg), set(rated))
        for user, items in pg.items():
            self.assertEqual(len(items), 10)
            self.assertEqual(len(set(items)), 10)
            self.assertFalse(set(items) & rated[user], user)
        if pgtest.movielens_available():
            self.assertEqual(len(pg), 610)
        # In psql the guide's column names need no quotes; the list is jsonb.
        self.assertEqual(self.psql("select jsonb_array_length(top_10_recommendations) from recs "
                                   "order by userid limit 1").stdout.strip(), "10")
        # models/recommend are unchanged: the registry is the home's, titles come from PostgreSQL.
        self.assertIn("ratings", self.reco("models").stdout)
        rec = json.loads(self.reco("recommend", "-m", "ratings", "-u", "1", "--json").stdout)
        self.assertEqual([r["movieid"] for r in rec["recommendations"]], pg[1])
        titles = {r["movieid"]: r["title"] for r in rec["recommendations"]}
        first = pg[1][0]
        self.assertEqual(titles[first], self.psql("select title from movies where movieid = %d" % first).stdout.strip())

    def test_serve_train_route_writes_the_output_table(self):
        folder = self.ratings_folder()
        self.reco("load", "movielens", folder)
        server = test_serve.Serve(self.home, "--db", self.url(), env=self.environment())
        try:
            batch = {"sf-external-function-query-batch-id": "pg-train-%d" % os.getpid()}
            body = {"data": [[0, "%s.PUBLIC.ratings" % self.db, "served_recs", json.dumps({"folds": 0})]]}
            r = server.post_json("/train", body, batch)
            self.assertIn(r.status, (200, 202), r)
            r = server.wait_until(
                lambda: (lambda p: p if p.status != 202 else None)(server.request("GET", "/train", headers=batch)),
                timeout=120, what="training to finish")
            self.assertEqual(r.status, 200, r)
            users = int(self.psql("select count(distinct userid) from ratings").stdout)
            self.assertEqual(self.psql("select count(*) from served_recs").stdout.strip(), str(users))
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
