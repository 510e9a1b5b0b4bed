#!/usr/bin/env bash
# Runs SmartPlex: web server (gunicorn + WhiteNoise), the django-q2 worker and the Plex
# notification listener (plex_events) together,
# on SQLite by default. Without PLEX_URL it first starts the bundled Plex and Tautulli
# simulators with a generated demo library and points the connections at them.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
[ -f .env ] && set -a && source .env && set +a

# Processes started in their own session (the demo simulators, the worker) are not reached
# by a signal to this script's process group; each also gets TERM the moment this script
# dies (Linux's parent-death signal, set by setpriv), so stopping the group — even with
# KILL, which skips the cleanup below — never leaves a worker or simulator running.
detached=(setsid)
if command -v setpriv >/dev/null 2>&1; then
  detached=(setsid setpriv --pdeathsig TERM --)
fi

pids=()
cleanup() {
  # Ignore further INT/TERM rather than restoring their default: make forwards its own TERM
  # to this script a moment after the group's, and dying here would skip the KILL below.
  trap '' INT TERM
  trap - EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Give everything 20 s to stop cleanly, then end what is left of each process group.
  for _ in $(seq 1 40); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

if [ -z "${PLEX_URL:-}" ]; then
  echo "No PLEX_URL set: starting the demo Plex, Tautulli, Radarr and Sonarr simulators."
  demo_env=$(mktemp)
  "${detached[@]}" $PY -m simulators.demo --env-file "$demo_env" &
  pids+=($!)
  for _ in $(seq 1 600); do [ -s "$demo_env" ] && break; sleep 0.1; done
  [ -s "$demo_env" ] || { echo "The demo simulators did not start." >&2; exit 1; }
  set -a; source "$demo_env"; set +a
  rm -f "$demo_env"
  DEMO=1
fi

$PY manage.py migrate --noinput
$PY manage.py createcachetable  # only does something with CACHE_BACKEND=database
$PY manage.py collectstatic --noinput >/dev/null
$PY manage.py ensure_admin
if [ "${DEMO:-0}" = 1 ] || [ "${SYNC_ON_START:-0}" = 1 ]; then
  $PY manage.py sync_all --trigger startup || echo "First sync failed; see the Sync runs page." >&2
fi
if [ "${DEMO:-0}" = 1 ]; then
  # A nearly full disk over its threshold, with months of storage history (never overrides
  # a capacity or threshold you have set).
  $PY manage.py demo_setup
fi

# The worker runs in its own session: django-q2 stops cleanly on one TERM to its main
# process, but hangs when Ctrl-C's SIGINT reaches all of its processes at once.
"${detached[@]}" $PY manage.py qcluster &
pids+=($!)
# Plex's own notifications refresh changed items within seconds (TERM stops it cleanly).
if [ -n "${PLEX_URL:-}" ]; then
  $PY manage.py plex_events &
  pids+=($!)
fi
.venv/bin/gunicorn smartplex.wsgi --bind "$HOST:$PORT" --workers "${WEB_WORKERS:-2}" \
  --threads 4 --graceful-timeout 5 --access-logfile - --log-level warning &
pids+=($!)
echo
echo "SmartPlex is running at http://$HOST:$PORT/  (Ctrl-C stops it)"
wait -n "${pids[@]}"
