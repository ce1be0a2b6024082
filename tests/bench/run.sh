#!/usr/bin/env bash
# run.sh [--quick] [--write] - every benchmark in one run, on this machine: dispatch (SQLite
# with the work directory on disk and on tmpfs, MariaDB), fire lag (1,000 and 10,000 active
# cron schedules, both backends), scale (100,000 schedules and a 10,000-schedule burst, both
# backends), footprint, and the peers (tests/bench/peers.sh; needs
# `scripts/install-deps.sh bench`). MariaDB is a private server started here on /dev/shm
# (tests/integration/mariadb-tmp.sh) unless NORC_BENCH_MARIADB_ENV names one.
# --quick: small sizes and short windows (a few minutes instead of about 20).
# --write: replace the measured part of docs/performance.md (between its bench markers).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
quick=0; write=0
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;; --write) write=1 ;;
    *) echo "run.sh: unknown option $a (use --quick, --write)" >&2; exit 2 ;;
  esac
done
[ -x "${NORC_BUILD_BIN:-$root/build/bin}/norc" ] || "$root/scripts/build.sh" >/dev/null
if [ "$quick" = 1 ]; then
  D=200; L=60; LAG=(1000); SECS=10; IDLE=10000; BURST=1000; IDLE_S=10; FOOT=10; PEERS=200
  export NORC_BENCH_SLURM_N=50 NORC_BENCH_CRON_FIRES=1
else
  D=1000; L=60; LAG=(1000 10000); SECS=60; IDLE=100000; BURST=10000; IDLE_S=60; FOOT=60; PEERS=1000
fi
doc=$root/docs/performance.md
if [ "$write" = 1 ] && ! grep -q '<!-- bench:begin' "$doc"; then
  echo "run.sh: $doc has no <!-- bench:begin --> ... <!-- bench:end --> markers; add them" >&2; exit 2
fi
out=$(mktemp /tmp/norc-bench-out.XXXXXX)
mdb=""
cleanup() { [ -n "$mdb" ] && "$root/tests/integration/mariadb-tmp.sh" stop "$mdb" >/dev/null 2>&1 || true; rm -f "$out"; }
trap cleanup EXIT
if [ -z "${NORC_BENCH_MARIADB_ENV:-}" ] && command -v mariadbd >/dev/null; then
  mdb=$(mktemp -d /dev/shm/norc-bench-mdb.XXXXXX)
  "$root/tests/integration/mariadb-tmp.sh" start "$mdb" >/dev/null
  export NORC_BENCH_MARIADB_ENV=$mdb/env
fi
M=${NORC_BENCH_MARIADB_ENV:-}
t_start=$(date +%s)
section() { echo; echo "### $1"; echo; }
one() { # one ENV... SCRIPT ARGS...: a benchmark; its failure is reported, not fatal
  env "$@" || echo "(FAILED: $*; exit $?)"; echo
}
both() { # both SCRIPT ARGS...: the script on SQLite, then on MariaDB when there is one
  local s=$1; shift
  one -u NORC_BENCH_MARIADB_ENV "$here/$s" "$@"
  if [ -n "$M" ]; then one NORC_BENCH_MARIADB_ENV="$M" "$here/$s" "$@"; fi
}
{
  section "Dispatch: $D instances end to end, against xargs"
  one -u NORC_BENCH_MARIADB_ENV "$here/dispatch.sh" "$D"
  one -u NORC_BENCH_MARIADB_ENV NORC_BENCH_DIR=/dev/shm "$here/dispatch.sh" "$D"
  if [ -n "$M" ]; then one NORC_BENCH_MARIADB_ENV="$M" NORC_BENCH_DIR=/dev/shm "$here/dispatch.sh" "$D"; fi
  one -u NORC_BENCH_MARIADB_ENV NORC_BENCH_DIR=/dev/shm NORC_BENCH_INCHILD=1 "$here/dispatch.sh" "$D"
  one -u NORC_BENCH_MARIADB_ENV NORC_BENCH_DIR=/dev/shm NORC_BENCH_BACKUP=local "$here/dispatch.sh" "$D"
  one -u NORC_BENCH_MARIADB_ENV NORC_BENCH_DIR=/dev/shm NORC_BENCH_BACKUP=s3 "$here/dispatch.sh" "$D"
  if [ -n "$M" ]; then one NORC_BENCH_MARIADB_ENV="$M" NORC_BENCH_DIR=/dev/shm NORC_BENCH_INCHILD=1 "$here/dispatch.sh" "$D"; fi
  section "Fire lag: process start against the nominal time"
  for n in "${LAG[@]}"; do both firelag.sh "$n" "$SECS"; done
  section "Scale: $IDLE schedules, and a burst of $BURST schedules a minute"
  export NORC_BENCH_IDLE_S=$IDLE_S
  both scale.sh "$IDLE" "$BURST"
  section "Jobs: what running as a job's node costs"
  both jobs.sh "$D" 100
  section "Footprint"
  both footprint.sh "$FOOT"
  section "Peers, same machine, same run"
  one "$here/peers.sh" "$PEERS"
} | tee "$out"
if [ "$write" = 1 ]; then
  head=$(sed -n '1,/<!-- bench:begin/p' "$doc")
  tail=$(sed -n '/<!-- bench:end -->/,$p' "$doc")
  {
    echo "$head"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, by \`tests/bench/run.sh$([ "$quick" = 1 ] && echo ' --quick') --write\` ($(( ($(date +%s) - t_start) / 60 )) min). MariaDB $(mariadbd --version 2>/dev/null | awk '{ print $3 }'): private server, datadir on /dev/shm, \`innodb_flush_log_at_trx_commit=2\`."
    cat "$out"
    echo
    echo "$tail"
  } >"$doc.new"
  mv "$doc.new" "$doc"
  echo "run.sh: wrote $doc"
fi
