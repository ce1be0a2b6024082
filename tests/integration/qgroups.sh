#!/usr/bin/env bash
# qgroups.sh sqlite|mariadb - queue groups through the CLI and a real executor: the original's
# QueueGroup tests (each queue reachable through the group, strict priority order over 30
# items, push to a group refused), the weighted mode's exact shares, the doorbell aliases, and
# the CLI's refusals.
. "$(dirname "$0")/lib.sh"
daemons_setup "${1:-}" norc_qgroups 'log_dir = "log"; tmp_dir = "tmp";'
norc init >/dev/null
for q in q1 q2 q3; do norc queue add $q >/dev/null; done
norc task add T --command 'true' >/dev/null

# --- CLI ---
expect_ok "group add (strict)" norc queue group add G
expect_out "says strict" 'queue group G added \(id [0-9]+, strict priority\)'
expect_ok "member q3 priority 3" norc queue group member G q3 --priority 3
expect_ok "member q1 priority 1" norc queue group member G q1 --priority 1
expect_ok "member q2 priority 2" norc queue group member G q2 --priority 2
run norc queue group list
[ "$(awk 'NR > 1 && $1 == "G" { printf "%s ", $3 }' "$OUT")" = "q1 q2 q3 " ] \
  && ok "group list: members in pop order (ascending priority)" || bad "group list order"
expect_fail "a group cannot be a member" 1 "queue 'G' is a queue group itself; groups do not nest" \
  norc queue group member G G
expect_fail "members go into groups only" 1 "queue 'q1' is not a queue group" norc queue group member q1 q2
expect_fail "unknown queue" 1 "queue 'nope' does not exist" norc queue group member G nope
expect_fail "bad priority" 2 "--priority 'x'" norc queue group member G q1 --priority x
expect_fail "duplicate name" 1 "queue 'G' already exists" norc queue group add G
expect_fail "queue add --type QueueGroup points to group add" 1 'norc queue group add X' \
  norc queue add X --type QueueGroup
expect_ok "a queue may be in several groups: weighted group W" norc queue group add W --weighted
expect_ok "W: q1 weight 3" norc queue group member W q1 --weight 3
expect_ok "W: q2 weight 1" norc queue group member W q2
expect_ok "W: q3 added" norc queue group member W q3
expect_ok "W: q3 removed" norc queue group member W q3 --rm
expect_fail "removing a non-member" 1 "queue 'q3' is not a member of group 'W'" \
  norc queue group member W q3 --rm
