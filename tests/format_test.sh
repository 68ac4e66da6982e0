#!/usr/bin/env bash
# Every C++ file of ours is formatted as .clang-format says (Debian's
# clang-format). Fails listing the files that are not, with the command that
# fixes them.
set -u
root=${1:?usage: format_test.sh SOURCE_DIR}
cd "$root" || exit 2
command -v clang-format >/dev/null || { echo "clang-format is missing (apt install clang-format)"; exit 1; }
files=$(git ls-files '*.h' '*.cc' 2>/dev/null || find . -name '*.h' -o -name '*.cc' | grep -v '^./build')
bad=()
for f in $files; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "not formatted (${#bad[@]} file(s)); fix with: clang-format -i ${bad[*]}"
  exit 1
fi
echo "format: OK ($(wc -w <<<"$files") files)"
