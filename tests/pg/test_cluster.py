"""The throw-away cluster itself: reachable, not run by root, password required over TCP."""
import os
import subprocess
import unittest

import pgtest

ENV = pgtest.cluster_env()


class ClusterTest(unittest.TestCase):
    def test_connects_with_the_password(self):
        self.assertEqual(pgtest.psql(ENV, "select current_user").stdout.strip(), "reco")
        self.assertTrue(pgtest.psql(ENV, "show server_version").stdout.startswith("15."))

    def test_server_is_not_run_by_root(self):
        pid_file = os.path.join(ENV["RECO_TEST_PG_DIR"], "data", "postmaster.pid")
        with open(pid_file) as f:
            pid = int(f.readline())
        self.assertNotEqual(os.stat("/proc/%d" % pid).st_uid, 0)

    def test_wrong_password_is_refused(self):
        env = dict(os.environ, **ENV)
        env["PGPASSWORD"] = "not-the-password"
        p = subprocess.run(["psql", "-X", "-c", "select 1"], capture_output=True, text=True, env=env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("password authentication failed", p.stderr)


if __name__ == "__main__":
    unittest.main()
