#!/usr/bin/env bash
# hooks.sh sqlite|mariadb - a user's task type (.so, in-child mode) through the real
# executor: the original's test_finally, test_finally_timeout, test_double_timeout and
# test_revisions rewritten for plugins; a plugin that segfaults, aborts, exits, loops or
# leaks fds fails only its instance (the signal named in its log) while the executor lives
# and a good task next to it succeeds; the finally hook also runs after an interrupt.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_TEST_PLUGIN_DIR:?}"
daemons_setup "${1:-}" norc_hooks "log_dir = \"$WORK/log\"; plugin_dirs = [\"$NORC_TEST_PLUGIN_DIR/hooks\"]; daemon: { heartbeat = 1; heartbeat_timeout = 5; kill_grace = 1; finally_timeout = 2; };"
echo "# backend $backend"
norc init >/dev/null; norc queue add Q >/dev/null
"$bindir/norc_executor" Q -c 4 >/dev/null 2>&1 & xpid=$!; pids+=($xpid)
wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $xpid AND status = 2" 1 || bad "executor did not start"
"$bindir/norc_scheduler" >/dev/null 2>&1 & pids+=($!)
st() { sql "SELECT status FROM instances WHERE id = $1"; }
log_of() { cat "$WORK/log/$(sql "SELECT log_path FROM instances WHERE id = $1")"; }
hook() { # hook NAME PARAM... -> runs it once, prints the instance id
  local n=$1; shift
  local args=()
  for p in "$@"; do args+=(--param "$p"); done
  norc task add "$n" --type HookTask "${args[@]}" ${TIMEOUT:+--timeout $TIMEOUT} ${RETRIES:+--retries $RETRIES} >/dev/null || bad "task add $n"
  norc --json run "$n" --queue Q | sed 's/[^0-9]//g'
}

expect_ok "norc plugins lists the dropped-in .so" norc plugins
expect_out "HookTask from the drop-in folder" "^task +HookTask +1\.0 .*hooks/hooks\.so$"
expect_fail "its validate checks the parameters" 1 "HookTask has no parameter 'colour'" norc task add Bad --type HookTask --param colour=red

# test_finally: the hook runs after a success, sees the outcome, may keep or change it.
i=$(hook Fin do=ok finally=keep mark="$WORK/fin.mark")
wait_for 10 "SELECT status FROM instances WHERE id = $i" 7 && ok "in-child run: SUCCESS" || bad "Fin: $(st "$i")"
grep -qx "status=7 exit=0 signal=0 timed_out=0" "$WORK/fin.mark" && ok "finally ran once after the success and saw it" || bad "mark: $(cat "$WORK/fin.mark" 2>&1)"
log_of "$i" | grep -q "HookTask Fin: do=ok log=$WORK/log/tasks/HookTask/Fin/Fin-$i" && ok "run_child's output is in the log; ctx.log_path is absolute" || bad "log: $(log_of "$i")"
log_of "$i" | grep -q "finally: keep" && ok "the finally hook's output is in the same log" || bad "no finally output"
log_of "$i" | grep -q "plugin HookTask: run_child of Fin, through the host log (db NULL)" && ok "api->log in the child writes to the run's log; api->db is NULL there" || bad "host log in child: $(log_of "$i")"
i=$(hook FinFail do=ok finally=fail)
wait_for 10 "SELECT status FROM instances WHERE id = $i" 13 && ok "the finally hook turned SUCCESS into FAILURE" || bad "FinFail: $(st "$i")"
log_of "$i" | grep -q "The finally hook changed the status from SUCCESS to FAILURE" && ok "and the log says so" || bad "FinFail log"
i=$(hook FinOk do=fail finally=success)
wait_for 10 "SELECT status FROM instances WHERE id = $i" 7 && ok "the finally hook turned FAILURE into SUCCESS" || bad "FinOk: $(st "$i")"
[ "$(sql "SELECT exit_code FROM instances WHERE id = $i")" = 3 ] && ok "the task's exit code is kept" || bad "exit code"

# test_finally_timeout: a hook that never returns is killed after daemon.finally_timeout.
i=$(RETRIES=2 hook FinSlow do=ok finally=sleep); t0=$(date +%s)
wait_for 10 "SELECT status FROM instances WHERE id = $i" 15 && ok "a hanging finally hook: TIMEDOUT after $(( $(date +%s) - t0 )) s (finally_timeout 2)" || bad "FinSlow: $(st "$i")"
sql "SELECT reason FROM instances WHERE id = $i" | grep -q "the finally hook timed out" && ok "reason: the finally hook timed out" || bad "reason: $(sql "SELECT reason FROM instances WHERE id = $i")"
sleep 1; [ "$(sql "SELECT COUNT(*) FROM instances WHERE previous_id = $i")" = 0 ] && ok "a hook's timeout is not retried (the task has --retries 2)" || bad "retried after the hook timed out"

# What in-child code forks dies with its run, even after setsid().
i=$(hook Orphan do=orphan)
wait_for 10 "SELECT status FROM instances WHERE id = $i" 7 || bad "Orphan: $(st "$i")"
sleep 0.5; [ -z "$(ps -o pid= --ppid "$xpid")" ] && ok "the setsid()'d fork of run_child is gone with its run" || bad "left: $(ps -o pid,pgid,sid,args --ppid "$xpid")"

