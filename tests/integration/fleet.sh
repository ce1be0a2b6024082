#!/usr/bin/env bash
# fleet.sh - Norc on three hosts: network namespaces joined by a bridge (env.md 7a), each with
# its own host name (a UTS namespace). "db" runs MariaDB; "h1" and "h2" each run a scheduler
# and an executor. A schedule fires every second (catch-up all) while h1 is cut off the
# network (its link down for longer than the heartbeat timeout): h2 takes over its schedules
# and retries the instance h1 was running; when h1 comes back it stops what it was doing.
# Every fire time exists exactly once, none is run twice. Then `norc_control host h2 --stop`
# is sent from the db host, a third host. Needs root (ip netns).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_BIN:?}"
bindir=$(dirname "$NORC_BIN")
[ "$(id -u)" = 0 ] || { echo "FAIL - fleet.sh needs root for ip netns"; exit 1; }
tag=$$
net=$((20 + tag % 200))
sw=norc-sw-$tag; db=norc-db-$tag; h1=norc-h1-$tag; h2=norc-h2-$tag
dbip=10.214.$net.1
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  pkill -KILL -f "sleep 30\.$tag" 2>/dev/null
  for i in 1 2 3; do ip link del "nv$tag-$i" 2>/dev/null; done # not yet moved into a namespace
  ip netns exec "$db" "$here/mariadb-tmp.sh" stop "$WORK/mdb" >/dev/null 2>&1
  for ns in "$h1" "$h2" "$db" "$sw"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${NORC_FLEET_KEEP:-}" ] && trap 'cp -r "$WORK" "$NORC_FLEET_KEEP"; cleanup' EXIT

# --- the network: a bridge in its own namespace, one veth per host
ip netns add "$sw" && ip -n "$sw" link add br0 type bridge && ip -n "$sw" link set br0 up || { echo "FAIL - cannot create namespaces"; exit 1; }
i=1
for ns in "$db" "$h1" "$h2"; do
  ip netns add "$ns"
  ip link add "nv$tag-$i" type veth peer name "nb$tag-$i"
  ip link set "nv$tag-$i" netns "$ns"
  ip link set "nb$tag-$i" netns "$sw"
  ip -n "$sw" link set "nb$tag-$i" master br0 up
  ip -n "$ns" addr add "10.214.$net.$i/24" dev "nv$tag-$i"
  ip -n "$ns" link set "nv$tag-$i" up
  ip -n "$ns" link set lo up
  i=$((i + 1))
done
ip netns exec "$h1" ping -c 1 -W 2 "$dbip" >/dev/null 2>&1 || ip netns exec "$h1" bash -c "exec 3<>/dev/tcp/$dbip/1" 2>/dev/null
ok "three hosts on a bridge: db $dbip, h1 10.214.$net.2, h2 10.214.$net.3"

# --- MariaDB on db, reachable from the others
MARIADB_EXTRA_OPTS="--bind-address=0.0.0.0" ip netns exec "$db" "$here/mariadb-tmp.sh" start "$WORK/mdb" auto >"$WORK/mdb.out" 2>&1 \
  || { cat "$WORK/mdb.out"; echo "FAIL - MariaDB did not start"; exit 1; }
. "$WORK/mdb/env"
dbsql() { ip netns exec "$db" mariadb --no-defaults -S "$MDB_SOCKET" -uroot -N -B "$@"; }
dbsql -e "CREATE USER 'norc'@'%' IDENTIFIED BY 'fleet-pw'; GRANT ALL ON norcfleet.* TO 'norc'@'%';"
echo fleet-pw >"$WORK/dbpw"; chmod 600 "$WORK/dbpw"
for h in db h1 h2; do
  mkdir -p "$WORK/$h/tmp"
  cat >"$WORK/$h/norc.conf" <<EOF
database: { backend = "mariadb"; host = "$dbip"; port = $MDB_PORT; user = "norc";
            password_file = "$WORK/dbpw"; name = "norcfleet"; connect_timeout = 2; io_timeout = 3; };
