#!/usr/bin/env bash
# web.sh sqlite|mariadb - norc_web's JSON API with curl against the real daemons: nothing
# without login, login and sessions, roles (viewer, operator, admin), CSRF, API tokens, bad
# JSON and bad parameters, login rate limiting, reports, logs, control, task actions,
# /metrics, SIGHUP taking a removed user's sessions away, TLS and anonymous viewers.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/testsrv.sh"
src=$(cd "$here/../.." && pwd)
port=$(free_port) || exit 1
tok_op=$("$NORC_BIN" web token ops --role operator)
op_token=$(sed -n 's/^token: //p' <<<"$tok_op")
op_line=$(sed -n 's/^config: //p' <<<"$tok_op")
daemons_setup "${1:-}" norc_web "daemon: { heartbeat = 1; heartbeat_timeout = 3; kill_grace = 1; };
log_dir = \"log\"; tmp_dir = \"tmp\";
backup: { plugin = \"LocalBackup\"; timeout = 20; settings: { dir = \"$WORK/store\"; }; };
web: { listen = \"127.0.0.1:$port\"; root = \"$src/web\"; users_file = \"web-users\";
       tokens = ( $op_line ); };"
echo "# backend $backend"
mkdir -p "$WORK/tmp"
norc init >/dev/null; norc queue add Q >/dev/null
norc task add Hello --command "echo hello-from-web-$$" >/dev/null
norc task add Broken --command "exit 3" >/dev/null
norc schedule add Hello --queue Q --period 1 --reps 2 >/dev/null
echo 'admin-secret-1' | norc web user add root --role admin >/dev/null
echo 'viewer-secret-1' | norc web user add val --role viewer >/dev/null
expect_ok "norc web user list checks the users" norc web user list
expect_out "and lists them with roles" "^val	viewer"
expect_fail "a short password is refused" 1 "at least 8 characters" sh -c "echo short | '$NORC_BIN' web user add x --role viewer"
expect_fail "an unknown role is refused" 2 "use viewer, operator or admin" norc web user add x --role boss
[ "$(stat -c %a "$WORK/web-users")" = 600 ] && ok "the users file is mode 0600" || bad "users file mode"

"$bindir/norc_scheduler" >/dev/null 2>&1 & pids+=($!)
"$bindir/norc_executor" Q -c 2 >/dev/null 2>&1 & epid=$!; pids+=($epid)
"$bindir/norc_web" >"$WORK/web.log" 2>&1 & wpid=$!; pids+=($wpid)
wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $epid AND status = 2" 1 || bad "executor did not start"
eid=$(sql "SELECT id FROM daemons WHERE pid = $epid")
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
base="http://127.0.0.1:$port"
H="$WORK/headers"

# req METHOD PATH [curl args...]: the answer in $OUT, the status in $CODE, headers in $H.
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -s --path-as-is -X "$m" -o "$OUT" -D "$H" -w '%{http_code}' "$@" "$base$p" 2>"$ERR")
}
# expect_code DESC CODE [REGEX]: the last answer had CODE (and its body matches REGEX).
expect_code() {
  if [ "$CODE" != "$2" ]; then bad "$1 (HTTP $CODE, wanted $2)"; return; fi
  if [ -n "${3:-}" ] && ! grep -Eq -- "$3" "$OUT"; then bad "$1 (body does not match /$3/)"; return; fi
  ok "$1"
}
J=(-H 'Content-Type: application/json')
jar="$WORK/jar"; vjar="$WORK/vjar"

# --- nothing without login
req GET /api/executors; expect_code "reports need a login" 401 '"error":"log in first'
req GET /metrics; expect_code "metrics need a login" 401
req POST /api/control/executors/$eid "${J[@]}" -d '{"request":"pause"}'
expect_code "control needs a login" 401
req GET /api/logs/instance/1; expect_code "logs need a login" 401
req GET /; expect_code "the page itself is served" 200 '<html'
grep -qi "^Content-Security-Policy: default-src 'self'" "$H" && ok "with a Content-Security-Policy" || bad "no CSP header"
req GET /app.js; expect_code "its script too" 200
req GET /../../etc/passwd; expect_code "no path outside web.root" 404
req GET /.hidden; expect_code "no dot files" 404
req GET /api/executors -H "Authorization: Bearer norc_wrong"; expect_code "an unknown token is refused" 401 "API token is not valid"

