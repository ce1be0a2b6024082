#!/usr/bin/env bash
# run.sh sqlite|mariadb - tasks really run: norc_scheduler, norc_executor, CommandTask, DBQueue
# and logs, end to end through the real binaries (issue [run]'s tests).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
daemons_setup "${1:-}" norc_run 'daemon: { heartbeat = 1; heartbeat_timeout = 5; kill_grace = 2; log_max_mb = 1; };'
[ "$backend" = sqlite ] && printf 'database: { path = "norc.db"; busy_timeout_ms = 1000; };\ntasks: { allow_root = true; };\ndaemon: { heartbeat = 1; heartbeat_timeout = 5; kill_grace = 2; log_max_mb = 1; };\n' >"$conf"
status_of() { sql "SELECT status FROM instances WHERE id = $1"; }

echo "# backend $backend"
expect_ok "init" norc init
expect_ok "queue" norc queue add Q
"$bindir/norc_executor" Q -c 2 >"$WORK/exec.out" 2>&1 & pids+=($!)
"$bindir/norc_scheduler" >"$WORK/sched.out" 2>&1 & pids+=($!)

# The original's task tests.
norc task add Ok --command 'echo "Success!"' >/dev/null
norc task add Fail --command 'exit 1' >/dev/null
norc task add Missing --command 'no_such_command_norc' >/dev/null
norc task add Slow --command "sleep 41.$$ & sleep 42.$$" --timeout 1 >/dev/null
id_ok=$(norc --json run Ok --queue Q | sed 's/[^0-9]//g')
id_fail=$(norc --json run Fail --queue Q | sed 's/[^0-9]//g')
id_missing=$(norc --json run Missing --queue Q | sed 's/[^0-9]//g')
id_slow=$(norc --json run Slow --queue Q | sed 's/[^0-9]//g')
wait_for 15 "SELECT COUNT(*) FROM instances WHERE status >= 7" 4 && ok "four ad-hoc instances ended" || bad "instances did not end"
[ "$(status_of "$id_ok")" = 7 ] && ok "echo is SUCCESS" || bad "echo status $(status_of "$id_ok")"
[ "$(status_of "$id_fail")" = 13 ] && ok "exit 1 is FAILURE" || bad "exit 1 status $(status_of "$id_fail")"
[ "$(status_of "$id_missing")" = 13 ] && ok "a missing command is FAILURE" || bad "missing status $(status_of "$id_missing")"
[ "$(status_of "$id_slow")" = 15 ] && ok "sleep with a 1 s timeout is TIMEDOUT" || bad "slow status $(status_of "$id_slow")"
sleep 0.3
pgrep -f "sleep 4[12]\.$$" >/dev/null && bad "a sleep of the timed-out task survived" || ok "nothing the timed-out task started survives (background child included)"
[ "$(sql "SELECT exit_code FROM instances WHERE id = $id_fail")" = 1 ] && ok "exit code recorded" || bad "exit code not recorded"
log=$(sql "SELECT log_path FROM instances WHERE id = $id_ok")
grep -q '^Success!$' "$WORK/log/$log" && grep -q 'Executing command...' "$WORK/log/$log" && grep -q 'Task ended with status SUCCESS.' "$WORK/log/$log" && ok "task log has preamble, output and end line" || bad "task log content"
log=$(sql "SELECT log_path FROM instances WHERE id = $id_missing")
grep -q 'Invalid command: exit 127' "$WORK/log/$log" && ok "exit 127 explained in the log" || bad "no invalid-command line"

