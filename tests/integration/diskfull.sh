#!/usr/bin/env bash
# diskfull.sh - the log disk fills up: log_dir is a 1 MiB tmpfs. A task that writes more
# than fits, and the tasks after it while the disk stays full, are still recorded, each with
# its status and a reason naming the full disk; the executor keeps running and says so in
# its own output; once space is freed, runs succeed again. Needs root (mount).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "FAIL - diskfull.sh needs root to mount a small tmpfs"; exit 1; }
daemons_setup sqlite norc_diskfull 'log_dir = "log"; daemon: { heartbeat = 1; heartbeat_timeout = 5; };'
mkdir -p "$WORK/log"
mount -t tmpfs -o size=1m,mode=0755 norc-diskfull "$WORK/log" || { echo "FAIL - cannot mount a tmpfs"; exit 1; }
trap 'daemons_cleanup_full' EXIT
daemons_cleanup_full() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; sleep 0.2; umount -l "$WORK/log"; daemons_cleanup; }
norc init >/dev/null; norc queue add Q >/dev/null
norc task add Fill --command 'head -c 3000000 /dev/zero | tr "\0" x' >/dev/null
norc task add Hello --command 'echo hello' >/dev/null
"$bindir/norc_scheduler" >"$WORK/sched.out" 2>&1 & pids+=($!)
"$bindir/norc_executor" Q -c 2 >"$WORK/ex.out" 2>&1 & pids+=($!)
expid=$!
wait_for 10 "SELECT COUNT(*) FROM daemons WHERE status = 2" 2 || bad "daemons did not start"

fid=$(norc --json run Fill --queue Q | sed 's/[^0-9]//g')
wait_for 20 "SELECT status FROM instances WHERE id = $fid" 13 && ok "a task whose output fills the log disk ends FAILURE" \
  || bad "Fill: $(sql "SELECT status, reason FROM instances WHERE id = $fid")"
[ "$(df --output=avail "$WORK/log" | tail -1 | tr -d ' ')" -lt 64 ] && ok "the log disk is full" || bad "disk not full: $(df "$WORK/log")"
sql "SELECT reason FROM instances WHERE id = $fid" | grep -qE 'No space left on device|log disk was full' \
  && ok "its reason names the full disk: $(sql "SELECT reason FROM instances WHERE id = $fid")" || bad "Fill reason: $(sql "SELECT reason FROM instances WHERE id = $fid")"
hid=$(norc --json run Hello --queue Q | sed 's/[^0-9]//g')
wait_for 20 "SELECT status >= 7 FROM instances WHERE id = $hid" 1 && ok "a run while the disk is full is still recorded ($(sql "SELECT status FROM instances WHERE id = $hid"))" \
  || bad "Hello: $(sql "SELECT status, reason FROM instances WHERE id = $hid")"
sql "SELECT reason FROM instances WHERE id = $hid" | grep -qE 'No space left on device|log disk was full' \
  && ok "... with the reason" || bad "Hello reason: $(sql "SELECT status, reason FROM instances WHERE id = $hid")"
for _ in $(seq 1 40); do norc run Hello --queue Q >/dev/null; done # its own log outgrows its last page
wait_for 30 "SELECT COUNT(*) FROM instances WHERE task_id = 2 AND ended IS NULL" 0 && ok "40 more runs on the full disk are all recorded" || bad "runs not recorded"
kill -0 "$expid" && [ "$(sql "SELECT status FROM daemons WHERE pid = $expid")" = 2 ] && ok "the executor keeps running" || bad "executor"
grep -q "WARNING: this daemon's log file cannot be written (No space left on device); its messages go to stderr" "$WORK/ex.out" \
  && ok "the executor says so on stderr (its log file is on the full disk), and goes on there" || bad "ex.out: $(tail -3 "$WORK/ex.out")"

# --- space again: runs succeed
find "$WORK/log/tasks/CommandTask/Fill" -type f -delete
hid=$(norc --json run Hello --queue Q | sed 's/[^0-9]//g')
wait_for 20 "SELECT status FROM instances WHERE id = $hid" 7 && ok "once space is freed, runs succeed again" \
  || bad "Hello after: $(sql "SELECT status, reason FROM instances WHERE id = $hid")"
grep -q '^hello$' "$WORK/log/tasks/CommandTask/Hello/Hello-$hid" && ok "... with their output logged" || bad "Hello log"
[ -z "$(sql "SELECT reason FROM instances WHERE id = $hid")" ] && ok "... and no reason" || bad "reason after: $(sql "SELECT reason FROM instances WHERE id = $hid")"
wait_for 10 "SELECT 1" 1
sleep 1.5 # a heartbeat line or two
grep -q "INFO: this daemon's log file is writable again" "$WORK/ex.out" && ok "the executor says its log is writable again" || bad "no 'writable again': $(tail -2 "$WORK/ex.out")"
finish
