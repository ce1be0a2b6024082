#!/usr/bin/env bash
# jobs.sh [N] [HOPS] - what running a task as a job's node costs, on one norc_executor -c 2
# (logs on), every node a CommandTask `/usr/bin/true`:
#   fan:   one job of N nodes (default 1000) with no edges (all queued at its start),
#          beside `xargs -P2 -n1 true` over N in the same run;
#   wide:  one job root -> N-2 middle nodes -> join (every middle end counts the join's
#          parents that have not succeeded: the one decision that grows with the job);
#   chain: one job of HOPS nodes (default 100) in a line: the time from a node's end to its
#          child's start (decide, queue, pop, claim, fork+exec).
# SQLite by default; NORC_BENCH_MARIADB_ENV as for dispatch.sh. Prints a markdown table;
# asserts only that every job succeeded.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-1000}
HOPS=${2:-100}
bench_init jobs
start_daemon "$B/norc_executor" Q -c 2
# define_job NAME COUNT: a job (its task id in $jid) of nodes n0..n(COUNT-1) running task T,
# written in one statement; the caller adds edges
define_job() {
  "$B/norc" job add "$1" >/dev/null
  jid=$(sql "SELECT id FROM tasks WHERE name = '$1'")
  local name="CONCAT('n', i)"
  [ "$backend" = sqlite ] && name="'n' || i"
  sql "INSERT INTO job_nodes (job_id, name, task_id) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $2 - 1) SELECT $jid, $name, 1 FROM n"
}
# run_job NAME: wall seconds from the job's claim to its end; every node must succeed
run_job() {
  local j
  j=$("$B/norc" --json run "$1" --queue Q | sed 's/[^0-9]//g')
  wait_for "SELECT status >= 7 FROM instances WHERE id = $j" 1
  [ "$(sql "SELECT status FROM instances WHERE id = $j")" = 7 ] || { echo "job $1 did not succeed" >&2; exit 1; }
  sql "SELECT (ended - started) / 1e6 FROM instances WHERE id = $j"
}
f() { awk -v v="$1" -v d="$2" -v p="$3" 'BEGIN { printf "%.*f", p, v / d }'; }

define_job Fan "$N"
fan_s=$(run_job Fan)
t2=$(now_s); seq 1 "$N" | xargs -P2 -n1 true; t3=$(now_s)
xargs_s=$(echo "$t3 - $t2" | bc)

define_job Wide "$N"
lo=$(sql "SELECT MIN(id) FROM job_nodes WHERE job_id = $jid"); hi=$(sql "SELECT MAX(id) FROM job_nodes WHERE job_id = $jid")
sql "INSERT INTO job_deps (job_id, parent_id, child_id) SELECT $jid, $lo, id FROM job_nodes WHERE job_id = $jid AND id > $lo AND id < $hi"
sql "INSERT INTO job_deps (job_id, parent_id, child_id) SELECT $jid, id, $hi FROM job_nodes WHERE job_id = $jid AND id > $lo AND id < $hi"
wide_s=$(run_job Wide)

define_job Chain "$HOPS"
sql "INSERT INTO job_deps (job_id, parent_id, child_id) SELECT $jid, id, id + 1 FROM job_nodes WHERE job_id = $jid AND id < (SELECT MAX(id) FROM job_nodes WHERE job_id = $jid)"
chain_s=$(run_job Chain)
hop=$(sql "SELECT c.started - p.ended FROM instances c JOIN instances p ON p.job_instance_id = c.job_instance_id AND p.job_node_id = c.job_node_id - 1 WHERE c.job_instance_id = (SELECT MAX(id) FROM instances WHERE task_id = $jid)" | pcts)
cat <<T
| jobs ($backend, $(machine), work dir on $(stat -f -c %T "$W")) | value |
| --- | --- |
| one job of $N independent nodes, claim to end | $(f "$fan_s" 1 2) s ($(f "$fan_s" "$N" 5 | awk '{ printf "%.3f", $1 * 1000 }') ms per node) |
| the same $N \`true\` with \`xargs -P2 -n1 true\` | $(f "$xargs_s" 1 2) s; ratio $(f "$fan_s" "$xargs_s" 2) |
| root -> $((N - 2)) nodes -> join (each middle end counts the join's unfinished parents) | $(f "$wide_s" 1 2) s ($(f "$wide_s" "$N" 5 | awk '{ printf "%.3f", $1 * 1000 }') ms per node) |
| chain of $HOPS nodes: a node's end to its child's start, p50 / p95 / p99 / max | $hop |
T
