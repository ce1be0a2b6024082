#!/usr/bin/env bash
# up.sh - `norc up` on an empty SQLite database sets up and runs the INSTALL walkthrough, and
# Ctrl-C (SIGINT) stops every daemon it started, leaving no process behind.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_BIN:?}"
conf="$WORK/norc.conf"
printf 'database: { path = "state/norc.db"; };\ntasks: { allow_root = true; };\nlog_dir = "state/log";\ntmp_dir = "state/tmp";\n' >"$conf"
"$NORC_BIN" -C "$conf" up -c 3 >"$WORK/up.out" 2>&1 &
up=$!
for _ in $(seq 1 150); do
  [ -f "$WORK/state/norc.db" ] && [ "$(sqlite3 "$WORK/state/norc.db" "SELECT COUNT(*) FROM instances WHERE status = 7" 2>/dev/null)" = 2 ] && break
  sleep 0.1
done
[ "$(sqlite3 "$WORK/state/norc.db" "SELECT COUNT(*) FROM instances WHERE status = 7")" = 2 ] && ok "norc up ran the walkthrough (2 runs in about 6 s)" || bad "walkthrough did not run under norc up"
grep -q "set up the walkthrough" "$WORK/up.out" && ok "empty database got the demo" || bad "no demo"
grep -q "Enqueuing <Instance #1 of CommandTask DemoTask>." "$WORK/up.out" && ok "daemon logs are echoed" || bad "no echoed logs"
[ "$(pgrep -fc "norc_(scheduler|executor) .*$WORK")" = 2 ] && ok "one scheduler and one executor run" || bad "daemons: $(pgrep -fa "norc_.*$WORK")"
kill -INT "$up"
wait "$up"; rc=$?
[ "$rc" = 0 ] && ok "norc up exits 0 after Ctrl-C" || bad "norc up exit $rc"
pgrep -f "norc_.*$WORK" >/dev/null && bad "daemons left behind" || ok "no daemon left behind"
[ "$(sqlite3 "$WORK/state/norc.db" "SELECT COUNT(*) FROM daemons WHERE status = 8")" = 2 ] && ok "both daemons ended ENDED" || bad "daemon statuses: $(sqlite3 "$WORK/state/norc.db" "SELECT kind, status FROM daemons")"
# SIGKILL of `norc up` must not leave its daemons behind (parent-death signal).
"$NORC_BIN" -C "$conf" up >"$WORK/up2.out" 2>&1 &
up=$!
for _ in $(seq 1 50); do [ "$(pgrep -fc "norc_(scheduler|executor) .*$WORK")" = 2 ] && break; sleep 0.1; done
kill -KILL "$up"; wait "$up" 2>/dev/null
for _ in $(seq 1 50); do pgrep -f "norc_.*$WORK" >/dev/null || break; sleep 0.1; done
pgrep -f "norc_.*$WORK" >/dev/null && bad "daemons survived a killed norc up" || ok "daemons end when norc up is killed"
# With a web group, norc up starts norc_web too, and stops it with the rest.
. "$here/testsrv.sh"
port=$(free_port)
printf 'web: { listen = "127.0.0.1:%s"; root = "%s"; anonymous = "viewer"; };\n' "$port" "$(cd "$here/../../web" && pwd)" >>"$conf"
"$NORC_BIN" -C "$conf" up >"$WORK/up3.out" 2>&1 &
up=$!
for _ in $(seq 1 50); do curl -sf -o "$OUT" "http://127.0.0.1:$port/api/counts" && break; sleep 0.1; done
grep -q '"schedulers_alive":1' "$OUT" && ok "norc up started norc_web, which sees the scheduler" || bad "norc_web under norc up: $(cat "$OUT")"
kill -INT "$up"; wait "$up"; rc=$?
[ "$rc" = 0 ] && ok "norc up with norc_web exits 0 after Ctrl-C" || bad "exit $rc: $(tail -5 "$WORK/up3.out")"
pgrep -f "norc_.*$WORK" >/dev/null && bad "a daemon was left behind" || ok "norc_web stopped with the others"
finish
