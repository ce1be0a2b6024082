#!/usr/bin/env bash
# webui.sh - the web page end to end in headless Chromium against the real daemons on SQLite
# (webui.mjs has the checks; the API itself is tested on both backends by web.sh). Needs
# Debian's chromium and playwright-core, which is installed with npm into
# ${NORC_NPM_DIR:-$HOME/.cache/norc-test-npm} on the first run.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PROG=webui.sh
NPM_DIR=${NORC_NPM_DIR:-$HOME/.cache/norc-test-npm}
PLAYWRIGHT_VERSION=1.65.1
dir=$WORK
. "$here/testsrv.sh"
src=$(cd "$here/../.." && pwd)
[ -x /usr/bin/chromium ] || { echo "FAIL - /usr/bin/chromium is missing: run scripts/install-deps.sh test"; exit 1; }
npm_install playwright-core "$PLAYWRIGHT_VERSION"
port=$(free_port) || exit 1
daemons_setup sqlite norc_webui "daemon: { heartbeat = 1; heartbeat_timeout = 3; };
log_dir = \"log\"; tmp_dir = \"tmp\";
web: { listen = \"127.0.0.1:$port\"; root = \"$src/web\"; users_file = \"web-users\"; };"
mkdir -p "$WORK/tmp" "$WORK/shots"
marker="hello-from-ui-$$"
norc init >/dev/null; norc queue add Q >/dev/null
# its first run fails, the others succeed: its chart has both colours
norc task add Hello --command "echo $marker; [ -e '$WORK/ran' ] || { touch '$WORK/ran'; exit 1; }" >/dev/null
norc task add Broken --command "exit 3" >/dev/null
norc schedule add Hello --queue Q --period 1 --reps 3 >/dev/null
echo 'admin-secret-1' | norc web user add root --role admin >/dev/null
echo 'viewer-secret-1' | norc web user add val --role viewer >/dev/null
"$bindir/norc_scheduler" >/dev/null 2>&1 & pids+=($!)
"$bindir/norc_executor" Q -c 2 >/dev/null 2>&1 & epid=$!; pids+=($epid)
"$bindir/norc_web" >"$WORK/web.log" 2>&1 & pids+=($!)
wait_for 10 "SELECT COUNT(*) FROM instances WHERE status = 7" 2 || bad "the schedule did not run 3 times"
norc run Broken --queue Q >/dev/null
wait_for 5 "SELECT COUNT(*) FROM instances WHERE status = 13" 2 || bad "Broken did not fail"
eid=$(sql "SELECT id FROM daemons WHERE pid = $epid")
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
NORC_PW_DIR="$NPM_DIR" timeout 120 node "$here/webui.mjs" "http://127.0.0.1:$port" "$eid" Hello "$marker" "$WORK/shots" >"$OUT" 2>"$ERR"
rc=$?
cat "$OUT"
PASS=$((PASS + $(grep -c '^ok' "$OUT")))
FAIL=$((FAIL + $(grep -c '^FAIL' "$OUT")))
if [ "$rc" != 0 ] && ! grep -q '^FAIL' "$OUT"; then bad "webui.mjs exited $rc"; fi
[ "$(grep -c '^ok' "$OUT")" -ge 10 ] || bad "webui.mjs ran fewer checks than it has"
# NORC_WEBUI_KEEP=DIR keeps the screenshots (the chart, the banner, and the page at each failure)
if [ -n "${NORC_WEBUI_KEEP:-}" ]; then cp -r "$WORK/shots" "$NORC_WEBUI_KEEP"; fi
finish
