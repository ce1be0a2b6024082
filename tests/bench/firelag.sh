#!/usr/bin/env bash
# firelag.sh [N] [SECONDS] - fire lag with N active cron schedules (default 10000): the
# scheduler holds all N, of which 2 fire every second (rules `S * * * * *`, two per second
# S) and the rest once a year; one norc_executor -c 2 runs the instances. Over SECONDS
# (default 60) of fires: instance created minus nominal fire time (the scheduler's part) and
# process start minus nominal fire time (what a user sees), p50/p95/p99/max.
# SQLite by default; NORC_BENCH_MARIADB_ENV=<env file> for MariaDB. Prints a markdown table;
# asserts only that every due fire happened.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-10000}
SECS=${2:-60}
bench_init firelag
idle=$(( N - 120 ))
[ "$idle" -ge 0 ] || { echo "N must be at least 120" >&2; exit 2; }
# the window starts 5 s (plus 1 s per 10,000 schedules) from now, once everything is loaded;
# the 120 busy schedules fire at its seconds 0..59, two at each
start_s=$(( $(date +%s) + 5 + N / 10000 ))
start_us=$(( start_s * 1000000 ))
[ "$idle" -gt 0 ] && add_schedules "$idle" cron 0 "'0 0 0 1 1 *'" 1893456000000000 0
add_schedules 120 cron 0 "(($start_s + i % 60) % 60), ' * * * * *'" "$start_us + (i % 60) * 1000000" 0
start_daemon "$B/norc_executor" Q -c 2
start_daemon "$B/norc_scheduler"; spid=$!
end_us=$(( start_us + SECS * 1000000 ))
while [ "$(now_us)" -lt $(( end_us + 2000000 )) ]; do sleep 1; done
rss=$(rss_kb "$spid")
want=$(( SECS * 2 ))
w="fire_time >= $start_us AND fire_time < $end_us"
wait_for "SELECT COUNT(*) FROM instances WHERE $w AND status >= 7" "$want"
created=$(sql "SELECT enqueued - fire_time FROM instances WHERE $w" | pcts)
started=$(sql "SELECT started - fire_time FROM instances WHERE $w" | pcts)
cat <<T
| fire lag, $N active cron schedules ($backend, $(machine)), $want fires over $SECS s | p50 / p95 / p99 / max | target p99 |
| --- | --- | --- |
| instance created - nominal fire time | $created | |
| process started - nominal fire time | $started | 10 ms (SQLite), 50 ms (MariaDB) |
| scheduler RSS | $((rss / 1024)) MB | |
T
