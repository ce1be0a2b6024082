#!/usr/bin/env bash
# backup.sh sqlite|mariadb - log backup end to end through the real daemons: every finished
# log reaches the store (LocalBackup, then S3 on a local s3rver), pending uploads survive a
# kill -9 of the executor and an unreachable store, daemon logs are uploaded when the daemon
# ends, the retention deletes uploaded local copies, and norc_log_viewer reads local files,
# the store (-r), '#ID' and follows (-f) a running log.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
store="$WORK/store"
mkdir -p "$store"
daemons_setup "${1:-}" norc_backup "$(cat <<EOF
log_dir = "log";
daemon: { heartbeat = 1; heartbeat_timeout = 3; };
backup: { plugin = "LocalBackup"; timeout = 20; settings: { dir = "$store"; }; };
EOF
)"
viewer() { "$bindir/norc_log_viewer" "$@"; }
start_executor() { "$bindir/norc_executor" Q -c 4 >>"$WORK/ex.out" 2>&1 & pids+=($!); expid=$!; }
uploaded() { sql "SELECT COUNT(*) FROM log_uploads WHERE instance_id IS NOT NULL AND state = 2"; }

norc init >/dev/null
norc queue add Q >/dev/null
norc task add Hello --command 'echo "hello from $NORC_INSTANCE_ID"; printf "second line\n"' >/dev/null
norc task add Slow --command 'for i in 1 2 3 4; do echo "tick $i"; sleep 0.5; done' >/dev/null

# --- every finished log reaches the store, gzip-compressed, under norc_logs/<path> ---
start_executor
for i in 1 2 3 4 5; do norc run Hello --queue Q >/dev/null; done
wait_for 20 "SELECT COUNT(*) FROM log_uploads WHERE instance_id IS NOT NULL AND state = 2" 5 \
  && ok "5 instance logs uploaded (state 2)" || bad "uploads"
obj="$store/norc_logs/tasks/CommandTask/Hello/Hello-3"
if [ -f "$obj" ] && gzip -t "$obj" 2>/dev/null && cmp -s <(gzip -dc "$obj") "$WORK/log/tasks/CommandTask/Hello/Hello-3"; then
  ok "the stored object is the gzip of the local log"
else bad "stored object $obj"; fi
expect_ok "instance show reports the upload" norc instance show 3
expect_out "instance show: log_upload uploaded" 'log_upload: +uploaded \(host'

