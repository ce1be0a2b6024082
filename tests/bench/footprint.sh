#!/usr/bin/env bash
# footprint.sh [SECONDS] - what Norc's daemons cost while nothing is due: RSS of the scheduler
# (holding 100 schedules) and of an executor (-c 2) after start-up, and their CPU over an
# idle SECONDS (default 60). SQLite by default; NORC_BENCH_MARIADB_ENV=<env file> for MariaDB.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECS=${1:-60}
bench_init footprint
add_schedules 100 cron 0 "'0 0 0 1 1 *'" 1893456000000000 0
start_daemon "$B/norc_scheduler"; spid=$!
start_daemon "$B/norc_executor" Q -c 2; epid=$!
wait_for "SELECT COUNT(*) FROM schedules WHERE lease_owner IS NOT NULL" 100
sleep 2
hz=$(getconf CLK_TCK)
s0=$(cpu_ticks "$spid"); e0=$(cpu_ticks "$epid")
sleep "$SECS"
s1=$(cpu_ticks "$spid"); e1=$(cpu_ticks "$epid")
pct() { echo "scale=3; ($2 - $1) * 100 / $hz / $SECS" | bc -l | sed 's/^\./0./'; }
cat <<T
| footprint, idle ($backend, $(machine)) | RSS | CPU over $SECS s idle | target |
| --- | --- | --- | --- |
| norc_scheduler (100 schedules) | $(( $(rss_kb "$spid") / 1024 )) MB | $(pct "$s0" "$s1") % | 0.5 % |
| norc_executor -c 2 | $(( $(rss_kb "$epid") / 1024 )) MB | $(pct "$e0" "$e1") % | 0.5 % |
T
