#!/usr/bin/env bash
# cli.sh sqlite|mariadb - drives the real `norc` binary end to end on one backend: the
# platform issue's acceptance sequence, then bad input (each: one clear line, the right exit
# code, nothing half-written). Needs NORC_BIN; for mariadb NORC_TEST_MARIADB_ENV.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
backend=${1:?sqlite|mariadb}
: "${NORC_BIN:?path of the norc binary}"

conf="$WORK/norc.conf"
case "$backend" in
sqlite)
  cat >"$conf" <<CONF
database: { backend = "sqlite"; path = "state/norc.db"; };
log_dir = "state/log";
tmp_dir = "state/tmp";
CONF
  sql() { sqlite3 "$WORK/state/norc.db" "$1"; } ;;
mariadb)
  . "${NORC_TEST_MARIADB_ENV:?env file of the test MariaDB server}"
  dbname="norc_cli_$$"
  cat >"$conf" <<CONF
database: { backend = "mariadb"; socket = "$MDB_SOCKET"; user = "root"; password = ""; name = "$dbname"; };
log_dir = "state/log";
tmp_dir = "state/tmp";
CONF
  sql() { mariadb --no-defaults -S "$MDB_SOCKET" -uroot -N -B "$dbname" -e "$1"; }
  trap 'mariadb --no-defaults -S "$MDB_SOCKET" -uroot -e "DROP DATABASE IF EXISTS $dbname" >/dev/null 2>&1; rm -rf "$WORK"' EXIT ;;
*) echo "unknown backend $backend" >&2; exit 2 ;;
esac
export NORC_CONFIG="$conf"
norc() { "$NORC_BIN" "$@"; }

echo "# backend $backend"
if [ "$backend" = sqlite ]; then
  expect_fail "a command before init says to run norc init" 1 "does not exist; run .norc init. to create it" norc task list
  [ ! -e "$WORK/state" ] && ok "a command before init creates nothing" || bad "state created before init"
else
  expect_fail "a command before init says to run norc init" 1 "does not exist on .*run .norc init." norc task list
fi
expect_ok "norc init" norc init
expect_out "init reports schema version 1" "initialized at schema version 1 \(was 0\)"
expect_ok "norc init again is harmless" norc init
expect_out "second init changes nothing" "already at schema version 1"
[ -d "$WORK/state/log" ] && [ -d "$WORK/state/tmp" ] && ok "init created log_dir and tmp_dir" || bad "log/tmp dirs missing"

# The acceptance sequence of the platform issue.
expect_ok "queue add DemoQueue" norc queue add DemoQueue
expect_ok "task add DemoTask" norc task add DemoTask --command "echo 'Demo successful!'"
expect_out "task add prints the id" "task DemoTask added \(id [0-9]+, type CommandTask\)"
expect_ok "schedule add" norc schedule add DemoTask --queue DemoQueue --period 5 --reps 5
expect_ok "task list" norc task list
expect_out "task list has a header" "^ID +NAME +TYPE +TIMEOUT +NICE +RETRIES +SCHEDULES"
expect_out "task list shows DemoTask with one schedule" "DemoTask +CommandTask +0 +0 +0 +1"
expect_ok "schedule list" norc schedule list
expect_out "schedule list shows the schedule" "DemoTask +DemoQueue +period +5 +- +- +5 +latest"
expect_ok "task list --json" norc task list --json
expect_json "task list --json content" "j[0]['name']=='DemoTask' and j[0]['params']=='{\"command\":\"echo \\'Demo successful!\\'\"}' and j[0]['schedules']==1"
expect_ok "schedule list --json" norc --json schedule list
expect_json "schedule list --json content" "j[0]['period']==5 and j[0]['remaining']==5 and j[0]['kind']=='period' and j[0]['next_fire'].endswith('Z')"
expect_ok "queue list" norc queue list
expect_out "queue list shows DBQueue with 0 items" "DemoQueue +DBQueue +0"
expect_ok "task show by name" norc task show DemoTask
expect_out "task show prints params" "params: +\{\"command\""
id=$(sql "SELECT id FROM tasks WHERE name='DemoTask'")
expect_ok "task show by id" norc task show "$id"
expect_ok "task show by #id" norc task show "#$id"
expect_ok "instance list (empty)" norc instance list
expect_out "instance list header" "^ID +TASK +JOB +STATUS"

