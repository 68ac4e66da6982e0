#!/usr/bin/env bash
# Farms one swarm out over a Slurm cluster: a job array runs one shard per
# task (doppel sim swarm --shard I/N), and a job that depends on the whole
# array merges the shards' summaries (doppel sim merge) into what one machine
# would have printed for the same seeds.
#
# Usage: deploy/slurm/submit.sh OUT SHARDS SEEDS [SCENARIO...]
#   OUT       a directory every node can write (shared file system)
#   SHARDS    array tasks, one shard each
#   SEEDS     A..B, as sim swarm --seeds
#   SCENARIO  scenario files (default: scenarios/*.toml)
# Environment: DOPPEL (the binary, default build/doppel, as a path every node
# sees), SBATCH_ARGS (extra sbatch options: partition, account, time...).
# Prints the two job ids; the merged summary lands in OUT/merged.txt, and the
# merge job exits 1 if any seed failed.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,15p' "$0"; exit 2; }
out=$(realpath -m "$1"); shards=$2; seeds=$3; shift 3
[ "$shards" -ge 1 ] 2>/dev/null || { echo "submit.sh: SHARDS must be a positive number" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
doppel=$(realpath "${DOPPEL:-build/doppel}")
[ -x "$doppel" ] || { echo "submit.sh: no doppel binary at $doppel" >&2; exit 2; }
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(scenarios/*.toml)
for i in "${!scenarios[@]}"; do scenarios[$i]=$(realpath "${scenarios[$i]}"); done
mkdir -p "$out"
# shellcheck disable=SC2086  # SBATCH_ARGS is a list of options
array=$(sbatch --parsable ${SBATCH_ARGS:-} --array=0-$((shards - 1)) --output="$out/shard-%a.log" \
  --job-name=doppel-swarm "$here/swarm-shard.sbatch" "$doppel" "$out" "$seeds" "${scenarios[@]}")
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_ARGS:-} --dependency=afterany:"$array" --output="$out/merged.txt" \
  --job-name=doppel-merge "$here/merge.sbatch" "$doppel" "$out" "$shards")
echo "array job $array ($shards shards), merge job $merge; summary: $out/merged.txt"
