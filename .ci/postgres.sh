#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests (source this file): installs Debian's postgresql when missing,
# creates a cluster in a temporary folder as the unprivileged `postgres` user (the server refuses to run as root),
# listening only on 127.0.0.1 at a free port with trust authentication, creates the test database, and exports
#   RNNSERVICE_TEST_POSTGRES   an Npgsql connection string the tests read
#   RNNSERVICE_REQUIRE_POSTGRES=1  so the PostgreSQL tests fail rather than skip if it is missing
# Call stop_test_postgres to stop the server and remove the cluster.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null
fi
pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_root=$(mktemp -d /tmp/rnnservice-postgres-XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$pg_root"
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres "$pg_bin/initdb" -D "$pg_root/data" -U postgres --auth=trust -E UTF8 > "$pg_root/initdb.log"
as_postgres "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_root -c max_connections=200 -c fsync=off" start > /dev/null
as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres rnnservice_tests

stop_test_postgres() {
  as_postgres "$pg_bin/pg_ctl" -D "$pg_root/data" -m fast -w stop > /dev/null 2>&1 || true
  rm -rf "$pg_root"
}
export RNNSERVICE_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=rnnservice_tests"
export RNNSERVICE_REQUIRE_POSTGRES=1
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$pg_port"
