#!/usr/bin/env bash
# doppel serve with per-core ports ([kv] core_ports) against libmemcached's own tools:
# memccp given the cores' ports as its server list, with --hash=murmur3 (libmemcached's modula
# distribution), sends every key to the core that owns it when the node owns keys by
# owner_hash = "libmemcached-murmur3": "stats cores" shows nothing forwarded. With the paper's
# owner function the same client's keys land on the wrong core about half the time and are
# forwarded, and every value is still read back through the shared port. On 2 and 3 cores,
# epoll and io_uring. Every server is stopped by its pid; every client is bounded.
set -u
doppel=${1:?usage: kv_core_ports_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for tool in memccp memccat; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done

# stats_forwarded PORT: the sum of every core's forwarded_in, from "stats cores".
stats_forwarded() {
  timeout 10 /usr/bin/python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"stats cores\r\n")
data = b""
while not data.endswith(b"END\r\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
total = 0
for line in data.decode().splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1].endswith(":forwarded_in"):
        total += int(parts[2])
print(total)
PY
}

mkdir -p "$tmp/files"
for i in $(seq 1 60); do head -c $((100 + i * 37)) /dev/urandom >"$tmp/files/item$i"; done

for backend in epoll uring; do
  for cores in 2 3; do
    for hash in libmemcached-murmur3 murmur3; do
      port=$((20000 + RANDOM % 10000))
      base=$((port + 100))
      cat >"$tmp/kv.toml" <<CONF
[node]
component = "kv"
listen = "127.0.0.1:$port"
data_dir = "$tmp/data"
cores = $cores
pin = false
backend = "$backend"
[kv]
memory_mb = 64
core_ports = $base
owner_hash = "$hash"
CONF
      what="$backend, $cores cores, owner_hash $hash"
      serve_start "$tmp/out" "$tmp/err" --config "$tmp/kv.toml" ||
        { fail "$what: the server did not start: $(cat "$tmp/err")"; serve_kill_all; continue; }
      servers=""
      for c in $(seq 0 $((cores - 1))); do servers+="${servers:+,}127.0.0.1:$((base + c))"; done
      (cd "$tmp/files" && timeout 30 memccp --servers="$servers" --hash=murmur3 item*) ||
        fail "$what: memccp to $servers"
      forwarded=$(stats_forwarded "$port")
      if [ "$hash" = libmemcached-murmur3 ]; then
        [ "$forwarded" = 0 ] || fail "$what: $forwarded of 60 keys were forwarded, wanted none"
      else
        [ "${forwarded:-0}" -gt 0 ] || fail "$what: nothing forwarded with the paper's hash (the check is blind)"
      fi
      for i in 1 17 33 60; do
        timeout 10 memccat --servers="127.0.0.1:$port" "item$i" >"$tmp/back" 2>/dev/null
        head -c "$(stat -c %s "$tmp/files/item$i")" "$tmp/back" | cmp -s "$tmp/files/item$i" - ||
          fail "$what: item$i read back through the shared port differs"
      done
      echo "$what: $forwarded of 60 keys forwarded"
      serve_stop "$serve_pid" TERM "$tmp/out" || fail "$what: $serve_error"
    done
  done
done

# A listen port among the per-core ports is refused before anything listens.
cat >"$tmp/bad.toml" <<CONF
[node]
component = "kv"
listen = "127.0.0.1:21001"
data_dir = "$tmp/data"
cores = 2
pin = false
[kv]
core_ports = 21000
CONF
timeout 20 "$doppel" serve --config "$tmp/bad.toml" >/dev/null 2>"$tmp/bad.err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "core_ports: ports 21000..21001 take in the listen port 21001" "$tmp/bad.err" ||
  fail "an overlapping core_ports gave exit $rc: $(cat "$tmp/bad.err")"

[ "$failures" -eq 0 ] && echo "ok: per-core ports route libmemcached's keys to their owners"
exit "$failures"
