#!/usr/bin/env bash
# alerts.sh sqlite|mariadb - alerts end to end through the real daemons, against an SMTP sink
# and an HTTP sink on loopback (alertsink.py): failure, retries exhausted and timeout alerts
# with their content, a missed deadline and a met one, the dead man's switch (once, re-armed
# by a success), a webhook that fails and is retried without a second e-mail, delivery given
# up after alerts.attempts, alerts raised while no scheduler runs, two schedulers delivering
# each alert once, a hanging webhook that does not delay fires, and the CLI's bad input.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
sink="$WORK/sink"
mkdir -p "$sink"
python3 "$here/alertsink.py" "$sink" 2>"$WORK/sink.err" &
sinkpid=$!
for _ in $(seq 1 50); do [ -f "$sink/http.port" ] && break; sleep 0.1; done
SMTP=$(cat "$sink/smtp.port" 2>/dev/null); HTTP=$(cat "$sink/http.port" 2>/dev/null)
[ -n "$SMTP" ] && [ -n "$HTTP" ] || { echo "FAIL - the sinks did not start"; cat "$WORK/sink.err"; exit 1; }
HOOK="http://127.0.0.1:$HTTP/hook"
daemons_setup "${1:-}" norc_alerts "$(cat <<EOF
log_dir = "log";
daemon: { heartbeat = 1; heartbeat_timeout = 4; };
alerts: { smtp_url = "smtp://127.0.0.1:$SMTP"; from = "norc@test.example";
          link = "http://norc.example:8470/"; timeout = 3; attempts = 3; retry_delay = 1; };
EOF
)"
pids+=("$sinkpid")
start_scheduler() { "$bindir/norc_scheduler" >>"$WORK/sched.out" 2>&1 & pids+=($!); spid=$!; }
mails() { ls "$sink" | grep -c '^mail-[0-9]*\.eml$'; }
hooks() { ls "$sink" | grep -c '^hook-[0-9]*\.json$'; }
# the sink file whose content matches a pattern (the newest)
sinkfile() { grep -l -- "$1" "$sink"/$2 2>/dev/null | tail -1; }
# wait_count SECONDS FUNCTION N: until FUNCTION prints N
wait_count() {
  local got
  for _ in $(seq 1 $(($1 * 10))); do got=$($2); [ "$got" = "$3" ] && return 0; sleep 0.1; done
  echo "       waited $1 s for $2 = $3, last value: $got"; return 1
}
state_of() { sql "SELECT state FROM alerts WHERE id = $1"; }

norc init >/dev/null
norc queue add Q >/dev/null
norc task add Fails --command 'echo boom; exit 3' --retries 1 --retry-delay 1 >/dev/null
norc task add Sleepy --command 'sleep 10' --timeout 1 >/dev/null
norc task add OnlyLast --command 'exit 1' --retries 1 --retry-delay 1 >/dev/null
norc task add Fine --command 'true' >/dev/null
norc task add Slow --command 'sleep 4' >/dev/null
norc task add Quick --command 'true' >/dev/null
norc task add Never --command 'true' >/dev/null
norc task add Silent --command 'true' >/dev/null

# --- the CLI: rules, and bad input with one clear line and no change ---
expect_ok "alert set: failure and exhausted, two addresses and a webhook" \
  norc alert set Fails --on failure,exhausted --email ops@example.com,dev@example.com --webhook "$HOOK"
expect_out "alert set says so" 'alert of task Fails set'
expect_ok "alert show" norc alert show Fails
expect_out "alert show: the events" '^on: +failure,exhausted'
expect_out "alert show: the webhook" "^webhook: +$HOOK"
expect_ok "alert set again, same values" norc alert set Fails --on exhausted,failure
expect_out "an unchanged rule is reported unchanged" 'alert of task Fails unchanged'
expect_fail "alert set: unknown event" 2 'unknown event "fail"; use failure, timeout, exhausted' \
  norc alert set Fails --on fail
