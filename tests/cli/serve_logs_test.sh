#!/usr/bin/env bash
# doppel serve's log: quiet by default (a clean start and stop write nothing to stderr), the
# events at or above --log-level otherwise, under the names the simulator's traces show, as
# text or as JSON lines that parse (python3's json) with time, level, core, event and details;
# a level it does not know is refused before anything starts. Every server is stopped by its pid.
set -u
doppel=${1:?usage: serve_logs_test.sh DOPPEL_BINARY}
tmp=$(mktemp -d)
. "$(dirname "$0")/serve_lib.sh"
trap 'serve_kill_all; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
port=$((21000 + RANDOM % 8000))
cat >"$tmp/kv.toml" <<CONF
[node]
name = "kv-0"
component = "kv"
listen = "127.0.0.1:$port"
data_dir = "$tmp/kv"
cores = 2
pin = false
[kv]
memory_mb = 8
CONF

# run NAME ARGS...: starts, stops with SIGTERM, leaves the stderr in $tmp/NAME.err.
run() {
  local name=$1
  shift
  serve_start "$tmp/$name.out" "$tmp/$name.err" --config "$tmp/kv.toml" "$@" ||
    { fail "$name: did not start: $(cat "$tmp/$name.err")"; return 1; }
  serve_stop "$serve_pid" TERM "$tmp/$name.out" || fail "$name: $serve_error"
}

run quiet && { [ -s "$tmp/quiet.err" ] && fail "the default level wrote: $(head -3 "$tmp/quiet.err")"; }

run text --log-level info &&
  { grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{15}Z info core=0 KvStarted cores=2 ' "$tmp/text.err" ||
      fail "no text line for KvStarted: $(head -3 "$tmp/text.err")"; }
grep -q ' debug ' "$tmp/text.err" && fail "info level wrote debug lines"

run json --log-level debug --log-format json && {
  python3 - "$tmp/json.err" <<'PY' || fail "the JSON lines: $(head -3 "$tmp/json.err")"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
assert events, "no lines"
for e in events:
    assert set(e) == {"time", "level", "core", "event", "details"}, e
    assert e["level"] in ("debug", "info", "warning", "error"), e
started = [e for e in events if e["event"] == "KvStarted"]
assert started and started[0]["details"]["cores"] == 2, started
assert any(e["event"] == "KvStopping" for e in events)
PY
}

"$doppel" serve --config "$tmp/kv.toml" --log-level loud >/dev/null 2>"$tmp/bad.err"
rc=$?
[ "$rc" -ne 0 ] && grep -q "log-level" "$tmp/bad.err" || fail "--log-level loud: exit $rc, $(cat "$tmp/bad.err")"

[ "$failures" -eq 0 ] && echo "serve logs: quiet by default, levels and JSON lines"
exit "$failures"
