#!/usr/bin/env bash
# A throwaway Redis server for the tests, on loopback only.
#   scripts/redis.sh install   installs Debian's redis-server if it is missing (needs root)
#   scripts/redis.sh start     starts one on REDIS_TEST_PORT (default 63790); prints REDIS_URL=...
#   scripts/redis.sh stop      stops it and removes its folder
set -euo pipefail
port=${REDIS_TEST_PORT:-63790}
dir=${REDIS_TEST_DIR:-/tmp/streamable-ts-redis-$port}

case "${1:-}" in
  install)
    if ! command -v redis-server >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    fi
    ;;
  start)
    command -v redis-server >/dev/null || { echo "no redis-server; run: scripts/redis.sh install" >&2; exit 3; }
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" \
      --save "" --appendonly no --logfile "$dir/log" >/dev/null
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$port" ping >/dev/null
    echo "REDIS_URL=redis://127.0.0.1:$port"
    ;;
  stop)
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 install|start|stop" >&2
    exit 2
    ;;
esac
