#!/usr/bin/env bash
# sqsplugin.sh - the SQSQueue plugin through queuectl (one process per command list, so what a
# pop holds lives until its ack or nack), against a private local-aws-sqs (sqs-tmp.sh) and the
# botocore SigV4 verifier (s3-tmp.sh), both started here and stopped in the trap:
#   - validate refuses unknown keys and bad values, and needs no network;
#   - open creates a missing queue (with visibility_timeout) or refuses with create = false;
#     push 3 / pop 3 / ack all / count 0; bodies are exactly {"instance_id":N};
#   - a popped, unacked message comes back after visibility_timeout with a higher receive
#     count; nack 0 makes it visible at once; touch keeps a held message invisible past its
#     original timeout (a second process polls meanwhile); an empty long poll returns EAGAIN
#     after about wait_time; a foreign body is deleted with a warning and skipped; a message
#     nacked max_receives times is deleted with a warning naming the instance;
#   - the plugin's JSON POSTs are signed right (the verifier answers 200 "SIGV4 OK", which the
#     plugin then refuses as not JSON), with a session token too; a wrong secret gets 403 and
#     no credential shows in the message.
# Needs NORC_QUEUECTL and NORC_SQS_SO (set by CMake).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_QUEUECTL:?}" "${NORC_SQS_SO:?}"

SQSDIR="$WORK/sqs"
S3DIR="$WORK/s3"
bg_pid=
trap '[ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null; "$here/sqs-tmp.sh" stop "$SQSDIR" >/dev/null 2>&1; "$here/s3-tmp.sh" stop "$S3DIR" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
if ! "$here/sqs-tmp.sh" start "$SQSDIR"; then
  echo "FAIL - sqs-tmp.sh start"; echo "0 passed, 1 failed"; exit 1
fi
if ! "$here/s3-tmp.sh" start "$S3DIR"; then
  echo "FAIL - s3-tmp.sh start (the SigV4 verifier)"; echo "0 passed, 1 failed"; exit 1
fi
. "$SQSDIR/env"
. "$S3DIR/env"
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local-secret # the emulator checks none

q() { "$NORC_QUEUECTL" "$NORC_SQS_SO" "$@"; }
# qn NAME ARGS...: the plugin on the emulator, queue NAME, short waits.
qn() { local n=$1; shift; q -o "endpoint=$SQS_ENDPOINT" -o wait_time=1 -o visibility_timeout=2 --name "$n" "$@"; }
# sqs ACTION JSON: one raw JSON-protocol request to the emulator (it checks no signature).
sqs() {
  curl -s -X POST "$SQS_ENDPOINT/" -H 'Content-Type: application/x-amz-json-1.0' \
    -H "X-Amz-Target: AmazonSQS.$1" -d "$2"
}
url() { sqs GetQueueUrl "{\"QueueName\":\"$1\"}" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["QueueUrl"])'; }
# lines: stdout without timings, joined with ','.
lines() { sed 's/ \[[0-9]* ms\]$//' "$OUT" | paste -sd, -; }
# ms_of CMD-LINE-PREFIX N: the time the Nth line starting with it took.
ms_of() { grep "^$1" "$OUT" | sed -n "${2:-1}p" | sed 's/.*\[\([0-9]*\) ms\]$/\1/'; }
expect_lines() {
  local d=$1 want=$2 got
  got=$(lines)
  [ "$RC" = 0 ] && [ "$got" = "$want" ] && ok "$d" || bad "$d (exit $RC; got '$got', wanted '$want')"
}

# ---- validate, without network ----
expect_ok "info: SQSQueue is a remote queue" q info
expect_out "info line" '^info SQSQueue [0-9.]+ remote$'
for bad in "bogus=1" "wait_time=21" "wait_time=-1" "visibility_timeout=0" "visibility_timeout=43201" \
           "create=maybe" "timeout=20" "max_receives=-1" "attempts=x" "queue_name=jobs.fifo" \
           "queue_name=$(printf 'a%.0s' $(seq 1 81))" "queue_name=" "endpoint=ftp://x" \
           "endpoint=http://127.0.0.1:9/path" "region=Bad_Region" "profile=p"; do
  run q -o "$bad" validate
  [ "$RC" = 1 ] && grep -Eq "^error: validate: ECONFIG: SQSQueue (has no setting|setting)" "$OUT" &&
    ok "validate refuses $bad" || bad "validate refuses $bad (exit $RC)"
