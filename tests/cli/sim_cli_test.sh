#!/usr/bin/env bash
# The simulation command line end to end, on the test-only register and its
# planted bug: exit codes, the trace-hash line, traces, replay, shrink,
# swarm with shards, and one-line errors for bad input.
set -u
doppel=${1:?usage: sim_cli_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
src=${2:?usage: sim_cli_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
good=$src/tests/scenarios/register.toml
bug=$src/tests/scenarios/register-bug.toml
failures=0

check() {  # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $name: exit $got, wanted $want"
    sed 's/^/  out: /' "$tmp/out" | tail -n 15
    sed 's/^/  err: /' "$tmp/err" | tail -n 15
    failures=$((failures + 1))
    return 1
  fi
  echo "ok: $name"
}
expect_in() {  # expect_in NAME FILE PATTERN
  if ! grep -qE -- "$3" "$2"; then
    echo "FAIL: $1: no /$3/ in:"
    sed 's/^/  /' "$2" | tail -n 15
    failures=$((failures + 1))
  fi
}

check "help exits 0" 0 "$doppel" --help
check "sim run without a scenario is bad usage" 2 "$doppel" sim run
check "a missing scenario file is bad input" 2 "$doppel" sim run "$tmp/nope.toml"
printf 'name = "x"\ncomponent = "register"\nwibble = 1\n' >"$tmp/bad.toml"
check "a scenario with an unknown key is bad input" 2 "$doppel" sim run "$tmp/bad.toml"
expect_in "the error names file, line and key" "$tmp/err" "bad.toml:3: 'wibble'"

check "a correct run passes and checks determinism" 0 "$doppel" sim run "$good" --seed 1 --check-determinism
expect_in "determinism is reported" "$tmp/out" "determinism: OK"
last=$(tail -n 1 "$tmp/out")
case "$last" in
  "trace-hash: "????????????????) echo "ok: trace-hash is the last line" ;;
  *) echo "FAIL: last line is '$last'"; failures=$((failures + 1)) ;;
esac

