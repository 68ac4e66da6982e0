#!/usr/bin/env bash
# A three-node DVV cluster on 127.0.0.1, driven with curl as Riak's HTTP API
# is: PUT and GET with X-Riak-Vclock, concurrent writes kept as siblings (300
# multipart/mixed, one by ?vtag=), a write with the context resolving them,
# bucket props, DELETE, and 4xx answers with a reason for bad requests. Every
# node is stopped by its pid.
set -u
doppel=${1:?usage: dvv_http_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
pids=()
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
base=$((21000 + RANDOM % 8000))
peers="\"127.0.0.1:$((base + 10))\", \"127.0.0.1:$((base + 11))\", \"127.0.0.1:$((base + 12))\""
for i in 0 1 2; do
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
CONF
  serve_launch "$tmp/out$i" "$tmp/err$i" --config "$tmp/n$i.toml"
  pids+=("$serve_pid")
done
for i in 0 1 2; do
  serve_await "${pids[$i]}" "$tmp/out$i" || { fail "node $i did not start: $(cat "$tmp/err$i")"; exit 1; }
done
url="http://127.0.0.1:$base"
c() { curl -s -m 10 "$@"; }

[ "$(c "$url/ping")" = "OK" ] || fail "ping"
code=$(c -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: text/plain' -d 'one' "$url/buckets/b/keys/k")
[ "$code" = 204 ] || fail "PUT answered $code"
c -D "$tmp/h" -o "$tmp/body" "http://127.0.0.1:$((base + 1))/buckets/b/keys/k"
grep -q "^HTTP/1.1 200" "$tmp/h" && [ "$(cat "$tmp/body")" = "one" ] || fail "GET through another node: $(head -1 "$tmp/h") $(cat "$tmp/body")"
vclock=$(sed -n 's/^X-Riak-Vclock: //Ip' "$tmp/h" | tr -d '\r')
[ -n "$vclock" ] || fail "no X-Riak-Vclock"

# Two writes with the same old context: concurrent, both kept.
c -o /dev/null -X PUT -H "X-Riak-Vclock: $vclock" -d 'two' "$url/buckets/b/keys/k"
c -o /dev/null -X PUT -H "X-Riak-Vclock: $vclock" -d 'three' "http://127.0.0.1:$((base + 2))/buckets/b/keys/k"
c -D "$tmp/h" -o "$tmp/body" "$url/buckets/b/keys/k"
grep -q "^HTTP/1.1 300" "$tmp/h" || fail "siblings are not a 300: $(head -1 "$tmp/h")"
grep -qi "^Content-Type: multipart/mixed; boundary=" "$tmp/h" || fail "siblings are not multipart/mixed"
grep -q "^two" "$tmp/body" && grep -q "^three" "$tmp/body" || fail "a sibling is missing: $(cat "$tmp/body")"
etag=$(grep -i "^ETag:" "$tmp/body" | head -1 | sed 's/^[^:]*: //' | tr -d '\r')
one=$(c "$url/buckets/b/keys/k?vtag=$etag")
[ "$one" = "two" ] || [ "$one" = "three" ] || fail "?vtag= gave '$one'"
vclock=$(sed -n 's/^X-Riak-Vclock: //Ip' "$tmp/h" | tr -d '\r')
# A write with that context resolves them.
c -o /dev/null -X PUT -H "X-Riak-Vclock: $vclock" -d 'merged' "$url/buckets/b/keys/k"
[ "$(c "$url/buckets/b/keys/k?r=3")" = "merged" ] || fail "the context did not resolve the siblings"

# Props, quorums, delete, bad requests.
code=$(c -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d '{"props":{"n_val":2,"allow_mult":false}}' "$url/buckets/lww/props")
[ "$code" = 204 ] || fail "PUT props answered $code"
c "$url/buckets/lww/props" | grep -q '"n_val":2' || fail "props not stored"
code=$(c -o /dev/null -w '%{http_code}' -X DELETE "$url/buckets/b/keys/k")
[ "$code" = 204 ] || fail "DELETE answered $code"
code=$(c -o /dev/null -w '%{http_code}' "$url/buckets/b/keys/k")
[ "$code" = 404 ] || fail "GET after DELETE answered $code"
code=$(c -o "$tmp/body" -w '%{http_code}' "$url/buckets/b/keys/k?r=seven")
[ "$code" = 400 ] && grep -q "r=seven" "$tmp/body" || fail "a bad r= answered $code: $(cat "$tmp/body")"
code=$(c -o "$tmp/body" -w '%{http_code}' -X PUT -H 'X-Riak-Vclock: !!!' -d x "$url/buckets/b/keys/k")
[ "$code" = 400 ] || fail "a bad vclock answered $code"
code=$(c -o "$tmp/body" -w '%{http_code}' -X PUT -d '{"props":{"colour":1}}' "$url/buckets/b/props")
[ "$code" = 400 ] && grep -q colour "$tmp/body" || fail "bad props answered $code"
code=$(c -o /dev/null -w '%{http_code}' -X PATCH "$url/buckets/b/keys/k")
[ "$code" = 405 ] || [ "$code" = 501 ] || fail "PATCH answered $code"

# A node down: quorum 2 of 3 still answers.
serve_stop "${pids[2]}" TERM "$tmp/out2" || fail "node 2: $serve_error"
sleep 3
code=$(c -o /dev/null -w '%{http_code}' -X PUT -d 'survivor' "$url/buckets/b/keys/k2")
[ "$code" = 204 ] || fail "PUT with a node down answered $code"
[ "$(c "$url/buckets/b/keys/k2")" = "survivor" ] || fail "GET with a node down"
for i in 0 1; do
  serve_stop "${pids[$i]}" TERM "$tmp/out$i" || fail "node $i: $serve_error"
done
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all checks passed"