# Plain-word commands are exec'd without a shell (decision 26): what the shell would do.
mkdir -p "$WORK/bin"
printf '#!/nonexistent/interpreter\n' >"$WORK/bin/badint" && chmod 755 "$WORK/bin/badint"
norc task add BadInterp --command "$WORK/bin/badint" >/dev/null
norc task add Pwd --command 'printenv PWD' >/dev/null
id_bad=$(norc --json run BadInterp --queue Q | sed 's/[^0-9]//g')
id_pwd=$(norc --json run Pwd --queue Q | sed 's/[^0-9]//g')
wait_for 10 "SELECT COUNT(*) FROM instances WHERE id IN ($id_bad, $id_pwd) AND status >= 7" 2 && ok "direct-exec instances ended" || bad "direct-exec instances did not end"
[ "$(status_of "$id_bad")" = 13 ] && [ "$(sql "SELECT exit_code FROM instances WHERE id = $id_bad")" = 127 ] && ok "a script whose interpreter is missing is FAILURE, exit 127 (as under sh)" || bad "bad interpreter: status $(status_of "$id_bad")"
grep -q "badint: No such file or directory" "$WORK/log/$(sql "SELECT log_path FROM instances WHERE id = $id_bad")" && ok "the exec failure is in the task's log" || bad "no exec failure line"
[ "$(sql "SELECT COUNT(*) FROM daemons WHERE kind = 'executor' AND status = 2")" = 1 ] && ok "the executor is not suspended by a task's bad file" || bad "executor status changed"
[ "$(status_of "$id_pwd")" = 7 ] && grep -qx "$(cd "$WORK/tmp" && pwd)" "$WORK/log/$(sql "SELECT log_path FROM instances WHERE id = $id_pwd")" && ok "PWD is the task's directory" || bad "PWD: $(cat "$WORK/log/$(sql "SELECT log_path FROM instances WHERE id = $id_pwd")")"

# The original's scheduler tests.
norc task add Burst --command true >/dev/null
norc schedule add Burst --queue Q --period 0 --reps 5 >/dev/null
wait_for 10 "SELECT COUNT(*) FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'Burst' AND i.status = 7" 5 && ok "period 0 with 5 reps gives 5 instances" || bad "period 0 burst"
norc task add MakeUp --command true >/dev/null
norc task add NoMakeUp --command true >/dev/null
norc schedule add MakeUp --queue Q --period 1 --reps 10 --start -10 --make-up >/dev/null
norc schedule add NoMakeUp --queue Q --period 60 --reps 10 --start -300 >/dev/null
wait_for 10 "SELECT COUNT(*) FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'MakeUp'" 10 && ok "make_up catches up 10 missed runs" || bad "make_up"
sleep 1
[ "$(sql "SELECT COUNT(*) FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'NoMakeUp'")" = 1 ] && ok "without make_up only one late run fires" || bad "no make_up fired $(sql "SELECT COUNT(*) FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'NoMakeUp'") times"
norc task add Every --command true >/dev/null
sid=$(norc --json schedule add Every --queue Q --period 1 --reps 0 | sed 's/[^0-9]//g')
wait_for 10 "SELECT COUNT(*) >= 2 FROM instances WHERE schedule_id = $sid" 1 && ok "a forever schedule fires" || bad "forever schedule"
expect_ok "schedule pause" norc schedule pause "$sid"
sleep 1.5
p1=$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $sid"); sleep 2
p2=$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $sid")
[ "$p1" = "$p2" ] && ok "a paused schedule does not fire" || bad "paused schedule fired ($p1 -> $p2)"
expect_ok "schedule resume" norc schedule resume "$sid"
wait_for 5 "SELECT COUNT(*) > $p2 FROM instances WHERE schedule_id = $sid" 1 && ok "a resumed schedule fires again" || bad "resumed schedule does not fire"
expect_fail "pause of an unknown schedule" 1 "schedule #99999 does not exist" norc schedule pause 99999
expect_ok "schedule rm" norc schedule rm "$sid"
sleep 2.5
n1=$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $sid"); sleep 2
n2=$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $sid")
[ "$n1" = "$n2" ] && ok "a removed schedule stops firing" || bad "removed schedule still fires ($n1 -> $n2)"
[ "$(sql "SELECT COUNT(*) FROM (SELECT schedule_id, fire_time FROM instances WHERE schedule_id IS NOT NULL GROUP BY schedule_id, fire_time HAVING COUNT(*) > 1) d")" = 0 ] && ok "no (schedule, fire time) has two instances" || bad "duplicate fires"

