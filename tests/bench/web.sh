#!/usr/bin/env bash
# web.sh [N] [INSTANCES] - what norc_web costs: with INSTANCES ended instances in the database
# (default 100,000) and one executor, N requests (default 2000) of each kind over one
# keep-alive connection with an API token: the executors report, the failed list, one
# instance log, and /metrics; prints requests/s and p50/p99 latency, and norc_web's RSS
# and CPU while idle. SQLite by default; NORC_BENCH_MARIADB_ENV=<env file> for MariaDB.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-2000}
INST=${2:-100000}
bench_init web
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tok=$("$B/norc" web token bench --role viewer)
token=$(sed -n 's/^token: //p' <<<"$tok")
printf 'web: { listen = "127.0.0.1:%s"; root = "%s/web"; tokens = ( %s ); };\n' "$port" "$bench_root" \
  "$(sed -n 's/^config: //p' <<<"$tok")" >>"$W/n.conf"
# INSTANCES ended instances of task T on executor 1 (1 in 100 failed), in one statement
start_daemon "$B/norc_executor" Q -c 2; epid=$!
wait_for "SELECT COUNT(*) FROM daemons WHERE status = 2" 1
now=$(now_us)
sql "INSERT INTO instances (task_id, status, executor_id, enqueued, started, ended, exit_code, log_path)
     WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < $INST - 1)
     SELECT 1, CASE WHEN i % 100 = 0 THEN 13 ELSE 7 END, 1, $now - ($INST - i) * 1000000,
            $now - ($INST - i) * 1000000 + 1000, $now - ($INST - i) * 1000000 + 3000,
            CASE WHEN i % 100 = 0 THEN 1 ELSE 0 END, 'x/bench' FROM s"
iid=$(sql "SELECT MAX(id) FROM instances")
mkdir -p "$W/log/x"; seq 1 200 | sed 's/^/log line /' >"$W/log/x/bench"
start_daemon "$B/norc_web"; wpid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
rss0=$(rss_kb "$wpid")
python3 - "$port" "$token" "$N" "$iid" <<'PY'
import http.client, sys, time
port, token, n, iid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer " + token}
print("| request (%d each, one keep-alive connection) | requests/s | p50 | p99 |" % n)
print("| --- | --- | --- | --- |")
for path in ["/api/executors?since=1d", "/api/failed?since=all", "/api/instances?executor=1&status=failed",
             "/api/logs/instance/" + iid, "/metrics"]:
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        s = time.perf_counter()
        c.request("GET", path, headers=h)
        r = c.getresponse(); r.read()
        if r.status != 200:
            sys.exit("GET %s: HTTP %d" % (path, r.status))
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    lat.sort()
    print("| GET %s | %.0f | %.2f ms | %.2f ms |" % (path, n / total, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3))
PY
hz=$(getconf CLK_TCK)
c0=$(cpu_ticks "$wpid"); sleep 10; c1=$(cpu_ticks "$wpid")
echo
echo "norc_web ($backend, $INST instances, $(machine)): RSS $((rss0 / 1024)) MB at start, $(( $(rss_kb "$wpid") / 1024 )) MB after the requests; CPU idle over 10 s: $(echo "scale=3; ($c1 - $c0) * 100 / $hz / 10" | bc -l | sed 's/^\./0./') %"
