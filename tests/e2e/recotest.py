"""Shared helpers for reco's end-to-end tests: the real binary, a fresh home per test."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

RECO = os.environ.get("RECO_BIN", "")
EXTENSION = os.environ.get("RECO_EXTENSION", "")
MOVIELENS = os.environ.get("RECO_MOVIELENS_SMALL", "")
SKIP = 77  # ctest SKIP_RETURN_CODE


def movielens_available():
    return bool(MOVIELENS) and os.path.isfile(os.path.join(MOVIELENS, "ratings.csv"))


def require_movielens():
    if not movielens_available():
        print("SKIPPED: MovieLens ml-latest-small not found at %r; this test needs real data" % MOVIELENS,
              file=sys.stderr)
        sys.exit(SKIP)


class RecoTestCase(unittest.TestCase):
    def setUp(self):
        if not RECO or not os.path.exists(RECO):
            self.fail("RECO_BIN does not point to the reco binary: %r" % RECO)
        self.home = tempfile.mkdtemp(prefix="reco-e2e-")
        self.addCleanup(shutil.rmtree, self.home, True)

    def reco(self, *args, check=True, env=None, input=None):
        full_env = dict(os.environ)
        full_env["RECO_HOME"] = self.home
        full_env.pop("RECO_DB", None)
        if env:
            full_env.update(env)
        p = subprocess.run([RECO, "--quiet", *args], capture_output=True, text=True, env=full_env, input=input,
                           timeout=600)
        if check and p.returncode != 0:
            self.fail("reco %s failed (%d):\nstdout:\n%s\nstderr:\n%s" % (" ".join(args), p.returncode, p.stdout,
                                                                          p.stderr))
        return p

    def sql(self, *statements, **kw):
        args = ["sql", "--mode", "json"]
        for s in statements:
            args += ["-c", s]
        return self.reco(*args, **kw)

    def query(self, statement):
        """Rows of one SELECT as a list of dicts."""
        out = self.sql(statement).stdout.strip()
        return json.loads(out) if out else []


def run_in_home(home, *args, check=True):
    """`reco --quiet ARGS` with RECO_HOME=home; fails the caller (AssertionError) on a non-zero exit."""
    env = dict(os.environ, RECO_HOME=home)
    env.pop("RECO_DB", None)
    p = subprocess.run([RECO, "--quiet", *args], capture_output=True, text=True, env=env, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError("reco %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def generated_home(folder, users, items, ratings, seed):
    """A home in folder/home with a generated MovieLens-like data set loaded (no download)."""
    home = os.path.join(folder, "home")
    os.makedirs(home)
    data = os.path.join(folder, "data")
    run_in_home(home, "generate", "movielens", data, "--users", str(users), "--items", str(items), "--ratings",
                str(ratings), "--seed", str(seed))
    run_in_home(home, "load", "movielens", data)
    return home


class HomeQueries:
    """For test classes whose setUpClass makes cls.home (and cls.tmp, cleaned up at the end):
    run_reco in that home, sql (the first row of `reco sql --mode json`), value (its column r,
    JSON decoded), user_ratings ([[item, rating], ...] of a user of the ratings table)."""

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def run_reco(cls, *args, check=True):
        return run_in_home(cls.home, *args, check=check)

    def sql(self, statement, check=True):
        p = self.run_reco("sql", "--mode", "json", "-c", statement, check=check)
        return json.loads(p.stdout)[0] if check else p

    def value(self, statement):
        v = self.sql(statement)["r"]
        return json.loads(v) if isinstance(v, str) else v

    def user_ratings(self, user):
        rows = self.sql("select json_group_array(json_array(movieid, rating)) as r from ratings where userid = %d"
                        % user)["r"]
        return rows if isinstance(rows, list) else json.loads(rows)


def main():
    unittest.main(verbosity=2)
