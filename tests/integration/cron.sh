#!/usr/bin/env bash
# cron.sh sqlite|mariadb - cron schedules through the real scheduler and executor: the
# original's schedule tests (cron 3 reps 1 s apart, update, make-up, cron make-up, bad schedule
# soft-deleted with its reason), `norc cron next` (the ISO format and DST), catch-up policies
# noted on the schedule, overlap skip/queue, and exactly-once firing with two schedulers forced
# to race for the same schedules.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
daemons_setup "${1:-}" norc_cron 'daemon: { heartbeat = 1; heartbeat_timeout = 3; kill_grace = 1; };'
echo "# backend $backend"
norc init >/dev/null; norc queue add Q >/dev/null
norc task add T --command true >/dev/null
fires() { sql "SELECT fire_time FROM instances WHERE schedule_id = $1 ORDER BY fire_time"; }
gaps() { fires "$1" | awk 'NR > 1 { printf "%d ", ($1 - p) / 1000000 } { p = $1 }'; }

# `norc cron next`: one ISO 8601 line per fire time, with the zone's offset; DST as documented.
expect_ok "cron next" norc cron next '0 30 2 * * *' --tz America/New_York --from 2026-03-07T00:00:00 -n 3
[ "$(tr '\n' ' ' <"$OUT")" = "2026-03-07T02:30:00-05:00 2026-03-08T03:00:00-04:00 2026-03-09T02:30:00-04:00 " ] && ok "a fire time in the skipped hour runs once, at the jump" || bad "spring forward: $(cat "$OUT")"
expect_ok "cron next, fall back" norc cron next '0 30 * * * *' --tz Europe/Berlin --from 2026-10-25T01:00:00 -n 3
[ "$(tr '\n' ' ' <"$OUT")" = "2026-10-25T01:30:00+02:00 2026-10-25T02:30:00+02:00 2026-10-25T02:30:00+01:00 " ] && ok "an hourly rule follows absolute time through the repeated hour" || bad "fall back: $(cat "$OUT")"
expect_ok "cron next, original encoding" norc cron next 'o1,4,7,10d1w*h0m0s0' --from 2010-11-01T00:00:00 -n 1
expect_out "the original's monthly case" "^2011-01-01T00:00:00\+00:00$"
expect_fail "an impossible date is refused" 2 "never fires" norc cron next '0 0 30 2 *'
expect_fail "the original's o1,13 is refused" 2 "13" norc cron next 'o1,13'
expect_fail "an unknown zone is refused" 2 "unknown time zone 'Mars/Base'" norc cron next '* * * * *' --tz Mars/Base
expect_fail "schedule add checks the rule" 2 "--cron: .*never fires" norc schedule add T --queue Q --cron '0 0 31 4 *'

"$bindir/norc_scheduler" >/dev/null 2>&1 & spid=$!; pids+=($spid)
"$bindir/norc_executor" Q -c 4 >/dev/null 2>&1 & pids+=($!)
wait_for 5 "SELECT COUNT(*) FROM daemons WHERE pid = $spid AND status = 2" 1 || bad "scheduler did not start"

# The original's test_cron: every second, 3 repetitions: 3 instances exactly 1 s apart.
c3=$(norc --json schedule add T --queue Q --cron '* * * * * *' --reps 3 | sed 's/[^0-9]//g')
wait_for 8 "SELECT COUNT(*) FROM instances WHERE schedule_id = $c3 AND status = 7" 3 && ok "cron, 3 reps: 3 instances" || bad "cron 3 reps"
[ "$(gaps "$c3")" = "1 1 " ] && ok "their fire times are exactly 1 s apart" || bad "gaps: $(gaps "$c3")"
expect_ok "schedule show" norc schedule show "$c3"
expect_out "show tells what happened last" "last_note: +fired$"