done
run q -o bogus=1 validate
grep -q "valid: endpoint region queue_name credentials_file profile wait_time visibility_timeout create attempts timeout connect_timeout max_receives)" "$OUT" &&
  ok "validate lists the valid keys" || bad "validate lists the valid keys"
run q -o wait_time=5 -o timeout=9 validate
grep -q 'timeout = 9 must be at least wait_time + 5 = 10 s' "$OUT" && ok "validate: timeout must exceed wait_time + margin" || bad "timeout margin message"
expect_ok "validate: wait_time=5 timeout=10 is fine" q -o wait_time=5 -o timeout=10 validate
run q -o endpoint=http://127.0.0.1:1 -o region=eu-west-1 -o queue_name=Jobs_1-a -o wait_time=0 \
  -o visibility_timeout=43200 -o create=false -o attempts=1 -o timeout=5 -o connect_timeout=1 \
  -o max_receives=1000 -o credentials_file=/nonexistent -o profile=p validate
expect_lines "validate: every key at a bound, a dead endpoint, no network" "validate ok"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$NORC_QUEUECTL" "$NORC_SQS_SO" validate
expect_lines "validate: no credentials needed" "validate ok"

# ---- open ----
run qn nosuch -o create=false open
[ "$RC" = 1 ] && grep -q "^error: open: ENOTFOUND: SQSQueue 'nosuch' (SQS queue nosuch) GetQueueUrl: HTTP 400 QueueDoesNotExist: .*create = true" "$OUT" &&
  ok "open with create=false: a missing queue is refused, one line" || bad "open with create=false"
run qn "bad.name" open
[ "$RC" = 1 ] && grep -q "the queue's name is not an SQS queue name.*set queue_name" "$OUT" &&
  ok "open: a Norc name SQS refuses needs queue_name" || bad "open: bad Norc name"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$NORC_QUEUECTL" "$NORC_SQS_SO" -o "endpoint=$SQS_ENDPOINT" --name jobs open
[ "$RC" = 1 ] && grep -q "no AWS credentials" "$OUT" && ok "open: no credentials, one line" || bad "open: no credentials"
run qn jobs open
[ "$RC" = 0 ] && grep -q "created SQS queue jobs (visibility_timeout 2 s)" "$ERR" && ok "open creates the queue" || bad "open creates the queue"
JOBS=$(url jobs)
[ -n "$JOBS" ] && ok "the queue exists: $JOBS" || bad "GetQueueUrl jobs"
sqs GetQueueAttributes "{\"QueueUrl\":\"$JOBS\",\"AttributeNames\":[\"VisibilityTimeout\"]}" >"$OUT"
grep -q '"VisibilityTimeout":"2"' "$OUT" && ok "created with VisibilityTimeout 2" || bad "created queue attributes"
run qn jobs open
[ "$RC" = 0 ] && ! grep -q created "$ERR" && ok "open again resolves the existing queue" || bad "open again"
run qn other -o queue_name=jobs count
expect_lines "queue_name overrides the Norc name" "count 0"

# ---- push, pop, ack, count ----
run qn jobs push 1 push 2 push 3 sleep 0.2 count
expect_lines "push 3 (count is approximate: a message just sent may not count yet)" "push 1,push 2,push 3,sleep 0.2,count 3"
sqs ReceiveMessage "{\"QueueUrl\":\"$JOBS\",\"MaxNumberOfMessages\":10,\"VisibilityTimeout\":0}" >"$OUT"
/usr/bin/python3 -c 'import json,sys; b=sorted(m["Body"] for m in json.load(open(sys.argv[1]))["Messages"]); sys.exit(0 if b and all(x in ["{\"instance_id\":1}","{\"instance_id\":2}","{\"instance_id\":3}"] for x in b) else 1)' "$OUT" &&
  ok 'bodies are exactly {"instance_id":N}' || bad "message bodies"
