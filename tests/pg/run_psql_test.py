#!/usr/bin/env python3
"""Runs one psql-script test against the extension reco: X.sql through `psql -a` (every input
line echoed, errors in place: pg_regress's style) in a fresh database of the test cluster with
CREATE EXTENSION reco, reco.service_url and reco.token_file set, while a `reco serve` with a
token serves a fresh reco home; compares everything psql prints with X.out.

Directives are SQL comments at the top of the script, before its first statement:

  -- setup: generate ARGS...       `reco generate movielens DATA ARGS...`, loaded into the
                                   serve's home; $DATA in the script names that folder
  -- setup: load movielens         MovieLens ml-latest-small instead (--movielens DIR; skipped
                                   with exit 77 when absent)
  -- serve-sql: STATEMENT          run by `reco sql` in the serve's home before it starts (the
                                   tables the service reads, while it runs on its own warehouse)
  -- warehouse: postgres           the service's warehouse is the test's database itself
                                   (`reco serve --db postgresql://...`): setup loads the data
                                   there; skipped (77) when the reco binary has no PostgreSQL
                                   warehouse
  -- database: NAME                the test database's name (the guide's MOVIELENS.PUBLIC.x
                                   names need the database movielens); default a unique one

The script goes to psql on its standard input. In the output, the service URL reads $SERVICE,
the home $RECO_HOME, the data folder $DATA; job
ids read JOB, timestamps TIME, and the timings of a training result (the *_s fields) T; a
LOCATION line (VERBOSITY verbose) keeps its function, not its source line; the header and rule
of a column wider than 100 characters (a JSON result, whose width varies) are trimmed.

Exit status: 0 pass, 1 fail, 77 skipped. --update rewrites X.out with the actual output.
"""
import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import pgtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import test_serve  # noqa: E402  (Serve, run_reco)

TOKEN = "psql-test-token-0123456789"
DIRECTIVE = re.compile(r"^--\s*(setup|serve-sql|warehouse|database)\s*:\s*(.*?)\s*$")
VOLATILE = [
    (re.compile(r"job-\d{8}-\d{6}-[0-9a-f]{6}"), "JOB"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "TIME"),
    (re.compile(r'("[a-z_]+_s"): [0-9.e+-]+'), r"\1: T"),
    (re.compile(r"pg-\d+-\d+-\d+-\d+"), "BATCH"),
    (re.compile(r"^(LOCATION:  \S+), \S+:\d+$", re.M), r"\1"),  # source lines change
    # A column as wide as a JSON value with timings and paths in it: its header and rule.
    (re.compile(r"^ {40,}(\w+) +$", re.M), r" \1"),
    (re.compile(r"^-{100,}$", re.M), "-" * 100),
]


