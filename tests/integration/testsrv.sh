# testsrv.sh - sourced by s3-tmp.sh and sqs-tmp.sh: what their private test servers share.
# The caller sets PROG (for messages), MARKER (the file that says a folder is ours), NPM_DIR
# (the shared npm folder) and dir (the server's folder, for logs).

# A folder we may wipe: made by this script, or empty.
ours() { [ -e "$1/$MARKER" ] || [ -z "$(ls -A "$1" 2>/dev/null)" ]; }

# alive PID COMM: a live (not zombie) process whose command starts with COMM.
alive() {
  local pid=$1 comm=$2 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/stat" ] || return 0
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo '?')
  [ "$state" != Z ] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null || echo "$comm") == "$comm"* ]] # python3 is python3.11
}

# stop_one PIDFILE COMM: SIGTERM, SIGKILL after 5 s; removes PIDFILE.
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
  echo "$PROG: no free TCP port found" >&2
  return 1
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

npm_version() {
  node -p "require('$NPM_DIR/node_modules/$1/package.json').version" 2>/dev/null || true
}

# npm_install PACKAGE VERSION: into NPM_DIR when that version is not there, one npm at a time
# (a lock shared by every script using this folder; npm keeps the other packages).
npm_install() {
  local pkg=$1 version=$2
  [ "$(npm_version "$pkg")" = "$version" ] && return 0
  mkdir -p "$NPM_DIR"
  exec 9>"$NPM_DIR/.lock"
  flock -w 600 9 || { echo "$PROG: timeout waiting for the npm lock $NPM_DIR/.lock" >&2; exit 1; }
  if [ "$(npm_version "$pkg")" != "$version" ]; then
    echo "$PROG: installing $pkg@$version into $NPM_DIR" >&2
    if ! (cd "$NPM_DIR" && { [ -f package.json ] || npm init -y; } &&
          npm install --no-audit --no-fund --save-exact "$pkg@$version") >"$dir/npm.log" 2>&1; then
      echo "$PROG: npm install $pkg@$version failed (log $dir/npm.log):" >&2
      tail -n 20 "$dir/npm.log" >&2
      exit 1
    fi
  fi
  flock -u 9
  exec 9>&-
}

# start_server NAME PIDFILE LOG COMM READY CMD...: CMD on a free port (@PORT@ in CMD is
# replaced), until `READY PORT` succeeds (use listening for "accepts connections"); retries
# another port when the chosen one was taken. Prints the port.
start_server() {
  local name=$1 pidfile=$2 log=$3 comm=$4 ready=$5 port pid attempt
  shift 5
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || return 1
    local args=()
    for a in "$@"; do args+=("${a//@PORT@/$port}"); done
    "${args[@]}" </dev/null >"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"
    for _ in $(seq 1 150); do # up to 15 s
      if listening "$port" && "$ready" "$port"; then echo "$port"; return 0; fi
      alive "$pid" "$comm" || break
      sleep 0.1
    done
    if alive "$pid" "$comm"; then
      echo "$PROG: $name did not answer on port $port within 15 s (log $log)" >&2
      return 1
    fi
    wait "$pid" 2>/dev/null || true
    if grep -q 'EADDRINUSE\|Address already in use' "$log"; then
      echo "$PROG: port $port was taken, trying another (attempt $attempt)" >&2
      continue
    fi
    echo "$PROG: $name exited during startup (log $log):" >&2
    tail -n 20 "$log" >&2
    return 1
  done
  return 1
}

# prepare_dir: make dir ours and empty (stopping what an earlier run left with STOP_FN).
prepare_dir() {
  local stop_fn=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if ! ours "$dir"; then
    echo "$PROG: refusing to wipe $dir: not empty and not made by this script" >&2
    exit 1
  fi
  "$stop_fn" "$dir"
  find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
  : >"$dir/$MARKER"
}

# stop_dir STOP_FN: the `stop` command.
stop_dir() {
  local stop_fn=$1
  [ -d "$dir" ] || exit 0
  dir=$(cd "$dir" && pwd)
  ours "$dir" || { echo "$PROG: refusing to remove $dir: not made by this script" >&2; exit 1; }
  "$stop_fn" "$dir"
  rm -rf -- "$dir"
}
