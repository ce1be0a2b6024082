#!/usr/bin/env bash
# sqs.sh sqlite|mariadb - SQSQueue end to end through the real daemons, against local-aws-sqs
# on 127.0.0.1 (sqs-tmp.sh): push and pop through an executor (long polling in its receiver
# child), a message redelivered after its visibility timeout does not run its instance twice,
# two executors on one SQS queue run 200 instances exactly once each, bad parameters are
# refused, and queue list / norc_reporter -q show the queue.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
"$here/sqs-tmp.sh" start "$WORK/sqs" >/dev/null || { echo "FAIL - cannot start local-aws-sqs"; exit 1; }
. "$WORK/sqs/env"
daemons_setup "${1:-}" norc_sqs 'log_dir = "log"; daemon: { heartbeat = 1; heartbeat_timeout = 30; };'
trap 'cleanup_sqs' EXIT
cleanup_sqs() { "$here/sqs-tmp.sh" stop "$WORK/sqs" >/dev/null 2>&1; daemons_cleanup; }
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
start_executor() { "$bindir/norc_executor" S -c "${1:-2}" >>"$WORK/ex.out" 2>&1 & pids+=($!); expid=$!; }
succeeded() { sql "SELECT COUNT(*) FROM instances WHERE status = 7"; }

norc init >/dev/null
expect_fail "an unknown SQSQueue parameter is refused" 1 "colour" \
  norc queue add Bad --type SQSQueue --param colour=red
expect_ok "queue add SQSQueue (created on first use, 3 s visibility)" \
  norc queue add S --type SQSQueue --param "endpoint=$SQS_ENDPOINT" --param visibility_timeout=3 --param wait_time=2
norc task add T --command 'echo "ran $NORC_INSTANCE_ID"' >/dev/null

# --- push, then pop through an executor ---
for i in 1 2 3; do norc run T --queue S >/dev/null; done
run norc queue list
expect_out "queue list: 3 items waiting in SQS" 'S +SQSQueue +3 '
start_executor 2
wait_for 20 "SELECT COUNT(*) FROM instances WHERE status = 7" 3 && ok "3 instances ran from SQS" || bad "SQS run"
run norc queue list
expect_out "queue list: none left (acked)" 'S +SQSQueue +0 '
run "$bindir/norc_reporter" -q
expect_out "reporter -q: the SQS queue with its executor" 'S +SQSQueue +0 +1'
ex1=$expid

# --- a message redelivered after its visibility timeout runs its instance once: executor 1
# and its receiver are frozen right after the receiver popped the message (not acked);
# executor 2 gets it again 3 s later and runs it; executor 1, thawed, finds it claimed ---
rcv=$(pgrep -P "$ex1" | head -1)
kill -STOP "$ex1"
norc run T --queue S >/dev/null
dup=$(sql "SELECT MAX(id) FROM instances")
sleep 1 # the receiver pops it and reports to its frozen executor
kill -STOP "$rcv"
start_executor 2
wait_for 20 "SELECT status FROM instances WHERE id = $dup" 7 && ok "the redelivered message ran on the other executor" \
  || bad "redelivery (status $(sql "SELECT status FROM instances WHERE id = $dup"))"
kill -CONT "$rcv" "$ex1"
ok_after=0
for _ in $(seq 1 50); do
  grep -q "Instance #$dup was claimed elsewhere" "$WORK/log/executors/executor-1" && { ok_after=1; break; }
  sleep 0.1
done
[ "$ok_after" = 1 ] && ok "the first executor found it claimed elsewhere and removed its item" || bad "no 'claimed elsewhere' line"
[ "$(grep -c "^ran $dup\$" "$WORK/log/tasks/CommandTask/T/T-$dup")" = 1 ] \
  && [ "$(cat "$WORK"/log/executors/executor-* | grep -c "Starting <Instance #$dup of")" = 1 ] \
  && ok "instance #$dup ran exactly once" || bad "instance #$dup ran more than once"

# --- two executors on one SQS queue: 200 instances, each exactly once ---
before=$(succeeded)
for i in $(seq 1 200); do norc run T --queue S >/dev/null; done
wait_for 90 "SELECT COUNT(*) FROM instances WHERE status = 7" $((before + 200)) \
  && ok "200 more instances ran from SQS on two executors" || bad "200: $(succeeded)"
starts=$(cat "$WORK"/log/executors/executor-* | grep -o "Starting <Instance #[0-9]* of" | sort)
[ "$(echo "$starts" | wc -l)" = "$(echo "$starts" | uniq | wc -l)" ] \
  && [ "$(echo "$starts" | wc -l)" = "$((before + 200))" ] \
  && ok "no instance was started twice ($(echo "$starts" | wc -l) starts for $((before + 200)) instances)" \
  || bad "starts: $(echo "$starts" | wc -l), unique $(echo "$starts" | uniq | wc -l)"
both=$(sql "SELECT COUNT(DISTINCT executor_id) FROM instances WHERE id > $dup")
[ "$both" = 2 ] && ok "both executors took work" || bad "executors used: $both"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE status <> 7")" = 0 ] && ok "none failed, none stuck" || bad "not all SUCCESS"
# acks wait for the receiver's current long poll; redelivered duplicates are removed as found
for _ in $(seq 1 40); do run norc queue list; grep -Eq 'S +SQSQueue +0 ' "$OUT" && break; sleep 0.5; done
expect_out "queue list: the SQS queue drains to empty (every message deleted)" 'S +SQSQueue +0 '

# --- groups take only queues that answer at once ---
norc queue add D >/dev/null
norc queue group add G >/dev/null
norc queue group member G S >/dev/null
run "$bindir/norc_executor" G -c 1
[ "$RC" = 1 ] && grep -q "its queue 'S' waits on a server" "$ERR" \
  && ok "an executor on a group holding an SQS queue refuses to start, saying why" || bad "group with SQS (exit $RC)"
finish
