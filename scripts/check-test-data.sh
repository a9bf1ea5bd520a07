#!/usr/bin/env bash
# Says loudly when the real MovieLens data the tests use is missing: those tests are skipped.
dir="${RECO_MOVIELENS_SMALL:-$(dirname "$0")/../../shared/data/movielens/ml-latest-small}"
if [ ! -f "$dir/ratings.csv" ]; then
  echo "************************************************************************" >&2
  echo "WARNING: MovieLens ml-latest-small not found at $dir" >&2
  echo "         Tests that need real data will be SKIPPED (not passed)." >&2
  echo "************************************************************************" >&2
fi
exit 0
