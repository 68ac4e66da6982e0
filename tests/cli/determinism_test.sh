#!/usr/bin/env bash
# Determinism is checked, not assumed: every shipped scenario (and every test
# scenario) runs a few seeds twice and must give the same trace, event for
# event.
set -u
doppel=${1:?usage: determinism_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
src=${2:?usage: determinism_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
failures=0
count=0
for scenario in "$src"/scenarios/*.toml "$src"/tests/scenarios/*.toml; do
  [ -e "$scenario" ] || continue
  for seed in 0 1 2; do
    out=$("$doppel" sim run "$scenario" --seed "$seed" --check-determinism 2>&1)
    count=$((count + 1))
    if ! grep -q "^determinism: OK" <<<"$out"; then
      echo "FAIL: $scenario seed $seed is not deterministic:"
      echo "$out" | tail -n 8 | sed 's/^/  /'
      failures=$((failures + 1))
    fi
  done
done
echo "determinism: $count runs checked, $failures not deterministic"
[ "$count" -gt 0 ] && [ "$failures" -eq 0 ]
