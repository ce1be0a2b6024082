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
here=$(cd "$(dirname "$0")" && pwd)

usage() { echo "usage: s3-tmp.sh start DIR | stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi

# A directory we may wipe: made by this script, or empty.
ours() { [ -e "$1/$MARKER" ] || [ -z "$(ls -A "$1" 2>/dev/null)" ]; }

# PID is a live (not zombie) process whose command starts with COMM.
alive() {
  local pid=$1 comm=$2 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/stat" ] || return 0
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo '?')
  [ "$state" != Z ] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null || echo "$comm") == "$comm"* ]] # python3 is python3.11
}

stop_one() {
  local pidfile=$1 comm=$2 pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if alive "$pid" "$comm"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" "$comm" || break; sleep 0.1; done
    if alive "$pid" "$comm"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f -- "$pidfile"
}

stop_servers() {
  stop_one "$1/s3rver.pid" node
  stop_one "$1/sigv4.pid" python3
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
  echo "s3-tmp.sh: no free TCP port found" >&2
  return 1
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

s3rver_version() {
  node -p "require('$NPM_DIR/node_modules/s3rver/package.json').version" 2>/dev/null || true
}

install_s3rver() {
  [ -x "$NPM_DIR/node_modules/.bin/s3rver" ] && [ "$(s3rver_version)" = "$S3RVER_VERSION" ] &&
    return 0
  mkdir -p "$NPM_DIR"
  exec 9>"$NPM_DIR/.lock"
  flock -w 600 9 || { echo "s3-tmp.sh: timeout waiting for the npm lock $NPM_DIR/.lock" >&2; exit 1; }
  if ! { [ -x "$NPM_DIR/node_modules/.bin/s3rver" ] &&
         [ "$(s3rver_version)" = "$S3RVER_VERSION" ]; }; then
    echo "s3-tmp.sh: installing s3rver@$S3RVER_VERSION into $NPM_DIR" >&2
    if ! (cd "$NPM_DIR" && { [ -f package.json ] || npm init -y; } &&
          npm install --no-audit --no-fund "s3rver@$S3RVER_VERSION") >"$dir/npm.log" 2>&1; then
      echo "s3-tmp.sh: npm install s3rver@$S3RVER_VERSION failed (log $dir/npm.log):" >&2
      tail -n 20 "$dir/npm.log" >&2
      exit 1
    fi
  fi
  flock -u 9
  exec 9>&-
}

# start_server NAME PIDFILE LOG COMM CMD...: on a free port (PORT in CMD is replaced), until it
# answers; prints the port.
start_server() {
  local name=$1 pidfile=$2 log=$3 comm=$4 port pid attempt
  shift 4
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || return 1
    local args=()
    for a in "$@"; do args+=("${a//@PORT@/$port}"); done
    "${args[@]}" </dev/null >"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"
    for _ in $(seq 1 150); do # up to 15 s
      if listening "$port"; then echo "$port"; return 0; fi
      alive "$pid" "$comm" || break
      sleep 0.1
    done
    if alive "$pid" "$comm"; then
      echo "s3-tmp.sh: $name did not answer on port $port within 15 s (log $log)" >&2
      return 1
    fi
    wait "$pid" 2>/dev/null || true
    if grep -q 'EADDRINUSE\|Address already in use' "$log"; then
      echo "s3-tmp.sh: port $port was taken, trying another (attempt $attempt)" >&2
      continue
    fi
    echo "s3-tmp.sh: $name exited during startup (log $log):" >&2
    tail -n 20 "$log" >&2
    return 1
  done
  return 1
}

start() {
  command -v node >/dev/null && command -v npm >/dev/null ||
    { echo "s3-tmp.sh: node and npm are needed for s3rver (apt-get install nodejs npm, or scripts/install-deps.sh test)" >&2; exit 1; }
  /usr/bin/python3 -c 'import botocore' 2>/dev/null ||
    { echo "s3-tmp.sh: /usr/bin/python3 cannot import botocore, needed by the SigV4 verifier (apt-get install python3-botocore, or scripts/install-deps.sh test)" >&2; exit 1; }
  command -v flock >/dev/null || { echo "s3-tmp.sh: flock not found (apt-get install util-linux)" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if ! ours "$dir"; then
    echo "s3-tmp.sh: refusing to wipe $dir: not empty and not made by this script" >&2
    exit 1
  fi
  stop_servers "$dir"
  find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
  : >"$dir/$MARKER"
  install_s3rver
  mkdir -p "$dir/s3data"

  local s3port sigport
  if ! s3port=$(start_server s3rver "$dir/s3rver.pid" "$dir/s3rver.log" node \
      node "$NPM_DIR/node_modules/.bin/s3rver" -d "$dir/s3data" -a 127.0.0.1 -p @PORT@ --silent); then
    stop_servers "$dir"
    exit 1
  fi
  if ! sigport=$(start_server sigv4check "$dir/sigv4.pid" "$dir/sigv4.log" python3 \
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
stop)
  [ -d "$dir" ] || exit 0
  dir=$(cd "$dir" && pwd)
  ours "$dir" || { echo "s3-tmp.sh: refusing to remove $dir: not made by this script" >&2; exit 1; }
  stop_servers "$dir"
  rm -rf -- "$dir"
  ;;
*) usage ;;
esac
