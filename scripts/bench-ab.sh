#!/usr/bin/env bash
# A/B of two server binaries on alternating fresh servers (A, B, A, B, …): each run gets a
# new data folder and bots, the server pinned to CPU 0 and `confab-load` to CPU 1, and the
# same workload. In the middle of each run `perf stat` counts the server's CPU time and
# write system calls, so a run reports CPU and writes per delivery beside the generator's
# rate and latency. Prints one line per run and the mean of each side.
#   scripts/bench-ab.sh A_BIN B_BIN ROUNDS WORKLOAD ARGS…
#   scripts/bench-ab.sh /tmp/confab-A /tmp/confab-B 4 fanout --clients 2000 --room-size 100 \
#     --publishers 1 --rate 25 --seconds 20
# Binaries: build each side with `cargo build --release -p confab --no-default-features`
# (a build outside cargo-leptos reads LEPTOS_OUTPUT_NAME at run time; the script sets it)
# and copy it out of the target folder. LOAD (default: the target folder's release
# `confab-load`) is the generator. The workload must run ≥ 12 s for the sample window.
# Method: docs/benchmarks.md, "How we measure".
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,13p "$0"; exit 2; }
A="$1"; B="$2"; ROUNDS="$3"; shift 3
LOAD="${LOAD:-${CARGO_TARGET_DIR:-$HOME/.cache/confab/target}/release/confab-load}"
SAMPLE_SECS="${CONFAB_AB_SAMPLE_SECS:-6}"
BOTS="${BOTS:-2000}"  # bots made per run: at least the workload's clients
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
OUT="$(mktemp -d)"
echo "runs in $OUT"

one_run() { # one_run LABEL BIN N
  local label="$1" bin="$2" n="$3" data port server load
  shift 3
  data="$(mktemp -d)"
  port="$(free_port)"
  CONFAB_DATA_DIR="$data" "$bin" user bots --prefix lg --count "$BOTS" > "$data/bots.tsv"
  LEPTOS_OUTPUT_NAME=confab CONFAB_BIND="127.0.0.1:$port" CONFAB_DATA_DIR="$data" CONFAB_MAX_CONNS_PER_ADDR=1000000 \
    CONFAB_RATE_PER_SEC=100000 CONFAB_RATE_BURST=100000 CONFAB_LOG=warn \
    taskset -c 0 "$bin" > "$OUT/$label-$n.server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  taskset -c 1 "$LOAD" --server "127.0.0.1:$port" --bots "$data/bots.tsv" --server-pid "$server" \
    "$@" > "$OUT/$label-$n.load.txt" 2>&1 &
  load=$!
  # Connecting and settling come first: sample the steady middle.
  sleep 8
  perf stat -x, -e task-clock,syscalls:sys_enter_writev,syscalls:sys_enter_sendto,context-switches \
    -p "$server" -- sleep "$SAMPLE_SECS" 2> "$OUT/$label-$n.stat.csv" || true
  wait "$load" || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
  python3 - "$label" "$n" "$OUT" "$SAMPLE_SECS" <<'EOF'
import json, sys
label, n, out, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
lines = open(f"{out}/{label}-{n}.load.txt").read().strip().splitlines()
rep = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
stat = {}
for row in open(f"{out}/{label}-{n}.stat.csv"):
    f = row.strip().split(",")
    if len(f) > 2 and f[0] and f[0][0].isdigit():
        stat[f[2]] = float(f[0])
if rep is None:
    print(f"{label} run {n}: no report; see {out}/{label}-{n}.load.txt")
    sys.exit(0)
rate = rep["deliveries_per_s"]
cpu_ms = stat.get("task-clock", 0.0)           # milliseconds of CPU in the sample
per = (cpu_ms / 1000.0) / (rate * secs) * 1e6 if rate else float("nan")
writes = stat.get("syscalls:sys_enter_writev", 0) + stat.get("syscalls:sys_enter_sendto", 0)
wpd = writes / (rate * secs) if rate else float("nan")
row = dict(label=label, run=int(n), deliveries_per_s=rate, us_per_delivery=per,
           writes_per_delivery=wpd, ctx_per_s=stat.get("context-switches", 0) / secs,
           p50=rep["latency_ms"]["p50"], p99=rep["latency_ms"]["p99"],
           lost=rep["lost"], clean=rep["lost"] == 0 and rep["delivered"] == rep["expected"])
print(json.dumps(row))
with open(f"{out}/rows.jsonl", "a") as fh:
    fh.write(json.dumps(row) + "\n")
EOF
}

for n in $(seq "$ROUNDS"); do
  one_run A "$A" "$n" "$@"
  one_run B "$B" "$n" "$@"
done
python3 - "$OUT" <<'EOF'
import json, sys, statistics as st
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/rows.jsonl")]
for side in "AB":
    r = [x for x in rows if x["label"] == side]
    if not r:
        continue
    m = lambda k: st.mean(x[k] for x in r)
    print(f"{side}: {len(r)} runs, {m('deliveries_per_s'):.0f} deliveries/s, "
          f"{m('us_per_delivery'):.2f} µs CPU per delivery "
          f"({', '.join('%.2f' % x['us_per_delivery'] for x in r)}), "
          f"{m('writes_per_delivery'):.3f} writes per delivery, "
          f"p50 {m('p50'):.1f} ms, p99 {m('p99'):.1f} ms, "
          f"{sum(1 for x in r if not x['clean'])} unclean")
EOF
