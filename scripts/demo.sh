#!/usr/bin/env bash
# The guide's pipeline end to end on the embedded warehouse:
#   obtain MovieLens ml-latest-small -> load it -> shape a training table with SQL ->
#   train_and_get_recommendations from SQL -> look at the top-10s and the model artifact ->
#   deploy_model / invoke_model from SQL -> serve it over HTTP and predict the guide's payload ->
#   keep it fresh: a task retrains when the ratings change and deploys only a better model.
# Usage: scripts/demo.sh RECO_BINARY [DATA_DIR]   (RECO_DEMO_HOME: where to work; default
# .reco-demo in the repository, emptied first)
# Without DATA_DIR: ../shared/data/movielens/ml-latest-small beside the repository when it is
# there, else a download, else (offline) a generated data set of the same shape.
set -euo pipefail
reco="$(realpath "$1")"
data="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
home="${RECO_DEMO_HOME:-$root/.reco-demo}"
rm -rf "$home"
mkdir -p "$home"
export RECO_HOME="$home"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Obtain MovieLens ml-latest-small"
shared="$root/../shared/data/movielens/ml-latest-small"
if [ -z "$data" ] && [ -f "$shared/ratings.csv" ]; then
  data="$(realpath "$shared")"
fi
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

step "6. Deploy it and ask for predictions from SQL (the guide's second half)"
cat > "$home/deploy.sql" <<'SQL'
select json_extract(d, '$.name') as endpoint, json_extract(d, '$.model') as model,
       json_extract(d, '$.version') as version, json_extract(d, '$.status') as status,
       json_extract(d, '$.artifact_uri') as artifact
  from (select deploy_model('movielens-model-v1', 'models:/ratings_train_data') as d);
create table no_ratings as
  select 1 as USERID, MOVIEID from movies
   where MOVIEID not in (select MOVIEID from ratings where USERID = 1) order by MOVIEID limit 5;
select nr.USERID, nr.MOVIEID, m.title,
       invoke_model('movielens-model-v1', nr.USERID, nr.MOVIEID) as rating_prediction
  from no_ratings nr, movies m where nr.movieid = m.movieid;
select recommend('movielens-model-v1', 1, 5) as recommended_for_user_1;
SQL
"$reco" sql --echo "$home/deploy.sql"

step "7. Serve it over HTTP and predict the guide's payload.csv"
printf '1,308\n1,425\n2,541\n2,1197\n' > "$home/payload.csv"
url_file="$home/serve.url"
"$reco" serve --port 0 --no-access-log >"$url_file" 2>"$home/serve.log" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$url_file" ] && break; sleep 0.1; done
url="$(head -n 1 "$url_file")"
echo "reco serve is listening on $url; reco predict payload.csv --url $url:"
"$reco" predict "$home/payload.csv" --url "$url"
kill -TERM "$server"
wait "$server" || true
trap - EXIT
step "8. Keep it fresh: a task retrains when the ratings change and promotes only a better model"
cat > "$home/task.sql" <<'SQL'
-- The guide's closing suggestion (Snowflake Tasks): retrain when new ratings arrive, and deploy
-- the new version only if its cross-validated RMSE beats the serving one by 0.001.
select json_extract(create_task('retrain', '60 MINUTE',
  'select deploy_model(''movielens-model-v1'',
     json_extract(train_and_get_recommendations(''ratings_train_data'', ''user_movie_recommendations''),
                  ''$.artifact_uri''),
     ''{"promote_if": {"metric": "rmse", "margin": 0.001}}'')',
  '{"when_changed": "ratings_train_data"}'), '$.schedule') as retrain_every;
-- Run it now (reco serve would, every 60 minutes): the same data and seed give the same RMSE,
-- which does not beat the serving model: promotion refused.
select json_extract(execute_task('retrain'), '$.state') as first_run;
-- Nothing changed since: skipped without training.
select json_extract(r, '$.state') as second_run, json_extract(r, '$.error') as why
  from (select execute_task('retrain') as r);
-- New ratings arrive (here: 300 users' ratings again, as new users; such copies put
-- near-duplicates on both sides of the CV folds, so the RMSE drops more than real new ratings
-- would make it): the table changed, the next run retrains and compares.
insert into ratings_train_data
  select USERID + 1000000, MOVIEID, RATING from ratings_train_data where USERID <= 300;
select json_extract(execute_task('retrain'), '$.state') as after_new_ratings;
SQL
"$reco" sql --echo "$home/task.sql"
echo
echo "reco tasks history retrain:"
"$reco" tasks history retrain
echo
echo "reco endpoints history movielens-model-v1 (promoted or refused, and why):"
"$reco" endpoints history movielens-model-v1

echo
echo "Everything above lives in $home (warehouse.db, models/, endpoints/, jobs/, tasks/). Try: RECO_HOME=$home $reco sql"
echo "Or see it in a browser: RECO_HOME=$home $reco serve, then open http://127.0.0.1:8080/ (endpoints, jobs, models with plots, users, tasks, the warehouse)."
