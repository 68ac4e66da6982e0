#!/usr/bin/env bash
# Records the trace corpus (traces/) with the shipped binary: per component a
# passing run of its basic scenario, and for each planted bug the shipped
# binary carries (a flag inside the component that only a scenario's `bug` key
# sets) the first seed whose run fails the property that catches it.
# tests/cli/corpus_test.sh replays them all in CI.
#
# Usage: scripts/record_corpus.sh [DOPPEL]   (default build/doppel)
# Rerun it when a change of the simulator or a component makes a trace
# replay differently on purpose, and commit what it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
doppel=${1:-build/doppel}
[ -x "$doppel" ] || { echo "record_corpus: no binary at $doppel (scripts/setup.sh release)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -f traces/*.trace traces/planted/*.trace
for scenario in kv-basic dvv-basic dedup-basic; do
  "$doppel" sim run "scenarios/$scenario.toml" --seed 1 --trace "traces/$scenario-seed1.trace" >"$tmp/out" 2>&1 ||
    { echo "record_corpus: $scenario seed 1 does not pass:" >&2; tail -n 3 "$tmp/out" >&2; exit 1; }
  echo "passing: traces/$scenario-seed1.trace"
done

# scenario (tests/scenarios/) and the property that catches its bug
planted=(
  "kv-swapped-replies well-formed-replies"
  "kv-lost-at-roll linearizable"
  "kv-node-memory-per-core memory-limit"
  "kv-conn-leak-on-error progress"
  "kv-stats-skip-last-core stats-accurate"
  "kv-core-port-runs-local linearizable"
  "dvv-ack-early acknowledged-writes-survive"
  "dvv-no-repair replicas-converge"
  "dvv-dot-per-write clock-entries-bounded"
  "dvv-ignore-context no-false-conflicts"
  "dvv-log-truncates-at-damage log-keeps-intact-records"
  "dvv-down-stays-down progress"
  "dvv-pw-counts-fallbacks pw-dw-durable"
  "dvv-dw-before-sync pw-dw-durable"
  "dvv-get-ignores-allow-mult allow-mult-respected"
  "dvv-rpc-trusts-peers access-enforced"
  "dvv-drop-before-handoff handoff-before-release"
  "dedup-skip-decrement refcounts-balance"
  "dedup-verify-skips-data damage-found"
  "dedup-failed-commit-keeps-lock progress"
  "dedup-summary-takes-oldest listing-accurate"
  "dedup-punch-keeps-last-block refcounts-balance"
  "dedup-append-only-removes access-enforced"
  "dedup-borrow-uncounted assertion"
  "dedup-borrow-unchecked assertion"
)
for entry in "${planted[@]}"; do
  read -r scenario property <<<"$entry"
  found=""
  for seed in $(seq 0 99); do
    out="$tmp/$scenario-seed$seed.trace"
    "$doppel" sim run "tests/scenarios/$scenario.toml" --seed "$seed" --trace "$out" >/dev/null 2>&1 && continue
    # (Read whole, not piped into grep -q: pipefail would take its early exit for a failure.)
    shown=$("$doppel" trace show "$out" --limit 1 2>/dev/null || true)
    if grep -q "^outcome: FAIL property '$property'" <<<"$shown"; then
      cp "$out" "traces/planted/$scenario-seed$seed.trace"
      found=$seed
      break
    fi
  done
  [ -n "$found" ] || { echo "record_corpus: no seed of 0..99 fails $scenario on '$property'" >&2; exit 1; }
  echo "planted: traces/planted/$scenario-seed$found.trace ($property)"
done
