# lib.sh - helpers for the integration scripts (sourced). Each check prints one line; the
# script exits non-zero at the end if any failed, with a count line ctest output shows.
set -u
PASS=0
FAIL=0
WORK=$(mktemp -d /tmp/norc-it.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/out"
ERR="$WORK/err"

ok()   { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL - $*"; sed 's/^/       out: /' "$OUT" | head -20; sed 's/^/       err: /' "$ERR" | head -20; }

# run CMD...: runs it, capturing stdout/stderr and the exit code in $RC.
run() { "$@" >"$OUT" 2>"$ERR"; RC=$?; }

# expect_ok DESC CMD...: exit 0.
expect_ok() { local d=$1; shift; run "$@"; [ "$RC" = 0 ] && ok "$d" || bad "$d (exit $RC)"; }

# expect_fail DESC CODE REGEX CMD...: exit CODE, stderr matches REGEX and is one line.
expect_fail() {
  local d=$1 code=$2 re=$3; shift 3; run "$@"
  if [ "$RC" != "$code" ]; then bad "$d (exit $RC, wanted $code)"; return; fi
  if ! grep -Eq -- "$re" "$ERR"; then bad "$d (stderr does not match /$re/)"; return; fi
  if [ "$(grep -c . "$ERR")" != 1 ]; then bad "$d (stderr is not one line)"; return; fi
  ok "$d"
}

# expect_out DESC REGEX: the last run's stdout matches REGEX.
expect_out() { grep -Eq -- "$2" "$OUT" && ok "$1" || bad "$1 (stdout does not match /$2/)"; }
expect_no_out() { grep -Eq -- "$2" "$OUT" && bad "$1 (stdout matches /$2/)" || ok "$1"; }
# expect_json DESC PYEXPR: stdout parses as JSON and PYEXPR (over `j`) is true.
expect_json() {
  if /usr/bin/python3 -c "import json,sys; j=json.load(open('$OUT')); sys.exit(0 if ($2) else 1)" 2>>"$ERR"
  then ok "$1"; else bad "$1 (json check: $2)"; fi
}

finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; }

# daemons_setup sqlite|mariadb DBPREFIX DAEMON_CONF - for scripts that run daemons: sets
# $backend, $bindir, $conf (written: the database plus DAEMON_CONF), $dbline (the database
# line alone), $dbconf (it plus `tasks: { allow_root = true; };`: the tests run as root, and
# a root executor refuses to run tasks as root without it; left out of $conf when
# DAEMON_CONF has its own tasks group), exports NORC_CONFIG, defines sql (prints query results), norc, ctl, wait_for,
# and a trap that kills every pid in ${pids[@]} (thawing stopped ones) and drops the database.
daemons_setup() {
  backend=${1:?sqlite|mariadb}
  : "${NORC_BIN:?}"
  bindir=$(dirname "$NORC_BIN")
  conf="$WORK/norc.conf"
  pids=()
  trap daemons_cleanup EXIT
  case "$backend" in
  sqlite)
    dbconf='database: { path = "norc.db"; };'
    sql() { sqlite3 -cmd ".timeout 5000" "$WORK/norc.db" "$1"; } ;;
  mariadb)
    . "${NORC_TEST_MARIADB_ENV:?}"; dbname="${2}_$$"
    dbconf=$(printf 'database: { backend = "mariadb"; socket = "%s"; user = "root"; password = ""; name = "%s"; };' "$MDB_SOCKET" "$dbname")
    sql() { mariadb --no-defaults -S "$MDB_SOCKET" -uroot -N -B "$dbname" -e "$1"; } ;;
  *) echo "backend: sqlite or mariadb"; exit 2 ;;
  esac
  dbline=$dbconf
  dbconf=$(printf '%s\ntasks: { allow_root = true; };' "$dbline")
  case "$3" in
  *tasks:*) printf '%s\n%s\n' "$dbline" "$3" >"$conf" ;;
  *) printf '%s\n%s\n' "$dbconf" "$3" >"$conf" ;;
  esac
  export NORC_CONFIG="$conf"
}
daemons_cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  [ "$backend" = mariadb ] && mariadb --no-defaults -S "$MDB_SOCKET" -uroot -e "DROP DATABASE IF EXISTS $dbname" >/dev/null 2>&1
  rm -rf "$WORK"
}
norc() { "$NORC_BIN" "$@"; }
ctl() { "$(dirname "$NORC_BIN")/norc_control" "$@"; }
# wait_for SECONDS SQL EXPECTED: poll the database until SQL prints EXPECTED.
wait_for() {
  local t=$1 q=$2 want=$3 got
  for _ in $(seq 1 $((t * 10))); do got=$(sql "$q"); [ "$got" = "$want" ] && return 0; sleep 0.1; done
  echo "       waited $t s for [$q] = $want, last value: $got"; return 1
}
