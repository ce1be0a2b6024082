/*
 * control.c - see control.h.
 */
#include "control.h"
#include "daemon.h"
#include "clock.h"
#include "mem.h"
#include "model.h"
#include "status.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	int req;
} names[] = {
	{"stop", NORC_REQ_STOP},     {"kill", NORC_REQ_KILL},     {"pause", NORC_REQ_PAUSE},
	{"resume", NORC_REQ_RESUME}, {"reload", NORC_REQ_RELOAD},
};

int norc_control_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(names[i].name, name) == 0)
			return names[i].req;
	return 0;
}

const char *norc_control_name(int request)
{
	switch (request) {
	case NORC_REQ_STOP: return "STOP";
	case NORC_REQ_KILL: return "KILL";
	case NORC_REQ_PAUSE: return "PAUSE";
	case NORC_REQ_RESUME: return "RESUME";
	case NORC_REQ_RELOAD: return "RELOAD";
	}
	return "UNKNOWN";
}

/* status and pending request of a daemon of that kind */
static int read_daemon(struct norc_db *db, const char *kind, int64_t id, int *status, int *req,
		       int64_t *heartbeat, char *err, size_t errlen)
{
	struct norc_stmt *st;
	int rc = norc_db_query_row(db,
				   "SELECT status, COALESCE(request, 0), COALESCE(heartbeat, 0), kind "
				   "FROM daemons WHERE id = ?", id, &st);
	if (rc == NORC_ENOTFOUND)
		return norc_err_set(err, errlen, rc, "%s #%" PRId64 " does not exist; `norc_reporter` "
				    "lists the daemons", kind, id);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "%s #%" PRId64 ": %s", kind, id,
				    norc_db_errmsg(db));
	*status = (int)norc_stmt_column_int64(st, 0);
	*req = (int)norc_stmt_column_int64(st, 1);
	*heartbeat = norc_stmt_column_int64(st, 2);
	bool same = strcmp(norc_stmt_column_text(st, 3), kind) == 0;
	norc_stmt_finalize(st);
	if (!same)
		return norc_err_set(err, errlen, NORC_ENOTFOUND, "daemon #%" PRId64 " is not a %s",
				    id, kind);
	return NORC_OK;
}

int norc_control_request(struct norc_db *db, const char *kind, int64_t id, int request, bool force,
			 char *err, size_t errlen)
{
	if (request == NORC_REQ_RELOAD && strcmp(kind, "scheduler") != 0)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "an %s takes no RELOAD; it reads its task definitions at each run",
				    kind);
	int status, pending;
	int64_t hb;
	int rc = norc_db_begin_write(db);
	if (rc == NORC_OK)
		rc = read_daemon(db, kind, id, &status, &pending, &hb, err, errlen);
	else
		norc_err_set(err, errlen, rc, "%s", norc_db_errmsg(db));
	if (rc == NORC_OK && norc_status_is_final(status))
		rc = norc_err_set(err, errlen, NORC_EEXIST, "%s #%" PRId64 " has already ended (%s); "
				  "nothing to %s", kind, id, norc_status_name(status),
				  norc_control_name(request));
	if (rc == NORC_OK && pending && pending != request && !force)
		rc = norc_err_set(err, errlen, NORC_EBUSY,
				  "%s #%" PRId64 " has a pending %s request; pass --force to replace "
				  "it", kind, id, norc_control_name(pending));
	if (rc == NORC_OK) {
		struct norc_arg a[] = {NORC_AI(request), NORC_AI(id)};
		rc = norc_model_exec(db, "UPDATE daemons SET request = ? WHERE id = ?", a, 2, NULL);
		if (rc != NORC_OK)
			norc_err_set(err, errlen, rc, "%s", norc_db_errmsg(db));
	}
	if (rc == NORC_OK)
		rc = norc_db_commit(db);
	else
		norc_db_rollback(db);
	return rc;
}

