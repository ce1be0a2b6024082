#!/usr/bin/env bash
# s3-tmp.sh - a private S3 emulator (s3rver) and SigV4 verifier (sigv4check.py) for the tests,
# both on 127.0.0.1 only.
#
#   s3-tmp.sh start DIR
#       Installs s3rver@3.7.1 with npm into ${NORC_NPM_DIR:-$HOME/.cache/norc-test-npm} when
#       it is not there yet (under a lock: concurrent starts share one install), starts it on
#       a free port with its data in DIR/s3data (credentials S3RVER/S3RVER; it does not check
#       signatures), and the verifier (botocore recomputes every signature; 200 "SIGV4 OK",
#       403 with a diagnosis otherwise) on another. Waits until both answer, then writes
#       DIR/env (shell-sourceable): S3_ENDPOINT S3_PID S3_KEY S3_SECRET SIGV4_ENDPOINT
#       SIGV4_PID SIGV4_KEY SIGV4_SECRET, and prints one line. A pair left running in DIR by
#       an earlier run is stopped first. Exits non-zero with the reason when node, npm or
#       python3-botocore is missing (scripts/install-deps.sh test installs them) or a server
#       does not start.
#   s3-tmp.sh stop DIR
#       SIGTERM both, SIGKILL after 5 s; removes DIR.
#
# Modelled on mariadb-tmp.sh; shared/reference/env.md 5.1 and 5.6 describe both servers.
set -euo pipefail

S3RVER_VERSION=3.7.1
NPM_DIR=${NORC_NPM_DIR:-$HOME/.cache/norc-test-npm}
SIGV4_KEY=AKIDEXAMPLE
SIGV4_SECRET='wJalrXUtnFEMI/K7MDENG+bPxRfi:CYEXAMPLEKEY' # '/', '+' and ':' on purpose
MARKER=.norc-s3-tmp
PROG=s3-tmp.sh
here=$(cd "$(dirname "$0")" && pwd)

usage() { echo "usage: s3-tmp.sh start DIR | stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi
. "$here/testsrv.sh"

stop_servers() {
  stop_one "$1/s3rver.pid" node
  stop_one "$1/sigv4.pid" python3
}

start() {
  command -v node >/dev/null && command -v npm >/dev/null ||
    { echo "s3-tmp.sh: node and npm are needed for s3rver (apt-get install nodejs npm, or scripts/install-deps.sh test)" >&2; exit 1; }
  /usr/bin/python3 -c 'import botocore' 2>/dev/null ||
    { echo "s3-tmp.sh: /usr/bin/python3 cannot import botocore, needed by the SigV4 verifier (apt-get install python3-botocore, or scripts/install-deps.sh test)" >&2; exit 1; }
  command -v flock >/dev/null || { echo "s3-tmp.sh: flock not found (apt-get install util-linux)" >&2; exit 1; }
  prepare_dir stop_servers
  npm_install s3rver "$S3RVER_VERSION"
  mkdir -p "$dir/s3data"

  local s3port sigport
  if ! s3port=$(start_server s3rver "$dir/s3rver.pid" "$dir/s3rver.log" node listening \
      node "$NPM_DIR/node_modules/.bin/s3rver" -d "$dir/s3data" -a 127.0.0.1 -p @PORT@ --silent); then
    stop_servers "$dir"
    exit 1
  fi
  if ! sigport=$(start_server sigv4check "$dir/sigv4.pid" "$dir/sigv4.log" python3 listening \
      /usr/bin/python3 "$here/sigv4check.py" @PORT@ "$SIGV4_KEY" "$SIGV4_SECRET"); then
    stop_servers "$dir"
    exit 1
  fi
  {
    printf 'S3_ENDPOINT=http://127.0.0.1:%s\nS3_PID=%s\nS3_KEY=S3RVER\nS3_SECRET=S3RVER\n' \
      "$s3port" "$(cat "$dir/s3rver.pid")"
    printf 'SIGV4_ENDPOINT=http://127.0.0.1:%s\nSIGV4_PID=%s\nSIGV4_KEY=%s\nSIGV4_SECRET=%q\n' \
      "$sigport" "$(cat "$dir/sigv4.pid")" "$SIGV4_KEY" "$SIGV4_SECRET"
  } >"$dir/env.tmp"
  mv -f "$dir/env.tmp" "$dir/env"
  echo "s3 started: s3rver http://127.0.0.1:$s3port pid $(cat "$dir/s3rver.pid"), sigv4check http://127.0.0.1:$sigport pid $(cat "$dir/sigv4.pid")"
}

case $cmd in
start) start ;;
stop) stop_dir stop_servers ;;
*) usage ;;
esac
