#!/usr/bin/env bash
# mariadb-tmp.sh start DIR [PORT|auto|0]  -> a private throwaway MariaDB server (no systemd,
#   ignores /etc/mysql). PORT 0 (default): unix socket only; auto: a free 127.0.0.1 port.
#   The datadir goes to /dev/shm when it exists (starts 2-3x faster). Writes DIR/env with
#   MDB_SOCKET, MDB_PORT and MDB_PID (shell-sourceable). Root has an empty password.
# mariadb-tmp.sh stop DIR  -> SIGTERM, wait up to 30 s, SIGKILL, remove everything.
# Based on ../shared/reference/env.md section 2 (always --no-defaults; --user=root as root).
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin   # mariadbd lives in /usr/sbin
cmd=${1:?start|stop}
dir=${2:?dir}

stop() {
  [ -d "$dir" ] || return 0
  local pid data
  pid=$(cat "$dir/mariadbd.bgpid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
  fi
  data=$(cat "$dir/shmdir" 2>/dev/null || true)
  [ -n "$data" ] && rm -rf "$data"
  rm -rf "$dir"
}

free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port found" >&2; return 1
}

case "$cmd" in
start)
  command -v mariadbd >/dev/null || { echo "mariadbd not found: run scripts/install-deps.sh test" >&2; exit 1; }
  port=${3:-0}
  [ "$port" = auto ] && port=$(free_port)
  stop                       # a leftover server from an earlier run in the same DIR
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    base=$(mktemp -d /dev/shm/norc-mdb.XXXXXX); echo "$base" >"$dir/shmdir"
  else
    base=$dir
  fi
  sock=$dir/mysqld.sock
  [ ${#sock} -ge 100 ] && sock=$base/mysqld.sock      # unix socket paths must stay short
  user_opt=(); [ "$(id -u)" = 0 ] && user_opt=(--user=root)
  mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
      --datadir="$base/data" "${user_opt[@]}" >"$dir/install.log" 2>&1 \
      || { echo "mariadb-install-db failed" >&2; tail -20 "$dir/install.log" >&2; exit 1; }
  net_opt=(--skip-networking)
  [ "$port" != 0 ] && net_opt=(--bind-address=127.0.0.1 --port="$port")
  mariadbd --no-defaults "${user_opt[@]}" --datadir="$base/data" --socket="$sock" \
      --pid-file="$dir/mysqld.pid" "${net_opt[@]}" --log-error="$dir/error.log" \
      --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --key-buffer-size=1M \
      --performance-schema=OFF --skip-name-resolve --max-connections=200 \
      --innodb-flush-log-at-trx-commit=2 ${MARIADB_EXTRA_OPTS:-} </dev/null >/dev/null 2>&1 &
  pid=$!; echo "$pid" >"$dir/mariadbd.bgpid"
  for _ in $(seq 1 300); do
    if mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1; then
      printf 'MDB_SOCKET=%s\nMDB_PORT=%s\nMDB_PID=%s\n' "$sock" "$port" "$pid" >"$dir/env"
      echo "mariadb started: socket=$sock port=$port pid=$pid"; exit 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "mariadbd exited during startup" >&2; tail -20 "$dir/error.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "timeout waiting for mariadbd" >&2; tail -20 "$dir/error.log" >&2
  kill -KILL "$pid" 2>/dev/null || true; exit 1 ;;
stop) stop ;;
*) echo "usage: mariadb-tmp.sh start DIR [PORT|auto|0] | stop DIR" >&2; exit 2 ;;
esac
