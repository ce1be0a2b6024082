#!/usr/bin/env bash
# recovery.sh sqlite|mariadb - nothing stays stuck, nothing runs twice, nothing outlives its
# instance: retries (counted and spaced), lost instances retried elsewhere, SUSPENDED on a host
# fault until RESUME, STOP with a deadline, SIGHUP config reload, requests from another host
# within a second, `--handle` of failed instances, leftover processes swept.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
daemons_setup "${1:-}" norc_rec 'daemon: { heartbeat = 1; heartbeat_timeout = 3; kill_grace = 1; };'
trap 'daemons_cleanup; pkill -KILL -f "sleep 4[6-9]\.$$" 2>/dev/null' EXIT
# "another host": same database, its own tmp_dir, so no doorbell of ours is rung from there
mkdir -p "$WORK/other"
printf '%s\nlog_dir = "%s/log"; tmp_dir = "%s/other";\ndaemon: { heartbeat = 5; heartbeat_timeout = 20; };\n' "$dbconf" "$WORK" "$WORK" >"$WORK/other.conf"
start_executor() { # start_executor CONF -> sets $xpid and $xid
  "$bindir/norc_executor" Q -c 2 -C "$1" >/dev/null 2>&1 & xpid=$!; pids+=($xpid)
  wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $xpid AND status = 2" 1 || bad "executor did not start"
  xid=$(sql "SELECT id FROM daemons WHERE pid = $xpid")
}
echo "# backend $backend"
norc init >/dev/null; norc queue add Q >/dev/null
"$bindir/norc_scheduler" >/dev/null 2>&1 & pids+=($!)
start_executor "$conf"; e1=$xid

# Retries: each attempt its own instance, linked to the previous one, spaced by the doubling
# delay up to its cap (1 s, 2 s, 2 s), then no more.
expect_fail "retries must be a number" 2 "--retries 'x': give 0..100" norc task add Bad --command true --retries x
norc task add Flaky --command "exit 3" --retries 3 --retry-delay 1 --retry-max-delay 2 >/dev/null
fid=$(norc --json run Flaky --queue Q | sed 's/[^0-9]//g')
wait_for 20 "SELECT COUNT(*) FROM instances i JOIN tasks t ON t.id = i.task_id WHERE t.name = 'Flaky' AND i.status = 13" 4 && ok "a failing task with --retries 3 ran 4 times" || bad "attempts: $(sql "SELECT id, status, attempt FROM instances i WHERE task_id = (SELECT id FROM tasks WHERE name = 'Flaky')")"
sleep 1.5
[ "$(sql "SELECT COUNT(*) FROM instances WHERE task_id = (SELECT id FROM tasks WHERE name = 'Flaky')")" = 4 ] && ok "and no fifth attempt" || bad "more than 4 attempts"
chain=$(sql "SELECT i.attempt, i.exit_code, COALESCE(i.previous_id = p.id, -1) FROM instances i LEFT JOIN instances p ON p.id = i.previous_id WHERE i.task_id = (SELECT id FROM tasks WHERE name = 'Flaky') ORDER BY i.attempt" | tr '\t|\n' '  ;')
[ "$chain" = "1 3 -1;2 3 1;3 3 1;4 3 1;" ] && ok "attempts 1-4 each linked to the previous, exit code kept" || bad "chain: $chain"
spacing=$(sql "SELECT i.started - p.ended FROM instances i JOIN instances p ON p.id = i.previous_id WHERE i.task_id = (SELECT id FROM tasks WHERE name = 'Flaky') ORDER BY i.attempt" |
  awk 'BEGIN { split("1 2 2", want) } { d = $1 / 1e6; if (d < want[NR] || d > want[NR] + 1.2) bad++; printf "%.2f ", d } END { exit bad }') && ok "retries spaced 1, 2, 2 s (backoff capped): $spacing" || bad "spacing: $spacing"
