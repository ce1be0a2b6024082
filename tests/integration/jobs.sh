#!/usr/bin/env bash
# jobs.sh sqlite|mariadb - Jobs run by the real daemons: the original's test_job waves, a
# failing node (descendants NOT_RUN, the independent branch runs, exit status counts), a
# diamond under two executors (the join runs exactly once, many times over), -c 1, a nested
# job, the job's timeout, fail_fast, a kill from norc_control, `norc job retry` and an
# automatic retry, each re-running only what did not succeed.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
daemons_setup "${1:-}" norc_jobs "log_dir = \"$WORK/log\"; daemon: { heartbeat = 1; heartbeat_timeout = 5; kill_grace = 1; };"
trap 'daemons_cleanup; pkill -KILL -f "sleep 3[0-9]\.$$" 2>/dev/null' EXIT
echo "# backend $backend"
norc init >/dev/null; norc queue add Q >/dev/null; norc queue add Q1 >/dev/null
"$bindir/norc_scheduler" >/dev/null 2>&1 & pids+=($!)
start_executor() { # start_executor QUEUE SLOTS -> $xid
  "$bindir/norc_executor" "$1" -c "$2" >/dev/null 2>&1 & local p=$!; pids+=($p)
  wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $p AND status = 2" 1 || bad "executor on $1 did not start"
  xid=$(sql "SELECT id FROM daemons WHERE pid = $p")
}
start_executor Q 4; e1=$xid
st() { sql "SELECT status FROM instances WHERE id = $1"; }
# node_id JOBINST NODE: the node instance of NODE in job instance JOBINST
node_id() { sql "SELECT i.id FROM instances i JOIN job_nodes n ON n.id = i.job_node_id WHERE i.job_instance_id = $1 AND n.name = '$2'"; }
run_job() { norc --json run "$1" --queue "${2:-Q}" | sed 's/[^0-9]//g'; }
define() { # define JOB "node:task ..." "parent>child ..." [job add options]
  local job=$1 nodes=$2 edges=$3; shift 3
  norc job add "$job" "$@" >/dev/null || bad "job add $job"
  for nt in $nodes; do norc job node "$job" "${nt%%:*}" --task "${nt#*:}" >/dev/null || bad "node $nt"; done
  for e in $edges; do norc job dep "$job" "${e%%>*}" "${e#*>}" >/dev/null || bad "dep $e"; done
}
norc task add Nap --command "sleep 0.3" >/dev/null
norc task add Ok --command "true" >/dev/null
norc task add Bad --command "exit 1" >/dev/null

# 1. The original's test_job: 6 nodes, edges 0-2 0-3 1-4 2-3 2-5 3-5 4-5; queued in the waves
# {0,1} {2,4} {3} {5}, each node after all its parents ended, job SUCCESS.
define Orig "n0:Nap n1:Nap n2:Nap n3:Nap n4:Nap n5:Nap" "n0>n2 n0>n3 n1>n4 n2>n3 n2>n5 n3>n5 n4>n5"
j=$(run_job Orig)
wait_for 20 "SELECT status FROM instances WHERE id = $j" 7 && ok "test_job: the job ended SUCCESS" || bad "Orig: $(st "$j")"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE job_instance_id = $j AND status = 7")" = 6 ] && ok "its 6 nodes ran, each once, SUCCESS" || bad "nodes: $(sql "SELECT job_node_id, status FROM instances WHERE job_instance_id = $j")"
order=$(sql "SELECT n.name FROM instances i JOIN job_nodes n ON n.id = i.job_node_id WHERE i.job_instance_id = $j ORDER BY i.enqueued" | tr '\n' ' ')
case "$order" in
  "n0 n1 n2 n4 n3 n5 "|"n1 n0 n2 n4 n3 n5 "|"n0 n1 n4 n2 n3 n5 "|"n1 n0 n4 n2 n3 n5 ") ok "queued in the waves {0,1} {2,4} {3} {5}: $order" ;;
  *) bad "queue order: $order" ;;