# Two executors on one queue, 200 instances: each ran exactly once.
"$bindir/norc_executor" Q -c 2 >"$WORK/exec2.out" 2>&1 & pids+=($!)
norc task add Many --command 'echo "$NORC_INSTANCE_ID" >> '"$WORK"'/many.txt' >/dev/null
for i in $(seq 1 200); do norc run Many --queue Q >/dev/null; done
wait_for 90 "SELECT COUNT(*) FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'Many' AND i.status = 7" 200 && ok "200 instances ended SUCCESS" || bad "200 instances"
[ "$(wc -l <"$WORK/many.txt")" = 200 ] && [ "$(sort -u "$WORK/many.txt" | wc -l)" = 200 ] && ok "each of the 200 ran exactly once" || bad "runs: $(wc -l <"$WORK/many.txt") lines, $(sort -u "$WORK/many.txt" | wc -l) distinct"
[ "$(sql "SELECT COUNT(DISTINCT executor_id) FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'Many'")" = 2 ] && ok "both executors took work" || bad "one executor did all the work"

# The original INSTALL walkthrough: 5 instances 5 s apart, all SUCCESS, the seed's log.
norc queue add DemoQueue >/dev/null
"$bindir/norc_executor" DemoQueue -c 5 >"$WORK/exec3.out" 2>&1 & pids+=($!)
norc task add DemoTask --command "echo 'Demo successful!'" >/dev/null
norc schedule add DemoTask --queue DemoQueue --period 5 --reps 5 >/dev/null
demo="SELECT COUNT(*) FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'DemoTask' AND i.status = 7"
wait_for 35 "$demo" 5 && ok "walkthrough: 5 instances SUCCESS" || bad "walkthrough"
gaps=$(sql "SELECT fire_time FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'DemoTask' ORDER BY fire_time" |
       awk 'NR > 1 { printf "%d ", $1 - prev } { prev = $1 }')
[ "$gaps" = "5000000 5000000 5000000 5000000 " ] && ok "walkthrough: fire times exactly 5 s apart" || bad "walkthrough gaps: $gaps"
log=$(sql "SELECT log_path FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'DemoTask' ORDER BY i.id LIMIT 1")
pattern='^\[[0-9/]{10} [0-9:]{8}\.[0-9]{6}\] INFO: Starting <Instance #[0-9]+ of CommandTask DemoTask>\.$'
{ grep -Eq "$pattern" "$WORK/log/$log" && sed -n 2,4p "$WORK/log/$log" | tr '\n' '|' | grep -qx "Executing command...|\$ echo 'Demo successful!'|Demo successful!|" &&
  grep -Eq 'INFO: Task ended with status SUCCESS\.$' "$WORK/log/$log"; } && ok "walkthrough: the task log reads as in the seed" || { bad "walkthrough log"; cat "$WORK/log/$log"; }
grep -q "Enqueuing <Instance #[0-9]* of CommandTask DemoTask>." "$WORK"/log/schedulers/scheduler-* && grep -q "Claiming <Schedule #" "$WORK"/log/schedulers/scheduler-* && ok "walkthrough: scheduler log has Claiming and Enqueuing" || bad "scheduler log lines"
grep -q "<Instance #[0-9]* of CommandTask DemoTask> ended with status SUCCESS." "$WORK"/log/executors/executor-* && ok "walkthrough: executor log has the end line" || bad "executor log line"
sql "SELECT i.started - i.fire_time FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name IN ('DemoTask', 'Every', 'Burst')" >"$WORK/lag.txt"
echo "# fire lag over $(wc -l <"$WORK/lag.txt") fires: $(sort -n "$WORK/lag.txt" | awk '{ a[NR] = $1 } END { printf "p50 %.1f ms, max %.1f ms", a[int(NR * 0.5) + 1] / 1000, a[NR] / 1000 }')"

