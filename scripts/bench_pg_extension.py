#!/usr/bin/env python3
"""The PostgreSQL extension's speed (issue 9): the guide's train call from psql, and invoke_model
over 1,000,400 rows in one psql statement, in-backend and on the pure external-function path.

A throw-away cluster (scripts/pg-cluster.sh) with the installed extension (make pg-extension), a
reco home with MovieLens ml-latest-small loaded, and `reco serve` on it (on the home's SQLite
warehouse, then with --db on the cluster's database, ml-latest-small loaded there). Train: RUNS
times on each,
`select train_and_get_recommendations('ratings', 'user_movie_recommendations')` (5-fold CV, fit
on all 100,836 ratings, top-10 of the 610 users, the output table written) timed from psql's
\\timing (HTTP and polling included). Invoke: a table of 610 users x 1,640 item ids as float
columns (the guide's), `select sum(invoke_model(...)) from pairs`, serial plan
(max_parallel_workers_per_gather = 0), the first run of each mode excluded (it fetches the model).

Usage: scripts/bench_pg_extension.py BUILD_DIR MOVIELENS_DIR [--runs 5] [--http-runs 3]
       [--http-rows N] [--warehouse both|sqlite|postgres]"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def psql(env, sql):
    p = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", "\\timing on", "-c", sql],
                       capture_output=True, text=True, env=env, timeout=3600)
    if p.returncode != 0:
        sys.exit("psql failed: %s\n%s" % (sql, p.stderr))
    return p.stdout


def timed_ms(env, sql):
    out = psql(env, sql)
    times = re.findall(r"^Time: ([0-9.]+) ms", out, re.M)
    return float(times[-1])


def summary(values):
    return "median %.3f  min %.3f  max %.3f  (n=%d)" % (statistics.median(values), min(values), max(values),
                                                       len(values))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("movielens")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--http-runs", type=int, default=3)
    ap.add_argument("--warehouse", choices=("both", "sqlite", "postgres"), default="both",
                    help="where reco serve reads the input table and writes the output table for the "
                         "train measurement (postgres: reco serve --db on the cluster's database)")
    ap.add_argument("--http-rows", type=int, default=0,
                    help="rows of the http mode's statement (default all; a per-row HTTP call takes ~0.1 ms)")
    a = ap.parse_args()
    reco = os.path.abspath(os.path.join(a.build, "reco"))
    if not os.path.isfile(os.path.join(a.movielens, "ratings.csv")):
        print("SKIPPED: no ml-latest-small at %r" % a.movielens)
        return 0
    work = tempfile.mkdtemp(prefix="reco-bench-pg-")
    state = os.path.join(work, "cluster.env")
    serve = None
    try:
        subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster.sh"), "start", state], check=True,
                       stdout=subprocess.DEVNULL)
        env = dict(os.environ)
        with open(state) as f:
            for line in f:
                k, _, v = line.strip()[len("export "):].partition("=")
                env[k] = v.strip("'")
        home = os.path.join(work, "home")
        os.mkdir(home)
        henv = dict(os.environ, RECO_HOME=home)
        henv.pop("RECO_DB", None)
        subprocess.run([reco, "--quiet", "load", "movielens", a.movielens], check=True, env=henv)
        psql(env, "create extension reco")
        warehouses = ["sqlite", "postgres"] if a.warehouse == "both" else [a.warehouse]
        for warehouse in warehouses:
            if serve:
                serve.terminate()
                serve.wait()
            senv = dict(henv)
            if warehouse == "postgres":
                senv["RECO_DB"] = env["RECO_TEST_PG"]
                senv["PGPASSWORD"] = env["PGPASSWORD"]
                subprocess.run([reco, "--quiet", "load", "movielens", a.movielens], check=True, env=senv,
                               stdout=subprocess.DEVNULL)
            serve = subprocess.Popen([reco, "serve", "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=senv)
            url = serve.stdout.readline().strip()
            psql(env, "alter database reco_test set reco.service_url = '%s'" % url)
            train = []
            for _ in range(a.runs):
                train.append(timed_ms(env, "select train_and_get_recommendations('ratings', "
                                           "'user_movie_recommendations')") / 1000)
            print("train_and_get_recommendations from psql, ml-latest-small (100,836 ratings), reco serve on %s, "
                  "s: %s" % (warehouse, summary(train)))
        cli = []
        for _ in range(a.runs):
            started = time.monotonic()
            subprocess.run([reco, "--quiet", "train", "--input", "ratings", "--output", "user_movie_recommendations"],
                           check=True, env=henv, stdout=subprocess.DEVNULL)
            cli.append(time.monotonic() - started)
        print("the same training by `reco train` (no HTTP, no polling), s: " + summary(cli))

        psql(env, "select deploy_model('movielens-model-v1', 'models:/ratings')")
        psql(env, "create table pairs as select u::float as userid, i::float as movieid "
                  "from generate_series(1, 610) u, generate_series(1, 1640) i; analyze pairs")
        n = int(psql(env, "select count(*) from pairs").split()[0])
        query = ("set max_parallel_workers_per_gather = 0; set reco.invoke_mode = '%s'; "
                 "select sum(invoke_model('movielens-model-v1', userid, movieid)) from (select * from pairs %s) p")
        base = []
        for _ in range(a.runs):
            base.append(timed_ms(env, "set max_parallel_workers_per_gather = 0; "
                                      "select sum(userid + movieid) from pairs"))
        print("the scan alone (sum(userid + movieid)), ms: " + summary(base))
        for mode, runs in (("backend", a.runs), ("http", a.http_runs)):
            rows = a.http_rows if mode == "http" and a.http_rows else n
            limit = "limit %d" % rows if rows < n else ""
            times = [timed_ms(env, query % (mode, limit)) for _ in range(runs + (1 if mode == "backend" else 0))]
            if mode == "backend":
                times = times[1:]
            rates = [rows / (t / 1000) for t in times]
            print("invoke_model over %d rows, reco.invoke_mode = %s: s: %s; rows/s median %.0f"
                  % (rows, mode, summary([t / 1000 for t in times]), statistics.median(rates)))
            sys.stdout.flush()
    finally:
        if serve:
            serve.terminate()
            serve.wait()
        subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster.sh"), "stop", state],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