esac
early=$(sql "SELECT COUNT(*) FROM job_deps d JOIN instances p ON p.job_node_id = d.parent_id AND p.job_instance_id = $j JOIN instances c ON c.job_node_id = d.child_id AND c.job_instance_id = $j WHERE c.started < p.ended")
[ "$early" = 0 ] && ok "no node started before a parent ended" || bad "$early node(s) started early"
jlog=$(sql "SELECT log_path FROM instances WHERE id = $j")
grep -q "Node n5 is ready" "$WORK/log/$jlog" && grep -q "Node n5 (instance #[0-9]*) started on executor #$e1" "$WORK/log/$jlog" && grep -q "Job ended with status SUCCESS" "$WORK/log/$jlog" && ok "the job's log tells what became ready, started, and how it ended" || bad "job log: $(cat "$WORK/log/$jlog")"
n5=$(node_id "$j" n5)
[ "$(sql "SELECT log_path FROM instances WHERE id = $n5")" = "$jlog-nodes/node-$n5" ] && [ -f "$WORK/log/$jlog-nodes/node-$n5" ] && ok "node logs under <job log>-nodes/node-<id>" || bad "node log path: $(sql "SELECT log_path FROM instances WHERE id = $n5")"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE job_instance_id = $j AND fire_time = (SELECT fire_time FROM instances WHERE id = $j)")" = 6 ] && ok "nodes carry the job's nominal fire time" || bad "fire times"
expect_ok "instance show of a job instance" norc instance show "$j"
expect_out "it lists the job's nodes" "^$n5 +n5 +Nap +SUCCESS "
expect_ok "instance show --json" norc --json instance show "$j"
expect_json "with its 6 nodes" "len(j['nodes']) == 6 and all(n['job'] == $j for n in j['nodes'])"

# 2. A failing node: exit 1 fails it; its descendants are NOT_RUN naming it; the independent
# branch runs; the job ends FAILURE once nothing runs.
define Fail "a:Nap bad:Bad after:Ok after2:Ok indep:Nap" "bad>after after>after2 a>indep"
j=$(run_job Fail)
wait_for 20 "SELECT status FROM instances WHERE id = $j" 13 && ok "a job with a failing node ends FAILURE" || bad "Fail: $(st "$j")"
b=$(node_id "$j" bad)
[ "$(sql "SELECT status, exit_code FROM instances WHERE id = $b" | tr '\t|' '  ')" = "13 1" ] && ok "a command exiting 1 fails its node (FAILURE, exit 1)" || bad "bad: $(sql "SELECT status, exit_code FROM instances WHERE id = $b")"
[ "$(st "$(node_id "$j" after)")$(st "$(node_id "$j" after2)")" = 1111 ] && ok "its descendants are NOT_RUN (11)" || bad "after: $(st "$(node_id "$j" after)") after2: $(st "$(node_id "$j" after2)")"
sql "SELECT reason FROM instances WHERE id = $(node_id "$j" after2)" | grep -q "node bad (instance #$b) ended FAILURE" && ok "NOT_RUN names the node that failed" || bad "reason: $(sql "SELECT reason FROM instances WHERE id = $(node_id "$j" after2)")"
[ "$(st "$(node_id "$j" indep)")" = 7 ] && ok "the independent branch ran to SUCCESS" || bad "indep: $(st "$(node_id "$j" indep)")"
sql "SELECT reason FROM instances WHERE id = $j" | grep -q "node bad (instance #$b) ended FAILURE; 2 node(s) not run" && ok "the job's reason names the failed node" || bad "job reason: $(sql "SELECT reason FROM instances WHERE id = $j")"

# 3. A diamond under two executors, 20 times: both middle nodes end at about the same moment
# on different executors; the join is queued and started exactly once every time.
start_executor Q 2; e2=$xid
define Dia "top:Ok l:Ok r:Ok join:Ok" "top>l top>r l>join r>join"
dias=()
for _ in $(seq 1 20); do dias+=("$(run_job Dia)"); done
ids=$(IFS=,; echo "${dias[*]}")
wait_for 60 "SELECT COUNT(*) FROM instances WHERE id IN ($ids) AND status = 7" 20 && ok "20 diamond jobs ended SUCCESS" || bad "diamonds: $(sql "SELECT status, COUNT(*) FROM instances WHERE id IN ($ids) GROUP BY status")"
joins=$(sql "SELECT i.id FROM instances i JOIN job_nodes n ON n.id = i.job_node_id WHERE i.job_instance_id IN ($ids) AND n.name = 'join' AND i.status = 7" | wc -l)
[ "$joins" = 20 ] && ok "one join instance per job, each SUCCESS" || bad "joins: $joins"
starts=0
for jn in $(sql "SELECT i.id FROM instances i JOIN job_nodes n ON n.id = i.job_node_id WHERE i.job_instance_id IN ($ids) AND n.name = 'join'"); do
  c=$(cat "$WORK"/log/executors/executor-* | grep -c "Starting <Instance #$jn of ")
  starts=$((starts + c))
done
[ "$starts" = 20 ] && ok "each join started exactly once (20 starts in the executors' logs)" || bad "join starts: $starts"
both=$(sql "SELECT COUNT(DISTINCT executor_id) FROM instances WHERE job_instance_id IN ($ids)")
[ "$both" = 2 ] && ok "the nodes ran on both executors" || bad "executors used: $both"
[ "$(sql "SELECT COUNT(*) FROM dbqueue_items")" = 0 ] && ok "nothing left on the queue" || bad "queue items left"

