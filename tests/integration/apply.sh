#!/usr/bin/env bash
# apply.sh sqlite|mariadb - `norc apply FILE`: a declarative file of queues, tasks, jobs and
# schedules is applied idempotently (a second run changes nothing), changes are planned and
# made in place (settings, parameters, schedules, job nodes and dependencies), --dry-run
# changes nothing, --prune removes what the file lost, and a bad file is refused with its
# line, changing nothing.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
daemons_setup "${1:-}" norc_apply ''
echo "# backend $backend"
norc init >/dev/null
F="$WORK/fleet.conf"
cat >"$F" <<'EOF'
queues = ( { name = "Reports"; }, { name = "Batch"; type = "DBQueue"; } );
tasks = (
  { name = "report"; command = "echo report"; timeout = "2h"; retries = 2; retry_delay = "5m";
    overlap = "skip"; description = "nightly report";
    schedules = ( { queue = "Reports"; cron = "0 0 2 * * *"; tz = "Europe/Berlin"; },
                  { queue = "Batch"; period = "1h"; reps = 0; catch_up = "all:10"; } ); },
  { name = "extract"; command = "echo extract"; },
  { name = "load"; command = "echo load"; nice = 5; }
);
jobs = (
  { name = "etl"; fail_fast = true; timeout = "1h";
    nodes = ( { name = "e"; task = "extract"; }, { name = "l"; task = "load"; } );
    deps = ( [ "e", "l" ] );
    schedules = ( { queue = "Batch"; cron = "@daily"; } ); }
);
EOF
count() { sql "SELECT (SELECT COUNT(*) FROM queues WHERE deleted = 0), (SELECT COUNT(*) FROM tasks WHERE deleted = 0), (SELECT COUNT(*) FROM schedules WHERE deleted = 0), (SELECT COUNT(*) FROM job_deps)" | tr '|\t' '  '; }

# --- bad files change nothing and name the line
bad_file() { # DESC REGEX: the file on stdin
  cat >"$WORK/bad.conf"
  expect_fail "$1" 1 "$2" norc apply "$WORK/bad.conf"
}
echo 'tasks = ( { name = "a"; command = "x" } ' | bad_file "a syntax error names its line" 'apply .*bad.conf:[0-9]+: syntax error'
echo 'tasks = ( { name = "a"; command = "x"; colour = 1; } );' | bad_file "an unknown key is refused" 'unknown key .colour.; the keys are'
echo 'tasks = ( { name = "a"; command = "x"; schedules = ( { queue = "Nope"; period = 60; } ); } );' | bad_file "an unknown queue is refused" 'no queue Nope; add it to queues'
echo 'tasks = ( { name = "a"; command = "x"; schedules = ( { queue = "Q"; cron = "61 * * * * *"; } ); } ); queues = ( { name = "Q"; } );' | bad_file "a bad cron rule is refused" 'bad.conf:1: a, schedule 1: .*61'
echo 'tasks = ( { name = "a"; command = "x"; schedules = ( { queue = "Q"; cron = "@daily"; tz = "Mars/Base"; } ); } ); queues = ( { name = "Q"; } );' | bad_file "an unknown zone is refused" 'Mars/Base'
echo 'tasks = ( { name = "a"; command = "x"; schedules = ( { queue = "Q"; cron = "@daily"; period = 5; } ); } ); queues = ( { name = "Q"; } );' | bad_file "period and cron together are refused" 'exactly one of period and cron'
echo 'tasks = ( { name = "a"; command = "x"; }, { name = "a"; command = "y"; } );' | bad_file "a name twice is refused" 'a is defined twice'
echo 'tasks = ( { name = "a"; } );' | bad_file "a command task without command is refused" 'give its command'
printf 'tasks = ( { name = "a"; command = "x"; } );\njobs = ( { name = "j"; nodes = ( { name = "p"; task = "a"; }, { name = "q"; task = "a"; } );\n deps = ( [ "p", "q" ], [ "q", "p" ] ); } );\n' | bad_file "a cycle in a job is refused" 'job j: its dependencies contain a cycle'
echo 'jobs = ( { name = "j"; nodes = ( { name = "p"; task = "ghost"; } ); } );' | bad_file "a node running an unknown task is refused" 'node p: no task ghost'
echo 'tasks = ( { name = "a"; command = "x"; params: { f = 1.5; }; } );' | bad_file "a parameter that is not a string, number or boolean is refused" 'parameter f must be a string'
echo 'tasks = ( { name = "a"; command = "x"; schedules = ( { queue = "Q"; period = 5; start = "tomorrow"; } ); } ); queues = ( { name = "Q"; } );' | bad_file "a bad start is refused before anything runs" "start 'tomorrow'"
echo 'tasks = ( { name = "a"; command = "x"; } ); jobs = ( { name = "j"; nodes = ( { name = "-n"; task = "a"; } ); } );' | bad_file "a bad node name is refused" 'job j: .*-n'
printf 'jobs = ( { name = "j1"; nodes = ( { name = "a"; task = "j2"; } ); },\n { name = "j2"; nodes = ( { name = "b"; task = "j1"; } ); } );\n' | bad_file "jobs running each other in a circle are refused" 'run each other in a circle'
[ "$(count)" = "0 0 0 0" ] && ok "and none of them changed anything" || bad "state after bad files: $(count)"

