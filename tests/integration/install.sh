#!/usr/bin/env bash
# install.sh - `cmake --install` as a package build does it (DESTDIR): binaries, plugins, web
# files, docs, a norc.conf whose paths are the installed ones (kept on reinstall), and the
# systemd units (checked by systemd-analyze verify), sysusers.d and tmpfiles.d files; the
# installed daemons tell systemd they are ready (sd_notify) and write journal-style lines
# when their output is the journal.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_BUILD_DIR:?}"
root="$WORK/root"
DESTDIR="$root" cmake --install "$NORC_BUILD_DIR" >"$WORK/install.log" 2>&1 && ok "cmake --install into DESTDIR" || bad "install failed: $(tail -3 "$WORK/install.log")"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$NORC_BUILD_DIR/CMakeCache.txt")
P="$root$prefix"
missing=()
for f in bin/norc bin/norc_scheduler bin/norc_executor bin/norc_web bin/norc_control bin/norc_reporter \
         bin/norc_log_viewer lib/norc/builtin/command.so lib/norc/builtin/dbqueue.so \
         lib/norc/builtin/localbackup.so share/norc/web/index.html share/norc/web/app.js \
         etc/norc/norc.conf lib/systemd/system/norc-scheduler.service \
         lib/systemd/system/norc-executor@.service lib/systemd/system/norc-web.service \
         lib/sysusers.d/norc.conf lib/tmpfiles.d/norc.conf share/doc/norc/operations.md \
         include/norc/plugin.h; do
  [ -e "$P/$f" ] || missing+=("$f")
done
[ ${#missing[@]} = 0 ] && ok "every part is installed" || bad "missing: ${missing[*]}"

# the installed config points at the installed places, and loads
expect_ok "the installed norc.conf loads" "$P/bin/norc" -C "$P/etc/norc/norc.conf" config check
expect_out "its database is under the state folder" "^database.path = \"$prefix/var/lib/norc/norc.db\"$"
expect_out "its web root is the installed page" "^web.root = \"$prefix/share/norc/web\"$"
expect_out "its log folder" "^log_dir = \"$prefix/var/log/norc\"$"
grep -v '^ *#' "$P/etc/norc/norc.conf" | grep -q '\.\./' && bad "a source-tree path is left" || ok "no source-tree path is left in it"
echo "# edited" >>"$P/etc/norc/norc.conf"
DESTDIR="$root" cmake --install "$NORC_BUILD_DIR" >"$WORK/install2.log" 2>&1
grep -q '^# edited$' "$P/etc/norc/norc.conf" && [ -f "$P/etc/norc/norc.conf.new" ] \
  && ok "a reinstall keeps an edited norc.conf (the new one is norc.conf.new)" || bad "norc.conf was overwritten"

# the units: systemd-analyze verify, with ExecStart pointing into DESTDIR
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$WORK/units"
  for u in "$P"/lib/systemd/system/*.service; do sed "s|$prefix/bin|$P/bin|g" "$u" >"$WORK/units/$(basename "$u")"; done
  cp "$WORK/units/norc-executor@.service" "$WORK/units/norc-executor@DemoQueue.service"
  run systemd-analyze verify "$WORK/units/norc-scheduler.service" "$WORK/units/norc-web.service" "$WORK/units/norc-executor@DemoQueue.service"
  [ "$RC" = 0 ] && [ ! -s "$ERR" ] && [ ! -s "$OUT" ] && ok "systemd-analyze verify finds nothing to say about the units" || bad "systemd-analyze verify"
else
  echo "# systemd-analyze is missing: the units are not verified"
fi
grep -q "^ExecStart=$prefix/bin/norc_executor %i -e \$NORC_EXECUTOR_ARGS$" "$P/lib/systemd/system/norc-executor@.service" \
  && ok "the executor unit runs the queue named by its instance" || bad "executor ExecStart"
grep -q '^KillSignal=SIGINT$' "$P/lib/systemd/system/norc-executor@.service" && grep -q '^KillMode=mixed$' "$P/lib/systemd/system/norc-executor@.service" \
  && ok "stopping it lets the running instances end (SIGINT, KillMode=mixed)" || bad "executor stop settings"

# readiness and journal lines from the installed scheduler
printf 'database: { path = "n.db"; };\nlog_dir = "log";\ntmp_dir = "tmp";\n' >"$WORK/n.conf"
"$P/bin/norc" -C "$WORK/n.conf" init >/dev/null
if grep -q '^Type=notify$' "$P/lib/systemd/system/norc-scheduler.service"; then
  : >"$WORK/journal"
  js=$(stat -c '%d:%i' "$WORK/journal")
  run python3 - "$P/bin/norc_scheduler" "$WORK/n.conf" "$WORK/journal" "$js" <<'PY'
import os, socket, subprocess, sys
path = os.path.join(os.path.dirname(sys.argv[3]), "notify.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path); s.settimeout(10)
out = open(sys.argv[3], "w")
env = dict(os.environ, NOTIFY_SOCKET=path, JOURNAL_STREAM=sys.argv[4])
p = subprocess.Popen([sys.argv[1], "-e", "-C", sys.argv[2]], env=env, stdout=out, stderr=out)
print(s.recv(4096).decode().replace("\n", " | "))
p.send_signal(2)
print(s.recv(4096).decode().replace("\n", " | "))
print("exit", p.wait())
PY
  expect_out "the scheduler says READY=1 to systemd once it runs" "^READY=1 \| STATUS=Scheduler #1$"
  expect_out "and STOPPING=1 when told to stop" "^STOPPING=1$"
  expect_out "and ends normally" "^exit 0$"
  grep -q '^<6>INFO: <Scheduler #1> initialized; starting\.\.\.$' "$WORK/journal" \
    && ok "journal lines carry a <priority> and no time stamp" || bad "journal lines: $(head -3 "$WORK/journal")"
else
  echo "# built without libsystemd: Type=simple units, no readiness check"
fi
finish
