#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) and runs each for SECONDS
# (default 5). New inputs go to a scratch directory, the committed seed corpus (fuzz/corpus/NAME)
# is only read. A crash, leak, sanitizer report or timeout fails the run and leaves the input
# that caused it in BUILD_DIR/crashes/. Usage: scripts/fuzz.sh BUILD_DIR [SECONDS] [TARGET...]
# (env FUZZ_OPT: the build's optimization level, default -O0, which compiles fastest; FUZZ_TIMEOUT:
# seconds one input may take, default 10).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$1"
seconds="${2:-5}"
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(http_request json csv movielens payloads artifact); fi
gen=""
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
if [ ! -f "$build/CMakeCache.txt" ]; then
  # shellcheck disable=SC2086
  CC=clang CXX=clang++ cmake -S "$root/fuzz" -B "$build" $gen -DCMAKE_BUILD_TYPE=None \
    -DRECO_FUZZ_OPT="${FUZZ_OPT:--O0}" >/dev/null
fi
cmake --build "$build" -j "$(nproc)"
mkdir -p "$build/crashes"
failed=0
for t in "${targets[@]}"; do
  scratch="$(mktemp -d)"
  log="$build/fuzz_$t.log"
  if "$build/fuzz_$t" "$scratch" "$root/fuzz/corpus/$t" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" \
       -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$build/crashes/$t-" -print_final_stats=1 \
       >"$log" 2>&1; then
    runs="$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')"
    echo "fuzz $t: ok, ${runs:-?} inputs in ${seconds} s"
  else
    echo "fuzz $t: FAILED (log: $log)"
    tail -30 "$log"
    failed=1
  fi
  rm -rf "$scratch"
done
exit $failed