# --- the first apply, then nothing to change
expect_ok "--dry-run prints the plan" norc apply "$F" --dry-run
expect_out "with every step" "^add +etl +dependency e -> l"
[ "$(count)" = "0 0 0 0" ] && ok "--dry-run changed nothing" || bad "dry run changed: $(count)"
expect_ok "apply" norc apply "$F"
expect_out "it says how many changes it made" "12 change\(s\) made"
[ "$(count)" = "2 4 3 1" ] && ok "2 queues, 4 tasks (a job among them), 3 schedules, 1 dependency" || bad "state: $(count)"
[ "$(sql "SELECT timeout, retries, retry_delay, overlap FROM tasks WHERE name = 'report'" | tr '|\t' '  ')" = "7200 2 300 1" ] \
  && ok "report's settings (timeout 2h, 2 retries, 5m delay, overlap skip)" || bad "report settings"
[ "$(sql "SELECT s.tz FROM schedules s JOIN queues q ON q.id = s.queue_id WHERE q.name = 'Reports'")" = "Europe/Berlin" ] \
  && ok "the cron schedule is in its zone" || bad "tz"
[ "$(sql "SELECT catch_up, catch_up_max, repetitions FROM schedules WHERE kind = 'period'" | tr '|\t' '  ')" = "2 10 0" ] \
  && ok "the period schedule: catch up all (at most 10), forever" || bad "period schedule"
expect_ok "apply again" norc apply "$F"
expect_out "changes nothing" "nothing to change"
expect_ok "--json plan" norc --json apply "$F" --dry-run
expect_json "an empty JSON plan" "j == []"

# --- changes are made in place
sid=$(sql "SELECT id FROM schedules WHERE kind = 'period'")
eid=$(sql "SELECT id FROM tasks WHERE name = 'extract'")
norc task add stray --command true >/dev/null
sed -e 's/0 0 2 \* \* \*/0 30 2 * * */; s/retries = 2;/retries = 3;/; s/echo extract/echo extract2/; s/deps = ( \[ "e", "l" \] );/deps = ( );/; s/reps = 0; catch_up = "all:10"/reps = 5; catch_up = "all:10"/' "$F" >"$WORK/f2.conf"
expect_ok "apply a changed file with --prune" norc apply "$WORK/f2.conf" --prune
expect_out "the retries change" "^change +report +retries"
expect_out "the period schedule changes its repetitions" "^change +report +every 3600s on Batch: reps"
expect_out "the old cron schedule goes" "^remove +report +schedule #"
expect_out "the stray task goes" "^remove +stray +not in the file"
[ "$(sql "SELECT repetitions FROM schedules WHERE id = $sid AND deleted = 0")" = 5 ] && ok "the period schedule was changed, not replaced" || bad "schedule $sid"
[ "$(sql "SELECT id FROM tasks WHERE name = 'extract' AND deleted = 0")" = "$eid" ] && \
  [ "$(sql "SELECT params FROM tasks WHERE id = $eid")" = '{"command":"echo extract2"}' ] \
  && ok "extract's command was changed in place (still a node of etl)" || bad "extract: $(sql "SELECT id, params FROM tasks WHERE name = 'extract'")"