# An instance that ends while the database is locked is recorded once the lock goes away.
if [ "$backend" = sqlite ]; then
  norc task add Locked --command "sleep 3" >/dev/null
  kid=$(norc --json run Locked --queue Q | sed 's/[^0-9]//g')
  wait_for 10 "SELECT status FROM instances WHERE id = $kid" 2 && ok "task running before the lock" || bad "task did not start"
  printf '.timeout 5000\nBEGIN EXCLUSIVE;\n.shell sleep 8\nCOMMIT;\n' | sqlite3 "$WORK/norc.db" >/dev/null 2>&1 &
  lockpid=$!
  wait "$lockpid"
  wait_for 20 "SELECT status FROM instances WHERE id = $kid" 7 && ok "an end that hit a locked database is recorded afterwards" || bad "instance end lost while the database was locked"
  grep -q "instance #$kid: cannot record its end (SUCCESS) yet" "$WORK"/log/executors/executor-* && ok "the lock really delayed it (retry path taken)" || { bad "the retry path was not exercised"; grep -h "#$kid" "$WORK"/log/executors/*; }
fi

# SIGTERM kills: the running instance is INTERRUPTED, its processes are gone, the executor
# ends KILLED.
norc queue add K >/dev/null
"$bindir/norc_executor" K -c 1 >"$WORK/exec4.out" 2>&1 & kpid=$!
norc task add Long --command "trap '' TERM; sleep 43.$$" >/dev/null
lid=$(norc --json run Long --queue K | sed 's/[^0-9]//g')
wait_for 10 "SELECT status FROM instances WHERE id = $lid" 2 && ok "long task RUNNING" || bad "long task did not start"
kill -TERM "$kpid"
wait_for 10 "SELECT status FROM instances WHERE id = $lid" 16 && ok "SIGTERM: running instance INTERRUPTED (after the grace period, as it ignores SIGTERM)" || bad "not INTERRUPTED"
wait "$kpid" 2>/dev/null
pgrep -f "sleep 43\.$$" >/dev/null && bad "the killed task's process survived" || ok "the killed task's processes are gone"
[ "$(sql "SELECT status FROM daemons WHERE pid = $kpid")" = 9 ] && ok "the executor ended KILLED" || bad "executor status $(sql "SELECT status FROM daemons WHERE pid = $kpid")"

# The log size cap: a run that writes without end is stopped past daemon.log_max_mb (1 MiB).
norc task add Chatty --command "while :; do head -c 100000 /dev/zero | tr '\\0' x; echo; sleep 0.05; done" >/dev/null
cid=$(norc --json run Chatty --queue Q | sed 's/[^0-9]//g')
wait_for 20 "SELECT status FROM instances WHERE id = $cid" 13 && ok "a run whose log passes daemon.log_max_mb ends FAILURE" || bad "Chatty: $(sql "SELECT status, reason FROM instances WHERE id = $cid")"
[ "$(sql "SELECT reason FROM instances WHERE id = $cid")" = "its log passed daemon.log_max_mb" ] && ok "... with the reason on its row" || bad "reason"
clog=$(ls "$WORK"/log/tasks/CommandTask/Chatty/Chatty-"$cid" 2>/dev/null)
size=$(stat -c %s "$clog" 2>/dev/null || echo 0)
grep -q 'The log reached [0-9]* bytes, over daemon.log_max_mb (1 MiB): stopping the task.' "$clog" \
  && [ "$size" -gt 1048576 ] && [ "$size" -lt 8388608 ] && ok "its log says so, and stopped growing at $((size / 1024)) KiB" || bad "log $clog: $size bytes"

# Stopping: SIGINT drains and ends ENDED.
kill -INT "${pids[@]}"
wait_for 10 "SELECT COUNT(*) FROM daemons WHERE status = 8" 4 && ok "SIGINT ends all four daemons ENDED" || bad "daemons did not end"
finish
