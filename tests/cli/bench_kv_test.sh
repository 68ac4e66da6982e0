#!/usr/bin/env bash
# doppel bench kv works (a benchmark is never a timed test; this only checks the command): two
# interleaved one-second rounds of doppel (epoll, shared port and routed) and memcached print a
# row per round and a table of medians; the routed target forwards nothing and the shared port
# forwards about half the keys of two cores; memcached shows no forwarding figure; no target
# answered wrongly. An unknown target is a usage error. The bench starts and stops every server
# itself, by pid.
set -u
doppel=${1:?usage: bench_kv_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
command -v memcached >/dev/null || { echo "FAIL: memcached is not installed (scripts/setup.sh installs it)"; exit 1; }

timeout 120 "$doppel" bench kv --targets doppel-epoll,doppel-epoll-routed,memcached \
  --connections 4 --mixes read-heavy --seconds 1 --keys 2000 --skip-memory --repeat 2 \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 0 ] || fail "exit $rc"
sed 's/^/  /' "$tmp/out"
grep -q '^target  *mix  *conns  *ops/s  *p50 us  *p99 us  *p99.9 us  *misses  *ops/cpu-s  *fwd %$' "$tmp/out" ||
  fail "the table's columns changed: update this test"
[ "$(grep -c '^round [12] of 2$' "$tmp/out")" = 2 ] || fail "not two rounds"
grep -q '^medians of 2 interleaved rounds$' "$tmp/out" || fail "no table of medians"
medians=$(sed -n '/^medians of/,$p' "$tmp/out")
for t in doppel-epoll doppel-epoll-routed memcached; do
  [ "$(grep -c "^$t  *read-heavy  *4 " "$tmp/out")" = 3 ] || fail "$t: not two rounds and a median"
done
! grep -q 'errors=\|failed' "$tmp/out" || fail "a target answered wrongly"
field() { echo "$medians" | awk -v t="$1" -v f="$2" '$1 == t { print $f }'; }
ops=$(field doppel-epoll 4)
awk -v x="${ops:-0}" 'BEGIN { exit !(x > 100) }' || fail "doppel-epoll: $ops ops/s"
[ "$(field doppel-epoll-routed 10)" = "0.0" ] || fail "the routed target forwarded: $(field doppel-epoll-routed 10) %"
awk -v x="$(field doppel-epoll 10)" 'BEGIN { exit !(x > 25 && x < 75) }' ||
  fail "the shared port forwarded $(field doppel-epoll 10) % of two cores' keys, wanted about half"
[ "$(field memcached 10)" = "-" ] || fail "memcached shows a forwarding figure"

"$doppel" bench kv --targets nginx >/dev/null 2>"$tmp/usage"
rc=$?
[ "$rc" = 2 ] && grep -q "unknown 'nginx'" "$tmp/usage" || fail "an unknown target gave exit $rc: $(cat "$tmp/usage")"
[ "$failures" = 0 ] && echo "ok" || { sed 's/^/  stderr: /' "$tmp/err"; exit 1; }