# --- login
req POST /api/login "${J[@]}" -d '{"user":"val","password":"nope-nope"}'
expect_code "a wrong password is refused" 401 "wrong user name or password"
req POST /api/login "${J[@]}" -d '{"user":"val"'
expect_code "bad JSON is a 400" 400 "must be a JSON object"
req POST /api/login -H 'Content-Type: text/plain' -d '{"user":"val","password":"viewer-secret-1","x":"="}'
expect_code "a text/plain login (a cross-site form) is refused" 415 "application/json"
req POST /api/login "${J[@]}" -d '{"user":"val\n[2026/01/01 00:00:00.000000] INFO: web: forged","password":"x"}'
expect_code "a user name with a newline is just a failed login" 401
grep -q '^\[2026/01/01 00:00:00.000000\] INFO: web: forged' "$WORK/web.log" && bad "a log line was forged" || ok "and cannot forge a line in norc_web's log"
req POST /api/login "${J[@]}" -d '{"user":"val"}'
expect_code "a login without password is a 400" 400 "give"
req GET /api/login; expect_code "login takes POST only" 405
req POST /api/login "${J[@]}" -c "$vjar" -d '{"user":"val","password":"viewer-secret-1"}'
expect_code "the viewer logs in" 200 '"role":"viewer"'
grep -i '^Set-Cookie: norc_session=' "$H" | grep -qi 'HttpOnly' && grep -i '^Set-Cookie:' "$H" | grep -qi 'SameSite=Strict' \
  && ok "the session cookie is HttpOnly and SameSite=Strict" || bad "cookie flags: $(grep -i set-cookie "$H")"
vcsrf=$(python3 -c "import json; print(json.load(open('$OUT'))['csrf'])")
req GET /api/session -b "$vjar"; expect_code "the session answers who is logged in" 200 '"user":"val"'

# --- reports
req GET "/api/executors?since=1h" -b "$vjar"
expect_code "executors report" 200 "\"id\":$eid,"
expect_json "the running executor is alive and green" "any(r['id']==$eid and r['alive'] and r['status']=='RUNNING' and r['status_color']=='status_good' for r in j['data'])"
for bad_q in "since=2w" "per_page=0" "per_page=501" "page=x" "order=-bogus" "executor=-1"; do
  req GET "/api/executors?$bad_q" -b "$vjar"; expect_code "bad parameter $bad_q is a 400" 400 '"error"'
done
req GET "/api/instances?status=nonsense" -b "$vjar"; expect_code "an unknown status is a 400" 400 "status 'nonsense' is unknown"
wait_for 10 "SELECT COUNT(*) FROM instances WHERE status = 7" 2 || bad "the schedule did not run twice"
req GET "/api/instances?status=succeeded&per_page=1&page=2" -b "$vjar"
expect_json "instances are paged (2 succeeded, 1 per page, page 2 of 2)" "j['page']['total']==2 and j['page']['current']==2 and len(j['data'])==1 and j['data'][0]['task']=='Hello'"
req GET "/api/instances?executor=$eid&order=-ended" -b "$vjar"
expect_json "instances of an executor" "len(j['data'])==2 and all(r['executor']==$eid for r in j['data'])"
req GET /api/schedulers -b "$vjar"; expect_json "schedulers report" "j['data'][0]['alive'] is True"
req GET "/api/schedulers?order=-queue" -b "$vjar"; expect_code "schedulers have no queue to sort by (found by fuzz_report)" 400 "use one of id, host"
req GET /api/queues -b "$vjar"; expect_json "queues report with items and executors" "j['data'][0]['name']=='Q' and j['data'][0]['items']==0 and j['data'][0]['executors']==1"
req GET "/api/tasks?order=name" -b "$vjar"; expect_json "tasks report" "[r['name'] for r in j['data']]==['Broken','Hello'] and j['data'][1]['last_status']=='SUCCESS'"
hid=$(sql "SELECT id FROM tasks WHERE name = 'Hello'")
req GET "/api/tasks/$hid/runs" -b "$vjar"
expect_json "the run chart's data: runs oldest first with durations" "len(j['runs'])==2 and j['runs'][0]['id']<j['runs'][1]['id'] and all(r['ok'] and r['duration_ms']>=0 for r in j['runs'])"
req GET /api/counts -b "$vjar"; expect_json "counts of alive daemons" "j['schedulers_alive']==1 and j['executors_alive']==1"
iid=$(sql "SELECT MIN(id) FROM instances WHERE status = 7")
req GET "/api/logs/instance/$iid" -b "$vjar"; expect_code "an instance log" 200 "hello-from-web-$$"
grep -qi '^X-Norc-Log-Source: local' "$H" && ok "read from the local file" || bad "log source header"
req GET "/api/logs/instance/$iid?tail=10" -b "$vjar"
[ "$CODE" = 200 ] && [ "$(wc -c <"$OUT")" = 10 ] && ok "?tail=10 sends the last 10 bytes" || bad "tail: $(wc -c <"$OUT") bytes"
req GET "/api/logs/executor/$eid" -b "$vjar"; expect_code "an executor log" 200 "Executor #$eid"
# a log no longer on this host comes from the backup store
wait_for 10 "SELECT state FROM log_uploads WHERE instance_id = $iid" 2 || bad "the log was not uploaded"
rm -f "$WORK/log/$(sql "SELECT log_path FROM instances WHERE id = $iid")"
req GET "/api/logs/instance/$iid" -b "$vjar"; expect_code "a log deleted here comes from the backup" 200 "hello-from-web-$$"
grep -qi '^X-Norc-Log-Source: backup' "$H" && ok "and says so (X-Norc-Log-Source: backup)" || bad "log source header: $(grep -i x-norc "$H")"
rm -rf "$WORK/store/norc_logs/$(sql "SELECT log_path FROM instances WHERE id = $iid")"*
req GET "/api/logs/instance/$iid" -b "$vjar"; expect_code "a log in neither place: 404 saying why" 404 "neither in this host's log_dir nor in LocalBackup"
req GET "/api/logs/instance/999999" -b "$vjar"; expect_code "no such instance: 404" 404 "no instance #999999"
req GET "/api/logs/planet/1" -b "$vjar"; expect_code "no such log kind: 404" 404 "use instance, node, executor or scheduler"
req GET /api/nonsense -b "$vjar"; expect_code "an unknown API path is a 404" 404 "no such API path"

