#!/usr/bin/env bash
# Profiles the server during a steady fan-out: the release server pinned to CPU 0, the
# generator to CPU 1, clients in rooms of 100 with one publisher each at RATE messages/s
# (deliveries/s = clients × rate). In the middle of the run it counts context switches and
# write syscalls (`perf stat`) and samples call stacks (`perf record -e cpu-clock -g`),
# then prints the generator's report, the counts per delivery and the hottest symbols.
# Method and readings: docs/benchmarks.md, "Profiles and A/B results".
#   scripts/bench-profile.sh [RATE] [CLIENTS]       # defaults: 25 msgs/s per room, 2000
# Outputs (perf.data, the report, folded stacks for a flame graph) go to $OUT (a temporary
# folder unless set).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RATE="${1:-25}"
CLIENTS="${2:-2000}"
SECONDS_RUN="${CONFAB_PROFILE_SECS:-20}"
SAMPLE_SECS="${CONFAB_PROFILE_SAMPLE_SECS:-8}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 1; }
source "$ROOT/scripts/lib/bench-build.sh"

DATA="$(mktemp -d)"
PORT="$(free_port)"
CONFAB_DATA_DIR="$DATA" "$BIN/confab" user bots --prefix lg --count "$CLIENTS" > "$DATA/bots.tsv"
LEPTOS_SITE_ROOT="$ROOT/target/site" CONFAB_BIND="127.0.0.1:$PORT" CONFAB_DATA_DIR="$DATA" \
  CONFAB_MAX_CONNS_PER_ADDR=1000000 CONFAB_RATE_PER_SEC=100000 CONFAB_RATE_BURST=100000 \
  CONFAB_LOG=warn taskset -c 0 "$BIN/confab" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

taskset -c 1 "$BIN/confab-load" --server "127.0.0.1:$PORT" --bots "$DATA/bots.tsv" \
  --server-pid "$SERVER" fanout --clients "$CLIENTS" --room-size 100 --publishers 1 \
  --rate "$RATE" --seconds "$SECONDS_RUN" > "$OUT/load.txt" 2>&1 &
LOAD=$!
# Connecting and settling the clients comes first; sample the steady middle of the run.
sleep "$(( SECONDS_RUN / 2 ))"
perf stat -e context-switches,cpu-migrations,syscalls:sys_enter_writev,syscalls:sys_enter_sendto,syscalls:sys_enter_write,task-clock \
  -p "$SERVER" -- sleep "$SAMPLE_SECS" 2> "$OUT/stat.txt" || true
perf record -e cpu-clock -F 2000 -g -p "$SERVER" -o "$OUT/perf.data" -- sleep "$SAMPLE_SECS" \
  2> "$OUT/record.txt" || true
wait "$LOAD" || true

cat "$OUT/load.txt"
echo "=== perf stat ($SAMPLE_SECS s, expected deliveries/s: $(( CLIENTS * RATE )))"
cat "$OUT/stat.txt"
echo "=== hottest symbols (self)"
perf report -i "$OUT/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null \
  | grep -E '^ +[0-9]' | head -40 || true
echo "=== user space vs kernel"
perf report -i "$OUT/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
  | grep -E '^ +[0-9]' | head -10 || true
echo "=== by thread"
perf report -i "$OUT/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null \
  | grep -E '^ +[0-9]' | head -10 || true
perf script -i "$OUT/perf.data" 2>/dev/null > "$OUT/perf.script" || true
# A flame graph when inferno is installed (`cargo install inferno`).
if command -v inferno-collapse-perf >/dev/null; then
  inferno-collapse-perf < "$OUT/perf.script" > "$OUT/folded.txt"
  inferno-flamegraph --title "confab: fan-out at $(( CLIENTS * RATE )) deliveries/s" \
    < "$OUT/folded.txt" > "$OUT/flame.svg"
fi
echo "outputs in $OUT"
