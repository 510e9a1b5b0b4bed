#!/usr/bin/env bash
# The whole test suite: lint, migration check, pytest on SQLite, then on a throwaway
# PostgreSQL 15 and a throwaway Redis that this script starts and always stops. The
# multi-worker tests (marker `multihost`) need both, so they run in the second phase only.
# Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
source scripts/pg.sh
source scripts/redis.sh
trap 'pg_down; redis_down' EXIT

# Browser tests drive Debian's Chromium; install it when missing (never `playwright install`).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

export SMARTPLEX_DATA_DIR=${SMARTPLEX_DATA_DIR:-$(mktemp -d /tmp/smartplex-test.XXXXXX)}
export DEBUG=0 SMARTPLEX_MANIFEST_STATIC=0
unset PLEX_URL PLEX_TOKEN TAUTULLI_URL TAUTULLI_API_KEY RADARR_URL RADARR_API_KEY SONARR_URL SONARR_API_KEY SEERR_URL SEERR_API_KEY DATABASE_URL
unset REDIS_URL CACHE_BACKEND Q_SCHEDULER SYNC_STALE_MINUTES

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== migrations are up to date"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null

# A real Redis for the tests that need one (they read TEST_REDIS_URL and fail, not skip,
# when SMARTPLEX_REQUIRE_REDIS is set and it is missing).
redis_up
export SMARTPLEX_REQUIRE_REDIS=1

echo "== pytest on SQLite"
.venv/bin/python -m pytest -m "not multihost" "$@"

echo "== pytest on PostgreSQL 15 (with Redis)"
pg_up
.venv/bin/python -m pytest -m "not browser" "$@"
