#!/usr/bin/env bash
# Installs everything Confab's build and tests need, idempotently. Quick (seconds) when
# everything is already present; about 20 minutes on a new machine (cargo installs).
# Sourced by scripts/run.sh and scripts/test.sh; also runnable on its own.
#
# Pinned tools (see docs/toolchain.md for why each version):
#   cargo-leptos 0.3.10 (built with `no_downloads`, so it never fetches binaries itself)
#   wasm-bindgen-cli = the `wasm-bindgen` version in Cargo.lock
#   wasm-opt from npm binaryen 132 (Debian's binaryen 108 breaks hydration)
#   Debian's chromium for Playwright (Playwright's own browser download cannot work here)
#   cargo-fuzz 0.13.2 (the fuzz target in fuzz/)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"

say() { printf '[setup] %s\n' "$*"; }

export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# 1. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. Chromium (Debian's), for Playwright; strace, with which a fault test fails the
#    database's writes with EIO.
APT_MISSING=""
command -v chromium >/dev/null 2>&1 || APT_MISSING="$APT_MISSING chromium"
command -v strace >/dev/null 2>&1 || APT_MISSING="$APT_MISSING strace"
if [ -n "$APT_MISSING" ]; then
  say "installing$APT_MISSING (apt)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $APT_MISSING >/dev/null
fi

# 3. cargo-leptos, pinned (0.3.11 needs a newer rustc than this machine has).
if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes, once)"
  cargo install --locked "cargo-leptos@$CARGO_LEPTOS_VERSION" --features no_downloads
fi

# 4. wasm-bindgen-cli at exactly the version Cargo.lock resolved.
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
if [ -z "$WB_VERSION" ]; then
  echo "[setup] cannot read the wasm-bindgen version from Cargo.lock" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]; then
  say "installing wasm-bindgen-cli $WB_VERSION (about 4 minutes, once)"
  # Not --locked: its packaged lockfile names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
fi

# 5. npm packages for the browser tests and wasm-opt (binaryen).
STAMP="$ROOT/end2end/node_modules/.confab-lock-stamp"
if [ ! -f "$STAMP" ] || ! cmp -s "$ROOT/end2end/package-lock.json" "$STAMP"; then
  say "installing end2end npm packages"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ROOT/end2end/package-lock.json" "$STAMP"
fi

# cargo-leptos takes the first wasm-opt on PATH: make sure it is binaryen 132, not an old
# Debian one.
case "$(command -v wasm-opt)" in
  "$ROOT/end2end/node_modules/.bin/wasm-opt") ;;
  *) echo "[setup] wasm-opt on PATH is not the npm binaryen one" >&2; exit 1 ;;
esac

# 6. cargo-fuzz, for the bounded fuzzing run (works on stable with `--sanitizer none`).
CARGO_FUZZ_VERSION="0.13.2"
if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes, once)"
  cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
