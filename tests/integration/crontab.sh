#!/usr/bin/env bash
# crontab.sh sqlite|mariadb - `norc import-crontab`: the plan of a crontab using every
# feature (5-field rules, @shortcuts, CRON_TZ, SHELL, PATH, other variables, MAILTO, '%' as
# stdin, @reboot), nothing changed without --apply, --apply idempotent, conflicts and bad lines
# refused whole, /etc/crontab's user field, stdin; and an imported command run by a real
# executor does what cron would have done.
. "$(dirname "$0")/lib.sh"
daemons_setup "${1:-}" norc_crontab 'log_dir = "log";'
norc init >/dev/null
count() { sql "SELECT COUNT(*) FROM $1"; }

cat >"$WORK/app.crontab" <<'EOF'
# the application's crontab
SHELL=/bin/bash
PATH=/usr/local/bin:/usr/bin:/bin
MAILTO=ops@example.com
GREETING = "hello 'world'"
*/5 * * * * /usr/local/bin/backup.sh --fast >> /var/log/backup.log 2>&1
0 2 * * 1-5 echo "$GREETING from $0"
CRON_TZ=Europe/Berlin
30 6 1,15 * 1 cat -n %first line%second \% line
@daily /opt/report/run.py
@reboot /usr/bin/startup-thing
EOF

# --- the plan: nothing is changed ---
expect_ok "plan" norc import-crontab "$WORK/app.crontab" --tz UTC
expect_out "backup line: 5-field rule, UTC, PATH and SHELL applied" \
  "^6 +add +app-6-backup.sh +\*/5 \* \* \* \* +UTC +PATH='/usr/local/bin:/usr/bin:/bin'; export PATH; GREETING='hello '\\\\''world'\\\\'''; export GREETING; '/bin/bash' -c '/usr/local/bin/backup.sh"
expect_out "CRON_TZ applies to the lines after it" '^9 +add +app-9-cat +30 6 1,15 \* 1 +Europe/Berlin'
expect_out "'%' starts stdin, '\\%' is a percent sign" "printf '%s\\\\n' 'first line' 'second % line' \| \{ '/bin/bash' -c 'cat -n '; \}"
expect_out "@daily kept as the rule" '^10 +add +app-10-run.py +@daily +Europe/Berlin'
expect_out "@reboot is reported, not imported" '^11 +skip +.*not imported: Norc has no boot event'
expect_out "MAILTO is reported" 'MAILTO=ops@example.com: output is kept in the .* log, not mailed'
expect_out "summary" '4 task\(s\) with schedules to add, 0 already there, 1 not imported; run again with --apply'
[ "$(count tasks)/$(count schedules)/$(count queues)" = "0/0/0" ] && ok "the plan changed nothing" || bad "plan changed the database"

# --- apply, then apply again: nothing more ---
expect_ok "apply" norc import-crontab "$WORK/app.crontab" --tz UTC --apply
expect_out "applied" 'imported 4 task\(s\) with schedules onto queue Cron \(0 already there, 1 not imported\)'
[ "$(count tasks)/$(count schedules)" = "4/4" ] && ok "4 tasks and 4 schedules" || bad "after apply: $(count tasks)/$(count schedules)"
[ "$(sql "SELECT cron FROM schedules s JOIN tasks t ON t.id = s.task_id WHERE t.name = 'app-9-cat'")" = "0 30 6 1,15 * 1" ] \
  && [ "$(sql "SELECT tz FROM schedules s JOIN tasks t ON t.id = s.task_id WHERE t.name = 'app-9-cat'")" = "Europe/Berlin" ] \
  && ok "the schedule keeps its rule and zone" || bad "schedule of app-9-cat"
expect_ok "apply again" norc import-crontab "$WORK/app.crontab" --tz UTC --apply
expect_out "idempotent" 'imported 0 task\(s\) .*\(4 already there, 1 not imported\)'
[ "$(count tasks)/$(count schedules)" = "4/4" ] && ok "still 4 and 4" || bad "after re-apply"

