#!/usr/bin/env bash
# The trace viewer in a real browser. For a planted bug of each component, the failing trace's
# page opens in headless Chromium on its counter-example: lanes, operation bars, fault bands
# (when the plan has timed faults), the operations the failure names outlined, and for a
# linearizability failure the key's window with the point where no order works. A filter in
# the address applies; the console shows no error. Then trace diff (report and page) and
# check linearizable --html. Exit 77 (skip) only when Chromium is missing.
set -u
doppel=${1:?usage: viewer_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
src=${2:?usage: viewer_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "skip: no chromium (scripts/setup.sh installs it)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# The DOM of a page once its scripts ran (and what the console said, in $tmp/console.txt).
dom() {  # dom PAGE [ADDRESS_FRAGMENT] > DOM
  timeout 90 "$browser" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 \
    --virtual-time-budget=10000 --window-size=1400,1000 --dump-dom "file://$1${2:+#$2}" \
    2>"$tmp/console.txt"
}
# A data- attribute the page set on <body>.
attr() {  # attr DOM NAME
  grep -o '<body[^>]*>' "$1" | head -1 | grep -o "data-$2=\"[^\"]*\"" | sed 's/^[^"]*"//; s/"$//'
}
positive() {  # positive DOM NAME WHAT
  local v
  v=$(attr "$1" "$2")
  [ -n "$v" ] && [ "$v" -gt 0 ] 2>/dev/null || fail "$3: data-$2 is '${v}'"
}
page_ran() {  # page_ran DOM WHAT: the script finished and nothing went wrong
  [ "$(attr "$1" ready)" = 1 ] || fail "$2: the page's script did not finish"
  [ -z "$(attr "$1" error)" ] || fail "$2: script error: $(attr "$1" error)"
  if grep -E 'CONSOLE.*(Uncaught|Error)' "$tmp/console.txt" >/dev/null; then
    fail "$2: the console shows an error:"
    grep -E 'CONSOLE' "$tmp/console.txt" | head -n 5
  fi
}

# The first seed of a planted bug's scenario that fails the property, as a trace.
failing_trace() {  # failing_trace SCENARIO PROPERTY OUT
  local out=$tmp/swarm-$(basename "$1" .toml)
  "$doppel" sim swarm "$1" --seeds 0..40 --jobs 2 --out "$out" --quiet >/dev/null 2>&1
  for t in "$out"/*.trace; do
    [ -e "$t" ] || continue
    if "$doppel" trace show "$t" 2>/dev/null | grep -q "^outcome: FAIL property '$2'"; then
      cp "$t" "$3"
      return 0
    fi
  done
  return 1
}

for case in kv-lost-at-roll:linearizable dvv-ack-early:acknowledged-writes-survive \
  dedup-skip-decrement:refcounts-balance; do
  name=${case%%:*}
  property=${case#*:}
  trace=$tmp/$name.trace
  if ! failing_trace "$src/tests/scenarios/$name.toml" "$property" "$trace"; then
    fail "$name: no seed of 0..40 failed $property"
    continue
  fi
  "$doppel" trace show "$trace" --html "$tmp/$name.html" >/dev/null ||
    { fail "$name: trace show --html"; continue; }
  # (the SVG namespace is a name, not an address anything is loaded from)
  grep -oE '<script src|<link [^>]*href=|https?://[^" )]*' "$tmp/$name.html" |
    grep -qv '^http://www.w3.org/2000/svg$' && fail "$name: the page loads something from elsewhere"
  dom "$tmp/$name.html" >"$tmp/$name.dom"
  page_ran "$tmp/$name.dom" "$name"
  positive "$tmp/$name.dom" lanes "$name"
  positive "$tmp/$name.dom" bars "$name: operation bars"
  if [ "$(attr "$tmp/$name.dom" named-keys)" -gt 0 ] 2>/dev/null; then
    positive "$tmp/$name.dom" highlighted "$name: the operations on the keys the failure names"
  fi
  [ "$(attr "$tmp/$name.dom" selected)" -ge 0 ] 2>/dev/null || fail "$name: nothing selected on open"
  # The plan's faults as bands, over the whole run (#view=all: the opening view shows the
  # failure's keys, which may lie after the last fault).
  if "$doppel" trace show "$trace" | grep -q '^\[\[event\]\]'; then
    dom "$tmp/$name.html" "view=all" >"$tmp/$name-all.dom"
    page_ran "$tmp/$name-all.dom" "$name whole run"
    positive "$tmp/$name-all.dom" bands "$name: fault bands"
  fi
  grep -q "property $property failed" "$tmp/$name.dom" || fail "$name: the failing property is not shown"
  if [ "$property" = linearizable ]; then
    grep -q 'class="window-op' "$tmp/$name.dom" || fail "$name: no window of the key"
    grep -q 'class="no-order"' "$tmp/$name.dom" || fail "$name: the point where no order works"
  fi
  # A filter from the address: the event kind of client operations only.
  events=$(attr "$tmp/$name.dom" shown)
  kind=$("$doppel" trace show "$trace" | grep -oE ' (Kv|Dvv|Dedup)Client[A-Za-z]*' | head -1 | tr -d ' ')
  dom "$tmp/$name.html" "kind=$kind" >"$tmp/$name-filtered.dom"
  page_ran "$tmp/$name-filtered.dom" "$name filtered"
  shown=$(attr "$tmp/$name-filtered.dom" shown)
  [ -n "$shown" ] && [ "$shown" -gt 0 ] && [ "$shown" -lt "$events" ] ||
    fail "$name: the filter kind=$kind shows $shown of $events events"
  echo "ok: $name: lanes $(attr "$tmp/$name.dom" lanes), bars $(attr "$tmp/$name.dom" bars)," \
    "bands $(attr "$tmp/$name.dom" bands), outlined $(attr "$tmp/$name.dom" highlighted)," \
    "kind=$kind shows $shown of $events"
done

# trace diff: two seeds of one scenario part somewhere; a trace against itself is identical.
a=$tmp/kv-lost-at-roll.trace
"$doppel" sim run "$src/tests/scenarios/kv-lost-at-roll.toml" --seed 41 --trace "$tmp/other.trace" \
  >/dev/null 2>&1
"$doppel" trace diff "$a" "$a" >"$tmp/same.out" 2>&1 || fail "trace diff of a trace with itself exits $?"
grep -q "identical" "$tmp/same.out" || fail "trace diff: a trace is not identical to itself"
"$doppel" trace diff "$a" "$tmp/other.trace" --html "$tmp/diff.html" >"$tmp/diff.out" 2>&1
[ $? -eq 1 ] || fail "trace diff of two seeds does not exit 1"
grep -q "events are the same" "$tmp/diff.out" || fail "trace diff names no divergence"
grep -q "^> #" "$tmp/diff.out" || fail "trace diff shows no differing event"
dom "$tmp/diff.html" >"$tmp/diff.dom"
page_ran "$tmp/diff.dom" "diff page"
[ "$(grep -o 'class="timeline"' "$tmp/diff.dom" | wc -l)" -eq 2 ] || fail "diff page: not two timelines"
grep -q 'id="divergence"[^>]*>' "$tmp/diff.dom" && grep -q 'the traces part after' "$tmp/diff.dom" ||
  fail "diff page: the divergence is not shown"
"$doppel" trace diff "$a" "$tmp/missing.trace" >/dev/null 2>&1
[ $? -eq 2 ] || fail "trace diff of a missing file does not exit 2"

# check linearizable --html: the counter-example's window of a recorded history.
"$doppel" check linearizable "$src/tests/properties/histories/kv-stale-read-bad.jsonl" \
  --html "$tmp/history.html" >/dev/null 2>&1
[ -s "$tmp/history.html" ] || fail "check linearizable --html wrote nothing"
dom "$tmp/history.html" >"$tmp/history.dom"
page_ran "$tmp/history.dom" "history page"
grep -q 'class="window-op' "$tmp/history.dom" || fail "history page: no window"
grep -q 'class="no-order"' "$tmp/history.dom" || fail "history page: no point where no order works"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "viewer: every page ran in $("$browser" --version 2>/dev/null)"
