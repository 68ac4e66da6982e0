#!/usr/bin/env bash
# A DVV cluster on 127.0.0.1 grows from three members to five and shrinks to four while a
# client writes and reads, through `doppel admin cluster` (stage, plan, commit, status): every
# key keeps the value last written to it, on every node; a node that left holds no replica;
# bad admin input is refused with a reason and exit code 2. Bounded: 100 keys, each wait
# 60 s at most. Every node is stopped by its pid.
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

# Writes value $2 to every key through node $1 (blind PUTs, w=all: every primary holds it).
write_all() {
  local via=$1 tag=$2 k code
  for k in $(seq 0 $((keys - 1))); do
    code=$(c -o "$tmp/put" -w '%{http_code}' -X PUT -H 'Content-Type: text/plain' \
      -d "$tag-$k" "$(url "$via")/buckets/b/keys/k$k?w=all")
    [ "$code" = 204 ] || { fail "PUT k$k=$tag-$k through node $via answered $code: $(cat "$tmp/put")"; return; }
  done
}
# Reads every key through node $1 with r=all; each must show the value $2 wrote last (as one of
# its siblings: blind PUTs of one key by one client supersede nothing).
read_all() {
  local via=$1 tag=$2 k body bad=0
  for k in $(seq 0 $((keys - 1))); do
    body=$(c "$(url "$via")/buckets/b/keys/k$k?r=all")
    grep -q "$tag-$k" <<<"$body" || bad=$((bad + 1))
  done
  [ "$bad" = 0 ] || fail "through node $via, $bad of $keys keys lack their value $tag-*"
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

write_all 1 a
read_all 2 a

# Bad input: a node that is no member cannot leave; an unknown node cannot join; nothing to
# commit. Each names the reason and exits 2.
admin leave 4 --server "$(url 0)" >/dev/null 2>"$tmp/e"; rc=$?
[ "$rc" = 2 ] && grep -q "no valid member" "$tmp/e" || fail "leave of a non-member: rc $rc, $(cat "$tmp/e")"
admin join 9 --server "$(url 0)" >/dev/null 2>"$tmp/e"; rc=$?
[ "$rc" = 2 ] && grep -q "nodes 0..4" "$tmp/e" || fail "join of node 9: rc $rc, $(cat "$tmp/e")"
admin commit --server "$(url 3)" >/dev/null 2>"$tmp/e"; rc=$?
[ "$rc" = 2 ] && grep -q "no changes" "$tmp/e" || fail "commit of nothing: rc $rc, $(cat "$tmp/e")"

# 3 -> 5: staged at a member that is not the claimant and at a joiner, committed at another.
admin join 3 --server "$(url 1)" >/dev/null || fail "join 3"
admin join 4 --server "$(url 3)" >/dev/null || fail "join 4"
admin plan --server "$(url 2)" >"$tmp/plan" || fail "plan"
grep -q "partitions move" "$tmp/plan" || fail "the plan says no moves: $(cat "$tmp/plan")"
admin commit --server "$(url 4)" >"$tmp/commit" || fail "commit of the joins"
committed=$(sed -n 's/^committed ring version //p' "$tmp/commit")
write_all 0 b  # while the partitions move
took=$(await_settled $((committed + 1))) || fail "the ring did not settle after the joins"
echo "3 -> 5 settled ${took:-?} s after the writes"
admin status --server "$(url 2)" >"$tmp/status"
for n in 0 1 2 3 4; do
  grep -q "{\"node\":$n,\"status\":\"valid\"" "$tmp/status" || fail "node $n is not valid: $(cat "$tmp/status")"
done
for i in 0 1 2 3 4; do read_all "$i" b; done

# 5 -> 4: the claimant itself leaves.
admin leave 0 --server "$(url 4)" >/dev/null || fail "leave 0"
admin commit --server "$(url 3)" >"$tmp/commit" || fail "commit of the leave"
committed=$(sed -n 's/^committed ring version //p' "$tmp/commit")
write_all 2 c
took=$(await_settled $((committed + 1))) || fail "the ring did not settle after the leave"
echo "5 -> 4 settled ${took:-?} s after the writes"
c "$(url 0)/stats" | grep -q '"objects":0,' || fail "node 0 left but holds replicas: $(c "$(url 0)/stats")"
admin status --server "$(url 1)" >"$tmp/status"
grep -q '"claimant":1' "$tmp/status" || fail "node 1 is not the claimant: $(cat "$tmp/status")"
for i in 1 2 3 4; do read_all "$i" c; done
echo "handoff: $(for i in 0 1 2 3 4; do admin status --server "$(url "$i")" | sed -n 's/.*"handoff":\({[^}]*}\).*/\1/p'; done | tr '\n' ' ')"

for i in $(seq 0 $((nodes - 1))); do
  serve_stop "${pids[$i]}" TERM "$tmp/out$i" || fail "node $i: $serve_error"
done
if [ "$failures" -gt 0 ]; then
  echo "dvv_membership_test: $failures failure(s)"
  exit 1
fi
echo "dvv_membership_test: OK"
