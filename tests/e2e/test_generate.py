#!/usr/bin/env python3
"""End to end: `reco generate movielens` through the real binary.

Needs RECO_BIN (set by ctest); exits 77 (skipped) without it.
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

RECO = os.environ.get("RECO_BIN", "")


def run(args):
    return subprocess.run([RECO] + args, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class GenerateMovielens(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="reco-e2e-generate-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def generate(self, folder, *extra):
        return run(["generate", "movielens", folder, "--users", "40", "--items", "90",
                    "--ratings", "1000"] + list(extra))

    def test_prints_the_folder_and_writes_a_loadable_data_set(self):
        folder = os.path.join(self.tmp, "ml")
        r = self.generate(folder, "--seed", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, folder + "\n")
        self.assertIn("generated 1000 ratings by 40 users", r.stderr)
        with open(os.path.join(folder, "ratings.csv"), newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], ["userId", "movieId", "rating", "timestamp"])
        self.assertEqual(len(rows), 1001)
        with open(os.path.join(folder, "movies.csv"), newline="", encoding="utf-8") as f:
            movies = list(csv.reader(f))
        self.assertEqual(movies[0], ["movieId", "title", "genres"])
        self.assertEqual(len(movies), 91)
        self.assertTrue(all(len(m) == 3 for m in movies))
        self.assertIn("seed: 3", read(os.path.join(folder, "README.txt")).decode())

    def test_same_seed_same_bytes_any_thread_count(self):
        a, b, c = (os.path.join(self.tmp, x) for x in "abc")
        self.assertEqual(self.generate(a, "--seed", "9", "--threads", "1").returncode, 0)
        self.assertEqual(self.generate(b, "--seed", "9", "--threads", "4").returncode, 0)
        self.assertEqual(self.generate(c, "--seed", "10").returncode, 0)
        for name in ("ratings.csv", "movies.csv", "README.txt"):
            self.assertEqual(read(os.path.join(a, name)), read(os.path.join(b, name)), name)
        self.assertNotEqual(read(os.path.join(a, "ratings.csv")), read(os.path.join(c, "ratings.csv")))

    def test_impossible_arguments_are_usage_errors(self):
        folder = os.path.join(self.tmp, "bad")
        for args, needle in [
            (["--users", "2", "--items", "3", "--ratings", "7"], "cannot exceed --users x --items"),
            (["--users", "0"], "--users must be at least 1"),
            (["--users", "10", "--ratings", "5"], "must be at least --users"),
            (["--rank", "0"], "--rank must be between"),
        ]:
            r = run(["generate", "movielens", folder] + args)
            self.assertEqual(r.returncode, 64, r.stderr)
            self.assertIn(needle, r.stderr)
            self.assertFalse(os.path.exists(folder))
        r = run(["generate", "movielens"])
        self.assertEqual(r.returncode, 64)
        self.assertIn("DIR", r.stderr)

    def test_help_explains_the_command(self):
        r = run(["generate", "movielens", "--help"])
        self.assertEqual(r.returncode, 0)
        for needle in ("--users", "--items", "--ratings", "--seed", "byte-identical"):
            self.assertIn(needle, r.stdout)


if __name__ == "__main__":
    if not RECO or not os.access(RECO, os.X_OK):
        print("SKIP: RECO_BIN is not set to an executable reco binary", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
