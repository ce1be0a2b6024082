#!/usr/bin/env bash
# valgrind.sh - the daemons under valgrind memcheck (plain build: what ships, not the ASan
# one): norc_scheduler, norc_executor and norc_web run a short day (scheduled runs, a failing
# run, a timeout, a pause and resume through the web API, reports, a log, metrics), then stop
# on SIGINT/SIGTERM. Each must end with no memory error and nothing definitely lost.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/testsrv.sh"
command -v valgrind >/dev/null || { echo "FAIL - valgrind is missing: scripts/install-deps.sh test"; exit 1; }
if ldd "$(dirname "$NORC_BIN")/norc_executor" | grep -q libasan; then
  echo "# an ASan build: valgrind cannot run it (the plain pass of scripts/test.sh runs this test)"
  exit 0
fi
src=$(cd "$here/../.." && pwd)
port=$(free_port) || exit 1
tok=$("$NORC_BIN" web token vg --role operator)
token=$(sed -n 's/^token: //p' <<<"$tok")
daemons_setup sqlite norc_vg "daemon: { heartbeat = 1; heartbeat_timeout = 10; kill_grace = 1; };
log_dir = \"log\"; tmp_dir = \"tmp\";
web: { listen = \"127.0.0.1:$port\"; root = \"$src/web\"; tokens = ( $(sed -n 's/^config: //p' <<<"$tok") ); };"
mkdir -p "$WORK/tmp"
norc init >/dev/null; norc queue add Q >/dev/null
norc task add Ok --command "echo fine" >/dev/null
norc task add Bad --command "exit 4" --retries 1 >/dev/null
norc task add Slow --command "sleep 20" --timeout 1 >/dev/null
norc schedule add Ok --queue Q --period 1 --reps 3 >/dev/null
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --child-silent-after-fork=yes --trace-children=no)
"${VG[@]}" --log-file="$WORK/vg-sched.%p" "$bindir/norc_scheduler" >/dev/null 2>&1 & spid=$!; pids+=($spid)
"${VG[@]}" --log-file="$WORK/vg-exec.%p" "$bindir/norc_executor" Q -c 2 >/dev/null 2>&1 & epid=$!; pids+=($epid)
"${VG[@]}" --log-file="$WORK/vg-web.%p" "$bindir/norc_web" >/dev/null 2>&1 & wpid=$!; pids+=($wpid)
wait_for 60 "SELECT COUNT(*) FROM daemons WHERE status = 2" 2 || bad "daemons did not start under valgrind"
norc run Bad --queue Q >/dev/null
norc run Slow --queue Q >/dev/null
wait_for 60 "SELECT COUNT(*) FROM instances WHERE task_id = 1 AND status = 7" 3 && ok "scheduled runs ran" || bad "scheduled runs"
wait_for 60 "SELECT COUNT(*) FROM instances WHERE task_id = 2 AND status = 13" 2 && ok "a failing run and its retry" || bad "Bad runs"
wait_for 60 "SELECT COUNT(*) FROM instances WHERE task_id = 3 AND status = 15" 1 && ok "a timeout" || bad "Slow did not time out"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
H=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
eid=$(sql "SELECT id FROM daemons WHERE pid = $epid")
codes=""
for p in executors schedulers queues tasks "instances?status=failed" failed "tasks/1/runs" "logs/instance/1" "logs/executor/$eid" counts; do
  codes+="$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" "http://127.0.0.1:$port/api/$p") "
done
codes+="$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" "http://127.0.0.1:$port/metrics") "
codes+="$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -d '{"request":"pause"}' "http://127.0.0.1:$port/api/control/executors/$eid") "
codes+="$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -d '{"request":"resume"}' "http://127.0.0.1:$port/api/control/executors/$eid") "
codes+="$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -d '{"user":"x","password":"y"}' "http://127.0.0.1:$port/api/login") "
codes+="$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -d '[1,' "http://127.0.0.1:$port/api/tasks/1/run") "
[ "$codes" = "200 200 200 200 200 200 200 200 200 200 200 200 200 401 400 " ] && ok "the web API answered (reports, logs, metrics, control, a bad login, a bad body)" || bad "web codes: $codes"
wait_for 20 "SELECT status FROM daemons WHERE id = $eid" 2 || bad "executor not resumed"
kill -INT "$spid" "$epid"; kill -TERM "$wpid"
for p in $spid $epid $wpid; do wait "$p"; rc=$?; [ "$rc" = 99 ] && echo "# pid $p: valgrind found errors"; done
declare -A names=([sched]=scheduler [exec]=executor [web]=web)
for f in sched exec web; do
  log=$(cat "$WORK"/vg-$f.* 2>/dev/null)
  if [ -z "$log" ]; then ok "norc_${names[$f]}: no memory error, nothing definitely lost"; else bad "norc_${names[$f]} under valgrind:"; echo "$log" | head -30; fi
done
finish
