"""A connection lost half-way (the backend terminated with pg_terminate_backend) while loading a
table or while replacing an output table commits nothing: the old table stays. A reader running
while the output table is replaced sees the old rows or the new, never a mix."""
import os
import subprocess
import time
import unittest

import pgtest

ENV = pgtest.cluster_env()

# Terminates the first reco backend of this database that matches CONDITION (polling
# pg_stat_activity every 5 ms for up to 60 s); fails when none shows up.
TERMINATOR = """
DO $$
DECLARE n int := 0;
BEGIN
  LOOP
    PERFORM pg_stat_clear_snapshot();
    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'reco' AND pid <> pg_backend_pid()
        AND (%s);
    EXIT WHEN FOUND;
    n := n + 1;
    IF n > 12000 THEN RAISE EXCEPTION 'no reco backend matched'; END IF;
    PERFORM pg_sleep(0.005);
  END LOOP;
END $$"""


class FaultsTest(pgtest.PgTestCase):
    def start_reco(self, *args):
        return subprocess.Popen([pgtest.RECO, "--quiet", "--db", self.url(), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.environment())

    def table_digest(self, table):
        return self.psql("select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') "
                         "from %s t" % table).stdout.strip()

    def test_terminated_mid_load_leaves_the_old_table(self):
        small = os.path.join(self.home, "small.csv")
        with open(small, "w") as f:
            f.write("userId,movieId,rating\n1,1,4\n2,2,3\n3,3,5\n")
        self.reco("load", "csv", small, "--table", "big")
        before = self.table_digest("big")
        path = os.path.join(self.home, "big.csv")
        with open(path, "w") as f:
            f.write("userId,movieId,rating\n")
            f.writelines("%d,%d,%d.5\n" % (k % 5000, k, k % 5) for k in range(2000000))
        load = self.start_reco("load", "csv", path, "--table", "big", "--replace")
        self.psql(TERMINATOR % "query LIKE 'COPY%FROM STDIN'")
        _, err = load.communicate(timeout=120)
        self.assertNotEqual(load.returncode, 0, err)
        self.assertNotIn("Sanitizer", err)  # a clean failure under the sanitizer build too
        self.assertIn("PostgreSQL at postgresql://127.0.0.1:%s/%s" % (self.ENV["PGPORT"], self.db), err)
        self.assertEqual(self.table_digest("big"), before)
        self.assertEqual(self.psql("select count(*) from pg_class where relname = 'big'").stdout.strip(), "1")

    def test_terminated_mid_output_write_leaves_the_old_table(self):
        folder = self.ratings_folder()
        self.reco("load", "movielens", folder)
        self.reco("train", "--input", "ratings", "--output", "recs", "-k", "0", "--seed", "1")
        before = self.table_digest("recs")
        publications = self.psql("select count(*) from _reco_publications").stdout.strip()
        # A session holding a lock that DELETE waits for: the writer stops inside its transaction,
        # after its first rows, where its backend is terminated.
        holder = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=dict(self.environment(), PGDATABASE=self.db))
        holder.stdin.write("BEGIN; LOCK TABLE recs IN SHARE MODE; SELECT 'locked';\n")
        holder.stdin.flush()
        self.assertEqual(holder.stdout.readline().strip(), "?column?")
        train = self.start_reco("train", "--input", "ratings", "--output", "recs", "-k", "0", "--seed", "2")
        self.psql(TERMINATOR % "wait_event_type = 'Lock'")
        _, err = train.communicate(timeout=120)
        holder.communicate("ROLLBACK;\n", timeout=30)
        self.assertNotEqual(train.returncode, 0, err)
        self.assertNotIn("Sanitizer", err)
        self.assertIn("nothing of this transaction was committed", err)
        self.assertEqual(self.table_digest("recs"), before)
        self.assertEqual(self.psql("select count(*) from _reco_publications").stdout.strip(), publications)
        # The next run writes normally.
        self.reco("train", "--input", "ratings", "--output", "recs", "-k", "0", "--seed", "2")
        self.assertNotEqual(self.table_digest("recs"), before)

    def test_reader_sees_old_or_new_rows_never_a_mix(self):
        folder = self.ratings_folder()
        self.reco("load", "movielens", folder)
        self.reco("train", "--input", "ratings", "--output", "recs", "-k", "0", "--seed", "1")
        old = self.table_digest("recs")
        self.psql("create table seen (at timestamptz default clock_timestamp(), digest text)")
        # Each statement of a DO block sees the rows committed when it starts (READ COMMITTED).
        reader = subprocess.Popen(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", """
DO $$
DECLARE d text; first text; after_change int := 0;
BEGIN
  -- Until 20 reads after the rows changed (at most 60 s).
  FOR k IN 1..30000 LOOP
    SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') INTO d
      FROM recs t;
    INSERT INTO seen (digest) VALUES (d);
    first := coalesce(first, d);
    IF d <> first THEN after_change := after_change + 1; END IF;
    EXIT WHEN after_change >= 20;
    PERFORM pg_sleep(0.001);
  END LOOP;
END $$"""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(self.environment(), PGDATABASE=self.db))
        time.sleep(0.3)
        self.reco("train", "--input", "ratings", "--output", "recs", "-k", "0", "--seed", "2")
        new = self.table_digest("recs")
        _, err = reader.communicate(timeout=300)
        self.assertEqual(reader.returncode, 0, err)
        self.assertNotEqual(old, new)
        seen = self.psql("select digest from seen order by at").stdout.split()
        self.assertEqual(set(seen) - {old, new}, set())
        self.assertEqual(seen[0], old)
        self.assertEqual(seen[-1], new, "the reader stopped before the new rows were committed")


if __name__ == "__main__":
    unittest.main()
