#!/usr/bin/env bash
# doppel real run: a DVV scenario's seed and fault plan played against real processes in
# network namespaces (partitions as nftables drops, resets, SIGKILL and restart, SIGSTOP),
# its clients' history judged by the causal oracle; every namespace, rule and process goes
# with the run, also when it is interrupted; clear refusals without root and for scenarios a
# real run cannot play. Bounded: each run by its scenario (8 s of faults) and `timeout`.
set -u
usage="usage: real_run_test.sh DOPPEL_BINARY SOURCE_DIR DOPPEL_TEST_BINARY"
doppel=$(realpath "${1:?$usage}")
src=${2:?$usage}
doppel_test=$(realpath "${3:?$usage}")
[ "$(id -u)" = 0 ] || { echo "skip: needs root (network namespaces)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# Nothing of a run may outlive it: no namespace it made (named after its pid, which its lab.log
# shows), no process started on its files. (Other runs on the machine are not this test's.)
leftovers() {  # leftovers WHAT OUT_DIR
  local prefix ns procs
  prefix=$(grep -o 'doppel-[0-9]*-hub' "$2/lab.log" 2>/dev/null | head -1)
  prefix=${prefix%-hub}
  if [ -n "$prefix" ]; then
    ns=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true)
    [ -z "$ns" ] || fail "$1: namespaces left behind: $ns"
  elif [ -e "$2/lab.log" ]; then
    fail "$1: its lab.log names no namespace"
  fi
  procs=$(pgrep -f "$2/" || true)
  [ -z "$procs" ] || { fail "$1: processes left behind: $(ps -o pid,args -p "$(echo $procs | tr ' ' ,)")"; kill -9 $procs 2>/dev/null; }
}

real_run() {  # real_run NAME SEED
  local out=$tmp/$1-$2
  timeout -s INT 240 "$doppel" real run "$src/scenarios/$1.toml" --seed "$2" --out "$out" >"$tmp/log" 2>&1
  local rc=$?
  cat "$tmp/log"
  [ "$rc" = 0 ] || fail "$1 seed $2: exit $rc"
  grep -q '^PASSED' "$out/verdict.txt" || fail "$1 seed $2: verdict $(head -3 "$out/verdict.txt")"
  for f in plan.toml history.jsonl faults.txt node-0.log node-0.toml clients.log; do
    [ -s "$out/$f" ] || fail "$1 seed $2: no $f"
  done
  grep -q "acknowledged-writes-survive" "$out/verdict.txt" || fail "$1 seed $2: the oracle did not judge"
  "$doppel" check causal "$out/history.jsonl" >/dev/null || fail "$1 seed $2: check causal disagrees"
  leftovers "$1 seed $2" "$out"
}

# Partitions both ways and one way, and resets.
real_run dvv-partition 1
grep -q "applied  at [0-9]*ms: partition" "$tmp/dvv-partition-1/faults.txt" || fail "no partition applied"
# Crashes (SIGKILL, restart on the same data), stalls (SIGSTOP), and clock steps (libfaketime).
real_run dvv-crash 8
f=$tmp/dvv-crash-8/faults.txt
grep -q "applied  at [0-9]*ms: crash" "$f" || fail "no crash applied"
grep -q "^ *[0-9.]* s  restart" "$f" || fail "no node restarted"
grep -q "applied  at [0-9]*ms: core_stall" "$f" || fail "no stall applied"
grep -q "applied  at [0-9]*ms: clock_skew.*libfaketime" "$f" || fail "no clock step applied"

# A planted bug, served by doppel-test's dvv-planted: contexts ignored, so siblings that
# superseded each other stay side by side, and the real run's oracle says so.
out=$tmp/planted
timeout -s INT 240 "$doppel_test" real run "$src/tests/scenarios/dvv-ignore-context.toml" --seed 1 \
  --out "$out" >"$tmp/log" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "the planted ignore-context: exit $rc: $(tail -5 "$tmp/log")"
grep -q "no-false-conflicts: [0-9]* false-sibling" "$out/verdict.txt" ||
  fail "the planted ignore-context was not caught: $(head -5 "$out/verdict.txt")"
grep -q 'component = "dvv-planted"' "$out/node-0.toml" || fail "the planted bug was not served"
leftovers "the planted bug's run" "$out"
"$doppel" real run "$src/tests/scenarios/dvv-ignore-context.toml" --out "$tmp/pb" >"$tmp/log" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "only by doppel-test" "$tmp/log" || fail "doppel with a planted bug: rc $rc, $(cat "$tmp/log")"

# Interrupted: everything it made is removed.
"$doppel" real run "$src/scenarios/dvv-partition.toml" --seed 2 --out "$tmp/int" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "applied" "$tmp/log" && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 1 ] || fail "an interrupted run exits $rc"
grep -q "interrupted" "$tmp/log" || fail "the interrupted run says nothing: $(tail -2 "$tmp/log")"
grep -q 'doppel-[0-9]*-hub' "$tmp/int/lab.log" || fail "the interrupted run made no lab"
leftovers "the interrupted run" "$tmp/int"

# Refusals, each with its reason and exit 2.
setpriv --reuid=65534 --regid=65534 --clear-groups "$doppel" real run \
  "$src/scenarios/dvv-basic.toml" --out "$tmp/nobody" >"$tmp/log" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "needs root" "$tmp/log" || fail "without root: rc $rc, $(cat "$tmp/log")"
"$doppel" real run "$src/scenarios/dvv-membership.toml" --out "$tmp/m" >"$tmp/log" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "membership" "$tmp/log" || fail "dvv-membership: rc $rc, $(cat "$tmp/log")"
"$doppel" real run "$src/scenarios/kv-basic.toml" --out "$tmp/k" >"$tmp/log" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "only dvv" "$tmp/log" || fail "kv-basic: rc $rc, $(cat "$tmp/log")"
leftovers "the refusals" "$tmp/nobody"

[ "$failures" = 0 ] || { echo "real_run_test: $failures failure(s)"; exit 1; }
echo "real_run_test: OK"
