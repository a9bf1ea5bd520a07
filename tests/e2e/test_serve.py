"""`reco serve` end to end: the real binary on 127.0.0.1 with a free port, real HTTP
(http.client), a temporary home with models trained by the real CLI. Covers the inference
protocol, named endpoints, the external-function protocol, jobs, metrics, access control and
every bad input of issue 4. Uses MovieLens ml-latest-small when RECO_MOVIELENS_SMALL points to
it, otherwise a generated data set with MovieLens-like ids (said on stderr)."""
import gzip
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

import recotest

RECO = recotest.RECO
GUIDE_PAYLOAD = "1,308\n1,425\n2,541\n2,1197\n"
GUIDE_PAIRS = [(1, 308), (1, 425), (2, 541), (2, 1197)]
TOKEN = "e2e-token-0123456789abcdef"
JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}


def run_reco(home, *args, check=True, env=None):
    full_env = dict(os.environ)
    full_env.pop("RECO_DB", None)
    full_env.pop("RECO_TOKEN", None)
    full_env["RECO_HOME"] = home
    if env:
        full_env.update(env)
    p = subprocess.run([RECO, "--quiet", *args], capture_output=True, text=True, env=full_env, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError("reco %s failed (%d):\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def prepare_home(home):
    """Loads ratings into the warehouse and trains ratings v1, ratings v2 (different
    hyperparameters, so different predictions) and `other` (BaselineOnly)."""
    if recotest.movielens_available():
        run_reco(home, "load", "movielens", recotest.MOVIELENS)
        source = "MovieLens ml-latest-small"
    else:
        data = os.path.join(home, "generated")
        run_reco(home, "generate", "movielens", data, "--users", "120", "--items", "1400", "--ratings", "6000",
                 "--seed", "5")
        run_reco(home, "load", "movielens", data)
        source = "generated data (ml-latest-small not found at %r)" % recotest.MOVIELENS
    run_reco(home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=10")
    run_reco(home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=4", "--seed", "7")
    run_reco(home, "train", "--input", "ratings", "-k", "0", "-a", "baseline", "-m", "other")
    return source


_SHARED = {}


def shared_home():
    """One home with data and models for the whole module (training once keeps the suite fast);
    tests that need an empty one make their own."""
    if "home" not in _SHARED:
        home = tempfile.mkdtemp(prefix="reco-serve-e2e-")
        _SHARED["home"] = home
        _SHARED["source"] = prepare_home(home)
        print("test_serve: models trained on %s" % _SHARED["source"], file=sys.stderr)
    return _SHARED["home"]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Serve:
    """A `reco serve` process on 127.0.0.1 with a free port (--port 0; the URL is read from
    stdout)."""

    def __init__(self, home, *args, env=None, expect_start=True):
        self.log = tempfile.TemporaryFile(mode="w+")
        full_env = dict(os.environ)
        full_env.pop("RECO_TOKEN", None)
        full_env.pop("RECO_DB", None)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen([RECO, "--home", home, "serve", "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=full_env)
        self.url = None
        if expect_start:
            ready, _, _ = select.select([self.proc.stdout], [], [], 30)
            line = self.proc.stdout.readline() if ready else ""
            if not line.startswith("http://"):
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("reco serve did not start: %r\n%s" % (line, self.stderr()))
            self.url = line.strip()
            self.host, port = self.url[len("http://"):].rsplit(":", 1)
            self.port = int(port)

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def request(self, method, path, body=None, headers=None, timeout=30):
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, r.headers, r.read())
        finally:
            conn.close()

    def post_json(self, path, obj, headers=None):
        h = dict(JSON)
        h.update(headers or {})
        return self.request("POST", path, json.dumps(obj), h)

    def wait_until(self, predicate, timeout=15, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        log = self.stderr()
        self.log.close()
        # Under ASan/UBSan builds a report means a bug even if every answer looked right.
        for marker in ("Sanitizer", "runtime error:"):
            if marker in log:
                raise AssertionError("reco serve reported a sanitizer error:\n" + log[-4000:])


class ContinuousLoad:
    """`clients` threads posting the guide's payload to `path` on `server` until stop() (at most
    `limit_s`); an answer counts as ok when it is 200 and one of the `expected` prediction lists,
    anything else (another status, other values, an exception) is a failure."""

    def __init__(self, server, path, expected, clients=4, limit_s=60):
        self.server, self.path, self.expected, self.limit_s = server, path, expected, limit_s
        self.ok, self.failures = 0, []
        self.by_answer = [0] * len(expected)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client) for _ in range(clients)]
        self.started = time.monotonic()
        self.elapsed = 0.0

    def _client(self):
        deadline = time.monotonic() + self.limit_s  # bounded even if the test fails
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                r = self.server.request("POST", self.path, GUIDE_PAYLOAD, CSV, timeout=20)
                values = [float(x) for x in r.text().splitlines()] if r.status == 200 else None
            except Exception as e:  # a failed request is what these tests must never see
                r, values = None, repr(e)
            with self._lock:
                if r is not None and r.status == 200 and values in self.expected:
                    self.ok += 1
                    self.by_answer[self.expected.index(values)] += 1
                else:
                    self.failures.append((r, values))

    def __enter__(self):
        self.started = time.monotonic()
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join()
        self.elapsed = time.monotonic() - self.started
        return False


class ServeTestCase(unittest.TestCase):
    def serve(self, home, *args, **kw):
        s = Serve(home, *args, **kw)
        self.addCleanup(s.close)
        return s

    def fresh_home(self):
        home = tempfile.mkdtemp(prefix="reco-serve-e2e-")
        self.addCleanup(shutil.rmtree, home, True)
        return home

    def deploy(self, server, name, url):
        r = server.post_json("/deploy", {"data": [[0, name, url]]})
        self.assertEqual(r.status, 200, r)
        return r.json()["data"][0][1]

    def assert_error(self, r, status, *fragments):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/json"), r.headers)
        msg = r.json()["error"]
        for f in fragments:
            self.assertIn(f, msg)
        return msg

    def predictions_csv(self, server, path, payload=GUIDE_PAYLOAD):
        r = server.request("POST", path, payload, CSV)
        self.assertEqual(r.status, 200, r)
        return [float(x) for x in r.text().splitlines()]


def tearDownModule():
    if "home" in _SHARED:
        shutil.rmtree(_SHARED["home"], True)


class InferenceProtocolTest(ServeTestCase):
    def test_ping_lifecycle_guide_payload_and_restart(self):
        home = self.fresh_home()
        source = prepare_home(home)
        server = self.serve(home)
        r = server.request("GET", "/ping")
        self.assert_error(r, 503, "no endpoint is deployed yet")

        # A deployment made by another process is picked up within about a second.
        run_reco(home, "endpoints", "deploy", "movielens-model-v1", "models:/ratings/1")
        t0 = time.monotonic()
        server.wait_until(lambda: server.request("GET", "/ping").status == 200, timeout=10, what="/ping 200")
        self.assertLess(time.monotonic() - t0, 3.0, "deployment picked up too slowly")
        ping = server.request("GET", "/ping").json()
        self.assertEqual(ping["endpoint"], "movielens-model-v1")
        self.assertEqual(ping["version"], 1)

        # The guide's payload.csv: one prediction per line, in order, as numbers.
        r = server.request("POST", "/invocations", GUIDE_PAYLOAD, {"Content-Type": "text/csv; charset=utf-8"})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/csv"))
        lines = r.text().splitlines()
        self.assertEqual(len(lines), 4, "%s (%s)" % (lines, source))
        for (user, item), line in zip(GUIDE_PAIRS, lines):
            self.assertGreaterEqual(float(line), 0.5)
            self.assertLessEqual(float(line), 5.0)
            # The same number the command line computes in-process.
            expected = run_reco(home, "predict", "--model", "ratings", "--version", "1", str(user), str(item)).stdout
            self.assertEqual(line, expected.strip())
        # `reco predict FILE --url`, the guide's predict.sh, prints the same lines.
        payload = os.path.join(home, "payload.csv")
        with open(payload, "w") as f:
            f.write(GUIDE_PAYLOAD)
        out = run_reco(home, "predict", payload, "--url", server.url).stdout
        self.assertEqual([float(x) for x in out.split()], [float(x) for x in lines])

        # A restarted server serves the same endpoints.
        self.assertEqual(server.stop(), 0)
        again = self.serve(home)
        again.wait_until(lambda: again.request("GET", "/ping").status == 200, what="/ping after restart")
        self.assertEqual(again.request("POST", "/invocations", GUIDE_PAYLOAD, CSV).text().splitlines(), lines)

    def test_json_instances_accept_and_named_endpoint(self):
        server = self.serve(shared_home())
        self.deploy(server, "json-ep", "models:/ratings/1")
        csv = self.predictions_csv(server, "/endpoints/json-ep/invocations")
        r = server.post_json("/endpoints/json-ep/invocations",
                             {"instances": [[1, 308], ["1", 425.0], ["2.0", "541"], [2, 1197]]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["predictions"], csv)
        r = server.request("POST", "/endpoints/json-ep/invocations", GUIDE_PAYLOAD,
                           {"Content-Type": "text/csv", "Accept": "application/json"})
        self.assertEqual(r.json()["predictions"], csv)
        r = server.request("POST", "/endpoints/json-ep/invocations", GUIDE_PAYLOAD,
                           {"Content-Type": "text/csv", "Accept": "text/html"})
        self.assert_error(r, 406, "text/csv or application/json")
        r = server.request("GET", "/endpoints/json-ep")
        self.assertEqual(r.status, 200)
        e = r.json()
        self.assertEqual((e["name"], e["model"], e["version"], e["state"]), ("json-ep", "ratings", 1, "InService"))
        self.assertTrue(e["since"].endswith("Z"))
        names = [x["name"] for x in server.request("GET", "/endpoints").json()["endpoints"]]
        self.assertIn("json-ep", names)

    def test_several_endpoints_need_a_default(self):
        home = self.fresh_home()
        prepare_home(home)
        run_reco(home, "endpoints", "deploy", "a", "models:/ratings/1")
        run_reco(home, "endpoints", "deploy", "b", "models:/other")
        server = self.serve(home)
        # The server is healthy once both are loaded (a load balancer keeps it in rotation);
        # only the unnamed /invocations is ambiguous.
        server.wait_until(lambda: server.request("GET", "/ping").status == 200, what="/ping with two endpoints")
        ping = server.request("GET", "/ping").json()
        self.assertEqual(sorted(e["endpoint"] for e in ping["endpoints"]), ["a", "b"])
        self.assertNotIn("endpoint", ping)
        self.assert_error(server.request("POST", "/invocations", GUIDE_PAYLOAD, CSV), 404,
                          "2 endpoints are deployed (a, b)", "--endpoint NAME")
        pinned = self.serve(home, "--endpoint", "b")
        pinned.wait_until(lambda: pinned.request("GET", "/ping").status == 200, what="/ping with --endpoint")
        self.assertEqual(self.predictions_csv(pinned, "/invocations"),
                         self.predictions_csv(pinned, "/endpoints/b/invocations"))
        # An endpoint whose model cannot be loaded makes the server not ready, and /ping says which.
        artifact = os.path.join(home, "models", "ratings", "v2", "model.reco")
        run_reco(home, "endpoints", "deploy", "c", "models:/ratings/2")
        os.remove(artifact)
        broken = self.serve(home)
        r = broken.wait_until(lambda: (lambda p: p if "cannot be loaded" in p.body.decode() else None)(
            broken.request("GET", "/ping")), what="/ping naming the broken endpoint")
        self.assert_error(r, 503, "endpoint c is not ready: its model cannot be loaded:", "model.reco")
        self.assertNotIn("endpoint a", r.json()["error"])
        self.assertEqual(self.predictions_csv(broken, "/endpoints/a/invocations"),
                         self.predictions_csv(pinned, "/endpoints/a/invocations"))

    def test_container_mode(self):
        home = shared_home()
        server = self.serve(home, "--model", "models:/other")
        server.wait_until(lambda: server.request("GET", "/ping").status == 200, what="model loaded")
        self.assertEqual(server.request("GET", "/ping").json()["model_uri"], "models:/other")
        self.assertEqual(len(self.predictions_csv(server, "/invocations")), 4)
        # A model that cannot be loaded ends the command with its error.
        bad = Serve(home, "--model", "models:/no-such-model", expect_start=False)
        self.addCleanup(bad.close)
        code = bad.proc.wait(timeout=30)
        self.assertEqual(code, 66, bad.stderr())
        self.assertIn("no-such-model", bad.stderr())


class BadInputTest(ServeTestCase):
    """Every bad input of issue 4 gets a precise JSON error, and the server keeps running."""

    @classmethod
    def setUpClass(cls):
        # Other tests deploy to the same home: name the endpoint behind /invocations.
        cls.server = Serve(shared_home(), "--endpoint", "bad-input")
        r = cls.server.post_json("/deploy", {"data": [[0, "bad-input", "models:/ratings/1"]]})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def csv(self, body, headers=None):
        h = dict(CSV)
        h.update(headers or {})
        return self.server.request("POST", "/invocations", body, h)

    def test_csv(self):
        self.assert_error(self.csv(""), 400, "empty body")
        self.assert_error(self.csv("1,308\n2\n"), 400, "line 2: expected 2 fields (user_id,item_id), found 1")
        self.assert_error(self.csv("1,308,5\n"), 400, "line 1: expected 2 fields", "found 3")
        self.assert_error(self.csv("1,308\n2,abc\n"), 400, "line 2, field 2 (item_id): \"abc\" is not an integer id")
        self.assert_error(self.csv("1.5,308\n"), 400, "line 1, field 1 (user_id)")
        self.assert_error(self.csv("1,308\n\n2,541\n"), 400, "line 2 is empty")
        self.assert_error(self.csv("userId,movieId\n1,308\n"), 400, "header line")
        self.assertEqual(len(self.csv("1,308\r\n2,541").text().splitlines()), 2)

    def test_json(self):
        post = lambda body: self.server.request("POST", "/invocations", body, JSON)
        self.assert_error(post("[[1, 308]]"), 400, "must be a JSON object")
        self.assert_error(post('{"data": [[1, 308]]}'), 400, 'missing field "instances"')
        self.assert_error(post('{"instances": [[1, 308], 5]}'), 400, "instances[1]: expected [user_id, item_id]")
        self.assert_error(post('{"instances": [[1, 308, 3]]}'), 400, "instances[0]")
        self.assert_error(post('{"instances": [[1, 10.5]]}'), 400, "instances[0][1] (item_id): 10.5")
        self.assert_error(post('{"instances": [[1, 308]'), 400, "invalid JSON at line 1")

    def test_http_errors(self):
        self.assert_error(self.server.request("POST", "/endpoints/nope/invocations", GUIDE_PAYLOAD, CSV), 404,
                          "no endpoint named 'nope'")
        self.assert_error(self.server.request("GET", "/endpoints/nope"), 404, "no endpoint named nope")
        self.assert_error(self.server.request("GET", "/nope"), 404, "no route for GET /nope")
        r = self.server.request("GET", "/invocations")
        self.assert_error(r, 405, "GET is not allowed on /invocations")
        self.assertEqual(r.headers["Allow"], "POST")
        r = self.server.request("DELETE", "/ping")
        self.assertEqual((r.status, r.headers["Allow"]), (405, "GET, HEAD"))
        self.assert_error(self.csv(GUIDE_PAYLOAD, {"Content-Type": "text/plain"}), 415, "text/plain")
        self.assert_error(self.server.request("POST", "/invocations", GUIDE_PAYLOAD), 415, "Content-Type header is missing")
        self.assert_error(self.csv(GUIDE_PAYLOAD, {"Content-Type": "text/csv; charset=utf-16"}), 415, "utf-16")
        self.assert_error(self.server.request("POST", "/invoke", '{"data": []}', {"Content-Type": "text/csv"}), 415)
        self.assert_error(self.csv(GUIDE_PAYLOAD, {"Content-Encoding": "br"}), 415, "Content-Encoding br")

    def test_huge_body(self):
        big = "1,308\n" * (7 * 1024 * 1024 // 6 + 1)  # just over 7 MB: the limit is 6 MiB
        self.assert_error(self.csv(big), 413, "larger than the limit of 6291456 bytes")
        # A small gzip body that inflates past the limit is refused as well.
        bomb = gzip.compress(b"1,308\n" * (2 * 1024 * 1024))
        self.assertLess(len(bomb), 100000)
        self.assert_error(self.csv(bomb, {"Content-Encoding": "gzip"}), 413, "decompressed")
        self.assertEqual(self.server.request("GET", "/ping").status, 200)

    def test_gzip(self):
        plain = self.csv(GUIDE_PAYLOAD).text()
        self.assertEqual(self.csv(gzip.compress(GUIDE_PAYLOAD.encode()), {"Content-Encoding": "gzip"}).text(), plain)
        self.assertEqual(self.csv(zlib.compress(GUIDE_PAYLOAD.encode()), {"Content-Encoding": "deflate"}).text(), plain)
        self.assert_error(self.csv(b"this is not gzip", {"Content-Encoding": "gzip"}), 400, "not valid gzip data")
        z = gzip.compress(GUIDE_PAYLOAD.encode())
        self.assert_error(self.csv(z[:-8], {"Content-Encoding": "gzip"}), 400, "truncated")
        r = self.server.post_json("/invoke", {"data": [[0, "bad-input", 1, 308]]})
        self.assertEqual(r.status, 200)
        gz = self.server.request("POST", "/invoke", gzip.compress(json.dumps({"data": [[0, "bad-input", 1, 308]]}).encode()),
                                 {"Content-Type": "application/json", "Content-Encoding": "gzip"})
        self.assertEqual(gz.json(), r.json())

    def test_malformed_request_line_gets_400_and_the_connection_closes(self):
        for raw, status in [(b"GARBAGE\r\n\r\nmore garbage\r\n", b"400"),
                            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"414")]:
            s = socket.create_connection((self.server.host, self.server.port), timeout=10)
            self.addCleanup(s.close)
            s.sendall(raw)
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            self.assertTrue(answer.startswith(b"HTTP/1.1 " + status), answer)
            self.assertEqual(answer.count(b"HTTP/1.1"), 1, answer)  # nothing after it was parsed
            self.assertIn(b"Connection: close", answer)
            self.assertIn(b'"error"', answer)
        self.assertEqual(self.server.request("GET", "/ping").status, 200)

    def test_slow_client_times_out_without_blocking_others(self):
        server = self.serve(shared_home(), "--read-timeout", "0.5")
        slow = socket.create_connection((server.host, server.port), timeout=10)
        self.addCleanup(slow.close)
        slow.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")  # stalls
        t0 = time.monotonic()
        self.assertEqual(server.request("GET", "/healthz").status, 200)  # others are served meanwhile
        data = b""
        while True:
            chunk = slow.recv(4096)
            if not chunk:
                break
            data += chunk
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(server.request("GET", "/healthz").status, 200)


class ExternalFunctionTest(ServeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Serve(shared_home())
        for name, url in [("ef-a", "models:/ratings/1"), ("ef-b", "models:/other")]:
            r = cls.server.post_json("/deploy", {"data": [[0, name, url]]})
            assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def invoke(self, rows, headers=None):
        return self.server.post_json("/invoke", {"data": rows}, headers)

    def test_mixed_batch(self):
        a = self.predictions_csv(self.server, "/endpoints/ef-a/invocations")
        b = self.predictions_csv(self.server, "/endpoints/ef-b/invocations")
        rows = [
            [4, "ef-a", 1, 308],
            [0, "ef-a", "1", "308"],
            [2, "ef-a", 1.0, "308.0"],
            [7, "ef-b", "2", 541],
            [1, None, 1, 308],
            [3, "ef-a", None, 308],
            [4, "ef-a", 1, 308],  # the same row again (a retry)
            [5, "ef-b", 2.0, "1197"],
            [6, "ef-a", "1.0", 425],
        ]
        r = self.invoke(rows, {"sf-external-function-query-batch-id": "batch-1",
                               "sf-external-function-format": "json", "sf-custom-anything": "ignored"})
        self.assertEqual(r.status, 200, r)
        data = r.json()["data"]
        self.assertEqual([row[0] for row in data], [4, 0, 2, 7, 1, 3, 4, 5, 6])
        self.assertEqual([row[1] for row in data], [a[0], a[0], a[0], b[2], None, None, a[0], b[3], a[1]])
        self.assertIsInstance(data[0][1], float)
        self.assertNotEqual(a, b)

    def test_bad_rows_name_the_row(self):
        self.assert_error(self.invoke([[0, "ef-a", 1, 308], [1, "ef-a", 10.5, 308]]), 400,
                          "row 1 (data[1]), argument 2 (user_id): 10.5 is not an integer id")
        self.assert_error(self.invoke([[3, "ef-a", "abc", 308]]), 400, "row 3 (data[0]), argument 2 (user_id): \"abc\"")
        self.assert_error(self.invoke([[0, "ef-a", 1, 308], [9, "nope", 1, 308]]), 404,
                          "row 9 (data[1]), argument 1 (model_name)", "nope")
        self.assert_error(self.invoke([[0, 5, 1, 308]]), 400, "argument 1 (model_name): expected a string")
        post = lambda body: self.server.request("POST", "/invoke", body, JSON)
        self.assert_error(post(""), 400, "empty body")
        self.assert_error(post("[1, 2]"), 400, "must be a JSON object")
        self.assert_error(post('{"rows": []}'), 400, 'missing field "data"')
        self.assert_error(post('{"data": [[0, "ef-a", 1, 308], {"a": 1}]}'), 400, "data[1]: expected a row")
        self.assert_error(post('{"data": [["ef-a", 1, 308]]}'), 400, "data[0][0]: the row number must be a non-negative integer")
        self.assert_error(post('{"data": [[0.5, "ef-a", 1, 308]]}'), 400, "data[0][0]")
        self.assert_error(post('{"data": [[0, "ef-a", 1]]}'), 400,
                          "invoke(model_name, user_id, item_id) takes 3 arguments, got 2")
        self.assertEqual(self.invoke([]).json(), {"data": []})

    def test_deploy_create_update_and_failed_deploys(self):
        r = self.server.post_json("/deploy", {"data": [[0, "ef-up", "models:/ratings/1"], [1, None, "x"]]})
        self.assertEqual(r.status, 200, r)
        first, null_row = r.json()["data"]
        self.assertEqual(null_row, [1, None])
        self.assertEqual(first[0], 0)
        self.assertTrue(first[1]["created"])
        self.assertEqual((first[1]["version"], first[1]["generation"]), (1, 1))
        v1 = self.predictions_csv(self.server, "/endpoints/ef-up/invocations")

        again = self.deploy(self.server, "ef-up", "models:/ratings/2")
        self.assertFalse(again["created"])
        self.assertEqual((again["version"], again["generation"]), (2, 2))
        v2 = self.predictions_csv(self.server, "/endpoints/ef-up/invocations")
        self.assertNotEqual(v1, v2)

        # Failed deployments change nothing: the previous model keeps serving.
        self.assert_error(self.server.post_json("/deploy", {"data": [[0, "ef-up", "models:/ratings/99"]]}), 404,
                          "row 0 (data[0]): cannot deploy endpoint ef-up")
        corrupt = os.path.join(shared_home(), "corrupt.reco")
        with open(corrupt, "wb") as f:
            f.write(b"RECOMDL\0" + b"\x07" * 200)
        self.assert_error(self.server.post_json("/deploy", {"data": [[0, "ef-up", corrupt]]}), 400, "cannot deploy")
        self.assert_error(self.server.post_json("/deploy", {"data": [[0, "ef-up", "s3://bucket/model"]]}), 400)
        self.assert_error(self.server.post_json("/deploy", {"data": [[0, "bad name!", "models:/ratings"]]}), 400,
                          "argument 1 (model_name)")
        self.assertEqual(self.predictions_csv(self.server, "/endpoints/ef-up/invocations"), v2)
        e = self.server.request("GET", "/endpoints/ef-up").json()
        self.assertEqual((e["version"], e["state"], e["generation"]), (2, "InService", 2))

    def test_train_async_polling_and_idempotent_retry(self):
        batch = {"sf-external-function-query-batch-id": "train-batch-%d" % os.getpid()}
        rows = {"data": [[0, "MOVIELENS.PUBLIC.ratings", "ef_recs", '{"folds": 2, "model": "ef-trained", "params": {"n_factors": 5}}'],
                         [1, None, "x"]]}
        r = self.server.post_json("/train", rows, batch)
        self.assertIn(r.status, (200, 202), r)
        if r.status == 202:
            job_id = r.json()["jobs"][0]["job"]
            self.assertEqual(r.json()["state"], "InProgress")
        polled = self.server.wait_until(
            lambda: (lambda p: p if p.status == 200 else None)(self.server.request("GET", "/train", headers=batch)),
            timeout=120, what="training to finish")
        data = polled.json()["data"]
        self.assertEqual(data[1], [1, None])
        result = data[0][1]
        self.assertEqual(data[0][0], 0)
        for key in ("job", "model", "version", "artifact_uri", "rmse", "mae"):
            self.assertIn(key, result)
        self.assertEqual((result["model"], result["version"]), ("ef-trained", 1))
        if r.status == 202:
            self.assertEqual(result["job"], job_id)
        # A retried batch id never starts a second job.
        retry = self.server.post_json("/train", rows, batch)
        self.assertEqual(retry.status, 200)
        self.assertEqual(retry.json(), polled.json())
        jobs = self.server.request("GET", "/jobs").json()["jobs"]
        self.assertEqual(len([j for j in jobs if j["id"] == result["job"]]), 1)
        self.assertEqual(len([j for j in jobs if (j.get("idempotency_key") or "").startswith(batch[
            "sf-external-function-query-batch-id"])]), 1)
        job = self.server.request("GET", "/jobs/" + result["job"]).json()
        self.assertEqual(job["state"], "Completed")
        self.assertTrue(job["log"])
        self.assertEqual(sorted(os.listdir(os.path.join(shared_home(), "models", "ef-trained"))), ["v1"])

        # A job that fails: the poll answers 400 naming the row and the reason.
        bad = {"sf-external-function-query-batch-id": "train-bad-%d" % os.getpid()}
        r = self.server.post_json("/train", {"data": [[5, "no_such_table", "x"]]}, bad)
        self.assertIn(r.status, (202, 400), r)
        failed = self.server.wait_until(
            lambda: (lambda p: p if p.status != 202 else None)(self.server.request("GET", "/train", headers=bad)),
            timeout=60, what="the failing job")
        msg = self.assert_error(failed, 400, "row 5 (data[0]): training job", "no_such_table")
        job = self.server.request("GET", "/jobs/" + failed.json()["job"]).json()
        self.assertEqual(job["state"], "Failed")
        self.assertIn("no_such_table", job["failure"])
        self.assertTrue(msg)
        self.assert_error(self.server.request("GET", "/train"), 400, "sf-external-function-query-batch-id")
        self.assert_error(self.server.request("GET", "/train", headers={"sf-external-function-query-batch-id": "never"}), 404)
        self.assert_error(self.server.post_json("/train", {"data": [[0, "ratings; drop table x", "y"]]}), 400,
                          "argument 1 (input_table)")
        self.assert_error(self.server.post_json("/train", {"data": [[0, "ratings", "y", '{"folds": "many"}']]}), 400,
                          "argument 3 (options_json)")
        self.assert_error(self.server.request("GET", "/jobs/no-such-job"), 404)


class AccessAndObservabilityTest(ServeTestCase):
    def test_token_auth(self):
        home = shared_home()
        token_file = os.path.join(self.fresh_home(), "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        server = self.serve(home, "--token-file", token_file)
        r = server.request("GET", "/endpoints")
        self.assert_error(r, 401, "requires a bearer token")
        self.assertEqual(r.headers["WWW-Authenticate"], 'Bearer realm="reco"')
        r = server.request("GET", "/endpoints", headers={"Authorization": "Bearer wrong-" + TOKEN})
        self.assert_error(r, 401, "not valid")
        self.assertIn("invalid_token", r.headers["WWW-Authenticate"])
        self.assertEqual(server.request("GET", "/endpoints", headers={"Authorization": "Bearer " + TOKEN}).status, 200)
        self.assertIn(server.request("GET", "/ping").status, (200, 503))  # health checks carry no token
        r = server.request("POST", "/invoke", '{"data": []}', {"Content-Type": "application/json"})
        self.assertEqual(r.status, 401)
        # RECO_TOKEN works the same, and `reco predict --url` sends it.
        env_server = self.serve(home, "--endpoint", "ef-a", env={"RECO_TOKEN": TOKEN})
        self.assertEqual(env_server.request("POST", "/invocations", GUIDE_PAYLOAD, CSV).status, 401)
        self.assertEqual(env_server.request("GET", "/metrics", headers={"Authorization": "bearer " + TOKEN}).status, 200)
        self.assertNotIn(TOKEN, server.stderr() + env_server.stderr())

    def test_public_address_requires_a_token(self):
        bad = Serve(shared_home(), "--host", "0.0.0.0", expect_start=False)
        self.addCleanup(bad.close)
        self.assertEqual(bad.proc.wait(timeout=30), 64)
        self.assertIn("needs a bearer token", bad.stderr())

    def test_metrics_and_access_log(self):
        server = self.serve(shared_home())
        self.deploy(server, "metrics-ep", "models:/ratings/1")
        self.predictions_csv(server, "/endpoints/metrics-ep/invocations")
        server.request("POST", "/endpoints/metrics-ep/invocations", "x", CSV)
        r = server.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        text = r.text()
        for line in [
            'reco_http_requests_total{route="/endpoints/{name}/invocations",endpoint="metrics-ep",method="POST",code="200"} 1',
            'reco_http_requests_total{route="/endpoints/{name}/invocations",endpoint="metrics-ep",method="POST",code="400"} 1',
            'reco_http_errors_total{route="/endpoints/{name}/invocations",endpoint="metrics-ep",class="4xx"} 1',
            'reco_http_request_duration_seconds_count{route="/endpoints/{name}/invocations",endpoint="metrics-ep"} 2',
            'reco_predictions_total{endpoint="metrics-ep"} 4',
            "# TYPE reco_http_request_duration_seconds histogram",
            "reco_http_in_flight_requests ",
            "reco_http_queue_depth 0",
        ]:
            self.assertIn(line, text)
        self.assertRegex(text, r'reco_model_version_loaded\{endpoint="metrics-ep",model="ratings",version="1",'
                               r'artifact_uri="file://[^"]+"\} 1')
        for line in text.splitlines():
            self.assertTrue(line.startswith("#") or " " in line, line)
        log = server.stderr()
        self.assertRegex(log, r'127\.0\.0\.1 "POST /endpoints/metrics-ep/invocations" 200 \d+B [0-9.]+ms '
                              r'endpoint=metrics-ep predictions=4')
        self.assertIn('"POST /endpoints/metrics-ep/invocations" 400', log)
        self.assertNotIn("1,308", log)  # never the body


if __name__ == "__main__":
    recotest.main()
