#!/usr/bin/env bash
# The measurement behind docs/scaling.md ("Measured"): deliveries/s, the broker's CPU per
# delivery and the cross-node latency, on
#   1. one gateway on one Redis (the baseline: no delivery crosses the broker),
#   2. three gateway processes on one Postgres and one Redis (plain pub/sub),
#   3. three gateway processes on one Postgres and a three-shard Redis Cluster (sharded
#      pub/sub),
# each with rooms of 100 and with one room of 5,000, every room's members spread over the
# nodes (`confab-load --spread-over`: connection i goes to node i mod 3, so two thirds of
# the deliveries cross the broker). The script starts its own Redis and its own Redis
# Cluster on free loopback ports (and stops them), builds the release server and the
# generator, creates bots in DATABASE_URL, pins the gateways, Redis and the generator to
# CPUs of their own, reads every process's CPU time from /proc around each run, and
# prints one table (markdown) for docs/scaling.md, also written to $OUT (default
# ./bench-scaling-<date>.md).
#
#   DATABASE_URL=postgres://postgres@127.0.0.1/benchscale scripts/bench-scaling.sh
#   DATABASE_URL=… scripts/bench-scaling.sh --smoke     # a few seconds, small counts: checks
#                                                       # the script works, measures nothing
#
# Knobs (environment): GATEWAY_CPUS (default: 0,1,2 with 6+ CPUs, else 0), REDIS_CPUS
# (default: 3,4 with 6+ CPUs, else 1), LOAD_CPUS (default: 5- with 6+ CPUs, else 1),
# SECONDS_PER_RUN (20), FANOUT_CLIENTS (6000), FANOUT_RATE (per room and s, 20),
# BIGROOM_RATE (messages/s in the room of 5,000, 10), BIGROOM_CLIENTS (5000); SETUPS (which
# of the three setups run, default "single three cluster") and WORKLOADS (default
# "fanout bigroom"), e.g. SETUPS=three WORKLOADS=fanout for an A/B of the cross-node path.
# DATABASE_URL should name a fresh database (the bots and the rooms of every run go there).
# With BIN set to a folder holding `confab` and `confab-load`, nothing is built.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
: "${DATABASE_URL:?set DATABASE_URL to a fresh Postgres database for the gateways}"
SMOKE=""
[ "${1:-}" = "--smoke" ] && SMOKE=1

NCPU="$(nproc)"
if [ "$NCPU" -ge 6 ]; then
  GATEWAY_CPUS="${GATEWAY_CPUS:-0,1,2}"; REDIS_CPUS="${REDIS_CPUS:-3,4}"; LOAD_CPUS="${LOAD_CPUS:-5-$((NCPU - 1))}"
else
  GATEWAY_CPUS="${GATEWAY_CPUS:-0}"; REDIS_CPUS="${REDIS_CPUS:-1}"; LOAD_CPUS="${LOAD_CPUS:-1}"
fi
if [ -n "$SMOKE" ]; then
  SECS=3; DRAIN=5; FANOUT_CLIENTS=300; FANOUT_RATE=2; BIGROOM_CLIENTS=150; BIGROOM_RATE=2
else
  SECS="${SECONDS_PER_RUN:-20}"; DRAIN=15
  FANOUT_CLIENTS="${FANOUT_CLIENTS:-6000}"; FANOUT_RATE="${FANOUT_RATE:-20}"
  BIGROOM_CLIENTS="${BIGROOM_CLIENTS:-5000}"; BIGROOM_RATE="${BIGROOM_RATE:-10}"
fi
OUT="${OUT:-$ROOT/bench-scaling-$(date -u +%Y%m%d-%H%M).md}"
SETUPS=" ${SETUPS:-single three cluster} "
WORKLOADS=" ${WORKLOADS:-fanout bigroom} "

if [ -n "${BIN:-}" ]; then
  # Binaries built already (e.g. BIN=$CARGO_TARGET_DIR/release): no build step.
  [ -x "$BIN/confab" ] && [ -x "$BIN/confab-load" ] || { echo "no confab or confab-load in $BIN"; exit 1; }
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
else
  source "$ROOT/scripts/lib/bench-build.sh"
fi
command -v redis-server >/dev/null || { echo "redis-server is needed"; exit 1; }