# --- roles and CSRF
req POST /api/control/executors/$eid -b "$vjar" -H "X-CSRF-Token: $vcsrf" "${J[@]}" -d '{"request":"pause"}'
expect_code "a viewer may not pause" 403 "needs the operator role"
req POST /api/login "${J[@]}" -c "$jar" -d '{"user":"root","password":"admin-secret-1"}'
expect_code "the admin logs in" 200 '"role":"admin"'
csrf=$(python3 -c "import json; print(json.load(open('$OUT'))['csrf'])")
req POST /api/control/executors/$eid -b "$jar" "${J[@]}" -d '{"request":"pause"}'
expect_code "no CSRF token: refused" 403 "X-CSRF-Token"
req POST /api/control/executors/$eid -b "$jar" -H "X-CSRF-Token: $vcsrf" "${J[@]}" -d '{"request":"pause"}'
expect_code "another session's CSRF token: refused" 403 "X-CSRF-Token"
[ "$(sql "SELECT COALESCE(request, 0) FROM daemons WHERE id = $eid")" = 0 ] && ok "nothing was asked of the executor" || bad "a refused request reached the daemon"
A=(-b "$jar" -H "X-CSRF-Token: $csrf" "${J[@]}")
req POST /api/control/executors/$eid "${A[@]}" -d '{"request":"dance"}'
expect_code "an unknown request is a 400" 400 "request 'dance' is unknown"
req POST /api/control/executors/$eid "${A[@]}" -d '[1,2'
expect_code "a bad body is a 400" 400 "JSON"
head -c 20000 /dev/zero | tr '\0' 'a' >"$WORK/big"
req POST /api/control/executors/$eid "${A[@]}" --data-binary @"$WORK/big"
expect_code "a body over 16 KiB is a 413" 413 "larger than"
req POST /api/control/executors/$eid "${A[@]}" -d '{"request":"pause"}'
expect_code "the admin pauses the executor" 200 '"ok":true'
wait_for 5 "SELECT status FROM daemons WHERE id = $eid" 3 && ok "the executor is PAUSED" || bad "not paused"
req POST /api/control/executors/$eid "${A[@]}" -d '{"request":"resume"}'
expect_code "and resumes it" 200 "RESUME request left"
wait_for 5 "SELECT status FROM daemons WHERE id = $eid" 2 && ok "the executor RUNs again" || bad "not resumed"
req POST /api/control/executors/999999 "${A[@]}" -d '{"request":"pause"}'
expect_code "control of a missing daemon is a 404" 404
grep -q "root (admin): pause executor #$eid: done" "$WORK/web.log" && ok "the action is in norc_web's log with user and address" || bad "no audit line"

