#!/usr/bin/env bash
# runas.sh sqlite|mariadb - least privilege for tasks, through a root executor: a task runs as
# its --run-as user (and group) or as the host's tasks.user, with that user's HOME and groups,
# in that user's home; a root executor refuses to run a task as root unless tasks.allow_root;
# an unknown user is the task's error, not the executor's; per-task limits (cpu, mem, files,
# procs, fsize) hold, a fork bomb included; bad options get one clear line. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "FAIL - runas.sh needs root (the executor switches users)"; exit 1; }
id nobody >/dev/null 2>&1 || { echo "FAIL - runas.sh needs the user nobody"; exit 1; }
daemons_setup "${1:-}" norc_runas 'log_dir = "log"; daemon: { heartbeat = 1; heartbeat_timeout = 5; kill_grace = 1; };
tasks: { user = "nobody"; };'
chmod 755 "$WORK"
nogroup=$(id -gn nobody)
echo "# backend $backend"
norc init >/dev/null; norc queue add Q >/dev/null; norc queue add R >/dev/null
# the second executor's host has no tasks group: root tasks are refused there
printf '%s\nlog_dir = "%s/log";\ndaemon: { heartbeat = 1; heartbeat_timeout = 5; kill_grace = 1; };\n' "$dbline" "$WORK" >"$WORK/strict.conf"
"$bindir/norc_executor" Q -c 4 >"$WORK/ex.out" 2>&1 & pids+=($!)
"$bindir/norc_executor" R -c 2 -C "$WORK/strict.conf" >"$WORK/ex2.out" 2>&1 & pids+=($!)
wait_for 10 "SELECT COUNT(*) FROM daemons WHERE status = 2" 2 || bad "executors did not start"
logof() { cat "$WORK/log/$(sql "SELECT log_path FROM instances WHERE id = $1")" 2>/dev/null; }
runit() { # runit TASK QUEUE STATUS: run and wait for its final status; sets $iid
  iid=$(norc --json run "$1" --queue "$2" | sed 's/[^0-9]//g')
  wait_for 30 "SELECT status >= 7 FROM instances WHERE id = $iid" 1 || { echo "       $1 did not end"; return 1; }
  [ "$(sql "SELECT status FROM instances WHERE id = $iid")" = "$3" ]
}
who='echo "uid=$(id -u) user=$(id -un) group=$(id -gn) groups=$(id -G | wc -w) home=$HOME USER=$USER pwd=$(pwd)"'

# --- the CLI
expect_fail "a bad user name is refused" 2 "run-as 'bad name': give USER or USER:GROUP" norc task add X --command true --run-as 'bad name'
expect_fail "a bad limit is refused" 2 "limit 'cpu=soon': give KIND=VALUE items" norc task add X --command true --limit cpu=soon
expect_fail "an unknown limit is refused" 2 "limit 'stack=1M'" norc task add X --command true --limit stack=1M
expect_fail "a limit twice is refused" 2 "each kind once" norc task add X --command true --limit files=10,files=20
expect_fail "a job takes no --run-as" 2 'a job runs no process of its own' norc job add J --run-as nobody
[ "$(sql "SELECT COUNT(*) FROM tasks")" = 0 ] && ok "and nothing was added" || bad "tasks after bad input"
expect_ok "task add with --run-as and --limit" norc task add Who --command "$who" --run-as nobody --limit 'files=64, cpu=1m' --limit mem=512M
expect_ok "task show" norc task show Who
expect_out "run_as shown" '^run_as: +nobody$'
expect_out "limits shown, normalized" '^limits: +files=64,cpu=60,mem=536870912$'

# --- who it runs as
runit Who Q 7 && ok "a task with --run-as nobody succeeds" || bad "Who: $(sql "SELECT status, reason FROM instances WHERE id = $iid")"
nhome=$(getent passwd nobody | cut -d: -f6); [ -d "$nhome" ] || nhome=/
logof "$iid" | grep -q "uid=$(id -u nobody) user=nobody group=$nogroup groups=[0-9]* home=$nhome USER=nobody pwd=$nhome\$" \
  && ok "it ran as nobody, with nobody's group and USER, in nobody's home or /" || bad "Who log: $(logof "$iid" | grep uid=)"
norc task add Plain --command "$who" >/dev/null
runit Plain Q 7 && logof "$iid" | grep -q "user=nobody" && ok "a task without --run-as runs as tasks.user (nobody)" || bad "Plain: $(logof "$iid" | grep uid=)"
norc task add Grouped --command "$who" --run-as "nobody:$(id -gn root)" >/dev/null
runit Grouped Q 14 && sql "SELECT reason FROM instances WHERE id = $iid" | grep -q "refused to run as group root" \
  && ok "group root is refused too (no tasks.allow_root)" || bad "Grouped: $(sql "SELECT status, reason FROM instances WHERE id = $iid")"
norc task set Grouped --run-as "nobody:$nogroup" >/dev/null
runit Grouped Q 7 && logof "$iid" | grep -q "group=$nogroup" && ok "--run-as USER:GROUP" || bad "Grouped 2"
norc task add Ghost --command true --run-as ghost >/dev/null
runit Ghost Q 14 && sql "SELECT reason FROM instances WHERE id = $iid" | grep -q "run-as user 'ghost' does not exist on this host" \
  && ok "an unknown user: ERROR with the reason" || bad "Ghost: $(sql "SELECT status, reason FROM instances WHERE id = $iid")"
[ "$(sql "SELECT status FROM daemons WHERE pid = ${pids[0]}")" = 2 ] && ok "... and the executor goes on (not SUSPENDED)" || bad "executor status"