expect_fail "alert set: bad address" 2 '"ops.example.com" is not an e-mail address' \
  norc alert set Fails --email ops.example.com
expect_fail "alert set: bad webhook" 2 'is not an http:// or https:// URL' \
  norc alert set Fails --webhook ftp://x/y
expect_fail "alert set: bad duration" 2 "--deadline 'soon': give a duration" \
  norc alert set Fails --deadline soon
expect_fail "alert set: nothing to set" 2 'nothing to set' norc alert set Fails
expect_fail "alert set: no destination" 1 'Fine: task #[0-9]+: the alert has no destination; give --email or --webhook' \
  norc alert set Fine --on failure
expect_fail "alert set: watches nothing" 1 'the alert would watch nothing' \
  norc alert set Fine --on none --webhook "$HOOK"
expect_fail "alert set: unknown task" 1 'Nope' norc alert set Nope --on failure --webhook "$HOOK"
expect_fail "alert show: no rule" 1 'task Fine has no alert; set one with `norc alert set Fine' norc alert show Fine
expect_fail "alert test: no rule" 1 'Fine: task #[0-9]+ has no alert' norc alert test Fine
[ "$(sql "SELECT COUNT(*) FROM task_alerts")" = 1 ] && ok "bad input left no rule behind" || bad "rules after bad input"
printf 'database: { path = "x.db"; };\nalerts: { smtp_url = "http://mail"; };\n' >"$WORK/bad.conf"
expect_fail "config: smtp_url must be smtp:// or smtps://" 1 'alerts.smtp_url is "http://mail"; use smtp://HOST' \
  norc -C "$WORK/bad.conf" config check
printf 'database: { path = "x.db"; };\nalerts: { smtp_password = "x"; };\n' >"$WORK/bad.conf"
expect_fail "config: a password needs a user" 1 'alerts.smtp_password is set but alerts.smtp_user is not' \
  norc -C "$WORK/bad.conf" config check
printf 'database: { path = "x.db"; };\nalerts: { retries = 3; };\n' >"$WORK/bad.conf"
expect_fail "config: unknown key in alerts" 1 'alerts.retries' norc -C "$WORK/bad.conf" config check

norc alert set Sleepy --on timeout --webhook "$HOOK" >/dev/null
norc alert set OnlyLast --on exhausted --webhook "$HOOK" >/dev/null
norc alert set Fine --on all --webhook "$HOOK" >/dev/null
norc alert set Slow --deadline 2 --webhook "$HOOK" >/dev/null
norc alert set Quick --deadline 5 --webhook "$HOOK" >/dev/null

# --- failure, then retries exhausted: both channels, the message's content ---
start_scheduler; s1=$spid
start_scheduler; s2=$spid # two schedulers deliver: each alert still goes out once
"$bindir/norc_executor" Q -c 4 >>"$WORK/ex.out" 2>&1 & pids+=($!)
norc run Fails --queue Q >/dev/null
wait_count 20 mails 2 && ok "two e-mails: the failure and the exhausted retries" || bad "mails"
wait_count 10 hooks 2 && ok "two webhook calls" || bad "hooks"
first=$(sinkfile 'Subject: \[norc\] Fails: failure (FAILURE, instance #1 on ' 'mail-*.eml')
last=$(sinkfile 'Subject: \[norc\] Fails: retries exhausted (FAILURE, instance #2 on ' 'mail-*.eml')
[ -n "$first" ] && ok "the failure's subject names task, status, instance and host" || bad "failure subject: $(grep -h Subject "$sink"/mail-*.eml)"
[ -n "$last" ] && ok "the second attempt's alert says the retries are exhausted" || bad "exhausted subject"
if [ -n "$first" ] && grep -q '^X-Envelope-To: <ops@example.com>' "$first" && grep -q '^X-Envelope-To: <dev@example.com>' "$first" \
   && grep -q '^From: Norc <norc@test.example>' "$first"; then ok "the e-mail goes to both addresses from alerts.from"
