#!/usr/bin/env python3
"""How fast a running training stops (issue 12), through the real `reco` binary.

A generated set of 2,000,000 ratings (20,000 users x 5,000 items) is loaded once; then, RUNS
times each: `reco train` is started, and once its job record shows cross-validation progress it
is stopped by `reco jobs cancel ID` (another process), or by SIGINT (Ctrl-C). Reported: seconds
from the request to the end of the `reco train` process (median, min, max), and that the job was
recorded as Cancelled with no model version and no output table.

Usage: scripts/bench_cancel.py BUILD_DIR [--runs 5]"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    reco = os.path.join(a.build, "reco")
    with tempfile.TemporaryDirectory(prefix="reco-bench-cancel-") as home:
        env = dict(os.environ, RECO_HOME=home)
        env.pop("RECO_DB", None)

        def run(*args):
            return subprocess.run([reco, "--quiet", *args], env=env, check=True, capture_output=True, text=True)

        data = os.path.join(home, "g2m")
        run("generate", "movielens", data, "--users", "20000", "--items", "5000", "--ratings", "2000000",
            "--seed", "3")
        run("load", "movielens", data)
        print(f"load average at start: {' '.join(open('/proc/loadavg').read().split()[:3])}")
        print("2,000,000 ratings; seconds from the cancel request to the end of `reco train`")
        for how in ("reco jobs cancel", "SIGINT (Ctrl-C)"):
            times = []
            for i in range(a.runs):
                model = f"m{len(how)}-{i}"
                p = subprocess.Popen([reco, "--quiet", "train", "--input", "ratings", "--output", f"out_{i}",
                                      "--model", model], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
                job = None
                while job is None:
                    time.sleep(0.05)
                    jobs = json.loads(run("jobs", "--json", "--limit", "1").stdout)
                    if jobs and jobs[0]["state"] == "InProgress" and \
                            (jobs[0].get("progress") or {}).get("fraction", 0) > 0:
                        job = jobs[0]["id"]
                start = time.monotonic()
                if how == "SIGINT (Ctrl-C)":
                    p.send_signal(signal.SIGINT)
                else:
                    run("jobs", "cancel", job)
                p.wait()
                times.append(time.monotonic() - start)
                state = json.loads(run("jobs", "show", job, "--json").stdout)["state"]
                published = os.path.exists(os.path.join(home, "models", model))
                if p.returncode != 130 or state != "Cancelled" or published:
                    print(f"  UNEXPECTED: exit {p.returncode}, state {state}, published {published}")
                    return 1
            print(f"  {how:<18} median {statistics.median(times):.3f}  min {min(times):.3f}  "
                  f"max {max(times):.3f}  ({a.runs} runs; every job Cancelled, nothing published)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
