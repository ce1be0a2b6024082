#!/usr/bin/env bash
# jobdef.sh sqlite|mariadb - defining jobs through the real `norc` binary on one backend: the
# original Norc's 6-node test graph and its waves, `show --dot`, removal of nodes and edges,
# then every bad input (each: the right exit code and one clear line, nothing written).
# Needs NORC_BIN; for mariadb NORC_TEST_MARIADB_ENV.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
daemons_setup "${1:?sqlite|mariadb}" norc_jobdef 'log_dir = "log"; tmp_dir = "tmp";'

echo "# backend $backend"
expect_ok "norc init" norc init
expect_ok "queue add" norc queue add Q

# The original's test_job graph: edges 0->2, 0->3, 1->4, 2->3, 2->5, 3->5, 4->5.
expect_ok "job add" norc job add etl --timeout 1h --retries 2 --description "the test graph"
expect_out "job add prints the id" "job etl added \(id [0-9]+, type Job\)"
for i in 0 1 2 3 4 5; do
  run norc task add "t$i" --command "echo $i"
  run norc job node etl "n$i" --task "t$i"
  [ "$RC" = 0 ] || bad "job node etl n$i (exit $RC)"
done
expect_out "job node prints what it added" "node n5 added to job etl \(id [0-9]+, task t5\)"
for e in "0 2" "0 3" "1 4" "2 3" "2 5" "3 5" "4 5"; do
  set -- $e
  run norc job dep etl "n$1" "n$2"
  [ "$RC" = 0 ] || bad "job dep etl n$1 n$2 (exit $RC)"
done
expect_out "job dep prints the edge" "job etl: edge n4 -> n5 added"
expect_ok "job show --json" norc job show etl --json
expect_json "waves {n0,n1}, {n2,n4}, {n3}, {n5}" \
  "[sorted(w) for w in j['waves']] == [['n0','n1'], ['n2','n4'], ['n3'], ['n5']]"
expect_json "nodes carry task, type and wave" \
  "{n['name']: (n['task'], n['type'], n['wave']) for n in j['nodes']}['n3'] == ('t3', 'CommandTask', 3) and len(j['nodes']) == 6"
expect_json "edges by name, job settings" \
  "len(j['edges']) == 7 and {'parent': 'n2', 'child': 'n5'} in j['edges'] and j['timeout'] == 3600 and j['retries'] == 2 and j['type'] == 'Job'"
expect_ok "job show (text)" norc job show etl
expect_out "text lists nodes with task and wave" "^4 +n5 +t5 +CommandTask"
expect_out "text lists edges" "^  n2 -> n3$"
expect_ok "job show --dot" norc job show etl --dot
expect_out "--dot is a digraph" '^digraph "etl" \{$'
expect_out "--dot has the edges, quoted" '^  "n0" -> "n2";$'
expect_out "--dot labels nodes with their task" '^  "n3" \[label="n3\\nt3"\];$'
[ "$(grep -c -- '->' "$OUT")" = 7 ] && [ "$(tail -n 1 "$OUT")" = "}" ] && ok "--dot: 7 edges, closed" || bad "--dot shape"
if command -v dot >/dev/null; then
  dot -Tsvg "$OUT" >/dev/null 2>"$ERR" && ok "--dot parses with graphviz" || bad "graphviz refuses --dot"
fi
expect_ok "job show by #id" norc job show "#$(sql "SELECT id FROM tasks WHERE name = 'etl'")"
expect_ok "job list --json" norc job list --json
expect_json "job list counts nodes and edges" "[(r['name'], r['nodes'], r['edges']) for r in j] == [('etl', 6, 7)]"
expect_ok "job list" norc job list
expect_out "job list table" "etl +6 +7 +3600 +2 +0 +the test graph"
expect_ok "job add --fail-fast" norc job add ff --fail-fast
[ "$(sql "SELECT params FROM tasks WHERE name = 'ff'")" = '{"fail_fast":"true"}' ] && ok "--fail-fast stored as fail_fast=true" || bad "fail_fast param"

