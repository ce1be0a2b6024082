#!/usr/bin/env bash
# backup_s3.sh sqlite|mariadb - log backup to S3 through the real daemons and the S3 plugin,
# against s3rver on 127.0.0.1 (s3-tmp.sh): logs arrive and norc_log_viewer -r reads them back;
# S3 down while logs finish, an executor killed with kill -9 meanwhile, S3 back: every log
# arrives; the daemons' logs arrive when they end; the daemon's requests pass the botocore
# SigV4 verifier, and a rotated credentials_file is used without a restart.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
"$here/s3-tmp.sh" start "$WORK/s3" >/dev/null || { echo "FAIL - cannot start s3rver"; exit 1; }
. "$WORK/s3/env"
daemons_setup "${1:-}" norc_backup_s3 "$(cat <<EOF
log_dir = "log";
daemon: { heartbeat = 1; heartbeat_timeout = 3; };
backup: { plugin = "S3"; timeout = 30;
  settings: { endpoint = "$S3_ENDPOINT"; path_style = true; bucket = "norc-logs";
              create_bucket = true; attempts = 1; timeout = 5; connect_timeout = 2; }; };
EOF
)"
trap 'daemons_cleanup_s3' EXIT
daemons_cleanup_s3() { kill -9 "${s3pid:-0}" 2>/dev/null; "$here/s3-tmp.sh" stop "$WORK/s3" >/dev/null 2>&1; daemons_cleanup; }
export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET
viewer() { "$bindir/norc_log_viewer" "$@"; }
start_executor() { "$bindir/norc_executor" Q -c 4 >>"$WORK/ex.out" 2>&1 & pids+=($!); expid=$!; }
state_count() { sql "SELECT COUNT(*) FROM log_uploads WHERE instance_id IS NOT NULL AND state = $1"; }
# s3rver's own command line, to stop it and start it again on the same port and data
mapfile -d '' s3cmd <"/proc/$S3_PID/cmdline"
s3pid=$S3_PID

norc init >/dev/null
norc queue add Q >/dev/null
norc task add Big --command 'echo "run $NORC_INSTANCE_ID"; seq 1 200000' >/dev/null

start_executor
for i in $(seq 1 6); do norc run Big --queue Q >/dev/null; done
wait_for 30 "SELECT COUNT(*) FROM log_uploads WHERE instance_id IS NOT NULL AND state = 2" 6 \
  && ok "6 logs uploaded to S3 (bucket created on the first put)" || bad "uploads to S3"
local_log="$WORK/log/tasks/CommandTask/Big/Big-2"
run viewer instance 2 -r
[ "$RC" = 0 ] && cmp -s "$OUT" "$local_log" && ok "viewer -r: S3's copy of a 1.3 MB log, byte for byte" \
  || bad "viewer -r from S3 (exit $RC)"
code=$(curl -s -o "$WORK/obj" -w '%{http_code}' "$S3_ENDPOINT/norc-logs/norc_logs/tasks/CommandTask/Big/Big-2")
[ "$code" = 200 ] && [ "$(stat -c %s "$WORK/obj")" -lt "$(stat -c %s "$local_log")" ] \
  && cmp -s <(gzip -dc "$WORK/obj") "$local_log" \
  && ok "the object is gzip, smaller than the log, under norc_logs/<path>" || bad "stored object (HTTP $code)"

# --- S3 down: logs finish, uploads fail and are retried; kill -9; S3 back: all arrive ---
kill -9 "$s3pid"; wait "$s3pid" 2>/dev/null
for i in $(seq 1 5); do norc run Big --queue Q >/dev/null; done
wait_for 30 "SELECT COUNT(*) FROM log_uploads WHERE instance_id IS NOT NULL AND state = 1 AND attempts > 0" 5 \
  && ok "S3 down: 5 uploads failed and wait for a retry" || bad "failed uploads while S3 is down"
