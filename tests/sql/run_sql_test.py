#!/usr/bin/env python3
"""Runs one SQL-script test: X.sql through `reco sql --echo` (or the stock sqlite3 shell with
reco's extension loaded), in a fresh reco home, and compares everything it prints (stdout and
stderr merged, in order) with the golden file X.out.

Directives are SQL comments at the top of the script, before its first statement:

  -- requires: movielens          skip (exit 77) unless --movielens DIR holds ratings.csv
  -- setup: load movielens        run `reco load movielens DIR` first (implies requires)
  -- setup: generate ARGS...      run `reco generate movielens HOME/gen ARGS...`, then load it
  -- engine: reco | sqlite3       which shell runs the script (default: reco)
  -- options: ARGS...             extra arguments for that shell (e.g. --bail, --mode csv; -bail)

Several setup lines run in order. In the output, the temporary home reads $RECO_HOME, the
MovieLens folder $MOVIELENS and the extension $EXTENSION; for the sqlite3 engine, $EXTENSION in
the script is replaced by the extension's path. A non-zero exit status is part of the output:
a last line "[exit status N]".

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

SKIP = 77
TIMEOUT_SECONDS = 600
DIRECTIVE = re.compile(r"^--\s*(requires|setup|engine|options)\s*:\s*(.*?)\s*$")


class ScriptError(Exception):
    """The test itself is broken (bad directive, missing golden file, failed setup)."""


def parse_directives(script_text):
    """Reads the directives from the comment block that opens the script."""
    directives = {"requires": set(), "setup": [], "engine": "reco", "options": []}
    for number, line in enumerate(script_text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break  # the first statement or dot-command ends the header
        match = DIRECTIVE.match(stripped)
        if not match:
            continue  # an ordinary comment
        key, value = match.groups()
        if key == "requires":
            for need in value.split():
                if need != "movielens":
                    raise ScriptError(f"line {number}: unknown requirement '{need}' "
                                      "(known: movielens)")
                directives["requires"].add(need)
        elif key == "setup":
            words = shlex.split(value)
            if words == ["load", "movielens"]:
                directives["setup"].append(("load", []))
                directives["requires"].add("movielens")
            elif words[:1] == ["generate"]:
                directives["setup"].append(("generate", words[1:]))
            else:
                raise ScriptError(f"line {number}: unknown setup '{value}' (known: "
                                  "'load movielens', 'generate ARGS...')")
        elif key == "engine":
            if value not in ("reco", "sqlite3"):
                raise ScriptError(f"line {number}: unknown engine '{value}' (known: reco, sqlite3)")
            directives["engine"] = value
        elif key == "options":
            directives["options"].extend(shlex.split(value))
    return directives


def run(command, env, cwd, stdin_text=None):
    """Runs a command with stderr merged into stdout; returns (exit status, output)."""
    try:
        done = subprocess.run(command, env=env, cwd=cwd, input=stdin_text,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=TIMEOUT_SECONDS, text=True, errors="backslashreplace")
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="backslashreplace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out + f"\n[timed out after {TIMEOUT_SECONDS} s]\n"
    return done.returncode, done.stdout


def run_setup(args, directives, home, env, cwd):
    reco = [args.reco, "--home", home, "--quiet"]
    for kind, words in directives["setup"]:
        if kind == "load":
            steps = [reco + ["load", "movielens", args.movielens]]
        else:
            gen_dir = os.path.join(home, "gen")
            steps = [reco + ["generate", "movielens", gen_dir] + words,
                     reco + ["load", "movielens", gen_dir]]
        for command in steps:
            status, output = run(command, env, cwd)
            if status != 0:
                raise ScriptError(
                    "setup step failed (exit status {}): {}\n{}".format(
                        status, shlex.join(command), output.rstrip()))


def normalize(output, replacements):
    # Longest paths first, so a path inside another one is not half replaced.
    for path, name in sorted(replacements, key=lambda pair: -len(pair[0])):
        if path:
            output = output.replace(path, name)
    return output


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reco", required=True, help="the reco binary")
    parser.add_argument("--extension", required=True, help="reco's loadable SQLite extension")
    parser.add_argument("--movielens", default="", help="MovieLens ml-latest-small folder")
    parser.add_argument("--sqlite3", default="sqlite3", help="the stock sqlite3 shell")
    parser.add_argument("--update", action="store_true", help="rewrite the golden .out file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument("script", help="the X.sql test script")
    args = parser.parse_args()

    script = os.path.abspath(args.script)
    golden = os.path.splitext(script)[0] + ".out"
    name = os.path.basename(script)
    args.reco = os.path.abspath(args.reco)
    args.extension = os.path.abspath(args.extension)
    args.movielens = os.path.abspath(args.movielens) if args.movielens else ""

    try:
        with open(script, encoding="utf-8") as f:
            script_text = f.read()
        directives = parse_directives(script_text)
    except (OSError, ScriptError) as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        return 1

    if "movielens" in directives["requires"]:
        ratings = os.path.join(args.movielens, "ratings.csv") if args.movielens else ""
        if not ratings or not os.path.isfile(ratings):
            print("*" * 72, file=sys.stderr)
            print(f"SKIPPED {name}: it needs MovieLens ml-latest-small, but "
                  f"'{args.movielens or '(no --movielens given)'}' has no ratings.csv",
                  file=sys.stderr)
            print("*" * 72, file=sys.stderr)
            return SKIP

    home = tempfile.mkdtemp(prefix="reco-sql-test-")
    try:
        env = dict(os.environ)
        env.update({"RECO_HOME": home, "TZ": "UTC", "LC_ALL": "C.UTF-8"})
        env.pop("RECO_DB", None)
        cwd = os.path.dirname(script)  # so `.read other.sql` finds its neighbours
        try:
            run_setup(args, directives, home, env, cwd)
        except ScriptError as e:
            print(f"FAIL {name}: {e}", file=sys.stderr)
            return 1

        if directives["engine"] == "sqlite3":
            if shutil.which(args.sqlite3) is None:
                print(f"FAIL {name}: the stock sqlite3 shell '{args.sqlite3}' is not installed",
                      file=sys.stderr)
                return 1
            # The home's warehouse, so data loaded by setup steps is visible.
            database = os.path.join(home, "warehouse.db")
            command = ([args.sqlite3, "-batch", "-echo"] + directives["options"] +
                       ["-cmd", ".load " + args.extension, database])
            status, output = run(command, env, cwd,
                                 stdin_text=script_text.replace("$EXTENSION", args.extension))
            shell = "sqlite3"
        else:
            command = ([args.reco, "--home", home, "--quiet", "sql", "--echo"] +
                       directives["options"] + [script])
            status, output = run(command, env, cwd)
            shell = "reco"
        if status is None or status != 0:
            output += "" if output.endswith("\n") or not output else "\n"
            output += f"[exit status {status if status is not None else 'timeout'}]\n"
        replacements = [(home, "$RECO_HOME"), (os.path.realpath(home), "$RECO_HOME"),
                        (args.extension, "$EXTENSION")]
        if args.movielens:
            replacements += [(args.movielens, "$MOVIELENS"),
                             (os.path.realpath(args.movielens), "$MOVIELENS")]
        actual = normalize(output, replacements)
    finally:
        if args.keep:
            print(f"kept the temporary home {home}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)

    if args.update:
        tmp = golden + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(actual)
        os.replace(tmp, golden)
        print(f"updated {os.path.relpath(golden)}")
        return 0

    try:
        with open(golden, encoding="utf-8") as f:
            expected = f.read()
    except OSError as e:
        print(f"FAIL {name}: cannot read the golden output: {e}\n"
              f"(create it with: {sys.argv[0]} --update ... {args.script})", file=sys.stderr)
        print(actual)
        return 1
    if actual == expected:
        print(f"PASS {name} ({shell})")
        return 0
    diff = difflib.unified_diff(expected.splitlines(keepends=True),
                                actual.splitlines(keepends=True),
                                fromfile=os.path.relpath(golden), tofile="actual output")
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                          for line in diff)
    print(f"FAIL {name}: output differs from {os.path.basename(golden)} "
          f"(rerun with --update to accept it)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