# 4. -c 1: a running job holds no slot, so its nodes run on a one-slot executor.
start_executor Q1 1
define Chain "a:Ok b:Ok c:Ok" "a>b b>c"
j=$(run_job Chain Q1)
wait_for 15 "SELECT status FROM instances WHERE id = $j" 7 && ok "a 3-node chain ends SUCCESS with -c 1" || bad "Chain at -c 1: $(st "$j")"

# 5. Nested: Outer = pre -> inner (the job Inner: x -> y) -> post.
define Inner "x:Ok y:Ok" "x>y"
define Outer "pre:Ok inner:Inner post:Ok" "pre>inner inner>post"
j=$(run_job Outer)
wait_for 20 "SELECT status FROM instances WHERE id = $j" 7 && ok "a nested job ends SUCCESS" || bad "Outer: $(st "$j")"
in=$(node_id "$j" inner)
[ "$(sql "SELECT COUNT(*) FROM instances WHERE job_instance_id = $in AND status = 7")" = 2 ] && ok "the inner job ran its own 2 nodes" || bad "inner nodes"
early=$(sql "SELECT COUNT(*) FROM instances p, instances c WHERE p.id = $in AND c.id = $(node_id "$j" post) AND c.started < p.ended")
[ "$early" = 0 ] && ok "post started after the inner job ended" || bad "post ran before inner ended"
y=$(node_id "$in" y)
sql "SELECT log_path FROM instances WHERE id = $y" | grep -q -- "-nodes/node-$in-nodes/node-$y\$" && ok "nested node logs nest too" || bad "nested log path: $(sql "SELECT log_path FROM instances WHERE id = $y")"

# 6. The job's timeout bounds the whole job: the running node is killed (INTERRUPTED), the
# rest NOT_RUN, the job TIMEDOUT; no process outlives it.
norc task add Long --command "sleep 31.$$" >/dev/null
define Slow "s1:Long s2:Ok" "s1>s2" --timeout 2
j=$(run_job Slow); t0=$(date +%s)
wait_for 15 "SELECT status FROM instances WHERE id = $j" 15 && ok "the job TIMEDOUT after $(( $(date +%s) - t0 )) s (timeout 2 s)" || bad "Slow: $(st "$j")"
[ "$(st "$(node_id "$j" s1)")/$(st "$(node_id "$j" s2)")" = "16/11" ] && ok "its running node INTERRUPTED, the waiting one NOT_RUN" || bad "Slow nodes: $(st "$(node_id "$j" s1)")/$(st "$(node_id "$j" s2)")"
sleep 0.5; pgrep -f "sleep 31\.$$" >/dev/null && bad "the node's process outlived the job" || ok "no process of it is left"

# 7. fail_fast: a failure stops the rest at once.
define FF "long:Long bad:Bad" "" --fail-fast
j=$(run_job FF)
wait_for 10 "SELECT status FROM instances WHERE id = $j" 13 && ok "fail_fast: the job ends FAILURE without waiting for the long node" || bad "FF: $(st "$j")"
# INTERRUPTED, or NOT_RUN when the bad node failed before an executor took the long one
case "$(st "$(node_id "$j" long)")" in 16|11) ok "the long node was INTERRUPTED (or never started)" ;; *) bad "long: $(st "$(node_id "$j" long)")" ;; esac

# 8. norc_control instance ID --kill stops a running job.
define Killme "k1:Long k2:Ok" "k1>k2"
j=$(run_job Killme)
wait_for 10 "SELECT i.status FROM instances i JOIN job_nodes n ON n.id = i.job_node_id WHERE i.job_instance_id = $j AND n.name = 'k1'" 2 || bad "k1 not running"
expect_ok "norc_control instance --kill takes a job instance" ctl instance "$j" --kill
wait_for 10 "SELECT status FROM instances WHERE id = $j" 16 && ok "the killed job ends INTERRUPTED" || bad "Killme: $(st "$j")"
[ "$(st "$(node_id "$j" k1)")/$(st "$(node_id "$j" k2)")" = "16/11" ] && ok "its nodes: INTERRUPTED, NOT_RUN" || bad "Killme nodes"
expect_fail "--kill refuses an ended instance" 1 "is not running" ctl instance "$j" --kill

