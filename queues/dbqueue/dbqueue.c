/*
 * dbqueue.c - DBQueue: a FIFO queue in the Norc database (table dbqueue_items).
 *
 * Uses only the host's norc_db calls, so the same SQL runs on SQLite and MariaDB. Pop is
 * atomic across hosts: the head row is selected with the backend's lock clause (MariaDB:
 * FOR UPDATE SKIP LOCKED, so concurrent executors take different rows without waiting;
 * SQLite: the caller's write transaction holds the database lock) and deleted in the same
 * transaction; the delete's row count confirms the item was ours. Built with the public SDK
 * only, exactly like a third-party plugin.
 */
#include <norc/queue.h>

#include <stdio.h>
#include <string.h>

static const struct norc_host_api *api;
static struct norc_host *host;

struct dbq {
	int64_t id;
};

static int dbq_init(struct norc_host *h, const struct norc_host_api *a, void **state, char *err,
		    size_t errlen)
{
	(void)err;
	(void)errlen;
	api = a;
	host = h;
	*state = NULL;
	return NORC_OK;
}

static int dberr(struct norc_db *db, int rc, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "DBQueue %s: %s", what, api->db_errmsg(db));
	return rc;
}

static int dbq_validate(void *state, const struct norc_params *params, char *err, size_t errlen)
{
	(void)state;
	if (api->param_count(params) > 0) {
		snprintf(err, errlen, "DBQueue takes no parameters (got '%s')",
			 api->param_key(params, 0));
		return NORC_EINVAL;
	}
	return NORC_OK;
}

static int dbq_open(void *state, const struct norc_queue_ref *ref, void **handle, char *err,
		    size_t errlen)
{
	(void)state;
	(void)err;
	(void)errlen;
	struct dbq *q = api->alloc(sizeof(*q));
	q->id = ref->id;
	*handle = q;
	return NORC_OK;
}

static void dbq_close(void *handle) { api->free(handle); }

/* Run sql with the queue id (and optionally a second int) bound; *col0 gets column 0 of the first
 * row when wanted. */
static int run(struct dbq *q, const char *sql, int nargs, int64_t arg2, int64_t *col0,
	       int64_t *changes, char *err, size_t errlen, const char *what)
{
	struct norc_db *db = api->db(host);
	if (!db)
		return snprintf(err, errlen, "DBQueue: no database connection"), NORC_EDB;
	struct norc_stmt *st;
	int rc = api->db_prepare(db, sql, &st);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, what);
	api->db_bind_int64(st, 1, q->id);
	if (nargs > 1)
		api->db_bind_int64(st, 2, arg2);
	bool row = false;
	rc = api->db_step(st, &row);
	if (rc == NORC_OK && col0) {
		if (row)
			*col0 = api->db_column_int64(st, 0);
		else
			rc = NORC_EAGAIN;
	}
	if (rc == NORC_OK && changes)
		*changes = api->db_changes(st);
	api->db_finalize(st);
	if (rc != NORC_OK && rc != NORC_EAGAIN)
		return dberr(db, rc, err, errlen, what);
	return rc;
}

static int dbq_push(void *handle, int64_t instance_id, char *err, size_t errlen)
{
	struct norc_db *db = api->db(host);
	if (!db)
		return snprintf(err, errlen, "DBQueue: no database connection"), NORC_EDB;
	struct norc_stmt *st;
	int rc = api->db_prepare(db,
				 "INSERT INTO dbqueue_items (queue_id, instance_id, enqueued) "
				 "VALUES (?, ?, ?)", &st);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, "push");
	api->db_bind_int64(st, 1, ((struct dbq *)handle)->id);
	api->db_bind_int64(st, 2, instance_id);
	api->db_bind_int64(st, 3, api->now_us());
	bool row;
	rc = api->db_step(st, &row);
	api->db_finalize(st);
	return rc == NORC_OK ? rc : dberr(db, rc, err, errlen, "push");
}

static int head(struct dbq *q, bool lock, int64_t *item, int64_t *instance, char *err,
		size_t errlen)
{
	struct norc_db *db = api->db(host);
	if (!db)
		return snprintf(err, errlen, "DBQueue: no database connection"), NORC_EDB;
	char sql[200];
	snprintf(sql, sizeof(sql),
		 "SELECT id, instance_id FROM dbqueue_items WHERE queue_id = ? ORDER BY id LIMIT 1%s",
		 lock ? api->db_clause(db, NORC_SQL_LOCK_SKIP) : "");
	struct norc_stmt *st;
	int rc = api->db_prepare(db, sql, &st);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, "pop");
	api->db_bind_int64(st, 1, q->id);
	bool row = false;
	rc = api->db_step(st, &row);
	if (rc == NORC_OK && row) {
		*item = api->db_column_int64(st, 0);
		*instance = api->db_column_int64(st, 1);
	} else if (rc == NORC_OK) {
		rc = NORC_EAGAIN;
	}
	api->db_finalize(st);
	if (rc != NORC_OK && rc != NORC_EAGAIN)
		return dberr(db, rc, err, errlen, "pop");
	return rc;
}

static int dbq_pop(void *handle, int64_t *instance_id, char *err, size_t errlen)
{
	struct dbq *q = handle;
	int64_t item, inst, changes = 0;
	int rc = head(q, true, &item, &inst, err, errlen);
	if (rc != NORC_OK)
		return rc;
	rc = run(q, "DELETE FROM dbqueue_items WHERE queue_id = ? AND id = ?", 2, item, NULL,
		 &changes, err, errlen, "pop");
	if (rc != NORC_OK)
		return rc;
	if (changes != 1)
		return NORC_EBUSY; /* someone else took it: the caller pops again */
	*instance_id = inst;
	return NORC_OK;
}

static int dbq_peek(void *handle, int64_t *instance_id, char *err, size_t errlen)
{
	int64_t item;
	return head(handle, false, &item, instance_id, err, errlen);
}

static int dbq_count(void *handle, int64_t *n, char *err, size_t errlen)
{
	return run(handle, "SELECT COUNT(*) FROM dbqueue_items WHERE queue_id = ?", 1, 0, n, NULL,
		   err, errlen, "count");
}

static int dbq_clear(void *handle, int64_t *removed, char *err, size_t errlen)
{
	return run(handle, "DELETE FROM dbqueue_items WHERE queue_id = ?", 1, 0, NULL, removed,
		   err, errlen, "clear");
}

static const struct norc_queue_ops dbq_ops = {
	.struct_size = sizeof(struct norc_queue_ops),
	.validate = dbq_validate,
	.open = dbq_open,
	.close = dbq_close,
	.push = dbq_push,
	.pop = dbq_pop,
	.peek = dbq_peek,
	.count = dbq_count,
	.clear = dbq_clear,
};

NORC_PLUGIN_DEFINE(NORC_KIND_QUEUE, 0, "DBQueue", "1.0", "FIFO queue in the Norc database",
		   dbq_init, NULL, &dbq_ops);
