#!/usr/bin/env bash
# The browser under a burst: end2end/tests/burst.spec.ts alone, RUNS times (default 3),
# each against a fresh release server with a fresh data folder. Prints each run's
# figures (the longest frame in the reader's page, the slowest keystroke, how long the
# 2,000 messages took to be on screen) as the spec measured them.
#   scripts/bench-browser-burst.sh           # after `cargo leptos build --release --split`
#   RUNS=5 scripts/bench-browser-burst.sh
# Run nothing else meanwhile: the figures are the page's main thread on a shared machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-3}"
BIN="${CARGO_TARGET_DIR:-$HOME/.cache/confab/target}/release/confab"
[ -x "$BIN" ] && [ -d "$ROOT/target/site/pkg" ] || { echo "no release build: run cargo leptos build --release --split first"; exit 1; }
for run in $(seq "$RUNS"); do
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  data="$(mktemp -d)"
  LEPTOS_SITE_ROOT="$ROOT/target/site" CONFAB_BIND="127.0.0.1:$port" CONFAB_DATA_DIR="$data" CONFAB_SIGNUP_BURST=1000 \
    "$BIN" >"$data/server.log" 2>&1 &
  srv=$!
  for _ in $(seq 60); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
  out="$( (cd end2end && CONFAB_BASE_URL="http://127.0.0.1:$port" npx playwright test burst.spec.ts --reporter=list) 2>&1 || true)"
  kill -TERM "$srv" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
  line="$(grep -o 'burst figures: .*' <<<"$out" || true)"
  if [ -z "$line" ]; then echo "run $run failed:"; echo "$out" | tail -n 30; exit 1; fi
  echo "run $run: ${line#burst figures: }"
  rm -rf "$data"
done