# Other task options and types.
expect_ok "task add with options" norc task add Nightly.backup-1 --command "true" --timeout 5m --nice 10 --description "nightly"
expect_out "timeout parsed" "Nightly.backup-1 added"
[ "$(sql "SELECT timeout, nice FROM tasks WHERE name='Nightly.backup-1'" | tr '|\t' '  ')" = "300 10" ] && ok "timeout 5m stored as 300 s, nice 10" || bad "timeout/nice stored wrong"
expect_ok "schedule add --start +60 --reps 0 --make-up" norc schedule add Nightly.backup-1 --queue DemoQueue --period 1h --reps 0 --start +60 --make-up
expect_ok "schedule add with an absolute start" norc schedule add Nightly.backup-1 --queue DemoQueue --period 1d --start "2030-01-02 03:04:05"
expect_ok "schedule list --task" norc schedule list --task Nightly.backup-1 --json
expect_json "schedule --start absolute stored" "any(s['next_fire']=='2030-01-02 03:04:05Z' for s in j) and len(j)==2"

# Bad input: one line naming the object and the fix, exit 1 (or 2 for usage), nothing written.
count() { sql "SELECT (SELECT COUNT(*) FROM tasks) + (SELECT COUNT(*) FROM queues) + (SELECT COUNT(*) FROM schedules)"; }
before=$(count)
expect_fail "duplicate task name" 1 "task 'DemoTask' already exists" norc task add DemoTask --command true
expect_fail "duplicate queue name" 1 "queue 'DemoQueue' already exists" norc queue add DemoQueue
expect_fail "unknown queue in schedule add" 1 "queue 'NoSuchQueue' does not exist; .norc queue list" norc schedule add DemoTask --queue NoSuchQueue --period 5
expect_fail "unknown task in schedule add" 1 "task 'NoSuchTask' does not exist" norc schedule add NoSuchTask --queue DemoQueue --period 5
expect_fail "unknown task type" 1 "no task plugin named 'ShellTask'" norc task add T1 --type ShellTask --param x=1
expect_fail "CommandTask without command" 1 "CommandTask needs a command" norc task add T2
expect_fail "CommandTask unknown parameter" 1 "has no parameter .*: colour" norc task add T3 --command true --param colour=red
expect_fail "unknown queue type" 1 "no queue plugin named 'SQS'" norc queue add Q1 --type SQS
expect_fail "DBQueue takes no parameters" 1 "DBQueue takes no parameters" norc queue add Q2 --param x=1
expect_fail "bad task name" 2 "character '/' is not allowed" norc task add a/b --command true
expect_fail "digits-only name" 2 "only digits" norc task add 123 --command true
expect_fail "bad --nice" 2 "--nice '99'" norc task add T4 --command true --nice 99
expect_fail "bad --timeout" 2 "--timeout 'soon'" norc task add T4 --command true --timeout soon
expect_fail "bad --period" 2 "--period '5x'" norc schedule add DemoTask --queue DemoQueue --period 5x
expect_fail "period 0 forever" 2 "would fire forever" norc schedule add DemoTask --queue DemoQueue --period 0 --reps 0
expect_fail "bad --start" 2 "--start 'yesterday'" norc schedule add DemoTask --queue DemoQueue --period 5 --start yesterday
expect_fail "missing --queue" 2 "--queue QUEUE is required" norc schedule add DemoTask --period 5
expect_fail "unknown option" 2 "unknown option --bogus" norc task list --bogus
expect_fail "unknown subcommand" 2 "'frob' is not a subcommand of .norc task" norc task frob
expect_fail "unknown command" 2 "unknown command 'frob'" norc frob
expect_fail "bad --param" 2 "has no '='" norc task add T5 --param oops
expect_fail "bad status filter" 2 "--status 'DONE' is not a status" norc instance list --status DONE
expect_fail "instance that does not exist" 1 "instance #999 does not exist" norc instance show 999
expect_fail "schedule rm unknown" 1 "schedule #999 does not exist" norc schedule rm 999
expect_fail "task rm with schedules refused" 1 "has 1 schedule\(s\); remove them first, or pass --force" norc task rm DemoTask
expect_fail "queue rm with schedules refused" 1 "is used by 3 schedule\(s\)" norc queue rm DemoQueue
[ "$(count)" = "$before" ] && ok "nothing was written by the refused commands" || bad "row count changed: $before -> $(count)"

