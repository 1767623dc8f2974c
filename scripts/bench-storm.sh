#!/usr/bin/env bash
# The reconnect-storm target, run as its issue states it: RUNS storms in a row (default
# 10) on each engine (ENGINES, default "sqlite pg": the embedded default, and Postgres +
# Redis on their local ports), every run on a fresh server and a fresh database. One
# storm: 10,000 clients in rooms of 100, one publisher per room at 2/s; halfway through a
# 20 s window every connection drops at once, reconnects (new authentication) and
# resumes from the last seq it saw; a client whose attempt fails retries with backoff for
# at most 60 s, then gives up. Server pinned to CPU 0, generator to CPU 1.
#
# Prints one line per run and a summary; exits 2 if any run was not clean (anything lost,
# repeated, or short on a connection, or any client that gave up).
#   scripts/bench-storm.sh                         # build, then 10 runs per engine
#   RUNS=3 ENGINES=sqlite scripts/bench-storm.sh
#   CONFAB_BIN=/path/to/bin scripts/bench-storm.sh # use prebuilt confab + confab-load
#   DISK_BUSY=1 scripts/bench-storm.sh             # a writer with fsync keeps the disk busy
#   GEN_CPUS=0,1 scripts/bench-storm.sh            # the generator on both cores (is it the bound?)
#   SOURCES=127.0.0.2 scripts/bench-storm.sh       # the generator's source addresses (its
#                                                  # default: 16 loopback ones; see --sources)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ -n "${CONFAB_BIN:-}" ]; then
  BIN="$CONFAB_BIN"
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
else
  source "$ROOT/scripts/lib/bench-build.sh"
fi
RUNS="${RUNS:-10}"
ENGINES="${ENGINES:-sqlite pg}"
CLIENTS="${CLIENTS:-10000}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
OUT="$(mktemp -d)"
echo "reports in $OUT"

busy_disk() { # a writer that keeps the disk busy with synced 64 MiB files, until killed
  while true; do
    dd if=/dev/zero of="$OUT/busy" bs=1M count=64 conv=fsync status=none
    rm -f "$OUT/busy"
  done
}

listen_drops() { # the kernel's count of handshakes dropped for a full accept queue
  awk 'NR%2==1{split($0,h)} NR%2==0{for(i=1;i<=NF;i++) if (h[i]=="ListenDrops") print $i}' /proc/net/netstat
}

one_run() { # one_run ENGINE N
  local engine="$1" n="$2" data port server db="" rc=0
  data="$(mktemp -d)"
  port="$(free_port)"
  local -a env=(CONFAB_DATA_DIR="$data" CONFAB_LOG=warn)
  if [ "$engine" = pg ]; then
    db="confab_storm_$$_$n"
    psql "$PG_ADMIN" -qc "drop database if exists $db" -c "create database $db" >/dev/null
    env+=(DATABASE_URL="${PG_ADMIN%/*}/$db" REDIS_URL=redis://127.0.0.1:6379
          CONFAB_REDIS_PREFIX="storm$$x$n")
  fi
  env "${env[@]}" "$BIN/confab" user bots --prefix st --count "$CLIENTS" > "$data/bots.tsv"
  env "${env[@]}" LEPTOS_OUTPUT_NAME=confab LEPTOS_SITE_ROOT="$ROOT/target/site" \
    CONFAB_BIND="127.0.0.1:$port" CONFAB_MAX_CONNS_PER_ADDR=1000000 \
    taskset -c 0 "$BIN/confab" 2> "$OUT/$engine-$n.server.log" &
  server=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  local drops_before
  drops_before="$(listen_drops)"
  taskset -c "${GEN_CPUS:-1}" "$BIN/confab-load" --server "127.0.0.1:$port" --bots "$data/bots.tsv" \
    ${SOURCES:+--sources "$SOURCES"} \
    --server-pid "$server" reconnect-storm --clients "$CLIENTS" --room-size 100 \
    --publishers 1 --rate 2 --seconds 20 > "$OUT/$engine-$n.txt" 2>&1 || rc=$?
  local drops=$(( $(listen_drops) - drops_before ))
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$data"
  [ -n "$db" ] && psql "$PG_ADMIN" -qc "drop database if exists $db" >/dev/null
  local summary
  summary="$(tail -n 1 "$OUT/$engine-$n.txt")"
  python3 - "$engine" "$n" "$rc" "$summary" "$drops" <<'EOF'
import json, sys
engine, n, rc, line, drops = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
try:
    r = json.loads(line)
except ValueError:
    print(f"{engine:6} run {n:>2}: no report (exit {rc})"); sys.exit(0)
print(f"{engine:6} run {n:>2}: resumed {r['storm_resumed']}/{r['clients']} in {r['storm_resume_s']:.2f} s, "
      f"retried {r['storm_retries']}, gave up {r['storm_stranded']}, "
      f"short {r['short_connections']} conns ({r['short_deliveries_connected']} on resumed, "
      f"{r['short_deliveries_stranded']} on stranded), lost {r['lost']}, dup {r['duplicates']}, "
      f"delivered {r['delivered']}/{r['expected']}, server CPU {r['server_cpu_pct'] or 0:.0f}%, "
      f"handshakes dropped by the kernel {drops} "
      f"{'clean' if rc == 0 else 'NOT CLEAN'}")
EOF
  return "$rc"
}

BUSY=""
if [ -n "${DISK_BUSY:-}" ]; then busy_disk & BUSY=$!; fi
trap '[ -n "$BUSY" ] && kill "$BUSY" 2>/dev/null; rm -f "$OUT/busy"' EXIT
FAILED=0
for engine in $ENGINES; do
  for n in $(seq "$RUNS"); do
    one_run "$engine" "$n" | tee -a "$OUT/summary.txt" || FAILED=$((FAILED + 1))
  done
done
echo "=== $FAILED of $((RUNS * $(wc -w <<<"$ENGINES"))) runs not clean (reports: $OUT)"
[ "$FAILED" -eq 0 ] || exit 2
