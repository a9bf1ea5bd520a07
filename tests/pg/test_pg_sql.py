"""`reco sql` against PostgreSQL: -c, a file, stdin; every output mode; dot-commands; the guide's
CREATE OR REPLACE TABLE; errors with their line; a missing reco function names the extension;
Ctrl-C cancels the running statement on the server."""
import json
import os
import signal
import subprocess
import time
import unittest

import pgtest

ENV = pgtest.cluster_env()


class SqlTest(pgtest.PgTestCase):
    def setUp(self):
        super().setUp()
        self.psql("create table t (id bigint, name text, score double precision, doc jsonb); "
                  "insert into t values (1, 'a|b', 1.5, '{\"k\": [1, 2]}'), (2, null, -2, null)")

    def sql(self, *args, **kw):
        return self.reco("sql", *args, **kw)

    def test_output_modes(self):
        q = "select id, name, score, doc from t order by id"
        self.assertEqual(json.loads(self.sql("--mode", "json", "-c", q).stdout),
                         [{"id": 1, "name": "a|b", "score": 1.5, "doc": {"k": [1, 2]}},
                          {"id": 2, "name": None, "score": -2.0, "doc": None}])
        self.assertEqual(self.sql("--mode", "csv", "-c", q).stdout.splitlines()[0], "id,name,score,doc")
        self.assertEqual(self.sql("--mode", "csv", "--headers", "off", "-c", q).stdout.splitlines()[0],
                         '1,a|b,1.5,"{""k"": [1, 2]}"')
        table = self.sql("-c", q).stdout
        self.assertIn("a|b", table)
        self.assertIn("(2 rows)", table)
        line = self.sql("--mode", "line", "-c", "select id, name from t where id = 1").stdout
        self.assertIn("id = 1", line)
        self.assertIn("name = a|b", line)
        # The same data in SQLite prints the same (csv).
        self.reco("sql", "-c", "create table t (id integer, name text, score real)", db="sqlite")
        self.reco("sql", "-c", "insert into t values (1, 'a|b', 1.5), (2, null, -2)", db="sqlite")
        q = "select id, name, score from t order by id"
        self.assertEqual(self.sql("--mode", "csv", "-c", q).stdout,
                         self.reco("sql", "--mode", "csv", "-c", q, db="sqlite").stdout)

    def test_file_stdin_and_several_statements(self):
        script = os.path.join(self.home, "s.sql")
        with open(script, "w") as f:
            f.write("-- a script\ncreate table u as (select id from t);\n.mode csv\n.headers off\n"
                    "select count(*) from u; select 'x;y' as s;\n"
                    "CREATE OR REPLACE TABLE u AS (SELECT 7 AS id);\nselect id from u;\n"
                    "select $$a;b$$;\n")
        out = self.sql(script)
        self.assertEqual(out.stdout.splitlines(), ["2", "x;y", "7", "a;b"], out.stderr)
        p = self.sql("--mode", "csv", "--headers", "off", "-", input="select 40 + 2;\n.tables\n")
        self.assertEqual(p.stdout.split(), ["42", "t", "u"])
        p = self.sql("-c", "select 1; select 2", "--mode", "csv", "--headers", "off")
        self.assertEqual(p.stdout.split(), ["1", "2"])

    def test_create_or_replace_is_atomic_and_nests_in_the_users_transaction(self):
        # DROP + CREATE in one transaction: a CREATE that fails keeps the old table.
        p = self.sql("-c", "CREATE OR REPLACE TABLE t AS (SELECT * FROM nosuch)", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(self.psql("select count(*) from t").stdout.strip(), "2")
        # Inside the user's own transaction it is a SAVEPOINT: the user's ROLLBACK undoes it.
        script = os.path.join(self.home, "tx.sql")
        with open(script, "w") as f:
            f.write("BEGIN;\nCREATE OR REPLACE TABLE t AS (SELECT 1 AS id);\nselect count(*) from t;\n"
                    "ROLLBACK;\nselect count(*) from t;\n")
        p = self.sql("--mode", "csv", "--headers", "off", script)
        self.assertEqual(p.stdout.split(), ["1", "2"])

    def test_rows_stream_until_an_error(self):
        # csv streams the rows the server sent before the error; table shows no half table.
        q = "select x, 1 / (3 - x) as y from generate_series(1, 5) x"
        p = self.sql("--mode", "csv", "-c", q, check=False)
        self.assertEqual((p.returncode, p.stdout.splitlines()), (1, ["x,y", "1,0", "2,1"]))
        self.assertIn("division by zero", p.stderr)
        p = self.sql("-c", q, check=False)
        self.assertEqual((p.returncode, p.stdout), (1, ""))

    def test_dot_commands(self):
        self.psql("create schema other; create table other.o (x int)")
        self.assertEqual(self.sql("-c", ".tables").stdout.split(), ["t", "other.o"])
        schema = self.sql("-c", ".schema t").stdout
        self.assertIn('CREATE TABLE t ("id" bigint, "name" text, "score" double precision, "doc" jsonb);',
                      schema)
        p = self.sql("-c", ".schema nosuch", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such table: nosuch", p.stderr)

    def test_errors_name_the_line_and_keep_going_without_bail(self):
        script = os.path.join(self.home, "e.sql")
        with open(script, "w") as f:
            f.write("select 1;\n\nselect * from nosuch;\nselect 2;\n")
        p = self.sql("--mode", "csv", "--headers", "off", script, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout.split(), ["1", "2"])
        self.assertIn('near line 3: relation "nosuch" does not exist (in the warehouse postgresql://', p.stderr)
        p = self.sql("--bail", "--mode", "csv", "--headers", "off", script, check=False)
        self.assertEqual(p.stdout.split(), ["1"])
        # A failed statement inside the user's transaction does not poison the next -c string.
        p = self.sql("-c", "select train_and_get_recommendations('t', 'o')", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("CREATE EXTENSION reco", p.stderr)

    def test_ctrl_c_cancels_the_statement_on_the_server(self):
        p = subprocess.Popen([pgtest.RECO, "--quiet", "--db", self.url(), "sql", "-c", "select pg_sleep(60)"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.environment())
        deadline = time.time() + 30
        while time.time() < deadline:
            busy = self.psql("select count(*) from pg_stat_activity where application_name = 'reco' and "
                             "query like 'select pg_sleep%' and state = 'active'").stdout.strip()
            if busy == "1":
                break
            time.sleep(0.05)
        start = time.time()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        self.assertLess(time.time() - start, 10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("canceling statement due to user request", err)


if __name__ == "__main__":
    unittest.main()
