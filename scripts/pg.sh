#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for the test run: `source scripts/pg.sh; pg_up; …; pg_down`.
# initdb/pg_ctl refuse to run as root, so as root they run as the `postgres` user.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

_pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_up() {
  if [ ! -x "$PG_BIN/initdb" ]; then
    echo "PostgreSQL 15 not found in $PG_BIN; installing postgresql-15" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  fi
  PG_DIR=$(mktemp -d /tmp/smartplex-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  PG_USER=$([ "$(id -u)" = 0 ] && echo postgres || id -un)
  _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U "$PG_USER" >/dev/null
  _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-k $PG_DIR -h '' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  export PG_DIR
  export DATABASE_URL="postgres://$PG_USER@$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$PG_DIR")/smartplex"
}

pg_down() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