norc task add Twice --command "[ \"\$NORC_ATTEMPT\" -ge 2 ]" --retries 5 >/dev/null
norc run Twice --queue Q >/dev/null
wait_for 10 "SELECT GROUP_CONCAT(status) FROM (SELECT status FROM instances WHERE task_id = (SELECT id FROM tasks WHERE name = 'Twice') ORDER BY id) x" "13,7" && ok "a retry that succeeds ends the chain (FAILURE, SUCCESS)" || bad "Twice"
norc task add Slow --command "sleep 5" --timeout 1 --retries 1 >/dev/null
norc run Slow --queue Q >/dev/null
wait_for 15 "SELECT GROUP_CONCAT(status) FROM (SELECT status FROM instances WHERE task_id = (SELECT id FROM tasks WHERE name = 'Slow') ORDER BY id) x" "15,15" && ok "TIMEDOUT is retried too" || bad "Slow"
expect_ok "task set changes retries" norc task set Flaky --retries 0
[ "$(sql "SELECT retries FROM tasks WHERE name = 'Flaky'")" = 0 ] && ok "retries now 0" || bad "task set"
expect_fail "task set needs a setting" 2 "give at least one setting" norc task set Flaky

# --handle acknowledges a failed instance, and only a failed one.
expect_ok "handle a failed instance" ctl instance "$fid" --handle
expect_out "handle message" "The error state of instance #$fid was marked as handled."
[ "$(sql "SELECT status FROM instances WHERE id = $fid")" = 12 ] && ok "it is HANDLED" || bad "not HANDLED"
okid=$(sql "SELECT MAX(id) FROM instances WHERE status = 7")
expect_fail "handle refuses a successful instance" 1 "is SUCCESS, not in an error state" ctl i "$okid" --handle
expect_fail "an instance takes only --handle" 2 "takes only --handle" ctl instance "$okid" --stop

# A lost instance (kill -9 of its executor) is retried on another executor; what its task left
# behind (a setsid'd grandchild, out of the process group) is swept by the next executor on
# this host at start-up.
norc task add Lost --command "setsid sleep 46.$$ & [ \"\$NORC_ATTEMPT\" -ge 2 ] || exec sleep 47.$$" --retries 1 >/dev/null
ctl executor "$e1" --pause --wait >/dev/null
start_executor "$conf"; e2=$xid; x2pid=$xpid
lid=$(norc --json run Lost --queue Q | sed 's/[^0-9]//g')
wait_for 5 "SELECT executor_id FROM instances WHERE id = $lid AND status = 2" "$e2" || bad "Lost not running on the new executor"
sleep 0.3
kill -KILL "$x2pid"; wait "$x2pid" 2>/dev/null
sleep 0.3
pgrep -f "sleep 47\.$$" >/dev/null && bad "the task leader outlived its executor" || ok "the task leader died with its executor"
pgrep -f "sleep 46\.$$" >/dev/null && ok "(its setsid'd grandchild escaped the group)" || bad "no grandchild to sweep: test setup"
start_executor "$conf"; e3=$xid
sleep 0.5
pgrep -f "sleep 46\.$$" >/dev/null && bad "the dead executor's leftover survived a new executor's start" || ok "the next executor on this host swept the leftover at start-up"
wait_for 10 "SELECT status FROM instances WHERE id = $lid" 14 && [ "$(sql "SELECT reason FROM instances WHERE id = $lid")" = "executor lost" ] && ok "the lost instance is ERROR, reason 'executor lost'" || bad "lost instance: $(sql "SELECT status, reason FROM instances WHERE id = $lid")"
wait_for 10 "SELECT status FROM instances WHERE previous_id = $lid" 7 && ok "and its retry ran elsewhere (SUCCESS)" || bad "lost instance not retried"
[ "$(sql "SELECT executor_id <> $e2 FROM instances WHERE previous_id = $lid")" = 1 ] && ok "on another executor" || bad "retry executor"

# setsid'd leftovers of an instance that ended normally die at its end.
norc task add Leaves --command "setsid sleep 48.$$ & echo left" >/dev/null
vid=$(norc --json run Leaves --queue Q | sed 's/[^0-9]//g')
wait_for 5 "SELECT status FROM instances WHERE id = $vid" 7 || bad "Leaves did not run"
sleep 0.3
pgrep -f "sleep 48\.$$" >/dev/null && bad "a setsid'd process outlived its instance" || ok "a setsid'd process dies with its instance"

