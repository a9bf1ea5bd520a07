#!/usr/bin/env python3
"""End to end: `reco fetch movielens` against a real HTTP server on 127.0.0.1.

The archives are made here: `reco generate movielens` writes a tiny data set, Python's zipfile
packs it the way GroupLens does (one top folder NAME/), and http.server serves it with a .md5
file beside it. Needs RECO_BIN (set by ctest); exits 77 (skipped) without it.
"""

import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import zipfile

RECO = os.environ.get("RECO_BIN", "")


class RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder given to the server and remembers every request path."""

    def do_GET(self):
        with self.server.lock:
            self.server.requests.append(self.path)
        if self.path.startswith("/moved/"):  # a mirror that redirects, as CDNs do
            self.send_response(302)
            self.send_header("Location", self.path[len("/moved"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/broken/"):
            self.send_error(500, "Internal Server Error")
            return
        super().do_GET()

    def do_HEAD(self):
        with self.server.lock:
            self.server.requests.append("HEAD " + self.path)
        super().do_HEAD()

    def log_message(self, format, *args):  # keep the test output readable
        pass


class Server:
    def __init__(self, folder):
        handler = lambda *a, **kw: RecordingHandler(*a, directory=folder, **kw)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.requests = []
        self.httpd.lock = threading.Lock()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def take_requests(self):
        with self.httpd.lock:
            seen, self.httpd.requests = self.httpd.requests, []
        return seen

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def run(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("RECO_HOME", "RECO_MOVIELENS_URL")}
    env.update(env_extra or {})
    return subprocess.run([RECO] + args, capture_output=True, text=True, timeout=300, env=env,
                          stdin=subprocess.DEVNULL)


def zip_folder(folder, name, zip_path):
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name + "/", "")
        for entry in sorted(os.listdir(folder)):
            z.write(os.path.join(folder, entry), name + "/" + entry)


def md5_of(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class FetchMovielens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="reco-e2e-fetch-")
        cls.served = os.path.join(cls.tmp, "served")
        os.makedirs(cls.served)
        cls.source = os.path.join(cls.tmp, "source", "ml-tiny")
        gen = run(["generate", "movielens", cls.source, "--users", "25", "--items", "60",
                   "--ratings", "400", "--seed", "5"])
        if gen.returncode != 0:
            raise RuntimeError("reco generate failed: " + gen.stderr)

        # ml-tiny: archive and a correct checksum (BSD form, as `md5` prints it).
        zip_folder(cls.source, "ml-tiny", os.path.join(cls.served, "ml-tiny.zip"))
        write(os.path.join(cls.served, "ml-tiny.zip.md5"),
              "MD5 (ml-tiny.zip) = %s\n" % md5_of(os.path.join(cls.served, "ml-tiny.zip")))
        # ml-badsum: the same archive with a checksum that does not match.
        shutil.copy(os.path.join(cls.served, "ml-tiny.zip"), os.path.join(cls.served, "ml-badsum.zip"))
        cls.bad_digest = "0123456789abcdef0123456789abcdef"
        write(os.path.join(cls.served, "ml-badsum.zip.md5"), cls.bad_digest + "  ml-badsum.zip\n")
        # ml-nosum: an archive without a published checksum.
        zip_folder(cls.source, "ml-nosum", os.path.join(cls.served, "ml-nosum.zip"))
        # ml-broken: no checksum and not a zip.
        write(os.path.join(cls.served, "ml-broken.zip"), "<html>not a zip</html>\n")

        cls.server = Server(cls.served)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
        self.datasets = os.path.join(self.home, "datasets")
        self.server.take_requests()

    def fetch(self, name, *extra, env_extra=None, url=True):
        args = ["--home", self.home, "fetch", "movielens", name]
        if url:
            args += ["--url", self.server.url]
        return run(args + list(extra), env_extra=env_extra)

    def assert_same_files(self, folder):
        for name in ("ratings.csv", "movies.csv", "README.txt"):
            with open(os.path.join(self.source, name), "rb") as a, \
                    open(os.path.join(folder, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_fetch_downloads_verifies_unpacks_and_prints_the_folder(self):
        r = self.fetch("ml-tiny")
        self.assertEqual(r.returncode, 0, r.stderr)
        folder = os.path.join(self.datasets, "ml-tiny")
        self.assertEqual(r.stdout, folder + "\n")
        self.assert_same_files(folder)
        self.assertEqual(sorted(os.listdir(self.datasets)), ["ml-tiny", "ml-tiny.zip"])
        self.assertIn("verified ml-tiny.zip (MD5", r.stderr)
        self.assertEqual(self.server.take_requests(), ["/ml-tiny.zip.md5", "/ml-tiny.zip"])

    def test_second_fetch_does_not_download_unless_forced(self):
        self.assertEqual(self.fetch("ml-tiny").returncode, 0)
        self.server.take_requests()

        again = self.fetch("ml-tiny")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout, os.path.join(self.datasets, "ml-tiny") + "\n")
        self.assertIn("already present", again.stderr)
        self.assertEqual(self.server.take_requests(), [], "nothing may be downloaded")

        forced = self.fetch("ml-tiny", "--force")
        self.assertEqual(forced.returncode, 0, forced.stderr)
        self.assertEqual(self.server.take_requests(), ["/ml-tiny.zip.md5", "/ml-tiny.zip"])
        self.assert_same_files(os.path.join(self.datasets, "ml-tiny"))

    def test_wrong_md5_fails_and_leaves_no_dataset(self):
        r = self.fetch("ml-badsum")
        self.assertEqual(r.returncode, 65, r.stderr)  # kCorrupt
        self.assertIn("checksum mismatch", r.stderr)
        self.assertIn(self.bad_digest, r.stderr)
        self.assertIn(md5_of(os.path.join(self.served, "ml-badsum.zip")), r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(os.listdir(self.datasets), [], "no folder, archive or .part may remain")

    def test_missing_archive_is_a_clear_404(self):
        r = self.fetch("ml-missing")
        self.assertEqual(r.returncode, 66, r.stderr)  # kNotFound
        self.assertIn("HTTP 404", r.stderr)
        self.assertIn(self.server.url + "/ml-missing.zip", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.datasets, "ml-missing")))

    def test_missing_md5_falls_back_to_reading_the_archive(self):
        r = self.fetch("ml-nosum")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no checksum published", r.stderr)
        self.assertIn("reading every entry", r.stderr)
        self.assert_same_files(os.path.join(self.datasets, "ml-nosum"))

    def test_broken_archive_without_md5_is_refused(self):
        r = self.fetch("ml-broken")
        self.assertEqual(r.returncode, 65, r.stderr)
        self.assertIn("ml-broken.zip", r.stderr)
        self.assertEqual(os.listdir(self.datasets), [])

    def test_base_url_from_the_environment(self):
        r = self.fetch("ml-tiny", url=False, env_extra={"RECO_MOVIELENS_URL": self.server.url + "/"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.server.take_requests(), ["/ml-tiny.zip.md5", "/ml-tiny.zip"])

    def test_redirects_are_followed(self):
        r = run(["--home", self.home, "fetch", "movielens", "ml-tiny", "--url",
                 self.server.url + "/moved"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_same_files(os.path.join(self.datasets, "ml-tiny"))
        self.assertEqual(self.server.take_requests(),
                         ["/moved/ml-tiny.zip.md5", "/ml-tiny.zip.md5", "/moved/ml-tiny.zip",
                          "/ml-tiny.zip"])

    def test_server_error_is_an_io_error_with_the_status(self):
        r = run(["--home", self.home, "fetch", "movielens", "ml-tiny", "--url",
                 self.server.url + "/broken"])
        self.assertEqual(r.returncode, 74, r.stderr)  # kIo: may be transient
        self.assertIn("HTTP 500", r.stderr)
        self.assertIn(self.server.url + "/broken/ml-tiny.zip.md5", r.stderr)
        self.assertEqual(os.listdir(self.datasets), [])

    def test_invalid_name_is_a_usage_error(self):
        r = self.fetch("../etc")
        self.assertEqual(r.returncode, 64, r.stderr)
        self.assertIn("invalid data set name", r.stderr)
        self.assertEqual(self.server.take_requests(), [])

    def test_unreachable_server_is_an_io_error(self):
        # Bind a port, then close it: nothing listens there any more.
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        url = "http://127.0.0.1:%d" % port
        r = run(["--home", self.home, "fetch", "movielens", "ml-tiny", "--url", url])
        self.assertEqual(r.returncode, 74, r.stderr)  # kIo
        self.assertIn(url + "/ml-tiny.zip", r.stderr)


if __name__ == "__main__":
    if not RECO or not os.access(RECO, os.X_OK):
        print("SKIP: RECO_BIN is not set to an executable reco binary", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