sleep 0.2
run qn jobs pop pop pop ack 1 ack 2 ack 3 count
[ "$RC" = 0 ] && [ "$(grep -c '^pop [123]$' "$OUT")" = 3 ] && [ "$(sort -u "$OUT" | grep -c '^pop ')" = 3 ] &&
  grep -q '^count 0$' "$OUT" && ok "pop 3 (each once), ack all, count 0" || bad "pop 3 / ack / count 0"
run qn jobs ack 1
[ "$RC" = 1 ] && grep -q '^error: ack: ENOTFOUND: .*instance 1 is not held' "$OUT" && ok "ack of an id not held: ENOTFOUND" || bad "ack not held"

# ---- visibility: an unacked message comes back with a higher receive count ----
run qn jobs --time push 5 pop sleep 2.5 pop ack 5 count
expect_lines "unacked message comes back after visibility_timeout" "push 5,pop 5,sleep 2.5,pop 5,ack 5,count 0"
grep -q 'instance 5 received (message .*, receive 1)' "$ERR" && grep -q 'instance 5 received (message .*, receive 2)' "$ERR" &&
  ok "its receive count went from 1 to 2" || bad "receive count 1 -> 2"
ms=$(ms_of pop 2)
[ -n "$ms" ] && [ "$ms" -lt 800 ] && ok "redelivered at once after the timeout (${ms} ms)" || bad "second pop took ${ms} ms"
run qn jobs --time push 6 pop sleep 0.3 pop ack 6
expect_lines "not redelivered before visibility_timeout" "push 6,pop 6,sleep 0.3,pop EAGAIN,ack 6"

# ---- nack ----
run qn jobs --time push 7 pop nack 7 0 pop ack 7 count
expect_lines "nack 0 makes it visible again" "push 7,pop 7,nack 7 0,pop 7,ack 7,count 0"
ms=$(ms_of pop 2)
[ -n "$ms" ] && [ "$ms" -lt 800 ] && ok "at once (${ms} ms)" || bad "pop after nack 0 took ${ms} ms"
run qn jobs --time -o wait_time=2 push 8 pop nack 8 1 pop
expect_lines "nack with a delay of 1 s: visible after it" "push 8,pop 8,nack 8 1,pop 8"
ms=$(ms_of pop 2)
[ -n "$ms" ] && [ "$ms" -ge 700 ] && [ "$ms" -lt 2000 ] && ok "after about 1 s (${ms} ms)" || bad "pop after nack 1 took ${ms} ms"
run qn jobs nack 8 0
[ "$RC" = 1 ] && grep -q 'instance 8 is not held' "$OUT" && ok "nack of an id not held: ENOTFOUND" || bad "nack not held"
sleep 2.2
run qn jobs pop ack 8 count
expect_lines "cleanup" "pop 8,ack 8,count 0"

# ---- touch: a held message stays invisible past its original timeout ----
qn jobs --time push 9 pop touch sleep 0.8 touch sleep 0.8 touch sleep 0.8 touch sleep 0.8 touch \
  sleep 0.8 touch ack 9 >"$WORK/touch.out" 2>"$WORK/touch.err" &
bg_pid=$!
sleep 2.3 # the original visibility ended at ~2 s; touch extended it at ~1.6 s and ~3.2 s
run qn jobs -o wait_time=1 pop
expect_lines "touch: another process finds nothing at 2.3-3.3 s" "pop EAGAIN"
wait "$bg_pid"; brc=$?; bg_pid=
[ "$brc" = 0 ] && grep -q '^ack 9' "$WORK/touch.out" && [ "$(grep -c '^touch ok' "$WORK/touch.out")" = 6 ] &&
  ok "touch: the holder acked it after ~4 s" || { bad "touch holder (exit $brc)"; cat "$WORK/touch.out" "$WORK/touch.err"; }
