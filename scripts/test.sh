#!/usr/bin/env bash
# README command 2: set up what is missing, then run every check and test:
# formatting, clippy, the wasm dependency guards, the Rust tests (unit + integration,
# against real Postgres and Redis), a bounded fuzzing run, a release build, and the Playwright suite in
# headless Chromium against the real release server. Prints how long each phase took and
# ends with one "N passed, N failed" line over all tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/confab/target}"
export CARGO_TERM_COLOR=never
LOGS="$(mktemp -d)"
TIMINGS=()
START_ALL=$SECONDS

phase() { # phase NAME COMMAND...
  local name="$1"; shift
  local t0=$SECONDS
  echo "=== $name"
  "$@"
  TIMINGS+=("$(printf '%-28s %5ss' "$name" $((SECONDS - t0)))")
}
print_timings() {
  echo "=== phase timings"
  printf '  %s\n' "${TIMINGS[@]}"
  echo "  total                        $((SECONDS - START_ALL))s"
}

phase "setup" source "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/lib/services.sh"
source "$ROOT/scripts/lib/failures.sh"
phase "services (postgres, redis)" bash -c 'source scripts/lib/services.sh; ensure_postgres; ensure_redis'

run_fmt() {
  cargo fmt --all -- --check
  # The fuzz crate is a workspace of its own.
  rustfmt --edition 2024 --check fuzz/fuzz_targets/*.rs
}
phase "cargo fmt --check" run_fmt

# Share artifacts with `cargo leptos watch` (it builds with these).
export RUSTFLAGS="--cfg erase_components" LEPTOS_OUTPUT_NAME=confab

run_clippy() {
  cargo clippy --workspace --all-targets --locked -- -D warnings
  # The real browser build: app with `hydrate` only, on the wasm target.
  cargo clippy -p frontend --target wasm32-unknown-unknown --locked -- -D warnings
}
phase "cargo clippy" run_clippy

wasm_guard() {
  # Server-only crates must never reach the wasm graph. List every crate the frontend
  # pulls in on wasm32 (normal edges) and look for them by name.
  local graph crate
  graph="$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none --locked)"
  if ! grep -q '^leptos v' <<<"$graph"; then
    echo "FAIL: the wasm dependency listing looks wrong:"; echo "$graph" | head; return 1
  fi
  for crate in tokio mio axum hyper sqlx rusqlite redis confab-websocket; do
    if grep -q "^$crate v" <<<"$graph"; then
      echo "FAIL: $crate is in the wasm dependency graph"
      cargo tree -p frontend --target wasm32-unknown-unknown -e normal -i "$crate"
      return 1
    fi
    echo "ok: $crate is not in the wasm build"
  done
}
phase "wasm dependency guard" wasm_guard

RUST_RC=0
run_rust_tests() {
  # Not --workspace: that would unify `app`'s features with the frontend's `hydrate`, and
  # the server must be tested exactly as it is built (app with `ssr` only).
  local crates=(-p protocol -p store -p app -p confab-websocket -p confab -p confab-load)
  cargo test --locked "${crates[@]}" --no-run 2>&1 | tee "$LOGS/cargo-build-tests.log" || { RUST_RC=$?; return; }
  # Built, the whole suite runs in a few minutes; a test that hangs is killed and fails
  # the run here instead of eating the CI budget. Every test binary runs even after one
  # fails, so a run reports all its failures at once.
  timeout --kill-after=30s "${CONFAB_RUST_TEST_MINUTES:-25}m" \
    cargo test --locked --no-fail-fast "${crates[@]}" 2>&1 | tee "$LOGS/cargo-test.log" || RUST_RC=$?
}
phase "cargo test" run_rust_tests

unset RUSTFLAGS LEPTOS_OUTPUT_NAME

FUZZ_RC=0
FUZZ_FAILED=0
run_fuzz() {
  # A bounded run of each fuzz target: client_frame (JSON frame decoding) and frame_reader
  # (the WebSocket frame reader). `CONFAB_FUZZ_SECS` (default 40) is the whole phase's
  # fuzzing time, split evenly; run them for hours by hand, see docs/reliability.md. New
  # inputs go to a scratch corpus: the ones kept in fuzz/corpus are only read. Stable
  # toolchain, so no sanitizer (`-s none`).
  local targets=(client_frame frame_reader) target scratch rc secs
  secs=$(( ${CONFAB_FUZZ_SECS:-40} / ${#targets[@]} ))
  for target in "${targets[@]}"; do
    scratch="$(mktemp -d)"
    rc=0
    cargo fuzz run --fuzz-dir fuzz -s none "$target" "$scratch" "fuzz/corpus/$target" -- \
      -dict="fuzz/$target.dict" -max_total_time="$secs" -max_len=8192 -timeout=10 \
      >"$LOGS/fuzz-$target.log" 2>&1 || rc=$?
    echo "--- $target"
    grep -E '^(Done|INFO: seed corpus)|SUMMARY|panicked' "$LOGS/fuzz-$target.log" || true
    if [ "$rc" != 0 ]; then
      FUZZ_RC=$rc; FUZZ_FAILED=$((FUZZ_FAILED + 1))
      echo "--- fuzzer log"; tail -n 60 "$LOGS/fuzz-$target.log"
    fi
    rm -rf "$scratch"
  done
}
phase "fuzz" run_fuzz

phase "cargo leptos build --release --split" cargo leptos build --release --split

E2E_RC=0
run_e2e() {
  local port data srv
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  data="$(mktemp -d)"
  # Every browser test signs people up from 127.0.0.1: lift the per-address sign-up burst.
  LEPTOS_SITE_ROOT="$ROOT/target/site" CONFAB_BIND="127.0.0.1:$port" CONFAB_DATA_DIR="$data" CONFAB_SIGNUP_BURST=1000 \
    "$CARGO_TARGET_DIR/release/confab" >"$LOGS/e2e-server.log" 2>&1 &
  srv=$!
  local up=""
  for _ in $(seq 60); do
    if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; then up=1; break; fi
    sleep 0.5
  done
  if [ -z "$up" ]; then
    echo "the server did not come up; its log:"; cat "$LOGS/e2e-server.log"
    kill "$srv" 2>/dev/null || true
    E2E_RC=1; return
  fi
  rm -rf end2end/test-results
  # The cluster suite's nodes share a fresh Postgres database (and the test Redis).
  local e2e_db e2e_db_url
  e2e_db="confab_e2e_$(date +%s)_$$"
  e2e_db_url="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$CONFAB_TEST_DATABASE_URL" "$e2e_db")"
  psql -q "$CONFAB_TEST_DATABASE_URL" -c "create database $e2e_db" || E2E_RC=1
  (cd end2end && CONFAB_BASE_URL="http://127.0.0.1:$port" \
    CONFAB_SERVER_BIN="$CARGO_TARGET_DIR/release/confab" CONFAB_SITE_ROOT="$ROOT/target/site" \
    CONFAB_E2E_DATABASE_URL="$e2e_db_url" CONFAB_E2E_REDIS_URL="$CONFAB_TEST_REDIS_URL" \
    npx playwright test) || E2E_RC=$?
  psql -q "$CONFAB_TEST_DATABASE_URL" -c "drop database if exists $e2e_db with (force)" >/dev/null || true
  kill -TERM "$srv" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
  if [ "$E2E_RC" != 0 ]; then echo "--- server log"; tail -n 50 "$LOGS/e2e-server.log"; fi
}
phase "playwright (chromium)" run_e2e

print_timings
print_failures "$LOGS/cargo-test.log" end2end/test-results/results.json || true

# One summary line over every test that ran.
read -r RUST_PASSED RUST_FAILED < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p+0, f+0 }' "$LOGS/cargo-test.log")
read -r E2E_PASSED E2E_FAILED < <(node -e '
  try {
    const s = require("./end2end/test-results/results.json").stats;
    console.log(s.expected + s.flaky, s.unexpected);
  } catch (e) { console.log(0, 1); }')
FUZZ_RUNS="$(awk '/^Done [0-9]+ runs/ { n += $2 } END { print n+0 }' "$LOGS"/fuzz-*.log 2>/dev/null || true)"
echo "rust: $RUST_PASSED passed, $RUST_FAILED failed; playwright: $E2E_PASSED passed, $E2E_FAILED failed; fuzz: ${FUZZ_RUNS:-0} inputs, $FUZZ_FAILED failed"
echo "total: $((RUST_PASSED + E2E_PASSED)) passed, $((RUST_FAILED + E2E_FAILED + FUZZ_FAILED)) failed"
if [ "$RUST_RC" != 0 ] || [ "$E2E_RC" != 0 ] || [ "$FUZZ_RC" != 0 ]; then exit 1; fi
