#!/usr/bin/env bash
# 50,000 idle connections on one machine whose processes may each hold only 20,000 open
# files: NODES confab processes form one cluster (Postgres + Redis), each pinned to CPU 0,
# and one `confab-load idle` generator per node (CPU 1) holds its share of the connections,
# subscribed in rooms of 100 and quiet. Prints each node's report (server RSS per
# connection from its pid) and a total line. Needs DATABASE_URL (a database this script
# may fill with bots; a fresh one is best) and REDIS_URL.
#   DATABASE_URL=postgres://postgres@127.0.0.1/bench50k REDIS_URL=redis://127.0.0.1:6379 \
#     scripts/bench-cluster-idle.sh [TOTAL=50000] [NODES=3]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
: "${DATABASE_URL:?set DATABASE_URL to a Postgres database for the cluster}"
: "${REDIS_URL:?set REDIS_URL to the Redis of the cluster}"
TOTAL="${1:-50000}"
NODES="${2:-3}"
PER_NODE=$(( (TOTAL + NODES - 1) / NODES ))
source "$ROOT/scripts/lib/bench-build.sh"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# Bots for every connection (the first node's migrations run here), one file per node.
"$BIN/confab" user bots --prefix c50k --count "$((PER_NODE * NODES))" > "$WORK/bots.tsv"
split -d -l "$PER_NODE" "$WORK/bots.tsv" "$WORK/bots-"

PORTS=()
for n in $(seq 0 $((NODES - 1))); do
  port="$(free_port)"
  LEPTOS_SITE_ROOT="$ROOT/target/site" CONFAB_BIND="127.0.0.1:$port" \
    CONFAB_MAX_CONNS_PER_ADDR=1000000 CONFAB_LOG=warn taskset -c 0 "$BIN/confab" &
  PIDS+=("$!")
  PORTS+=("$port")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done

open_on() { # connections open on the node at port $1
  curl -fs "http://127.0.0.1:$1/metrics" | awk '/^confab_connections_open /{print int($2)}'
}
# Every generator holds its connections until the last one has opened all of its own
# (each set-up is given up to 40 s), so that every connection is open at once.
GENS=()
for n in $(seq 0 $((NODES - 1))); do
  taskset -c 1 "$BIN/confab-load" --server "127.0.0.1:${PORTS[$n]}" --bots "$WORK/bots-0$n" \
    --server-pid "${PIDS[$n]}" idle --clients "$PER_NODE" --room-size 100 \
    --seconds $((15 + 40 * (NODES - 1 - n))) > "$WORK/report-$n.txt" &
  GENS+=("$!")
  for _ in $(seq 400); do
    [ "$(open_on "${PORTS[$n]}")" -ge "$PER_NODE" ] 2>/dev/null && break
    sleep 0.1
  done
done
open=0
for port in "${PORTS[@]}"; do
  o="$(open_on "$port")"
  open=$((open + ${o:-0}))
done
echo "=== connections open on the cluster at once: $open"
rc=0
for g in "${GENS[@]}"; do wait "$g" || rc=$?; done
for n in $(seq 0 $((NODES - 1))); do echo "=== node $n"; cat "$WORK/report-$n.txt"; done
python3 - "$WORK" "$NODES" <<'EOF'
import json, sys
work, nodes = sys.argv[1], int(sys.argv[2])
conns = before = after = 0
for n in range(nodes):
    last = open(f"{work}/report-{n}.txt").read().strip().splitlines()[-1]
    r = json.loads(last)
    conns += r["clients"]
    before += r["server_rss_kib_before"] or 0
    after += r["server_rss_kib_connected"] or 0
print(f"=== total: {conns} connections on {nodes} nodes, server RSS {before/1024:.1f} → "
      f"{after/1024:.1f} MiB, {(after-before)*1024/conns/1000:.2f} KB per connection")
EOF
exit $rc