# 9. norc job retry: only the nodes that did not succeed run again.
norc task add Count --command "echo x >> $WORK/first.count" >/dev/null
norc task add Flaky --command "test -f $WORK/fixed" >/dev/null
define Re "first:Count flaky:Flaky last:Ok" "first>flaky flaky>last"
j=$(run_job Re)
wait_for 15 "SELECT status FROM instances WHERE id = $j" 13 || bad "Re did not fail: $(st "$j")"
touch "$WORK/fixed"
expect_ok "job retry" norc job retry "$j"
r=$(sql "SELECT id FROM instances WHERE previous_id = $j")
wait_for 15 "SELECT status FROM instances WHERE id = ${r:-0}" 7 && ok "the retry ends SUCCESS" || bad "retry: $(st "${r:-0}")"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE job_instance_id = $r")" = 2 ] && [ "$(wc -l <"$WORK/first.count")" = 1 ] && ok "it ran flaky and last only; first (SUCCESS) did not run again" || bad "retry nodes: $(sql "SELECT job_node_id FROM instances WHERE job_instance_id = $r")"
expect_fail "a job instance is retried once" 1 "retried already as instance #$r" norc job retry "$j"
expect_fail "a successful job is not retried" 1 "nothing to retry" norc job retry "$r"
expect_fail "retry takes only job instances" 1 "is not a job instance" norc job retry "$(node_id "$j" first)"

# 9b. A retry whose attempt was lost before it started ran nothing: the next retry still runs
# only what did not succeed in the last attempt that ran (not every node).
norc task add Count3 --command "echo x >> $WORK/third.count" >/dev/null
norc task add Flaky3 --command "test -f $WORK/fixed3" >/dev/null
define Re3 "first3:Count3 flaky3:Flaky3" "first3>flaky3"
j=$(run_job Re3)
wait_for 15 "SELECT status FROM instances WHERE id = $j" 13 || bad "Re3 did not fail: $(st "$j")"
for x in $(sql "SELECT id FROM daemons WHERE kind = 'executor' AND status = 2"); do ctl executor "$x" --pause --wait >/dev/null; done
norc job retry "$j" >/dev/null
r2=$(sql "SELECT id FROM instances WHERE previous_id = $j")
sql "UPDATE instances SET status = 14, ended = started, reason = 'executor lost' WHERE id = $r2" # as if lost at once
for x in $(sql "SELECT id FROM daemons WHERE kind = 'executor' AND status = 3"); do ctl executor "$x" --resume >/dev/null; done
touch "$WORK/fixed3"
expect_ok "retry of an attempt that ran nothing" norc job retry "$r2"
expect_out "it counts the nodes of the last attempt that ran" "retries #$r2: 1 node\(s\) to run"
r3=$(sql "SELECT id FROM instances WHERE previous_id = $r2")
wait_for 15 "SELECT status FROM instances WHERE id = ${r3:-0}" 7 && [ "$(sql "SELECT COUNT(*) FROM instances WHERE job_instance_id = $r3")" = 1 ] && [ "$(wc -l <"$WORK/third.count")" = 1 ] && ok "it ran only flaky3; first3 did not run again" || bad "r3: $(st "${r3:-0}") nodes $(sql "SELECT COUNT(*) FROM instances WHERE job_instance_id = ${r3:-0}") first3 ran $(wc -l <"$WORK/third.count")"

# 10. An automatic retry (the Job task's --retries) also runs only what did not succeed.
norc task add Count2 --command "echo x >> $WORK/second.count" >/dev/null
norc task add Once --command "if [ -f $WORK/once ]; then true; else touch $WORK/once; false; fi" >/dev/null
define Auto "c2:Count2 once:Once" "" --retries 1
j=$(run_job Auto)
wait_for 20 "SELECT status FROM instances WHERE previous_id = $j" 7 && ok "the job's automatic retry ends SUCCESS" || bad "auto retry: $(sql "SELECT id, status FROM instances WHERE previous_id = $j")"
[ "$(wc -l <"$WORK/second.count")" = 1 ] && ok "the node that had succeeded did not run again" || bad "c2 ran $(wc -l <"$WORK/second.count") times"

# 11. A scheduled job: each fire is a job instance; its nodes carry that fire's nominal time.
define Sched "s1:Ok s2:Ok" "s1>s2"
norc schedule add Sched --queue Q --period 1 --reps 2 >/dev/null
sid=$(sql "SELECT id FROM tasks WHERE name = 'Sched'")
wait_for 15 "SELECT COUNT(*) FROM instances WHERE task_id = $sid AND status = 7" 2 && ok "a schedule fires the job twice, both SUCCESS" || bad "scheduled job: $(sql "SELECT id, status FROM instances WHERE task_id = $sid")"
[ "$(sql "SELECT COUNT(*) FROM instances n JOIN instances j ON j.id = n.job_instance_id WHERE j.task_id = $sid AND n.fire_time = j.fire_time AND j.schedule_id IS NOT NULL AND n.status = 7")" = 4 ] && ok "their 4 nodes ran with each fire's nominal time" || bad "scheduled nodes"

[ "$(sql "SELECT COUNT(*) FROM instances WHERE status IN (1, 2)")" = 0 ] && ok "nothing left CREATED or RUNNING" || bad "left: $(sql "SELECT id, status, job_instance_id FROM instances WHERE status IN (1, 2)")"
finish
