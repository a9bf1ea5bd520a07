#!/usr/bin/env python3
"""The reco home: a missing explicit home (--home, RECO_HOME) is an error naming it unless
--create or `reco init`; the default home is created on first use and that is said once; a
missing table names the warehouse file."""
import os
import shutil
import subprocess
import tempfile

import recotest
from recotest import RECO


class HomeTest(recotest.RecoTestCase):
    def run_reco(self, *args, env_home=None, default_home=None):
        """reco without the harness's RECO_HOME: env_home sets RECO_HOME, default_home the
        user's HOME (for the default ~/.local/share/reco)."""
        env = {k: v for k, v in os.environ.items() if k not in ("RECO_HOME", "RECO_DB", "XDG_DATA_HOME")}
        if env_home is not None:
            env["RECO_HOME"] = env_home
        if default_home is not None:
            env["HOME"] = default_home
        return subprocess.run([RECO, *args], capture_output=True, text=True, env=env, timeout=120)

    def test_missing_home_flag_is_an_error_naming_it(self):
        missing = os.path.join(self.home, "typo")
        for p in (self.run_reco("--home", missing, "sql", "-c", "select 1"),
                  self.run_reco("models", env_home=missing),
                  self.run_reco("train", "--input", "ratings", "--home", missing)):
            self.assertEqual(p.returncode, 66, p.stderr)
            self.assertIn("the reco home %s does not exist" % missing, p.stderr)
            self.assertIn("reco init --home %s" % missing, p.stderr)
            self.assertIn("--create", p.stderr)
            self.assertEqual(p.stdout, "")
        self.assertFalse(os.path.exists(missing), "a refused home must not be created")

    def test_create_flag_makes_the_home(self):
        fresh = os.path.join(self.home, "a", "b")
        p = self.run_reco("--home", fresh, "--create", "sql", "-c", "select 7 as x")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("7", p.stdout)
        self.assertTrue(os.path.isfile(os.path.join(fresh, "warehouse.db")))

    def test_init_creates_once_and_is_idempotent(self):
        fresh = os.path.join(self.home, "new-home")
        p = self.run_reco("init", "--home", fresh)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, fresh + "\n")
        self.assertIn("created the home %s" % fresh, p.stderr)
        self.assertTrue(os.path.isfile(os.path.join(fresh, "warehouse.db")))
        p = self.run_reco("--quiet", "sql", "-c", "create table t (a)", env_home=fresh)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_reco("init", env_home=fresh)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("already there", p.stderr)
        p = self.run_reco("--home", fresh, "sql", "--mode", "csv", "--headers", "off", "-c",
                          "select count(*) from t")
        self.assertEqual(p.stdout, "0\n", "init must keep what the home holds")
        p = self.run_reco("init", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("Create a reco home", p.stdout)

    def test_init_refuses_a_file(self):
        a_file = os.path.join(self.home, "file")
        open(a_file, "w").close()
        p = self.run_reco("init", "--home", a_file)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(a_file, p.stderr)

    def test_default_home_is_created_and_said_once(self):
        user = tempfile.mkdtemp(dir=self.home)
        default = os.path.join(user, ".local", "share", "reco")
        p = self.run_reco("models", default_home=user)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.count("created the default home %s" % default), 1, p.stderr)
        self.assertTrue(os.path.isdir(default))
        p = self.run_reco("models", default_home=user)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("created", p.stderr)
        p = self.run_reco("--quiet", "models", default_home=os.path.join(user, "other"))
        self.assertEqual(p.stderr, "")

    def test_missing_table_names_the_warehouse(self):
        warehouse = os.path.join(self.home, "warehouse.db")
        p = self.reco("train", "--input", "ratings", check=False)
        self.assertEqual(p.returncode, 66)
        self.assertIn("input table 'ratings' does not exist in the warehouse %s" % warehouse, p.stderr)
        p = self.reco("sql", "-c", "select * from ratings", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such table: ratings (in the warehouse %s)" % os.path.realpath(warehouse), p.stderr)

    def test_extension_refuses_a_missing_reco_home(self):
        if shutil.which("sqlite3") is None:
            self.fail("the stock sqlite3 shell is not installed (scripts/install-deps.sh test)")
        missing = os.path.join(self.home, "typo")
        env = dict(os.environ, RECO_HOME=missing)
        p = subprocess.run(["sqlite3", ":memory:", ".load " + os.path.abspath(recotest.EXTENSION)],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("the reco home %s does not exist" % missing, p.stderr)
        self.assertFalse(os.path.exists(missing))
        env["RECO_HOME"] = self.home
        p = subprocess.run(["sqlite3", ":memory:", ".load " + os.path.abspath(recotest.EXTENSION),
                            "select reco_version() is not null"], capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, "1\n"), p.stderr)


if __name__ == "__main__":
    recotest.main()