run norc --json queue group list
[ "$(python3 -c 'import json, sys
g = [g for g in json.load(open(sys.argv[1])) if g["name"] == "W"][0]
print(g["mode"], ",".join("%s:%s" % (m["name"], m["weight"]) for m in g["members"]))' "$OUT")" = "weighted q1:3,q2:1" ] \
  && ok "group list --json: W weighted with q1:3, q2:1" || bad "json list"

# --- pushing to a group is refused ---
expect_fail "run onto a group is refused, naming its queues" 1 \
  "queue 'G' is a queue group: work is pushed onto one of its queues \(q1, q2, q3\)" norc run T --queue G
expect_fail "schedule onto a group is refused" 1 'is a queue group; schedule onto one of its queues' \
  norc schedule add T --queue G --period 5
[ "$(sql "SELECT COUNT(*) FROM instances")" = 0 ] && ok "nothing was left behind by the refusals" \
  || bad "instances left: $(sql "SELECT COUNT(*) FROM instances")"

# --- strict priority, the original's test_priority: 10 items in each of q3, q2, q1 (pushed in
# that order); one executor on the group runs q1's, then q2's, then q3's ---
for q in q3 q2 q1; do for i in $(seq 1 10); do norc run T --queue $q >/dev/null; done; done
run norc queue list
expect_out "queue list: the group counts its queues' items" 'G +QueueGroup +30 '
"$bindir/norc_executor" G -c 1 >/dev/null 2>&1 & pids+=($!); ex=$!
wait_for 30 "SELECT COUNT(*) FROM instances WHERE status = 7" 30 && ok "all 30 ran through the group" || bad "group run"
order=$(sql "SELECT q.name FROM instances i JOIN queues q ON q.id = i.queue_id ORDER BY i.started, i.id" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
[ "$order" = "q1:10 q2:10 q3:10 " ] && ok "strict priority: q1's 10, then q2's, then q3's" || bad "order: $order"

# --- each queue is reachable through the group, and its doorbell rings the group's executor ---
ls -la "$WORK/tmp/doorbell" >"$OUT" 2>&1
for q in q1 q2 q3; do
  qid=$(sql "SELECT id FROM queues WHERE name = '$q'")
  [ -L "$WORK/tmp/doorbell/q$qid-$ex.sock" ] || bad "no doorbell alias for $q"
done
ok "the group's executor rings for each of its queues (doorbell aliases)"
for q in q1 q2 q3; do norc run T --queue $q >/dev/null; done
wait_for 20 "SELECT COUNT(*) FROM instances WHERE status = 7" 33 && ok "one item on each queue: all three ran" || bad "push/pop"
run "$bindir/norc_reporter" -q
expect_out "reporter -q: the group, its type and its executor" 'G +QueueGroup +0 +1'
kill -INT "$ex"; wait "$ex" 2>/dev/null
ls "$WORK/tmp/doorbell" | grep -q "\-$ex.sock" && bad "doorbell aliases left after the executor stopped" \
  || ok "the executor removed its doorbell and aliases"

# --- weighted: with both queues full, pops are shared 3:1 exactly; a queue that was idle
# meanwhile does not come back with a hoard of turns ---
"$bindir/norc_executor" W -c 1 >/dev/null 2>&1 & pids+=($!); ex=$!
for i in $(seq 1 20); do norc run T --queue q1 >/dev/null; done # q2 idle meanwhile
wait_for 30 "SELECT COUNT(*) FROM instances WHERE status = 7" 53 && ok "weighted: 20 from q1 alone" || bad "q1 alone"
kill -STOP "$ex"
first=$(( $(sql "SELECT MAX(id) FROM instances") + 1 ))
for i in $(seq 1 40); do norc run T --queue q1 >/dev/null; norc run T --queue q2 >/dev/null; done
kill -CONT "$ex"
wait_for 60 "SELECT COUNT(*) FROM instances WHERE status = 7" 133 && ok "weighted: all 80 ran" || bad "weighted run"
pops=$(sql "SELECT q.name FROM instances i JOIN queues q ON q.id = i.queue_id WHERE i.id >= $first ORDER BY i.started, i.id" | head -40)
share=$(echo "$pops" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
[ "$share" = "q1:30 q2:10 " ] && ok "weighted 3:1: the first 40 pops were 30 from q1, 10 from q2" || bad "share: $share"
first8=$(echo "$pops" | head -8 | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
[ "$first8" = "q1:6 q2:2 " ] && ok "interleaved from the start, though q2 was idle before: 6 and 2 of the first 8" \
  || bad "first 8 pops: $first8"
kill -INT "$ex"; wait "$ex" 2>/dev/null

# --- a removed queue leaves its groups ---
expect_ok "queue rm q3" norc queue rm q3
run norc queue group list
[ "$(awk 'NR > 1 && $1 == "G" { printf "%s ", $3 }' "$OUT")" = "q1 q2 " ] \
  && ok "group G lists q1 and q2 only once q3 is removed" || bad "after rm: $(cat "$OUT")"

# --- an executor on an empty group says how to fill it ---
expect_ok "an empty group" norc queue group add E
run "$bindir/norc_executor" E -c 1
[ "$RC" = 1 ] && grep -q "queue group 'E' has no queues yet; add one with \`norc queue group member E QUEUE\`" "$ERR" \
  && ok "an executor on an empty group refuses to start, saying how to add a queue" || bad "empty group (exit $RC)"
finish
