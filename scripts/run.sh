#!/usr/bin/env bash
# README command 1: set up what is missing, build, and run Confab on the embedded default
# (SQLite under ./data, in-process broker) at http://127.0.0.1:3000.
#   CONFAB_BIND=0.0.0.0:8080 scripts/run.sh     # another address
#   scripts/run.sh --dev                          # debug build with live reload (cargo leptos watch)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/confab/target}"
source "$ROOT/scripts/setup.sh"

# --split: the chat's code is a separate part of the browser bundle (app/src/pages/split.rs);
# a build without it leaves the bundle's split points unresolved.
if [ "${1:-}" = "--dev" ]; then
  exec cargo leptos watch --split
fi
exec cargo leptos serve --release --split
