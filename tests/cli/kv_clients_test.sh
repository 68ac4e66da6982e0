#!/usr/bin/env bash
# doppel serve with the kv component, on 127.0.0.1, against real memcached
# clients from Debian: libmemcached's memccapable (protocol conformance),
# memcaslap (load), memccp/memccat, and python3-pymemcache; on epoll and on
# io_uring. Every server is stopped by its pid; every client is bounded.
set -u
doppel=${1:?usage: kv_clients_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for tool in memccapable memcaslap memccp memccat; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done
/usr/bin/python3 -c "import pymemcache" 2>/dev/null || { echo "FAIL: python3-pymemcache is not installed"; exit 1; }

for backend in epoll uring; do
  port=$((20000 + RANDOM % 10000))
  cat >"$tmp/kv.toml" <<CONF
[node]
component = "kv"
listen = "127.0.0.1:$port"
data_dir = "$tmp/data"
cores = 2
pin = false
backend = "$backend"
[kv]
memory_mb = 64
CONF
  serve_start "$tmp/out" "$tmp/err" --config "$tmp/kv.toml" ||
    { fail "$backend: the server did not start: $(cat "$tmp/err")"; serve_kill_all; continue; }

  # A second server on the same port must fail, not silently share it.
  timeout 20 "$doppel" serve --config "$tmp/kv.toml" >/dev/null 2>"$tmp/second.err"
  rc=$?
  [ "$rc" -eq 2 ] && grep -q "address in use" "$tmp/second.err" ||
    fail "$backend: a second server on the port gave exit $rc: $(cat "$tmp/second.err")"

  timeout 60 memccapable -h 127.0.0.1 -p "$port" -a >"$tmp/capable" 2>&1
  if ! grep -q "All tests passed" "$tmp/capable"; then
    fail "$backend: memccapable: $(grep -v pass "$tmp/capable" | head -5)"
  fi

  timeout 30 memcaslap -s "127.0.0.1:$port" -t 2s -c 8 -T 1 >"$tmp/slap" 2>&1
  tps=$(sed -n 's/.*TPS: \([0-9]*\).*/\1/p' "$tmp/slap" | tail -n 1)
  [ "${tps:-0}" -gt 100 ] || fail "$backend: memcaslap: $(tail -n 3 "$tmp/slap")"

  head -c 100000 /dev/urandom >"$tmp/blob.bin"
  (cd "$tmp" && timeout 10 memccp --servers="127.0.0.1:$port" blob.bin) || fail "$backend: memccp"
  # memccat prints the value and a newline.
  timeout 10 memccat --servers="127.0.0.1:$port" blob.bin >"$tmp/blob.back" 2>/dev/null
  head -c 100000 "$tmp/blob.back" | cmp -s "$tmp/blob.bin" - ||
    fail "$backend: memccat did not return what memccp stored"

  timeout 30 /usr/bin/python3 - "$port" <<'PY' || fail "$backend: pymemcache"
import sys
from pymemcache.client.base import Client
c = Client(("127.0.0.1", int(sys.argv[1])), connect_timeout=3, timeout=3, default_noreply=False)
assert c.set("k", b"v" * 1000)
assert c.get("k") == b"v" * 1000
c.set_many({"a": b"1", "b": b"2"})
assert c.get_many(["a", "b", "missing"]) == {"a": b"1", "b": b"2"}
assert c.incr("a", 41) == 42
value, cas = c.gets("a")
assert c.cas("a", b"43", cas) and not c.cas("a", b"44", cas)
assert c.add("a", b"x") is False and c.replace("zz", b"x") is False
assert c.append("b", b"3") and c.get("b") == b"23"
assert c.delete("b") and c.get("b") is None
assert c.touch("k", 100)
c.flush_all()
assert c.get("k") is None
stats = c.stats()
assert int(stats[b"threads"]) == 2 and b"curr_items" in stats
PY

  serve_stop "$serve_pid" TERM "$tmp/out" || fail "$backend: $serve_error"
  echo "ok: kv on $backend serves memccapable, memcaslap ($tps TPS), memccp/memccat and pymemcache"
done
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all checks passed"
