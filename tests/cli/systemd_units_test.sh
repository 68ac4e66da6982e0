#!/usr/bin/env bash
# The systemd units in deploy/systemd pass `systemd-analyze verify` (every key known, the
# command executable: the built binary stands in for /usr/local/bin/doppel), run `doppel serve`
# with flags serve takes, and the configs they name exist in configs/.
set -u
doppel=${1:?usage: systemd_units_test.sh DOPPEL_BINARY SOURCE_DIR}
src=${2:?usage: systemd_units_test.sh DOPPEL_BINARY SOURCE_DIR}
doppel=$(realpath "$doppel")
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
count=0
for unit in "$src"/deploy/systemd/*.service; do
  count=$((count + 1))
  name=$(basename "$unit")
  sed "s|/usr/local/bin/doppel|$doppel|g" "$unit" >"$tmp/$name"
  # A template is verified as an instance of it.
  target="$tmp/$name"
  if [[ "$name" == *@.service ]]; then
    target="$tmp/${name%@.service}@1.service"
    cp "$tmp/$name" "$target"
  fi
  if ! systemd-analyze verify --man=no "$target" >"$tmp/verify.out" 2>&1 || [ -s "$tmp/verify.out" ]; then
    fail "$name: $(cat "$tmp/verify.out")"
  fi
  # The flags on ExecStart are serve's: --help lists each one.
  for flag in $(sed -n 's/^ExecStart=.* serve //p' "$unit" | grep -o -- '--[a-z-]*'); do
    "$doppel" serve --help | grep -q -- "$flag" || fail "$name: serve has no $flag"
  done
  config=$(sed -n 's|^ExecStart=.*--config /etc/doppel/\([^ ]*\).*|\1|p' "$unit" | sed 's/%i/1/')
  [ -f "$src/configs/$config" ] || fail "$name: no configs/$config to install"
done
[ "$count" -eq 3 ] || fail "expected 3 units, found $count"
[ "$failures" -eq 0 ] && echo "systemd: $count units verified"
exit "$failures"
