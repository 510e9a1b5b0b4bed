#!/usr/bin/env bash
# Throwaway Redis for the test run: `source scripts/redis.sh; redis_up; …; redis_down`.
# It listens on a unix socket in a temp folder only (no TCP port, nothing to collide with),
# keeps nothing on disk, and exports its URL as TEST_REDIS_URL for the tests that need a
# real broker (tests pass it on as REDIS_URL to the processes they start).
redis_up() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server not found; installing Debian's redis-server" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  REDIS_DIR=$(mktemp -d /tmp/smartplex-redis.XXXXXX)
  redis-server --port 0 --unixsocket "$REDIS_DIR/redis.sock" --unixsocketperm 700 \
    --dir "$REDIS_DIR" --save '' --appendonly no --daemonize yes \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/log" >/dev/null
  for _ in $(seq 1 100); do [ -S "$REDIS_DIR/redis.sock" ] && break; sleep 0.05; done
  [ -S "$REDIS_DIR/redis.sock" ] || { echo "Redis did not start:" >&2; cat "$REDIS_DIR/log" >&2; return 1; }
  export REDIS_DIR
  export TEST_REDIS_URL="unix://$REDIS_DIR/redis.sock"
}

redis_down() {
  if [ -n "${REDIS_DIR:-}" ] && [ -f "$REDIS_DIR/redis.pid" ]; then
    local pid
    pid=$(cat "$REDIS_DIR/redis.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
  [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
  return 0
}
