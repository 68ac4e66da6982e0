#!/usr/bin/env bash
# The main job: a default simulation swarm over every shipped scenario, with
# every fault each scenario allows chosen per seed. No server needed.
# Usage: scripts/swarm.sh [--seeds A..B] [any other `doppel sim swarm` option]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
args=("$@")
[[ " ${args[*]-} " == *" --seeds "* ]] || args+=(--seeds 0..1000)
exec build/doppel sim swarm scenarios/*.toml "${args[@]}"
