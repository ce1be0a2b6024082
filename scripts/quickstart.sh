#!/usr/bin/env bash
# quickstart.sh: install what is needed, build, and set up a single-host Norc on the embedded
# SQLite database with the original's demo: a DBQueue, a CommandTask and a schedule that runs
# it every 5 seconds, 5 times. State goes to var/ (conf/norc.conf).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh build
./scripts/build.sh build
export NORC_CONFIG=$PWD/conf/norc.conf
norc=build/bin/norc
$norc init
$norc queue list | grep -q '^[0-9]* *DemoQueue ' || $norc queue add DemoQueue
if ! $norc task list | grep -q '^[0-9]* *DemoTask '; then
  $norc task add DemoTask --command "echo 'Demo successful!'"
  $norc schedule add DemoTask --queue DemoQueue --period 5 --reps 5
fi
$norc plugins
echo
$norc task list
echo
$norc schedule list
echo
echo "Norc is set up in var/ (config: conf/norc.conf; try: export NORC_CONFIG=$NORC_CONFIG)."
echo "The daemons that fire and run these schedules (norc_scheduler, norc_executor) are the next"
echo "milestone; see README.md."
