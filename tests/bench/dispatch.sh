#!/usr/bin/env bash
# dispatch.sh [N] [--write] - Norc's dispatch throughput and fire lag on this machine, beside
# the fork+exec floor measured in the same run.
#   - N CommandTask `true` instances (default 500) through one norc_executor -c 2, logs on,
#     against `xargs -P2 -n1 true` over the same N;
#   - fire lag (process start minus nominal fire time) over 120 fires of 20 one-second
#     schedules.
# SQLite by default; NORC_BENCH_MARIADB_ENV=<env file of mariadb-tmp.sh> runs it on MariaDB.
# --write also writes docs/performance.md. A benchmark, not a test: it asserts nothing except
# that every instance succeeded.
set -euo pipefail
N=${1:-500}
write=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
B=${NORC_BUILD_BIN:-$root/build/bin}
W=$(mktemp -d /tmp/norc-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
if [ -n "${NORC_BENCH_MARIADB_ENV:-}" ]; then
  . "$NORC_BENCH_MARIADB_ENV"; backend=mariadb; db="norc_bench_$$"
  printf 'database: { backend = "mariadb"; socket = "%s"; user = "root"; password = ""; name = "%s"; };\n' "$MDB_SOCKET" "$db" >"$W/n.conf"
  sql() { mariadb --no-defaults -S "$MDB_SOCKET" -uroot -N -B "$db" -e "$1"; }
else
  backend=sqlite
  printf 'database: { path = "n.db"; };\n' >"$W/n.conf"
  sql() { sqlite3 "$W/n.db" "$1"; }
fi
export NORC_CONFIG=$W/n.conf
now() { date +%s.%N; }
"$B/norc" init >/dev/null
"$B/norc" queue add Q >/dev/null
"$B/norc" task add T --command true >/dev/null

# 1. N instances, enqueued first, then drained by one executor with 2 slots.
for _ in $(seq 1 "$N"); do "$B/norc" run T --queue Q >/dev/null; done
t0=$(now)
"$B/norc_executor" Q -c 2 >/dev/null 2>&1 & pids+=($!)
until [ "$(sql "SELECT COUNT(*) FROM instances WHERE status >= 7")" = "$N" ]; do sleep 0.05; done
t1=$(now)
ok=$(sql "SELECT COUNT(*) FROM instances WHERE status = 7")
[ "$ok" = "$N" ] || { echo "only $ok of $N succeeded" >&2; exit 1; }
span=$(sql "SELECT (MAX(ended) - MIN(started)) / 1000 FROM instances")
t2=$(now)
seq 1 "$N" | xargs -P2 -n1 true
t3=$(now)
norc_s=$(echo "$t1 - $t0" | bc -l); xargs_s=$(echo "$t3 - $t2" | bc -l)

# 2. Fire lag over 120 fires.
"$B/norc_scheduler" >/dev/null 2>&1 & pids+=($!)
for i in $(seq 1 20); do
  "$B/norc" task add L$i --command true >/dev/null
  "$B/norc" schedule add L$i --queue Q --period 1 --reps 6 --start +2 >/dev/null
done
until [ "$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id IS NOT NULL AND status >= 7")" = 120 ]; do sleep 0.2; done
lags=$(sql "SELECT started - fire_time FROM instances WHERE schedule_id IS NOT NULL" | sort -n)
pct() { echo "$lags" | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100); if (i < 1) i = 1; printf "%.1f", a[i] / 1000 }'; }
p50=$(pct 50); p99=$(pct 99); pmax=$(pct 100)

table=$(cat <<T
| measure ($backend, $(nproc) cores) | value |
| --- | --- |
| $N \`true\` instances, norc_executor -c 2, logs on | $(printf '%.2f' "$norc_s") s ($(echo "scale=2; $norc_s * 1000 / $N" | bc) ms each; first start to last end $(echo "scale=2; $span / 1000" | bc) s) |
| $N \`true\`, \`xargs -P2 -n1 true\` | $(printf '%.2f' "$xargs_s") s ($(echo "scale=2; $xargs_s * 1000 / $N" | bc) ms each) |
| ratio norc / xargs | $(echo "scale=1; $norc_s / $xargs_s" | bc) |
| fire lag p50 / p99 / max over 120 fires | $p50 / $p99 / $pmax ms |
T
)
echo "$table"
if [ "$write" = --write ]; then
  {
    echo "# Performance"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(uname -srm), $(nproc) cores, by \`tests/bench/dispatch.sh $N --write\`"
    echo "(\`NORC_BENCH_MARIADB_ENV=... tests/bench/dispatch.sh\` for MariaDB). The xargs line is the fork+exec"
    echo "floor of the same machine in the same run (../shared/reference/env.md section 6d saw 2-3 ms per process on this machine kind)."
    echo
    echo "$table"
  } >"$root/docs/performance.md"
fi
[ "$backend" = mariadb ] && mariadb --no-defaults -S "$MDB_SOCKET" -uroot -e "DROP DATABASE $db" || true