WORK="$(mktemp -d)"
PIDS=()       # everything this script started, stopped at exit
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# A port p with p + 10000 free too (a cluster node's bus port).
cluster_port() {
  python3 - <<'EOF'
import random, socket
while True:
    p = random.randint(20000, 45000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass
EOF
}

redis_node() { # redis_node PORT DIR [cluster]: starts one redis-server, prints its pid
  local port="$1" dir="$2" extra=()
  mkdir -p "$dir"
  if [ "${3:-}" = cluster ]; then
    extra=(--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000)
  fi
  taskset -c "$REDIS_CPUS" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" "${extra[@]}" >/dev/null 2>&1 &
  echo $!
}
wait_redis() { for _ in $(seq 100); do [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return; sleep 0.05; done; echo "redis on $1 did not start"; exit 1; }

# One Redis.
SINGLE_PORT="$(free_port)"
SINGLE_PID="$(redis_node "$SINGLE_PORT" "$WORK/redis-single")"
PIDS+=("$SINGLE_PID")
wait_redis "$SINGLE_PORT"

# A three-shard Redis Cluster.
CLUSTER_PORTS=(); CLUSTER_PIDS=()
[[ "$SETUPS" == *" cluster "* ]] && for i in 0 1 2; do
  port="$(cluster_port)"
  pid="$(redis_node "$port" "$WORK/redis-cluster-$i" cluster)"
  PIDS+=("$pid"); CLUSTER_PIDS+=("$pid"); CLUSTER_PORTS+=("$port")
done
if [[ "$SETUPS" == *" cluster "* ]]; then
  for port in "${CLUSTER_PORTS[@]}"; do wait_redis "$port"; done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${CLUSTER_PORTS[@]}") --cluster-replicas 0 --cluster-yes >/dev/null
  for _ in $(seq 100); do
    ok=0
    for port in "${CLUSTER_PORTS[@]}"; do
      redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' && ok=$((ok + 1))
    done
    [ "$ok" = 3 ] && break
    sleep 0.1
  done
fi
CLUSTER_URL="$(printf 'redis://127.0.0.1:%s,' "${CLUSTER_PORTS[@]}")"; CLUSTER_URL="${CLUSTER_URL%,}"

# Bots for every client (the first start runs the migrations).
BOTS=$(( FANOUT_CLIENTS > BIGROOM_CLIENTS ? FANOUT_CLIENTS : BIGROOM_CLIENTS ))
# (Only the handle<TAB>token lines: a log line on stdout would break the file.)
DATABASE_URL="$DATABASE_URL" CONFAB_DATA_DIR="$WORK" CONFAB_LOG=warn \
  "$BIN/confab" user bots --prefix "sc$RANDOM" --count "$BOTS" | grep $'\t' > "$WORK/bots.tsv"

GW_PIDS=(); GW_PORTS=()
start_gateways() { # start_gateways N REDIS_URL
  local n="$1" redis="$2" prefix="bench-$RANDOM$RANDOM"
  GW_PIDS=(); GW_PORTS=()
  for k in $(seq "$n"); do
    local port; port="$(free_port)"
    mkdir -p "$WORK/data-$k"
    LEPTOS_SITE_ROOT="$ROOT/target/site" CONFAB_BIND="127.0.0.1:$port" DATABASE_URL="$DATABASE_URL" \
      REDIS_URL="$redis" CONFAB_REDIS_PREFIX="$prefix" CONFAB_DATA_DIR="$WORK/data-$k" \
      CONFAB_MAX_CONNS_PER_ADDR=1000000 CONFAB_RATE_PER_SEC=100000 CONFAB_RATE_BURST=100000 \
      CONFAB_LOG=warn taskset -c "$GATEWAY_CPUS" "$BIN/confab" >>"$WORK/gateways.log" 2>&1 &
    GW_PIDS+=("$!"); PIDS+=("$!"); GW_PORTS+=("$port")
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  done
}
stop_gateways() {
  for p in "${GW_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${GW_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

cpu_of() { # CPU seconds (user + system) of the pids given, summed
  local total=0 p
  for p in "$@"; do
    total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{ print t + ($14 + $15) / hz }' "/proc/$p/stat")
  done
  echo "$total"
}
received_of() { # envelopes the gateways received through Redis (all kinds), summed: what
  # their handlers applied less what they published themselves (applied at once, locally)
  local total=0 port n
  for port in "${GW_PORTS[@]}"; do
    n="$(curl -fs "http://127.0.0.1:$port/metrics" | awk '
      /^confab_broker_received_total/ { s += $2 }
      /^confab_broker_published_total/ { s -= $2 }
      END { printf "%d", s }')"
    total=$(( total + n ))
  done
  echo "$total"
}

echo "| setup | workload | deliveries/s | lost | p50 ms | p99 ms | gateway CPU µs/delivery | Redis CPU µs/delivery | Redis CPU µs/envelope through Redis | envelopes through Redis |" | tee "$OUT"
echo "|---|---|---|---|---|---|---|---|---|---|" | tee -a "$OUT"

run() { # run SETUP NAME ARGS... (the Redis pids are those named by $REDIS_PIDS_NAME)
  local setup="$1" name="$2"; shift 2
  local -n redis_pids="$REDIS_PIDS_NAME"
  local spread=""
  if [ "${#GW_PORTS[@]}" -gt 1 ]; then
    spread="--spread-over=$(printf '127.0.0.1:%s,' "${GW_PORTS[@]:1}")"; spread="${spread%,}"
  fi
  local g0 r0 e0 g1 r1 e1 rc=0
  g0="$(cpu_of "${GW_PIDS[@]}")"; r0="$(cpu_of "${redis_pids[@]}")"; e0="$(received_of)"
  taskset -c "$LOAD_CPUS" "$BIN/confab-load" --server "127.0.0.1:${GW_PORTS[0]}" $spread \
    --bots "$WORK/bots.tsv" --drain-secs "$DRAIN" "$@" > "$WORK/report.txt" || rc=$?
  g1="$(cpu_of "${GW_PIDS[@]}")"; r1="$(cpu_of "${redis_pids[@]}")"; e1="$(received_of)"
  echo "--- $setup, $name (exit $rc)" >&2
  cat "$WORK/report.txt" >&2
  python3 - "$WORK/report.txt" "$setup" "$name" "$g0" "$g1" "$r0" "$r1" "$e0" "$e1" <<'EOF' | tee -a "$OUT"
import json, sys
path, setup, name = sys.argv[1:4]
g0, g1, r0, r1 = map(float, sys.argv[4:8])
e0, e1 = map(int, sys.argv[8:10])
r = json.loads(open(path).read().strip().splitlines()[-1])
d = max(r["delivered"], 1)
env = e1 - e0
per = lambda cpu, n: f"{cpu * 1e6 / n:.2f}" if n >= 100 else "-"  # one node: nothing crosses
print(f"| {setup} | {name} | {r['deliveries_per_s']:.0f} | {r['lost']} | {r['latency_ms']['p50']:.2f} | "
      f"{r['latency_ms']['p99']:.2f} | {per(g1 - g0, d)} | {per(r1 - r0, d)} | {per(r1 - r0, env)} | {env} |")
EOF
}

workloads() { # workloads SETUP
  local fanout_rooms=$(( FANOUT_CLIENTS / 100 ))
  [[ "$WORKLOADS" == *" fanout "* ]] && run "$1" "fanout $fanout_rooms rooms of 100, $FANOUT_RATE msg/s each" \
    fanout --clients "$FANOUT_CLIENTS" --room-size 100 --publishers 1 --rate "$FANOUT_RATE" --seconds "$SECS"
  [[ "$WORKLOADS" == *" bigroom "* ]] || return 0
  run "$1" "one room of $BIGROOM_CLIENTS, $BIGROOM_RATE msg/s" \
    bigroom --clients "$BIGROOM_CLIENTS" --publishers 2 --rate "$(python3 -c "print($BIGROOM_RATE / 2)")" --seconds "$SECS"
}

SINGLE_PIDS=("$SINGLE_PID")
REDIS_PIDS_NAME=SINGLE_PIDS
if [[ "$SETUPS" == *" single "* ]]; then
  start_gateways 1 "redis://127.0.0.1:$SINGLE_PORT"
  workloads "1 gateway, 1 Redis"
  stop_gateways
fi
if [[ "$SETUPS" == *" three "* ]]; then
  start_gateways 3 "redis://127.0.0.1:$SINGLE_PORT"
  workloads "3 gateways, 1 Redis"
  stop_gateways
fi
if [[ "$SETUPS" == *" cluster "* ]]; then
  REDIS_PIDS_NAME=CLUSTER_PIDS
  start_gateways 3 "$CLUSTER_URL"
  workloads "3 gateways, Redis Cluster (3 shards)"
  stop_gateways
fi

echo
echo "CPUs: gateways $GATEWAY_CPUS, Redis $REDIS_CPUS, generator $LOAD_CPUS of $NCPU; $SECS s per run; $(date -u)" | tee -a "$OUT"
echo "table written to $OUT"