else bad "envelope"; fi
if [ -n "$first" ] && grep -q 'Status:    FAILURE, exit code 3' "$first" && grep -q 'What:      it will be retried' "$first" \
   && grep -q 'Log:       http://norc.example:8470/api/logs/instance/1' "$first"; then ok "the body: status, exit code, retry, log link"
else bad "body: $(cat "$first")"; fi
hook=$(sinkfile '"kind":"retries exhausted"' 'hook-*.json')
if [ -n "$hook" ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); i=d["instance"]
assert d["task"]["name"]=="Fails" and i["id"]==2 and i["attempt"]==2 and i["exit_code"]==3 and i["status"]=="FAILURE"
assert i["log"]=="http://norc.example:8470/api/logs/instance/2" and d["text"].startswith("[norc] Fails: retries exhausted")' "$hook"
then ok "the webhook's JSON: task, instance, attempt, exit code, log link, text"; else bad "hook JSON: $(cat "$hook")"; fi
grep -q '^Content-Type: application/json' "${hook%.json}.headers" && ok "the webhook is a JSON POST" || bad "hook headers"
[ "$(sql "SELECT COUNT(*) FROM alerts WHERE task_id = 1 AND state = 2")" = 2 ] && ok "both alerts recorded as sent" || bad "states"

# --- only "exhausted": the first failed attempt raises nothing; a success never alerts ---
norc run OnlyLast --queue Q >/dev/null
norc run Fine --queue Q >/dev/null
wait_for 20 "SELECT status FROM instances WHERE task_id = 4" 7 || bad "Fine did not succeed"
wait_for 20 "SELECT COUNT(*) FROM alerts WHERE task_id = 3 AND state = 2" 1 && ok "on exhausted: one alert for two failed attempts" || bad "exhausted only"
sleep 1
[ "$(sql "SELECT COUNT(*) FROM alerts WHERE task_id = 3")" = 1 ] && ok "... and no alert for the attempt that was retried" || bad "OnlyLast count"
[ "$(sql "SELECT COUNT(*) FROM alerts WHERE task_id = 4")" = 0 ] && ok "a success raises no alert" || bad "Fine alerted"

# --- a timeout ---
norc run Sleepy --queue Q >/dev/null
wait_for 20 "SELECT COUNT(*) FROM alerts WHERE task_id = 2 AND kind = 2 AND state = 2" 1 && ok "a timed-out run raises a timeout alert" || bad "timeout alert"
hook=$(sinkfile '"name":"Sleepy"' 'hook-*.json')
grep -q '"status":"TIMEDOUT"' "$hook" 2>/dev/null && ok "its webhook says TIMEDOUT" || bad "timeout hook"

# --- deadlines: missed (still running) and met (cancelled, nothing sent); the missed one's
# webhook refuses twice, so its last attempt comes after the run succeeded (late): still sent
echo 2 >"$sink/http_fail"
norc schedule add Slow --queue Q --period 1 --reps 1 >/dev/null
norc schedule add Quick --queue Q --period 1 --reps 1 >/dev/null
wait_for 20 "SELECT COUNT(*) FROM alerts WHERE task_id = 5 AND kind = 4 AND state = 2" 1 && ok "a missed deadline is alerted" || bad "deadline alert: $(sql "SELECT state, attempts, last_error FROM alerts WHERE task_id = 5")"
[ "$(sql "SELECT attempts FROM alerts WHERE task_id = 5 AND kind = 4")" = 3 ] \
  && [ "$(sql "SELECT status FROM instances WHERE task_id = 5")" = 7 ] \
  && ok "... on its third attempt, after the run had succeeded: the verdict at the deadline holds" || bad "deadline retries"
hook=$(sinkfile '"name":"Slow"' 'hook-*.json')
grep -q 'deadline missed' "$hook" 2>/dev/null && grep -q 'it was still RUNNING at the deadline' "$hook" \
  && ok "... saying it was still running" || bad "deadline hook: $(cat "$hook" 2>/dev/null)"
