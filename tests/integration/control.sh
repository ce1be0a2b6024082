#!/usr/bin/env bash
# control.sh sqlite|mariadb - norc_control through the real daemons: pause/resume (PAUSING
# while work runs), a pending request is not overwritten without --force, kill, scheduler
# pause/resume/reload/stop, handle, host-wide stop, bad usage.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
daemons_setup "${1:-}" norc_ctl 'daemon: { heartbeat = 1; heartbeat_timeout = 3; kill_grace = 1; };'
echo "# backend $backend"
norc init >/dev/null; norc queue add Q >/dev/null
norc task add Quick --command true >/dev/null
norc task add Nap --command "sleep 2" >/dev/null
norc task add Long --command "sleep 44.$$" >/dev/null
"$bindir/norc_executor" Q -c 1 >/dev/null 2>&1 & epid=$!; pids+=($epid)
wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $epid AND status = 2" 1 || bad "executor did not start"
eid=$(sql "SELECT id FROM daemons WHERE pid = $epid")

expect_ok "pause --wait" ctl executor "$eid" --pause --wait --timeout 5
expect_out "pause carried out" "carried out PAUSE; it is PAUSED"
qid=$(norc --json run Quick --queue Q | sed 's/[^0-9]//g')
sleep 1.5
[ "$(sql "SELECT status FROM instances WHERE id = $qid")" = 1 ] && ok "a paused executor takes no work" || bad "paused executor ran work"
expect_ok "resume --wait" ctl executor "$eid" -u -w
wait_for 5 "SELECT status FROM instances WHERE id = $qid" 7 && ok "after resume the work runs" || bad "work did not run after resume"
nid=$(norc --json run Nap --queue Q | sed 's/[^0-9]//g')
wait_for 5 "SELECT status FROM instances WHERE id = $nid" 2 || bad "nap not running"
expect_ok "pause while work runs" ctl executor "$eid" --pause
wait_for 3 "SELECT status FROM daemons WHERE id = $eid" 6 && ok "PAUSING while its instance runs" || bad "not PAUSING"
wait_for 5 "SELECT status FROM daemons WHERE id = $eid" 3 && ok "PAUSED once it ended" || bad "not PAUSED"
[ "$(sql "SELECT status FROM instances WHERE id = $nid")" = 7 ] && ok "the running instance finished normally" || bad "nap status"

kill -STOP "$epid"   # frozen: requests stay pending
expect_ok "a request to a frozen executor is left pending" ctl executor "$eid" --resume
expect_fail "a second request does not overwrite the pending one" 1 "has a pending RESUME request; pass --force" ctl executor "$eid" --stop
expect_ok "--force replaces it" ctl executor "$eid" --kill --force
[ "$(sql "SELECT request FROM daemons WHERE id = $eid")" = 2 ] && ok "the pending request is now KILL" || bad "pending request"
kill -CONT "$epid"
wait_for 5 "SELECT status FROM daemons WHERE id = $eid" 9 && ok "KILL carried out after thaw (KILLED)" || bad "not KILLED"
expect_fail "a request to an ended daemon" 1 "has already ended \(KILLED\); nothing to STOP" ctl executor "$eid" --stop

"$bindir/norc_executor" Q -c 1 >/dev/null 2>&1 & epid=$!; pids+=($epid)
wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $epid AND status = 2" 1 || bad "executor 2 did not start"
eid=$(sql "SELECT id FROM daemons WHERE pid = $epid")
lid=$(norc --json run Long --queue Q | sed 's/[^0-9]//g')
wait_for 5 "SELECT status FROM instances WHERE id = $lid" 2 || bad "long not running"
expect_ok "kill --wait" ctl executor "$eid" -k -w
expect_out "kill carried out" "it is KILLED"
[ "$(sql "SELECT status FROM instances WHERE id = $lid")" = 16 ] && ok "its instance is INTERRUPTED" || bad "long status"
pgrep -f "sleep 44\.$$" >/dev/null && bad "killed task still running" || ok "the killed task's processes are gone"