# Removal: soft, and the name can be used again.
sid=$(sql "SELECT id FROM schedules WHERE task_id=$id")
expect_ok "schedule rm" norc schedule rm "$sid"
expect_ok "task rm after its schedule is gone" norc task rm DemoTask
expect_fail "removed task is gone" 1 "task 'DemoTask' does not exist" norc task show DemoTask
expect_ok "the name can be reused" norc task add DemoTask --command "echo again"
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE name LIKE 'DemoTask%'")" = 2 ] && ok "the removed task row is kept for history" || bad "removed task row not kept"
expect_ok "task rm --force removes its schedules" norc task rm Nightly.backup-1 --force
[ "$(sql "SELECT COUNT(*) FROM schedules WHERE deleted=0")" = 0 ] && ok "schedules of the forced task removed" || bad "schedules left"
expect_ok "queue rm once no schedule uses it" norc queue rm DemoQueue
expect_ok "help on every command" norc schedule add --help
expect_out "help text" "usage: norc schedule add TASK"

# Config and database problems.
expect_ok "config check" norc config check
expect_out "config check prints the backend" "database.backend = \"$backend\""
printf 'database: { backend = "sqlite"; path = "x.db"; };\nlog_dri = "x";\n' >"$WORK/bad.conf"
expect_fail "unknown config key names file and line" 1 "bad.conf:2: log_dri: unknown setting" norc -C "$WORK/bad.conf" task list
expect_fail "missing config file" 1 "cannot read it .*pass -C FILE" norc -C "$WORK/none.conf" task list
if [ "$backend" = mariadb ]; then
  printf 'database: { backend = "mariadb"; host = "127.0.0.1"; port = %s; user = "root"; password_env = "NORC_TEST_EMPTY"; name = "%s"; };\n' "$MDB_PORT" "$dbname" >"$WORK/tcp.conf"
  NORC_TEST_EMPTY= expect_ok "TCP connection with the password from the environment" env NORC_TEST_EMPTY= "$NORC_BIN" -C "$WORK/tcp.conf" task list
  expect_out "TCP connection sees the same tasks" "DemoTask"
  printf 'database: { backend = "mariadb"; socket = "%s/nope.sock"; user = "root"; name = "x"; };\n' "$WORK" >"$WORK/down.conf"
  expect_fail "unreachable database" 1 "is mariadbd running" norc -C "$WORK/down.conf" task list
  printf 'database: { backend = "mariadb"; socket = "%s"; user = "root"; password = "wrong-secret"; name = "%s"; };\n' "$MDB_SOCKET" "$dbname" >"$WORK/pw.conf"
  run norc -C "$WORK/pw.conf" task list
  { [ "$RC" = 1 ] && ! grep -q wrong-secret "$ERR"; } && ok "wrong password: exit 1, password not printed" || bad "wrong password handling"
else
  printf 'database: { backend = "sqlite"; path = "/nonexistent/dir/x.db"; };\n' >"$WORK/down.conf"
  printf 'this is not an sqlite database, only text long enough for sqlite to read a header\n' >"$WORK/junk.db"
  printf 'database: { backend = "sqlite"; path = "junk.db"; };\n' >"$WORK/junk.conf"
  expect_fail "a file that is not an SQLite database" 1 "junk.db: sqlite: file is not a database" norc -C "$WORK/junk.conf" task list
  expect_fail "missing sqlite file" 1 "sqlite file /nonexistent/dir/x.db does not exist; run .norc init." norc -C "$WORK/down.conf" task list
fi
sql "UPDATE norc_schema SET version = 99"
expect_fail "a newer schema is refused" 1 "schema version 99, newer than this norc" norc task list
expect_fail "init refuses a newer schema too" 1 "newer than this norc" norc init
sql "UPDATE norc_schema SET version = 1"

finish
