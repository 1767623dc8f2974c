#!/usr/bin/env bash
# Idle memory per connection, A/B on alternating fresh servers (A, B, A, B, …): each run
# gets a new data folder and 10,000 bots, the server pinned to CPU 0 and `confab-load idle`
# (rooms of 100) to CPU 1. The server's anonymous memory (RssAnon: its heap and stacks,
# not the binary's pages, which differ between copies of the same file) is read before
# the load, and again HOLD seconds after every connection is open; the difference over
# the connections is the cost of one. Prints one line per run.
#   scripts/bench-idle-ab.sh A_BIN B_BIN ROUNDS [CLIENTS=10000] [HOLD=10]
# LOAD (default: the target folder's release `confab-load`) is the generator.
# Method: docs/benchmarks.md, "Memory per idle connection".
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,10p "$0"; exit 2; }
A="$1"; B="$2"; ROUNDS="$3"; CLIENTS="${4:-10000}"; HOLD="${5:-10}"
LOAD="${LOAD:-${CARGO_TARGET_DIR:-$HOME/.cache/confab/target}/release/confab-load}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
anon_kb() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }
open_conns() {
  curl -fs "http://127.0.0.1:$1/metrics" | awk '/^confab_connections_open / {print int($2)}'
}
ulimit -n 65536 2>/dev/null || true

one_run() { # one_run LABEL BIN N
  local label="$1" bin="$2" n="$3" data port server load before after open
  data="$(mktemp -d)"
  port="$(free_port)"
  CONFAB_DATA_DIR="$data" "$bin" user bots --prefix lg --count "$CLIENTS" > "$data/bots.tsv"
  LEPTOS_OUTPUT_NAME=confab CONFAB_BIND="127.0.0.1:$port" CONFAB_DATA_DIR="$data" \
    CONFAB_MAX_CONNS_PER_ADDR=1000000 CONFAB_LOG=warn \
    taskset -c 0 "$bin" > "$data/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  sleep 1
  before="$(anon_kb "$server")"
  taskset -c 1 "$LOAD" --server "127.0.0.1:$port" --bots "$data/bots.tsv" --server-pid "$server" \
    idle --clients "$CLIENTS" --room-size 100 --seconds $((HOLD + 60)) > "$data/load.txt" 2>&1 &
  load=$!
  open=0
  for _ in $(seq 600); do
    open="$(open_conns "$port" || echo 0)"
    [ "${open:-0}" -ge "$CLIENTS" ] && break
    sleep 0.1
  done
  sleep "$HOLD"
  after="$(anon_kb "$server")"
  kill "$load" 2>/dev/null || true
  wait "$load" 2>/dev/null || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
  python3 -c "
import json
b, a, open_, clients = $before, $after, ${open:-0}, $CLIENTS
print(json.dumps(dict(label='$label', run=$n, open=open_, anon_before_kb=b, anon_after_kb=a,
                      bytes_per_conn=round((a - b) * 1024 / clients))))"
}

for n in $(seq "$ROUNDS"); do
  one_run A "$A" "$n"
  one_run B "$B" "$n"
done
