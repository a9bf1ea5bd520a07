"""`reco load` into PostgreSQL: the same tables as on SQLite (counts and rows), through COPY; text
that COPY treats specially survives; schemas and three-part names."""
import os
import unittest

import pgtest

ENV = pgtest.cluster_env()


class LoadTest(pgtest.PgTestCase):
    def test_movielens_rows_equal_sqlite(self):
        folder = self.ratings_folder()
        self.reco("load", "movielens", folder)
        self.reco("load", "movielens", folder, db="sqlite")
        for sql in ["select count(*) as n from ratings", "select count(*) as n from movies",
                    "select userId, movieId, rating from ratings order by userId, movieId",
                    "select movieId, title, genres from movies order by movieId"]:
            pg = self.rows(sql)
            lite = self.rows(sql, db="sqlite")
            # PostgreSQL folds unquoted names to lower case: compare the values.
            self.assertEqual([list(r.values()) for r in pg], [list(r.values()) for r in lite], sql)
            self.assertGreater(len(pg), 0)
        # The tables are PostgreSQL's own: lower-case names psql users need not quote.
        self.assertEqual(self.psql("select count(*) from ratings where rating > 0").stdout.strip(),
                         str(self.rows("select count(*) as n from ratings", db="sqlite")[0]["n"]))
        self.assertEqual(self.psql("select data_type from information_schema.columns where table_name = "
                                   "'ratings' and column_name = 'userid'").stdout.strip(), "bigint")

    def test_csv_text_copy_treats_specially(self):
        path = os.path.join(self.home, "odd.csv")
        values = ["tab\there", "new\nline", "back\\slash", "\\N", "quote \"q\"", "Amélie, 東京", "cr\rx", ""]
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("id,label,score\n")
            for k, v in enumerate(values):
                f.write('%d,"%s",%s\n' % (k, v.replace('"', '""'), "" if k == 3 else "%d.5" % k))
        self.reco("load", "csv", path, "--table", "odd")
        self.reco("load", "csv", path, "--table", "odd", db="sqlite")
        sql = "select id, label, score from odd order by id"
        self.assertEqual([list(r.values()) for r in self.rows(sql)],
                         [list(r.values()) for r in self.rows(sql, db="sqlite")])
        got = self.psql("select label from odd where id = 1").stdout
        self.assertEqual(got, "new\nline\n")
        self.assertEqual(self.psql("select score is null from odd where id = 3").stdout.strip(), "t")

    def test_replace_and_conflict(self):
        path = os.path.join(self.home, "r.csv")
        with open(path, "w") as f:
            f.write("userId,movieId,rating\n1,10,4\n2,10,3\n")
        self.reco("load", "csv", path, "--table", "r")
        p = self.reco("load", "csv", path, "--table", "r", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("r", p.stderr)
        with open(path, "a") as f:
            f.write("3,11,5\n")
        self.reco("load", "csv", path, "--table", "R", "--replace")  # any case: the same table
        self.assertEqual(self.psql("select count(*) from r").stdout.strip(), "3")

    def test_schema_and_database_parts(self):
        self.psql("create schema analytics")
        path = os.path.join(self.home, "s.csv")
        with open(path, "w") as f:
            f.write("userId,movieId,rating\n1,10,4\n")
        self.reco("load", "csv", path, "--table", "%s.analytics.scored" % self.db)
        self.assertEqual(self.psql("select count(*) from analytics.scored").stdout.strip(), "1")
        p = self.reco("load", "csv", path, "--table", "otherdb.analytics.scored2", check=False)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("names the database 'otherdb'", p.stderr)
        self.assertIn(self.db, p.stderr)
        p = self.reco("load", "csv", path, "--table", "nosuchschema.t", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown schema 'nosuchschema'", p.stderr)


if __name__ == "__main__":
    unittest.main()
