#!/usr/bin/env python3
"""Hostile-load benchmark of `reco serve` (issue 13), on 127.0.0.1:

 1. slow clients: N connections that each send a partial request and then one header line
    every second (slowloris) while one client sends single-pair predictions and health checks
    back to back; reports p50/p99 latency, failures, and the server's peak RSS;
 2. overload: M client threads sending 1000-pair predictions as fast as they can on fresh
    connections while health checks are probed; reports how many were answered 200 / 503 and
    the health checks' success rate and p99, and the server's peak RSS.

Usage: scripts/bench_hostile.py BUILD_DIR [--slow 1000] [--overload 400] [--seconds 10]
Uses MovieLens ml-latest-small (RECO_MOVIELENS_SMALL or ../shared/...) or generated data."""
import argparse
import http.client
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(p / 100.0 * len(values)))]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--slow", type=int, default=1000)
    ap.add_argument("--overload", type=int, default=400)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    reco = os.path.join(os.path.abspath(args.build), "reco")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data = os.environ.get("RECO_MOVIELENS_SMALL", os.path.join(root, "..", "shared", "data", "movielens",
                                                                "ml-latest-small"))
    work = tempfile.mkdtemp(prefix="reco-hostile-")
    env = dict(os.environ, RECO_HOME=os.path.join(work, "home"))
    os.makedirs(env["RECO_HOME"])
    env.pop("RECO_DB", None)
    server = None
    try:
        if not os.path.isfile(os.path.join(data, "ratings.csv")):
            print("WARNING: no ml-latest-small at %s; using generated data" % data, file=sys.stderr)
            data = os.path.join(work, "gen")
            subprocess.run([reco, "-q", "generate", "movielens", data, "--users", "610", "--items", "9700",
                            "--ratings", "100836", "--seed", "1"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([reco, "-q", "load", "movielens", data], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([reco, "-q", "train", "--input", "ratings", "-k", "0"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([reco, "-q", "endpoints", "deploy", "ep", "models:/ratings"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        server = subprocess.Popen([reco, "-q", "serve", "--port", "0", "--read-timeout", "60",
                                   "--request-timeout", "600"], env=env, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([server.stdout], [], [], 30)
        url = server.stdout.readline().strip() if ready else ""
        host, port = url[len("http://"):].rsplit(":", 1)
        port = int(port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            c = http.client.HTTPConnection(host, port, timeout=5)
            c.request("GET", "/ping")
            if c.getresponse().status == 200:
                break
            time.sleep(0.1)
        print("machine: %d cores, load %s" % (os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
        print("server: %s, idle RSS %d MB" % (url, rss_kb(server.pid) // 1024))

        # 1. slowloris
        slow = []
        for _ in range(args.slow):
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        peak = rss_kb(server.pid)
        latencies, health, failures = [], [], 0
        conn = http.client.HTTPConnection(host, port, timeout=10)
        end = time.monotonic() + args.seconds
        next_trickle = time.monotonic()
        while time.monotonic() < end:
            if time.monotonic() >= next_trickle:
                for s in slow:
                    try:
                        s.sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        failures += 1
                next_trickle += 1.0
                peak = max(peak, rss_kb(server.pid))
            t0 = time.monotonic()
            conn.request("POST", "/endpoints/ep/invocations", body=b"1,308\n", headers={"Content-Type": "text/csv"})
            r = conn.getresponse()
            r.read()
            latencies.append(time.monotonic() - t0)
            if r.status != 200:
                failures += 1
            t0 = time.monotonic()
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            health.append((r.status, time.monotonic() - t0))
        ok_health = sum(1 for st, _ in health if st == 200)
        print("\n1. %d slow connections (one header line per second each), %.0f s:" % (args.slow, args.seconds))
        print("   predictions: %d, failed %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (
            len(latencies), failures, 1000 * percentile(latencies, 50), 1000 * percentile(latencies, 99),
            1000 * max(latencies)))
        print("   health checks: %d/%d answered 200, p99 %.2f ms" % (
            ok_health, len(health), 1000 * percentile([t for _, t in health], 99)))
        print("   server RSS peak %d MB" % (peak // 1024))
        for s in slow:
            s.close()
        time.sleep(0.5)

        # 2. overload
        big = "".join("%d,%d\n" % (1 + i % 600, 1 + (i * 7) % 5000) for i in range(1000)).encode()
        stop = threading.Event()
        counts = {}
        lock = threading.Lock()

        def hammer():
            while not stop.is_set():
                try:
                    c = http.client.HTTPConnection(host, port, timeout=30)
                    c.request("POST", "/endpoints/ep/invocations", body=big, headers={"Content-Type": "text/csv"})
                    st = c.getresponse().status
                    c.close()
                except OSError as e:
                    st = type(e).__name__
                with lock:
                    counts[st] = counts.get(st, 0) + 1

        threads = [threading.Thread(target=hammer, daemon=True) for _ in range(args.overload)]
        for t in threads:
            t.start()
        peak = rss_kb(server.pid)
        probes = []
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection(host, port, timeout=10)
                c.request("GET", "/healthz")
                st = c.getresponse().status
                c.close()
            except OSError as e:
                st = type(e).__name__
            probes.append((st, time.monotonic() - t0))
            peak = max(peak, rss_kb(server.pid))
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        ok = sum(1 for st, _ in probes if st == 200)
        print("\n2. overload: %d client threads sending 1000-pair predictions, %.0f s:" % (args.overload, args.seconds))
        print("   answers: %s" % ", ".join("%s: %d" % (k, v) for k, v in sorted(counts.items(), key=str)))
        print("   health checks: %d/%d answered 200, p50 %.2f ms, p99 %.2f ms" % (
            ok, len(probes), 1000 * percentile([t for _, t in probes], 50), 1000 * percentile([t for _, t in probes], 99)))
        print("   server RSS peak %d MB" % (peak // 1024))
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, True)


if __name__ == "__main__":
    main()