[ "$(sql "SELECT COUNT(*) FROM job_deps")" = 0 ] && ok "the dependency is gone" || bad "deps"
[ "$(sql "SELECT deleted FROM tasks WHERE name LIKE 'stray%'")" = 1 ] && ok "stray is removed softly (its history stays)" || bad "stray"
expect_ok "apply it again" norc apply "$WORK/f2.conf" --prune
expect_out "changes nothing" "nothing to change"

# --- a step refused by a plugin stops the run; fixing it and running again converges
cat >"$WORK/f3.conf" <<'EOF'
queues = ( { name = "Reports"; }, { name = "Batch"; } );
tasks = ( { name = "odd"; type = "CommandTask"; params: { command = "true"; colour = "red"; }; } );
EOF
expect_fail "a parameter the plugin refuses stops the run" 1 "stopped at step 1 of 1 \(add odd\): task 'odd': CommandTask has no parameter .*colour" norc apply "$WORK/f3.conf"
sed -i 's/ colour = "red";//' "$WORK/f3.conf"
expect_ok "after the fix it applies" norc apply "$WORK/f3.conf"
expect_out "the rest" "1 change\(s\) made"

# --- harder changes: parameters emptied, a task becoming a job, nested jobs in any order,
# --prune leaving what the file uses, a queue that differs
cat >"$WORK/f4.conf" <<'EOF'
queues = ( { name = "Reports"; }, { name = "Batch"; } );
tasks = ( { name = "odd"; command = "true"; }, { name = "leaf"; command = "true"; } );
jobs = (
  { name = "outer"; fail_fast = true; nodes = ( { name = "i"; task = "inner"; } ); },
  { name = "inner"; nodes = ( { name = "l"; task = "leaf"; } ); }
);
EOF
expect_ok "a job listed before the job it runs" norc apply "$WORK/f4.conf" --prune
[ "$(sql "SELECT COUNT(*) FROM job_nodes n JOIN tasks j ON j.id = n.job_id WHERE j.name = 'outer' AND j.deleted = 0")" = 1 ] \
  && ok "is applied after it" || bad "outer's node"
sed -i 's/ fail_fast = true;//' "$WORK/f4.conf"
expect_ok "fail_fast removed" norc apply "$WORK/f4.conf"
[ "$(sql "SELECT params FROM tasks WHERE name = 'outer' AND deleted = 0")" = '{}' ] && ok "leaves the job without parameters" || bad "outer params: $(sql "SELECT params FROM tasks WHERE name = 'outer'")"
expect_ok "and then" norc apply "$WORK/f4.conf"
expect_out "nothing to change" "nothing to change"
sed -i 's/{ name = "odd"; command = "true"; }, //; s/^jobs = ($/jobs = ( { name = "odd"; nodes = ( { name = "x"; task = "leaf"; } ); },/' "$WORK/f4.conf"
expect_ok "a task that becomes a job" norc apply "$WORK/f4.conf"
expect_out "is replaced" "^replace +odd +its type changed"
[ "$(sql "SELECT type FROM tasks WHERE name = 'odd' AND deleted = 0")" = Job ] && ok "and is a Job now" || bad "odd type"
norc task add dbonly --command true >/dev/null
printf 'jobs = ( { name = "uses"; nodes = ( { name = "d"; task = "dbonly"; } ); } );\n' >"$WORK/f5.conf"
expect_ok "--prune with a job running a task only the database has" norc apply "$WORK/f5.conf" --prune
[ "$(sql "SELECT deleted FROM tasks WHERE name = 'dbonly'")" = 0 ] && ok "keeps that task" || bad "dbonly pruned"
norc queue add Batch >/dev/null 2>&1
printf 'queues = ( { name = "Batch"; type = "SQSQueue"; } );\n' >"$WORK/f6.conf"
expect_fail "a queue that exists with another type is refused" 1 "queue Batch exists as a DBQueue" norc apply "$WORK/f6.conf"
# --- alert rules in the file
A="$WORK/alerts.conf"
cat >"$A" <<'EOF'
queues = ( { name = "Reports"; } );
tasks = (
  { name = "pinger"; command = "true"; run_as = "nobody"; limits = "cpu=1m, files=64";
    alert = { on = "failure,exhausted"; deadline = "45m"; email = [ "ops@example.com", "dba@example.com" ]; }; },
  { name = "capped"; command = "true"; limits = "mem=1G"; },
  { name = "watched"; command = "true"; alert = { no_success = "1d"; webhook = "https://hooks.example.com/x"; }; }
);
EOF
echo 'tasks = ( { name = "a"; command = "x"; alert = { on = "boom"; webhook = "http://h/"; }; } );' | bad_file "an unknown alert event is refused" 'bad.conf:1: a: alert: unknown event "boom"'
echo 'tasks = ( { name = "a"; command = "x"; alert = { on = "failure"; }; } );' | bad_file "an alert without destination is refused" 'a: alert has no destination; give email or webhook'
echo 'tasks = ( { name = "a"; command = "x"; alert = { webhook = "http://h/"; }; } );' | bad_file "an alert watching nothing is refused" 'a: alert watches nothing'
echo 'tasks = ( { name = "a"; command = "x"; alert = { on = "failure"; email = "nobody"; }; } );' | bad_file "a bad address is refused" '"nobody" is not an e-mail address'
echo 'tasks = ( { name = "a"; command = "x"; limits = "cpu=soon"; } );' | bad_file "bad limits are refused" "bad.conf:1: a: limit 'cpu=soon'"
echo 'tasks = ( { name = "a"; command = "x"; run_as = "two words"; } );' | bad_file "a bad run_as is refused" "a: run-as 'two words'"
expect_ok "apply a file with alert rules" norc apply "$A"
[ "$(sql "SELECT run_as, limits FROM tasks WHERE name = 'pinger'" | tr '|\t' '  ')" = "nobody cpu=60,files=64" ] \
  && ok "run_as and limits (normalized) from the file" || bad "run_as/limits: $(sql "SELECT run_as, limits FROM tasks WHERE name = 'pinger'")"
