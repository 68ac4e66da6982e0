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

  # An HTTP request line (a browser, a web page's script) is closed without a reply.
  timeout 10 /usr/bin/python3 - "$port" <<'PY' || fail "$backend: an HTTP request line was not closed"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"GET / HTTP/1.1\r\nHost: cache\r\n\r\nset k 0 0 1\r\nx\r\n")
assert s.recv(100) == b"", "a reply to an HTTP request line"
PY

  # memcached's own tool (Debian ships it with memcached): stats, settings, sizes, the slab
  # display, dump and keys (lru_crawler metadump), and stats reset starting the counts over.
  tool=/usr/share/memcached/scripts/memcached-tool
  if [ -f "$tool" ]; then
    timeout 10 /usr/bin/python3 - "$port" <<'PY' || fail "$backend: setting keys for memcached-tool"
import sys
from pymemcache.client.base import Client
c = Client(("127.0.0.1", int(sys.argv[1])), connect_timeout=3, timeout=3, default_noreply=False)
for i in range(50):
    assert c.set("tool%d" % i, b"x" * 100)
assert c.get("tool1") == b"x" * 100
PY
    timeout 10 perl "$tool" "127.0.0.1:$port" stats >"$tmp/tool.stats" 2>&1 &&
      grep -qE '^ +curr_items +50[[:space:]]*$' "$tmp/tool.stats" || fail "$backend: memcached-tool stats"
    timeout 10 perl "$tool" "127.0.0.1:$port" settings >"$tmp/tool.settings" 2>&1 &&
      grep -qE '^ +num_threads +2[[:space:]]*$' "$tmp/tool.settings" || fail "$backend: memcached-tool settings"
    timeout 10 perl "$tool" "127.0.0.1:$port" sizes >"$tmp/tool.sizes" 2>&1 &&
      grep -q 'sizes_status' "$tmp/tool.sizes" || fail "$backend: memcached-tool sizes"
    # The display: a row per core with segments in use ("class" = core + 1), its items counted.
    timeout 10 perl "$tool" "127.0.0.1:$port" display >"$tmp/tool.display" 2>&1 &&
      grep -q 'Item_Size' "$tmp/tool.display" &&
      [ "$(awk 'NR > 1 { n += $5 } END { print n }' "$tmp/tool.display")" = 50 ] ||
      { fail "$backend: memcached-tool display"; cat "$tmp/tool.display"; }
    # dump: lru_crawler metadump, then a get of each key, written out as add commands.
    timeout 20 perl "$tool" "127.0.0.1:$port" dump >"$tmp/tool.dump" 2>/dev/null &&
      [ "$(grep -c '^add tool[0-9]* 0 -\?[0-9]* 100' "$tmp/tool.dump")" = 50 ] ||
      { fail "$backend: memcached-tool dump"; head -n 5 "$tmp/tool.dump"; }
    timeout 10 perl "$tool" "127.0.0.1:$port" keys >"$tmp/tool.keys" 2>/dev/null &&
      [ "$(grep -c '^key=tool' "$tmp/tool.keys")" = 50 ] || fail "$backend: memcached-tool keys"
    timeout 10 /usr/bin/python3 - "$port" <<'PY' || fail "$backend: stats reset"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"stats reset\r\nstats\r\n")
got = b""
while not got.endswith(b"END\r\n"):
    chunk = s.recv(65536)
    assert chunk, "closed"
    got += chunk
assert got.startswith(b"RESET\r\n"), got[:40]
stats = dict(l.split(b" ")[1:3] for l in got.split(b"\r\n") if l.startswith(b"STAT "))
assert stats[b"get_hits"] == b"0" and stats[b"cmd_set"] == b"0", stats
assert stats[b"curr_items"] == b"50", stats  # what the cache holds stays
s.sendall(b"stats conns\r\n")
got = b""
while not got.endswith(b"END\r\n"):
    chunk = s.recv(65536)
    assert chunk, "closed"
    got += chunk
assert b":addr tcp:127.0.0.1:" in got and b":secs_since_last_cmd " in got, got[:200]
PY
  fi

  serve_stop "$serve_pid" TERM "$tmp/out" || fail "$backend: $serve_error"
  echo "ok: kv on $backend serves memccapable, memcaslap ($tps TPS), memccp/memccat, pymemcache" \
    "and memcached-tool"
done
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all checks passed"
