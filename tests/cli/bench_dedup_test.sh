#!/usr/bin/env bash
# doppel bench dedup works (a benchmark is never a timed test; this only checks
# the command): a tiny series through doppel, restic and borg prints one row per
# tool, every restore came back byte-identical (the bench compares each), doppel
# saves space and reads old versions through chains of indirect references;
# the fleet series prints its parameters and goals; bad options exit 2 and
# leave nothing behind.
set -u
doppel=${1:?usage: bench_dedup_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$doppel" bench dedup --images 2 --versions 3 --image-mb 8 --dir "$tmp/work" >"$tmp/out" 2>"$tmp/err"
rc=$?
sed 's/^/  /' "$tmp/out"
[ "$rc" = 0 ] || { fail "exit $rc"; sed 's/^/  stderr: /' "$tmp/err"; }
grep -q '^tool  *saving %  *of data %  *backup MB/s  *v3 MB/s  *v2 MB/s  *v1 MB/s  *chain' "$tmp/out" ||
  fail "the table's columns changed: update this test"
for tool in doppel restic borg; do
  grep -q "^$tool  *[0-9]" "$tmp/out" || fail "no row for $tool"
done
saving=$(awk '$1 == "doppel" && $2 ~ /^[0-9]/ { print $2 }' "$tmp/out")
chain=$(awk '$1 == "doppel" && $2 ~ /^[0-9]/ { print $NF }' "$tmp/out")
awk -v s="$saving" 'BEGIN { exit !(s > 10) }' || fail "doppel saved only '$saving' %"
[ "${chain:-0}" -ge 1 ] 2>/dev/null || fail "doppel's longest chain is '$chain', wanted at least 1 (reverse dedup)"
grep -q '^goals:' "$tmp/out" || fail "no goals"
[ -d "$tmp/work/data" ] && fail "the series was left behind"

# The fleet series: its parameters printed, its goals judged.
"$doppel" bench dedup --series fleet --images 3 --versions 2 --image-mb 8 --tools doppel,restic \
  --dir "$tmp/fleet" >"$tmp/fleet.out" 2>"$tmp/fleet.err" || fail "fleet: $(cat "$tmp/fleet.err")"
grep -q "^doppel bench dedup: fleet series, 3 images x 2 versions" "$tmp/fleet.out" &&
  grep -q "runs of 1 to 4 blocks" "$tmp/fleet.out" &&
  grep -q "space saving of data within 1 point of restic's" "$tmp/fleet.out" &&
  grep -q "oldest restore at least restic's" "$tmp/fleet.out" ||
  fail "fleet: $(cat "$tmp/fleet.out")"
"$doppel" bench dedup --series herd >/dev/null 2>&1
[ $? = 2 ] || fail "an unknown series was not refused with exit 2"

"$doppel" bench dedup --tools doppel,zip >/dev/null 2>"$tmp/err2"
rc=$?
[ "$rc" = 2 ] || fail "an unknown tool exited $rc, wanted 2"
grep -q "unknown tool 'zip'" "$tmp/err2" || fail "the unknown tool is not named: $(cat "$tmp/err2")"

[ "$failures" = 0 ] && echo "ok: bench dedup" && exit 0
exit 1