# Scheduler: pause stops firing, resume fires again, reload, stop.
"$bindir/norc_scheduler" >/dev/null 2>&1 & spid=$!; pids+=($spid)
"$bindir/norc_executor" Q -c 2 >/dev/null 2>&1 & pids+=($!)
wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $spid AND status = 2" 1 || bad "scheduler did not start"
sid=$(sql "SELECT id FROM daemons WHERE pid = $spid")
sch=$(norc --json schedule add Quick --queue Q --period 1 --reps 0 | sed 's/[^0-9]//g')
wait_for 5 "SELECT COUNT(*) > 0 FROM instances WHERE schedule_id = $sch" 1 || bad "schedule did not fire"
expect_ok "scheduler pause --wait" ctl scheduler "$sid" -p -w
sleep 0.5
n1=$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $sch"); sleep 2
n2=$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $sch")
[ "$n1" = "$n2" ] && ok "a paused scheduler fires nothing" || bad "paused scheduler fired ($n1 -> $n2)"
[ "$(sql "SELECT COUNT(*) FROM schedules WHERE lease_owner = $sid")" = 0 ] && ok "a paused scheduler holds no schedule" || bad "paused scheduler holds leases"
expect_ok "scheduler resume --wait" ctl scheduler "$sid" -u -w
wait_for 5 "SELECT COUNT(*) > $n2 FROM instances WHERE schedule_id = $sch" 1 && ok "after resume it fires again" || bad "no fires after resume"
expect_ok "scheduler reload --wait" ctl scheduler "$sid" -r -w
expect_fail "executors take no RELOAD" 1 "takes no RELOAD" ctl executor "$(sql "SELECT MAX(id) FROM daemons WHERE kind = 'executor'")" --reload
expect_fail "handle refuses a live daemon" 1 "only a dead or failed daemon can be handled" ctl scheduler "$sid" --handle

# kill -9 of an executor while its task runs: a live daemon (the scheduler) finds it dead
# after heartbeat_timeout, marks it and its instance ERROR, and the task is gone with it.
"$bindir/norc_executor" Q -c 1 >/dev/null 2>&1 & xpid=$!
wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $xpid AND status = 2" 1 || bad "executor 4 did not start"
xid=$(sql "SELECT id FROM daemons WHERE pid = $xpid")
ctl executor "$(sql "SELECT id FROM daemons WHERE kind = 'executor' AND status = 2 AND id <> $xid LIMIT 1")" --pause --wait >/dev/null
norc task add Doomed --command "exec sleep 45.$$" >/dev/null
did2=$(norc --json run Doomed --queue Q | sed 's/[^0-9]//g')
wait_for 5 "SELECT executor_id FROM instances WHERE id = $did2 AND status = 2" "$xid" || bad "doomed task not running on executor 4"
kill -KILL "$xpid"; wait "$xpid" 2>/dev/null
sleep 0.3
pgrep -f "sleep 45\.$$" >/dev/null && bad "the task outlived its killed executor" || ok "the task died with its executor (parent-death signal)"
wait_for 8 "SELECT status FROM instances WHERE id = $did2" 14 && ok "its instance is ERROR within the heartbeat timeout" || bad "instance stuck RUNNING"
[ "$(sql "SELECT status FROM daemons WHERE id = $xid")" = 14 ] && ok "the dead executor is marked ERROR" || bad "dead executor status"

