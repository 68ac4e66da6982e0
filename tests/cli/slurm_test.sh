#!/usr/bin/env bash
# A swarm farmed out on a real Slurm: the test starts munge and a one-machine
# Slurm (slurmctld + slurmd on 127.0.0.1, Debian's slurm-wlm) in a temporary
# directory, submits deploy/slurm/submit.sh (a job array of shards, then a
# dependent merge job), and checks that the merged summary says what one
# machine running the same seeds says. Every daemon it starts is stopped by
# its pid. Needs root (the daemons run as root here); exits 77 (skipped)
# without it.
set -u
doppel=${1:?usage: slurm_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
src=${2:?usage: slurm_test.sh DOPPEL_TEST_BINARY SOURCE_DIR}
[ "$(id -u)" -eq 0 ] || { echo "skipped: starting slurmctld, slurmd and munged needs root"; exit 77; }
for tool in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$tool" >/dev/null || { echo "FAIL: no $tool (scripts/setup.sh installs slurm-wlm and munge)"; exit 1; }
done
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1"
  for log in "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/out/*.log "$tmp"/out/merged.txt; do
    [ -f "$log" ] && { echo "--- $log"; tail -n 15 "$log"; }
  done
  exit 1
}

# munge, on a socket of its own.
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge.key"
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/out"
munged --foreground --force --key-file="$tmp/munge.key" --socket="$tmp/munge.sock" \
  --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge.seed" \
  >"$tmp/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/munge.sock" ] && break; sleep 0.1; done
[ -S "$tmp/munge.sock" ] || fail "munged did not start"

host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
cat >"$tmp/slurm.conf" <<EOF
ClusterName=doppeltest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$tmp/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  sinfo -h -o %t 2>/dev/null | grep -qE "^(idle|mix)" && break
  sleep 0.2
done
sinfo -h -o %t 2>/dev/null | grep -qE "^(idle|mix)" || fail "the Slurm node did not come up"
echo "ok: a one-machine Slurm is up (port $port)"

# The same seeds: on Slurm, 3 shards and a merge; then on one machine.
scenario=$src/tests/scenarios/register-bug.toml
seeds=0..40
(cd "$src" && DOPPEL=$doppel deploy/slurm/submit.sh "$tmp/out" 3 "$seeds" "$scenario") >"$tmp/submit.txt" 2>&1 ||
  fail "submit.sh: $(cat "$tmp/submit.txt")"
merge_job=$(sed -n 's/.*merge job \([0-9]*\).*/\1/p' "$tmp/submit.txt")
[ -n "$merge_job" ] || fail "submit.sh printed no merge job: $(cat "$tmp/submit.txt")"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$merge_job" 2>/dev/null)" ] && break
  sleep 0.2
done
[ -z "$(squeue -h -j "$merge_job" 2>/dev/null)" ] && [ -s "$tmp/out/merged.txt" ] ||
  fail "the merge job did not finish within 120 s"
echo "ok: the job array and the merge job ran"
"$doppel" sim swarm "$scenario" --seeds "$seeds" --jobs 2 --out "$tmp/one" --quiet >"$tmp/one.txt" 2>/dev/null

# Wall-clock figures and where the traces are differ; nothing else may.
normal() {
  grep -v "^merged " "$1" |
    sed -e 's/ in [0-9.]* s wall ([0-9.]* seeds\/s)//' -e 's#replay: doppel sim replay .*/#replay: #' |
    grep -v "^swarm: 1 scenario(s), seeds"
}
if diff <(normal "$tmp/one.txt") <(normal "$tmp/out/merged.txt") >"$tmp/diff.txt"; then
  echo "ok: the merged summary is the one-machine summary ($(grep -c . "$tmp/one.txt") lines)"
else
  echo "--- diff (one machine < > merged)"; cat "$tmp/diff.txt"
  fail "the merged summary differs from the one-machine run"
fi
grep -q "^swarm: 40 runs" "$tmp/out/merged.txt" || fail "the merge did not count 40 runs"
grep -q "failure(s): register-bug: acknowledged-writes-survive" "$tmp/out/merged.txt" ||
  fail "the merge lost the planted bug's failures"
"$doppel" sim merge "$tmp/out/shard-0" "$tmp/out/shard-1" >/dev/null 2>"$tmp/missing.txt"
[ $? -eq 2 ] && grep -q "shard 2 of 3 is missing" "$tmp/missing.txt" ||
  fail "a merge missing a shard is not bad input: $(cat "$tmp/missing.txt")"
echo "ok: a merge without every shard is refused"
echo "all checks passed"
