/*
 * daemon.c - see daemon.h.
 */
#include "daemon.h"
#include "clock.h"
#include "model.h"
#include "status.h"

#include <norc/version.h>

#include <unistd.h>

int norc_daemon_register(struct norc_db *db, const char *kind, int64_t queue_id, int concurrency,
			 int64_t *id)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	int64_t now = norc_clock_now_us();
	struct norc_arg a[] = {NORC_AS(kind), NORC_AS(host), NORC_AI(getpid()),
			       NORC_AI(NORC_ST_RUNNING), NORC_AI(now), NORC_AI(now),
			       queue_id ? NORC_AI(queue_id) : NORC_AS(NULL), NORC_AI(concurrency),
			       NORC_AS(NORC_VERSION_STRING)};
	int rc = norc_model_exec(db,
				 "INSERT INTO daemons (kind, host, pid, status, heartbeat, started, "
				 "queue_id, concurrency, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				 a, sizeof(a) / sizeof(a[0]), NULL);
	if (rc == NORC_OK)
		*id = norc_db_last_insert_id(db);
	return rc;
}

int norc_daemon_heartbeat(struct norc_db *db, int64_t id, int status, int *request)
{
	struct norc_arg a[] = {NORC_AI(norc_clock_now_us()), NORC_AI(status), NORC_AI(id)};
	int rc = norc_model_exec(db, "UPDATE daemons SET heartbeat = ?, status = ? WHERE id = ?", a,
				 3, NULL);
	*request = 0;
	if (rc != NORC_OK)
		return rc;
	int64_t req = 0;
	rc = norc_db_query_int64(db, "SELECT COALESCE(request, 0) FROM daemons WHERE id = ?", &req,
				 1, id);
	*request = (int)req;
	return rc;
}

int norc_daemon_end(struct norc_db *db, int64_t id, int status)
{
	int64_t now = norc_clock_now_us();
	struct norc_arg a[] = {NORC_AI(status), NORC_AI(now), NORC_AI(now), NORC_AI(id)};
	return norc_model_exec(db,
			       "UPDATE daemons SET status = ?, heartbeat = ?, ended = ? WHERE id = ?",
			       a, 4, NULL);
}