# Bad edges and nodes.
expect_fail "an edge closing a cycle is refused, naming it" 1 \
  "job 'etl': the edge n5 -> n0 would close the cycle n0 -> n2 -> n5 -> n0" norc job dep etl n5 n0
expect_fail "a two-node cycle" 1 "would close the cycle n1 -> n4 -> n1" norc job dep etl n4 n1
expect_fail "self edge" 1 "node 'n3' cannot depend on itself" norc job dep etl n3 n3
expect_fail "unknown node" 1 "job 'etl' has no node 'nx'; add it with .norc job node etl nx --task TASK." norc job dep etl n0 nx
expect_ok "another job" norc job add other
expect_ok "a node of the other job" norc job node other m0 --task t0
expect_fail "a node of another job in dep" 1 "job 'etl' has no node 'm0' \(a node of job 'other'\); add it" norc job dep etl m0 n1
expect_fail "duplicate node" 1 "job 'etl' already has a node 'n0' \(task 't0'\); .*norc job node etl n0 --rm" norc job node etl n0 --task t1
expect_fail "duplicate edge" 1 "node 'n2' depends on 'n0' already" norc job dep etl n0 n2
expect_fail "unknown job" 1 "job 'nojob' does not exist; .norc job list." norc job dep nojob n0 n1
expect_fail "node on a task that is no Job" 1 "task 't0' is a CommandTask, not a Job" norc job node t0 x --task t1
expect_fail "node running an unknown task" 1 "task 'nosuch' does not exist" norc job node etl n9 --task nosuch
expect_fail "bad node name" 2 "node name 'a/b': character '/' is not allowed" norc job node etl a/b --task t0
expect_fail "digits-only node name" 2 "node name '12' is only digits" norc job node etl 12 --task t0
expect_fail "node without --task or --rm" 2 "give either --task TASK or --rm" norc job node etl n9
expect_fail "dep with two names" 2 "give a JOB, a PARENT node and a CHILD node" norc job dep etl n0
[ "$(sql "SELECT COUNT(*) FROM job_deps")" = 7 ] && [ "$(sql "SELECT COUNT(*) FROM job_nodes")" = 7 ] && ok "refused edits wrote nothing" || bad "refused edits wrote rows"

# Nesting: a job may run another job, never itself.
expect_ok "job A" norc job add A
expect_ok "job B" norc job add B
expect_ok "A runs B" norc job node A b --task B
expect_fail "B running A would nest A in itself" 1 "job 'B': a node running job 'A' would nest the job inside itself: B -> A -> B" norc job node B a --task A
expect_ok "job C" norc job add C
expect_ok "B runs C" norc job node B c --task C
expect_fail "a longer nesting cycle" 1 "nest the job inside itself: C -> A -> B -> C" norc job node C a --task A
expect_fail "a job as its own node" 1 "job 'A' cannot be a node of itself" norc job node A self --task A
expect_ok "a job may run the same job twice" norc job node A b2 --task B

# Job parameters go through the Job plugin.
expect_fail "job add with a bad fail_fast" 1 "job 'bad': Job parameter fail_fast='maybe': give true or false" norc job add bad --param fail_fast=maybe
expect_fail "job add with an unknown parameter" 1 "Job has no parameter 'command'" norc job add bad --param command=true
expect_fail "job add with a bad --retries" 2 "--retries '-1'" norc job add bad --retries -1
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE name = 'bad'")" = 0 ] && ok "a refused job add wrote nothing" || bad "bad job stored"
expect_fail "job add of a taken name" 1 "task 'etl' already exists" norc job add etl

# A task that is a node of a live job cannot be removed.
expect_fail "task rm of a node's task" 1 "task t3 is node n3 of job etl; remove the node first: norc job node etl n3 --rm" norc task rm t3
expect_fail "task rm of a nested job" 1 "task B is node b of job A; remove the node first" norc task rm B
expect_ok "t3 is still there" norc task show t3