# Two schedulers; kill -9 the one holding a make-up schedule: the other takes it over within
# the heartbeat timeout and every nominal fire time has exactly one instance, none missing.
"$bindir/norc_scheduler" >/dev/null 2>&1 & s2pid=$!; pids+=($s2pid)
hs=$(norc --json schedule add Quick --queue Q --period 1 --reps 0 --make-up | sed 's/[^0-9]//g')
wait_for 5 "SELECT COUNT(*) >= 2 FROM instances WHERE schedule_id = $hs" 1 || bad "HA schedule did not fire"
holder=$(sql "SELECT lease_owner FROM schedules WHERE id = $hs")
hpid=$(sql "SELECT pid FROM daemons WHERE id = $holder")
kill -KILL "$hpid"; wait "$hpid" 2>/dev/null
[ "$hpid" = "$spid" ] && spid=$s2pid
sid=$(sql "SELECT id FROM daemons WHERE pid = $spid")
wait_for 10 "SELECT lease_owner FROM schedules WHERE id = $hs" "$sid" && ok "the surviving scheduler took the schedule over" || bad "no takeover"
sleep 2
gaps=$(sql "SELECT fire_time FROM instances WHERE schedule_id = $hs ORDER BY fire_time" | awk 'NR > 1 && $1 - prev != 1000000 { bad++ } { prev = $1 } END { print bad + 0 }')
[ "$gaps" = 0 ] && ok "every second from the start has its instance, across the failover" || bad "$gaps gap(s) in the fire times"
[ "$(sql "SELECT COUNT(*) - COUNT(DISTINCT fire_time) FROM instances WHERE schedule_id = $hs")" = 0 ] && ok "no fire time has two instances" || bad "doubled fires"
[ "$(sql "SELECT status FROM daemons WHERE id = $holder")" = 14 ] && ok "the killed scheduler is marked ERROR" || bad "killed scheduler status"
norc schedule rm "$hs" >/dev/null

# norc_reporter: the three tables, running daemons first, JSON.
rep() { "$bindir/norc_reporter" "$@"; }
expect_ok "reporter -e -s -q" rep -e -s -q -t 1h
expect_out "reporter header" "^\[[0-9/]{10} [0-9:]{8}\] \(UTC\) from the last 1h\.$"
expect_out "executors table" "^ID +QUEUE +QUEUE TYPE +HOST +PID +RUNNING +SUCCEEDED +FAILED +STARTED +ENDED +STATUS$"
expect_out "schedulers table shows the live scheduler first" "^$sid +[^ ]+ +$spid +[0-9]+ .* RUNNING$"
expect_out "queues table" "^Q +DBQueue +[0-9]+ +[0-9]+$"
expect_ok "reporter --json" rep -e -s -q --json
expect_json "reporter json" "j['schedulers'][0]['status'] == 'RUNNING' and j['executors'][0]['status'] in ('RUNNING', 'PAUSED') and any(q['name'] == 'Q' for q in j['queues']) and j['executors'][0]['succeeded'] >= 1"
expect_fail "reporter bad timeframe" 2 "-t 'soon'" rep -t soon

# Handle a dead daemon; host-wide stop.
"$bindir/norc_executor" Q -c 1 >/dev/null 2>&1 & dpid=$!
wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $dpid AND status = 2" 1 || bad "executor 3 did not start"
did=$(sql "SELECT id FROM daemons WHERE pid = $dpid")
kill -KILL "$dpid"; wait "$dpid" 2>/dev/null
sleep 4
expect_ok "handle a dead executor" ctl executor "$did" --handle
[ "$(sql "SELECT status FROM daemons WHERE id = $did")" = 12 ] && ok "it is HANDLED" || bad "not HANDLED"
expect_ok "host-wide stop --wait" ctl host "$(sql "SELECT host FROM daemons WHERE id = $sid")" --stop --wait --timeout 10
[ "$(sql "SELECT COUNT(*) FROM daemons WHERE status < 7")" = 0 ] && ok "no daemon is left running" || bad "daemons left: $(sql "SELECT id, status FROM daemons WHERE status < 7")"
[ "$(sql "SELECT status FROM daemons WHERE id = $sid")" = 8 ] && ok "the scheduler ENDED" || bad "scheduler status"

expect_fail "usage: no action" 2 "give exactly one action" ctl executor 1
expect_fail "usage: two actions" 2 "give one action" ctl executor 1 --stop --kill
expect_fail "usage: bad kind" 2 "is not executor, scheduler, host or instance" ctl worker 1 --stop
expect_fail "unknown daemon" 1 "does not exist" ctl executor 9999 --stop
finish