check "the swarm finds the planted bug and exits 1" 1 "$doppel" sim swarm "$bug" --seeds 0..300 --jobs 2 --out "$tmp/swarm" --quiet
expect_in "the swarm names the property" "$tmp/out" "acknowledged-writes-survive"
expect_in "the swarm reports coverage" "$tmp/out" "coverage: faults fired \\(times\\):.*crash="
trace=$(ls "$tmp"/swarm/*.trace 2>/dev/null | head -n 1)
if [ -z "$trace" ]; then
  echo "FAIL: the swarm kept no trace"
  exit 1
fi
seed=$(basename "$trace" .trace | sed 's/.*-seed//')

check "the failing seed fails again with sim run (exit 1)" 1 "$doppel" sim run "$bug" --seed "$seed" --trace "$tmp/run.trace"
expect_in "the failure names the property" "$tmp/out" "FAIL property 'acknowledged-writes-survive'"
expect_in "the failure prints the replay command" "$tmp/out" "^replay: doppel sim replay $tmp/run.trace"
expect_in "trace-hash still comes last" <(tail -n 1 "$tmp/out") "^trace-hash: "

check "replay of a swarm trace reproduces every event (exit 0)" 0 "$doppel" sim replay "$trace"
expect_in "replay says so" "$tmp/out" "events reproduced"
expect_in "replay says the property still fails" "$tmp/out" "still fails"

check "shrink writes a smaller failing plan" 0 "$doppel" sim shrink "$trace" -o "$tmp/small.trace"
expect_in "shrink reports sizes" "$tmp/out" "^shrunk: [0-9]+ fault\(s\) -> [0-9]+"
expect_in "the shrunk plan says how it was shrunk" "$tmp/small.toml" "^# shrunk from [0-9]+ fault\(s\)"
[ -s "$tmp/small.toml" ] || { echo "FAIL: no small.toml"; failures=$((failures + 1)); }
check "the shrunk trace replays" 0 "$doppel" sim replay "$tmp/small.trace"
check "the shrunk plan fails the property with sim run --plan" 1 "$doppel" sim run "$bug" --seed "$seed" --plan "$tmp/small.toml"

printf '[[event]]\nat_us = 1000\nkind = "crash"\nnodes = [7]\n' >"$tmp/far.toml"
check "a plan naming a node the cluster lacks is bad input" 2 "$doppel" sim run "$bug" --plan "$tmp/far.toml"
expect_in "the plan error names file, line and key" "$tmp/err" "far.toml:1: 'nodes'.*node 7"
printf '[[event]]\nat_us = 1000\nkind = "core_stall"\nnodes = [0]\ncore = 9\n' >"$tmp/core.toml"
check "a plan stalling a core the node lacks is bad input" 2 "$doppel" sim run "$bug" --plan "$tmp/core.toml"
expect_in "the core error names the key" "$tmp/err" "core.toml:1: 'core'"
sed 's/^segment_kb = 16$/segment_kb = 24/' "$src/scenarios/kv-evict.toml" >"$tmp/kv-seg.toml"
check "node settings a node refuses are bad input" 2 "$doppel" sim run "$tmp/kv-seg.toml" --seed 1
expect_in "the node's refusal names the setting" "$tmp/err" "refuse the settings.*'segment_kb': must be a power of two"

head -c 100 "$trace" >"$tmp/truncated.trace"
check "a truncated trace is bad input" 2 "$doppel" sim replay "$tmp/truncated.trace"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "FAIL: the error is not one line"; failures=$((failures + 1)); }
printf 'not a trace at all' >"$tmp/foreign.trace"
check "a foreign file is bad input" 2 "$doppel" sim replay "$tmp/foreign.trace"
check "a missing trace is bad input" 2 "$doppel" sim replay "$tmp/none.trace"

check "trace show prints the header and events" 0 "$doppel" trace show "$trace" --limit 5
expect_in "trace show prints events" "$tmp/out" "^#0 t=0.000000000 world SimStart"
check "trace show --html writes a page" 0 "$doppel" trace show "$trace" --html "$tmp/t.html"
# The viewer's page carries its data and script inline (tests/cli/viewer_test.sh runs it).
grep -q 'id=data' "$tmp/t.html" && grep -q 'class TraceModel' "$tmp/t.html" ||
  { echo "FAIL: the html page lacks the viewer's data or script"; failures=$((failures + 1)); }

# A worker killed by an assertion fails its seed; a new worker runs the rest, and the runs it
# finished before it died still count in the coverage (one RegisterBoot per passing run).
dies=$src/tests/cli/register-dies.toml  # not in tests/scenarios: it cannot run twice to check determinism
check "a swarm whose workers die exits 1" 1 "$doppel" sim swarm "$dies" --seeds 0..24 --jobs 1 --out "$tmp/dies" --probes "$tmp/dies.tsv" --quiet
expect_in "every seed ran though workers died" "$tmp/out" "swarm: 24 runs"
expect_in "a dead worker is a failed seed" "$tmp/err" "the worker process died"
died=$(grep -c "the worker process died" "$tmp/err")
boots=$(awk -F'\t' '$2 == "event:RegisterBoot" {print $1}' "$tmp/dies.tsv")
if [ "$died" -lt 2 ] || [ "${boots:-0}" -ne $((24 - died)) ]; then
  echo "FAIL: $died workers died and $boots boots were counted, wanted $((24 - died))"
  failures=$((failures + 1))
else
  echo "ok: $died workers died; the $boots runs that passed all count in the coverage"
fi

check "explore finds the planted bug and exits 1" 1 "$doppel" sim explore "$bug" --time 60 --jobs 2 --out "$tmp/explore" --quiet
expect_in "explore names the property" "$tmp/out" "failure\(s\): register-bug: acknowledged-writes-survive"
expect_in "explore prints what its corpus reached" "$tmp/out" "^corpus: "
etrace=$(ls "$tmp"/explore/*.trace 2>/dev/null | head -n 1)
if [ -n "$etrace" ]; then
  check "an explore trace replays" 0 "$doppel" sim replay "$etrace"
else
  echo "FAIL: explore kept no trace"; failures=$((failures + 1))
fi
# A run budget alone makes an exploration the same on every machine and for any --jobs.
"$doppel" sim explore "$good" --runs 48 --time 0 --seed 7 --jobs 1 --out "$tmp/e1" --quiet >"$tmp/e1.out" 2>&1
"$doppel" sim explore "$good" --runs 48 --time 0 --seed 7 --jobs 2 --out "$tmp/e2" --quiet >"$tmp/e2.out" 2>&1
if diff <(grep -E "^explore: [0-9]+ runs|^ +register" "$tmp/e1.out" | sed 's/ in [0-9.]* s wall.*//') \
        <(grep -E "^explore: [0-9]+ runs|^ +register" "$tmp/e2.out" | sed 's/ in [0-9.]* s wall.*//') >/dev/null &&
   grep -q "^explore: 48 runs" "$tmp/e1.out"; then
  echo "ok: one master seed and run budget give one exploration, with 1 job or 2"
else
  echo "FAIL: the explorations differ:"; cat "$tmp/e1.out" "$tmp/e2.out" | head -n 20
  failures=$((failures + 1))
fi
check "explore with neither time nor runs is bad usage" 2 "$doppel" sim explore "$good" --time 0

check "shard 0/2 runs half the seeds" 0 "$doppel" sim swarm "$good" --seeds 0..20 --shard 0/2 --jobs 1 --out "$tmp/s0" --quiet
expect_in "shard 0/2 ran 10" "$tmp/out" "swarm: 10 runs"
check "shard 1/2 runs the other half" 0 "$doppel" sim swarm "$good" --seeds 0..20 --shard 1/2 --jobs 1 --out "$tmp/s1" --quiet
check "merge puts the two shards together" 0 "$doppel" sim merge "$tmp/s0" "$tmp/s1"
expect_in "the merge counts every seed" "$tmp/out" "^swarm: 20 runs"
check "a shard merged twice is bad input" 2 "$doppel" sim merge "$tmp/s0" "$tmp/s0"
expect_in "the error names the shard" "$tmp/err" "shard 0 is in the merge twice"
check "a merge of a directory without a summary is bad input" 2 "$doppel" sim merge "$tmp"
check "a bad shard is bad usage" 2 "$doppel" sim swarm "$good" --shard 2/2
check "a bad seed range is bad usage" 2 "$doppel" sim swarm "$good" --seeds 5..1

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
