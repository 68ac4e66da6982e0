#!/usr/bin/env bash
# Replays the trace corpus (traces/): every trace must now pass, every
# planted-bug trace must still fail the property it failed.
set -u
doppel=${1:?usage: corpus_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
src=${2:?usage: corpus_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
failures=0
count=0
for t in "$src"/traces/*.trace "$src"/traces/planted/*.trace; do
  [ -e "$t" ] || continue
  count=$((count + 1))
  out=$("$doppel" sim replay "$t" 2>&1)
  outcome=$(grep '^outcome now:' <<<"$out")
  recorded=$(grep '^recorded outcome:' <<<"$out" | sed -E "s/.*property '([^']*)'.*/\1/")
  case "$t" in
    */planted/*)
      if ! grep -q "FAIL property '$recorded'" <<<"$outcome"; then
        echo "FAIL: $t: the planted bug is no longer caught: $outcome"
        failures=$((failures + 1))
      fi ;;
    *)
      if ! grep -q "PASS" <<<"$outcome"; then
        echo "FAIL: $t: $outcome"
        failures=$((failures + 1))
      fi ;;
  esac
done
echo "corpus: $count trace(s) replayed, $failures unexpected"
[ "$count" -gt 0 ] && [ "$failures" -eq 0 ]