def directives_of(text):
    setup, serve_sql, options = [], [], {"warehouse": "sqlite", "database": ""}
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith("--"):
            break
        m = DIRECTIVE.match(s)
        if not m:
            continue
        key, value = m.groups()
        if key == "setup":
            words = shlex.split(value)
            if words == ["load", "movielens"] or words[:1] == ["generate"]:
                setup.append(words)
            else:
                raise SystemExit("unknown setup '%s' (known: 'load movielens', 'generate ARGS...')" % value)
        elif key == "serve-sql":
            serve_sql.append(value)
        elif key == "warehouse" and value not in ("sqlite", "postgres"):
            raise SystemExit("unknown warehouse '%s' (known: sqlite, postgres)" % value)
        else:
            options[key] = value
    return setup, serve_sql, options


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--movielens", default=os.environ.get("RECO_MOVIELENS_SMALL", ""))
    ap.add_argument("--update", action="store_true")
    ap.add_argument("script")
    a = ap.parse_args()
    env = pgtest.cluster_env()
    pgtest.require_extension(env)
    script = os.path.abspath(a.script)
    golden = os.path.splitext(script)[0] + ".out"
    name = os.path.basename(script)
    with open(script, encoding="utf-8") as f:
        text = f.read()
    setup, serve_sql, options = directives_of(text)
    reco_env = {}
    if options["warehouse"] == "postgres":
        usage = subprocess.run([test_serve.RECO, "--help"], capture_output=True, text=True).stdout
        if "postgresql://" not in usage:
            print("SKIPPED %s: %s has no PostgreSQL warehouse (reco --db postgresql://...)"
                  % (name, test_serve.RECO), file=sys.stderr)
            return pgtest.SKIP

    work = tempfile.mkdtemp(prefix="reco-psql-test-")
    home = os.path.join(work, "home")
    os.mkdir(home)
    db = None
    serve = None
    try:
        if options["database"]:
            db = options["database"]
            pgtest.drop_database(env, db)
            pgtest.psql(env, "create database %s" % db)
        else:
            db = pgtest.create_database(env, "reco_psql")
        if options["warehouse"] == "postgres":
            reco_env = {"RECO_DB": "postgresql://%s@%s:%s/%s" % (env["PGUSER"], env["PGHOST"], env["PGPORT"], db),
                        "PGPASSWORD": env["PGPASSWORD"]}
        data = ""
        for words in setup:
            if words[0] == "load":
                if not os.path.isfile(os.path.join(a.movielens, "ratings.csv")):
                    print("SKIPPED %s: it needs MovieLens ml-latest-small (--movielens)" % name, file=sys.stderr)
                    return pgtest.SKIP
                data = os.path.abspath(a.movielens)
            else:
                data = os.path.join(work, "data")
                test_serve.run_reco(home, "generate", "movielens", data, *words[1:])
            test_serve.run_reco(home, "load", "movielens", data, env=reco_env)
        for statement in serve_sql:
            test_serve.run_reco(home, "sql", "-c", statement, env=reco_env)
        token_file = pgtest.readable_token_file(work, TOKEN, env)
        serve = test_serve.Serve(home, "--token-file", token_file, env=reco_env)
        pgtest.psql(env, "create extension reco; alter database %s set reco.service_url = '%s'; "
                         "alter database %s set reco.token_file = '%s'" % (db, serve.url, db, token_file),
                    database=db)
        full = dict(os.environ)
        full.update(env)
        full["PGDATABASE"] = db
        full["PGTZ"] = "UTC"
        command = ["psql", "-X", "-a", "-q"]
        p = subprocess.run(command, input=text.replace("$DATA", data), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=full, cwd=os.path.dirname(script),
                           timeout=600)
        output = p.stdout
        if p.returncode != 0:
            output += "[exit status %d]\n" % p.returncode
        for path, label in sorted([(serve.url, "$SERVICE"), (home, "$RECO_HOME"), (data, "$DATA"),
                                   (script, "$SCRIPT")], key=lambda x: -len(x[0])):
            if path:
                output = output.replace(path, label)
        for pattern, replacement in VOLATILE:
            output = pattern.sub(replacement, output)
    finally:
        if serve:
            serve.close()
        if db:
            pgtest.drop_database(env, db)
        shutil.rmtree(work, ignore_errors=True)

    if a.update:
        with open(golden, "w", encoding="utf-8") as f:
            f.write(output)
        print("updated %s" % os.path.relpath(golden))
        return 0
    try:
        with open(golden, encoding="utf-8") as f:
            expected = f.read()
    except OSError as e:
        print("FAIL %s: cannot read the golden output: %s" % (name, e))
        print(output)
        return 1
    if output == expected:
        print("PASS %s" % name)
        return 0
    sys.stdout.writelines(difflib.unified_diff(expected.splitlines(True), output.splitlines(True),
                                               fromfile=os.path.relpath(golden), tofile="actual output"))
    print("FAIL %s: output differs from %s (rerun with --update to accept it)" % (name, os.path.basename(golden)))
    return 1


if __name__ == "__main__":
    sys.exit(main())
