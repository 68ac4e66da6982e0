#!/usr/bin/env bash
# Limits under load, on both backends: a KV node holds ten thousand idle connections and still
# answers a new client at once; past [kv] connections_max a connection gets memcached's own
# "ERROR Too many open connections" and is closed. Every server is stopped by its pid.
set -u
doppel=${1:?usage: limits_test.sh DOPPEL_BINARY}
idle=${IDLE_CONNECTIONS:-10000}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# This shell's clients hold one descriptor per connection too.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle + 100)) ]; then
  echo "SKIP: the descriptor limit ($(ulimit -Hn)) is under $((idle + 100))"
  exit 77
fi
port=$((21000 + RANDOM % 8000))

node() {  # node BACKEND CONNECTIONS_MAX CORES
  cat >"$tmp/kv.toml" <<CONF
[node]
name = "kv-0"
component = "kv"
listen = "127.0.0.1:$port"
data_dir = "$tmp/kv"
cores = $3
pin = false
backend = "$1"
[kv]
memory_mb = 16
connections_max = $2
CONF
  serve_start "$tmp/out" "$tmp/err" --config "$tmp/kv.toml"
}

for backend in epoll uring; do
  node "$backend" $((idle + 100)) 2 || { fail "$backend: did not start: $(cat "$tmp/err")"; continue; }
  python3 - "$port" "$idle" <<'PY' || fail "$backend: $idle idle connections"
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    held.append(s)
# Every one of them is served (a few, spread over the lot), and a new client is answered at once.
for s in held[:: n // 20]:
    s.sendall(b"version\r\n")
    assert s.recv(100).startswith(b"VERSION"), "an idle connection was not served"
# Every one accepted (not waiting in the listen backlog) before the new client comes.
probe = socket.create_connection(("127.0.0.1", port), timeout=10)
for _ in range(100):
    probe.sendall(b"stats\r\n")
    stats = b""
    while not stats.endswith(b"END\r\n"):
        stats += probe.recv(65536)
    if int(stats.split(b"STAT curr_connections ")[1].split(b"\r\n")[0]) >= n + 1:
        break
    time.sleep(0.05)
c = socket.create_connection(("127.0.0.1", port), timeout=10)
start = time.monotonic()
c.sendall(b"set k 0 0 1\r\nv\r\nget k\r\nstats\r\n")
got = b""
while not got.endswith(b"END\r\n") or got.count(b"END\r\n") < 2:
    piece = c.recv(65536)
    assert piece, "closed"
    got += piece
took = time.monotonic() - start
assert b"VALUE k 0 1\r\nv\r\n" in got, got[:200]
curr = int(got.split(b"STAT curr_connections ")[1].split(b"\r\n")[0])
assert curr >= n + 2, f"curr_connections {curr}"
assert took < 2, f"a new client waited {took:.2f} s"
print(f"{n} idle connections held; a new client answered in {took * 1000:.1f} ms")
for s in held:
    s.close()
PY
  serve_stop "$serve_pid" TERM "$tmp/out" || fail "$backend: $serve_error"

  # The limit: 2 connections on one core; the third is turned away as memcached does.
  node "$backend" 2 1 || { fail "$backend: did not start: $(cat "$tmp/err")"; continue; }
  python3 - "$port" <<'PY' || fail "$backend: the connection limit"
import socket, sys
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
for s in held:
    s.sendall(b"version\r\n")
    assert s.recv(100).startswith(b"VERSION")
third = socket.create_connection(("127.0.0.1", port), timeout=10)
got = b""
while True:
    piece = third.recv(100)
    if not piece:
        break
    got += piece
assert got == b"ERROR Too many open connections\r\n", got
held[0].close()
# A slot freed is a slot taken again.
for _ in range(50):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"version\r\n")
    if s.recv(100).startswith(b"VERSION"):
        break
    s.close()
else:
    raise AssertionError("the freed slot was never given again")
PY
  serve_stop "$serve_pid" TERM "$tmp/out" || fail "$backend: $serve_error"
done
[ "$failures" -eq 0 ] && echo "limits: $idle idle connections and the connection limit on both backends"
exit "$failures"
