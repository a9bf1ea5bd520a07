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

    def test_a_last_n_split_reads_the_timestamps_as_sqlite_does(self):
        folder = os.path.join(self.home, "small")
        self.reco("generate", "movielens", folder, "--users", "60", "--items", "80", "--ratings", "2000", "--seed",
                  "3", db="sqlite")
        self.reco("load", "movielens", folder)
        self.reco("load", "movielens", folder, db="sqlite")
        args = ["evaluate", "--input", "ratings", "--split", "last_n", "--test-n", "2", "--ranking-k", "0", "--json"]
        pg = json.loads(self.reco(*args).stdout)
        lite = json.loads(self.reco(*args, db="sqlite").stdout)
        self.assertEqual(pg["cv"]["rmse"], lite["cv"]["rmse"])
        # A timestamp-typed column counts in epoch seconds.
        self.psql("create table timed as select userid, movieid, rating, "
                  "to_timestamp(timestamp) as ts from ratings order by userid, movieid")
        self.psql("create table plain as select userid, movieid, rating, timestamp as ts from ratings "
                  "order by userid, movieid")
        timed = json.loads(self.reco("evaluate", "--input", "timed", "--split", "last_n", "--test-n", "2",
                                     "--ranking-k", "0", "--json").stdout)
        plain = json.loads(self.reco("evaluate", "--input", "plain", "--split", "last_n", "--test-n", "2",
                                     "--ranking-k", "0", "--json").stdout)
        self.assertEqual(timed["cv"]["rmse"], plain["cv"]["rmse"])
        self.psql("create table texty as select userid, movieid, rating, 'x'::text as ts from ratings")
        p = self.reco("evaluate", "--input", "texty", "--split", "last_n", check=False)
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("row 1: column ts is 'x', expected a number (a timestamp)", p.stderr)

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

            # The console's warehouse routes on PostgreSQL: tables, and the read-only query box.
            t = server.request("GET", "/warehouse/tables").json()
            self.assertEqual((t["backend"], t["location"]),
                             ("postgresql", "postgresql://127.0.0.1:%s/%s" % (self.ENV["PGPORT"], self.db)))
            by_name = {x["name"]: x for x in t["tables"]}
            self.assertEqual(by_name["served_recs"]["rows"], users)
            self.assertNotIn("_reco_publications", by_name)
            self.assertEqual([c["name"] for c in by_name["served_recs"]["columns"]],
                             ["userid", "top_10_recommendations"])

            def query(sql, limit=None):
                body = {"sql": sql} if limit is None else {"sql": sql, "limit": limit}
                return server.request("POST", "/warehouse/query", json.dumps(body), {"Content-Type": "application/json"})
            self.psql("create sequence s")
            r = query("select userid, top_10_recommendations from served_recs order by userid", 5)
            self.assertEqual(r.status, 200, r)
            self.assertEqual((len(r.json()["rows"]), r.json()["truncated"]), (5, True))
            for sql, fragment in [("delete from served_recs", "only reads: DELETE"),
                                  ("select 1; drop table served_recs", "one statement at a time"),
                                  ("begin", "only reads: BEGIN"),
                                  ("with d as (delete from served_recs returning 1) select * from d",
                                   "data-modifying"),
                                  ("select nextval('s')", "read-only transaction")]:
                r = query(sql)
                self.assertEqual(r.status // 100, 4, (sql, r))
                self.assertIn(fragment, r.text(), sql)
            self.assertEqual(self.psql("select count(*) from served_recs").stdout.strip(), str(users))
            # What the read-only transaction lets through is rolled back, never committed.
            self.assertEqual(query("select lo_create(0)").status, 200)
            self.assertEqual(self.psql("select count(*) from pg_largeobject_metadata").stdout.strip(), "0")
            # The user explorer reads the user's ratings and the titles from PostgreSQL.
            model = self.psql("select model from _reco_publications").stdout.strip()
            d = server.post_json("/deploy", {"data": [[0, "web", "models:/%s/1" % model]]})
            self.assertEqual(d.status, 200, d)
            u = server.request("GET", "/endpoints/web/users/1").json()
            self.assertEqual((u["ratings_table"], u["notes"]), ("ratings", []))
            self.assertEqual(len(u["rated"]), int(self.psql("select count(*) from ratings where userid = 1").stdout))
            first = u["recommendations"][0]
            self.assertEqual(first["title"], self.psql("select title from movies where movieid = %d" %
                                                       first["item"]).stdout.strip())
            r = query("select pg_sleep(30)")
            self.assertIn("stopped after 5 s", r.text())
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