# Update (the original's reschedule): the holding scheduler reloads it at once.
up=$(norc --json schedule add T --queue Q --cron '* * * * * *' | sed 's/[^0-9]//g')
wait_for 5 "SELECT COUNT(*) >= 2 FROM instances WHERE schedule_id = $up" 1 || bad "update: no fires"
expect_ok "schedule set --cron" norc schedule set "$up" --cron '*/2 * * * * *'
sleep 0.3; n0=$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $up")
sleep 5
after=$(fires "$up" | tail -n +$((n0 + 1)) | awk '{ print int($1 / 1000000) % 2 }' | sort -u | tr '\n' ' ')
[ "$after" = "0 " ] && ok "after schedule set every fire is on an even second" || bad "after set: [$after]"
norc schedule rm "$up" >/dev/null

# Catch-up: a rule whose start lies 5 s back.
now=$(date +%s)
mk=$(norc --json schedule add T --queue Q --cron '* * * * * *' --start @$((now - 5)) --reps 6 --catch-up all | sed 's/[^0-9]//g')
wait_for 3 "SELECT COUNT(*) FROM instances WHERE schedule_id = $mk" 6 && ok "catch-up all (make-up): the 6 fire times since the start at once" || bad "catch-up all"
[ "$(gaps "$mk")" = "1 1 1 1 1 " ] && ok "each missed second has its instance" || bad "make-up gaps: $(gaps "$mk")"
lt=$(norc --json schedule add T --queue Q --cron '* * * * * *' --start @$((now - 10)) --reps 1 | sed 's/[^0-9]//g')
wait_for 3 "SELECT COUNT(*) FROM instances WHERE schedule_id = $lt" 1 && ok "catch-up latest (default): one instance" || bad "latest"
[ "$(sql "SELECT fire_time >= ($now - 1) * 1000000 FROM instances WHERE schedule_id = $lt")" = 1 ] && ok "for the newest missed time" || bad "latest fired an old time"
sql "SELECT last_note FROM schedules WHERE id = $lt" | grep -q "missed [0-9]* fire time(s) from .* (catch-up latest)" && ok "the skipped ones are noted on the schedule" || bad "note: $(sql "SELECT last_note FROM schedules WHERE id = $lt")"
sk=$(norc --json schedule add T --queue Q --cron '0 0 * * * *' --start @$((now - 7200)) --reps 1 --catch-up skip | sed 's/[^0-9]//g')
wait_for 3 "SELECT last_note LIKE 'missed 2 fire time(s)%' FROM schedules WHERE id = $sk" 1 && ok "catch-up skip runs none of the missed, says how many" || bad "skip note: $(sql "SELECT last_note FROM schedules WHERE id = $sk")"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $sk")" = 0 ] && ok "and runs nothing" || bad "skip ran something"

# The original's test_bad_schedule: a rule that cannot be read is soft-deleted with its reason.
bs=$(norc --json schedule add T --queue Q --cron '0 0 1 1 *' | sed 's/[^0-9]//g')
wait_for 5 "SELECT lease_owner IS NOT NULL FROM schedules WHERE id = $bs" 1 || bad "bad schedule not claimed"
sql "UPDATE schedules SET cron = 'o1,13', changed = 1 WHERE id = $bs"
wait_for 5 "SELECT deleted FROM schedules WHERE id = $bs" 1 && ok "a bad schedule is soft-deleted" || bad "bad schedule kept"
grep -q "Invalid <Schedule #$bs> found, deleting: .*13" "$WORK"/log/schedulers/scheduler-* && ok "with the reason logged" || bad "no log line"
sql "SELECT last_note FROM schedules WHERE id = $bs" | grep -q "deleted by the scheduler" && ok "and noted on the schedule" || bad "no note"