wait_for 20 "SELECT state FROM alerts WHERE task_id = 6 AND kind = 4" 4 && ok "a met deadline is cancelled" || bad "met deadline"
[ -z "$(sinkfile '"name":"Quick"' 'hook-*.json')" ] && ok "... and nothing is sent for it" || bad "Quick sent"

# --- the dead man's switch: once, then again only after a new success ---
norc alert set Never --no-success 2 --webhook "$HOOK" >/dev/null
wait_for 20 "SELECT COUNT(*) FROM alerts WHERE task_id = 7 AND kind = 5 AND state = 2" 1 && ok "no success for 2 s: the switch trips" || bad "switch"
hook=$(sinkfile '"name":"Never"' 'hook-*.json')
grep -q '"kind":"no success"' "$hook" 2>/dev/null && grep -q 'no successful run for 2s' "$hook" && ok "... with its message" || bad "switch hook: $(cat "$hook" 2>/dev/null)"
sleep 4
[ "$(sql "SELECT COUNT(*) FROM alerts WHERE task_id = 7")" = 1 ] && ok "it trips once per silence, not every 2 s" || bad "switch repeated"
norc run Never --queue Q >/dev/null
wait_for 20 "SELECT COUNT(*) FROM alerts WHERE task_id = 7 AND state = 2" 2 && ok "after a success and 2 s more silence it trips again" || bad "re-armed switch"
expect_fail "turning off its only trigger is refused" 1 "the alert would watch nothing" norc alert set Never --no-success none
norc alert set Never --no-success none --on exhausted >/dev/null
expect_ok "alert show after turning the switch off" norc alert show Never
expect_out "the switch is off" '^no_success: +0'
expect_out "... and has no next look" '^switch_next_look: +-'

# --- a webhook refusing once: retried; the e-mail already sent is not sent again ---
echo 1 >"$sink/http_fail"
m0=$(mails); h0=$(hooks)
run norc alert test Fails
id=$(grep -o '#[0-9]*' "$OUT" | tr -d '#')
[ -n "$id" ] && ok "alert test raises alert #$id" || bad "alert test"
wait_for 20 "SELECT state FROM alerts WHERE id = ${id:-0}" 2 && ok "a refused webhook is retried and sent" || bad "retry"
[ "$(sql "SELECT attempts FROM alerts WHERE id = ${id:-0}")" = 2 ] && ok "... in two attempts" || bad "attempts"
[ "$(mails)" = $((m0 + 1)) ] && [ "$(hooks)" = $((h0 + 1)) ] && ok "one e-mail and one webhook call: no duplicate" \
  || bad "after retry: mails $(mails) (was $m0), hooks $(hooks) (was $h0)"