log_dir = "log"; tmp_dir = "tmp";
tasks: { allow_root = true; };
daemon: { heartbeat = 1; heartbeat_timeout = 4; kill_grace = 1; };
EOF
done
sql() { dbsql norcfleet -e "$1"; }
# on HOST (db, h1, h2): CMD in that host's namespace, under its own host name
on() {
  local h=$1; shift
  local ns=$db; [ "$h" = h1 ] && ns=$h1; [ "$h" = h2 ] && ns=$h2
  ip netns exec "$ns" unshare --uts sh -c 'hostname "$0"; cd "$1"; shift 2; NORC_CONFIG="$PWD/norc.conf" exec "$@"' \
    "$h-$tag" "$WORK/$h" x "$@"
}
run on db "$NORC_BIN" init; [ "$RC" = 0 ] && ok "norc init from the db host" || bad "init"
on db "$NORC_BIN" queue add Q >/dev/null
on db "$NORC_BIN" task add Tick --command 'hostname' >/dev/null
on db "$NORC_BIN" task add Long --command "exec sleep 30.$tag" --retries 1 >/dev/null
# h1's scheduler first, so that the schedule is h1's; then h2's
on h1 "$bindir/norc_scheduler" >"$WORK/h1/sched.out" 2>&1 & pids+=($!)
for h in h1 h2; do
  on "$h" "$bindir/norc_executor" Q -c 3 >"$WORK/$h/exec.out" 2>&1 & pids+=($!)
done
wait_for 15 "SELECT COUNT(*) FROM daemons WHERE status = 2" 3 || bad "daemons: $(sql 'SELECT kind, host, status FROM daemons')"
start=$(( ($(date +%s) + 3) * 1000000 ))
on db "$NORC_BIN" schedule add Tick --queue Q --period 1 --reps 0 --start "@$((start / 1000000))" --catch-up all >/dev/null
wait_for 10 "SELECT d.host FROM schedules s JOIN daemons d ON d.id = s.lease_owner" "h1-$tag" || bad "h1 did not claim the schedule"
on h2 "$bindir/norc_scheduler" >"$WORK/h2/sched.out" 2>&1 & pids+=($!)
wait_for 15 "SELECT COUNT(DISTINCT host) FROM daemons WHERE status = 2 AND kind = 'scheduler'" 2 \
  && ok "a scheduler and an executor run on h1 and on h2, each with its host name" || bad "daemons: $(sql 'SELECT kind, host, status FROM daemons')"
sleep 5
[ "$(sql "SELECT COUNT(DISTINCT d.host) FROM instances i JOIN daemons d ON d.id = i.executor_id WHERE i.task_id = 1")" = 2 ] \
  && ok "both hosts' executors run the fires" || echo "# only one host's executor ran fires so far"

# --- h1 runs Long; then h1 is cut off for 12 s (3x the heartbeat timeout)
ex1=$(sql "SELECT id FROM daemons WHERE kind = 'executor' AND host = 'h1-$tag'")
on db "$bindir/norc_control" executor "$(sql "SELECT id FROM daemons WHERE kind = 'executor' AND host = 'h2-$tag'")" --pause --wait >/dev/null
lid=$(on db "$NORC_BIN" --json run Long --queue Q | sed 's/[^0-9]//g')
wait_for 10 "SELECT CONCAT(status, executor_id) FROM instances WHERE id = $lid" "2$ex1" || bad "Long did not start on h1"
on db "$bindir/norc_control" executor "$(sql "SELECT id FROM daemons WHERE kind = 'executor' AND host = 'h2-$tag'")" --resume --wait >/dev/null
sched_h1=$(sql "SELECT COUNT(*) FROM schedules s JOIN daemons d ON d.id = s.lease_owner WHERE d.host = 'h1-$tag'")
ip -n "$h1" link set "nv$tag-2" down
cut_at=$(date +%s)
sleep 12
ip -n "$h1" link set "nv$tag-2" up
[ "$sched_h1" = 1 ] && ok "the schedule was h1's when h1 was cut off" || bad "the schedule was not h1's"
[ "$(sql "SELECT d.host FROM schedules s JOIN daemons d ON d.id = s.lease_owner")" = "h2-$tag" ] \
  && ok "h2's scheduler took the schedule over" || bad "schedule owner: $(sql "SELECT lease_owner FROM schedules")"
