#!/usr/bin/env bash
# Limits of the HTTP services under hostile clients, on both backends at once (a backup server
# on each): a head that trickles in a byte at a time is cut off with 408 after the 20 s head
# deadline, a body slower than 500 B/s with 408 after its grace; a body announced past the limit
# is refused with 413 and a head past the limit with 431, each before it is read whole; the
# server still answers a normal client meanwhile. Every server is stopped by its pid.
set -u
doppel=${1:?usage: http_limits_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
base=$((21000 + RANDOM % 8000))
ports=()
for backend in epoll uring; do
  port=$((base + ${#ports[@]}))
  cat >"$tmp/$backend.toml" <<CONF
[node]
name = "dedup-$backend"
component = "dedup"
listen = "127.0.0.1:$port"
data_dir = "$tmp/$backend"
cores = 2
pin = false
backend = "$backend"
[dedup]
segment_mb = 1
CONF
  serve_start "$tmp/$backend.out" "$tmp/$backend.err" --config "$tmp/$backend.toml" ||
    { fail "$backend: did not start: $(cat "$tmp/$backend.err")"; exit 1; }
  ports+=("$port")
done

python3 - "${ports[@]}" <<'PY' || fail "the limits (above)"
import socket, sys, threading, time

results, lock = [], threading.Lock()

def report(ok, what):
    with lock:
        results.append((ok, what))

def answer(s, limit=10.0):
    s.settimeout(limit)
    got = b""
    try:
        while b"\r\n\r\n" not in got:
            piece = s.recv(4096)
            if not piece:
                break
            got += piece
    except socket.timeout:
        pass
    return got

def slow_head(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = b"GET /stats HTTP/1.1\r\nHost: h\r\nX-Padding: " + b"p" * 40 + b"\r\n\r\n"
    start, got = time.monotonic(), b""
    s.settimeout(2)
    for i in range(len(head)):
        try:
            s.sendall(head[i:i + 1])
            got = s.recv(4096)
            if got:
                break
        except socket.timeout:
            continue
        except OSError:
            break
    took = time.monotonic() - start
    report(got.startswith(b"HTTP/1.1 408") and b"request header section too slow" in got
           and 19 <= took <= 26, f"{port}: slow head: {got[:60]!r} after {took:.1f} s")

def slow_body(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /segments/query HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n")
    start, got = time.monotonic(), b""
    s.settimeout(1)
    while time.monotonic() - start < 40:
        try:
            s.sendall(b"0" * 100)  # 100 B/s
            got = s.recv(4096)
            if got:
                break
        except socket.timeout:
            continue
        except OSError:
            break
    took = time.monotonic() - start
    report(got.startswith(b"HTTP/1.1 408") and b"request body too slow" in got
           and 20 <= took <= 32, f"{port}: slow body: {got[:60]!r} after {took:.1f} s")

def too_large(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    start = time.monotonic()
    s.sendall(b"PUT /segments/" + b"a" * 64 + b" HTTP/1.1\r\nHost: h\r\nContent-Length: 10737418240\r\n\r\n")
    got = answer(s)
    report(got.startswith(b"HTTP/1.1 413") and time.monotonic() - start < 2,
           f"{port}: a 10 GiB body announced: {got[:60]!r}")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /stats HTTP/1.1\r\nHost: h\r\n" + b"X-Big: " + b"x" * 40000 + b"\r\n\r\n")
    got = answer(s)
    report(got.startswith(b"HTTP/1.1 431"), f"{port}: a 40 KB head: {got[:60]!r}")

def still_serving(port):
    time.sleep(5)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /stats HTTP/1.1\r\nHost: h\r\n\r\n")
    got = answer(s)
    report(got.startswith(b"HTTP/1.1 200"), f"{port}: a normal client meanwhile: {got[:40]!r}")

threads = [threading.Thread(target=f, args=(int(p),))
           for p in sys.argv[1:] for f in (slow_head, slow_body, too_large, still_serving)]
for t in threads:
    t.start()
for t in threads:
    t.join()
bad = [w for ok, w in results if not ok]
for ok, w in results:
    print(("ok   " if ok else "FAIL ") + w)
sys.exit(1 if bad or len(results) != 5 * (len(sys.argv) - 1) else 0)
PY
pids=("${serve_pids[@]}")
names=(epoll uring)
for i in 0 1; do
  serve_stop "${pids[$i]}" TERM "$tmp/${names[$i]}.out" || fail "${names[$i]}: $serve_error"
done
[ "$failures" -eq 0 ] && echo "http limits: slow heads and bodies, oversized requests, on both backends"
exit "$failures"
