#!/usr/bin/env bash
# dbrestart.sh - MariaDB dies under load and comes back: a scheduler and two executors run a
# schedule every second (catch-up all), 300 queued instances (0.3 s each, 8 slots: most are
# still waiting) and one long run, when the
# server is killed with SIGKILL and restarted 5 s later on the same data. The daemons ride
# it out and reconnect; the long run's process keeps running and ends SUCCESS; every queued
# instance ran exactly once; every fire time exists once and ran once; nothing stays stuck.
# Then the same with a clean shutdown (SIGTERM) and a restart.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${NORC_BIN:?}"
bindir=$(dirname "$NORC_BIN")
pids=()
mdb="$WORK/mdb"
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "${NORC_TEST_KEEP:-}" ] && cp -r "$WORK" "$NORC_TEST_KEEP"
  "$here/mariadb-tmp.sh" stop "$mdb" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
"$here/mariadb-tmp.sh" start "$mdb" >"$WORK/mdb.out" 2>&1 || { cat "$WORK/mdb.out"; echo "FAIL - MariaDB did not start"; exit 1; }
. "$mdb/env"
cat >"$WORK/norc.conf" <<EOF
database: { backend = "mariadb"; socket = "$MDB_SOCKET"; user = "root"; password = "";
            name = "norcrestart"; io_timeout = 5; };
log_dir = "log";
tasks: { allow_root = true; };
daemon: { heartbeat = 1; heartbeat_timeout = 8; kill_grace = 1; };
EOF
export NORC_CONFIG="$WORK/norc.conf"
sql() { mariadb --no-defaults -S "$MDB_SOCKET" -uroot -N -B norcrestart -e "$1" 2>/dev/null; }
norc() { "$NORC_BIN" "$@"; }

# restart_server SIGNAL DOWN_S: stop mariadbd with SIGNAL, start it again DOWN_S later with
# the same command line and data
restart_server() {
  local sig=$1 down=$2 pid args
  pid=$(cat "$mdb/mariadbd.bgpid")
  mapfile -d '' args <"/proc/$pid/cmdline"
  kill "-$sig" "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  sleep "$down"
  "${args[@]}" </dev/null >/dev/null 2>&1 &
  echo $! >"$mdb/mariadbd.bgpid"
  for _ in $(seq 1 300); do
    mariadb-admin --no-defaults --socket="$MDB_SOCKET" -uroot ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAIL - MariaDB did not come back"; tail -20 "$mdb/error.log"; return 1
}

norc init >/dev/null && norc queue add Q >/dev/null || { echo "FAIL - init"; exit 1; }
norc task add Tick --command "echo \"\$NORC_FIRE_TIME\" >>'$WORK/ticks'" >/dev/null
norc task add Quick --command "sleep 0.3; echo \"\$NORC_INSTANCE_ID\" >>'$WORK/quick'" >/dev/null
norc task add Long --command "echo start >>'$WORK/long'; sleep 9; echo done >>'$WORK/long'" >/dev/null
"$bindir/norc_scheduler" >"$WORK/sched.out" 2>&1 & pids+=($!)
"$bindir/norc_executor" Q -c 4 >"$WORK/ex1.out" 2>&1 & pids+=($!)
"$bindir/norc_executor" Q -c 4 >"$WORK/ex2.out" 2>&1 & pids+=($!)
wait_for 10 "SELECT COUNT(*) FROM daemons WHERE status = 2" 3 || bad "daemons did not start"
start=$(( ($(date +%s) + 2) * 1000000 ))
norc schedule add Tick --queue Q --period 1 --reps 0 --start "@$((start / 1000000))" --catch-up all >/dev/null

round() { # round SIGNAL LABEL
  local sig=$1 label=$2 long quick0
  long=$(norc --json run Long --queue Q | sed 's/[^0-9]//g')
  wait_for 10 "SELECT status FROM instances WHERE id = $long" 2 || bad "$label: Long did not start"
  quick0=$(sql "SELECT COUNT(*) FROM instances WHERE task_id = 2")
  for _ in $(seq 1 300); do norc run Quick --queue Q >/dev/null || echo x; done >"$WORK/runfail"
  [ -s "$WORK/runfail" ] && bad "$label: some norc run failed"
  restart_server "$sig" 5 && ok "$label: MariaDB stopped under load ($(sql "SELECT COUNT(*) FROM instances WHERE ended IS NULL") instances not ended) and back after 5 s" || return
  wait_for 60 "SELECT COUNT(*) FROM instances WHERE task_id = 2 AND status = 7" $((quick0 + 300)) \
    && ok "$label: all $((quick0 + 300)) queued instances succeeded" || bad "$label: quick: $(sql "SELECT status, COUNT(*) FROM instances WHERE task_id = 2 GROUP BY status")"
  wait_for 30 "SELECT status FROM instances WHERE id = $long" 7 \
    && [ "$(grep -c start "$WORK/long")" = "$(grep -c done "$WORK/long")" ] \
    && ok "$label: the long run kept running through the outage and succeeded (one process)" \
    || bad "$label: long: $(sql "SELECT status, reason FROM instances WHERE id = $long"); $(tr '\n' ' ' <"$WORK/long")"
}
round KILL "SIGKILL"
round TERM "SIGTERM"

# --- exactly once, over both outages
total=$(wc -l <"$WORK/quick"); uniq=$(sort -u "$WORK/quick" | wc -l)
[ "$total" = 600 ] && [ "$uniq" = 600 ] && ok "600 queued instances ran 600 times, each once" || bad "quick runs: $total lines, $uniq distinct"
[ "$(grep -c start "$WORK/long")" = 2 ] && ok "each long run started once" || bad "long starts: $(grep -c start "$WORK/long")"
sleep 2
end=$(sql "SELECT MAX(fire_time) FROM instances WHERE schedule_id IS NOT NULL")
expect=$(( (end - start) / 1000000 + 1 ))
got=$(sql "SELECT COUNT(DISTINCT fire_time) FROM instances WHERE schedule_id IS NOT NULL")
[ "$got" = "$expect" ] && [ "$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id IS NOT NULL")" = "$expect" ] \
  && ok "every fire time exists once ($got fires, 10 s of them with the database down)" || bad "fires: $got distinct, $expect expected"
wait_for 15 "SELECT COUNT(*) FROM instances WHERE ended IS NULL AND (schedule_id IS NULL OR fire_time < $(( ($(date +%s) - 3) * 1000000 )))" 0 \
  && ok "nothing stays stuck" || bad "not ended: $(sql "SELECT id, task_id, status FROM instances WHERE ended IS NULL")"
ticks=$(wc -l <"$WORK/ticks"); tuniq=$(sort -u "$WORK/ticks" | wc -l)
[ "$ticks" = "$tuniq" ] && ok "no fire ran twice ($ticks runs)" || bad "ticks: $ticks runs, $tuniq distinct"
[ "$(sql "SELECT COUNT(*) FROM daemons WHERE status = 2")" = 3 ] && ok "the three daemons are still running" \
  || bad "daemons: $(sql "SELECT id, kind, status FROM daemons")"
lines=$(cat "$WORK"/log/executors/* "$WORK"/log/schedulers/* | grep -c -E 'WARN|ERROR')
[ "$lines" -lt 200 ] && ok "the outages cost $lines warning lines in the daemons' logs (no flood)" || bad "$lines warning lines"
for p in "${pids[@]}"; do kill -INT "$p"; done
wait_for 20 "SELECT COUNT(*) FROM daemons WHERE status = 2" 0 && ok "a clean stop afterwards" || bad "stop"
finish
