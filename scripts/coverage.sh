#!/usr/bin/env bash
# How much of components/ the default swarm reaches: builds doppel with gcov
# counters (build-cov/), runs the swarm over every shipped scenario for a fixed
# seed range, and prints line and branch coverage per component folder
# (gcovr), then how often each client operation ran under faults (the
# swarm's "op:" probes: every verb, API call and option a driver sent).
# Usage: scripts/coverage.sh [--seeds A..B] [--jobs J]   (default 0..39, 2 jobs)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=0..39
jobs=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "coverage.sh: unknown argument '$1' (--seeds A..B, --jobs J)" >&2; exit 2 ;;
  esac
done
scripts/setup.sh >/dev/null  # the packages
command -v gcovr >/dev/null || {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y -qq --no-install-recommends gcovr >/dev/null
}
cmake -S . -B build-cov -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DDOPPEL_COVERAGE=ON \
  -DDOPPEL_TESTS=OFF >/dev/null
cmake --build build-cov -j"$(nproc)" --target doppel >/dev/null
find build-cov -name '*.gcda' -delete
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== swarm: every shipped scenario, seeds $seeds"
build-cov/doppel sim swarm scenarios/*.toml --seeds "$seeds" --jobs "$jobs" --out "$out/traces" \
  --probes "$out/probes.tsv" --quiet >"$out/swarm.txt" 2>&1 || true
grep -E "^swarm: [0-9]+ runs" "$out/swarm.txt" || tail -n 3 "$out/swarm.txt"
echo "== line and branch coverage of components/ (test-only code is not in components/)"
gcovr --root . --object-directory build-cov --filter 'components/' --json-summary "$out/cov.json" \
  >/dev/null 2>&1
python3 - "$out/cov.json" <<'PY'
import json, sys, collections
data = json.load(open(sys.argv[1]))
lines = collections.defaultdict(lambda: [0, 0])
branches = collections.defaultdict(lambda: [0, 0])
for f in data["files"]:
    parts = f["filename"].split("/")
    folder = "/".join(parts[1:3]) if len(parts) > 3 else parts[1]
    for key in (folder, "all"):
        lines[key][0] += f["line_covered"]; lines[key][1] += f["line_total"]
        branches[key][0] += f["branch_covered"]; branches[key][1] += f["branch_total"]
def pct(c, t): return 100.0 * c / t if t else 100.0
print(f"{'folder':24} {'lines':>16} {'branches':>18}")
for k in sorted(lines, key=lambda k: (k == "all", k)):
    (lc, lt), (bc, bt) = lines[k], branches[k]
    print(f"{k:24} {lc:6}/{lt:<6} {pct(lc, lt):5.1f}% {bc:6}/{bt:<6} {pct(bc, bt):5.1f}%")
PY
echo "== client operations sent (op:<component>:<operation>: runs of the swarm, faults on)"
grep -P '\top:' "$out/probes.tsv" | awk -F'\t' '{printf "%10s  %s\n", $1, substr($2, 4)}' ||
  echo "(no op: probes recorded)"
