#!/usr/bin/env bash
# One room of N (default 5,000) filling up at once, with the peer bench's generator: N bots
# (made before the server starts) subscribe to one public room, each joining it, 200 at a
# time; the server on CPU 0, the generator on CPU 1, the data folder under ROOT (default
# /work: keep it off tmpfs, SQLite fsyncs there). Prints the generator's connect and
# settle times, the server's and the generator's CPU per 0.5 s, and the frames the server
# sent by type (from `/metrics`). With PG=1, on Postgres + Redis instead of SQLite: a fresh
# database on the local Postgres (dropped at the end) and a fresh Redis prefix. With
# PERF=FILE, `perf record --call-graph dwarf` of the server for the first 8 s into FILE.
#   scripts/bench-join.sh BIN LABEL
# Needs a writable copy of the peer bench with its generator built (BENCH, default
# /tmp/bench: `cp -r ../shared/bench /tmp/bench && (cd /tmp/bench/loadgen && cargo build
# --release)`). Run it for A and B alternately for an A/B.
set -uo pipefail
BIN="$1"; LABEL="$2"; N="${N:-5000}"
BENCH="${BENCH:-/tmp/bench}"
LG="$BENCH/loadgen/target/release/loadgen"
[ -x "$LG" ] || { echo "no peer bench generator at $LG (see the header)" >&2; exit 1; }
D="$(mktemp -d "${ROOT:-/work}/bench-join.XXXX")"; mkdir -p "$D/data" "$D/site"
ENGINE=()
if [ "${PG:-0}" = 1 ]; then
  DB="benchjoin_$(date +%s)_$$"
  createdb -h 127.0.0.1 -U postgres "$DB" || exit 1
  ENGINE=(DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" REDIS_URL=redis://127.0.0.1:6379
          CONFAB_REDIS_PREFIX="$DB")
  trap 'rm -rf "$D"; dropdb -h 127.0.0.1 -U postgres --if-exists "$DB"' EXIT
else
  trap 'rm -rf "$D"' EXIT
fi
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export LEPTOS_OUTPUT_NAME=confab CONFAB_LOG=warn
env -u DATABASE_URL -u REDIS_URL "${ENGINE[@]}" CONFAB_DATA_DIR="$D/data" "$BIN" user bots --prefix lg --count "$N" > "$D/bots.tsv"
env -u DATABASE_URL -u REDIS_URL "${ENGINE[@]}" CONFAB_DATA_DIR="$D/data" LEPTOS_SITE_ROOT="$D/site" CONFAB_BIND="127.0.0.1:$PORT" \
  CONFAB_MAX_CONNS_PER_ADDR=1000000 CONFAB_RATE_PER_SEC=100000 CONFAB_RATE_BURST=100000 \
  taskset -c 0 "$BIN" > "$D/server.log" 2>&1 &
S=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
taskset -c 1 "$LG" confab-setup --url "ws://127.0.0.1:$PORT" --bots "$D/bots.tsv" --clients "$N" \
  --room-size "$N" --out "$D/rooms.tsv" > /dev/null 2>&1
taskset -c 1 "$LG" idle --hold-s 2 --clients "$N" --room-size "$N" --connect-timeout-s 300 \
  --ready-timeout-s 240 --proto confab --url "ws://127.0.0.1:$PORT" --src-ips 2 --server-pid "$S" \
  --bots "$D/bots.tsv" --room-map "$D/rooms.tsv" --max-time-s 120 --label "$LABEL" > "$D/load.log" 2>&1 &
L=$!
if [ -n "${PERF:-}" ]; then
  perf record -F 250 --call-graph dwarf,16384 -o "$PERF" -p "$S" -- sleep 8 2>/dev/null &
  P=$!
fi
python3 - "$S" "$L" > "$D/cpu.txt" <<'PY'
import os, sys, time
server, gen = sys.argv[1], sys.argv[2]
def cpu(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return None
hz = os.sysconf("SC_CLK_TCK"); a0, b0 = cpu(server), cpu(gen); t = 0.0
while t < 60:
    time.sleep(0.5); t += 0.5
    a, b = cpu(server), cpu(gen)
    if a is None or b is None:
        break
    print(f"{t:5.1f} s: server {100 * (a - a0) / hz / 0.5:4.0f} %, generator {100 * (b - b0) / hz / 0.5:4.0f} %")
    a0, b0 = a, b
PY
wait "$L"
[ -n "${P:-}" ] && wait "$P"
curl -fs "http://127.0.0.1:$PORT/metrics" > "$D/metrics.txt"
kill "$S"; wait "$S" 2>/dev/null
echo "$LABEL:"
grep -E '^(connected|settled)' "$D/load.log"
grep -E '^confab_frames_out_total' "$D/metrics.txt" | grep -v ' 0$'
grep -v ' 0 %, generator    0 %' "$D/cpu.txt" | head -20
