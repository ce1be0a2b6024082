#!/usr/bin/env bash
# galera.sh - Norc on a 3-node Galera cluster on loopback (env.md section 3): database.host
# lists the three nodes, in a different order for each daemon, so two schedulers and two
# executors write through different nodes (certification conflicts, error 1213, are retried).
# A schedule fires every second (catch-up all). The node that one scheduler and one executor
# use is killed with SIGKILL: they move to the next node, and every fire time from the
# start to the end exists exactly once, each run once. Needs root (the nodes run as mysql).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_BIN:?}"
bindir=$(dirname "$NORC_BIN")
export PATH=$PATH:/usr/sbin:/sbin
[ "$(id -u)" = 0 ] || { echo "FAIL - galera.sh needs root (the nodes run as the mysql user)"; exit 1; }
[ -f /usr/lib/galera/libgalera_smm.so ] && id mysql >/dev/null 2>&1 \
  || { echo "FAIL - galera-4 and the mysql user are needed (scripts/install-deps.sh installs mariadb-server)"; exit 1; }
chmod 755 "$WORK" # the nodes (user mysql) live below it
base="$WORK/galera"
pb=$((34000 + ($$ % 400) * 10)) # this run's ports: SQL pb+1..3, group pb+4.., IST +1, SST +2
sqlport() { echo $((pb + $1)); }
gport() { echo $((pb + 100 + $1 * 10)); }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for i in 1 2 3; do
    p=$(cat "$base/n$i/bgpid" 2>/dev/null) && kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
node_sql() { local i=$1; shift; mariadb --no-defaults --socket="$base/n$i/mysqld.sock" -uroot -N -B "$@"; }

# --- the cluster: node 1 bootstraps, 2 and 3 join by rsync SST, one after the other
addrs=""; for i in 1 2 3; do addrs+="${addrs:+,}127.0.0.1:$(gport $i)"; done
for i in 1 2 3; do
  d=$base/n$i; mkdir -p "$d/data"; g=$(gport $i)
  cat >"$d/my.cnf" <<CNF
[mysqld]
user=mysql
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
bind-address=127.0.0.1
port=$(sqlport $i)
skip-name-resolve
performance-schema=OFF
innodb-buffer-pool-size=32M
innodb-log-file-size=16M
innodb_flush_log_at_trx_commit=2
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=norc$$
wsrep_cluster_address=gcomm://$addrs
wsrep_node_name=n$i
wsrep_node_address=127.0.0.1:$g
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$g;ist.recv_addr=127.0.0.1:$((g + 1));gcache.size=32M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S"
wsrep_sst_receive_address=127.0.0.1:$((g + 2))
wsrep_sst_method=rsync
wsrep_sst_auth=root:
CNF
done
chown -R mysql "$base"
t0=$(date +%s)
mariadb-install-db --defaults-file="$base/n1/my.cnf" --auth-root-authentication-method=normal \
  --skip-test-db >"$base/n1/install.log" 2>&1 || { cat "$base/n1/install.log"; echo "FAIL - install-db"; exit 1; }
