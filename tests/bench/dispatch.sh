#!/usr/bin/env bash
# dispatch.sh [N] - Norc's dispatch throughput end to end, beside the fork+exec floor measured
# in the same run: N schedules (default 1000) of a CommandTask `/usr/bin/true` (the program
# xargs runs; NORC_BENCH_COMMAND changes it), all due at the same
# second, go scheduler -> DBQueue -> one norc_executor -c 2 (logs on); the wall time from
# the nominal fire time to the last instance's end, against `xargs -P2 -n1 true` over N.
# SQLite by default; NORC_BENCH_MARIADB_ENV=<env file of tests/integration/mariadb-tmp.sh>
# runs it on MariaDB; NORC_BENCH_DIR puts the work directory (database and logs) elsewhere
# than /tmp; NORC_BENCH_INCHILD=1 makes the task a no-op in-child .so plugin (NoopTask,
# tests/plugins/hooks.c) instead of a command; NORC_BENCH_BACKUP=local|s3 backs the logs up
# (and adds the time until the last one arrived). Prints a markdown table; asserts only that
# every instance succeeded.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-1000}
bench_init dispatch
lead_s=$(( 3 + N / 2000 ))
t_us=$(( ($(date +%s) + lead_s) * 1000000 ))
add_schedules "$N" period 1 "''" "$t_us" 1
start_daemon "$B/norc_executor" Q -c 2
start_daemon "$B/norc_scheduler"
wait_for "SELECT COUNT(*) FROM instances WHERE status >= 7" "$N"
ok=$(sql "SELECT COUNT(*) FROM instances WHERE status = 7")
[ "$ok" = "$N" ] || { echo "only $ok of $N succeeded" >&2; exit 1; }
wall_us=$(sql "SELECT MAX(ended) - $t_us FROM instances")
span_us=$(sql "SELECT MAX(ended) - MIN(started) FROM instances")
lag=$(sql "SELECT started - fire_time FROM instances" | pcts)
up_row=""
if [ -n "${NORC_BENCH_BACKUP:-}" ]; then # every log on its way: when did the last arrive?
  wait_for "SELECT COUNT(*) FROM log_uploads WHERE instance_id IS NOT NULL AND state = 2" "$N"
  up_us=$(sql "SELECT MAX(state_at) - $t_us FROM log_uploads WHERE instance_id IS NOT NULL")
  up_row="| the same $N logs backed up ($NORC_BENCH_BACKUP): nominal time to the last upload | $(awk -v v="$up_us" 'BEGIN { printf "%.2f", v / 1000000 }') s | |"
fi
t2=$(now_s); seq 1 "$N" | xargs -P2 -n1 true; t3=$(now_s)
xargs_us=$(echo "($t3 - $t2) * 1000000 / 1" | bc)
what="CommandTask \`${NORC_BENCH_COMMAND:-/usr/bin/true}\`"
[ -n "${NORC_BENCH_INCHILD:-}" ] && what="in-child .so no-op (NoopTask: run_child returns 0)"
f() { awk -v v="$1" -v d="$2" -v p="$3" 'BEGIN { printf "%.*f", p, v / d }'; } # f VALUE DIVISOR DECIMALS
cat <<T
| dispatch ($backend, $(machine), work dir on $(stat -f -c %T "$W")) | value | target |
| --- | --- | --- |
| $N $what instances, all due at one second: scheduler -> queue -> norc_executor -c 2, logs on: nominal time to last end | $(f "$wall_us" 1000000 2) s ($(f "$wall_us" $((N * 1000)) 3) ms each; first start to last end $(f "$span_us" 1000000 2) s) | |
| $N \`true\` with \`xargs -P2 -n1 true\` | $(f "$xargs_us" 1000000 2) s ($(f "$xargs_us" $((N * 1000)) 3) ms each) | |
| ratio norc / xargs | $(f "$wall_us" "$xargs_us" 2) | 1.15 (SQLite), 1.5 (MariaDB) |
| process start - nominal fire time over the burst: p50 / p95 / p99 / max | $lag | (bound by the burst: N starts at 2 at a time) |
$up_row
T
