/*
 * instance.c - see instance.h.
 */
#include "instance.h"
#include "clock.h"
#include "mem.h"
#include "model.h"
#include "status.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int norc_instance_enqueue(struct norc_db *db, struct norc_queue_handle *q, int64_t task_id,
			  int64_t schedule_id, int64_t fire_time_us, int64_t *id, char *err,
			  size_t errlen)
{
	int64_t now = norc_clock_now_us();
	struct norc_arg a[] = {NORC_AI(task_id), schedule_id ? NORC_AI(schedule_id) : NORC_AS(NULL),
			       NORC_AI(fire_time_us), NORC_AI(q->id), NORC_AI(NORC_ST_CREATED),
			       NORC_AI(now)};
	int rc = norc_model_exec(db,
				 "INSERT INTO instances (task_id, schedule_id, fire_time, queue_id, "
				 "status, enqueued) VALUES (?, ?, ?, ?, ?, ?)", a, 6, NULL);
	if (rc == NORC_EEXIST)
		return norc_err_set(err, errlen, rc, "schedule #%" PRId64 " already fired for that "
				    "time", schedule_id);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "instance: %s", norc_db_errmsg(db));
	*id = norc_db_last_insert_id(db);
	/* tasks/<Type>/<name>/<name>-<id>, the original's layout */
	struct norc_stmt *st;
	char *path = NULL;
	rc = norc_db_query_row(db, "SELECT type, name FROM tasks WHERE id = ?", task_id, &st);
	if (rc == NORC_OK) {
		path = norc_xasprintf("tasks/%s/%s/%s-%" PRId64, norc_stmt_column_text(st, 0),
				      norc_stmt_column_text(st, 1), norc_stmt_column_text(st, 1), *id);
		norc_stmt_finalize(st);
	}
	if (rc == NORC_OK && path) {
		struct norc_arg b[] = {NORC_AS(path), NORC_AI(*id)};
		rc = norc_model_exec(db, "UPDATE instances SET log_path = ? WHERE id = ?", b, 2, NULL);
	}
	free(path);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "instance: %s", norc_db_errmsg(db));
	rc = q->ops->push(q->h, *id, err, errlen);
	return rc;
}

int norc_instance_claim(struct norc_db *db, int64_t id, int64_t executor_id, bool *won)
{
	int64_t n = 0;
	struct norc_arg a[] = {NORC_AI(NORC_ST_RUNNING), NORC_AI(executor_id),
			       NORC_AI(norc_clock_now_us()), NORC_AI(id), NORC_AI(NORC_ST_CREATED)};
	int rc = norc_model_exec(db,
				 "UPDATE instances SET status = ?, executor_id = ?, started = ? "
				 "WHERE id = ? AND status = ?", a, 5, &n);
	*won = rc == NORC_OK && n == 1;
	return rc;
}

int norc_instance_load(struct norc_db *db, int64_t id, struct norc_run_info *out)
{
	memset(out, 0, sizeof(*out));
	struct norc_stmt *st;
	int rc = norc_db_query_row(db,
				   "SELECT i.id, t.id, COALESCE(i.fire_time, 0), t.name, t.type, "
				   "t.params, COALESCE(i.log_path, ''), t.timeout, t.nice, i.attempt "
				   "FROM instances i JOIN tasks t ON t.id = i.task_id WHERE i.id = ?",
				   id, &st);
	if (rc != NORC_OK)
		return rc;
	{
		out->id = norc_stmt_column_int64(st, 0);
		out->task_id = norc_stmt_column_int64(st, 1);
		out->fire_time_us = norc_stmt_column_int64(st, 2);
		out->task_name = norc_xstrdup(norc_stmt_column_text(st, 3));
		out->task_type = norc_xstrdup(norc_stmt_column_text(st, 4));
		out->params_json = norc_xstrdup(norc_stmt_column_text(st, 5));
		out->log_path = norc_xstrdup(norc_stmt_column_text(st, 6));
		out->timeout_s = (int)norc_stmt_column_int64(st, 7);
		out->nice = (int)norc_stmt_column_int64(st, 8);
		out->attempt = (int)norc_stmt_column_int64(st, 9);
	}
	norc_stmt_finalize(st);
	return rc;
}

void norc_run_info_free(struct norc_run_info *ri)
{
	free(ri->task_name);
	free(ri->task_type);
	free(ri->params_json);
	free(ri->log_path);
	memset(ri, 0, sizeof(*ri));
}

int norc_instance_finish(struct norc_db *db, int64_t id, int status, int exit_code,
			 int term_signal)
{
	struct norc_arg a[] = {NORC_AI(status), NORC_AI(norc_clock_now_us()),
			       exit_code >= 0 ? NORC_AI(exit_code) : NORC_AS(NULL),
			       term_signal ? NORC_AI(term_signal) : NORC_AS(NULL), NORC_AI(id)};
	return norc_model_exec(db,
			       "UPDATE instances SET status = ?, ended = ?, exit_code = ?, "
			       "term_signal = ? WHERE id = ?", a, 5, NULL);
}
