#!/usr/bin/env bash
# Sourced by the benchmark scripts: sets up what is missing, builds the release server
# (with its site) and the load generator, and defines what both scripts use:
#   BIN        the folder holding `confab` and `confab-load`
#   free_port  prints a free local TCP port
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/confab/target}"
source "$ROOT/scripts/setup.sh"
unset RUSTFLAGS
cargo leptos build --release --split
cargo build --release --locked -p confab-load
BIN="$CARGO_TARGET_DIR/release"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
