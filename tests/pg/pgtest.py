"""Shared helpers for reco's PostgreSQL tests: the cluster that ctest's `pg` fixture started.

The fixture (scripts/pg-cluster.sh, see tests/CMakeLists.txt) writes the cluster's settings to the
file named by RECO_TEST_PG_STATE. Without it (a single test run by hand, no cluster), the tests
skip loudly; with RECO_REQUIRE_PG=1 (make test) they fail instead.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

SKIP = 77


def cluster_env():
    """The cluster's settings (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, RECO_TEST_PG, ...),
    or exits: 77 (skip, with a message) or 1 when RECO_REQUIRE_PG=1."""
    path = os.environ.get("RECO_TEST_PG_STATE", "")
    if not path or not os.path.isfile(path):
        message = ("PostgreSQL test cluster not running (RECO_TEST_PG_STATE=%r); run it through ctest "
                   "(its pg fixture starts one) or scripts/pg-cluster.sh start FILE" % path)
        if os.environ.get("RECO_REQUIRE_PG") == "1":
            print("FAILED: " + message, file=sys.stderr)
            sys.exit(1)
        print("SKIPPED: " + message, file=sys.stderr)
        sys.exit(SKIP)
    return read_state(path)


def read_state(path):
    """The settings scripts/pg-cluster.sh wrote to the state file `path` (its exports)."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                env[key] = shlex.split(value)[0] if value else ""
    return env


def psql(env, sql, *extra, check=True, database=None):
    """Runs sql through psql against the test cluster; returns the CompletedProcess."""
    full = dict(os.environ)
    full.update(env)
    if database:
        full["PGDATABASE"] = database
    p = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-qAt", *extra, "-c", sql], capture_output=True,
                       text=True, env=full, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError("psql failed (%d): %s\n%s" % (p.returncode, sql, p.stderr))
    return p


def require_extension(env):
    """Exits (skip, or fail under RECO_REQUIRE_PG=1) unless the extension reco is installed into
    the cluster's PostgreSQL (make pg-extension)."""
    if psql(env, "select count(*) from pg_available_extensions where name = 'reco'").stdout.strip() == "1":
        return
    message = "the PostgreSQL extension reco is not installed; run `make pg-extension`"
    if os.environ.get("RECO_REQUIRE_PG") == "1":
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)
    print("SKIPPED: " + message, file=sys.stderr)
    sys.exit(SKIP)


def create_database(env, prefix):
    """A new database with a unique name (tests run concurrently); returns its name."""
    name = "%s_%d_%s" % (prefix, os.getpid(), os.urandom(4).hex())
    psql(env, "create database %s" % name)
    return name


def drop_database(env, name):
    psql(env, "drop database if exists %s with (force)" % name, check=False)


def readable_token_file(directory, token, env):
    """Writes the token to DIRECTORY/token, readable by the cluster's OS user only (and us)."""
    os.chmod(directory, 0o755)
    path = os.path.join(directory, "token")
    with open(path, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    owner = env.get("RECO_TEST_PG_OS_USER", "")
    if os.getuid() == 0 and owner and owner != "root":
        import pwd
        os.chown(path, pwd.getpwnam(owner).pw_uid, -1)
    return path


RECO = os.environ.get("RECO_BIN", "")
MOVIELENS = os.environ.get("RECO_MOVIELENS_SMALL", "")


def movielens_available():
    return bool(MOVIELENS) and os.path.isfile(os.path.join(MOVIELENS, "ratings.csv"))


class PgTestCase(unittest.TestCase):
    """A test with its own database in the shared cluster (created in setUp, dropped at the end)
    and its own reco home. self.url is the database's URI (no password: libpq reads PGPASSWORD)."""

    ENV = None
    _counter = 0

    @classmethod
    def setUpClass(cls):
        PgTestCase.ENV = cluster_env()
        if not RECO or not os.path.exists(RECO):
            raise AssertionError("RECO_BIN does not point to the reco binary: %r" % RECO)

    def setUp(self):
        PgTestCase._counter += 1
        self.db = "reco_%s_%d_%d" % (type(self).__name__.lower()[:20], os.getpid(), PgTestCase._counter)
        self.create_database(self.db)
        self.home = tempfile.mkdtemp(prefix="reco-pg-")
        self.addCleanup(shutil.rmtree, self.home, True)

    def create_database(self, name):
        psql(self.ENV, 'CREATE DATABASE "%s"' % name)
        self.addCleanup(psql, self.ENV, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, check=False)

    def url(self, db=None, port=None):
        return "postgresql://%s@%s:%s/%s" % (self.ENV["PGUSER"], self.ENV["PGHOST"], port or self.ENV["PGPORT"],
                                             db or self.db)

    def environment(self, env=None):
        full = dict(os.environ)
        full.update(self.ENV)
        full["RECO_HOME"] = self.home
        full.pop("RECO_DB", None)
        if env:
            full.update(env)
        return full

    def reco(self, *args, db=None, check=True, env=None, input=None, home=None):
        """`reco --quiet --db URL ARGS` (db="sqlite": the home's SQLite warehouse)."""
        full = self.environment(env)
        if home:
            full["RECO_HOME"] = home
        target = [] if db == "sqlite" else ["--db", db or self.url()]
        p = subprocess.run([RECO, "--quiet", *target, *args], capture_output=True, text=True, env=full,
                           input=input, timeout=600)
        if check and p.returncode != 0:
            self.fail("reco %s failed (%d):\nstdout:\n%s\nstderr:\n%s" % (" ".join(args), p.returncode, p.stdout,
                                                                          p.stderr))
        return p

    def psql(self, sql, *extra, check=True):
        return psql(self.ENV, sql, *extra, check=check, database=self.db)

    def rows(self, sql, db=None):
        """The rows of one query through `reco sql --mode json` (db="sqlite" for the home's)."""
        out = self.reco("sql", "--mode", "json", "-c", sql, db=db).stdout.strip()
        return json.loads(out) if out else []

    def ratings_folder(self):
        """MovieLens ml-latest-small, or a generated MovieLens-like folder when it is absent."""
        if movielens_available():
            return MOVIELENS
        folder = os.path.join(self.home, "generated")
        if not os.path.isdir(folder):
            print("ml-latest-small not found at %r: generated data instead" % MOVIELENS, file=sys.stderr)
            self.reco("generate", "movielens", folder, "--users", "200", "--items", "1500", "--ratings", "20000",
                      "--seed", "5", db="sqlite")
        return folder
