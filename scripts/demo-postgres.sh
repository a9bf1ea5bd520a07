#!/usr/bin/env bash
# The guide's architecture on a real warehouse server, end to end: a throw-away PostgreSQL 15
# cluster holds the tables, `reco serve --db postgresql://...` is the model service, and the
# guide's SQL runs in psql through the extension (CREATE EXTENSION reco; make pg-extension):
#   load MovieLens into PostgreSQL -> shape the training table with SQL ->
#   train_and_get_recommendations (the service reads and writes PostgreSQL tables) ->
#   deploy_model -> the guide's invoke_model query joined with movies.
# Usage: scripts/demo-postgres.sh RECO_BINARY [DATA_DIR]
# Without DATA_DIR: ../shared/data/movielens/ml-latest-small beside the repository when it is
# there, else a download, else (offline) a generated data set of the same shape.
set -euo pipefail
reco="$(realpath "$1")"
data="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/reco-demo-postgres-XXXXXX")"
chmod 755 "$work"
state="$work/cluster.env"
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  "$root/scripts/pg-cluster.sh" stop "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if ! "$reco" --help 2>&1 | grep -q "postgresql://"; then
  echo "demo-postgres: $reco has no PostgreSQL warehouse (reco --db postgresql://...)" >&2
  exit 69
fi

step "1. A PostgreSQL 15 server (a throw-away cluster) with the extension"
# pg_cron (Debian's postgresql-15-cron) preloaded, serving database movielens: step 5's task.
RECO_PG_PRELOAD=pg_cron RECO_PG_CRON_DB=movielens "$root/scripts/pg-cluster.sh" start "$state"
# shellcheck disable=SC1090
source "$state"
export PGDATABASE=movielens
createdb movielens
db="postgresql://$PGUSER@$PGHOST:$PGPORT/movielens"  # the password comes from PGPASSWORD

step "2. Obtain MovieLens ml-latest-small and load it into PostgreSQL"
shared="$root/../shared/data/movielens/ml-latest-small"
home="$work/home"
mkdir -p "$home"
export RECO_HOME="$home"
if [ -z "$data" ] && [ -f "$shared/ratings.csv" ]; then
  data="$(realpath "$shared")"
fi
if [ -n "$data" ]; then
  echo "using the local copy in $data"
elif data="$("$reco" fetch movielens ml-latest-small --connect-timeout 10 2>"$work/fetch.log")"; then
  echo "downloaded and verified: $data"
else
  echo "could not download ml-latest-small (offline?): $(tail -n 1 "$work/fetch.log")"
  data="$work/generated"
  "$reco" generate movielens "$data" --users 610 --items 9700 --ratings 100836 --seed 1
fi
"$reco" --db "$db" load movielens "$data"

step "3. reco serve on that database, with a token only it and PostgreSQL can read"
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$work/token"
chmod 600 "$work/token"
if [ "$(id -u)" -eq 0 ]; then chown "$RECO_TEST_PG_OS_USER" "$work/token"; fi
"$reco" --db "$db" serve --port 0 --token-file "$work/token" >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do
  url="$(head -n 1 "$work/serve.out" 2>/dev/null || true)"
  [[ "$url" == http://* ]] && break
  sleep 0.1
done
[[ "$url" == http://* ]] || { cat "$work/serve.log" >&2; exit 70; }
echo "reco serve at $url"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
create extension reco;
alter database movielens set reco.service_url = '$url';
alter database movielens set reco.token_file = '$work/token';
SQL

step "4. The guide's SQL in psql"
psql -X -a -v ON_ERROR_STOP=1 <<'SQL'
select * from ratings limit 10;

create table ratings_train_data as
    (select USERID, MOVIEID, RATING
    from ratings);

create table user_movie_recommendations
(USERID float,
TOP_10_RECOMMENDATIONS variant);

\timing on
select train_and_get_recommendations('MOVIELENS.PUBLIC.ratings_train_data','MOVIELENS.PUBLIC.user_movie_recommendations') ->> 'rmse' as cv_rmse;
\timing off

select count(*) as users from user_movie_recommendations;
select * from user_movie_recommendations limit 10;

select deploy_model('movielens-model-v1', 'models:/ratings_train_data') ->> 'status' as endpoint;

-- create a table to hold pairs of users and movies where we DO NOT have a rating
create table no_ratings (USERID float, MOVIEID float);

insert into no_ratings (USERID, MOVIEID) values
    ('1', '610'),
    ('10', '313'),
    ('10', '297'),
    ('5', '18'),
    ('5', '19');

--real-time prediction for an individual movie for a particular user
select nr.USERID, nr.MOVIEID, m.title, invoke_model('movielens-model-v1', nr.USERID, nr.MOVIEID) as rating_prediction
from no_ratings nr, movies m
where nr.movieid = m.movieid;

select recommend('movielens-model-v1', 1) as top_10_for_user_1;
SQL

step "5. Keep the model fresh: a task over pg_cron retrains when the ratings change, deploys if better"
psql -X -a -v ON_ERROR_STOP=1 <<'SQL'
create extension pg_cron;

select create_task('retrain', '60 MINUTE',
  $$select deploy_model('movielens-model-v1',
      train_and_get_recommendations('ratings_train_data', 'user_movie_recommendations')->>'artifact_uri',
      '{"promote_if": {"metric": "rmse", "margin": 0.001}}')$$,
  '{"when_changed": "ratings_train_data"}') ->> 'cron' as pg_cron_schedule;

-- run it now (pg_cron runs it at minute 0 of every hour): the first run always runs
select r ->> 'state' as state, r -> 'result' ->> 'reason' as decision from execute_task('retrain') r;
-- nothing changed since: skipped, no training
select r ->> 'state' as state, r ->> 'error' as why from execute_task('retrain') r;
-- new ratings arrive: retrained, and deployed only if its CV RMSE beats the serving one's
insert into ratings_train_data (userid, movieid, rating)
  select 611, movieid, 4.5 from movies order by movieid limit 40;
select r ->> 'state' as state, r -> 'result' ->> 'reason' as decision from execute_task('retrain') r;

select task, trigger, state, started_at, error, result ->> 'status' as deployment from task_history;
SQL

step "Done"
echo "The tables are in PostgreSQL; the models and endpoint in $home (removed now)."
