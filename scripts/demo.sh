#!/usr/bin/env bash
# The guide's pipeline end to end on the embedded warehouse:
#   obtain MovieLens ml-latest-small -> load it -> shape a training table with SQL ->
#   train_and_get_recommendations from SQL -> look at the top-10s and the model artifact.
# Usage: scripts/demo.sh RECO_BINARY [DATA_DIR]
set -euo pipefail
reco="$(realpath "$1")"
data="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
home="$root/.reco-demo"
rm -rf "$home"
mkdir -p "$home"
export RECO_HOME="$home"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Obtain MovieLens ml-latest-small"
if [ -n "$data" ]; then
  echo "using the local copy in $data"
elif data="$("$reco" fetch movielens ml-latest-small --connect-timeout 10 2>"$home/fetch.log")"; then
  echo "downloaded and verified: $data"
else
  echo "could not download ml-latest-small (offline?): $(tail -n 1 "$home/fetch.log")"
  echo "falling back to a generated data set with the same shape (use 'make demo DATA=DIR' for a local copy)"
  data="$home/generated"
  "$reco" generate movielens "$data" --users 610 --items 9700 --ratings 100836 --seed 1
fi

step "2. Load it into the warehouse ($home/warehouse.db)"
"$reco" load movielens "$data"

step "3. The guide's SQL, through reco sql"
cat > "$home/guide.sql" <<'SQL'
select * from ratings limit 5;

-- INPUT TABLE: the training data (the guide uses "limit 10000"; we train on every rating)
create table ratings_train_data as (select USERID, MOVIEID, RATING from ratings);

-- OUTPUT TABLE: top 10 recommendations for every user
create table user_movie_recommendations (USERID float, TOP_10_RECOMMENDATIONS variant);

.mode line
select train_and_get_recommendations('MOVIELENS.PUBLIC.ratings_train_data',
                                     'MOVIELENS.PUBLIC.user_movie_recommendations') as result;
.mode table

select count(*) as users from user_movie_recommendations;
select * from user_movie_recommendations limit 5;
SQL
"$reco" sql --echo "$home/guide.sql"

step "4. A few users' top-10 with titles"
for user in 1 2; do
  echo "user $user:"
  "$reco" recommend --model ratings_train_data --user "$user"
done

step "5. The model artifact"
"$reco" models
echo
echo "Everything above lives in $home (warehouse.db, models/). Try: RECO_HOME=$home $reco sql"
