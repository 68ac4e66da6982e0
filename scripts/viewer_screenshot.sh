#!/usr/bin/env bash
# Regenerates docs/viewer.png, the README's picture of the trace viewer: the first failing seed of
# the planted KV bug `lost-at-roll` (a get that misses a value a segment roll lost), opened in
# headless Chromium on its counter-example.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/doppel ] || scripts/setup.sh release
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "viewer_screenshot: no chromium (scripts/setup.sh installs it)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build/doppel sim swarm tests/scenarios/kv-lost-at-roll.toml --seeds 0..40 --jobs 2 --out "$tmp" \
  --quiet >/dev/null 2>&1 || true
trace=$(ls "$tmp"/*.trace | head -1)
build/doppel trace show "$trace" --html "$tmp/page.html"
mkdir -p docs
"$browser" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --user-data-dir="$tmp/profile" --hide-scrollbars --virtual-time-budget=5000 \
  --window-size=1400,1000 --screenshot="$PWD/docs/viewer.png" "file://$tmp/page.html" 2>/dev/null
echo "wrote docs/viewer.png from $(basename "$trace")"