# --- an API token (operator): no CSRF needed, no admin actions
T=(-H "Authorization: Bearer $op_token" "${J[@]}")
req POST /api/control/executors/$eid "${T[@]}" -d '{"request":"stop"}'
expect_code "an operator may not stop a daemon" 403 "needs the admin role"
req POST /api/tasks/$hid/run "${T[@]}" -d '{}'
expect_code "the operator token runs a task now (its schedule's queue)" 200 '"id":'
rid=$(python3 -c "import json; print(json.load(open('$OUT'))['id'])")
wait_for 5 "SELECT status FROM instances WHERE id = $rid" 7 && ok "and it runs" || bad "run-now instance did not run"
bid=$(sql "SELECT id FROM tasks WHERE name = 'Broken'")
req POST /api/tasks/$bid/run "${T[@]}" -d '{}'
expect_code "a task without schedule needs a queue" 400 "has no schedule to take a queue from"
req POST /api/tasks/$bid/run "${T[@]}" -d '{"queue":"Nope"}'
expect_code "an unknown queue is a 404" 404
req POST /api/tasks/$bid/run "${T[@]}" -d '{"queue":"Q"}'
expect_code "run it on Q" 200
fid=$(python3 -c "import json; print(json.load(open('$OUT'))['id'])")
wait_for 5 "SELECT status FROM instances WHERE id = $fid" 13 || bad "broken did not fail"
req GET /api/failed -H "Authorization: Bearer $op_token"
expect_json "it is in the failed list" "[r['id'] for r in j['data']]==[$fid] and j['data'][0]['status_color']=='status_error'"
req POST /api/instances/$fid/handle "${T[@]}"
expect_code "the operator handles it" 200
req GET /api/failed -H "Authorization: Bearer $op_token"
expect_json "and it leaves the failed list" "j['data']==[]"
norc task add Nap --command "exec sleep 47.$$" >/dev/null
req POST /api/tasks/$(sql "SELECT id FROM tasks WHERE name = 'Nap'")/run "${T[@]}" -d '{"queue":"Q"}'
kid=$(python3 -c "import json; print(json.load(open('$OUT'))['id'])")
wait_for 5 "SELECT status FROM instances WHERE id = $kid" 2 || bad "Nap is not running"
req POST /api/instances/$kid/kill -b "$vjar" -H "X-CSRF-Token: $vcsrf" "${J[@]}"
expect_code "a viewer may not kill an instance" 403
req POST /api/instances/$kid/kill "${T[@]}"; expect_code "the operator kills a running instance" 200
wait_for 5 "SELECT status FROM instances WHERE id = $kid" 16 && ok "it ends INTERRUPTED" || bad "not interrupted"
pgrep -f "sleep 47\.$$" >/dev/null && bad "its process is still there" || ok "its process is gone"
sid=$(sql "SELECT id FROM schedules LIMIT 1")
req POST /api/schedules/$sid/pause "${T[@]}"; expect_code "pause a schedule" 200
[ "$(sql "SELECT paused FROM schedules WHERE id = $sid")" = 1 ] && ok "it is paused" || bad "schedule not paused"
req POST /api/schedules/$sid/resume "${T[@]}"; expect_code "resume it" 200
[ "$(sql "SELECT paused FROM schedules WHERE id = $sid")" = 0 ] && ok "it is resumed" || bad "schedule not resumed"
req POST /api/schedules/$sid/pause -b "$vjar" -H "X-CSRF-Token: $vcsrf" "${J[@]}"
expect_code "a viewer may not pause a schedule" 403

# --- metrics (ends settle 5 s before they count)
sleep 6
req GET /metrics -b "$vjar"; expect_code "/metrics" 200 '^norc_daemons_alive\{kind="executor"\} 1$'
grep -q '^norc_instances_ended_total{status="SUCCESS"} [1-9]' "$OUT" && grep -q '^norc_instances_ended_total{status="FAILURE"} 0$' "$OUT" \
  && ok "ended instances are counted by status" || bad "ended counters"
grep -q "^norc_executor_slots{executor=\"$eid\",host=\"[^\"]*\",queue=\"Q\"} 2$" "$OUT" && ok "executor slots" || bad "slots"
grep -q '^norc_fire_lag_seconds_count [0-9]' "$OUT" && grep -q '^norc_fire_lag_seconds_bucket{le="+Inf"}' "$OUT" && ok "the fire lag histogram" || bad "histogram"
grep -q '^norc_queue_items{queue="Q"} 0$' "$OUT" && ok "queue depth" || bad "queue items"

