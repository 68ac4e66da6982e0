#!/usr/bin/env bash
# The dedup backup server end to end on 127.0.0.1: doppel serve with the dedup component and the
# doppel backup client. Versions of two images (shared regions, zero regions, edits, an append)
# go up and come back byte-identical; the space shows dedup; a range read, a removal, gc, a
# restart, verify clean and then verify finding a corrupted segment file; the wire format checked
# by an independent manifest encoder (python); bad input, and the server down. Every server is
# stopped by its pid; every client call is bounded.
set -u
doppel=${1:?usage: backup_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
port=$((20000 + RANDOM % 10000))
server="http://127.0.0.1:$port"
data="$tmp/data"
cat >"$tmp/dedup.toml" <<CONF
[node]
component = "dedup"
listen = "127.0.0.1:$port"
data_dir = "$data"
cores = 2            # requests accepted on core 1 run on core 0, where the store is
pin = false
[dedup]
segment_mb = 1
unreferenced_ttl_s = 0
CONF

start() {  # waits until it listens
  serve_start "$tmp/server.out" "$tmp/server.err" --config "$tmp/dedup.toml" && return 0
  echo "FAIL: the server did not start: $(cat "$tmp/server.err")"
  exit 1
}
stop() {  # SIGTERM: exit 0 and a clean stop
  serve_stop "$serve_pid" TERM "$tmp/server.out" || fail "serve: $serve_error"
}
backup() { timeout 60 "$doppel" backup "$@" --server "$server"; }
http() { curl -s --max-time 10 "$@"; }
code_of() {  # code_of OUT CURL-ARGS...: the status; the body goes to OUT
  local out=$1
  shift
  curl -s --max-time 10 -o "$out" -w "%{http_code}" "$@"
}
json() {  # json PATH EXPR: a field of the server's JSON answer, d
  http "$server$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}

# Images of a few MiB (segments of 1 MiB): random regions, zero regions, shared regions
# between the images, edits of a few blocks, an append.
python3 - "$tmp" <<'PY'
import random, sys
d = sys.argv[1]
rng = random.Random(7)
MiB = 1 << 20
def rand(n): return rng.randbytes(n)
shared = rand(3 * MiB)
a1 = bytearray(rand(2 * MiB) + bytes(MiB) + shared + rand(MiB // 2 + 1234))
a2 = bytearray(a1)
for off in (4096 * 10, 4096 * 300, 2 * MiB + 3 * 4096):  # edit blocks (one in the zero region)
    a2[off:off + 100] = rand(100)
a3 = bytearray(a2) + rand(MiB)                             # append
a3[MiB:MiB + 64 * 4096] = bytes(64 * 4096)                 # zero a range
b1 = bytearray(rand(MiB) + shared + bytes(2 * MiB) + rand(4096 * 7))
b2 = bytearray(b1)
b2[5 * MiB + 17:5 * MiB + 4000] = rand(3983)
c1 = bytearray(b1)  # a clone of b1 edited every 16 blocks: every segment differs from b1's
for off in range(4096 * 3, len(c1) - 100, 4096 * 16):
    c1[off:off + 100] = rand(100)
for name, data in (("a1", a1), ("a2", a2), ("a3", a3), ("b1", b1), ("b2", b2), ("c1", c1)):
    open(f"{d}/{name}.img", "wb").write(data)
PY

start
# --- put: several versions of two images
expect_version() {  # IMAGE FILE WANT
  local got
  got=$(backup put "$tmp/$2.img" --image "$1" 2>"$tmp/put.err")
  [ "$got" = "$3" ] || fail "put $2 as $1 printed '$got', wanted version $3: $(cat "$tmp/put.err")"
  grep -q "deduplicated" "$tmp/put.err" || fail "put $2: no summary line: $(cat "$tmp/put.err")"
}
expect_version vm-a a1 1
expect_version vm-a a2 2
expect_version vm-a a3 3
expect_version vm-b b1 1
grep -q "[1-9][0-9]* deduplicated" "$tmp/put.err" ||
  fail "b1 shares 3 MiB with a1 but nothing was deduplicated: $(cat "$tmp/put.err")"
expect_version vm-b b2 2
expect_version vm-c c1 1
# Upload avoidance: most of the 1000-odd blocks of the clone that vm-b holds were never sent.
grep -qE "; [0-9]+ blocks found in other segments \(([5-9][0-9]{2}|[1-9][0-9]{3,}) of them not sent\)" \
  "$tmp/put.err" || fail "c1 sent what vm-b's segments hold: $(cat "$tmp/put.err")"
echo "ok: put 6 versions of 3 images"

# --- dedup happened: stored well below logical, and the accounting balances
logical=$(json /stats 'd["logical_bytes"]')
stored=$(json /stats 'd["stored_bytes"]')
[ "$(json /stats 'd["balanced"]')" = "True" ] || fail "the space accounting does not balance"
[ "$((stored * 3))" -lt "$logical" ] ||
  fail "stored $stored bytes of $logical logical: little dedup"
echo "ok: $stored bytes stored for $logical logical"

# --- get every version back byte-identical, and the latest by default
check_get() {  # NAME[@V] FILE
  rm -f "$tmp/out.img"
  if ! backup get "$1" -o "$tmp/out.img" 2>"$tmp/get.err"; then
    fail "get $1: $(cat "$tmp/get.err")"
    return
  fi
  cmp -s "$tmp/out.img" "$tmp/$2.img" || fail "get $1 is not $2"
  [ ! -e "$tmp/out.img.tmp" ] || fail "get $1 left out.img.tmp"
}
for v in 1 2 3; do check_get "vm-a@$v" "a$v"; done
for v in 1 2; do check_get "vm-b@$v" "b$v"; done
check_get vm-a a3
check_get vm-b@latest b2
check_get vm-c c1
echo "ok: every version restores byte-identical"

# --- ranges and HEAD with curl
http -r 1000-99999 -D "$tmp/range.head" -o "$tmp/range.out" "$server/images/vm-a/versions/2"
head -c 100000 "$tmp/a2.img" | tail -c 99000 | cmp -s - "$tmp/range.out" || fail "range 1000-99999"
grep -q "^HTTP/1.1 206" "$tmp/range.head" || fail "a range is not 206: $(head -1 "$tmp/range.head")"
size2=$(stat -c %s "$tmp/a2.img")
grep -qi "^Content-Range: bytes 1000-99999/$size2" "$tmp/range.head" || fail "no Content-Range"
code=$(code_of /dev/null -r "$size2-" "$server/images/vm-a/versions/2")
[ "$code" = "416" ] || fail "a range past the end gave $code"
http -r -5000 "$server/images/vm-b/versions/latest" | cmp -s - <(tail -c 5000 "$tmp/b2.img") ||
  fail "a suffix range of latest"
http -I "$server/images/vm-a/versions/3" >"$tmp/head"
grep -qi "^Content-Length: $(stat -c %s "$tmp/a3.img")" "$tmp/head" ||
  fail "HEAD: $(cat "$tmp/head")"
grep -qi "^X-Doppel-Version: 3" "$tmp/head" || fail "HEAD: no version"
echo "ok: ranges (206, 416, suffix) and HEAD"

# --- the clone's blocks were found in vm-b's segments (cross-image dedup): it cost its edits
cross=$(json /stats 'd["cross_deduped_bytes"]')
[ "$cross" -gt $((3 * 1024 * 1024)) ] || fail "cross-image dedup saved only $cross bytes of vm-c"
backup stats >"$tmp/stats" || fail "stats"
grep -qE "^  cross-image dedup +[0-9.]+ [KMG]iB +[0-9.]+ %" "$tmp/stats" &&
  grep -qE "^  vm-c +1 +[0-9.]+ [KMG]iB +[0-9]+ +[0-9.]+ +[0-9.]+ +0$" "$tmp/stats" ||
  fail "stats: $(cat "$tmp/stats")"
segments=$(json /images/vm-c/versions/latest/layout 'd["segments"]')
[ "$segments" -ge 2 ] || fail "vm-c's latest reads from $segments segments, wanted its own and vm-b's"
code=$(code_of /dev/null "$server/images/vm-c/versions/9/layout")
[ "$code" = "404" ] || fail "the layout of a version that is not there: $code"
echo "ok: cross-image dedup saved $cross bytes; stats and layout"

# --- ls
backup ls >"$tmp/ls" || fail "ls"
grep -qE "^vm-a +3 +1 +3 " "$tmp/ls" && grep -qE "^vm-b +2 +1 +2 " "$tmp/ls" ||
  fail "ls: $(cat "$tmp/ls")"
backup ls vm-a >"$tmp/ls" || fail "ls vm-a"
[ "$(grep -cE '^[0-9]+ ' "$tmp/ls")" = 3 ] || fail "ls vm-a: $(cat "$tmp/ls")"
echo "ok: ls"

# --- rm the oldest: the rest still restores and the space went down
backup rm vm-a@1 >"$tmp/rm" 2>&1 || fail "rm vm-a@1: $(cat "$tmp/rm")"
stored_after=$(json /stats 'd["stored_bytes"]')
[ "$stored_after" -lt "$stored" ] || fail "rm freed nothing: $stored -> $stored_after bytes"
backup get vm-a@1 -o "$tmp/gone.img" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "get of a removed version gave exit $rc"
grep -q "404" "$tmp/err" || fail "get of a removed version: $(cat "$tmp/err")"
[ ! -e "$tmp/gone.img" ] && [ ! -e "$tmp/gone.img.tmp" ] || fail "a failed get left a file"
for v in 2 3; do check_get "vm-a@$v" "a$v"; done
for v in 1 2; do check_get "vm-b@$v" "b$v"; done
backup gc >"$tmp/gc" || fail "gc: $(cat "$tmp/gc")"
echo "ok: rm vm-a@1 freed $((stored - stored_after)) bytes; the rest restores"

# --- the wire format by an independent encoder: a commit naming a missing segment is 409,
# the segment's upload (a wrong fingerprint first: 422), then the commit is 201
python3 - "$tmp" <<'PY'
import hashlib, random, struct, sys
d = sys.argv[1]
seg = random.Random(11).randbytes(3 * 4096 + 100)
# A segment's fingerprint is the hash of its blocks' digests (hash/fingerprint.h).
fp = hashlib.sha256(b"".join(hashlib.sha256(seg[i:i + 4096]).digest() for i in range(0, len(seg), 4096))).digest()
m = b"DDMANI01" + struct.pack("<BQI", 1, len(seg), 1) + fp + struct.pack("<I", len(seg))
for i in range(0, len(seg), 4096):
    m += b"\x00" + hashlib.sha256(seg[i:i + 4096]).digest()
m += hashlib.sha256(m).digest()[:8]
open(f"{d}/py.seg", "wb").write(seg)
open(f"{d}/py.manifest", "wb").write(m)
open(f"{d}/py.fp", "w").write(fp.hex())
PY
fp=$(cat "$tmp/py.fp")
commit="$server/images/py-img/versions"
code=$(code_of "$tmp/out" --data-binary @"$tmp/py.manifest" "$commit")
[ "$code" = 409 ] && grep -q "$fp" "$tmp/out" || fail "commit, a segment missing: $code"
zero_fp=$(printf '%064d' 0)
code=$(code_of "$tmp/out" -X PUT --data-binary @"$tmp/py.seg" "$server/segments/$zero_fp")
[ "$code" = 422 ] || fail "a segment under a wrong fingerprint gave $code: $(cat "$tmp/out")"
code=$(code_of /dev/null -X PUT --data-binary @"$tmp/py.seg" "$server/segments/$fp")
[ "$code" = 201 ] || fail "the segment's upload gave $code"
answer=$(printf '%s\n%s\n' "$fp" "$zero_fp" | http --data-binary @- "$server/segments/query")
[ "$answer" = "10" ] || fail "query answered '$answer', wanted 10"
code=$(code_of "$tmp/out" --data-binary @"$tmp/py.manifest" "$commit")
[ "$code" = 201 ] && grep -q '"version":1' "$tmp/out" || fail "commit: $code $(cat "$tmp/out")"
http "$server/images/py-img/versions/1" | cmp -s - "$tmp/py.seg" || fail "py-img@1"
code=$(printf 'zz\n' | code_of "$tmp/out" --data-binary @- "$server/segments/query")
[ "$code" = 400 ] && grep -q "line 1" "$tmp/out" || fail "a bad query: $code $(cat "$tmp/out")"
code=$(printf 'junk' | code_of "$tmp/out" --data-binary @- "$server/images/x/versions")
[ "$code" = 400 ] && grep -q "manifest" "$tmp/out" || fail "a bad manifest: $code $(cat "$tmp/out")"
code=$(code_of /dev/null -X DELETE "$server/images/vm-a/versions/9")
[ "$code" = 404 ] || fail "DELETE of a missing version gave $code"
echo "ok: the wire format (python encoder), 409, 422, 400s, 404"

# --- a restart keeps everything; verify is clean
stop
start
check_get vm-a@3 a3
backup verify >"$tmp/verify" 2>&1 || fail "verify of a clean store: $(cat "$tmp/verify")"
grep -q "clean" "$tmp/verify" || fail "verify: $(cat "$tmp/verify")"
echo "ok: restart, verify clean"

# --- corrupt a stored segment on disk: verify exits 1 naming the damage, reads of the damaged
# version fail (exit 1, no file left), the others still restore
python3 - "$data/dedup/segments" <<'PY'
import glob, os, sys
files = sorted(glob.glob(sys.argv[1] + "/*.data"), key=os.path.getsize, reverse=True)
path = files[0]
with open(path, "r+b") as f:
    data = f.read()
    at = next(i for i in range(len(data) // 2, len(data)) if data[i] != 0)  # live data, no hole
    f.seek(at)
    f.write(bytes([data[at] ^ 0x5a]))
PY
backup verify >"$tmp/verify" 2>"$tmp/verify.err"
rc=$?
[ "$rc" -eq 1 ] || fail "verify of a damaged store gave exit $rc"
grep -q "damaged: " "$tmp/verify" || fail "verify names no damage: $(cat "$tmp/verify")"
grep -q "damage found" "$tmp/verify.err" || fail "verify: $(cat "$tmp/verify.err")"
damaged=$(sed -n 's/^  damaged: \([^ ]*\) version \([0-9]*\),.*/\1@\2/p' "$tmp/verify" | sort -u)
[ -n "$damaged" ] || fail "no damaged version parsed from: $(cat "$tmp/verify")"
intact=0
for ref in vm-a@2:a2 vm-a@3:a3 vm-b@1:b1 vm-b@2:b2 vm-c@1:c1; do
  if echo "$damaged" | grep -qx "${ref%%:*}"; then
    rm -f "$tmp/bad.img"
    backup get "${ref%%:*}" -o "$tmp/bad.img" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "get of damaged ${ref%%:*} gave exit $rc: $(cat "$tmp/err")"
    [ ! -e "$tmp/bad.img" ] && [ ! -e "$tmp/bad.img.tmp" ] || fail "a damaged get left a file"
  else
    check_get "${ref%%:*}" "${ref##*:}"
    intact=$((intact + 1))
  fi
done
echo "ok: a corrupted segment: verify exit 1 naming" $damaged "and $intact intact versions restore"

# --- bad input: exit 2 with a message
expect_usage() {  # WHAT GREP ARGS...: exit 2 and stderr mentioning GREP
  local what=$1 want=$2
  shift 2
  timeout 60 "$doppel" backup "$@" >/dev/null 2>"$tmp/err"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, wanted 2 ($(cat "$tmp/err"))"
  grep -q -- "$want" "$tmp/err" || fail "$what: the message does not say '$want': $(cat "$tmp/err")"
}
expect_usage "an unknown image" "image nope" get nope -o "$tmp/x" --server "$server"
expect_usage "an unknown version" "404" get vm-b@7 -o "$tmp/x" --server "$server"
expect_usage "ls of an unknown image" "nope" ls nope --server "$server"
expect_usage "a missing file" "missing.img" put "$tmp/missing.img" --image vm-a --server "$server"
expect_usage "a bad image name" "image name" put "$tmp/a1.img" --image "a/b" --server "$server"
expect_usage "a bad URL" "--server" ls --server "ftp://127.0.0.1:$port"
expect_usage "rm without a version" "NAME@VERSION" rm vm-a --server "$server"
expect_usage "a bad version" "version" get vm-a@x -o "$tmp/x" --server "$server"
expect_usage "another hash" "sha256" put "$tmp/a1.img" --image vm-a --hash sha1 --server "$server"
expect_usage "--uploads out of range" "uploads" put "$tmp/a1.img" --image vm-a --uploads 0 --server "$server"
expect_usage "no subcommand" "" --server "$server"
[ ! -e "$tmp/x" ] && [ ! -e "$tmp/x.tmp" ] || fail "a refused get left a file"
echo "ok: bad input is refused with exit 2"

# --- a segment repeated within one image is stored once and counted once, and the image comes
# back whole, however many uploads are in flight
for n in 1 3; do
  python3 -c "import os; b = os.urandom(1 << 20); open('$tmp/rep$n.img', 'wb').write(b * 4)"
  backup put "$tmp/rep$n.img" --image "vm-rep$n" --uploads "$n" >/dev/null 2>"$tmp/put.err" ||
    fail "put rep$n.img with --uploads $n: $(cat "$tmp/put.err")"
  grep -q "4 segments: 1 uploaded (.*), 3 deduplicated, 0 null" "$tmp/put.err" ||
    fail "rep$n.img with --uploads $n: wanted 1 uploaded and 3 deduplicated: $(cat "$tmp/put.err")"
  check_get "vm-rep$n" "rep$n"
done
echo "ok: a segment repeated in an image is stored once and restores (1 and 3 uploads in flight)"

# --- SIGTERM stops the server cleanly; then a clear error, exit 1
stop
timeout 60 "$doppel" backup ls --server "$server" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "ls with the server down gave exit $rc"
grep -q "cannot reach the server at $server" "$tmp/err" || fail "server down: $(cat "$tmp/err")"
echo "ok: SIGTERM stops it cleanly; a client then says the server is unreachable"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all checks passed"
