#!/usr/bin/env bash
# Makes sure Postgres and Redis are reachable for the tests that use them.
# DATABASE_URL / REDIS_URL are used when set; otherwise the local services on their
# standard ports. A service that is installed locally but stopped is started. When CI is
# set and a service stays unreachable, this fails loudly; tests never skip silently.
#
# Exports CONFAB_TEST_DATABASE_URL and CONFAB_TEST_REDIS_URL for the Rust tests (the
# server itself is not given DATABASE_URL here, so the browser suite runs on the
# embedded default).

CONFAB_TEST_DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
CONFAB_TEST_REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export CONFAB_TEST_DATABASE_URL CONFAB_TEST_REDIS_URL

services_fail() {
  if [ -n "${CI:-}" ]; then
    echo "[services] FATAL: $* (CI is set, so tests that need it must not skip)" >&2
    exit 1
  fi
  echo "[services] WARNING: $* — the tests that need it will report themselves as skipped" >&2
}

postgres_up() { pg_isready -q -d "$CONFAB_TEST_DATABASE_URL" -t 2 >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -u "$CONFAB_TEST_REDIS_URL" ping 2>/dev/null)" = "PONG" ]; }

ensure_postgres() {
  if ! command -v pg_isready >/dev/null 2>&1; then
    services_fail "pg_isready is not installed, cannot check Postgres at $CONFAB_TEST_DATABASE_URL"
    return
  fi
  postgres_up && return
  if [ -z "${DATABASE_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "[services] starting the local Postgres cluster"
    for version in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    done
    for _ in $(seq 20); do postgres_up && return; sleep 0.5; done
  fi
  services_fail "Postgres is unreachable at $CONFAB_TEST_DATABASE_URL"
}

ensure_redis() {
  if ! command -v redis-cli >/dev/null 2>&1; then
    services_fail "redis-cli is not installed, cannot check Redis at $CONFAB_TEST_REDIS_URL"
    return
  fi
  redis_up && return
  if [ -z "${REDIS_URL:-}" ] && command -v redis-server >/dev/null 2>&1; then
    echo "[services] starting the local Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 20); do redis_up && return; sleep 0.5; done
  fi
  services_fail "Redis is unreachable at $CONFAB_TEST_REDIS_URL"
}
