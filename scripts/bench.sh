#!/usr/bin/env bash
# Benchmarks: whole-pipeline timings on MovieLens ml-latest-small through the real `reco`
# binary (median, min and max of RUNS runs, peak RSS), then the kernel benchmarks.
# Usage: scripts/bench.sh BUILD_DIR   (env: RUNS=5, RECO_MOVIELENS_SMALL=DIR)
set -euo pipefail
build="$(realpath "$1")"
reco="$build/reco"
runs="${RUNS:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${RECO_MOVIELENS_SMALL:-$root/../shared/data/movielens/ml-latest-small}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$data/ratings.csv" ]; then
  echo "WARNING: $data has no ratings.csv; pipeline benchmarks use generated data of the same shape" >&2
  data="$work/generated"
  "$reco" --quiet generate movielens "$data" --users 610 --items 9700 --ratings 100836 --seed 1 >/dev/null
fi
echo "data: $data"
echo

# Collects one timing per run for each step, then prints median/min/max.
declare -A samples
rss_max=0
for run in $(seq 1 "$runs"); do
  home="$work/home$run"
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$reco" --quiet --home "$home" load movielens "$data" >/dev/null
  end=$(date +%s.%N)
  samples[load]+="$(python3 -c "print($end - $start)") "
  /usr/bin/time -f "%M" -o "$work/rss" "$reco" --quiet --home "$home" train --input ratings \
    --output recs --json >"$work/train.json"
  rss=$(cat "$work/rss"); [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  for key in read_s cv_s fit_s top_n_s write_s total_s; do
    samples[$key]+="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['timings']['$key'])" "$work/train.json") "
  done
done

printf '%-34s %9s %9s %9s\n' "step (ml-latest-small, $runs runs)" median min max
for key in load read_s cv_s fit_s top_n_s write_s total_s; do
  python3 - "$key" ${samples[$key]} <<'PY'
import statistics, sys
names = {"load": "load CSV -> warehouse (s)", "read_s": "read ratings from warehouse (s)",
         "cv_s": "default SVD 5-fold CV (s)", "fit_s": "refit on all ratings (s)",
         "top_n_s": "all-users top-10 (s)", "write_s": "artifact + output table (s)",
         "total_s": "train job total (s)"}
v = [float(x) for x in sys.argv[2:]]
print("%-34s %9.3f %9.3f %9.3f" % (names[sys.argv[1]], statistics.median(v), min(v), max(v)))
PY
done
echo "peak RSS of reco train: $((rss_max / 1024)) MB"
echo
"$build/bench/reco_kernels_bench" --benchmark_repetitions="$runs" --benchmark_report_aggregates_only=true
