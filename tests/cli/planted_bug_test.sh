#!/usr/bin/env bash
# A planted bug must be caught: a swarm over its scenario fails the expected
# property, the failure's trace replays event for event, and shrinking keeps
# the failure.
set -u
doppel=${1:?usage: planted_bug_test.sh DOPPEL_TEST_BINARY SCENARIO PROPERTY [SEEDS]}
scenario=${2:?scenario}
property=${3:?property}
seeds=${4:-0..30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$doppel" sim swarm "$scenario" --seeds "$seeds" --jobs 2 --out "$tmp" --quiet >"$tmp/swarm.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: the swarm exited $rc, wanted 1 (the bug went unnoticed)"; tail -n 5 "$tmp/swarm.out"; exit 1; }
grep -q "failure(s): .*: $property\$" "$tmp/swarm.out" ||
  { echo "FAIL: the swarm did not fail '$property':"; grep "failure(s)" "$tmp/swarm.out"; exit 1; }
# A trace of a seed that failed this property (a planted bug may trip others on some seeds).
trace=""
for t in "$tmp"/*.trace; do
  if "$doppel" trace show "$t" 2>/dev/null | grep -q "^outcome: FAIL property '$property'"; then
    trace=$t
    break
  fi
done
[ -n "$trace" ] || { echo "FAIL: no trace failed '$property'"; exit 1; }
"$doppel" sim replay "$trace" >"$tmp/replay.out" 2>&1 ||
  { echo "FAIL: replay of $trace:"; cat "$tmp/replay.out"; exit 1; }
grep -q "events reproduced" "$tmp/replay.out" || { echo "FAIL: replay did not reproduce"; exit 1; }
"$doppel" sim shrink "$trace" -o "$tmp/small.trace" --runs 60 >"$tmp/shrink.out" 2>/dev/null ||
  { echo "FAIL: shrink:"; cat "$tmp/shrink.out"; exit 1; }
grep -q "still fails: property '$property'" "$tmp/shrink.out" || { echo "FAIL: shrink lost the failure"; exit 1; }
"$doppel" sim replay "$tmp/small.trace" >/dev/null 2>&1 || { echo "FAIL: the shrunk trace does not replay"; exit 1; }
echo "ok: $(basename "$scenario"): $(grep -c . <<<"$(ls "$tmp"/*-seed*.trace)") failing seeds of $seeds; $(grep '^shrunk:' "$tmp/shrink.out")"