run qn jobs count
expect_lines "touch: gone after the ack" "count 0"
# Without touch the same timing lets the other process take it: the check above means something.
qn jobs push 10 pop sleep 3.5 >"$WORK/notouch.out" 2>&1 &
bg_pid=$!
sleep 2.3
run qn jobs pop ack 10
wait "$bg_pid"; bg_pid=
expect_lines "without touch another process gets it after the timeout" "pop 10,ack 10"

# ---- empty long poll ----
run qn empty1 --time pop
expect_lines "empty long poll (wait_time 1): EAGAIN" "pop EAGAIN"
ms=$(ms_of pop)
[ "$ms" -ge 900 ] && [ "$ms" -lt 2500 ] && ok "after about 1 s (${ms} ms)" || bad "empty poll took ${ms} ms"
run qn empty1 --time -o wait_time=2 pop
ms=$(ms_of pop)
[ "$(lines)" = "pop EAGAIN" ] && [ "$ms" -ge 1900 ] && [ "$ms" -lt 3500 ] && ok "wait_time 2: EAGAIN after ${ms} ms" || bad "wait_time 2 poll: $(lines) ${ms} ms"
run qn empty1 --time -o wait_time=0 pop
ms=$(ms_of pop)
[ "$(lines)" = "pop EAGAIN" ] && [ "$ms" -lt 900 ] && ok "wait_time 0: EAGAIN at once (${ms} ms)" || bad "wait_time 0 poll: ${ms} ms"
# a message sent during the long poll wakes it early
(sleep 1; qn empty1 push 11 >/dev/null 2>&1) &
run qn empty1 --time -o wait_time=5 pop ack 11
ms=$(ms_of pop)
expect_lines "a push during the long poll is received" "pop 11,ack 11"
[ -n "$ms" ] && [ "$ms" -ge 700 ] && [ "$ms" -lt 3500 ] && ok "the long poll woke early (${ms} ms)" || bad "long poll wake took ${ms} ms"

# ---- foreign bodies ----
for body in 'rm -rf /' '{\"instance_id\":12,\"command\":\"id\"}' '{\"instance_id\":\"12\"}' '{\"instance_id\":0}'; do
  sqs SendMessage "{\"QueueUrl\":\"$JOBS\",\"MessageBody\":\"$body\"}" >/dev/null
  run qn jobs pop count
  expect_lines "a foreign body is skipped: $body" "pop EAGAIN,count 0"
  grep -q "WARN: SQSQueue 'jobs' (SQS queue jobs): deleted message .*: its body is not {\"instance_id\":N}" "$ERR" &&
    ok "and deleted with a warning" || bad "foreign body warning"
done
sqs SendMessage "{\"QueueUrl\":\"$JOBS\",\"MessageBody\":\"bad\"}" >/dev/null
run qn jobs push 13 pop pop ack 13 count
expect_lines "a foreign body next to a good one: the good one comes through" "push 13,pop EAGAIN,pop 13,ack 13,count 0"

# ---- max_receives ----
# local-aws-sqs counts a ChangeMessageVisibility to 0 as a receive (counts go 1, 3, 5), real
# SQS does not (1, 2, 3): with max_receives=2 both delete at the second nack.
run qn jobs -o max_receives=2 push 14 pop nack 14 0 pop nack 14 0 pop count
expect_lines "max_receives=2: kept at the first nack, deleted at the second" \
  "push 14,pop 14,nack 14 0,pop 14,nack 14 0,pop EAGAIN,count 0"
grep -q "WARN: SQSQueue 'jobs' (SQS queue jobs): instance 14 was received [0-9]* times without being found: its message .* is deleted (max_receives = 2)" "$ERR" &&
  ok "max_receives: the warning names instance 14" || bad "max_receives warning"
run qn jobs -o max_receives=1 push 15 pop nack 15 5 pop count
expect_lines "max_receives=1: the first nack deletes" "push 15,pop 15,nack 15 5,pop EAGAIN,count 0"

