#!/usr/bin/env bash
# How the trace viewer scales: runs a KV scenario long enough for about a million trace events,
# writes its page, and opens it in headless Chromium three times. Prints the trace's and the
# page's sizes and, per open, the wall time of the browser (start, parse, first render, DOM
# dump, exit) and the page's own time from its script's start to its first render.
# Usage: scripts/viewer_bench.sh [EVENTS_TARGET]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-1000000}
[ -x build/doppel ] || scripts/setup.sh release
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "viewer_bench: no chromium (scripts/setup.sh installs it)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A client operation costs about 1.5 events (its own, BUGGIFY's, the server's): 8 clients.
ops=$((target / 11))
cat >"$tmp/big.toml" <<TOML
name = "viewer-scale"
description = "a long KV run for the viewer's scale figure (not a test: no property checked but progress)"
component = "kv"
nodes = 1
cores = 2
clients = 8
duration_ms = 600000
quiet_ms = 5000
properties = ["progress"]

[faults]
latency = "on"
core_stall = "on"
clock_skew = "on"
buggify = "on"

[workload]
keys = 64
ops_per_client = $ops
pipeline_max = 4
TOML
echo "viewer_bench: running a KV scenario of $((ops * 8)) operations"
build/doppel sim run "$tmp/big.toml" --seed 1 --trace "$tmp/big.trace" | tail -n 3
events=$(build/doppel trace show "$tmp/big.trace" --limit 0 | sed -n 's/^events: //p')
start=$(date +%s.%N)
build/doppel trace show "$tmp/big.trace" --html "$tmp/big.html" >/dev/null
written=$(date +%s.%N)
trace_bytes=$(stat -c %s "$tmp/big.trace")
html_bytes=$(stat -c %s "$tmp/big.html")
echo "viewer_bench: $events events; trace $trace_bytes bytes (zstd), page $html_bytes bytes" \
  "($(awk "BEGIN{printf \"%.1f\", $html_bytes/$trace_bytes}")x); page written in" \
  "$(awk "BEGIN{printf \"%.2f\", $written-$start}") s"
for run in 1 2 3; do
  t0=$(date +%s.%N)
  timeout 120 "$browser" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$tmp/profile" --window-size=1400,1000 \
    --virtual-time-budget=30000 --dump-dom "file://$tmp/big.html" >"$tmp/dom" 2>/dev/null
  t1=$(date +%s.%N)
  body=$(grep -o '<body[^>]*>' "$tmp/dom" | head -1)
  ready=$(grep -o 'data-ready="[^"]*"' <<<"$body" || true)
  render=$(grep -o 'data-render-ms="[^"]*"' <<<"$body" | grep -o '[0-9]*' || echo "?")
  open=$(grep -o 'data-open-ms="[^"]*"' <<<"$body" | grep -o '[0-9]*' || echo "?")
  echo "viewer_bench: open $run: ${open} ms from navigation to the first render (its script" \
    "${render} ms); the browser process $(awk "BEGIN{printf \"%.2f\", $t1-$t0}") s wall," \
    "${ready:-not ready}"
done