# Overlap: skip records the fire as SKIPPED while a run is active; queue runs it afterwards
# (at most one waiting), never two at once.
norc task add Busy --command "sleep 2.5" --overlap skip >/dev/null
ov=$(norc --json schedule add Busy --queue Q --cron '* * * * * *' | sed 's/[^0-9]//g')
sleep 5.5; norc schedule rm "$ov" >/dev/null
[ "$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $ov AND status = 10")" -ge 2 ] && ok "overlap skip: fires during a run are SKIPPED" || bad "no SKIPPED: $(sql "SELECT status FROM instances WHERE schedule_id = $ov")"
sql "SELECT reason FROM instances WHERE schedule_id = $ov AND status = 10 LIMIT 1" | grep -q "overlap: instance #[0-9]* is still running" && ok "with the reason" || bad "skip reason"
norc task add Queued --command "sleep 1.5" --overlap queue >/dev/null
oq=$(norc --json schedule add Queued --queue Q --cron '* * * * * *' | sed 's/[^0-9]//g')
sleep 5; norc schedule rm "$oq" >/dev/null
wait_for 6 "SELECT COUNT(*) FROM instances WHERE schedule_id = $oq AND status IN (1, 2)" 0 || bad "queued runs did not finish"
overl=$(sql "SELECT started, ended FROM instances WHERE schedule_id = $oq AND status = 7 ORDER BY started" | awk 'NR > 1 && $1 < e { bad++ } { e = $2 } END { print bad + 0 }')
[ "$overl" = 0 ] && ok "overlap queue: runs never overlap" || bad "$overl overlapping runs"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $oq AND status = 7")" -ge 3 ] && ok "each waiting run ran after the previous one" || bad "queued runs: $(sql "SELECT status FROM instances WHERE schedule_id = $oq")"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id = $oq AND status = 10")" -ge 1 ] && ok "a fire while one already waits is SKIPPED" || bad "no skip in queue mode"

# Exactly once: two schedulers forced to fire the same schedules (test mode: they ignore each
# other's claims); the compare-and-set and the UNIQUE key leave one instance per fire time.
kill -INT "$spid"; wait "$spid" 2>/dev/null
for i in 1 2 3 4 5 6 7 8; do norc task add R$i --command true >/dev/null; norc schedule add R$i --queue Q --cron '* * * * * *' >/dev/null; done
NORC_TEST_SHARED_CLAIMS=1 "$bindir/norc_scheduler" >/dev/null 2>&1 & r1=$!; pids+=($r1)
NORC_TEST_SHARED_CLAIMS=1 "$bindir/norc_scheduler" >/dev/null 2>&1 & r2=$!; pids+=($r2)
sleep 6; kill -INT "$r1" "$r2"; wait "$r1" "$r2" 2>/dev/null
rs="SELECT id FROM schedules WHERE task_id IN (SELECT id FROM tasks WHERE name LIKE 'R%')"
[ "$(sql "SELECT COUNT(*) - COUNT(DISTINCT schedule_id * 10000000000 + fire_time) FROM instances WHERE schedule_id IN ($rs)")" = 0 ] && ok "racing schedulers: no fire time has two instances" || bad "duplicates"
missing=0; for s in $(sql "$rs"); do g=$(gaps "$s" | tr ' ' '\n' | grep -cv '^1$\|^$'); missing=$((missing + g)); done
[ "$missing" = 0 ] && ok "and none is missing (every second in a row)" || bad "$missing gap(s)"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE schedule_id IN ($rs)")" -ge 40 ] && ok "($(sql "SELECT COUNT(*) FROM instances WHERE schedule_id IN ($rs)") fires over 8 schedules)" || bad "too few fires"
# both really raced: each either fired or lost a compare-and-set to the other (with one
# transaction per burst, the first to wake may win every fire of a second)
both=0; for p in $r1 $r2; do id=$(sql "SELECT id FROM daemons WHERE pid = $p ORDER BY id DESC LIMIT 1"); grep -q "Enqueuing\|was fired by another scheduler" "$WORK/log/schedulers/scheduler-$id" && both=$((both + 1)); done
[ "$both" = 2 ] && ok "both schedulers took part in the race" || bad "only $both scheduler(s) raced"
lost=$(cat "$WORK"/log/schedulers/scheduler-* | grep -c "was fired by another scheduler")
[ "$lost" -ge 1 ] && ok "($lost fire(s) lost to the other scheduler's compare-and-set)" || bad "no race was lost: the test did not race"
finish
