#!/usr/bin/env bash
# Access control of the real HTTP services, end to end with curl and `doppel backup`:
#   - dedup with users from an htpasswd file made by Apache's `htpasswd -B`: every route refuses
#     a request without credentials or with a wrong password (401, WWW-Authenticate); a user
#     backs up and restores with `doppel backup --user --password-file`; an append-only user
#     cannot remove nor gc (403) and its refused remove removed nothing; private repos keep a
#     user to its own images;
#   - DVV: the client API refuses requests without credentials; a node started with another
#     cluster secret cannot write through the cluster nor serve as a replica to it;
#   - a non-loopback listen without TLS is refused unless the config says insecure = true
#     (tls_test.sh: with TLS it needs nothing more).
# Every server is stopped by its pid.
set -u
doppel=${1:?usage: access_test.sh DOPPEL_BINARY}
command -v htpasswd >/dev/null || { echo "SKIP: htpasswd (apache2-utils) is not installed"; exit 77; }
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
base=$((21000 + RANDOM % 8000))

htpasswd -cbB "$tmp/users" alice alice-pw 2>/dev/null
htpasswd -bB "$tmp/users" nightly nightly-pw 2>/dev/null
htpasswd -bB "$tmp/users" bob bob-pw 2>/dev/null
echo alice-pw >"$tmp/alice.pw"
echo nightly-pw >"$tmp/nightly.pw"
echo wrong >"$tmp/wrong.pw"

# --- dedup
cat >"$tmp/dedup.toml" <<CONF
[node]
name = "dedup"
component = "dedup"
listen = "127.0.0.1:$base"
data_dir = "$tmp/dedup-data"
cores = 2
pin = false
[dedup]
segment_mb = 1
users_file = "users"
private_repos = true
append_only = ["nightly"]
CONF
serve_start "$tmp/dedup.out" "$tmp/dedup.err" --config "$tmp/dedup.toml" ||
  { fail "dedup did not start: $(cat "$tmp/dedup.err")"; exit 1; }
dedup_pid=$serve_pid
url="http://127.0.0.1:$base"
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }

for route in "GET /info" "GET /images" "GET /images/alice" "GET /images/alice/versions/1" \
             "DELETE /images/alice/versions/1" "POST /images/alice/versions" "PUT /segments/00" \
             "POST /segments/query" "POST /admin/verify" "POST /admin/gc" "POST /admin/check" \
             "GET /stats" "GET /metrics" "GET /nowhere"; do
  set -- $route
  [ "$(code -X "$1" "$url$2")" = 401 ] || fail "dedup $route without credentials: not 401"
  [ "$(code -u alice:wrong -X "$1" "$url$2")" = 401 ] || fail "dedup $route with a wrong password: not 401"
done
curl -s -m 10 -D "$tmp/h" -o /dev/null "$url/info"
grep -qi '^WWW-Authenticate: Basic realm="doppel-dedup"' "$tmp/h" || fail "no WWW-Authenticate on 401"
[ "$(code -u alice:alice-pw "$url/info")" = 200 ] || fail "alice's /info is not 200"

head -c 3000000 /dev/urandom >"$tmp/disk.img"
b() { "$doppel" backup "$@" --server "$url"; }
b put "$tmp/disk.img" --image alice.disk >"$tmp/put.out" 2>&1 && fail "backup without credentials succeeded"
grep -q "401" "$tmp/put.out" || fail "backup without credentials does not say 401: $(cat "$tmp/put.out")"
b put "$tmp/disk.img" --image alice.disk --user alice --password-file "$tmp/wrong.pw" >/dev/null 2>&1 &&
  fail "backup with a wrong password succeeded"
b put "$tmp/disk.img" --image alice.disk --user alice --password-file "$tmp/alice.pw" >/dev/null 2>"$tmp/err" ||
  fail "alice's backup failed: $(cat "$tmp/err")"
b get alice.disk@latest -o "$tmp/back.img" --user alice --password-file "$tmp/alice.pw" 2>"$tmp/err" ||
  fail "alice's restore failed: $(cat "$tmp/err")"
cmp -s "$tmp/disk.img" "$tmp/back.img" || fail "alice's restore differs"
b put "$tmp/disk.img" --image bob.disk --user alice --password-file "$tmp/alice.pw" >/dev/null 2>"$tmp/err" &&
  fail "alice committed to bob.disk"
grep -q "403" "$tmp/err" || fail "alice's commit to bob.disk is not a 403: $(cat "$tmp/err")"
[ "$(code -u bob:bob-pw "$url/images/alice.disk")" = 403 ] || fail "bob may read alice's image"
curl -s -m 10 -u bob:bob-pw "$url/images" | grep -q alice && fail "bob's listing shows alice's image"

b put "$tmp/disk.img" --image nightly --user nightly --password-file "$tmp/nightly.pw" >/dev/null 2>"$tmp/err" ||
  fail "the append-only user's backup failed: $(cat "$tmp/err")"
[ "$(code -u nightly:nightly-pw -X POST "$url/admin/verify")" = 200 ] || fail "append-only verify is not 200"
[ "$(code -u nightly:nightly-pw -X DELETE "$url/images/nightly/versions/1")" = 403 ] ||
  fail "append-only remove is not 403"