# test_double_timeout: the task times out, then its finally hook too; nothing is left running.
i=$(TIMEOUT=1 hook Double do=sleep sleep=30 finally=sleep mark="$WORK/double.mark")
wait_for 15 "SELECT status FROM instances WHERE id = $i" 15 && ok "double timeout: TIMEDOUT" || bad "Double: $(st "$i")"
grep -q "status=15 exit=-1 signal=15 timed_out=1" "$WORK/double.mark" && ok "the hook saw the task's timeout (SIGTERM)" || bad "double mark: $(cat "$WORK/double.mark" 2>&1)"
sleep 0.3; [ -z "$(ps -o pid= --ppid "$xpid")" ] && ok "no child of the executor is left" || bad "children left: $(ps -o pid,args --ppid "$xpid")"

# test_revisions: the revision hook's text is stored on the instance (one row per text).
i=$(hook Rev do=ok rev=abc123)
j=$(norc --json run Rev --queue Q | sed 's/[^0-9]//g')
wait_for 10 "SELECT COUNT(*) FROM instances WHERE id IN ($i, $j) AND status = 7" 2 || bad "Rev runs"
[ "$(sql "SELECT r.info FROM instances i JOIN revisions r ON r.id = i.revision_id WHERE i.id = $i")" = abc123 ] && ok "revision abc123 recorded" || bad "revision: $(sql "SELECT revision_id FROM instances WHERE id = $i")"
expect_ok "instance show" norc instance show "$i"
expect_out "it shows the revision" "^revision: +abc123$"
[ "$(sql "SELECT COUNT(*) FROM revisions WHERE info = 'abc123'")" = 1 ] && [ "$(sql "SELECT COUNT(DISTINCT revision_id) FROM instances WHERE id IN ($i, $j)")" = 1 ] && ok "two runs share one revision row" || bad "revision rows"

# Crash isolation: each bad run fails only itself, with the reason in its log.
a=$(hook Segv do=segv); b=$(hook Abrt do=abort); c=$(hook Exit do=exit); d=$(TIMEOUT=1 hook Loop do=loop); e=$(hook Leak do=leakfds); g=$(hook Good do=ok)
wait_for 15 "SELECT COUNT(*) FROM instances WHERE id IN ($a, $b, $c, $d, $e, $g) AND status >= 7" 6 || bad "crash runs did not all end"
[ "$(st "$a")/$(sql "SELECT term_signal FROM instances WHERE id = $a")" = 13/11 ] && log_of "$a" | grep -q "killed by signal 11 (SIGSEGV)" && ok "segfault: FAILURE, SIGSEGV named in the log" || bad "segv: $(st "$a") $(log_of "$a" | tail -2)"
[ "$(st "$b")" = 13 ] && log_of "$b" | grep -q "SIGABRT" && ok "abort: FAILURE, SIGABRT named" || bad "abort: $(st "$b")"
[ "$(st "$c")/$(sql "SELECT exit_code FROM instances WHERE id = $c")" = 13/4 ] && ok "exit(4) in the plugin: FAILURE, exit 4" || bad "exit: $(st "$c")"
[ "$(st "$d")" = 15 ] && ok "a looping plugin: TIMEDOUT" || bad "loop: $(st "$d")"
[ "$(st "$e")" = 7 ] && ok "leaked fds stay in the child: SUCCESS" || bad "leak: $(st "$e")"
[ "$(st "$g")" = 7 ] && ok "a good task beside them: SUCCESS" || bad "good: $(st "$g")"
[ "$(sql "SELECT status FROM daemons WHERE pid = $xpid")" = 2 ] && kill -0 "$xpid" && ok "the executor is still RUNNING" || bad "executor gone"
[ "$(ls /proc/$xpid/fd | wc -l)" -lt 20 ] && ok "the executor holds no leaked fds ($(ls /proc/$xpid/fd | wc -l) open)" || bad "executor fds: $(ls /proc/$xpid/fd | wc -l)"
dup=$(sort "$WORK"/log/executors/executor-* | uniq -d | wc -l)
[ "$dup" = 0 ] && ok "no executor log line written twice by a plugin's exit()" || bad "$dup duplicated lines"

# The finally hook runs after an interrupt too.
i=$(hook Intr do=sleep sleep=30 finally=slowkeep mark="$WORK/intr.mark")
wait_for 10 "SELECT status FROM instances WHERE id = $i" 2 || bad "Intr not running"
ctl instance "$i" --kill >/dev/null
wait_for 10 "SELECT status FROM instances WHERE id = $i" 16 && ok "killed: INTERRUPTED" || bad "Intr: $(st "$i")"
grep -q "status=16 " "$WORK/intr.mark" && ok "finally ran after the interrupt and saw it" || bad "intr mark: $(cat "$WORK/intr.mark" 2>&1)"
log_of "$i" | grep -q "The finally hook was killed" && bad "the stop request killed the finally hook too: $(log_of "$i" | tail -3)" || ok "the stop request did not kill the finally hook (1.5 s) as well"
finish