# --- root: refused unless allowed
runit Plain R 14 && sql "SELECT reason FROM instances WHERE id = $iid" | grep -q "refused to run as root: norc_executor runs as root and the task would too" \
  && ok "a root executor without tasks.user refuses to run a task as root" || bad "strict: $(sql "SELECT status, reason FROM instances WHERE id = $iid")"
norc task add AsRoot --command "$who" --run-as root >/dev/null
runit AsRoot Q 14 && ok "--run-as root is refused without tasks.allow_root" || bad "AsRoot"
printf '%s\nlog_dir = "%s/log";\ntasks: { allow_root = true; };\n' "$dbline" "$WORK" >"$WORK/root.conf"
norc queue add S >/dev/null
"$bindir/norc_executor" S -c 1 -C "$WORK/root.conf" >"$WORK/ex3.out" 2>&1 & pids+=($!)
runit AsRoot S 7 && logof "$iid" | grep -q "uid=0 user=root" && ok "with tasks.allow_root = true it runs as root" || bad "AsRoot allowed: $(logof "$iid" | grep uid=)"

# --- limits
norc task add Files --command 'ulimit -n; ulimit -Hn' --limit files=64 >/dev/null
runit Files Q 7 && [ "$(logof "$iid" | grep -cx 64)" = 2 ] && ok "files=64: soft and hard limit 64" || bad "Files: $(logof "$iid")"
norc task add Spin --command 'while :; do :; done' --limit cpu=1 --timeout 20 >/dev/null
runit Spin Q 13 && [ "$(sql "SELECT term_signal FROM instances WHERE id = $iid")" -gt 0 ] \
  && ok "cpu=1: a busy loop is killed by signal $(sql "SELECT term_signal FROM instances WHERE id = $iid") after 1 s of CPU" || bad "Spin: $(sql "SELECT status, term_signal, reason FROM instances WHERE id = $iid")"
norc task add Big --command "python3 -c 'x = bytearray(300 * 1024 * 1024); print(len(x))'" --limit mem=128M >/dev/null
runit Big Q 13 && logof "$iid" | grep -q MemoryError && ok "mem=128M: a 300 MiB allocation fails (MemoryError)" || bad "Big: $(logof "$iid" | tail -3)"
norc task add Fat --command "head -c 100000 /dev/zero >/tmp/norc-fsize.$$" --limit fsize=10K >/dev/null
runit Fat Q 13 && [ "$(stat -c %s /tmp/norc-fsize.$$ 2>/dev/null)" -le 10240 ] && ok "fsize=10K: a file stops at 10 KiB" || bad "Fat: $(stat -c %s /tmp/norc-fsize.$$ 2>&1)"
rm -f "/tmp/norc-fsize.$$"
bomb=/tmp/norc-bomb.$$
norc task add Bomb --command "n=0; while [ \$n -lt 200 ]; do sleep 5 & n=\$((n + 1)); echo \$n >$bomb; done; wait" --limit procs=20 --timeout 30 >/dev/null
runit Bomb Q 13 || bad "Bomb: $(sql "SELECT status, reason FROM instances WHERE id = $iid")"
made=$(cat "$bomb" 2>/dev/null || echo 0); rm -f "$bomb"
[ "$made" -ge 10 ] && [ "$made" -lt 20 ] && ok "procs=20: a fork bomb as nobody made $made children, then could not fork" || bad "Bomb made $made"
logof "$iid" | grep -qiE "fork|resource temporarily unavailable" && ok "... and its log says fork failed" || bad "Bomb log: $(logof "$iid" | tail -3)"
left=1
for _ in $(seq 1 30); do left=$(pgrep -u nobody -f "sleep 5" | wc -l); [ "$left" = 0 ] && break; sleep 0.1; done
[ "$left" = 0 ] && ok "nothing of it is left" || bad "$left of its processes left"
# a limit the kernel refuses in the child (above fs.nr_open) is the task's error, not the host's
norc task add Huge --command true --limit files=2000000000 >/dev/null
runit Huge Q 14 && sql "SELECT reason FROM instances WHERE id = $iid" | grep -q "setrlimit" \
  && ok "a limit the kernel refuses: ERROR with the reason" || bad "Huge: $(sql "SELECT status, reason FROM instances WHERE id = $iid")"
runit Plain Q 7 && [ "$(sql "SELECT status FROM daemons WHERE pid = ${pids[0]}")" = 2 ] \
  && ok "... and the executor goes on taking work (not SUSPENDED)" || bad "executor after Huge: $(sql "SELECT status FROM daemons WHERE pid = ${pids[0]}")"
[ "$(sql "SELECT COUNT(*) FROM daemons WHERE status = 2")" = 3 ] && ok "the executors are still running" || bad "daemons"
# a task run as another user still dies with its executor (the parent-death signal is set
# after the user switch, which would clear it)
norc queue add K >/dev/null
norc task add Orphan --command "exec sleep 60.$$" >/dev/null
"$bindir/norc_executor" K -c 1 >"$WORK/ex4.out" 2>&1 & kpid=$!; pids+=($kpid)
oid=$(norc --json run Orphan --queue K | sed 's/[^0-9]//g')
wait_for 10 "SELECT status FROM instances WHERE id = $oid" 2 || bad "Orphan did not start"
[ "$(ps -o user= -p "$(pgrep -f "sleep 60\.$$" | head -1)" 2>/dev/null | tr -d ' ')" = nobody ] && ok "the orphan test task runs as nobody" || bad "Orphan user"
kill -KILL "$kpid"
gone=0; for _ in $(seq 1 30); do pgrep -f "sleep 60\.$$" >/dev/null || { gone=1; break; }; sleep 0.1; done
[ "$gone" = 1 ] && ok "SIGKILL of its executor kills the task it ran as nobody" || { bad "the task outlived its executor"; pkill -KILL -f "sleep 60\.$$"; }
finish