# SUSPENDED: the executor cannot write a task's log (a file where its folder should be): the
# instance is ERROR with the reason, the executor takes no more work until RESUME.
ctl executor "$e1" --stop --wait >/dev/null
norc task add Sus --command true >/dev/null
mkdir -p "$WORK/log/tasks/CommandTask" && : >"$WORK/log/tasks/CommandTask/Sus"
sid1=$(norc --json run Sus --queue Q | sed 's/[^0-9]//g')
wait_for 5 "SELECT status FROM daemons WHERE id = $e3" 5 && ok "a host fault suspends the executor (SUSPENDED)" || bad "not SUSPENDED"
[ "$(sql "SELECT status FROM instances WHERE id = $sid1")" = 14 ] && ok "the instance that could not start is ERROR" || bad "sus instance status"
sql "SELECT reason FROM instances WHERE id = $sid1" | grep -q "could not start: cannot open its log" && ok "with the reason" || bad "reason: $(sql "SELECT reason FROM instances WHERE id = $sid1")"
qid=$(norc --json run Twice --queue Q | sed 's/[^0-9]//g')
sleep 1.5
[ "$(sql "SELECT status FROM instances WHERE id = $qid")" = 1 ] && ok "a suspended executor takes no work" || bad "suspended executor took work"
rm -f "$WORK/log/tasks/CommandTask/Sus"
expect_ok "resume a suspended executor" ctl executor "$e3" --resume --wait
wait_for 5 "SELECT status FROM instances WHERE id = $qid" 13 && ok "after RESUME it works again" || bad "no work after resume"

# A request from another host (no doorbell) arrives within about a second although that
# executor's heartbeat is 5 s.
start_executor "$WORK/other.conf"; eo=$xid; eopid=$xpid
ctl -C "$conf" executor "$e3" --stop --wait >/dev/null
t0=$(date +%s%N)
ctl -C "$conf" executor "$eo" --pause --wait --timeout 5 >/dev/null && t1=$(date +%s%N) &&
  ms=$(( (t1 - t0) / 1000000 )) && [ "$ms" -lt 1800 ] && ok "a request without a doorbell is carried out in $ms ms (heartbeat 5 s)" || bad "request latency ${ms:-?} ms"
ctl executor "$eo" --resume --wait >/dev/null

# SIGHUP reloads the config; a broken one is refused and the old one stays.
printf '%s\nlog_dir = "%s/log"; tmp_dir = "%s/other";\ndaemon: { heartbeat = 5; heartbeat_timeout = 20; stop_timeout = 1; };\n' "$dbconf" "$WORK" "$WORK" >"$WORK/other.conf"
kill -HUP "$eopid"; sleep 0.5
grep -q "SIGHUP: config .* reloaded (.*stop_timeout 1 s" "$WORK"/log/executors/executor-"$eo" && ok "SIGHUP reloads the config" || bad "no reload line"
printf 'daemon: { heartbeat = "soon"; };\n' >>"$WORK/other.conf"
kill -HUP "$eopid"; sleep 0.5
grep -q "SIGHUP: the config was not reloaded, the running one stays: config .*other.conf:" "$WORK"/log/executors/executor-"$eo" && ok "a broken config is refused on SIGHUP" || { bad "no refusal line"; tail -3 "$WORK"/log/executors/executor-"$eo"; }
kill -0 "$eopid" && ok "the executor lives on" || bad "executor died on a bad config"

# STOP with a deadline (stop_timeout = 1 from the reload): the running instance is interrupted
# once it passes, and the executor ends ENDED.
norc task add Long --command "sleep 49.$$" >/dev/null
gid=$(norc --json run Long --queue Q | sed 's/[^0-9]//g')
wait_for 5 "SELECT status FROM instances WHERE id = $gid" 2 || bad "Long not running"
ctl executor "$eo" --stop >/dev/null
wait_for 6 "SELECT status FROM daemons WHERE id = $eo" 8 && ok "STOP ends ENDED after its deadline" || bad "executor not ENDED"
[ "$(sql "SELECT status FROM instances WHERE id = $gid")" = 16 ] && ok "the instance still running at the deadline is INTERRUPTED" || bad "long status"
[ "$(sql "SELECT reason FROM instances WHERE id = $gid")" = "stop deadline passed" ] && ok "reason 'stop deadline passed'" || bad "reason"
pgrep -f "sleep 49\.$$" >/dev/null && bad "its process outlived the stop" || ok "its process is gone"
finish
