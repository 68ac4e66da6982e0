#!/usr/bin/env bash
# A DVV cluster on 127.0.0.1 grows from three members to five and shrinks to four while
# clients write and read, through `doppel admin cluster` (stage, plan, commit, status); the
# clients' history (doppel load dvv) passes the causal oracle (doppel check causal): no
# acknowledged write lost, no false sibling; a node that left holds no replica; bad admin
# input is refused with a reason and exit code 2. Bounded: 100 keys, 1 800 operations and
# 1 200 final reads, each wait 60 s at most. Every node is stopped by its pid.
set -u
doppel=${1:?usage: dvv_membership_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
pids=()
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
base=$((21000 + RANDOM % 8000))
nodes=5
keys=100
peers=""
for i in $(seq 0 $((nodes - 1))); do peers+="${peers:+, }\"127.0.0.1:$((base + 10 + i))\""; done
for i in $(seq 0 $((nodes - 1))); do
  cat >"$tmp/n$i.toml" <<CONF
[node]
name = "dvv-$i"
component = "dvv"
node_id = $i
listen = "127.0.0.1:$((base + i))"
peers = [$peers]
data_dir = "$tmp/data-$i"
cores = 1
pin = false
[dvv]
partitions = 16
members = 3
handoff_interval_ms = 200
CONF
  serve_launch "$tmp/out$i" "$tmp/err$i" --config "$tmp/n$i.toml"
  pids+=("$serve_pid")
done
for i in $(seq 0 $((nodes - 1))); do
  serve_await "${pids[$i]}" "$tmp/out$i" || { fail "node $i did not start: $(cat "$tmp/err$i")"; exit 1; }
done
url() { echo "http://127.0.0.1:$((base + $1))"; }
c() { curl -s -m 10 "$@"; }
admin() { "$doppel" admin cluster "$@"; }

# The clients: `doppel load dvv` records every request in one history, which `doppel check
# causal` judges at the end with the simulator's oracle (no acknowledged write lost, no false
# sibling, no value invented or resurrected).
history=$tmp/history.jsonl
load() {  # load TAG NODE... : 4 clients x 150 operations, 10 ms apart, through those nodes
  local tag=$1 servers=() n
  shift
  for n in "$@"; do servers+=(--server "$(url "$n")"); done
  "$doppel" load dvv "${servers[@]}" --history "$history" --keys "$keys" --clients 4 --ops 150 \
    --pause-ms 10 --tag "$tag" --seed "$RANDOM" --timeout-ms 10000 >"$tmp/load-$tag" 2>&1
}
# Reads every key through each node with r=all, marked final: every write has ended and the
# ring has settled.
final_reads() {
  local servers=() n
  for n in "$@"; do servers+=(--server "$(url "$n")"); done
  "$doppel" load dvv "${servers[@]}" --history "$history" --keys "$keys" --final \
    --timeout-ms 10000 >>"$tmp/final" 2>&1 || fail "final reads: $(cat "$tmp/final")"
}
# Waits until every node holds one settled ring of version >= $1 with no replica it does not
# serve; prints the seconds it took.
await_settled() {
  local want=$1 start=$SECONDS i s v ok
  while [ $((SECONDS - start)) -lt 60 ]; do
    ok=1
    v0=""
    for i in $(seq 0 $((nodes - 1))); do
      s=$(admin status --server "$(url "$i")" 2>/dev/null) || { ok=0; break; }
      grep -q '"pending":false' <<<"$s" || { ok=0; break; }
      v=$(sed -n 's/.*"version":\([0-9]*\).*/\1/p' <<<"$s")
      [ "$v" -ge "$want" ] || { ok=0; break; }
      [ -z "$v0" ] || [ "$v" = "$v0" ] || { ok=0; break; }
      v0=$v
      c "$(url "$i")/stats" | grep -q '"unserved":0' || { ok=0; break; }
    done
    [ "$ok" = 1 ] && { echo $((SECONDS - start)); return 0; }
    sleep 0.5
  done
  return 1
}

load a 0 1 2 || fail "load a: $(cat "$tmp/load-a")"
final_reads 0 1 2

# Bad input: a node that is no member cannot leave; an unknown node cannot join; nothing to
# commit. Each names the reason and exits 2.
admin leave 4 --server "$(url 0)" >/dev/null 2>"$tmp/e"; rc=$?
[ "$rc" = 2 ] && grep -q "no valid member" "$tmp/e" || fail "leave of a non-member: rc $rc, $(cat "$tmp/e")"
admin join 9 --server "$(url 0)" >/dev/null 2>"$tmp/e"; rc=$?
[ "$rc" = 2 ] && grep -q "nodes 0..4" "$tmp/e" || fail "join of node 9: rc $rc, $(cat "$tmp/e")"
admin commit --server "$(url 3)" >/dev/null 2>"$tmp/e"; rc=$?
[ "$rc" = 2 ] && grep -q "no changes" "$tmp/e" || fail "commit of nothing: rc $rc, $(cat "$tmp/e")"

# 3 -> 5: staged at a member that is not the claimant and at a joiner, committed at another.
load b 0 1 2 &
load_pid=$!
sleep 0.3
admin join 3 --server "$(url 1)" >/dev/null || fail "join 3"
admin join 4 --server "$(url 3)" >/dev/null || fail "join 4"
admin plan --server "$(url 2)" >"$tmp/plan" || fail "plan"
grep -q "partitions move" "$tmp/plan" || fail "the plan says no moves: $(cat "$tmp/plan")"
admin commit --server "$(url 4)" >"$tmp/commit" || fail "commit of the joins"
committed=$(sed -n 's/^committed ring version //p' "$tmp/commit")
kill -0 "$load_pid" 2>/dev/null || fail "load b ended before the commit: no write met the handoff"
wait "$load_pid" || fail "load b: $(cat "$tmp/load-b")"  # while the partitions moved
took=$(await_settled $((committed + 1))) || fail "the ring did not settle after the joins"
echo "3 -> 5 settled ${took:-?} s after the writes"
admin status --server "$(url 2)" >"$tmp/status"
for n in 0 1 2 3 4; do
  grep -q "{\"node\":$n,\"status\":\"valid\"" "$tmp/status" || fail "node $n is not valid: $(cat "$tmp/status")"
done
final_reads 0 1 2 3 4

# 5 -> 4: the claimant itself leaves.
load c 1 2 3 4 &
load_pid=$!
sleep 0.3
admin leave 0 --server "$(url 4)" >/dev/null || fail "leave 0"
admin commit --server "$(url 3)" >"$tmp/commit" || fail "commit of the leave"
committed=$(sed -n 's/^committed ring version //p' "$tmp/commit")
kill -0 "$load_pid" 2>/dev/null || fail "load c ended before the commit: no write met the handoff"
wait "$load_pid" || fail "load c: $(cat "$tmp/load-c")"
took=$(await_settled $((committed + 1))) || fail "the ring did not settle after the leave"
echo "5 -> 4 settled ${took:-?} s after the writes"
c "$(url 0)/stats" | grep -q '"objects":0,' || fail "node 0 left but holds replicas: $(c "$(url 0)/stats")"
admin status --server "$(url 1)" >"$tmp/status"
grep -q '"claimant":1' "$tmp/status" || fail "node 1 is not the claimant: $(cat "$tmp/status")"
final_reads 1 2 3 4
cat "$tmp/load-a" "$tmp/load-b" "$tmp/load-c" "$tmp/final"
"$doppel" check causal "$history" >"$tmp/check" 2>&1 || fail "the history: $(head -20 "$tmp/check")"
head -1 "$tmp/check"
grep -q " 0 keys with acknowledged writes had no final read" "$tmp/check" ||
  fail "keys went unjudged: $(head -1 "$tmp/check")"
# The oracle can fail on this history: the last read that returned an acknowledged value (a
# final one), made to return nothing, loses it.
python3 - "$history" "$tmp/tampered.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
pending, acked = {}, set()
for l in lines:
    if l["type"] == "invoke":
        pending[l["process"]] = l.get("value")
    elif l["type"] == "ok" and l["f"] == "put":
        acked.add(pending[l["process"]])
last = max(i for i, l in enumerate(lines)
           if l["f"] == "get" and l["type"] == "ok"
           and acked & set(l["value"]))
lines[last]["value"] = []
open(sys.argv[2], "w").write("".join(json.dumps(l) + "\n" for l in lines))
PY
"$doppel" check causal "$tmp/tampered.jsonl" >"$tmp/check" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "lost" "$tmp/check" || fail "a read made to lose a value passed: rc $rc"
echo "handoff: $(for i in 0 1 2 3 4; do admin status --server "$(url "$i")" | sed -n 's/.*"handoff":\({[^}]*}\).*/\1/p'; done | tr '\n' ' ')"

for i in $(seq 0 $((nodes - 1))); do
  serve_stop "${pids[$i]}" TERM "$tmp/out$i" || fail "node $i: $serve_error"
done
if [ "$failures" -gt 0 ]; then
  echo "dvv_membership_test: $failures failure(s)"
  exit 1
fi
echo "dvv_membership_test: OK"