int norc_control_take(struct norc_db *db, int64_t id, int request)
{
	struct norc_arg a[] = {NORC_AI(id), NORC_AI(request)};
	return norc_model_exec(db, "UPDATE daemons SET request = NULL WHERE id = ? AND request = ?",
			       a, 2, NULL);
}

int norc_control_handle(struct norc_db *db, const struct norc_config *cfg, const char *kind,
			int64_t id, char *err, size_t errlen)
{
	int heartbeat_timeout_s = cfg->heartbeat_timeout_s;
	int status, pending;
	int64_t hb;
	int rc = read_daemon(db, kind, id, &status, &pending, &hb, err, errlen);
	if (rc != NORC_OK)
		return rc;
	int64_t now = norc_clock_now_us();
	bool dead = !norc_status_is_final(status) && hb < now - heartbeat_timeout_s * NORC_US_PER_SEC;
	bool failed = status == NORC_ST_ERROR || status == NORC_ST_SUSPENDED;
	if (!dead && !failed)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "%s #%" PRId64 " is %s%s; only a dead or failed daemon can be "
				    "handled", kind, id, norc_status_name(status),
				    norc_status_is_final(status) ? "" : " and alive");
	struct norc_arg a[] = {NORC_AI(NORC_ST_HANDLED), NORC_AI(now), NORC_AI(id), NORC_AI(status)};
	int64_t n = 0, lost = 0;
	rc = norc_db_begin_write(db);
	if (rc == NORC_OK)
		rc = norc_model_exec(db, "UPDATE daemons SET status = ?, ended = COALESCE(ended, ?), "
				     "request = NULL WHERE id = ? AND status = ?", a, 4, &n);
	/* dead but not yet found dead by a live daemon: do the reaper's work now, or its
	 * instances and schedules would stay with a daemon nobody looks at any more */
	struct norc_job_notes notes = {0};
	if (rc == NORC_OK && n == 1 && dead)
		rc = norc_daemon_give_up_work(db, id, strcmp(kind, "executor") == 0, &lost, &notes);
	if (rc == NORC_OK)
		rc = norc_db_commit(db);
	else
		norc_db_rollback(db);
	if (rc == NORC_OK)
		norc_job_notes_flush(cfg, &notes);
	else
		norc_job_notes_free(&notes);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "%s", norc_db_errmsg(db));
	if (n != 1)
		return norc_err_set(err, errlen, NORC_EBUSY, "%s #%" PRId64 " changed meanwhile; "
				    "look again", kind, id);
	return NORC_OK;
}

int norc_control_handle_instance(struct norc_db *db, int64_t id, char *err, size_t errlen)
{
	int64_t st = 0;
	int rc = norc_db_query_int64(db, "SELECT status FROM instances WHERE id = ?", &st, 1, id);
	if (rc == NORC_ENOTFOUND)
		return norc_err_set(err, errlen, rc, "instance #%" PRId64 " does not exist; `norc "
				    "instance list --failed` lists the failed ones", id);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "%s", norc_db_errmsg(db));
	if (!norc_status_is_failure((int)st))
		return norc_err_set(err, errlen, NORC_EINVAL, "instance #%" PRId64 " is %s, not in "
				    "an error state; only a failed instance (ERROR, FAILURE, "
				    "TIMEDOUT, INTERRUPTED) can be handled", id,
				    norc_status_name((int)st));
	int64_t n = 0;
	struct norc_arg a[] = {NORC_AI(NORC_ST_HANDLED), NORC_AI(id), NORC_AI(st)};
	rc = norc_model_exec(db, "UPDATE instances SET status = ? WHERE id = ? AND status = ?", a, 3,
			     &n);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "%s", norc_db_errmsg(db));
	if (n != 1)
		return norc_err_set(err, errlen, NORC_EBUSY, "instance #%" PRId64 " changed "
				    "meanwhile; look again", id);
	return NORC_OK;
}
