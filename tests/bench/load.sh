#!/usr/bin/env bash
# load.sh [N] [EXECUTORS] - the load test of the reliability suite: N instances (default
# 100,000) through EXECUTORS norc_executor -c 4 (default 4), on MariaDB when
# NORC_BENCH_MARIADB_ENV names the env file of tests/integration/mariadb-tmp.sh (SQLite
# otherwise). One schedule fires all N at once (--period 0); each run appends its instance id
# to one file. Asserts: each instance ran exactly once (N lines, N distinct ids, the ids of
# the N instances), none lost (N SUCCESS), none stuck RUNNING; reports the throughput and
# each daemon's RSS after the first 10 % and at the end (memory flat: the end within 25 %
# + 2 MiB of the 10 % mark, asserted when N >= 20,000). Prints a markdown table.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-100000}
X=${2:-4}
bench_init load
runs="$W/runs"
"$B/norc" task add L --command "echo \$NORC_INSTANCE_ID >>'$runs'" >/dev/null
lid=$(sql "SELECT id FROM tasks WHERE name = 'L'")
for i in $(seq 1 "$X"); do start_daemon "$B/norc_executor" Q -c 4; done
start_daemon "$B/norc_scheduler"
sched=${pids[-1]}
sleep 1
t0=$(now_s)
"$B/norc" schedule add L --queue Q --period 0 --reps "$N" >/dev/null
rss_at() { local out="" p; for p in "${pids[@]}"; do out+="$(rss_kb "$p") "; done; echo "$out"; }
tenth=$(( N / 10 ))
until [ "$(sql "SELECT COUNT(*) FROM instances WHERE task_id = $lid AND status >= 7")" -ge "$tenth" ]; do sleep 0.5; done
rss10=$(rss_at)
wait_for "SELECT COUNT(*) FROM instances WHERE task_id = $lid AND status >= 7" "$N"
t1=$(now_s)
sleep 2 # let the daemons settle before the last sample
rss_end=$(rss_at)
ok=$(sql "SELECT COUNT(*) FROM instances WHERE task_id = $lid AND status = 7")
stuck=$(sql "SELECT COUNT(*) FROM instances WHERE status IN (1, 2)")
lines=$(wc -l <"$runs")
distinct=$(sort -u "$runs" | wc -l)
mismatch=$(comm -3 <(sort -u "$runs") <(sql "SELECT id FROM instances WHERE task_id = $lid" | sort -u) | wc -l)
fail=0
[ "$ok" = "$N" ] || { echo "lost: only $ok of $N succeeded" >&2; fail=1; }
[ "$stuck" = 0 ] || { echo "$stuck instance(s) stuck CREATED or RUNNING" >&2; fail=1; }
[ "$lines" = "$N" ] && [ "$distinct" = "$N" ] || { echo "runs: $lines lines, $distinct distinct, $N instances" >&2; fail=1; }
[ "$mismatch" = 0 ] || { echo "$mismatch id(s) differ between the runs and the instances" >&2; fail=1; }
growth=""
read -r -a a <<<"$rss10"; read -r -a b <<<"$rss_end"
for k in "${!a[@]}"; do
  growth+="${a[$k]} -> ${b[$k]} KiB; "
  if [ "$N" -ge 20000 ] && [ "${b[$k]}" -gt $(( a[k] * 125 / 100 + 2048 )) ]; then
    echo "daemon ${pids[$k]}: RSS grew from ${a[$k]} to ${b[$k]} KiB" >&2; fail=1
  fi
done
wall=$(echo "$t1 - $t0" | bc)
cat <<T
| load ($backend, $(machine)) | value |
| --- | --- |
| $N instances of \`echo \$NORC_INSTANCE_ID >>file\` fired at once, $X norc_executor -c 4 | $(printf '%.1f' "$wall") s, $(echo "$N / $wall" | bc) instances/s |
| ran exactly once | $lines runs, $distinct distinct ids, $ok SUCCESS, $stuck stuck |
| RSS after 10 % -> at the end (executors..., scheduler) | ${growth%; } |
T
exit "$fail"
