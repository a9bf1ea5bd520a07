"""Hostile inputs and concurrent writers (issue 13), end to end on the real binary: deep JSON,
FIFOs and huge non-artifacts named by clients, reused and raced batch ids, two servers on one
home, and two writers of every kind on one warehouse."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import recotest
from test_serve import Serve, ServeTestCase, run_reco

RECO = recotest.RECO
BATCH = "sf-external-function-query-batch-id"


def small_home(home, ratings="6000"):
    data = os.path.join(home, "generated")
    run_reco(home, "generate", "movielens", data, "--users", "120", "--items", "900", "--ratings", ratings,
             "--seed", "5")
    run_reco(home, "load", "movielens", data)
    return data


class WithModel(ServeTestCase):
    """One home per class: generated ratings, a small model, endpoints ep0 and ep."""

    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="reco-hardening-")
        small_home(cls.home)
        run_reco(cls.home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=4")
        for name in ("ep0", "ep"):
            run_reco(cls.home, "endpoints", "deploy", name, "models:/ratings")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, True)


class HostileClients(WithModel):
    def setUp(self):
        self.server = self.serve(self.home)

    def test_deeply_nested_json_is_refused_and_the_server_lives(self):
        deep = "[" * 100000 + "]" * 100000
        for path in ("/invoke", "/deploy", "/train", "/endpoints/ep0/invocations"):
            r = self.server.request("POST", path, deep, {"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, (path, r))
            self.assertIn("nesting deeper than 64 levels", r.json()["error"], path)
        obj = '{"data": [[0, ' + "[" * 5000 + "]" * 5000 + ', 1, 2]]}'
        r = self.server.request("POST", "/invoke", obj, {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        # A number beyond double's range is bad input too (found by the payloads fuzzer: it was 500).
        r = self.server.request("POST", "/invoke", '{"data": [[0, "ep0", 1E99999, 1]]}',
                                {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.server.request("GET", "/ping").status, 200)
        self.assertIsNone(self.server.proc.poll())

    def test_deploying_a_fifo_or_a_huge_non_artifact_fails_at_once(self):
        fifo = os.path.join(self.home, "model.fifo")
        if not os.path.exists(fifo):
            os.mkfifo(fifo)
        start = time.monotonic()
        r = self.server.post_json("/deploy", {"data": [[0, "ep", fifo]]})
        self.assert_error(r, 400, "is a FIFO, not a regular file")
        big = os.path.join(self.home, "big.bin")
        with open(big, "wb") as f:
            f.truncate(1 << 30)  # 1 GiB, sparse: reading it whole would show in time and memory
        r = self.server.post_json("/deploy", {"data": [[0, "ep", big]]})
        self.assert_error(r, 400, "not a reco model artifact")
        self.assertLess(time.monotonic() - start, 10)
        r = run_reco(self.home, "endpoints", "deploy", "ep2", fifo, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is a FIFO, not a regular file", r.stderr)
        r = run_reco(self.home, "sql", "-c", "select deploy_model('ep3', '%s')" % fifo, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is a FIFO, not a regular file", r.stderr)
        os.unlink(big)

    def test_a_reused_batch_id_with_another_payload_is_a_conflict(self):
        batch = {BATCH: "reuse-%d" % os.getpid()}
        first = {"data": [[0, "ratings", "reuse_out", '{"folds": 0, "model": "reuse"}']]}
        r = self.server.post_json("/train", first, batch)
        self.assertIn(r.status, (200, 202), r)
        other = {"data": [[0, "ratings", "reuse_out2", '{"folds": 0, "model": "reuse"}']]}
        r = self.server.post_json("/train", other, batch)
        self.assert_error(r, 409, "batch id reuse-%d was already used for a different request" % os.getpid())
        # The same payload again is a retry: answered from the first job.
        done = self.server.wait_until(
            lambda: (lambda p: p if p.status == 200 else None)(self.server.post_json("/train", first, batch)),
            timeout=120, what="the first batch")
        self.assertEqual(done.json()["data"][0][1]["model"], "reuse")


def raw_exchange(server, data, timeout=10):
    """Sends raw bytes, then reads until the server closes the connection."""
    s = socket.create_connection((server.host, server.port), timeout=timeout)
    try:
        s.sendall(data)
        answer = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
        return answer
    finally:
        s.close()


class StrictHttp(WithModel):
    """Request smuggling, oversized headers and slow clients against the real server."""

    def test_every_smuggling_variant_is_refused_and_the_smuggled_request_never_answered(self):
        server = self.serve(self.home)
        smuggled = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        body = b"0\r\n\r\n" + smuggled
        head = b"POST /invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        variants = {
            "CL+TE": head + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body) + body,
            "TE+CL": head + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + body,
            "two CL": head + b"Content-Length: 5\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
            "xchunked": head + b"Transfer-Encoding: xchunked\r\n\r\n" + body,
            "chunked twice": head + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
            "obs-fold": head + b"Transfer-Encoding:\r\n chunked\r\n\r\n" + body,
            "space before colon": head + b"Transfer-Encoding : chunked\r\n\r\n" + body,
            "chunk without CRLF": head + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX" + smuggled,
            "bare LF": b"POST /invoke HTTP/1.1\nHost: x\nContent-Length: 0\n\n" + smuggled,
            "CL with sign": head + b"Content-Length: +5\r\n\r\nhello" + smuggled,
        }
        for name, raw in variants.items():
            answer = raw_exchange(server, raw)
            self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), (name, answer[:200]))
            self.assertEqual(answer.count(b"HTTP/1.1 "), 1, (name, answer))  # the smuggled GET unanswered
            self.assertIn(b"Connection: close", answer, name)
        self.assertEqual(server.request("GET", "/healthz").status, 200)
        metrics = server.request("GET", "/metrics").text()
        self.assertRegex(metrics, r"reco_http_protocol_errors_total [1-9]")

    def test_oversized_headers_get_431_before_authentication(self):
        server = self.serve(self.home, "--token", "0123456789abcdef-token")
        big = b"GET /endpoints HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(70)) + b"\r\n"
        answer = raw_exchange(server, big)
        self.assertTrue(answer.startswith(b"HTTP/1.1 431 "), answer[:200])
        # An endless header line is cut off at the limit, not buffered.
        s = socket.create_connection((server.host, server.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        answer = b""
        try:
            for _ in range(200):
                s.sendall(b"a" * 4096)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = s.recv(65536)
        except ConnectionResetError:
            pass
        self.assertTrue(answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200])
        self.assertEqual(server.request("GET", "/healthz").status, 200)

    def test_slowloris_does_not_starve_normal_requests(self):
        server = self.serve(self.home, "--threads", "2", "--read-timeout", "10")
        slow = []
        for _ in range(200):
            c = socket.create_connection((server.host, server.port), timeout=10)
            self.addCleanup(c.close)
            c.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\n")
            slow.append(c)
        latencies = []
        for i in range(30):
            if i % 5 == 0:
                for c in slow:
                    c.sendall(b"X-Slow: 1\r\n")
            t0 = time.monotonic()
            r = server.request("POST", "/endpoints/ep/invocations", "1,1\n2,2\n", {"Content-Type": "text/csv"})
            latencies.append(time.monotonic() - t0)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(server.request("GET", "/healthz").status, 200)
        latencies.sort()
        self.assertLess(latencies[-1], 1.0, latencies)
        # The slow ones are cut off by the request deadline, answered 408.
        server2 = self.serve(self.home, "--read-timeout", "0.3")
        c = socket.create_connection((server2.host, server2.port), timeout=10)
        self.addCleanup(c.close)
        c.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\n")
        answer = c.recv(65536)
        self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)


class TwoServersOneHome(ServeTestCase):
    def test_a_batch_raced_across_two_servers_starts_one_job(self):
        home = self.fresh_home()
        small_home(home)
        a = self.serve(home)
        b = self.serve(home)
        for attempt in range(4):
            batch = {BATCH: "race-%d-%d" % (os.getpid(), attempt)}
            rows = {"data": [[0, "ratings", "race_out_%d" % attempt, '{"folds": 0, "model": "race%d"}' % attempt]]}
            answers = [None, None]

            def post(i, server):
                answers[i] = server.post_json("/train", rows, batch)

            threads = [threading.Thread(target=post, args=(i, s)) for i, s in enumerate((a, b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for r in answers:
                self.assertIn(r.status, (200, 202, 503), r)
            a.wait_until(lambda: a.request("GET", "/train", headers=batch).status == 200, timeout=120,
                         what="the raced batch")
            jobs = [j for j in a.request("GET", "/jobs").json()["jobs"]
                    if (j.get("request") or {}).get("source", {}).get("batch_id") == batch[BATCH]]
            self.assertEqual(len(jobs), 1, jobs)
            self.assertEqual(os.listdir(os.path.join(home, "models", "race%d" % attempt)), ["v1"])


class ConcurrentWriters(recotest.RecoTestCase):
    """Two writers of every kind on one warehouse: all succeed (serialised by SQLite's write
    lock, which they now queue for), none says "database is locked"."""

    def run_both(self, a, b):
        env = dict(os.environ, RECO_HOME=self.home)
        env.pop("RECO_DB", None)
        procs = [subprocess.Popen([RECO, "--quiet", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env) for args in (a, b)]
        outs = [p.communicate(timeout=600) for p in procs]
        for p, (out, err), args in zip(procs, outs, (a, b)):
            self.assertEqual(p.returncode, 0, "reco %s failed:\n%s%s" % (" ".join(args), out, err))
            self.assertNotIn("locked", err)
        return outs

    def setUp(self):
        super().setUp()
        self.data = small_home(self.home, ratings="60000")

    def test_two_loads_into_different_tables(self):
        ratings = os.path.join(self.data, "ratings.csv")
        for _ in range(3):
            self.run_both(["load", "csv", ratings, "--table", "one", "--replace"],
                          ["load", "csv", ratings, "--table", "two", "--replace"])
        counts = self.query("select (select count(*) from one) as a, (select count(*) from two) as b")
        self.assertEqual(counts, [{"a": 60000, "b": 60000}])

    def test_two_trainings_into_one_and_two_tables(self):
        train = ["train", "--input", "ratings", "-k", "2", "--set", "n_epochs=5"]
        self.run_both(train + ["--output", "same", "-m", "a"], train + ["--output", "same", "-m", "b"])
        self.run_both(train + ["--output", "left", "-m", "a"], train + ["--output", "right", "-m", "b"])
        rows = self.query("select (select count(*) from same) as s, (select count(*) from left) as l, "
                          "(select count(*) from right) as r")[0]
        self.assertEqual(rows["s"], rows["l"])
        self.assertEqual(rows["l"], rows["r"])
        self.assertGreater(rows["s"], 0)

    def test_sql_training_beside_cli_training_and_a_load(self):
        ratings = os.path.join(self.data, "ratings.csv")
        self.run_both(["sql", "-c", "select train_and_get_recommendations('ratings', 'from_sql', "
                       "'{\"folds\": 2, \"model\": \"s\"}')"],
                      ["train", "--input", "ratings", "-k", "2", "--output", "from_cli", "-m", "c"])
        self.run_both(["sql", "-c", "select train_and_get_recommendations('ratings', 'from_sql', "
                       "'{\"folds\": 2, \"model\": \"s\"}')"],
                      ["load", "csv", ratings, "--table", "extra", "--replace"])
        self.assertEqual(self.query("select count(*) as n from extra"), [{"n": 60000}])


class ReadOnlyHome(ServeTestCase):
    """A home the user may read but not write (as root, the test runs reco as nobody): reads,
    invoke_model and serving work; writes fail with a non-retryable error naming the path."""

    def setUp(self):
        import pwd
        self.home = self.fresh_home()
        small_home(self.home)
        run_reco(self.home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=4")
        run_reco(self.home, "endpoints", "deploy", "ep", "models:/ratings")
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                self.skipTest("SKIPPED: running as root and setpriv is missing: cannot drop to an unprivileged user")
            for root, dirs, files in os.walk(self.home):
                os.chmod(root, 0o755)
                for f in files:
                    os.chmod(os.path.join(root, f), 0o644)
            parent = os.path.dirname(self.home)
            os.chmod(parent, os.stat(parent).st_mode | 0o011)
            self.prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        else:
            for root, dirs, files in os.walk(self.home):
                for f in files:
                    os.chmod(os.path.join(root, f), 0o444)
                os.chmod(root, 0o555)
            self.addCleanup(lambda: [os.chmod(r, 0o755) for r, _, _ in os.walk(self.home)])
            self.prefix = []

    def run_ro(self, *args):
        env = dict(os.environ)
        env.pop("RECO_DB", None)
        return subprocess.run(self.prefix + [RECO, "--home", self.home, *args], capture_output=True, text=True,
                              env=env, timeout=120)

    def test_reads_work_and_writes_say_read_only(self):
        r = self.run_ro("sql", "-c", "select count(*) > 0 as ok from ratings",
                        "-c", "select invoke_model('ep', 1, 2) > 0 as ok")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_ro("predict", "--endpoint", "ep", "1", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_ro("sql", "-c", "select train_and_get_recommendations('ratings', 'out')")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("read-only", r.stderr)
        self.assertIn(self.home, r.stderr)
        r = self.run_ro("load", "csv", os.path.join(self.home, "generated", "ratings.csv"), "--table", "t")
        self.assertEqual(r.returncode, 65, r.stderr)
        self.assertIn("read-only", r.stderr)

    def test_serving_works_and_train_is_refused_without_inviting_retries(self):
        server = Serve(self.home, env=None) if not self.prefix else None
        if self.prefix:
            # Serve as the unprivileged user.
            import select as sel
            env = dict(os.environ)
            env.pop("RECO_DB", None)
            env.pop("RECO_TOKEN", None)
            proc = subprocess.Popen(self.prefix + [RECO, "--home", self.home, "serve", "--port", "0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            self.addCleanup(lambda: (proc.kill(), proc.wait()))
            ready, _, _ = sel.select([proc.stdout], [], [], 30)
            url = proc.stdout.readline().strip() if ready else ""
            self.assertTrue(url.startswith("http://"), proc.stderr.read() if proc.poll() is not None else url)
            import http.client
            host, port = url[len("http://"):].rsplit(":", 1)

            def request(method, path, body=None, headers=None):
                c = http.client.HTTPConnection(host, int(port), timeout=30)
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                return r.status, r.read()
        else:
            self.addCleanup(server.close)

            def request(method, path, body=None, headers=None):
                r = server.request(method, path, body, headers)
                return r.status, r.body
        status, body = request("POST", "/invocations", "1,2\n", {"Content-Type": "text/csv"})
        self.assertEqual(status, 200, body)
        status, body = request("POST", "/train", json.dumps({"data": [[0, "ratings", "out"]]}),
                               {"Content-Type": "application/json", BATCH: "ro-1"})
        self.assertEqual(status, 409, body)
        self.assertIn(b"read-only", body)


class DegradedNames(recotest.RecoTestCase):
    def test_temp_tables_and_unknown_schemas_are_named(self):
        path = os.path.join(self.home, "r.csv")
        with open(path, "w") as f:
            f.write("userId,movieId,rating\n1,2,3\n")
        r = self.reco("load", "csv", path, "--table", "temp.t", check=False)
        self.assertEqual(r.returncode, 64, r.stderr)  # EX_USAGE
        self.assertIn("a temporary table lives only as long as this command's connection", r.stderr)
        r = self.reco("train", "--input", "MOVIELENS.OTHER.t", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown schema 'OTHER' in table name 'OTHER.t' (this warehouse has: main", r.stderr)

    def test_a_temp_table_works_inside_one_sql_session(self):
        path = os.path.join(self.home, "r.csv")
        with open(path, "w") as f:
            f.write("userId,movieId,rating\n" + "".join("%d,%d,%d\n" % (u, i, 1 + (u * i) % 5)
                                                      for u in range(1, 30) for i in range(1, 40)))
        self.reco("load", "csv", path, "--table", "r")
        out = self.sql("create temp table t as select * from r",
                       "select train_and_get_recommendations('t', 'temp.recs', '{\"folds\": 0}')",
                       "select count(*) as n from temp.recs").stdout
        self.assertIn('"n": 29', out.replace('"n":29', '"n": 29'))


if __name__ == "__main__":
    recotest.main()
