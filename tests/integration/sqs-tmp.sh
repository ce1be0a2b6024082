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
here=$(cd "$(dirname "$0")" && pwd)

usage() { echo "usage: sqs-tmp.sh start DIR | stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi

# A directory we may wipe: made by this script, or empty.
ours() { [ -e "$1/$MARKER" ] || [ -z "$(ls -A "$1" 2>/dev/null)" ]; }

# PID is a live (not zombie) node process.
alive() {
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/stat" ] || return 0
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo '?')
  [ "$state" != Z ] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null || echo node) == node* ]]
}

stop_server() {
  local pid
  pid=$(cat "$1/sqs.pid" 2>/dev/null || true)
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f -- "$1/sqs.pid"
}

# A TCP port nobody listens on, below the kernel's ephemeral range.
free_port() {
  local used p
  used=$(ss -ltnH 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' || true)
  for _ in $(seq 1 200); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if [ -n "$used" ]; then
      grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
    elif ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  echo "sqs-tmp.sh: no free TCP port found" >&2
  return 1
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

installed_version() {
  node -p "require('$NPM_DIR/node_modules/local-aws-sqs/package.json').version" 2>/dev/null || true
}

install_sqs() {
  [ "$(installed_version)" = "$SQS_VERSION" ] && return 0
  mkdir -p "$NPM_DIR"
  exec 9>"$NPM_DIR/.lock" # the same lock as s3-tmp.sh: one npm at a time in this folder
  flock -w 600 9 || { echo "sqs-tmp.sh: timeout waiting for the npm lock $NPM_DIR/.lock" >&2; exit 1; }
  if [ "$(installed_version)" != "$SQS_VERSION" ]; then
    echo "sqs-tmp.sh: installing local-aws-sqs@$SQS_VERSION into $NPM_DIR" >&2
    if ! (cd "$NPM_DIR" && { [ -f package.json ] || npm init -y; } &&
          npm install --no-audit --no-fund --save-exact "local-aws-sqs@$SQS_VERSION") \
          >"$dir/npm.log" 2>&1; then
      echo "sqs-tmp.sh: npm install local-aws-sqs@$SQS_VERSION failed (log $dir/npm.log):" >&2
      tail -n 20 "$dir/npm.log" >&2
      exit 1
    fi
  fi
  flock -u 9
  exec 9>&-
}

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
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if ! ours "$dir"; then
    echo "sqs-tmp.sh: refusing to wipe $dir: not empty and not made by this script" >&2
    exit 1
  fi
  stop_server "$dir"
  find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
  : >"$dir/$MARKER"
  install_sqs

  local port pid attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || exit 1
    node "$here/local-sqs.mjs" "$NPM_DIR" "$port" </dev/null >"$dir/sqs.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/sqs.pid"
    for _ in $(seq 1 150); do # up to 15 s
      if listening "$port" && answers "$port"; then
        printf 'SQS_ENDPOINT=http://127.0.0.1:%s\nSQS_PID=%s\n' "$port" "$pid" >"$dir/env.tmp"
        mv -f "$dir/env.tmp" "$dir/env"
        echo "sqs started: local-aws-sqs http://127.0.0.1:$port pid $pid"
        return 0
      fi
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "sqs-tmp.sh: local-aws-sqs did not answer on port $port within 15 s (log $dir/sqs.log)" >&2
      stop_server "$dir"
      exit 1
    fi
    wait "$pid" 2>/dev/null || true
    if grep -q 'EADDRINUSE' "$dir/sqs.log"; then
      echo "sqs-tmp.sh: port $port was taken, trying another (attempt $attempt)" >&2
      continue
    fi
    echo "sqs-tmp.sh: local-aws-sqs exited during startup (log $dir/sqs.log):" >&2
    tail -n 20 "$dir/sqs.log" >&2
    exit 1
  done
  exit 1
}

case $cmd in
start) start ;;
stop)
  [ -d "$dir" ] || exit 0
  dir=$(cd "$dir" && pwd)
  ours "$dir" || { echo "sqs-tmp.sh: refusing to remove $dir: not made by this script" >&2; exit 1; }
  stop_server "$dir"
  rm -rf -- "$dir"
  ;;
*) usage ;;
esac
