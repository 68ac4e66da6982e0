#!/usr/bin/env bash
# Replays the trace corpus (traces/) with the shipped binary: every trace must
# now pass, every planted-bug trace must still fail the property it failed.
# And there is one of each: a passing trace per component, a failing one per
# planted bug that scripts/record_corpus.sh lists.
set -u
doppel=${1:?usage: corpus_test.sh DOPPEL SOURCE_DIR}
src=${2:?usage: corpus_test.sh DOPPEL SOURCE_DIR}
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
for c in kv dvv dedup; do
  ls "$src"/traces/"$c"-*.trace >/dev/null 2>&1 || { echo "FAIL: no passing trace of $c"; failures=$((failures + 1)); }
done
for s in $(sed -n 's/^  "\([a-z-]*\) [a-z-]*"$/\1/p' "$src/scripts/record_corpus.sh"); do
  ls "$src"/traces/planted/"$s"-seed*.trace >/dev/null 2>&1 || { echo "FAIL: no trace of planted bug $s"; failures=$((failures + 1)); }
done
echo "corpus: $count trace(s) replayed, $failures unexpected"
[ "$count" -gt 0 ] && [ "$failures" -eq 0 ]