[ "$(sql "SELECT status FROM daemons WHERE id = $ex1")" != 2 ] && ok "h1's executor was declared dead by the others" || bad "h1 executor still RUNNING"
wait_for 20 "SELECT COUNT(*) FROM instances WHERE previous_id = $lid AND status = 2" 1 \
  && ok "Long, lost with h1, was retried on h2" || bad "Long retry: $(sql "SELECT id, status, executor_id, attempt FROM instances WHERE task_id = 2")"
[ "$(sql "SELECT d.host FROM instances i JOIN daemons d ON d.id = i.executor_id WHERE i.previous_id = $lid")" = "h2-$tag" ] \
  && ok "the retry runs on h2" || bad "retry host"
h1net=$(ip netns exec "$h1" readlink /proc/self/ns/net)
h1copy() { pgrep -f "sleep 30\\.$tag" | while read -r p; do [ "$(readlink "/proc/$p/ns/net")" = "$h1net" ] && echo "h1 $p"; done; }
for _ in $(seq 100); do h1copy >"$WORK/h1procs"; [ -s "$WORK/h1procs" ] || break; sleep 0.2; done
[ ! -s "$WORK/h1procs" ] && ok "h1, back on the network, killed its copy of Long (no instance runs twice)" || bad "h1 still runs Long: $(cat "$WORK/h1procs")"
grep -q "declared dead by another daemon" "$WORK/h1/exec.out" "$WORK/h1/log/executors/"* 2>/dev/null \
  && ok "h1's executor says it was declared dead and stopped" || bad "no 'declared dead' line from h1's executor"

# --- every fire time exactly once, none lost, none run twice
sleep 2
end=$(sql "SELECT MAX(fire_time) FROM instances WHERE schedule_id IS NOT NULL")
expect=$(( (end - start) / 1000000 + 1 ))
got=$(sql "SELECT COUNT(DISTINCT fire_time) FROM instances WHERE schedule_id IS NOT NULL AND attempt = 1")
dups=$(sql "SELECT COUNT(*) FROM (SELECT fire_time FROM instances WHERE schedule_id IS NOT NULL AND attempt = 1 GROUP BY fire_time HAVING COUNT(*) > 1) x")
gaps=$(sql "SELECT COUNT(*) FROM instances a WHERE a.schedule_id IS NOT NULL AND a.attempt = 1 AND a.fire_time > $start AND NOT EXISTS (SELECT 1 FROM instances b WHERE b.schedule_id = a.schedule_id AND b.fire_time = a.fire_time - 1000000)")
[ "$got" = "$expect" ] && [ "$gaps" = 0 ] && ok "every fire from the start to now exists ($got fires over $(( $(date +%s) - start / 1000000 )) s, $((12)) s of them with h1 cut off)" \
  || bad "fires: $got distinct, $expect expected, $gaps gaps"
[ "$dups" = 0 ] && ok "no fire was created twice" || bad "$dups fire times twice"
wait_for 10 "SELECT COUNT(*) FROM instances WHERE task_id = 1 AND ended IS NULL AND fire_time < $(( ($(date +%s) - 3) * 1000000 ))" 0 \
  && ok "every fire has run" || bad "fires not run: $(sql "SELECT id, status FROM instances WHERE task_id = 1 AND ended IS NULL")"
twice=$(sql "SELECT COUNT(*) FROM instances WHERE task_id = 1 AND status = 7 GROUP BY fire_time HAVING COUNT(*) > 1" | wc -l)
[ "$twice" = 0 ] && ok "no fire succeeded twice" || bad "$twice fires succeeded twice"

# --- norc_control host h2 --stop, from the db host
run on db "$bindir/norc_control" host "h2-$tag" --stop --wait --timeout 60
[ "$RC" = 0 ] && ok "norc_control host h2 --stop from a third host" || bad "host stop (exit $RC)"
wait_for 60 "SELECT COUNT(*) FROM daemons WHERE host = 'h2-$tag' AND status = 8" 2 \
  && ok "both of h2's daemons ended (ENDED)" || bad "h2 daemons: $(sql "SELECT kind, status FROM daemons WHERE host = 'h2-$tag'")"
finish