# ---- duplicates, clear, peek ----
run qn jobs push 16 push 16 pop pop ack 16 count
expect_lines "a duplicate push: both held, one ack deletes both" "push 16,push 16,pop 16,pop 16,ack 16,count 0"
# clear is PurgeQueue: SQS (and local-aws-sqs, which takes the whole 60 s) may delete later.
run qn purged push 17 push 18 sleep 0.2 clear peek
expect_lines "clear purges (counting what was there), peek is unsupported" "push 17,push 18,sleep 0.2,clear 2,peek EUNSUPP"
run qn purged clear
[ "$RC" = 1 ] && grep -q 'PurgeQueue: HTTP 403 PurgeQueueInProgress: .*(SQS allows one purge per queue every 60 s)$' "$OUT" &&
  ok "a second purge within 60 s: one line with the SQS code" || bad "second purge"

# ---- errors ----
run q -o endpoint=http://127.0.0.1:1 -o attempts=2 -o connect_timeout=1 --name jobs open
[ "$RC" = 1 ] && grep -q "^error: open: ECONN: SQSQueue 'jobs' (SQS queue jobs) GetQueueUrl: POST 127.0.0.1:1: .*after 2 tries" "$OUT" &&
  ok "a dead endpoint: retried, one line" || bad "dead endpoint"

# ---- signing, against botocore ----
V=(-o "endpoint=$SIGV4_ENDPOINT" --name jobs)
run env AWS_ACCESS_KEY_ID="$SIGV4_KEY" AWS_SECRET_ACCESS_KEY="$SIGV4_SECRET" "$NORC_QUEUECTL" "$NORC_SQS_SO" "${V[@]}" open
[ "$RC" = 1 ] && grep -q "GetQueueUrl: HTTP 200 but the answer is not JSON: 'SIGV4 OK sqs POST / signed=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target'" "$OUT" &&
  ok "verifier: the JSON POST is signed right (200, then refused as not JSON)" || bad "verifier: signed POST"
run env AWS_ACCESS_KEY_ID="$SIGV4_KEY" AWS_SECRET_ACCESS_KEY="$SIGV4_SECRET" AWS_SESSION_TOKEN='FQoGZXIvYXdzE+token/with=chars' \
  "$NORC_QUEUECTL" "$NORC_SQS_SO" "${V[@]}" -o region=eu-west-1 open
[ "$RC" = 1 ] && grep -q "HTTP 200 but the answer is not JSON: 'SIGV4 OK sqs POST / signed=.*x-amz-security-token" "$OUT" &&
  ok "verifier: signed with a session token, in eu-west-1" || bad "verifier: session token"
printf '[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$SIGV4_KEY" "$SIGV4_SECRET" >"$WORK/creds"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$NORC_QUEUECTL" "$NORC_SQS_SO" "${V[@]}" \
  -o "credentials_file=$WORK/creds" -o profile=ci open
[ "$RC" = 1 ] && grep -q "HTTP 200 but the answer is not JSON: 'SIGV4 OK sqs POST" "$OUT" &&
  ok "verifier: credentials_file and profile" || bad "verifier: credentials_file"
run env AWS_ACCESS_KEY_ID="$SIGV4_KEY" AWS_SECRET_ACCESS_KEY=wrong-secret-xyz "$NORC_QUEUECTL" "$NORC_SQS_SO" "${V[@]}" open
[ "$RC" = 1 ] && grep -q "^error: open: ERR: SQSQueue 'jobs' (SQS queue jobs) GetQueueUrl: HTTP 403" "$OUT" &&
  [ "$(wc -l <"$OUT")" = 1 ] && ok "verifier: a wrong secret gets 403, one line" || bad "verifier: wrong secret"
grep -q 'wrong-secret-xyz\|AKIDEXAMPLE' "$OUT" "$ERR" && bad "verifier: the error shows a credential" ||
  ok "verifier: the error shows no credential"

finish