# --- logout; SIGHUP ends a removed user's sessions
req POST /api/logout -b "$vjar" -H "X-CSRF-Token: $vcsrf"
expect_code "a POST that is not JSON is refused (no form can post here)" 415 "application/json"
req POST /api/logout -b "$vjar" -H "X-CSRF-Token: $vcsrf" "${J[@]}"; expect_code "logout" 200
req GET /api/session -b "$vjar"; expect_code "the session is gone after logout" 401
req POST /api/login "${J[@]}" -c "$jar" -d '{"user":"root","password":"admin-secret-1"}'
expect_code "the admin logs in again" 200
expect_ok "norc web user rm" norc web user rm root
kill -HUP "$wpid"; sleep 0.5
req GET /api/session -b "$jar"; expect_code "after SIGHUP the removed user's session is gone" 401
kill -0 "$wpid" 2>/dev/null && ok "norc_web kept running through all of it" || bad "norc_web died"

# --- login rate limiting: 5 failures, then 429 with Retry-After (even with the right password),
# for that name and from that address
for i in 1 2 3 4 5; do req POST /api/login "${J[@]}" -d '{"user":"val","password":"wrong-wrong"}'; done
req POST /api/login "${J[@]}" -d '{"user":"val","password":"viewer-secret-1"}'
expect_code "after 5 failures logins wait" 429 "too many failed logins"
grep -qi '^Retry-After: [0-9]' "$H" && ok "with Retry-After" || bad "no Retry-After"
req GET /api/session -H "Authorization: Bearer $op_token"; expect_code "API tokens are not affected" 200

# --- a bad config is refused with one line
cat >"$WORK/bad.conf" <<EOF
$dbconf
web: { listen = "127.0.0.1:$port"; anonymous = "everyone"; };
EOF
expect_fail "web.anonymous must be none or viewer" 1 'web.anonymous is "everyone"' "$bindir/norc_web" -C "$WORK/bad.conf"
cat >"$WORK/bad2.conf" <<EOF
$dbconf
web: { listen = "127.0.0.1:$port"; root = "$src/web"; users = ( { name = "u"; role = "admin"; password_hash = "plain"; } ); };
EOF
expect_fail "a plain-text password is refused" 1 'password_hash must be a crypt\(3\) yescrypt' "$bindir/norc_web" -C "$WORK/bad2.conf"
expect_fail "a port in use is refused" 1 "cannot listen on 127.0.0.1:$port" "$bindir/norc_web" -C "$conf"

# --- TLS and anonymous viewers, on a second norc_web
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 -subj /CN=localhost >/dev/null 2>&1
port2=$(free_port)
cat >"$WORK/tls.conf" <<EOF
$dbconf
log_dir = "log";
web: { listen = "127.0.0.1:$port2"; root = "$src/web"; anonymous = "viewer";
       tls_cert = "cert.pem"; tls_key = "key.pem"; };
EOF
"$bindir/norc_web" -C "$WORK/tls.conf" >"$WORK/web2.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do curl -sk -o /dev/null "https://127.0.0.1:$port2/" && break; sleep 0.1; done
CODE=$(curl -sk -o "$OUT" -w '%{http_code}' "https://127.0.0.1:$port2/api/executors")
expect_code "HTTPS, and anonymous viewers read reports" 200 '"data"'
CODE=$(curl -s -o "$OUT" -w '%{http_code}' "http://127.0.0.1:$port2/api/executors")
[ "$CODE" != 200 ] && ok "plain HTTP is not served on the TLS port" || bad "HTTP answered on the TLS port"
CODE=$(curl -sk -o "$OUT" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"request":"pause"}' "https://127.0.0.1:$port2/api/control/executors/$eid")
expect_code "anonymous viewers control nothing" 403 "needs the operator role"

# --- IPv6 (when this host has ::1)
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
  port3=$(free_port)
  "$bindir/norc_web" -C "$WORK/tls.conf" --listen "[::1]:$port3" >"$WORK/web3.log" 2>&1 & pids+=($!)
  for _ in $(seq 50); do curl -sk -o /dev/null "https://[::1]:$port3/" && break; sleep 0.1; done
  CODE=$(curl -sk -o "$OUT" -w '%{http_code}' "https://[::1]:$port3/api/counts")
  expect_code "--listen [::1]:PORT serves over IPv6" 200 '"schedulers_alive"'
else
  echo "# no ::1 on this host: the IPv6 check is skipped"
fi

# --- SIGTERM: a clean stop (under ASan this also checks for leaks at exit)
kill -TERM "$wpid"; wait "$wpid"; rc=$?
[ "$rc" = 0 ] && ok "norc_web stops on SIGTERM with exit 0" || bad "norc_web exit $rc: $(grep -m3 -E 'ERROR|SUMMARY' "$WORK/web.log")"
grep -q "norc_web stopping" "$WORK/web.log" && ok "and says so in its log" || bad "no stop line"
finish
