#!/usr/bin/env bash
# Reproduces the load-generator figures in docs/benchmarks.md on the embedded default (SQLite),
# or, with DATABASE_URL (a fresh Postgres database) and REDIS_URL exported, on those:
# builds the release server and confab-load, creates bots on a fresh data folder, runs the
# server pinned to CPU 0 and the generator to CPU 1, and prints each run's report (the last
# line of each is its JSON summary). Takes a few minutes.
#   scripts/bench-load.sh              # every workload below
#   scripts/bench-load.sh fanout       # only those whose name matches
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/scripts/lib/bench-build.sh"
ONLY="${1:-}"

DATA="$(mktemp -d)"
PORT="$(free_port)"
CONFAB_DATA_DIR="$DATA" "$BIN/confab" user bots --prefix lg --count 10000 > "$DATA/bots.tsv"
# Every generated client connects from loopback: lift the per-address connection cap; and
# `sends` publishes as fast as acks come back: lift the per-connection rate limit.
LEPTOS_SITE_ROOT="$ROOT/target/site" CONFAB_BIND="127.0.0.1:$PORT" CONFAB_DATA_DIR="$DATA" \
  CONFAB_MAX_CONNS_PER_ADDR=1000000 CONFAB_RATE_PER_SEC=100000 CONFAB_RATE_BURST=100000 CONFAB_LOG=warn taskset -c 0 "$BIN/confab" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

load() { # load NAME ARGS...
  local name="$1"; shift
  if [ -n "$ONLY" ] && [[ "$name" != *"$ONLY"* ]]; then return; fi
  echo "=== $name"
  # A run that is not clean (loss, repeats, drops) says so and exits 2; the others still run.
  taskset -c 1 "$BIN/confab-load" --server "127.0.0.1:$PORT" --bots "$DATA/bots.tsv" \
    --server-pid "$SERVER" "$@" || echo "=== $name: exit status $?"
}

# The generator's own ceiling first: a trivial sink on CPU 0 writing events as fast as the
# generator (CPU 1) reads them through its receive path.
SINK_PORT="$(free_port)"
if [ -z "$ONLY" ] || [[ "selftest" == *"$ONLY"* ]]; then
  taskset -c 0 "$BIN/confab-load" --server "127.0.0.1:$SINK_PORT" sink &
  SINK=$!
  sleep 0.5
  echo "=== selftest 50 connections"
  taskset -c 1 "$BIN/confab-load" --server "127.0.0.1:$SINK_PORT" selftest --connections 50 --seconds 10
  kill "$SINK"
fi

load "idle 10000"            idle --clients 10000 --room-size 100 --seconds 5
load "fanout 2000/100 10/s"  fanout --clients 2000 --room-size 100 --publishers 1 --rate 10 --seconds 10
load "fanout 2000/100 20/s"  fanout --clients 2000 --room-size 100 --publishers 1 --rate 20 --seconds 10
load "fanout 2000/100 40/s"  fanout --clients 2000 --room-size 100 --publishers 2 --rate 20 --seconds 10
# The same offered load with every publisher sending in the same instant (before
# 2026-12-03 the generator always did): one burst of 20 sends per period.
load "lockstep fanout 2000/100 10/s" --lockstep fanout --clients 2000 --room-size 100 --publishers 1 --rate 10 --seconds 10
load "lockstep fanout 2000/100 20/s" --lockstep fanout --clients 2000 --room-size 100 --publishers 1 --rate 20 --seconds 10
load "bigroom 5000 2/s"      bigroom --clients 5000 --publishers 1 --rate 2 --seconds 10
load "bigroom 5000 6/s"      bigroom --clients 5000 --publishers 2 --rate 3 --seconds 10
load "bigroom 5000 12/s"     bigroom --clients 5000 --publishers 4 --rate 3 --seconds 10
load "sends 100 rooms of 2"   sends --clients 200 --room-size 2 --seconds 10
load "sends hot room of 50"   sends --clients 50 --room-size 50 --seconds 10
load "reconnect-storm 10000" reconnect-storm --clients 10000 --room-size 100 --publishers 1 --rate 2 --seconds 20
load "ramp 2000/100 p99<50ms" ramp --clients 2000 --room-size 100 --publishers 2 --start-rate 2.5 --factor 1.4 --steps 8 --p99-ms 50 --seconds 10
