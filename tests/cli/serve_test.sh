#!/usr/bin/env bash
# doppel serve end to end on 127.0.0.1, with the test-only register
# component: it serves on both backends, keeps synced data across a restart,
# stops cleanly on SIGTERM and SIGINT (exit 0), refuses a port in use and bad
# configs (exit 2, naming the key), and refuses planted bugs.
# Every server started here is stopped by its pid.
set -u
doppel=${1:?usage: serve_test.sh DOPPEL_TEST_BINARY}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

port=$((20000 + RANDOM % 10000))
config() {  # config FILE BACKEND
  cat >"$1" <<CONF
[node]
name = "reg"
component = "register"
listen = "127.0.0.1:$port"
data_dir = "$tmp/data"
cores = 2
pin = false
backend = "$2"
CONF
}
ask() {  # ask "REQUEST LINES" -> prints the reply (bounded: 3 s)
  timeout 5 python3 - "$port" "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(sys.argv[2].encode())
want = sys.argv[2].count("\n")
data = b""
deadline = time.time() + 3
while data.count(b"\n") < want and time.time() < deadline:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().strip().replace("\n", "|"))
PY
}
start() {  # start CONFIG -> waits until it listens
  serve_start "$tmp/server.out" "$tmp/server.err" --config "$1"
}
stop() {  # stop SIGNAL -> checks exit 0 and a clean stop
  serve_stop "$serve_pid" "$1" "$tmp/server.out" || fail "$serve_error"
}

for backend in epoll uring; do
  config "$tmp/$backend.toml" "$backend"
  start "$tmp/$backend.toml" || { fail "$backend: server did not start"; cat "$tmp/server.err"; continue; }
  grep -q "$backend" "$tmp/server.out" || fail "$backend: the banner does not name the backend"
  got=$(ask $'SET 7\nGET\n')
  [ "$got" = "OK|VALUE 7" ] || fail "$backend: got '$got'"
  stop TERM
  start "$tmp/$backend.toml" || fail "$backend: restart failed"
  got=$(ask $'GET\n')
  [ "$got" = "VALUE 7" ] || fail "$backend: after restart got '$got'"
  # A second server on the same port: a clear error, exit 2.
  timeout 20 "$doppel" serve --config "$tmp/$backend.toml" >"$tmp/second.out" 2>"$tmp/second.err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "$backend: a port in use gave exit $rc"
  grep -q "address in use" "$tmp/second.err" || fail "$backend: no 'address in use' in: $(cat "$tmp/second.err")"
  stop INT
  echo "ok: serve on $backend"
done

config "$tmp/bad.toml" epoll
echo 'colour = "red"' >>"$tmp/bad.toml"
"$doppel" serve --config "$tmp/bad.toml" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "an unknown key was accepted"
grep -q "bad.toml:9: 'colour'" "$tmp/err" || fail "the unknown key is not named with its line: $(cat "$tmp/err")"
config "$tmp/bug.toml" epoll
sed -i 's/^component = "register"/component = "register"\nbug = "ack-before-sync"/' "$tmp/bug.toml"
"$doppel" serve --config "$tmp/bug.toml" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "a planted bug was served"
grep -q "'bug'" "$tmp/err" || fail "the bug key is not named: $(cat "$tmp/err")"
printf '[node]\ncomponent = "register"\n[register]\nspeed = 3\nlisten="x"\n' >"$tmp/settings.toml"
"$doppel" serve --config "$tmp/settings.toml" --listen "127.0.0.1:$port" --data-dir "$tmp/d2" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "an unknown component setting was accepted"
"$doppel" serve --config "$tmp/missing.toml" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing config was accepted"
echo "ok: bad configs are refused"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all checks passed"
