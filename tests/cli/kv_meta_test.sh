#!/usr/bin/env bash
# The meta commands (mg, ms, md, ma, mn, me) against memcached itself: every exchange of
# kv_meta_lines.txt goes to Debian's memcached and to doppel serve (epoll and io_uring, two
# cores, so that keys are forwarded), and the replies must be the same bytes once CAS uniques
# are masked (and me's la=, cls= and size=, which the store has its own way). Then what doppel
# answers on purpose otherwise (meta.cc): "l" is refused.
# Everything on 127.0.0.1; each server is stopped by its pid; each exchange is bounded.
set -u
doppel=${1:?usage: kv_meta_test.sh DOPPEL_BINARY}
here=$(dirname "$0")
tmp=$(mktemp -d)
. "$here/serve_lib.sh"
memcached_pid=""
trap 'serve_kill_all; [ -n "$memcached_pid" ] && kill "$memcached_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
command -v memcached >/dev/null || { echo "FAIL: memcached is not installed (scripts/setup.sh installs it)"; exit 1; }

# exchange PORT FILE: sends each line of FILE (escapes decoded) on its own connection, prints
# the replies with CAS uniques masked, one block per line.
exchange() {
  timeout 120 /usr/bin/python3 - "$1" "$2" <<'PY'
import re, socket, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
for line in open(path, encoding="latin-1"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    data = line.encode("latin-1").decode("unicode_escape").encode("latin-1")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    # A marker no line uses: the replies are complete when its miss comes back.
    s.sendall(data + b"mg end-of-exchange k\r\n")
    marker = b"EN kend-of-exchange\r\n"
    out = b""
    deadline = time.time() + 5
    while not out.endswith(marker) and time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    text = out[: -len(marker)].decode("latin-1") if out.endswith(marker) else "INCOMPLETE " + out.decode("latin-1")
    text = re.sub(r"(?<= )c[0-9]+", "c#", text)
    text = re.sub(r"cas=[0-9]+", "cas=#", text)
    # me: the store keeps no access time (no la=); its classes are cores, its sizes its own.
    text = re.sub(r" la=[0-9]+", "", text)
    text = re.sub(r"cls=[0-9]+ size=[0-9]+", "cls=# size=#", text)
    print("== " + line)
    print(text.replace("\r\n", "\\r\\n\n"), end="")
PY
}

mport=$((20000 + RANDOM % 5000))
memcached -p "$mport" -l 127.0.0.1 -U 0 -t 2 -u root >/dev/null 2>&1 &
memcached_pid=$!
for _ in $(seq 50); do
  /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $mport), timeout=1)" 2>/dev/null && break
  sleep 0.1
done
exchange "$mport" "$here/kv_meta_lines.txt" >"$tmp/memcached.out" || fail "memcached: the exchange failed"
kill "$memcached_pid"; wait "$memcached_pid" 2>/dev/null; memcached_pid=""
[ "$(grep -c '^== ' "$tmp/memcached.out")" -ge 10 ] || fail "memcached answered too few exchanges"

for backend in epoll uring; do
  port=$((25000 + RANDOM % 5000))
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
  exchange "$port" "$here/kv_meta_lines.txt" >"$tmp/doppel.out" || fail "$backend: the exchange failed"
  diff -u "$tmp/memcached.out" "$tmp/doppel.out" >"$tmp/diff" ||
    { fail "$backend: replies differ from memcached's:"; head -n 40 "$tmp/diff"; }
  # On purpose: the store keeps no access times, so "l" is refused rather than answered wrong.
  printf 'mg k1 v l\\r\\n' >"$tmp/l.txt"
  exchange "$port" "$tmp/l.txt" | grep -q '^CLIENT_ERROR invalid flag' ||
    fail "$backend: mg with l was not refused"
  serve_stop "$serve_pid" TERM "$tmp/out" || fail "$backend: $serve_error"
done

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "kv meta commands: $(grep -c '^== ' "$tmp/memcached.out") exchanges answered as memcached on epoll and uring"
