#!/usr/bin/env bash
# HTTP serving benchmark: the real `reco serve` on 127.0.0.1 and a C++ keep-alive load
# generator (scripts/bench_serve_client.cpp, built here against the packaged cpp-httplib).
# Measures single-pair and 1000-pair-batch /invocations, and a 1000-row /invoke batch
# (external-function protocol): requests/s, pairs/s, p50/p99 latency. The model is the default
# SVD (100 factors) trained on MovieLens ml-latest-small (or generated data of the same shape).
# Usage: scripts/bench_serve.sh BUILD_DIR   (env: SECONDS_PER_RUN=5, CONNECTIONS="1 4",
#        THREADS=0 (server workers), RECO_MOVIELENS_SMALL=DIR)
set -euo pipefail
build="$(realpath "$1")"
reco="$build/reco"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${RECO_MOVIELENS_SMALL:-$root/../shared/data/movielens/ml-latest-small}"
seconds="${SECONDS_PER_RUN:-5}"
connections="${CONNECTIONS:-1 4}"
threads="${THREADS:-0}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

client="$work/bench_serve_client"
# shellcheck disable=SC2046
c++ -std=c++20 -O2 -o "$client" "$root/scripts/bench_serve_client.cpp" $(pkg-config --cflags --libs cpp-httplib) -pthread

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
home="$work/home"
mkdir -p "$home"
if [ -f "$data/ratings.csv" ]; then
  "$reco" --quiet --home "$home" load movielens "$data" >/dev/null
  ratings="$data/ratings.csv"
else
  echo "WARNING: $data has no ratings.csv; using generated data of the same shape" >&2
  "$reco" --quiet generate movielens "$work/generated" --users 610 --items 9700 --ratings 100836 --seed 1 >/dev/null
  "$reco" --quiet --home "$home" load movielens "$work/generated" >/dev/null
  ratings="$work/generated/ratings.csv"
fi
echo "data: $ratings"
"$reco" --quiet --home "$home" train --input ratings -k 0 >/dev/null
"$reco" --quiet --home "$home" endpoints deploy bench models:/ratings >/dev/null

# Bodies: the guide's first pair; 1000 (user, item) pairs taken from the ratings file.
printf '1,308\n' >"$work/single.csv"
awk -F, 'NR > 1 && NR <= 1001 { print $1 "," $2 }' "$ratings" >"$work/batch.csv"
python3 - "$work/batch.csv" "$work/invoke.json" <<'PY'
import json, sys
rows = [line.strip().split(",") for line in open(sys.argv[1]) if line.strip()]
json.dump({"data": [[i, "bench", u, m] for i, (u, m) in enumerate(rows)]}, open(sys.argv[2], "w"))
PY

"$reco" --quiet --home "$home" serve --port 0 --threads "$threads" --queue 1024 >"$work/url" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url="$(cat "$work/url")"
port="${url##*:}"
echo "server: $url (reco serve --threads $threads), ${seconds} s per run, keep-alive connections"
echo

printf '%-34s %5s %10s %12s %9s %9s %8s\n' "run" "conns" "req/s" "pairs/s" "p50 ms" "p99 ms" "errors"
run() {  # label body content-type path items conns
  local out
  out="$("$client" --port "$port" --label "$1" --body-file "$2" --content-type "$3" --path "$4" \
    --items "$5" --connections "$6" --seconds "$seconds")"
  python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print("%-34s %5d %10.0f %12.0f %9.3f %9.3f %8d" % (r["label"], r["connections"], r["requests_per_s"],
      r["items_per_s"], r["p50_ms"], r["p99_ms"], r["failures"]))
PY
}
for c in $connections; do
  run "single pair  POST /invocations" "$work/single.csv" text/csv /invocations 1 "$c"
done
for c in $connections; do
  run "1000 pairs   POST /invocations" "$work/batch.csv" text/csv /invocations 1000 "$c"
done
for c in $connections; do
  run "1000 rows    POST /invoke (JSON)" "$work/invoke.json" application/json /invoke 1000 "$c"
done
