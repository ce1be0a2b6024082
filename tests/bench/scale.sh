#!/usr/bin/env bash
# scale.sh [N_IDLE] [N_LAG] - the scheduler at scale, on SQLite (or MariaDB with
# NORC_BENCH_MARIADB_ENV=<env file of tests/integration/mariadb-tmp.sh>):
#   - load: N_IDLE (default 100000) cron schedules that fire once a year; time until the
#     scheduler holds them all, its RSS then, and its CPU over an idle NORC_BENCH_IDLE_S
#     (default 60) seconds;
#   - burst: N_LAG (default 10000) schedules firing every minute, spread over the 60 seconds
#     (`S * * * * *`, about 167 fires a second); instance created minus nominal fire time,
#     p50/p95/p99/max over one full minute (no executor: the scheduler's own part).
# Schedules are inserted with one SQL statement (the CLI path is measured elsewhere). Prints a
# markdown table; asserts only that every schedule was claimed and every fire happened.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N_IDLE=${1:-100000}
N_LAG=${2:-10000}
IDLE_S=${NORC_BENCH_IDLE_S:-60}
bench_init scale

# 1. Load and idle.
add_schedules "$N_IDLE" cron 0 "'0 0 0 1 1 *'" 1893456000000000 0 # yearly; next 2030-01-01
t0=$(now_s)
start_daemon "$B/norc_scheduler"; spid=$!
wait_for "SELECT COUNT(*) FROM schedules WHERE lease_owner IS NOT NULL" "$N_IDLE"
t1=$(now_s)
load_s=$(echo "$t1 - $t0" | bc -l)
rss=$(rss_kb "$spid")
c0=$(cpu_ticks "$spid"); sleep "$IDLE_S"; c1=$(cpu_ticks "$spid")
idle_pct=$(echo "scale=3; ($c1 - $c0) * 100 / $(getconf CLK_TCK) / $IDLE_S" | bc -l | sed 's/^\./0./')
stop_daemon "$spid"
sql "DELETE FROM schedules" >/dev/null

# 2. Burst: N_LAG schedules, each once a minute at second (i mod 60). N_LAG 0 skips it (the
# CI smoke run).
lag_row="| burst fire lag | not measured (N_LAG 0) | |"; lag_rss=0
if [ "$N_LAG" -gt 0 ]; then
  start_us=$(( ($(date +%s) / 60 + 2) * 60 * 1000000 )) # a whole minute, at least 60 s away
  add_schedules "$N_LAG" cron 0 "i % 60, ' * * * * *'" "$start_us + (i % 60) * 1000000" 0
  start_daemon "$B/norc_scheduler"; spid=$!
  end_s=$(( start_us / 1000000 + 61 ))
  while [ "$(date +%s)" -lt "$end_s" ]; do sleep 1; done
  sleep 2
  w="fire_time < $start_us + 60000000"
  fired=$(sql "SELECT COUNT(*) FROM instances WHERE $w")
  [ "$fired" = "$N_LAG" ] || { echo "only $fired of $N_LAG fired in the measured minute" >&2; exit 1; }
  lag_rss=$(rss_kb "$spid")
  stop_daemon "$spid"
  lag_row="| burst: $N_LAG schedules each firing once a minute (~$((N_LAG / 60)) fires a second), instance created - nominal, one minute: p50 / p95 / p99 / max | $(sql "SELECT enqueued - fire_time FROM instances WHERE $w" | pcts) | |"
fi

cat <<T
| scheduler at scale ($backend, $(machine)) | value | target |
| --- | --- | --- |
| $N_IDLE cron schedules: claimed and loaded | $(printf '%.2f' "$load_s") s | 5 s |
| scheduler RSS holding them | $((rss / 1024)) MB | 50 MB |
| scheduler CPU while idle ($IDLE_S s, no fire due) | $idle_pct % | 0.5 % |
$lag_row
| scheduler RSS after the burst | $([ "$N_LAG" -gt 0 ] && echo "$((lag_rss / 1024)) MB" || echo -) | |
T
