#!/usr/bin/env bash
# mariadb-tmp.sh - a private throwaway MariaDB server for the tests (no systemd; /etc/mysql is
# never read: every tool gets --no-defaults).
#
#   mariadb-tmp.sh start DIR [PORT|auto|0]
#       PORT 0 (default): unix socket only (--skip-networking); auto: a free 127.0.0.1 port;
#       a number: that port. A server left running in DIR by an earlier run is stopped and DIR
#       is wiped first. The datadir goes to /dev/shm when it exists (starts 2-3x faster); the
#       socket stays in DIR unless that path is too long for a unix socket. Writes DIR/env
#       (MDB_SOCKET, MDB_PORT, MDB_PID; shell-sourceable) and prints one line. Root has an
#       empty password. Exits non-zero with the tail of the server's log when it cannot start.
#   mariadb-tmp.sh stop DIR
#       SIGTERM, wait up to 30 s, SIGKILL; removes DIR and the /dev/shm directory.
#
# Based on the script in shared/reference/env.md section 2. Runs as root (--user=root) or as
# any other user. Extra server options: MARIADB_EXTRA_OPTS="--opt=value ...".
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin # mariadbd lives in /usr/sbin

MARKER=.norc-mariadb-tmp
usage() { echo "usage: mariadb-tmp.sh start DIR [PORT|auto|0] | stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi

# A directory we may wipe: made by this script, or empty.
ours() {
  [ -e "$1/$MARKER" ] || [ -e "$1/mariadbd.bgpid" ] || [ -z "$(ls -A "$1" 2>/dev/null)" ]
}

# PID is a live (not zombie) mariadbd.
alive() {
  local pid=$1 comm state
  kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/stat" ] || return 0
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo '?')
  [ "$state" != Z ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || echo mariadbd)
  [ "$comm" = mariadbd ] || [ "$comm" = mysqld ]
}

# Stop the server recorded in DIR (if any) and remove its directory outside DIR.
stop_server() {
  local d=$1 pid extra
  pid=$(cat "$d/mariadbd.bgpid" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  extra=$(cat "$d/shmdir" 2>/dev/null || true)
  case $extra in */norc-mdb.*) rm -rf -- "$extra" ;; esac
  rm -f -- "$d/shmdir" "$d/mariadbd.bgpid"
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
  echo "mariadb-tmp.sh: no free TCP port found" >&2
  return 1
}

start() {
  local port=${1:-0} auto=0 base="" data sock pid attempt user_opt net_opt
  case $port in
  auto) auto=1 ;;
  '' | *[!0-9]*) usage ;;
  esac
  for tool in mariadbd mariadb-install-db mariadb-admin; do
    command -v "$tool" >/dev/null ||
      { echo "mariadb-tmp.sh: $tool not found (apt-get install mariadb-server)" >&2; exit 1; }
  done
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if ! ours "$dir"; then
    echo "mariadb-tmp.sh: refusing to wipe $dir: not empty and not made by this script" >&2
    exit 1
  fi
  stop_server "$dir"
  find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
  : >"$dir/$MARKER"

  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    base=$(mktemp -d /dev/shm/norc-mdb.XXXXXX)
    echo "$base" >"$dir/shmdir"
  fi
  data=${base:-$dir}/data
  sock=$dir/mysqld.sock
  if [ ${#sock} -ge 100 ] || [[ $sock =~ [^A-Za-z0-9/._-] ]]; then
    if [ -z "$base" ]; then
      base=$(mktemp -d /tmp/norc-mdb.XXXXXX)
      echo "$base" >"$dir/shmdir"
    fi
    sock=$base/mysqld.sock
  fi

  user_opt=()
  [ "$(id -u)" = 0 ] && user_opt=(--user=root) # mariadbd refuses to run as root otherwise
  if ! mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
      --datadir="$data" "${user_opt[@]}" >"$dir/install.log" 2>&1; then
    echo "mariadb-tmp.sh: mariadb-install-db failed:" >&2
    tail -n 20 "$dir/install.log" >&2
    stop_server "$dir"
    exit 1
  fi

  for attempt in 1 2 3 4 5; do
    if [ "$auto" = 1 ] && ! port=$(free_port); then break; fi
    net_opt=(--skip-networking)
    [ "$port" != 0 ] && net_opt=(--bind-address=127.0.0.1 --port="$port")
    : >"$dir/error.log" # this attempt's messages only
    # shellcheck disable=SC2086 # MARIADB_EXTRA_OPTS is a list of options
    mariadbd --no-defaults "${user_opt[@]}" --datadir="$data" --socket="$sock" \
      --pid-file="$dir/mysqld.pid" "${net_opt[@]}" --log-error="$dir/error.log" \
      --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --key-buffer-size=1M \
      --innodb-flush-log-at-trx-commit=2 --performance-schema=OFF --skip-name-resolve \
      --max-connections=200 ${MARIADB_EXTRA_OPTS:-} </dev/null >/dev/null 2>&1 &
    pid=$!
    echo "$pid" >"$dir/mariadbd.bgpid"
    for _ in $(seq 1 600); do # up to 60 s
      if [ -S "$sock" ] && mariadb-admin --no-defaults --connect-timeout=5 --socket="$sock" \
        -uroot ping >/dev/null 2>&1; then
        printf 'MDB_SOCKET=%s\nMDB_PORT=%s\nMDB_PID=%s\n' "$sock" "$port" "$pid" >"$dir/env.tmp"
        mv -f "$dir/env.tmp" "$dir/env"
        echo "mariadb started: socket=$sock port=$port pid=$pid"
        exit 0
      fi
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "mariadb-tmp.sh: timeout waiting for mariadbd (log $dir/error.log):" >&2
      break
    fi
    wait "$pid" 2>/dev/null || true
    if [ "$auto" = 1 ] &&
      grep -q 'Bind on TCP/IP port\|already have another server' "$dir/error.log"; then
      echo "mariadb-tmp.sh: port $port was taken, trying another (attempt $attempt)" >&2
      continue
    fi
    echo "mariadb-tmp.sh: mariadbd exited during startup (log $dir/error.log):" >&2
    break
  done
  tail -n 20 "$dir/error.log" >&2 2>/dev/null || true
  stop_server "$dir"
  exit 1
}

case $cmd in
start) start "${3:-0}" ;;
stop)
  [ -d "$dir" ] || exit 0
  dir=$(cd "$dir" && pwd)
  ours "$dir" ||
    { echo "mariadb-tmp.sh: refusing to remove $dir: not made by this script" >&2; exit 1; }
  stop_server "$dir"
  rm -rf -- "$dir"
  ;;
*) usage ;;
esac
