#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for the tests.
#
#   scripts/pg-cluster.sh start STATE   initdb in a fresh temporary directory, start the server on a
#                                       free port of 127.0.0.1 (and a socket in that directory),
#                                       create the role and database of the tests, and write the
#                                       connection settings to STATE (a shell file of exports)
#   scripts/pg-cluster.sh stop STATE    stop that server and remove its directory
#
# PostgreSQL refuses to run as root: as root (CI), the cluster belongs to the unprivileged user
# RECO_PG_OS_USER (default nobody). RECO_PG_PRELOAD=pg_cron preloads pg_cron, which then serves
# database RECO_PG_CRON_DB (default reco_test). The tests connect as role `reco` (superuser of the cluster) with
# a random password over TCP (scram-sha-256), or through the socket (trust, for the cluster's OS
# user only). STATE exports PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, RECO_TEST_PG (a URI
# without the password), RECO_TEST_PG_SOCKET_DIR, RECO_TEST_PG_DIR and RECO_TEST_PG_OS_USER.
set -euo pipefail

action="${1:-}"
state="${2:-}"
if [ -z "$action" ] || [ -z "$state" ]; then
  echo "usage: $0 start|stop STATE_FILE" >&2
  exit 64
fi

pgbin="${RECO_PG_BIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)}"
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "pg-cluster: PostgreSQL 15 server binaries not found (/usr/lib/postgresql/15/bin);" \
    "run scripts/install-deps.sh test" >&2
  exit 69
fi

os_user="$(id -un)"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  os_user="${RECO_PG_OS_USER:-nobody}"
  as_user=(runuser -u "$os_user" --)
fi

stop_cluster() {
  local dir="$1"
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_user[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  # A server that would not stop: kill it by its pid file.
  if [ -f "$dir/data/postmaster.pid" ]; then
    kill -9 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "$action" in
  start)
    # A cluster left by an interrupted run of the same build is stopped first.
    if [ -f "$state" ]; then
      old_dir="$(sed -n 's/^export RECO_TEST_PG_DIR=//p' "$state" | tr -d "'")"
      [ -n "$old_dir" ] && [ -d "$old_dir" ] && stop_cluster "$old_dir"
      rm -f "$state"
    fi
    # Under /tmp (world-traversable), not the build folder: the unprivileged owner must reach it.
    dir="$(mktemp -d "${TMPDIR:-/tmp}/reco-pg-XXXXXX")"
    chmod 755 "$dir"
    password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
    printf '%s\n' "$password" >"$dir/pwfile"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$os_user" "$dir"; fi
    chmod 600 "$dir/pwfile"
    if ! "${as_user[@]}" "$pgbin/initdb" -D "$dir/data" -U reco --pwfile="$dir/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      rm -rf "$dir"
      exit 70
    fi
    rm -f "$dir/pwfile"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $port"
      echo "unix_socket_directories = '$dir'"
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
      echo "max_connections = 60"
      echo "shared_buffers = 64MB"
      echo "log_min_messages = warning"
      echo "shared_preload_libraries = '${RECO_PG_PRELOAD:-}'"
      if [ -n "${RECO_PG_PRELOAD:-}" ] && [[ "$RECO_PG_PRELOAD" == *pg_cron* ]]; then
        echo "cron.database_name = '${RECO_PG_CRON_DB:-reco_test}'"
        echo "cron.use_background_workers = on"
        echo "max_worker_processes = 20"
      fi
    } >>"$dir/data/postgresql.conf"
    if ! "${as_user[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
      cat "$dir/server.log" >&2
      stop_cluster "$dir"
      exit 70
    fi
    "${as_user[@]}" "$pgbin/createdb" -h "$dir" -p "$port" -U reco reco_test
    mkdir -p "$(dirname "$state")"
    cat >"$state" <<EOF
export PGHOST='127.0.0.1'
export PGPORT='$port'
export PGUSER='reco'
export PGDATABASE='reco_test'
export PGPASSWORD='$password'
export RECO_TEST_PG='postgresql://reco@127.0.0.1:$port/reco_test'
export RECO_TEST_PG_SOCKET_DIR='$dir'
export RECO_TEST_PG_DIR='$dir'
export RECO_TEST_PG_OS_USER='$os_user'
EOF
    chmod 600 "$state"
    echo "pg-cluster: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" \
      "(data in $dir, owned by $os_user)"
    ;;
  stop)
    if [ -f "$state" ]; then
      dir="$(sed -n 's/^export RECO_TEST_PG_DIR=//p' "$state" | tr -d "'")"
      [ -n "$dir" ] && [ -d "$dir" ] && stop_cluster "$dir"
      rm -f "$state"
      echo "pg-cluster: stopped"
    fi
    ;;
  *)
    echo "usage: $0 start|stop STATE_FILE" >&2
    exit 64
    ;;
esac
