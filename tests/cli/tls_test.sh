#!/usr/bin/env bash
# TLS end to end, with certificates this test makes (its own CA, a server certificate for
# 127.0.0.1): a backup server on each backend serves HTTPS that curl and `doppel backup`
# verify (a put and a restore over https:// with --ca-file and a user), and refuses to be
# trusted without the CA; a plain-HTTP client gets nothing from it; a three-node DVV cluster
# speaks HTTPS to clients and TLS between its nodes (a write with w=3 is acknowledged only if
# the nodes reached each other); a non-loopback listen with TLS needs no insecure = true.
# Every server is stopped by its pid.
set -u
doppel=${1:?usage: tls_test.sh DOPPEL_BINARY}
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
command -v htpasswd >/dev/null || { echo "SKIP: htpasswd (apache2-utils) is not installed"; exit 77; }
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
base=$((21000 + RANDOM % 8000))

# A CA, and a certificate it signs for 127.0.0.1; another CA that signed nothing of ours.
(
  cd "$tmp"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=doppel test CA" -keyout ca.key -out ca.pem
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout server.key -out server.csr
  printf 'subjectAltName = IP:127.0.0.1\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out server.pem
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=another CA" -keyout other.key -out other.pem
) >/dev/null 2>&1 || { fail "openssl could not make the certificates"; exit 1; }
htpasswd -cbB "$tmp/users" alice alice-pw 2>/dev/null
echo alice-pw >"$tmp/alice.pw"
head -c 2500000 /dev/urandom >"$tmp/disk.img"

i=0
for backend in epoll uring; do
  port=$((base + i))
  i=$((i + 1))
  cat >"$tmp/$backend.toml" <<CONF
[node]
name = "dedup-$backend"
component = "dedup"
listen = "127.0.0.1:$port"
data_dir = "$tmp/data-$backend"
cores = 2
pin = false
backend = "$backend"
[dedup]
segment_mb = 1
users_file = "users"
tls_cert_file = "server.pem"
tls_key_file = "server.key"
CONF
  serve_start "$tmp/$backend.out" "$tmp/$backend.err" --config "$tmp/$backend.toml" ||
    { fail "$backend: did not start: $(cat "$tmp/$backend.err")"; continue; }
  pid=$serve_pid
  url="https://127.0.0.1:$port"
  got=$(curl -s -m 10 --cacert "$tmp/ca.pem" -u alice:alice-pw -o /dev/null -w '%{http_code}' "$url/info")
  [ "$got" = 200 ] || fail "$backend: curl over HTTPS with the CA: $got"
  got=$(curl -s -m 10 --cacert "$tmp/ca.pem" -o /dev/null -w '%{http_code}' "$url/info")
  [ "$got" = 401 ] || fail "$backend: HTTPS without credentials: $got, not 401"
  curl -s -m 10 --cacert "$tmp/other.pem" -u alice:alice-pw -o /dev/null "$url/info"
  [ $? = 60 ] || fail "$backend: curl trusted the server with another CA"
  got=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/info")
  [ "$got" = 200 ] && fail "$backend: plain HTTP was answered on the HTTPS port"
  b() { "$doppel" backup "$@" --server "$url" --user alice --password-file "$tmp/alice.pw"; }
  b put "$tmp/disk.img" --image vm --ca-file "$tmp/ca.pem" >/dev/null 2>"$tmp/err" ||
    fail "$backend: backup put over HTTPS: $(cat "$tmp/err")"
  b get vm@latest -o "$tmp/back-$backend.img" --ca-file "$tmp/ca.pem" 2>"$tmp/err" ||
    fail "$backend: backup get over HTTPS: $(cat "$tmp/err")"
  cmp -s "$tmp/disk.img" "$tmp/back-$backend.img" || fail "$backend: the restore over HTTPS differs"
  b ls --ca-file "$tmp/other.pem" >/dev/null 2>"$tmp/err" && fail "$backend: backup trusted another CA"
  grep -qi "certificate" "$tmp/err" || fail "$backend: a failed verification does not say so: $(cat "$tmp/err")"
  b ls >/dev/null 2>&1 && fail "$backend: backup trusted the test CA without --ca-file"
  serve_stop "$pid" TERM "$tmp/$backend.out" || fail "$backend: $serve_error"
done

# DVV: HTTPS for clients, TLS between nodes, with the cluster secret too.
head -c 32 /dev/urandom | base64 >"$tmp/cluster.secret"
peers="\"127.0.0.1:$((base + 20))\", \"127.0.0.1:$((base + 21))\", \"127.0.0.1:$((base + 22))\""
pids=()
for n in 0 1 2; do
  cat >"$tmp/n$n.toml" <<CONF
[node]
name = "dvv-$n"
component = "dvv"
node_id = $n
listen = "127.0.0.1:$((base + 10 + n))"
peers = [$peers]
data_dir = "$tmp/dvv-$n"
cores = 1
pin = false
[dvv]
partitions = 16
users_file = "users"
cluster_secret_file = "cluster.secret"
tls_cert_file = "server.pem"
tls_key_file = "server.key"
tls_ca_file = "ca.pem"
CONF
  serve_launch "$tmp/dvv$n.out" "$tmp/dvv$n.err" --config "$tmp/n$n.toml"
  pids+=("$serve_pid")
done
for n in 0 1 2; do
  serve_await "${pids[$n]}" "$tmp/dvv$n.out" || { fail "dvv node $n did not start: $(cat "$tmp/dvv$n.err")"; }
done
c() { curl -s -m 10 --cacert "$tmp/ca.pem" -u alice:alice-pw "$@"; }
sleep 1
got=$(c -o /dev/null -w '%{http_code}' -X PUT -d 'over-tls' "https://127.0.0.1:$((base + 10))/buckets/b/keys/k?w=3&dw=3")
[ "$got" = 204 ] || fail "dvv: a w=3 PUT over TLS answered $got (the nodes did not reach each other?)"
[ "$(c "https://127.0.0.1:$((base + 12))/buckets/b/keys/k")" = over-tls ] || fail "dvv: another node does not read it back"
for n in 0 1 2; do serve_stop "${pids[$n]}" TERM "$tmp/dvv$n.out" || fail "dvv node $n: $serve_error"; done

# A non-loopback listen with TLS needs no insecure = true.
cat >"$tmp/open.toml" <<CONF
[node]
name = "open"
component = "dedup"
listen = "0.0.0.0:$((base + 30))"
data_dir = "$tmp/open"
cores = 1
pin = false
[dedup]
tls_cert_file = "server.pem"
tls_key_file = "server.key"
CONF
serve_start "$tmp/open.out" "$tmp/open.err" --config "$tmp/open.toml" ||
  fail "TLS on 0.0.0.0 did not start: $(cat "$tmp/open.err")"
[ "$(curl -s -m 10 --cacert "$tmp/ca.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$((base + 30))/info")" = 200 ] ||
  fail "TLS on 0.0.0.0 does not answer"
serve_stop "$serve_pid" TERM "$tmp/open.out" || fail "open: $serve_error"

[ "$failures" = 0 ] && echo "PASS" || { echo "$failures failures"; exit 1; }
