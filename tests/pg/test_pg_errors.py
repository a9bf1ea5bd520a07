"""Bad input on PostgreSQL, each with a precise error: wrong or missing password, unreachable
server, unknown database, a password in --db, the database part of a name, injection through table
names, a missing table, a bad cell in the ratings (named by row). No password ever printed."""
import os
import unittest

import pgtest

ENV = pgtest.cluster_env()


class ErrorsTest(pgtest.PgTestCase):
    def setUp(self):
        super().setUp()
        self.csv = os.path.join(self.home, "r.csv")
        with open(self.csv, "w") as f:
            f.write("userId,movieId,rating\n1,10,4\n1,11,3\n2,10,5\n2,12,2\n3,11,4\n3,12,1\n")
        self.password = self.ENV["PGPASSWORD"]

    def assert_fails(self, p, code, *fragments):
        self.assertEqual(p.returncode, code, p.stderr)
        for f in fragments:
            self.assertIn(f, p.stderr)
        self.assertNotIn(self.password, p.stderr + p.stdout)
        self.assertNotIn("Sanitizer", p.stderr)
        return p.stderr

    def test_wrong_password_names_server_and_database(self):
        p = self.reco("sql", "-c", "select 1", env={"PGPASSWORD": "wrong-pw-4711"}, check=False)
        err = self.assert_fails(p, 64, "127.0.0.1:%s/%s" % (self.ENV["PGPORT"], self.db),
                                "password authentication failed", "PGPASSWORD")
        self.assertNotIn("wrong-pw-4711", err)

    def test_missing_password_says_where_it_comes_from(self):
        p = self.reco("sql", "-c", "select 1", env={"PGPASSFILE": os.path.join(self.home, "none"),
                                                    "PGPASSWORD": ""}, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("PGPASSWORD", p.stderr)
        self.assertIn(self.db, p.stderr)

    def test_unreachable_server(self):
        p = self.reco("load", "csv", self.csv, "--table", "r", db=self.url(port=1), check=False)
        self.assert_fails(p, 74, "cannot connect to PostgreSQL at postgresql://127.0.0.1:1/%s" % self.db)

    def test_unknown_database(self):
        p = self.reco("train", "--input", "r", db=self.url(db="no_such_db_here"), check=False)
        self.assert_fails(p, 66, "no_such_db_here", "does not exist")

    def test_password_in_the_uri_is_refused_and_not_printed(self):
        url = "postgresql://%s:%s@%s:%s/%s" % (self.ENV["PGUSER"], "Secret-In-Uri", self.ENV["PGHOST"],
                                               self.ENV["PGPORT"], self.db)
        p = self.reco("sql", "-c", "select 1", db=url, check=False)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("PGPASSWORD", p.stderr)
        self.assertNotIn("Secret-In-Uri", p.stderr + p.stdout)

    def test_reco_db_and_keyword_strings(self):
        keywords = "host=%s port=%s dbname=%s user=%s" % (self.ENV["PGHOST"], self.ENV["PGPORT"], self.db,
                                                           self.ENV["PGUSER"])
        self.reco("load", "csv", self.csv, "--table", "r", db=keywords)
        full = self.environment({"RECO_DB": self.url()})
        import subprocess
        p = subprocess.run([pgtest.RECO, "--quiet", "sql", "--mode", "csv", "--headers", "off", "-c",
                            "select count(*) from r"], capture_output=True, text=True, env=full)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "6"), p.stderr)
        # Nothing reco keeps in its home (jobs, model records, logs) holds the password.
        self.reco("train", "--input", "r", "--output", "o", "-k", "0", db=keywords)
        for root, _, files in os.walk(self.home):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(self.password.encode(), f.read(), name)

    def test_database_part_must_be_the_connected_database(self):
        self.reco("load", "csv", self.csv, "--table", "r")
        p = self.reco("train", "--input", "MOVIELENS.PUBLIC.r", check=False)
        self.assert_fails(p, 64, "names the database 'MOVIELENS'", "connected to the database '%s'" % self.db)

    def test_injection_through_table_names(self):
        self.reco("load", "csv", self.csv, "--table", "r")
        evil = '"x""; DROP TABLE r; --"'
        self.reco("load", "csv", self.csv, "--table", evil)
        self.assertEqual(self.psql('select count(*) from "x""; DROP TABLE r; --"').stdout.strip(), "6")
        p = self.reco("train", "--input", '"r; DROP TABLE r"', check=False)
        self.assert_fails(p, 66, "does not exist")
        p = self.reco("train", "--input", "r", "--output", "o; drop table r", check=False)
        self.assert_fails(p, 64, "not a plain identifier")
        p = self.reco("train", "--input", "r", "--user-column", 'userid"; drop table r; --', check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.psql("select count(*) from r").stdout.strip(), "6")

    def test_missing_table_names_it_and_the_warehouse(self):
        p = self.reco("train", "--input", "nosuch", check=False)
        self.assert_fails(p, 66, "'nosuch' does not exist", "postgresql://127.0.0.1:%s/%s" % (self.ENV["PGPORT"],
                                                                                              self.db))

    def test_bad_cells_are_named_by_row_and_column(self):
        self.psql("create table bad (userid bigint, movieid bigint, rating text); "
                  "insert into bad values (1, 10, '4'), (1, 11, ' 3.5 '), (2, 10, 'abc'), (2, 11, '5')")
        p = self.reco("train", "--input", "bad", check=False)
        self.assert_fails(p, 65, "table 'bad', row 3: column rating is 'abc', expected a number")
        self.psql("update bad set rating = '4' where rating = 'abc'; "
                  "create table bad2 (userid double precision, movieid bigint, rating real); "
                  "insert into bad2 values (1, 10, 4), (1.5, 11, 3)")
        p = self.reco("train", "--input", "bad2", check=False)
        self.assert_fails(p, 65, "table 'bad2', row 2: column userid is '1.5', expected an integer id")
        self.psql("create table bad3 (userid bigint, movieid bigint, rating real); "
                  "insert into bad3 values (1, 10, 4), (1, null, 3)")
        p = self.reco("train", "--input", "bad3", check=False)
        self.assert_fails(p, 65, "table 'bad3', row 2: column movieid is NULL, expected an integer id")

    def test_tasks_say_they_do_not_run_on_postgresql_yet(self):
        self.reco("tasks", "create", "t1", "--schedule", "60 MINUTE", "--sql", "select 1")
        p = self.reco("tasks", "run", "t1", check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("scheduled tasks do not run on a PostgreSQL warehouse yet", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