for i in 1 2 3; do
  d=$base/n$i; extra=(); [ "$i" = 1 ] && extra=(--wsrep-new-cluster)
  mariadbd --defaults-file="$d/my.cnf" "${extra[@]}" >/dev/null 2>&1 &
  echo $! >"$d/bgpid"
  synced=0
  for _ in $(seq 1 900); do
    st=$(node_sql "$i" -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{print $2}') || true
    [ "$st" = Synced ] && { synced=1; break; }
    kill -0 "$(cat "$d/bgpid")" 2>/dev/null || break
    sleep 0.1
  done
  [ $synced = 1 ] || { tail -30 "$d/error.log"; echo "FAIL - Galera node $i did not reach Synced"; exit 1; }
done
size=$(node_sql 3 -e "SHOW STATUS LIKE 'wsrep_cluster_size'" | awk '{print $2}')
[ "$size" = 3 ] && ok "a 3-node Galera cluster is Synced on loopback ($(( $(date +%s) - t0 )) s)" || bad "cluster size $size"
node_sql 1 -e "CREATE USER 'norc'@'127.0.0.1' IDENTIFIED BY 'galera-pw'; GRANT ALL ON norcgalera.* TO 'norc'@'127.0.0.1';"
echo galera-pw >"$WORK/dbpw"; chmod 600 "$WORK/dbpw"

# --- Norc: each daemon lists the nodes in its own order
h() { local s=""; for i in "$@"; do s+="${s:+,}127.0.0.1:$(sqlport "$i")"; done; echo "$s"; }
mkconf() { # NAME NODE...
  local name=$1; shift
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name/norc.conf" <<EOF
database: { backend = "mariadb"; host = "$(h "$@")"; user = "norc"; password_file = "$WORK/dbpw";
            name = "norcgalera"; connect_timeout = 2; io_timeout = 5; };
log_dir = "$WORK/log"; tmp_dir = "$WORK/tmp";
tasks: { allow_root = true; };
daemon: { heartbeat = 1; heartbeat_timeout = 8; kill_grace = 1; };
EOF
}
mkconf a 1 2 3; mkconf b 2 3 1; mkconf c 3 1 2
sql() { node_sql 2 norcgalera -e "$1"; }
as() { local n=$1; shift; NORC_CONFIG="$WORK/$n/norc.conf" "$@"; }
run as a "$NORC_BIN" init
[ "$RC" = 0 ] && ok "norc init through the node list" || bad "init"
as a "$NORC_BIN" queue add Q >/dev/null
as b "$NORC_BIN" task add Tick --command 'echo tick' >/dev/null
[ "$(node_sql 3 norcgalera -e "SELECT name FROM tasks")" = Tick ] && ok "a task added through node 2 is on node 3" || bad "replication"
NORC_CONFIG="$WORK/a/norc.conf" "$bindir/norc_scheduler" >"$WORK/a/sched.out" 2>&1 & pids+=($!)
NORC_CONFIG="$WORK/b/norc.conf" "$bindir/norc_scheduler" >"$WORK/b/sched.out" 2>&1 & pids+=($!)
NORC_CONFIG="$WORK/a/norc.conf" "$bindir/norc_executor" Q -c 3 >"$WORK/a/exec.out" 2>&1 & pids+=($!)
NORC_CONFIG="$WORK/c/norc.conf" "$bindir/norc_executor" Q -c 3 >"$WORK/c/exec.out" 2>&1 & pids+=($!)
wait_for 15 "SELECT COUNT(*) FROM daemons WHERE status = 2" 4 && ok "two schedulers and two executors run, on nodes 1, 2 and 3" \
  || bad "daemons: $(sql 'SELECT kind, status FROM daemons')"
start=$(( ($(date +%s) + 2) * 1000000 ))
as b "$NORC_BIN" schedule add Tick --queue Q --period 1 --reps 0 --start "@$((start / 1000000))" --catch-up all >/dev/null
sleep 8

# --- node 1 dies (SIGKILL): its clients move to the next node
kill -KILL "$(cat "$base/n1/bgpid")"
killed_at=$(date +%s)
for _ in $(seq 1 150); do
  size=$(node_sql 2 -e "SHOW STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null | awk '{print $2}')
  [ "$size" = 2 ] && break; sleep 0.1
done
[ "$size" = 2 ] && ok "node 1 killed: the cluster goes on with 2 nodes ($(( $(date +%s) - killed_at )) s)" || bad "cluster size $size"
sleep 12
[ "$(sql "SELECT COUNT(*) FROM daemons WHERE status = 2")" = 4 ] && ok "all four daemons are still running" \
  || bad "daemons: $(sql 'SELECT id, kind, status FROM daemons')"
since=$(( (killed_at + 2) * 1000000 ))
[ "$(sql "SELECT COUNT(*) FROM daemons WHERE status = 2 AND heartbeat > $since")" = 4 ] \
  && ok "the daemons that used node 1 heartbeat again (through node 2)" || bad "heartbeats after the kill: $(sql "SELECT id, kind, heartbeat FROM daemons")"
[ "$(sql "SELECT COUNT(DISTINCT executor_id) FROM instances WHERE started > $since")" = 2 ] \
  && ok "both executors run instances after the kill" || echo "# only one executor ran instances after the kill"

# --- every fire time exactly once, each run once
sleep 2
end=$(sql "SELECT MAX(fire_time) FROM instances WHERE schedule_id IS NOT NULL")
expect=$(( (end - start) / 1000000 + 1 ))
got=$(sql "SELECT COUNT(DISTINCT fire_time) FROM instances WHERE schedule_id IS NOT NULL AND attempt = 1")
dups=$(sql "SELECT COUNT(*) FROM (SELECT fire_time FROM instances WHERE schedule_id IS NOT NULL AND attempt = 1 GROUP BY fire_time HAVING COUNT(*) > 1) x")
[ "$got" = "$expect" ] && [ "$expect" -ge 18 ] && ok "every fire from the start to now exists ($got fires, node 1 killed after ~8)" \
  || bad "fires: $got distinct, $expect expected"
[ "$dups" = 0 ] && ok "no fire was created twice" || bad "$dups fire times twice"
wait_for 15 "SELECT COUNT(*) FROM instances WHERE task_id = 1 AND (status <> 7 OR ended IS NULL) AND fire_time < $(( ($(date +%s) - 4) * 1000000 ))" 0 \
  && ok "every fire ran and succeeded" || bad "not run: $(sql "SELECT id, status, executor_id FROM instances WHERE task_id = 1 AND (status <> 7 OR ended IS NULL)")"
twice=$(sql "SELECT COUNT(*) FROM instances WHERE task_id = 1 GROUP BY fire_time HAVING COUNT(*) > 1" | wc -l)
[ "$twice" = 0 ] && ok "no fire ran twice" || bad "$twice fires ran twice"
conflicts=0
for i in 2 3; do
  c=$(node_sql "$i" -e "SHOW STATUS WHERE Variable_name IN ('wsrep_local_cert_failures', 'wsrep_local_bf_aborts')" | awk '{ s += $2 } END { print s + 0 }')
  conflicts=$((conflicts + c))
done
echo "# certification conflicts and brute-force aborts on nodes 2 and 3: $conflicts"

# --- a clean stop through the surviving nodes
for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
wait_for 30 "SELECT COUNT(*) FROM daemons WHERE status = 2" 0 && ok "the daemons stop cleanly" || bad "stop: $(sql 'SELECT id, kind, status FROM daemons')"
for i in 3 2; do
  p=$(cat "$base/n$i/bgpid"); kill -TERM "$p"
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
finish
