#!/usr/bin/env bash
# One fixed-rate fan-out with the peer bench's generator (it reads far more deliveries/s on
# its core than `confab-load`), against one server binary: 2,000 clients in rooms of 100,
# DPS deliveries/s for 16 s, the server pinned to CPU 0 and the generator to CPU 1. In the
# middle, `perf stat` counts the server's CPU time, `writev` calls and context switches;
# at the end the server's commit batches are read from `/metrics`. Prints the delivered
# rate, p50/p99, CPU and writes per delivery, and sends per commit.
#   scripts/bench-peer-profile.sh BIN DPS [LABEL]
# Needs a writable copy of the peer bench with its generator built (BENCH, default
# /tmp/bench: `cp -r ../shared/bench /tmp/bench && (cd /tmp/bench/loadgen && cargo build
# --release)`). Run it for A and B alternately for an A/B.
set -euo pipefail
BIN="$1"; DPS="$2"; LABEL="${3:-run}"
BENCH="${BENCH:-/tmp/bench}"
LG="$BENCH/loadgen/target/release/loadgen"
[ -x "$LG" ] || { echo "no peer bench generator at $LG (see the header)" >&2; exit 1; }
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 1; }
D="$(mktemp -d)"; mkdir -p "$D/data" "$D/site"
trap 'rm -rf "$D"' EXIT
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export LEPTOS_OUTPUT_NAME=confab CONFAB_LOG=warn
CONFAB_DATA_DIR="$D/data" "$BIN" user bots --prefix lg --count 2000 > "$D/bots.tsv"
CONFAB_DATA_DIR="$D/data" LEPTOS_SITE_ROOT="$D/site" CONFAB_BIND="127.0.0.1:$PORT" \
  CONFAB_MAX_CONNS_PER_ADDR=1000000 CONFAB_RATE_PER_SEC=100000 CONFAB_RATE_BURST=100000 \
  CONFAB_HEARTBEAT_SECS=600 CONFAB_IDLE_AWAY_SECS=86400 taskset -c 0 "$BIN" > "$D/server.log" 2>&1 &
S=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
taskset -c 1 "$LG" confab-setup --url "ws://127.0.0.1:$PORT" --bots "$D/bots.tsv" --clients 2000 \
  --room-size 100 --out "$D/rooms.tsv" > /dev/null 2>&1
taskset -c 1 "$LG" fanout --deliveries "$DPS" --duration 16 --clients 2000 --room-size 100 \
  --proto confab --url "ws://127.0.0.1:$PORT" --src-ips 2 --server-pid "$S" --bots "$D/bots.tsv" \
  --room-map "$D/rooms.tsv" --max-time-s 120 --label "$LABEL" > "$D/load.log" 2>&1 &
L=$!
sleep 12
perf stat -x, -e task-clock,syscalls:sys_enter_writev,context-switches -p "$S" -- sleep 6 \
  2> "$D/stat.csv" || true
wait "$L" || true
curl -fs "http://127.0.0.1:$PORT/metrics" > "$D/metrics.txt" || true
kill "$S"; wait "$S" 2>/dev/null || true
python3 - "$D" "$DPS" "$LABEL" <<'PY'
import json, sys
d, dps, label = sys.argv[1], float(sys.argv[2]), sys.argv[3]
stat = {}
for row in open(d + "/stat.csv"):
    f = row.strip().split(",")
    if len(f) > 2 and f[0] and f[0][0].isdigit():
        stat[f[2]] = float(f[0])
lines = [l for l in open(d + "/load.log") if l.startswith("{")]
r = json.loads(lines[-1])["result"] if lines else {}
rate = r.get("delivered_ps") or dps
batch = {}
for l in open(d + "/metrics.txt"):
    for k in ("sum", "count"):
        if l.startswith(f"confab_append_batch_size_{k} "):
            batch[k] = float(l.split()[-1])
print(f"{label}: {rate:.0f} delivered/s (late past the drain {r.get('loss')}), "
      f"p50 {r.get('p50_ms')} ms, p99 {r.get('p99_ms')} ms, "
      f"{stat['task-clock'] / 1000 / (rate * 6) * 1e6:.2f} µs server CPU per delivery, "
      f"{stat['syscalls:sys_enter_writev'] / (rate * 6):.3f} writev per delivery, "
      f"{stat['context-switches'] / 6:.0f} context switches/s, "
      f"{batch.get('sum', 0) / max(batch.get('count', 1), 1):.1f} sends per commit")
PY
