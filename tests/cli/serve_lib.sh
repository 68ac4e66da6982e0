# Sourced by the end-to-end scripts that run `doppel serve` (the shell's counterpart of
# cli/child_process.h): one way to start a server, wait for its banner, stop it by its pid and
# check that it stopped cleanly, and kill what is left when the script exits. Servers are only
# ever signalled by the pids started here, never by name.
#
#   . "$(dirname "$0")/serve_lib.sh"       # needs $doppel
#   trap 'serve_kill_all; rm -rf "$tmp"' EXIT
#   serve_start "$tmp/out" "$tmp/err" --config "$tmp/node.toml" || ...   # sets $serve_pid
#   serve_stop "$serve_pid" TERM "$tmp/out" || fail "$serve_error"

serve_pids=()  # started and not yet stopped by serve_stop
serve_pid=""   # the last one started

# serve_launch OUT ERR ARGS...: starts `$doppel serve ARGS` in the background, its stdout to OUT
# and stderr to ERR; sets serve_pid. Does not wait.
serve_launch() {
  local out=$1 err=$2
  shift 2
  # The old output goes first: the new redirection truncates it only once the process has
  # started, and the last server's banner must not be read as this one's.
  rm -f "$out" "$err"
  "$doppel" serve "$@" >"$out" 2>"$err" &
  serve_pid=$!
  serve_pids+=("$serve_pid")
}

# serve_await PID OUT: waits (at most 5 s) for the "doppel: serving" banner in OUT; 1 if the
# server exited first or never said it.
serve_await() {
  local pid=$1 out=$2
  for _ in $(seq 50); do
    grep -q "^doppel: serving" "$out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# serve_start OUT ERR ARGS...: serve_launch, then serve_await.
serve_start() {
  serve_launch "$@"
  serve_await "$serve_pid" "$1"
}

# serve_stop PID SIGNAL OUT: signals the server and waits for it; 0 if it exited 0 and said
# "doppel: stopped" in OUT, else 1 with the reason in serve_error. (Not in a subshell: only
# this shell can wait for its children.)
serve_error=""
serve_stop() {
  local pid=$1 signal=$2 out=$3 rc=0 kept=() p
  kill "-$signal" "$pid"
  wait "$pid" || rc=$?
  for p in "${serve_pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  serve_pids=("${kept[@]}")
  serve_error=""
  if [ "$rc" -ne 0 ]; then
    serve_error="exit $rc after SIG$signal, wanted 0"
  elif ! grep -q "^doppel: stopped" "$out"; then
    serve_error="no clean stop after SIG$signal"
  fi
  [ -z "$serve_error" ]
}

# serve_kill_all: SIGKILL to every server started here and not stopped (for the EXIT trap).
serve_kill_all() {
  local p
  for p in "${serve_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  serve_pids=()
}
