#!/usr/bin/env bash
# The browser bundle's size: the JavaScript, wasm and CSS of the release
# site's pkg/ folder (after `cargo leptos build --release --split`), raw and gzipped (level 6,
# what the server's compression sends, and -9 for comparison), and the total.
#   scripts/bundle-size.sh            # target/site/pkg
#   scripts/bundle-size.sh DIR        # another pkg folder
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="${1:-$ROOT/target/site/pkg}"
[ -d "$PKG" ] || { echo "no $PKG: run cargo leptos build --release --split first"; exit 1; }
printf '%-48s %10s %10s %10s\n' file raw gzip-6 gzip-9
raw=0; gz6=0; gz9=0; split6=0
for f in "$PKG"/*.js "$PKG"/*.wasm "$PKG"/*.css; do
  [ -f "$f" ] || continue
  r=$(stat -c %s "$f"); g6=$(gzip -6 -c "$f" | wc -c); g9=$(gzip -9 -c "$f" | wc -c)
  printf '%-48s %10d %10d %10d\n' "$(basename "$f")" "$r" "$g6" "$g9"
  raw=$((raw + r)); gz6=$((gz6 + g6)); gz9=$((gz9 + g9))
  case "$(basename "$f")" in split_*) split6=$((split6 + g6)) ;; esac
done
printf '%-48s %10d %10d %10d\n' total "$raw" "$gz6" "$gz9"
# The split_* parts (the chat) load only on pages that show them (app/src/pages/split.rs).
printf '%-48s %10s %10d\n' "first visit, without the split parts" "" "$((gz6 - split6))"