# --- norc_log_viewer: local, #id, kind prefix, -r from the store, fallback when gone ---
expect_ok "viewer: local log" viewer instance 3
expect_out "viewer prints the task's output" 'hello from 3'
run viewer INST '#3'; [ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/log/tasks/CommandTask/Hello/Hello-3" \
  && ok "viewer: 'INST #3' prints the local file exactly" || bad "viewer #3"
run viewer i 3 -r; [ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/log/tasks/CommandTask/Hello/Hello-3" \
  && grep -q 'Retrieving the log from LocalBackup' "$ERR" \
  && ok "viewer -r: the copy from the store, byte for byte" || bad "viewer -r"
mv "$WORK/log/tasks/CommandTask/Hello/Hello-4" "$WORK/Hello-4.local"
run viewer instance 4; [ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/Hello-4.local" \
  && ok "viewer: local file gone, the store's copy is printed" || bad "viewer fallback"
expect_fail "viewer: unknown instance" 1 'no instance #99' viewer instance 99
expect_fail "viewer: bad kind" 2 "unknown kind 'job'" viewer job 1
expect_fail "viewer: bad id" 2 "'4x' is not an id" viewer instance 4x
expect_fail "viewer: node of a plain instance" 1 'is not a node of a job' viewer node 1

# --- follow a running log until its instance ends ---
norc run Slow --queue Q >/dev/null
slow=$(sql "SELECT MAX(id) FROM instances")
wait_for 10 "SELECT status FROM instances WHERE id = $slow" 2 || bad "Slow did not start"
t0=$(( $(date +%s%N) / 1000 ))
run timeout 20 "$bindir/norc_log_viewer" instance "$slow" -f
[ "$RC" = 0 ] && grep -q 'tick 4' "$OUT" && grep -q 'Task ended with status SUCCESS' "$OUT" \
  && [ "$(sql "SELECT ended > $t0 FROM instances WHERE id = $slow")" = 1 ] \
  && ok "viewer -f, started while the task ran, follows its log to the end" || bad "viewer -f (exit $RC)"

# --- the store fails: uploads are retried with backoff; kill -9; a new executor uploads ---
before=$(uploaded)
mkdir -p "$store/norc_logs/tasks/CommandTask"
mv "$store/norc_logs/tasks/CommandTask/Hello" "$WORK/Hello.store"
: >"$store/norc_logs/tasks/CommandTask/Hello" # a file where a folder must be: puts fail
norc run Hello --queue Q >/dev/null
failing=$(sql "SELECT MAX(id) FROM instances")
wait_for 20 "SELECT attempts > 0 AND last_error IS NOT NULL FROM log_uploads WHERE instance_id = $failing" 1 \
  && ok "a failed upload is recorded with its error" || bad "failed upload state"
run norc instance show "$failing"
expect_out "instance show: due, with the last error" 'log_upload: +due .*last error'
run viewer instance "$failing" -r
[ "$RC" = 1 ] && grep -q 'waits on .* for its upload' "$ERR" \
  && ok "viewer -r explains a pending upload" || bad "viewer on a pending upload (exit $RC)"
norc run Slow --queue Q >/dev/null # killed while it runs: its log is open
lost=$(sql "SELECT MAX(id) FROM instances")
wait_for 10 "SELECT status FROM instances WHERE id = $lost" 2 >/dev/null
kill -9 "$expid"
rm -f "$store/norc_logs/tasks/CommandTask/Hello"
mv "$WORK/Hello.store" "$store/norc_logs/tasks/CommandTask/Hello"
start_executor # declares the killed one dead after heartbeat_timeout: its instance ends
               # ERROR (executor lost), and that log becomes due on this host
wait_for 30 "SELECT state FROM log_uploads WHERE instance_id = $failing" 2 \
  && ok "after kill -9 and a restart, the pending upload arrives" || bad "pending upload after kill -9"
[ -f "$store/norc_logs/tasks/CommandTask/Hello/Hello-$failing" ] && ok "its object is in the store" \
  || bad "object of #$failing missing"
wait_for 30 "SELECT state FROM log_uploads WHERE instance_id = $lost" 2 \
  && ok "the log of an instance lost with its executor is uploaded too" || bad "lost instance log"
old_ex=$(sql "SELECT MIN(id) FROM daemons WHERE kind = 'executor'")
wait_for 20 "SELECT state FROM log_uploads WHERE daemon_id = $old_ex" 2 \
  && ok "the killed executor's own log is uploaded by the next one" || bad "dead executor log"

# --- daemon logs are uploaded when the daemon ends ---
"$bindir/norc_scheduler" >/dev/null 2>&1 & spid=$!; pids+=($spid)
sleep 1
kill -INT "$spid" "$expid"; wait "$spid" "$expid" 2>/dev/null
sid=$(sql "SELECT MAX(id) FROM daemons WHERE kind = 'scheduler'")
eid=$(sql "SELECT MAX(id) FROM daemons WHERE kind = 'executor'")
[ "$(sql "SELECT state FROM log_uploads WHERE daemon_id = $sid")" = 2 ] \
  && [ -f "$store/norc_logs/schedulers/scheduler-$sid" ] \
  && ok "the scheduler uploaded its log when it ended" || bad "scheduler log"
[ "$(sql "SELECT state FROM log_uploads WHERE daemon_id = $eid")" = 2 ] \
  && gzip -dc "$store/norc_logs/executors/executor-$eid" | tail -1 | grep -q "Backing up this daemon's log" \
  && ok "the executor uploaded its log when it ended, up to the line announcing the upload" || bad "executor log"
run viewer executor "$eid" -r
expect_out "viewer -r executor: its log from the store" 'Backing up this daemon.s log|has been shut down'
[ "$(uploaded)" -gt "$before" ] && ok "uploads went on after the store came back" || bad "count"

# --- retention: uploaded copies older than keep_local_days are deleted locally ---
sed -i 's/backup: { plugin/backup: { keep_local_days = 1; plugin/' "$conf"
day=86400000000
sql "UPDATE log_uploads SET state_at = state_at - 2 * $day WHERE instance_id IN (1, 2)"
start_executor
wait_for 20 "SELECT COUNT(*) FROM log_uploads WHERE state = 3" 2 \
  && ok "retention: 2 logs uploaded 2 days ago are removed (state 3)" || bad "retention state"
[ ! -e "$WORK/log/tasks/CommandTask/Hello/Hello-1" ] && [ -e "$WORK/log/tasks/CommandTask/Hello/Hello-3" ] \
  && ok "retention deleted those local files only" || bad "retention files"
expect_ok "viewer: a removed local copy comes from the store" viewer instance 1
expect_out "viewer: removed copy content" 'hello from 1'

# --- config: masked secrets, a bad plugin name keeps the daemon running and logs tracked ---
cat >"$WORK/s3.conf" <<EOF
$dbconf
backup: { plugin = "S3"; settings: { bucket = "norc-logs"; buckt = "typo"; }; };
EOF
expect_fail "config check: the S3 plugin refuses an unknown setting, listing the valid ones" 1 \
  "S3 has no setting 'buckt' \(valid: bucket region" norc -C "$WORK/s3.conf" config check
sed -i 's/backup: { plugin = "S3"/backup: { plugin = "S4"/' "$WORK/s3.conf"
expect_fail "config check: an unknown backup plugin is named" 1 \
  'backup.plugin "S4": no backup plugin of that name' norc -C "$WORK/s3.conf" config check
kill -INT "$expid"; wait "$expid" 2>/dev/null
sed -i 's/plugin = "LocalBackup"/plugin = "NoSuchBackup"/' "$conf"
start_executor
norc run Hello --queue Q >/dev/null
nb=$(sql "SELECT MAX(id) FROM instances")
wait_for 10 "SELECT status FROM instances WHERE id = $nb" 7 && ok "a bad backup plugin does not stop the work" || bad "bad plugin run"
grep -q 'backup.plugin "NoSuchBackup": no backup plugin of that name' "$WORK/log/executors/executor-$(sql "SELECT MAX(id) FROM daemons WHERE kind = 'executor'")" \
  && ok "the executor's log names the bad backup plugin" || bad "bad plugin message"
wait_for 10 "SELECT state FROM log_uploads WHERE instance_id = $nb" 1 \
  && ok "its log is kept due for a working backup" || bad "bad plugin tracking"
c0=$(awk '{ print $14 + $15 }' "/proc/$expid/stat"); sleep 3; c1=$(awk '{ print $14 + $15 }' "/proc/$expid/stat")
[ $((c1 - c0)) -lt 30 ] && ok "and the executor idles meanwhile ($((c1 - c0)) CPU ticks in 3 s)" \
  || bad "executor busy with a bad backup plugin: $((c1 - c0)) ticks in 3 s"
finish