# --- a conflict, or one bad line, and nothing is imported ---
sed 's/backup.sh --fast/backup.sh --slow/' "$WORK/app.crontab" >"$WORK/changed.crontab"
expect_fail "a task of the same name with another command is a conflict" 1 \
  'task app-6-backup.sh \(line 6\) already exists with another command; nothing was imported' \
  norc import-crontab "$WORK/changed.crontab" --prefix app --tz UTC --apply
expect_out "the plan marks it" '^6 +conflict +app-6-backup.sh'
printf '0 3 * * * /bin/true\n61 * * * * /bin/false\n* * * *\n@every\n' >"$WORK/bad.crontab"
run norc import-crontab "$WORK/bad.crontab" --tz UTC --apply
[ "$RC" = 1 ] && grep -q 'bad.crontab: line 2: ' "$ERR" && grep -q 'line 3: a rule needs 5 fields' "$ERR" \
  && grep -q "line 4: '@every' has no command" "$ERR" && grep -q '3 bad line(s); nothing was imported' "$ERR" \
  && [ "$(count tasks)" = 4 ] && ok "bad lines are all named and nothing is imported" || bad "bad crontab (exit $RC)"
expect_fail "an unknown --tz" 2 "--tz Mars/Base" norc import-crontab "$WORK/app.crontab" --tz Mars/Base
expect_fail "a missing file" 1 'cannot read /nonexistent' norc import-crontab /nonexistent

# --- /etc/crontab format and stdin ---
printf '17 * * * * root cd / && run-parts --report /etc/cron.hourly\n' >"$WORK/system"
run norc import-crontab - --system --prefix etc --queue Sys --tz UTC <"$WORK/system"
[ "$RC" = 0 ] && grep -Eq "^1 +add +etc-1-cd +17 \* \* \* \* +UTC +cd / && run-parts --report /etc/cron.hourly +root" "$OUT" \
  && ok "--system: the user field becomes the task's run-as user, stdin is read" || bad "system crontab (exit $RC)"
printf '17 * * * * nobody true\n' | norc import-crontab - --system --prefix sys --queue Sys --tz UTC --apply >/dev/null
[ "$(sql "SELECT run_as FROM tasks WHERE name LIKE 'sys-%'")" = nobody ] && ok "--system --apply: the task runs as that user" || bad "run_as: $(sql "SELECT name, run_as FROM tasks")"
printf '17 * * * * bad!user true\n' >"$WORK/baduser"
run norc import-crontab "$WORK/baduser" --system
[ "$RC" = 1 ] && grep -q "line 1: user field: run-as 'bad!user': give USER or USER:GROUP" "$ERR" && ok "--system: a bad user field is named" || bad "bad user field (exit $RC)"

# --- an imported command, run by a real executor, does what cron would have done ---
printf 'SHELL=/bin/bash\nWHO = "norc'"'"'s cron"\n* * * * * echo "$WHO in $0"; cat -n %%one%%two \\%% three\n' >"$WORK/run.crontab"
expect_ok "apply the run test crontab" norc import-crontab "$WORK/run.crontab" --prefix r --queue Q --tz UTC --apply
"$bindir/norc_executor" Q -c 1 >/dev/null 2>&1 & pids+=($!)
norc run r-3-echo --queue Q >/dev/null
id=$(sql "SELECT MAX(id) FROM instances")
wait_for 20 "SELECT status FROM instances WHERE id = $id" 7 && ok "the imported task ran" || bad "run status"
log="$WORK/log/tasks/CommandTask/r-3-echo/r-3-echo-$id"
grep -qx "norc's cron in /bin/bash" "$log" && grep -Eq '^ +1	one$' "$log" && grep -Eq '^ +2	two % three$' "$log" \
  && ok "variables, SHELL and the '%' stdin behave as under cron" || bad "output: $(cat "$log")"
finish
