#!/usr/bin/env bash
# Benchmarks (BENCHMARKS.md explains them and holds the results).
#   1. Whole-pipeline timings through the real `reco` binary: generate (generated sets), load
#      CSV -> warehouse, then `reco train --json`, whose per-step timings (read ratings, 5-fold
#      CV, refit, all-users top-10, artifact + output table) are collected over several runs and
#      printed as median / min / max, with the peak RSS of each command (/usr/bin/time).
#      Default: MovieLens ml-latest-small and a generated 1M set (ml-1m shape).
#      BENCH_LARGE=1 adds generated 10M (3 runs) and 25M (ml-25m shape, 1 run, no CV).
#   2. The convergence check of the block-parallel fit: 5-fold CV RMSE with parallel=on and
#      parallel=off on ml-latest-small and on the 1M set.
#   3. The Google Benchmark kernels (bench/kernels_bench.cpp).
# Usage: scripts/bench.sh BUILD_DIR
# Env: RUNS=5 (runs of the small sets), BENCH_LARGE=0|1, BENCH_KERNELS=1|0, RECO_MOVIELENS_SMALL,
#      BENCH_WORK=DIR (scratch space; default a temporary folder, removed at the end).
# Sample lists are space-separated numbers, split on purpose when passed on.
# shellcheck disable=SC2086,SC2046
set -euo pipefail
build="$(realpath "$1")"
reco="$build/reco"
runs="${RUNS:-5}"
large="${BENCH_LARGE:-0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
small="${RECO_MOVIELENS_SMALL:-$root/../shared/data/movielens/ml-latest-small}"
if [ -n "${BENCH_WORK:-}" ]; then
  work="$BENCH_WORK"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other jobs on the machine make every timing an upper bound)"
echo "SIMD kernels: best instruction set of the CPU, capped by RECO_SIMD=${RECO_SIMD:-auto}"
echo

# stats LABEL VALUES...: one table row, median / min / max.
stats() {
  python3 - "$@" <<'PY'
import statistics, sys
label, values = sys.argv[1], [float(x) for x in sys.argv[2:]]
print("  %-40s %9.3f %9.3f %9.3f" % (label, statistics.median(values), min(values), max(values)))
PY
}

# timed OUT_VAR CMD...: runs CMD, adds its wall seconds to samples[OUT_VAR] and tracks peak RSS.
declare -A samples rss
timed() {
  local key="$1"
  shift
  local start end kb
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@"
  end=$(date +%s.%N)
  samples[$key]+="$(python3 -c "print($end - $start)") "
  kb=$(tail -1 "$work/rss")
  if [ "${rss[$key]:-0}" -lt "$kb" ]; then rss[$key]=$kb; fi
}

json_field() {  # FILE EXPR
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# pipeline LABEL DATA_DIR RUNS FOLDS [GENERATE_ARGS]: the whole path, RUNS times.
pipeline() {
  local label="$1" data="$2" n="$3" folds="$4" gen="${5:-}"
  samples=()
  rss=()
  for run in $(seq 1 "$n"); do
    if [ -n "$gen" ]; then
      rm -rf "$data"
      timed generate "$reco" --quiet generate movielens "$data" $gen >/dev/null
    fi
    local home="$work/home-$label-$run"
    rm -rf "$home"
    timed load "$reco" --quiet --home "$home" --create load movielens "$data" >/dev/null
    timed train "$reco" --quiet --home "$home" train --input ratings --output recs \
      --folds "$folds" --json >"$work/train.json"
    for key in read_s cv_s fit_s top_n_s write_s total_s; do
      samples[$key]+="$(json_field "$work/train.json" "d['timings'].get('$key', 0)") "
    done
    rm -rf "$home"
  done
  local n_ratings
  n_ratings=$(json_field "$work/train.json" "d['ratings']")
  echo "$label: $n_ratings ratings, $(json_field "$work/train.json" "d['users']") users, $(json_field "$work/train.json" "d['items']") items; $n runs (seconds)"
  printf '  %-40s %9s %9s %9s\n' step median min max
  [ -n "$gen" ] && stats "generate CSV" ${samples[generate]}
  stats "load CSV -> warehouse (reco load)" ${samples[load]}
  stats "read ratings from warehouse" ${samples[read_s]}
  [ "$folds" -gt 0 ] && stats "default SVD $folds-fold CV" ${samples[cv_s]}
  stats "fit on all ratings (20 epochs)" ${samples[fit_s]}
  stats "all-users top-10" ${samples[top_n_s]}
  stats "artifact + output table" ${samples[write_s]}
  stats "reco train total" ${samples[total_s]}
  stats "end to end (generate+load+train)" $(python3 -c "
import sys
g = '${samples[generate]:-}'.split() or ['0'] * $n
l = '${samples[load]}'.split(); t = '${samples[total_s]}'.split()
print(' '.join(str(float(a) + float(b) + float(c)) for a, b, c in zip(g, l, t)))")
  local peak="  peak RSS: load $((rss[load] / 1024)) MB, train $((rss[train] / 1024)) MB"
  [ -n "$gen" ] && peak+=", generate $((rss[generate] / 1024)) MB"
  echo "$peak"
  echo
}

# convergence LABEL DATA_DIR: 5-fold CV RMSE of the block-parallel fit against Surprise's order.
convergence() {
  local label="$1" data="$2" home="$work/home-conv-$1"
  rm -rf "$home"
  "$reco" --quiet --home "$home" --create load movielens "$data" >/dev/null
  local line="$label: 5-fold CV mean RMSE"
  for mode in off on; do
    "$reco" --quiet --home "$home" train --input ratings --folds 5 --set parallel=$mode \
      --json >"$work/conv.json"
    line+=" parallel=$mode $(json_field "$work/conv.json" "'%.4f' % d['rmse']")"
  done
  echo "$line"
  rm -rf "$home"
}

if [ ! -f "$small/ratings.csv" ]; then
  echo "WARNING: $small has no ratings.csv; the ml-latest-small rows use generated data of the same shape" >&2
  small="$work/small-generated"
  "$reco" --quiet generate movielens "$small" --users 610 --items 9700 --ratings 100836 --seed 1 >/dev/null
fi
pipeline ml-latest-small "$small" "$runs" 5
pipeline generated-1M "$work/g1m" "$runs" 5 "--users 6040 --items 3700 --ratings 1000000 --seed 1"
if [ "$large" = 1 ]; then
  pipeline generated-10M "$work/g10m" 3 5 "--users 69878 --items 10677 --ratings 10000054 --seed 1"
  pipeline generated-25M "$work/g25m" 1 0 "--users 162541 --items 59047 --ratings 25000095 --seed 1"
fi

echo "Convergence of the block-parallel fit (parallel=on) against Surprise's order (off):"
convergence ml-latest-small "$small"
"$reco" --quiet generate movielens "$work/g1m" --users 6040 --items 3700 --ratings 1000000 --seed 1 >/dev/null
convergence generated-1M "$work/g1m"
echo

if [ "${BENCH_KERNELS:-1}" = 1 ]; then
  "$build/bench/reco_kernels_bench" --benchmark_repetitions="$runs" \
    --benchmark_report_aggregates_only=true
fi
