#!/usr/bin/env bash
# peers.sh [N] - the peers side by side, in one run, on the same machine: N `true` jobs
# (default 1000) through task-spooler (tsp -S 2) and GNU parallel (-j2), 200 through Slurm
# (`sbatch --wrap true`, one local slurmctld + slurmd with munge, all in a private
# directory), the offset of cron's fires from the minute, and `xargs -P2 -n1 true` as the
# fork+exec floor. Needs `scripts/install-deps.sh bench` and root (cron and munge). A peer
# that is missing or cannot start is reported as such, not skipped silently.
set -euo pipefail
N=${1:-1000}
SLURM_N=${NORC_BENCH_SLURM_N:-200}
CRON_FIRES=${NORC_BENCH_CRON_FIRES:-2}
W=$(mktemp -d /tmp/norc-peers.XXXXXX)
chmod 755 "$W"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -f "$W/crontab.saved" ] && crontab "$W/crontab.saved" 2>/dev/null || true
  [ -f "$W/crontab.none" ] && crontab -r 2>/dev/null || true
  [ -n "${TS_SOCKET:-}" ] && tsp -K >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
now_s() { date +%s.%N; }
secs() { echo "scale=2; ($2 - $1) / 1" | bc | sed 's/^\./0./'; }
per() { echo "scale=2; ($2 - $1) * 1000 / $3" | bc | sed 's/^\./0./'; }
rows=()

t0=$(now_s); seq 1 "$N" | xargs -P2 -n1 true; t1=$(now_s)
rows+=("| xargs -P2 -n1 true (the floor) | $N | $(secs "$t0" "$t1") s | $(per "$t0" "$t1" "$N") ms |")

if command -v tsp >/dev/null; then
  export TS_SOCKET=$W/tsp.sock TMPDIR=$W TS_MAXFINISHED=$((N + 10)) TS_SAVELIST=
  tsp -S 2 >/dev/null
  t0=$(now_s)
  for _ in $(seq 1 "$N"); do tsp -n true >/dev/null; done
  tsp -w >/dev/null 2>&1 || true
  t1=$(now_s)
  rows+=("| task-spooler (tsp -S 2; one tsp call per job) | $N | $(secs "$t0" "$t1") s | $(per "$t0" "$t1" "$N") ms |")
  tsp -K >/dev/null 2>&1 || true; unset TS_SOCKET
else
  rows+=("| task-spooler | | not installed | |")
fi

if command -v parallel >/dev/null; then
  t0=$(now_s); seq 1 "$N" | parallel -j2 true >/dev/null; t1=$(now_s)
  rows+=("| GNU parallel -j2 | $N | $(secs "$t0" "$t1") s | $(per "$t0" "$t1" "$N") ms |")
else
  rows+=("| GNU parallel | | not installed | |")
fi

slurm() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null || { result="not installed | |"; return; }
  local S=$W/slurm M=$W/munge h; h=$(hostname -s)
  mkdir -p "$S"/{state,spool,log} "$M"; chown munge:munge "$M"; chmod 755 "$M"
  runuser -u munge -- munged -F --socket="$M/munge.sock" --pid-file="$M/munged.pid" \
    --log-file="$M/munged.log" --seed-file="$M/munged.seed" >"$M/out" 2>&1 & pids+=($!)
  for _ in $(seq 50); do [ -S "$M/munge.sock" ] && break; sleep 0.1; done
  cat >"$S/slurm.conf" <<C
ClusterName=norcbench
SlurmctldHost=$h(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=46817
SlurmdPort=46818
AuthType=auth/munge
AuthInfo=socket=$M/munge.sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=defer_batch,sched_min_interval=100000,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MaxJobCount=100000
MinJobAge=2
NodeName=$h NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:32
C
  export SLURM_CONF=$S/slurm.conf
  slurmctld -D -f "$SLURM_CONF" >/dev/null 2>&1 & pids+=($!)
  slurmd -D -f "$SLURM_CONF" >/dev/null 2>&1 & pids+=($!)
  local ready=0
  for _ in $(seq 100); do sinfo -h -o %t 2>/dev/null | grep -qx idle && { ready=1; break; }; sleep 0.2; done
  [ "$ready" = 1 ] || { result="did not start: $(grep -m1 -i fatal "$S/log/slurmctld.log" || echo 'no node became idle') | |"; return; }
  local t0 t1
  t0=$(now_s)
  for _ in $(seq 1 "$SLURM_N"); do sbatch -Q -o /dev/null --wrap true; done
  until [ -z "$(squeue -h 2>/dev/null)" ]; do sleep 0.1; done
  t1=$(now_s)
  result="$(secs "$t0" "$t1") s | $(per "$t0" "$t1" "$SLURM_N") ms"
}
result=""; slurm
rows+=("| Slurm 22.05 (sbatch --wrap true, one node, tuned scheduler intervals) | $SLURM_N | $result |")

cron_offsets() {
  command -v cron >/dev/null || { result="not installed"; return; }
  pgrep -x cron >/dev/null && { result="a cron is already running on this machine; not measured"; return; }
  if crontab -l >"$W/crontab.saved" 2>/dev/null; then :; else rm -f "$W/crontab.saved"; : >"$W/crontab.none"; fi
  echo "* * * * * date +\%s.\%N >> $W/cron.log" | crontab -
  cron -f >/dev/null 2>&1 & pids+=($!)
  : >"$W/cron.log"
  local deadline=$(( $(date +%s) + 60 * (CRON_FIRES + 1) + 5 ))
  while [ "$(wc -l <"$W/cron.log" 2>/dev/null || echo 0)" -lt "$CRON_FIRES" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
  [ -s "$W/cron.log" ] || { result="did not fire"; return; }
  result=$(awk '{ o = ($1 % 60) * 1000; s = s (NR > 1 ? ", " : "") sprintf("%.0f ms", o) } END { printf "%s after the minute (%d fires)", s, NR }' "$W/cron.log")
}
result=""; cron_offsets
rows+=("| cron (Debian 3.0pl1; minute granularity) | fires | $result | |")

echo "| peer ($(nproc) cores, $(uname -r)) | jobs | wall | per job |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
