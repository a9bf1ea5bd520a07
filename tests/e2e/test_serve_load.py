"""`reco serve` under load and at shutdown, end to end with the real binary on 127.0.0.1: hot swap
under continuous load with zero failed requests, overload answered 503 with Retry-After while
health checks stay green, the training queue limit (429), and SIGTERM draining in-flight
requests before exit 0. Request loops are bounded in count and time."""
import json
import os
import signal
import socket
import threading
import time

import recotest
from test_serve import CSV, GUIDE_PAYLOAD, ContinuousLoad, Serve, ServeTestCase, run_reco, shared_home


class HotSwapTest(ServeTestCase):
    def test_hot_swap_under_continuous_load(self):
        home = shared_home()
        server = self.serve(home)
        self.deploy(server, "swap", "models:/ratings/1")
        v1 = self.predictions_csv(server, "/endpoints/swap/invocations")
        self.deploy(server, "swap-probe", "models:/ratings/2")
        v2 = self.predictions_csv(server, "/endpoints/swap-probe/invocations")
        self.assertNotEqual(v1, v2)

        with ContinuousLoad(server, "/endpoints/swap/invocations", [v1, v2]) as load:
            # Swap back and forth: over HTTP (this server) and from another process.
            for i, url in enumerate(["models:/ratings/2", "models:/ratings/1", "models:/ratings/2"]):
                time.sleep(0.3)
                if i == 1:
                    run_reco(home, "endpoints", "deploy", "swap", url)
                else:
                    self.deploy(server, "swap", url)
            time.sleep(0.3)
            # The deployment from the other process must be in service by now or very soon.
            server.wait_until(lambda: server.request("GET", "/endpoints/swap").json()["serving"]["version"] == 2,
                              what="the last deployment to be served")
            time.sleep(0.3)
        self.assertEqual(load.failures, [])
        self.assertGreater(load.ok, 20)
        self.assertGreater(load.by_answer[0], 0)
        self.assertGreater(load.by_answer[1], 0)
        self.assertEqual(self.predictions_csv(server, "/endpoints/swap/invocations"), v2)


