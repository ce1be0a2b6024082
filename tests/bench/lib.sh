# lib.sh - sourced by the benchmarks: a throwaway Norc in a fresh directory, on SQLite, or
# on MariaDB when NORC_BENCH_MARIADB_ENV names the env file of
# tests/integration/mariadb-tmp.sh; helpers to add schedules in bulk and to read numbers.
# Everything the benchmark started is killed and removed on exit.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${NORC_BUILD_BIN:-$bench_root/build/bin}
pids=()

bench_cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ "$backend" = mariadb ]; then
    mariadb --no-defaults -S "$MDB_SOCKET" -uroot -e "DROP DATABASE IF EXISTS $db" || true
  fi
  [ -d "$W/s3" ] && "$bench_root/tests/integration/s3-tmp.sh" stop "$W/s3" >/dev/null 2>&1
  rm -rf "$W"
}

# bench_init NAME: W (the directory), backend, db, sql, NORC_CONFIG; queue Q, task T
# (`/usr/bin/true`, or NORC_BENCH_COMMAND).
bench_init() {
  W=$(mktemp -d "${NORC_BENCH_DIR:-/tmp}/norc-$1.XXXXXX")
  if [ -n "${NORC_BENCH_MARIADB_ENV:-}" ]; then
    . "$NORC_BENCH_MARIADB_ENV"; backend=mariadb; db="norc_$1_$$"
    printf 'database: { backend = "mariadb"; socket = "%s"; user = "root"; password = ""; name = "%s"; };\n' "$MDB_SOCKET" "$db" >"$W/n.conf"
  else
    backend=sqlite; db=
    printf 'database: { path = "n.db"; };\n' >"$W/n.conf"
  fi
  trap bench_cleanup EXIT
  printf 'log_dir = "log"; tmp_dir = "tmp";\n' >>"$W/n.conf"
  # run as root (a bench box), tasks run as whoever started it
  printf 'tasks: { allow_root = true; };\n' >>"$W/n.conf"
  # NORC_BENCH_INCHILD=1: task T is a no-op in-child .so (the test plugin NoopTask:
  # run_child returns 0, no other hook) instead of a command
  [ -n "${NORC_BENCH_INCHILD:-}" ] && printf 'plugin_dirs = ["%s/../test-plugins/noop"];\n' "$B" >>"$W/n.conf"
  # NORC_BENCH_BACKUP=local|s3: logs are backed up (LocalBackup into $W/store, or S3 on a
  # private s3rver started here)
  case "${NORC_BENCH_BACKUP:-}" in
  local) printf 'backup: { plugin = "LocalBackup"; settings: { dir = "%s/store"; }; };\n' "$W" >>"$W/n.conf" ;;
  s3)
    "$bench_root/tests/integration/s3-tmp.sh" start "$W/s3" >/dev/null
    . "$W/s3/env"; export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET
    printf 'backup: { plugin = "S3"; settings: { endpoint = "%s"; path_style = true; bucket = "norc-bench"; create_bucket = true; }; };\n' "$S3_ENDPOINT" >>"$W/n.conf" ;;
  esac
  export NORC_CONFIG=$W/n.conf
  "$B/norc" init >/dev/null
  "$B/norc" queue add Q >/dev/null
  if [ -n "${NORC_BENCH_INCHILD:-}" ]; then
    "$B/norc" task add T --type NoopTask >/dev/null
  else
    # the program xargs runs; a bare `true` would be the shell's builtin (`sh -c true`)
    "$B/norc" task add T --command "${NORC_BENCH_COMMAND:-/usr/bin/true}" >/dev/null
  fi
}

sql() {
  if [ "$backend" = mariadb ]; then
    mariadb --no-defaults -S "$MDB_SOCKET" -uroot -N -B "$db" -e "SET SESSION max_recursive_iterations = 10000000; $1"
  else
    sqlite3 "$W/n.db" "$1"
  fi
}

# add_schedules COUNT KIND PERIOD CRON_PARTS FIRST_FIRE_SQL REPS: COUNT schedules of task T
# on queue Q in one statement; the SQL expressions may use i (0 .. COUNT-1); CRON_PARTS are
# concatenated (", " separates them).
add_schedules() {
  local cat="CONCAT($4)"
  [ "$backend" = sqlite ] && cat="((${4//, /) || (}))"
  sql "INSERT INTO schedules (task_id, queue_id, kind, period, cron, tz, start_at, next_fire, repetitions, remaining, catch_up, added) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1) SELECT 1, 1, '$2', $3, $cat, 'UTC', $5, $5, $6, $6, 1, 0 FROM n"
}

start_daemon() { "$@" >/dev/null 2>&1 & pids+=($!); }
stop_daemon() { kill -INT "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now_s() { date +%s.%N; }
now_us() { echo $(( $(date +%s%N) / 1000 )); }
# wait_for SQL VALUE: poll until the query answers VALUE
wait_for() { until [ "$(sql "$1")" = "$2" ]; do sleep 0.05; done; }
# pcts "µs values, one per line": "p50 / p95 / p99 / max" in ms
pcts() {
  sort -n | awk '{ a[NR] = $1 } END {
    n = split("50 95 99 100", p, " ")
    for (k = 1; k <= n; k++) { i = int(NR * p[k] / 100); if (i < 1) i = 1
      printf "%s%.1f", (k > 1 ? " / " : ""), a[i] / 1000 }
    printf " ms" }'
}
machine() { echo "$(nproc) cores, $(uname -r)"; }