grep -q 'log upload: .* failed' "$WORK/log/executors/executor-1" \
  && ok "the executor's log says the uploads failed and are retried" || bad "failure logged"
kill -9 "$expid"; wait "$expid" 2>/dev/null
(cd "$WORK/s3" && exec "${s3cmd[@]}" >/dev/null 2>&1) & s3pid=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "$S3_ENDPOINT/" && break; sleep 0.1; done
start_executor
wait_for 60 "SELECT COUNT(*) FROM log_uploads WHERE instance_id IS NOT NULL AND state = 2" 11 \
  && ok "S3 back, executor restarted after kill -9: all 11 logs arrived" || bad "logs after S3 came back"
run viewer instance 9 -r
[ "$RC" = 0 ] && cmp -s "$OUT" "$WORK/log/tasks/CommandTask/Big/Big-9" \
  && ok "viewer -r reads a log uploaded after the outage" || bad "viewer after outage"
wait_for 20 "SELECT state FROM log_uploads WHERE daemon_id = 1" 2 \
  && ok "the killed executor's own log arrived" || bad "killed executor's log"

# --- a daemon's log arrives when it ends ---
kill -INT "$expid"; wait "$expid" 2>/dev/null
eid=$(sql "SELECT MAX(id) FROM daemons WHERE kind = 'executor'")
run viewer executor "$eid" -r
[ "$RC" = 0 ] && grep -q 'has been shut down successfully' "$OUT" && tail -1 "$OUT" | grep -q "Backing up this daemon's log" \
  && ok "the stopped executor's log, up to the line announcing its upload, is in S3" || bad "executor log in S3"
rm "$WORK/log/executors/executor-$eid"
run viewer e "#$eid"
[ "$RC" = 0 ] && grep -q 'Retrieving the log from S3' "$ERR" && ok "viewer falls back to S3 when the local file is gone" \
  || bad "fallback to S3"

# --- the daemon's own uploads against the botocore verifier (it recomputes each signature),
# and a rotated credentials_file taken without a restart ---
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = wrong-secret\n' "$SIGV4_KEY" >"$WORK/creds"
cat >"$WORK/verify.conf" <<EOF
$dbconf
log_dir = "log";
daemon: { heartbeat = 1; heartbeat_timeout = 3; };
backup: { plugin = "S3"; timeout = 30;
  settings: { endpoint = "$SIGV4_ENDPOINT"; path_style = true; bucket = "norc-logs";
              credentials_file = "$WORK/creds"; attempts = 1; timeout = 5; }; };
EOF
"$bindir/norc_executor" -C "$WORK/verify.conf" Q -c 2 >>"$WORK/ex.out" 2>&1 & pids+=($!); vpid=$!
norc run Big --queue Q >/dev/null
v=$(sql "SELECT MAX(id) FROM instances")
wait_for 20 "SELECT attempts > 0 FROM log_uploads WHERE instance_id = $v" 1 \
  && [ "$(sql "SELECT state FROM log_uploads WHERE instance_id = $v")" = 1 ] \
  && sql "SELECT last_error FROM log_uploads WHERE instance_id = $v" | grep -q 'HTTP 403' \
  && ! sql "SELECT last_error FROM log_uploads WHERE instance_id = $v" | grep -q 'wrong-secret' \
  && ok "verifier: a wrong secret is refused (HTTP 403, secret not shown)" \
  || bad "wrong secret: $(sql "SELECT state, last_error FROM log_uploads WHERE instance_id = $v")"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$SIGV4_KEY" "$SIGV4_SECRET" >"$WORK/creds"
wait_for 40 "SELECT state FROM log_uploads WHERE instance_id = $v" 2 \
  && ok "verifier: after the credentials file was rotated, the daemon's signed upload is accepted" \
  || bad "rotated credentials: $(sql "SELECT state, last_error FROM log_uploads WHERE instance_id = $v")"
kill -INT "$vpid"; wait "$vpid" 2>/dev/null
finish