grep -q 'delivery attempt 1 of 3 failed: webhook: the server answered HTTP 500; retrying' "$WORK/sched.out" "$WORK"/log/schedulers/* 2>/dev/null \
  && ok "the failed attempt is logged with its reason" || bad "retry log line"

# --- given up after alerts.attempts ---
echo 10 >"$sink/http_fail"
run norc alert test Fails
id=$(grep -o '#[0-9]*' "$OUT" | tr -d '#')
wait_for 30 "SELECT state FROM alerts WHERE id = ${id:-0}" 3 && ok "after 3 failed attempts the alert is failed" || bad "give up"
expect_ok "alert list --state failed" norc alert list --state failed
expect_out "alert list shows the last error" "^${id:-X} +Fails +test .*failed +3 .*HTTP 500"
grep -q "Alert #${id:-X} (test of task Fails) could not be delivered after 3 attempts" "$WORK"/log/schedulers/* \
  && ok "giving up is logged as an error" || bad "give-up log line"
echo 0 >"$sink/http_fail"

# --- alerts raised while no scheduler runs are delivered by the next one ---
kill -TERM "$s1" "$s2"; wait "$s1" "$s2" 2>/dev/null
m0=$(mails)
norc run Fails --queue Q >/dev/null
wait_for 20 "SELECT COUNT(*) FROM alerts WHERE task_id = 1 AND kind = 1" 2 || bad "no failure alert recorded"
sleep 1
[ "$(sql "SELECT COUNT(*) FROM alerts WHERE task_id = 1 AND state = 0")" = 1 ] && [ "$(mails)" = "$m0" ] \
  && ok "with no scheduler the alert waits in the database, unsent" || bad "waiting: $(mails) mails (was $m0)"
start_scheduler; s1=$spid # it also pushes the retry, whose end raises "exhausted"
wait_count 20 mails $((m0 + 2)) && ok "the next scheduler delivers them" || bad "late delivery"

# --- a webhook that hangs does not delay fires ---
norc alert set Fine --webhook "$HOOK" >/dev/null
touch "$sink/http_hang"
norc alert test Fine >/dev/null
sleep 1
norc schedule add Quick --queue Q --period 1 --reps 4 >/dev/null
wait_for 12 "SELECT COUNT(*) FROM instances WHERE task_id = 6 AND status = 7" 5 \
  && ok "schedules fire on time while a webhook hangs" || bad "fires during the hang"
lag=$(sql "SELECT MAX(started - fire_time) FROM instances WHERE task_id = 6 AND schedule_id IS NOT NULL")
[ -n "$lag" ] && [ "$lag" -lt 1000000 ] && ok "... each started within 1 s of its fire time (max $((lag / 1000)) ms)" || bad "lag $lag"
wait_for 20 "SELECT COUNT(*) FROM alerts WHERE task_id = 4 AND attempts >= 1 AND last_error LIKE 'webhook: %timed out%'" 1 \
  && ok "the hung call times out (alerts.timeout) and is retried" || bad "hang timeout: $(sql "SELECT state, last_error FROM alerts WHERE task_id = 4")"
rm -f "$sink/http_hang"

# --- a rule removed before delivery: its alert is cancelled ---
kill -TERM "$s1"; wait "$s1" 2>/dev/null
norc alert test OnlyLast >/dev/null
expect_ok "alert clear" norc alert clear OnlyLast
expect_out "alert clear says so" 'alert of task OnlyLast removed'
start_scheduler; s1=$spid
wait_for 20 "SELECT state FROM alerts WHERE task_id = 3 AND kind = 6" 4 && ok "its waiting alert is cancelled" || bad "cancel on clear"

# --- exactly once, with two schedulers, over the whole run ---
dups=$(grep -h '^X-Norc-Alert:' "$sink"/mail-*.eml | sort | uniq -d | wc -l)
hdups=$(grep -h '^X-Norc-Alert:' "$sink"/hook-*.headers | sort | uniq -d | wc -l)
[ "$dups" = 0 ] && [ "$hdups" = 0 ] && ok "no alert was delivered twice ($(mails) e-mails, $(hooks) webhook calls)" \
  || bad "duplicates: $dups e-mail(s), $hdups webhook call(s)"
lat=$(sql "SELECT done - created FROM alerts WHERE state = 2 AND kind IN (1, 2, 3) AND attempts = 1" | sort -n)
echo "# raised -> sent (failure, timeout, exhausted; first attempt): $(echo "$lat" | wc -l) alerts, p50 $(echo "$lat" | awk '{ a[NR] = $1 } END { printf "%.0f ms, max %.0f ms", a[int((NR + 1) / 2)] / 1000, a[NR] / 1000 }')"
kill -TERM "$s1"; wait "$s1"; src=$?
[ "$src" = 0 ] && ! grep -q 'Sanitizer' "$WORK/sched.out" && ok "the schedulers stop cleanly (no leak under ASan)" \
  || bad "scheduler stop: exit $src; $(grep -m3 -A5 Sanitizer "$WORK/sched.out")"
finish