[ "$(sql "SELECT limits FROM tasks WHERE name = 'capped'")" = "mem=1073741824" ] \
  && ok "the next task's limits are its own (nothing carried over)" || bad "capped: $(sql "SELECT limits FROM tasks WHERE name = 'capped'")"
expect_out "it plans the rules" '^add +pinger +alert'
expect_ok "alert show" norc alert show pinger
expect_out "the rule's events" '^on: +failure,exhausted'
expect_out "its deadline" '^deadline: +2700'
expect_out "its addresses, joined" '^email: +ops@example.com,dba@example.com'
expect_ok "apply it again" norc apply "$A"
expect_out "changes nothing" "nothing to change"
sed -i 's/deadline = "45m"/deadline = "1h"/; s/alert = { no_success = "1d"; webhook = "https:\/\/hooks.example.com\/x"; }/alert = { }/' "$A"
expect_ok "a changed deadline and an empty alert group" norc apply "$A"
expect_out "one rule changed" '^change +pinger +alert'
expect_out "one removed" '^change +watched +alert removed'
[ "$(sql "SELECT COUNT(*) FROM task_alerts")" = 1 ] && [ "$(sql "SELECT deadline FROM task_alerts")" = 3600 ] \
  && ok "the database holds the one rule, with the new deadline" || bad "rules: $(sql "SELECT task_id, deadline FROM task_alerts")"
printf 'queues = ( { name = "Reports"; } );\ntasks = ( { name = "pinger"; command = "true"; }, { name = "watched"; command = "true"; } );\n' >"$A"
expect_ok "without --prune a rule the file does not mention stays" norc apply "$A"
[ "$(sql "SELECT COALESCE(run_as, '-'), COALESCE(limits, '-') FROM tasks WHERE name = 'pinger'" | tr -d '|\t')" = "--" ] \
  && ok "run_as and limits gone from the file: cleared" || bad "run_as/limits kept: $(sql "SELECT run_as, limits FROM tasks WHERE name = 'pinger'")"
[ "$(sql "SELECT COUNT(*) FROM task_alerts")" = 1 ] && ok "... it stays" || bad "rule removed without --prune"
expect_ok "with --prune it goes" norc apply "$A" --prune
[ "$(sql "SELECT COUNT(*) FROM task_alerts")" = 0 ] && ok "... it is gone" || bad "rule kept with --prune"
finish