[ "$(code -u nightly:nightly-pw -X POST "$url/admin/gc")" = 403 ] || fail "append-only gc is not 403"
b rm nightly@1 --user nightly --password-file "$tmp/nightly.pw" >/dev/null 2>&1 && fail "backup rm as append-only succeeded"
[ "$(code -u nightly:nightly-pw "$url/images/nightly/versions/1")" = 200 ] || fail "the refused remove removed the version"
[ "$(code -u alice:alice-pw -X POST "$url/admin/gc")" = 200 ] || fail "a full user's gc is not 200"
serve_stop "$dedup_pid" TERM "$tmp/dedup.out" || fail "dedup: $serve_error"

# --- DVV: three nodes with a users file and a cluster secret, and a rogue without the secret
head -c 32 /dev/urandom | base64 >"$tmp/cluster.secret"
head -c 32 /dev/urandom | base64 >"$tmp/other.secret"
peers="\"127.0.0.1:$((base + 20))\", \"127.0.0.1:$((base + 21))\", \"127.0.0.1:$((base + 22))\", \"127.0.0.1:$((base + 23))\""
pids=()
for i in 0 1 2 3; do
  secret=cluster.secret
  [ "$i" = 3 ] && secret=other.secret  # the rogue: node 3 of a ring that names it, another secret
  cat >"$tmp/n$i.toml" <<CONF
[node]
name = "dvv-$i"
component = "dvv"
node_id = $i
listen = "127.0.0.1:$((base + 10 + i))"
peers = [$peers]
data_dir = "$tmp/dvv-$i"
cores = 1
pin = false
[dvv]
partitions = 16
users_file = "users"
cluster_secret_file = "$secret"
CONF
  serve_launch "$tmp/dvv$i.out" "$tmp/dvv$i.err" --config "$tmp/n$i.toml" --log-level warning
  pids+=("$serve_pid")
done
for i in 0 1 2 3; do
  serve_await "${pids[$i]}" "$tmp/dvv$i.out" || { fail "dvv node $i did not start: $(cat "$tmp/dvv$i.err")"; exit 1; }
done
n0="http://127.0.0.1:$((base + 10))"
rogue="http://127.0.0.1:$((base + 13))"
for route in "GET /ping" "GET /stats" "GET /metrics" "GET /buckets/b/keys/k" "PUT /buckets/b/keys/k" \
             "DELETE /buckets/b/keys/k" "GET /buckets/b/props" "PUT /buckets/b/props"; do
  set -- $route
  [ "$(code -X "$1" "$n0$2")" = 401 ] || fail "dvv $route without credentials: not 401"
  [ "$(code -u alice:nope -X "$1" "$n0$2")" = 401 ] || fail "dvv $route with a wrong password: not 401"
done
# Writes through the cluster with n_val 3 and w=2: nodes 0-2 hold every key between them.
ok=0
for k in $(seq 1 20); do
  c=$(code -u alice:alice-pw -X PUT -d "v$k" "$n0/buckets/b/keys/k$k?w=2&dw=2")
  [ "$c" = 204 ] && ok=$((ok + 1))
done
[ "$ok" = 20 ] || fail "only $ok of 20 writes through node 0 were acknowledged"
# The rogue knows the users but not the secret: none of its writes reach the cluster.
for k in $(seq 1 20); do
  code -u alice:alice-pw -X PUT -d "rogue$k" "$rogue/buckets/b/keys/k$k?w=1&dw=1" >/dev/null
  code -u alice:alice-pw -X PUT -d "rogue$k" "$rogue/buckets/b/keys/new$k?w=1&dw=1" >/dev/null
done
sleep 3  # hinted handoff and anti-entropy would carry a rogue's value here if they could
for k in $(seq 1 20); do
  body=$(curl -s -m 10 -u alice:alice-pw "$n0/buckets/b/keys/k$k")
  case "$body" in *rogue*) fail "k$k holds the rogue's value: $body" ;; esac
  [ "$(code -u alice:alice-pw "$n0/buckets/b/keys/new$k")" = 404 ] || fail "the rogue's new$k reached the cluster"
done
grep -q "DvvRpcRefused" "$tmp/dvv0.err" "$tmp/dvv1.err" "$tmp/dvv2.err" ||
  fail "no member logged the refused handshake"
for i in 0 1 2 3; do serve_stop "${pids[$i]}" TERM "$tmp/dvv$i.out" || fail "dvv node $i: $serve_error"; done

# --- a non-loopback listen needs TLS or insecure = true
for component in dedup dvv; do
  extra=""
  [ "$component" = dvv ] && extra=$'node_id = 0\npeers = ["0.0.0.0:'$((base + 30))'"]'
  cat >"$tmp/open.toml" <<CONF
[node]
name = "open"
component = "$component"
listen = "0.0.0.0:$((base + 31))"
$extra
data_dir = "$tmp/open-$component"
cores = 1
pin = false
[$component]
CONF
  "$doppel" serve --config "$tmp/open.toml" >"$tmp/open.out" 2>"$tmp/open.err" &
  pid=$!
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    fail "$component served on 0.0.0.0 without insecure = true"
  else
    wait "$pid"
    grep -q "insecure = true" "$tmp/open.err" || fail "$component's refusal does not name insecure: $(cat "$tmp/open.err")"
  fi
  echo "insecure = true" >>"$tmp/open.toml"
  serve_start "$tmp/open.out" "$tmp/open.err" --config "$tmp/open.toml" ||
    fail "$component with insecure = true did not start: $(cat "$tmp/open.err")"
  serve_stop "$serve_pid" TERM "$tmp/open.out" || fail "$component (insecure): $serve_error"
done

[ "$failures" = 0 ] && echo "PASS" || { echo "$failures failures"; exit 1; }
