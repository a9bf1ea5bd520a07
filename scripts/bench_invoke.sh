#!/usr/bin/env bash
# In-process invoke_model throughput: the guide's query shape (invoke_model over every row of a
# table) through `reco sql`, median/min/max of RUNS runs. The model is the default SVD trained
# on MovieLens ml-latest-small (or generated data of the same shape when it is absent); every
# rating's (user, item) pair is scored 10 times (1,008,360 rows).
# Usage: scripts/bench_invoke.sh BUILD_DIR   (env: RUNS=5, RECO_MOVIELENS_SMALL=DIR)
set -euo pipefail
build="$(realpath "$1")"
reco="$build/reco"
runs="${RUNS:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${RECO_MOVIELENS_SMALL:-$root/../shared/data/movielens/ml-latest-small}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RECO_HOME="$work/home"
mkdir -p "$RECO_HOME"

if [ ! -f "$data/ratings.csv" ]; then
  echo "WARNING: $data has no ratings.csv; using generated data of the same shape" >&2
  data="$work/generated"
  "$reco" --quiet generate movielens "$data" --users 610 --items 9700 --ratings 100836 --seed 1 >/dev/null
fi
"$reco" --quiet load movielens "$data" >/dev/null
"$reco" --quiet train --input ratings --folds 0 --model bench >/dev/null
"$reco" --quiet sql -c "select deploy_model('bench-endpoint', 'models:/bench')" >/dev/null
rows=$(( $("$reco" --quiet sql --mode csv -c "select count(*) from ratings" | tail -1) * 10 ))
query="with recursive n(k) as (select 1 union all select k + 1 from n where k < 10)
  select sum(invoke_model('bench-endpoint', userid, movieid)) from ratings, n"

samples=()
for _ in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  "$reco" --quiet sql -c "$query" >/dev/null
  end=$(date +%s.%N)
  samples+=("$(python3 -c "print($end - $start)")")
done
python3 - "$rows" "${samples[@]}" <<'PY'
import statistics, sys
rows = int(sys.argv[1]); t = [float(x) for x in sys.argv[2:]]
print("in-process invoke_model over %d rows, %d runs (whole `reco sql` process, incl. model load)" % (rows, len(t)))
print("  seconds: median %.3f  min %.3f  max %.3f" % (statistics.median(t), min(t), max(t)))
print("  rows/s:  median %.0f  best %.0f" % (rows / statistics.median(t), rows / min(t)))
PY
