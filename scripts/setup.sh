#!/usr/bin/env bash
# Installs what doppel needs from Debian 12's packages (only what is missing),
# then configures and builds. Usage: scripts/setup.sh [release|release-tests|asan]...
# Builds go to build/ (release: the doppel binary and the network tests) and
# build-asan/ (AddressSanitizer + UBSan: the simulator tests).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config git
  libboost-fiber-dev libboost-context-dev librapidcheck-dev catch2
  libzstd-dev zstd liburing-dev libtomlplusplus-dev libcli11-dev
  # bcrypt for the HTTP services' users (libxcrypt's crypt_r); TLS (OpenSSL), and the openssl
  # command that makes the TLS test's certificates
  libcrypt-dev libssl-dev openssl
  # real clients and baselines the tests and benchmarks talk to
  memcached libmemcached-tools python3 python3-pymemcache curl procps restic borgbackup
  # the network namespaces and packet drops of doppel real run (tests/cli/real_run_test.sh)
  iproute2 nftables util-linux faketime
  # the format check of the test suite
  clang-format
  # a one-machine Slurm the farm test submits a swarm to (tests/cli/slurm_test.sh)
  slurm-wlm munge
  # the browser the trace viewer's pages are tested in (tests/cli/viewer_test.sh)
  chromium
  # the monitoring server that scrapes every component's /metrics (tests/cli/metrics_test.sh)
  prometheus
  # systemd-analyze, which checks the units in deploy/systemd (tests/cli/systemd_units_test.sh)
  systemd
  # htpasswd -B, which makes the users file of the access test (tests/cli/access_test.sh)
  apache2-utils
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
# release: the doppel binary (and, for the test suite, system_tests);
# asan: the unit, property and simulator tests under ASan + UBSan.
for kind in "${@:-release}"; do
  case "$kind" in
    release)
      cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      cmake --build build -j"$jobs" --target doppel
      ;;
    release-tests)
      cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      cmake --build build -j"$jobs" --target system_tests
      ;;
    asan)
      cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DDOPPEL_SANITIZE=ON >/dev/null
      cmake --build build-asan -j"$jobs" --target unit_tests
      ;;
    *) echo "setup: unknown build '$kind' (release, release-tests or asan)" >&2; exit 2 ;;
  esac
done
