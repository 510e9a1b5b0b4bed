#!/usr/bin/env bash
# The whole test suite: lint, migration check, pytest on SQLite, then on a throwaway
# PostgreSQL 15 that this script starts and always stops. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
source scripts/pg.sh
trap pg_down EXIT

# Browser tests drive Debian's Chromium; install it when missing (never `playwright install`).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

export SMARTPLEX_DATA_DIR=${SMARTPLEX_DATA_DIR:-$(mktemp -d /tmp/smartplex-test.XXXXXX)}
export DEBUG=0 SMARTPLEX_MANIFEST_STATIC=0
unset PLEX_URL PLEX_TOKEN TAUTULLI_URL TAUTULLI_API_KEY RADARR_URL RADARR_API_KEY SONARR_URL SONARR_API_KEY SEERR_URL SEERR_API_KEY DATABASE_URL

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== migrations are up to date"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null

echo "== pytest on SQLite"
.venv/bin/python -m pytest "$@"

echo "== pytest on PostgreSQL 15"
pg_up
.venv/bin/python -m pytest -m "not browser" "$@"
