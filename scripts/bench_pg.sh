#!/usr/bin/env bash
# SQLite and PostgreSQL side by side (issue 9, BENCHMARKS.md "PostgreSQL warehouse"): through the
# real `reco` binary, `reco load movielens` (CSV -> warehouse; COPY FROM STDIN on PostgreSQL) of
# ml-latest-small and of a generated 10M set, and reading the ratings back (the read step of
# `reco train --json`: COPY TO STDOUT on PostgreSQL). Each run loads into a fresh home / a fresh
# database of a throw-away PostgreSQL 15 cluster (scripts/pg-cluster.sh, stopped at the end).
# Usage: scripts/bench_pg.sh BUILD_DIR
# Env: RUNS=5 (ml-latest-small), RUNS_LARGE=3 (the 10M set), BENCH_PG_LARGE=1|0,
#      RECO_MOVIELENS_SMALL, BENCH_WORK=DIR (scratch; default a temporary folder).
# shellcheck disable=SC2086
set -euo pipefail
build="$(realpath "$1")"
reco="$build/reco"
runs="${RUNS:-5}"
runs_large="${RUNS_LARGE:-3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
small="${RECO_MOVIELENS_SMALL:-$root/../shared/data/movielens/ml-latest-small}"
work="${BENCH_WORK:-$(mktemp -d)}"
mkdir -p "$work"
chmod 755 "$work"
state="$work/cluster.env"
cleanup() {
  "$root/scripts/pg-cluster.sh" stop "$state" >/dev/null 2>&1 || true
  [ -n "${BENCH_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
"$root/scripts/pg-cluster.sh" start "$state"
set -a
# shellcheck disable=SC1090
. "$state"
set +a

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); PostgreSQL $(psql -XAtc 'show server_version') on the same machine (127.0.0.1, TCP), default settings"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared with other builds: every timing is an upper bound; compare the two backends within one run)"
echo

stats() {  # LABEL SAMPLES...: median / min / max
  python3 - "$@" <<'PY'
import statistics, sys
label, values = sys.argv[1], [float(x) for x in sys.argv[2:]]
print("  %-44s %9.3f %9.3f %9.3f" % (label, statistics.median(values), min(values), max(values)))
PY
}
rate() {  # COUNT SAMPLES...: ratings per second at the median
  python3 - "$@" <<'PY'
import statistics, sys
print("%.2f M ratings/s" % (int(sys.argv[1]) / statistics.median(float(x) for x in sys.argv[2:]) / 1e6))
PY
}
now() { date +%s.%N; }

# compare LABEL DATA_DIR RUNS: load and read, SQLite then PostgreSQL, alternating within each run.
compare() {
  local label="$1" data="$2" n="$3"
  local -A load read
  local count=0
  for run in $(seq "$n"); do
    for backend in sqlite postgresql; do
      local home="$work/home-$backend" db=()
      rm -rf "$home"
      if [ "$backend" = postgresql ]; then
        psql -XqAtc "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" \
          -c "CREATE DATABASE bench"
        db=(--db "postgresql://$PGUSER@$PGHOST:$PGPORT/bench")
      fi
      local start end
      start=$(now)
      mkdir -p "$home"
      "$reco" --quiet --home "$home" "${db[@]}" load movielens "$data" >/dev/null
      end=$(now)
      load[$backend]+="$(python3 -c "print($end - $start)") "
      "$reco" --quiet --home "$home" "${db[@]}" train --input ratings -k 0 --set n_epochs=1 \
        --json >"$work/train.json"
      read[$backend]+="$(python3 -c "import json; print(json.load(open('$work/train.json'))['timings']['read_s'])") "
      count=$(python3 -c "import json; print(json.load(open('$work/train.json'))['ratings'])")
    done
  done
  psql -XqAtc "DROP DATABASE IF EXISTS bench WITH (FORCE)"
  rm -rf "$work"/home-*
  echo "$label: $count ratings; $n runs (seconds: median, min, max)"
  for backend in sqlite postgresql; do
    stats "load movielens -> $backend" ${load[$backend]}
    stats "read ratings <- $backend" ${read[$backend]}
  done
  echo "  load rate (whole reco load, CSV parsing included): SQLite $(rate "$count" ${load[sqlite]}), PostgreSQL $(rate "$count" ${load[postgresql]})"
  echo "  read rate: SQLite $(rate "$count" ${read[sqlite]}), PostgreSQL $(rate "$count" ${read[postgresql]})"
  echo
}

if [ ! -f "$small/ratings.csv" ]; then
  echo "WARNING: $small has no ratings.csv; generated data of the same shape instead" >&2
  small="$work/small-generated"
  "$reco" --quiet generate movielens "$small" --users 610 --items 9700 --ratings 100836 --seed 1 >/dev/null
fi
compare ml-latest-small "$small" "$runs"
if [ "${BENCH_PG_LARGE:-1}" = 1 ]; then
  "$reco" --quiet generate movielens "$work/g10m" --users 69878 --items 10677 --ratings 10000054 \
    --seed 1 >/dev/null
  compare generated-10M "$work/g10m" "$runs_large"
fi