class OverloadTest(ServeTestCase):
    def test_idle_and_slow_connections_hold_no_worker(self):
        server = self.serve(shared_home(), "--threads", "1", "--queue", "1", "--read-timeout", "5",
                            "--endpoint", "overload")
        self.deploy(server, "overload", "models:/ratings/1")
        # With one worker and one queue slot, 40 idle connections and 8 that trickle a header
        # (slowloris) used to hold every worker; now they cost memory only.
        idle = [socket.create_connection((server.host, server.port), timeout=10) for _ in range(40)]
        slow = [socket.create_connection((server.host, server.port), timeout=10) for _ in range(8)]
        for s in idle + slow:
            self.addCleanup(s.close)
        for s in slow:
            s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\n")
        for _ in range(10):
            t0 = time.monotonic()
            self.assertEqual(self.predictions_csv(server, "/endpoints/overload/invocations"),
                             self.predictions_csv(server, "/invocations"))
            self.assertLess(time.monotonic() - t0, 2.0)
            for s in slow:
                s.sendall(b"X-Slow: 1\r\n")

    def test_overload_answers_503_and_health_checks_stay_green(self):
        server = self.serve(shared_home(), "--threads", "1", "--queue", "1", "--max-body", "64MB",
                            "--endpoint", "overload")
        self.deploy(server, "overload", "models:/ratings/1")
        # Requests heavy enough to keep the only worker busy: with one queue slot, of eight sent
        # at once most are refused, while health checks and metrics are answered by the event
        # thread itself.
        big = "".join("%d,%d\n" % (1 + i % 600, 1 + (i * 7) % 5000) for i in range(400000))
        answers = []

        def heavy():
            answers.append(server.request("POST", "/endpoints/overload/invocations", big, CSV, timeout=60))

        refused = None
        for attempt in range(5):
            threads = [threading.Thread(target=heavy) for _ in range(8)]
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                t0 = time.monotonic()
                ping = server.request("GET", "/ping", timeout=10)
                self.assertEqual(ping.status, 200, ping)
                self.assertEqual(server.request("GET", "/healthz", timeout=10).status, 200)
                self.assertLess(time.monotonic() - t0, 2.0)
                time.sleep(0.01)
            for t in threads:
                t.join()
            refused = [r for r in answers if r.status == 503]
            if refused:
                break
        self.assertTrue(refused, [r.status for r in answers])
        self.assert_error(refused[0], 503, "the server is overloaded")
        self.assertEqual(refused[0].headers["Retry-After"], "1")
        self.assertTrue(all(r.status in (200, 503) for r in answers), answers)
        metrics = server.request("GET", "/metrics", timeout=10).text()
        self.assertRegex(metrics, r'reco_http_rejected_connections_total\{lane="overload"\} [1-9]')
        self.assertEqual(server.request("POST", "/endpoints/overload/invocations", GUIDE_PAYLOAD, CSV).status, 200)

    def test_connection_limit_keeps_health_checks_answered(self):
        server = self.serve(shared_home(), "--max-connections", "20", "--endpoint", "cap")
        self.deploy(server, "cap", "models:/ratings/1")
        held = [socket.create_connection((server.host, server.port), timeout=10) for _ in range(20)]
        for s in held:
            self.addCleanup(s.close)
        time.sleep(0.2)
        r = server.request("POST", "/endpoints/cap/invocations", GUIDE_PAYLOAD, CSV)
        self.assert_error(r, 503, "the server has 20 connections open, its limit")
        self.assertEqual(r.headers["Retry-After"], "1")
        for path in ("/ping", "/healthz", "/metrics"):
            self.assertEqual(server.request("GET", path).status, 200, path)
        for s in held:
            s.close()
        server.wait_until(lambda: server.request("POST", "/endpoints/cap/invocations", GUIDE_PAYLOAD, CSV).status
                          == 200, what="the connections to close")

    def test_training_queue_limit_answers_429(self):
        server = self.serve(shared_home(), "--max-queued-jobs", "1")
        r = server.post_json("/train", {"data": [[0, "ratings", "q1"], [1, "ratings", "q2"]]},
                             {"sf-external-function-query-batch-id": "queue-limit-%d" % os.getpid()})
        self.assert_error(r, 429, "limit 1")
        self.assertTrue(r.headers["Retry-After"])


class ShutdownTest(ServeTestCase):
    def test_sigterm_finishes_in_flight_requests_then_exits_0(self):
        server = self.serve(shared_home(), "--read-timeout", "10")
        self.deploy(server, "drain", "models:/ratings/1")
        expected = self.predictions_csv(server, "/endpoints/drain/invocations")
        body = GUIDE_PAYLOAD.encode()
        c = socket.create_connection((server.host, server.port), timeout=20)
        self.addCleanup(c.close)
        c.sendall(b"POST /endpoints/drain/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
        time.sleep(0.3)  # the request is in flight: its body is half sent
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        # New connections are refused soon after the signal...
        def refused():
            try:
                socket.create_connection((server.host, server.port), timeout=1).close()
                return False
            except OSError:
                return True
        server.wait_until(refused, timeout=10, what="the listening socket to close")
        # ...while the request in flight is still answered.
        c.sendall(body[5:])
        answer = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            answer += chunk
        head, _, payload = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), answer)
        self.assertIn(b"Connection: close", head)
        self.assertEqual([float(x) for x in payload.decode().splitlines()], expected)
        self.assertEqual(server.proc.wait(timeout=30), 0)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertIn("SIGTERM received: draining", server.stderr())

    def test_sigint_on_an_idle_server_exits_0_at_once(self):
        server = self.serve(shared_home())
        self.assertEqual(server.request("GET", "/healthz").status, 200)
        t0 = time.monotonic()
        self.assertEqual(server.stop(signal.SIGINT), 0)
        self.assertLess(time.monotonic() - t0, 5)


if __name__ == "__main__":
    recotest.main()
