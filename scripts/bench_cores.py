#!/usr/bin/env python3
"""What the second core brings to cross-validation (issue 14), through the real `reco` binary.

For each data set (MovieLens ml-latest-small, a generated 1M set of ml-1m's shape), one home,
then RUNS rounds; each round runs, in turn:
  reco evaluate --json -j 1 / -j 2                (5-fold CV only; timings.cv_s)
  reco evaluate --json -j 1 / -j 2 --set parallel=on  (folds that can be split over threads)
  reco train --json -j 1 / -j 2                   (CV and the fit on all ratings)
Prints, per case, the median step wall time with 1 and 2 threads, their ratio (what the second
core brings), and the process's CPU time / wall time with 2 threads. Alternating the thread
counts within a round keeps machine noise from favouring one of them.

Usage: scripts/bench_cores.py BUILD_DIR [--runs 5] [--skip-1m]
Uses RECO_MOVIELENS_SMALL or ../shared/data/movielens/ml-latest-small (generated data of the
same shape, with a warning, when absent)."""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(reco, home, args):
    """Runs reco with --json; returns (parsed JSON, wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run([reco, "--quiet", "--home", home] + args + ["--json"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(out), wall, cpu


def step_seconds(report):
    """Cross-validation, plus for `reco train` the fit on all ratings (which runs beside the
    folds since issue 14, after them before): the whole time minus reading, top-N and writing."""
    t = report["timings"]
    if "fit_s" not in t:
        return t["cv_s"]
    return t["total_s"] - t["read_s"] - t.get("top_n_s", 0) - t.get("write_s", 0)


CASES = [
    ("evaluate (5-fold CV)", ["evaluate", "--input", "ratings"]),
    ("evaluate, parallel=on", ["evaluate", "--input", "ratings", "--set", "parallel=on"]),
    ("train (CV + fit on all ratings)", ["train", "--input", "ratings"]),
]


def bench(reco, label, data_dir, runs, work):
    home = os.path.join(work, "home-" + label)
    subprocess.run([reco, "--quiet", "--home", home, "--create", "load", "movielens", data_dir], check=True,
                   stdout=subprocess.DEVNULL)
    samples = {}  # (case, threads) -> list of (step s, process wall s, process cpu s)
    rmse = {}
    for _ in range(runs):
        for case, args in CASES:
            for threads in (1, 2):
                report, wall, cpu = run(reco, home, args + ["-j", str(threads)])
                samples.setdefault((case, threads), []).append((step_seconds(report), wall, cpu))
                rmse.setdefault(case, set()).add(round(report["rmse"], 12))
    print(f"{label}: {report['ratings']} ratings, {report['users']} users, "
          f"{report['items']} items; {runs} runs, medians (seconds)")
    print(f"  {'case':<34} {'step -j1':>9} {'step -j2':>9} {'j1/j2':>6} {'cpu/wall -j2':>13}")
    for case, _ in CASES:
        one = samples[(case, 1)]
        two = samples[(case, 2)]
        s1 = statistics.median(s for s, _, _ in one)
        s2 = statistics.median(s for s, _, _ in two)
        cpu_wall = statistics.median(c / w for _, w, c in two)
        same = "" if len(rmse[case]) == 1 else "  (RMSE DIFFERS between runs!)"
        print(f"  {case:<34} {s1:9.3f} {s2:9.3f} {s1 / s2:6.2f} {cpu_wall:13.2f}{same}")
    print()
    shutil.rmtree(home)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--only-1m", action="store_true")
    a = ap.parse_args()
    reco = os.path.join(a.build, "reco")
    small = os.environ.get("RECO_MOVIELENS_SMALL",
                           os.path.join(ROOT, "..", "shared", "data", "movielens",
                                        "ml-latest-small"))
    print(f"load average at start: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    with tempfile.TemporaryDirectory(prefix="reco-bench-cores-") as work:
        if not os.path.isfile(os.path.join(small, "ratings.csv")):
            print(f"WARNING: {small} has no ratings.csv; using generated data of the same shape",
                  file=sys.stderr)
            small = os.path.join(work, "small-generated")
            subprocess.run([reco, "--quiet", "generate", "movielens", small, "--users", "610",
                            "--items", "9700", "--ratings", "100836", "--seed", "1"], check=True,
                           stdout=subprocess.DEVNULL)
        if not a.only_1m:
            bench(reco, "ml-latest-small", small, a.runs, work)
        if not a.skip_1m:
            g1m = os.path.join(work, "g1m")
            subprocess.run([reco, "--quiet", "generate", "movielens", g1m, "--users", "6040",
                            "--items", "3700", "--ratings", "1000000", "--seed", "1"], check=True,
                           stdout=subprocess.DEVNULL)
            bench(reco, "generated-1M", g1m, max(1, a.runs // 2 + 1), work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
