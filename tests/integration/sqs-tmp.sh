#!/usr/bin/env bash
# sqs-tmp.sh - a private SQS emulator (local-aws-sqs, JSON and query protocols) for the tests,
# on 127.0.0.1 only.
#
#   sqs-tmp.sh start DIR
#       Installs local-aws-sqs@2.0.2 with npm into ${NORC_NPM_DIR:-$HOME/.cache/norc-test-npm}
#       when it is not there yet. That folder is shared with s3-tmp.sh (s3rver): installs are
#       serialised with the same lock file ($NPM_DIR/.lock), and npm keeps the other package
#       (both are in its package.json). Starts the emulator on a free port through
#       local-sqs.mjs (it has no CLI), waits until it answers, then writes DIR/env
#       (shell-sourceable): SQS_ENDPOINT SQS_PID, and prints one line. An emulator left running
#       in DIR by an earlier run is stopped first. It checks no signatures and keeps its queues
#       in memory. Exits non-zero with the reason when node or npm is missing
#       (scripts/install-deps.sh test installs them) or the server does not start.
#   sqs-tmp.sh stop DIR
#       SIGTERM, SIGKILL after 5 s; removes DIR.
#
# Modelled on s3-tmp.sh; shared/reference/env.md 5.3 and 5.5 describe the emulator.
set -euo pipefail

SQS_VERSION=2.0.2
NPM_DIR=${NORC_NPM_DIR:-$HOME/.cache/norc-test-npm}
MARKER=.norc-sqs-tmp
PROG=sqs-tmp.sh
here=$(cd "$(dirname "$0")" && pwd)

usage() { echo "usage: sqs-tmp.sh start DIR | stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi
. "$here/testsrv.sh"

stop_server() { stop_one "$1/sqs.pid" node; }

# Answers an SQS JSON request (ListQueues) with HTTP 200.
answers() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST "http://127.0.0.1:$1/" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.ListQueues' \
    -d '{}' 2>/dev/null | grep -qx 200
}

start() {
  command -v node >/dev/null && command -v npm >/dev/null ||
    { echo "sqs-tmp.sh: node and npm are needed for local-aws-sqs (apt-get install nodejs npm, or scripts/install-deps.sh test)" >&2; exit 1; }
  command -v flock >/dev/null || { echo "sqs-tmp.sh: flock not found (apt-get install util-linux)" >&2; exit 1; }
  command -v curl >/dev/null || { echo "sqs-tmp.sh: curl not found (apt-get install curl)" >&2; exit 1; }
  prepare_dir stop_server
  npm_install local-aws-sqs "$SQS_VERSION"
  local port
  if ! port=$(start_server local-aws-sqs "$dir/sqs.pid" "$dir/sqs.log" node answers \
      node "$here/local-sqs.mjs" "$NPM_DIR" @PORT@); then
    stop_server "$dir"
    exit 1
  fi
  printf 'SQS_ENDPOINT=http://127.0.0.1:%s\nSQS_PID=%s\n' "$port" "$(cat "$dir/sqs.pid")" >"$dir/env.tmp"
  mv -f "$dir/env.tmp" "$dir/env"
  echo "sqs started: local-aws-sqs http://127.0.0.1:$port pid $(cat "$dir/sqs.pid")"
}

case $cmd in
start) start ;;
stop) stop_dir stop_server ;;
*) usage ;;
esac
