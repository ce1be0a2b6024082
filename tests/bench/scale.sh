#!/usr/bin/env bash
# scale.sh [N_IDLE] [N_LAG] [--write] - the scheduler at scale, on SQLite (or MariaDB with
# NORC_BENCH_MARIADB_ENV=<env file of tests/integration/mariadb-tmp.sh>):
#   - load: N_IDLE (default 100000) cron schedules that fire once a year; time until the
#     scheduler holds them all, its RSS then, and its CPU over an idle 30 s;
#   - fire lag: N_LAG (default 10000) schedules firing every minute, spread over the 60
#     seconds (`S * * * * *`); instance created minus nominal fire time, p50/p95/p99/max
#     over one full minute of fires.
# Schedules are inserted with one SQL statement (the CLI path is measured elsewhere). A
# benchmark: it prints a table (and with --write appends it to docs/performance.md); it
# asserts only that every schedule was claimed and every fire happened.
set -euo pipefail
N_IDLE=${1:-100000}
N_LAG=${2:-10000}
write=${3:-}
IDLE_S=${NORC_BENCH_IDLE_S:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
B=${NORC_BUILD_BIN:-$root/build/bin}
W=$(mktemp -d /tmp/norc-scale.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
if [ -n "${NORC_BENCH_MARIADB_ENV:-}" ]; then
  . "$NORC_BENCH_MARIADB_ENV"; backend=mariadb; db="norc_scale_$$"
  printf 'database: { backend = "mariadb"; socket = "%s"; user = "root"; password = ""; name = "%s"; };\n' "$MDB_SOCKET" "$db" >"$W/n.conf"
  sql() { mariadb --no-defaults -S "$MDB_SOCKET" -uroot -N -B "$db" -e "$1"; }
  seq_sql() { echo "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1)"; }
else
  backend=sqlite
  printf 'database: { path = "n.db"; };\n' >"$W/n.conf"
  sql() { sqlite3 "$W/n.db" "$1"; }
  seq_sql() { echo "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1)"; }
fi
printf 'log_dir = "log"; tmp_dir = "tmp";\n' >>"$W/n.conf"
export NORC_CONFIG=$W/n.conf
"$B/norc" init >/dev/null
"$B/norc" queue add Q >/dev/null
"$B/norc" task add T --command true >/dev/null
add_schedules() { # add_schedules COUNT CRON_SQL_EXPR FIRST_FIRE_SQL_EXPR
  local ins="INSERT INTO schedules (task_id, queue_id, kind, period, cron, tz, start_at, next_fire, repetitions, remaining, catch_up, added) $(seq_sql "$1") SELECT 1, 1, 'cron', 0, $2, 'UTC', $3, $3, 0, 0, 1, 0 FROM n"
  if [ "$backend" = mariadb ]; then
    mariadb --no-defaults -S "$MDB_SOCKET" -uroot -N -B "$db" -e "SET SESSION max_recursive_iterations = 10000000; $ins"
  else
    sql "$ins"
  fi
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now_s() { date +%s.%N; }

# 1. Load and idle.
add_schedules "$N_IDLE" "'0 0 0 1 1 *'" "1893456000000000" # yearly; next 2030-01-01
t0=$(now_s)
"$B/norc_scheduler" >/dev/null 2>&1 & spid=$!; pids+=($spid)
until [ "$(sql "SELECT COUNT(*) FROM schedules WHERE lease_owner IS NOT NULL")" = "$N_IDLE" ]; do sleep 0.1; done
t1=$(now_s)
load_s=$(echo "$t1 - $t0" | bc -l)
rss=$(rss_kb "$spid")
c0=$(cpu_ticks "$spid"); sleep "$IDLE_S"; c1=$(cpu_ticks "$spid")
hz=$(getconf CLK_TCK)
idle_pct=$(echo "scale=3; ($c1 - $c0) * 100 / $hz / $IDLE_S" | bc -l)
kill -INT "$spid"; wait "$spid" 2>/dev/null || true
sql "DELETE FROM schedules" >/dev/null

# 2. Fire lag: N_LAG schedules, each once a minute at second (i mod 60). N_LAG 0 skips it
# (the CI smoke run).
lag_row="| fire lag | not measured (N_LAG 0) | |"; lag_rss=0
if [ "$N_LAG" -gt 0 ]; then
start_us=$(( ($(date +%s) / 60 + 2) * 60 * 1000000 )) # a whole minute, at least 60 s away
add_schedules "$N_LAG" "CONCAT(i % 60, ' * * * * *')" "$start_us + (i % 60) * 1000000" 2>/dev/null ||
  add_schedules "$N_LAG" "(i % 60) || ' * * * * *'" "$start_us + (i % 60) * 1000000"
"$B/norc_scheduler" >/dev/null 2>&1 & spid=$!; pids+=($spid)
end_s=$(( start_us / 1000000 + 61 ))
while [ "$(date +%s)" -lt "$end_s" ]; do sleep 1; done
sleep 2
fired=$(sql "SELECT COUNT(*) FROM instances WHERE fire_time < $start_us + 60000000")
[ "$fired" = "$N_LAG" ] || { echo "only $fired of $N_LAG fired in the measured minute" >&2; exit 1; }
lags=$(sql "SELECT enqueued - fire_time FROM instances WHERE fire_time < $start_us + 60000000" | sort -n)
pct() { echo "$lags" | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100); if (i < 1) i = 1; printf "%.1f", a[i] / 1000 }'; }
lag_rss=$(rss_kb "$spid")
kill -INT "$spid"; wait "$spid" 2>/dev/null || true
lag_row="| fire lag (instance created - nominal), $N_LAG schedules each firing once a minute, one minute: p50 / p95 / p99 / max | $(pct 50) / $(pct 95) / $(pct 99) / $(pct 100) ms | p99 10 ms (SQLite), 50 ms (MariaDB) |"
fi

table=$(cat <<T
| scheduler at scale ($backend, $(nproc) cores) | value | target |
| --- | --- | --- |
| $N_IDLE cron schedules: claimed and loaded | $(printf '%.2f' "$load_s") s | 5 s |
| scheduler RSS holding them | $((rss / 1024)) MB | 50 MB |
| scheduler CPU while idle (${IDLE_S} s, no fire due) | ${idle_pct} % | 0.5 % |
$lag_row
| scheduler RSS then | $((lag_rss / 1024)) MB | |
T
)
echo "$table"
if [ "$write" = --write ]; then
  {
    echo
    echo "## Scheduler at scale ($backend)"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(uname -srm), by \`tests/bench/scale.sh $N_IDLE $N_LAG --write\`."
    echo
    echo "$table"
  } >>"$root/docs/performance.md"
fi
[ "$backend" = mariadb ] && mariadb --no-defaults -S "$MDB_SOCKET" -uroot -e "DROP DATABASE $db" || true