# Removing edges and nodes.
expect_ok "dep --rm" norc job dep etl n4 n5 --rm
expect_out "dep --rm says so" "job etl: edge n4 -> n5 removed"
expect_fail "dep --rm of a missing edge" 1 "job 'etl' has no edge n4 -> n5; .norc job show etl. lists the edges" norc job dep etl n4 n5 --rm
expect_ok "node --rm" norc job node etl n3 --rm
expect_out "node --rm counts its edges" "node n3 removed from job etl, with 3 edge\(s\)"
expect_fail "node --rm of a missing node" 1 "job 'etl' has no node 'n3'; .norc job show etl. lists the nodes" norc job node etl n3 --rm
expect_ok "job show --json after removals" norc job show etl --json
expect_json "5 nodes, 3 edges, new waves" \
  "len(j['nodes']) == 5 and len(j['edges']) == 3 and [sorted(w) for w in j['waves']] == [['n0','n1'], ['n2','n4'], ['n5']]"
expect_ok "the task of a removed node can go" norc task rm t3
expect_ok "the removed node's name is free again" norc job node etl n3 --task t2
expect_ok "removing job A" norc task rm A
expect_ok "then B, only a node of the removed A, can go" norc task rm B

# History: a finished run keeps its instances (no longer pointing at a removed node); a run
# still going refuses the removal.
etl=$(sql "SELECT id FROM tasks WHERE name = 'etl'")
n0=$(sql "SELECT id FROM job_nodes WHERE job_id = $etl AND name = 'n0'")
t0=$(sql "SELECT id FROM tasks WHERE name = 't0'")
sql "INSERT INTO instances (task_id, status, enqueued) VALUES ($etl, 2, 1)"
run_id=$(sql "SELECT MAX(id) FROM instances")
sql "INSERT INTO instances (task_id, status, enqueued, job_instance_id, job_node_id) VALUES ($t0, 2, 1, $run_id, $n0)"
expect_fail "node --rm while a run is running it" 1 "job 'etl' instance #$run_id is running node 'n0'; remove the node once that run has ended" norc job node etl n0 --rm
sql "UPDATE instances SET status = 13"
expect_ok "node --rm once the run ended" norc job node etl n0 --rm
[ "$(sql "SELECT COUNT(*) FROM instances WHERE job_instance_id = $run_id AND job_node_id IS NULL")" = 1 ] && ok "its instance stays, detached from the node" || bad "node instance history"

# Retrying job instances.
expect_fail "job retry of junk" 2 "'x1' is not an instance id" norc job retry x1
expect_fail "job retry of a missing instance" 1 "instance #999999 does not exist" norc job retry 999999
q=$(sql "SELECT id FROM queues WHERE name = 'Q'")
n1=$(sql "SELECT id FROM job_nodes WHERE job_id = $etl AND name = 'n1'")
n2=$(sql "SELECT id FROM job_nodes WHERE job_id = $etl AND name = 'n2'")
sql "INSERT INTO instances (task_id, status, enqueued, ended, queue_id) VALUES ($etl, 13, 1, 2, $q)"
failed=$(sql "SELECT MAX(id) FROM instances")
sql "INSERT INTO instances (task_id, status, enqueued, ended, queue_id, job_instance_id, job_node_id) VALUES ($t0, 7, 1, 2, $q, $failed, $n1)"
sql "INSERT INTO instances (task_id, status, enqueued, ended, queue_id, job_instance_id, job_node_id) VALUES ($t0, 13, 1, 2, $q, $failed, $n2)"
expect_ok "job retry of a failed job instance (#ID)" norc job retry "#$failed"
expect_out "job retry says what it queued" "^job instance #[0-9]+ retries #$failed: 1 node\(s\) to run$"
expect_fail "job retry of a retried instance" 1 "job instance #$failed was retried already" norc job retry "$failed"
expect_fail "job retry of a plain task's instance" 1 "is not a job instance" norc job retry "$(sql "SELECT id FROM instances WHERE job_instance_id = $run_id")"

finish
