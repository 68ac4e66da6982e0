#!/usr/bin/env bash
# doppel check linearizable: exit 0 for a linearizable history, 1 with a
# counter-example for one that is not, 2 for a malformed file; and a history
# of 10 000 operations over 100 keys checked within seconds. doppel check causal likewise.
set -u
doppel=${1:?usage: check_test.sh DOPPEL_BINARY SOURCE_DIR}
src=${2:?usage: check_test.sh DOPPEL_BINARY SOURCE_DIR}
h=$src/tests/properties/histories
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
expect() {  # expect EXIT ARGS...
  local want=$1
  shift
  "$doppel" check linearizable "$@" >"$tmp/out" 2>&1
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: check linearizable $*: exit $got, wanted $want"
    sed 's/^/  /' "$tmp/out" | head -n 10
    failures=$((failures + 1))
  fi
}
expect 0 "$h/kv-ok.jsonl"
expect 1 "$h/kv-stale-read-bad.jsonl"
grep -q "cannot linearize" "$tmp/out" || { echo "FAIL: no counter-example"; failures=$((failures + 1)); }
expect 1 "$h/kv-lost-append-bad.jsonl"
expect 0 --model cas-register "$h/cas-register-ok.jsonl"
expect 1 --model cas-register "$h/cas-register-bad.jsonl"
printf '{"process": 1, "type": "invoke", "f": "get", "key": \n' >"$tmp/bad.jsonl"
expect 2 "$tmp/bad.jsonl"
grep -q "bad.jsonl:1" "$tmp/out" || { echo "FAIL: the error does not name the line"; failures=$((failures + 1)); }
expect 2 "$tmp/missing.jsonl"
expect 2 --model pogo "$h/kv-ok.jsonl"

# 10 000 operations over 100 keys, 5 processes with overlapping operations.
python3 - "$tmp/big.jsonl" <<'PY'
import json, random, sys
random.seed(7)
state, out, t = {}, [], 0
clock = [0] * 5
events = []
for i in range(10000):
    p = i % 5
    key = "k%d" % random.randrange(100)
    start = clock[p] + random.randrange(1, 50)
    point = start + random.randrange(1, 50)
    end = point + random.randrange(1, 50)
    clock[p] = end
    f = random.choice(["get", "set", "append", "delete"])
    events.append((point, p, key, f, start, end, i))
events.sort()
for point, p, key, f, start, end, i in events:
    arg = None
    if f == "get":
        res = state.get(key)
    elif f == "set":
        arg = "v%d" % i; state[key] = arg; res = None
    elif f == "append":
        arg = "+%d" % i
        if key in state: state[key] += arg; res = "STORED"
        else: res = "NOT_STORED"
    else:
        res = "DELETED" if key in state else "NOT_FOUND"; state.pop(key, None)
    out.append((start, {"process": p, "type": "invoke", "f": f, "key": key, "value": arg, "time": start}))
    out.append((end, {"process": p, "type": "ok", "f": f, "key": key, "value": res if f != "set" else None, "time": end}))
out.sort(key=lambda e: e[0])
with open(sys.argv[1], "w") as fh:
    for _, rec in out:
        fh.write(json.dumps(rec) + "\n")
PY
start=$(date +%s%N)
expect 0 "$tmp/big.jsonl"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$tmp/out"
[ "$elapsed_ms" -lt 10000 ] || { echo "FAIL: 10 000 operations took ${elapsed_ms} ms"; failures=$((failures + 1)); }
echo "10 000 operations over 100 keys: ${elapsed_ms} ms"
# doppel check causal: 0 when every acknowledged value is read at the end, 1 naming the line of
# a final read that lost one, 2 for a malformed line.
causal() {  # causal EXIT FILE
  "$doppel" check causal "$2" >"$tmp/out" 2>&1
  local got=$?
  [ "$got" = "$1" ] || { echo "FAIL: check causal $2: exit $got, wanted $1"; sed 's/^/  /' "$tmp/out"; failures=$((failures + 1)); }
}
cat >"$tmp/causal.jsonl" <<'JSONL'
{"process":1,"type":"invoke","f":"put","key":"k","value":"a","time":1}
{"process":1,"type":"ok","f":"put","key":"k","time":2}
{"process":2,"type":"invoke","f":"get","key":"k","time":3}
{"process":2,"type":"ok","f":"get","key":"k","value":["a"],"time":4}
{"process":2,"type":"invoke","f":"put","key":"k","value":"b","observed":["a"],"time":5}
{"process":2,"type":"ok","f":"put","key":"k","time":6}
{"process":3,"type":"invoke","f":"get","key":"k","final":true,"time":7}
JSONL
cp "$tmp/causal.jsonl" "$tmp/lost.jsonl"
echo '{"process":3,"type":"ok","f":"get","key":"k","value":["b"],"time":8}' >>"$tmp/causal.jsonl"
causal 0 "$tmp/causal.jsonl"
grep -q "causally consistent" "$tmp/out" || { echo "FAIL: no verdict: $(cat "$tmp/out")"; failures=$((failures + 1)); }
echo '{"process":3,"type":"ok","f":"get","key":"k","value":[],"time":8}' >>"$tmp/lost.jsonl"
causal 1 "$tmp/lost.jsonl"
grep -q "line 8: k: b lost" "$tmp/out" || { echo "FAIL: the loss is not named: $(cat "$tmp/out")"; failures=$((failures + 1)); }
echo '{"process":3,"type":"ok","f":"get","key":"k","value":"b"}' >"$tmp/bad.jsonl"
causal 2 "$tmp/bad.jsonl"
grep -q "bad.jsonl:1: " "$tmp/out" || { echo "FAIL: the error does not name the line"; failures=$((failures + 1)); }

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all checks passed"
