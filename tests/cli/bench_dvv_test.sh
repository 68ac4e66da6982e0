#!/usr/bin/env bash
# doppel bench dvv works (a benchmark is never a timed test; this only checks
# the command): a tiny simulated run of one workload with both clock kinds
# prints the table with a VV, a DVV and a DVV/VV row and the paper's numbers,
# and DVV's clock (context bytes) is not larger than VV's; and bench dvv-handoff
# moves data to a node that joins a small local cluster.
set -u
doppel=${1:?usage: bench_dvv_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$doppel" bench dvv --mode sim --duration 20 --clients 12 --rate 20 --keys 50 \
  --workloads ordering --clocks vv,dvvset >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 0 ] || fail "exit $rc"
sed 's/^/  /' "$tmp/out"
grep -q '^Table 2\.' "$tmp/out" || fail "no Table 2"
grep -q '^ordering ' "$tmp/out" || fail "no ordering row"
grep -q '^  paper ' "$tmp/out" || fail "no paper rows"
# Our rows, before the paper's. Table 2's columns are GET mean, GET p95, UPD
# mean, UPD p95, clock B, ...: clock B is field 7 of the row that names the
# workload (VV) and field 6 of the next (DVV, its first column blank).
ours=$(sed -n '/^ordering /,/^  paper /p' "$tmp/out")
grep -q '^workload  *clock  *GET mean  *GET p95  *UPD mean  *UPD p95  *clock B' "$tmp/out" ||
  fail "Table 2's columns changed: update this test"
vv=$(echo "$ours" | awk '$1 == "ordering" && $2 == "VV" { print $7 }')
dvv=$(echo "$ours" | awk '$1 == "DVV" { print $6 }')
echo "$ours" | grep -q 'DVV/VV' || fail "no DVV/VV row"
if [ -z "$vv" ] || [ -z "$dvv" ]; then
  fail "clock sizes not found (vv '$vv', dvv '$dvv')"
elif ! awk -v a="$dvv" -v b="$vv" 'BEGIN { exit !(a <= b && b > 0) }'; then
  fail "DVV's clock ($dvv B) is larger than VV's ($vv B)"
fi

# doppel bench dvv-handoff: four local processes, 2000 keys, node 3 joins; the join settles and
# the handoff line counts what moved. Its processes are stopped by the command, by pid.
"$doppel" bench dvv-handoff --keys 2000 --nodes 4 --partitions 16 --timeout 120 \
  >"$tmp/handoff" 2>>"$tmp/err"
rc=$?
sed 's/^/  /' "$tmp/handoff"
[ "$rc" = 0 ] || fail "bench dvv-handoff: exit $rc"
grep -q '^join:   settled in ' "$tmp/handoff" || fail "bench dvv-handoff: no join line"
moved=$(sed -n 's/^handoff: \([0-9]*\) objects.*/\1/p' "$tmp/handoff")
[ "${moved:-0}" -gt 0 ] || fail "bench dvv-handoff: nothing was handed off"
[ "$failures" = 0 ] && echo "ok" || { sed 's/^/  stderr: /' "$tmp/err"; exit 1; }
