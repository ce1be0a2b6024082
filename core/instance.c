/*
 * instance.c - see instance.h.
 */
#include "instance.h"
#include "alert.h"
#include "clock.h"
#include "mem.h"
#include "model.h"
#include "queue.h"
#include "log.h"
#include "status.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A task's type and name, for log paths and labels: a burst fires the same tasks again and
 * again, so they are kept per process (a task's id never gets another type or name: removal
 * renames, but a removed task does not fire). */
struct task_names {
	int64_t id;
	char type[65], name[161];
};

static int task_names(struct norc_db *db, int64_t task_id, const struct task_names **out)
{
	static struct task_names cache[128];
	struct task_names *c = &cache[(uint64_t)task_id % 128];
	if (c->id != task_id) {
		struct norc_stmt *st;
		int rc = norc_db_query_row(db, "SELECT type, name FROM tasks WHERE id = ?", task_id,
					   &st);
		if (rc != NORC_OK)
			return rc;
		snprintf(c->type, sizeof(c->type), "%s", norc_stmt_column_text(st, 0));
		snprintf(c->name, sizeof(c->name), "%s", norc_stmt_column_text(st, 1));
		norc_stmt_finalize(st);
		c->id = task_id;
	}
	*out = c;
	return NORC_OK;
}

int norc_instance_insert(struct norc_db *db, struct norc_new_instance *n, int64_t *id)
{
	struct norc_arg a[] = {
		NORC_AI(n->task_id),
		n->schedule_id ? NORC_AI(n->schedule_id) : NORC_AS(NULL),
		NORC_AI(n->fire_time_us),
		NORC_AI(n->queue_id),
		NORC_AI(NORC_ST_CREATED),
		NORC_AI(norc_clock_now_us()),
		NORC_AI(n->attempt ? n->attempt : 1),
		n->previous_id ? NORC_AI(n->previous_id) : NORC_AS(NULL),
		n->retry_at ? NORC_AI(n->retry_at) : NORC_AS(NULL),
		n->job_instance_id ? NORC_AI(n->job_instance_id) : NORC_AS(NULL),
		n->job_node_id ? NORC_AI(n->job_node_id) : NORC_AS(NULL),
	};
	int rc = norc_model_exec(db,
				 "INSERT INTO instances (task_id, schedule_id, fire_time, queue_id, "
				 "status, enqueued, attempt, previous_id, retry_at, job_instance_id, "
				 "job_node_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", a, 11, NULL);
	if (rc != NORC_OK)
		return rc;
	*id = norc_db_last_insert_id(db);
	/* tasks/<Type>/<name>/<name>-<id>, the original's layout */
	char *path = NULL;
	const struct task_names *tn = NULL;
	if (!n->log_prefix || n->label)
		rc = task_names(db, n->task_id, &tn);
	if (rc == NORC_OK && tn) {
		if (!n->log_prefix)
			path = norc_xasprintf("tasks/%s/%s/%s-%" PRId64, tn->type, tn->name, tn->name,
					      *id);
		if (n->label)
			snprintf(n->label, n->labellen, "<Instance #%" PRId64 " of %s %s>", *id,
				 tn->type, tn->name);
	}
	if (rc == NORC_OK && !path)
		path = norc_xasprintf("%s%" PRId64, n->log_prefix, *id);
	if (rc == NORC_OK) {
		struct norc_arg b[] = {NORC_AS(path), NORC_AI(*id)};
		rc = norc_model_exec(db, "UPDATE instances SET log_path = ? WHERE id = ?", b, 2, NULL);
	}
	free(path);
	return rc;
}

int norc_instance_enqueue(struct norc_db *db, struct norc_queue_handle *q, int64_t task_id,
			  int64_t schedule_id, int64_t fire_time_us, int64_t *id, char *err,
			  size_t errlen)
{
	struct norc_new_instance n = {.task_id = task_id, .schedule_id = schedule_id,
				 .fire_time_us = fire_time_us, .queue_id = q->id, .attempt = 1};
	int rc = norc_instance_insert(db, &n, id);
	if (rc == NORC_EEXIST)
		return norc_err_set(err, errlen, rc, "schedule #%" PRId64 " already fired for that "
				    "time", schedule_id);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "instance: %s", norc_db_errmsg(db));
	return q->ops->push(q->h, *id, err, errlen);
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
				   "t.params, COALESCE(i.log_path, ''), t.timeout, t.nice, i.attempt, "
				   "t.overlap, COALESCE(i.job_instance_id, 0), j.log_path, n.name, "
				   "t.run_as, t.limits FROM instances i JOIN tasks t ON t.id = i.task_id LEFT JOIN "
				   "instances j ON j.id = i.job_instance_id LEFT JOIN job_nodes n ON "
				   "n.id = i.job_node_id WHERE i.id = ?",
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
		out->may_hold = norc_stmt_column_int64(st, 10) == 2;
		out->job_instance_id = norc_stmt_column_int64(st, 11);
		if (out->job_instance_id) {
			out->job_log_path = norc_xstrdup(norc_stmt_column_text(st, 12));
			out->node_name = norc_xstrdup(norc_stmt_column_text(st, 13));
		}
		out->run_as = norc_xstrdup(norc_stmt_column_text(st, 14));
		out->limits = norc_xstrdup(norc_stmt_column_text(st, 15));
	}
	norc_stmt_finalize(st);
	return rc;
}

int norc_instance_set_revision(struct norc_db *db, int64_t id, const char *info)
{
	char text[65];
	snprintf(text, sizeof(text), "%s", info);
	norc_text_clip(text, 64);
	struct norc_stmt *st;
	int64_t rev = 0;
	int rc = NORC_OK;
	for (int tries = 0; tries < 2; tries++) { /* a new text: insert; lost a race: read */
		rc = norc_db_prepare(db, "SELECT id FROM revisions WHERE info = ?", &st);
		bool row = false;
		if (rc == NORC_OK && (rc = norc_stmt_bind_text(st, 1, text)) == NORC_OK &&
		    (rc = norc_stmt_step(st, &row)) == NORC_OK && row)
			rev = norc_stmt_column_int64(st, 0);
		norc_stmt_finalize(st);
		if (rc != NORC_OK || rev)
			break;
		struct norc_arg a[] = {NORC_AS(text)};
		rc = norc_model_exec(db, "INSERT INTO revisions (info) VALUES (?)", a, 1, NULL);
		if (rc == NORC_OK) {
			rev = norc_db_last_insert_id(db);
			break;
		}
		if (rc != NORC_EEXIST)
			break;
	}
	if (rc != NORC_OK || !rev)
		return rc != NORC_OK ? rc : NORC_ERR;
	struct norc_arg b[] = {NORC_AI(rev), NORC_AI(id)};
	return norc_model_exec(db, "UPDATE instances SET revision_id = ? WHERE id = ?", b, 2, NULL);
}

void norc_run_info_free(struct norc_run_info *ri)
{
	free(ri->task_name);
	free(ri->task_type);
	free(ri->params_json);
	free(ri->log_path);
	free(ri->job_log_path);
	free(ri->node_name);
	free(ri->run_as);
	free(ri->limits);
	memset(ri, 0, sizeof(*ri));
}

int64_t norc_instance_retry_delay(int attempt, int64_t delay, int64_t max_delay)
{
	int64_t d = delay;
	for (int i = 1; i < attempt && d < max_delay; i++)
		d *= 2;
	return d < max_delay ? d : max_delay;
}

static bool retryable(const struct norc_instance_end *e)
{
	if (e->no_retry)
		return false;
	return e->lost || e->status == NORC_ST_FAILURE || e->status == NORC_ST_TIMEDOUT;
}

/* Inside a transaction: the next attempt of instance id when its task has one left. */
static int create_retry(struct norc_db *db, int64_t id, int64_t *retry_id)
{
	struct norc_stmt *st;
	int rc = norc_db_query_row(db,
				   "SELECT i.task_id, COALESCE(i.schedule_id, 0), COALESCE(i.fire_time,"
				   " 0), COALESCE(i.queue_id, 0), i.attempt, t.retries, t.retry_delay,"
				   " t.retry_max_delay, t.deleted, COALESCE(i.job_instance_id, 0) "
				   "FROM instances i JOIN tasks t ON t.id = i.task_id WHERE i.id = ?",
				   id, &st);
	if (rc != NORC_OK)
		return rc;
	struct norc_new_instance n = {
		.task_id = norc_stmt_column_int64(st, 0),
		.schedule_id = norc_stmt_column_int64(st, 1),
		.fire_time_us = norc_stmt_column_int64(st, 2),
		.queue_id = norc_stmt_column_int64(st, 3),
		.attempt = (int)norc_stmt_column_int64(st, 4) + 1,
		.previous_id = id,
	};
	int64_t retries = norc_stmt_column_int64(st, 5), delay = norc_stmt_column_int64(st, 6),
		max_delay = norc_stmt_column_int64(st, 7);
	bool gone = norc_stmt_column_int64(st, 8) != 0, in_job = norc_stmt_column_int64(st, 9);
	norc_stmt_finalize(st);
	if (gone || in_job || !n.queue_id || n.attempt > retries + 1)
		return NORC_OK; /* removed task, job node (the job retries), or no attempt left */
	int64_t wait = norc_instance_retry_delay(n.attempt - 1, delay, max_delay);
	n.retry_at = norc_clock_now_us() + wait * NORC_US_PER_SEC;
	if (n.retry_at == 0)
		n.retry_at = 1;
	return norc_instance_insert(db, &n, retry_id);
}

/* Serialize, per task, an overlap decision (fire) with the end that may release a held run:
 * on MariaDB (READ COMMITTED) neither would see the other's uncommitted row otherwise. SQLite
 * writers are serialized already. */
static int lock_task(struct norc_db *db, int64_t task_id)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT id FROM tasks WHERE id = ?%s",
		 norc_db_clause(db, NORC_SQL_LOCK_UPDATE));
	int64_t v;
	int rc = norc_db_query_int64(db, sql, &v, 1, task_id);
	return rc == NORC_ENOTFOUND ? NORC_OK : rc;
}

/* The task's oldest run that is not final and not held (index instances_task), or
 * NORC_ENOTFOUND. */
static int active_run(struct norc_db *db, int64_t task_id, int64_t *active)
{
	return norc_db_query_int64(db, "SELECT id FROM instances WHERE task_id = ? AND ended IS "
				   "NULL AND status < ? AND (retry_at IS NULL OR retry_at <> ?) ORDER "
				   "BY id LIMIT 1", active, 3, task_id, (int64_t)NORC_ST_SUCCESS,
				   (int64_t)NORC_INSTANCE_HELD);
}

int norc_instance_release_holds(struct norc_db *db, int *released)
{
	*released = 0;
	int64_t held[64][2];
	int n = 0;
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, "SELECT id, task_id FROM instances WHERE retry_at = ? AND "
				 "ended IS NULL ORDER BY id LIMIT 64", &st);
	if (rc != NORC_OK)
		return rc;
	rc = norc_stmt_bind_int64(st, 1, (int64_t)NORC_INSTANCE_HELD);
	bool row = false;
	while (rc == NORC_OK && n < 64 && (rc = norc_stmt_step(st, &row)) == NORC_OK && row) {
		held[n][0] = norc_stmt_column_int64(st, 0);
		held[n][1] = norc_stmt_column_int64(st, 1);
		n++;
	}
	norc_stmt_finalize(st);
	for (int i = 0; rc == NORC_OK && i < n; i++) {
		int64_t active = 0, changed = 0;
		rc = norc_db_begin_write(db);
		if (rc == NORC_OK)
			rc = lock_task(db, held[i][1]);
		if (rc == NORC_OK)
			rc = active_run(db, held[i][1], &active);
		struct norc_arg a[] = {NORC_AI(norc_clock_now_us()), NORC_AI(held[i][0]),
				       NORC_AI((int64_t)NORC_INSTANCE_HELD)};
		if (rc == NORC_ENOTFOUND) /* nothing runs ahead of it any more: it may go */
			rc = norc_model_exec(db, "UPDATE instances SET retry_at = ?, reason = NULL "
					     "WHERE id = ? AND retry_at = ?", a, 3, &changed);
		if (rc == NORC_OK)
			rc = norc_db_commit(db);
		else
			norc_db_rollback(db);
		*released += (int)changed;
	}
	return rc;
}

int norc_instance_end(struct norc_db *db, int64_t id, const struct norc_instance_end *end,
		      struct norc_instance_after *after)
{
	struct norc_instance_after dummy;
	if (!after)
		after = &dummy;
	memset(after, 0, sizeof(*after));
	bool own = !norc_db_in_tx(db);
	int rc = own ? norc_db_begin_write(db) : NORC_OK;
	if (rc != NORC_OK)
		return rc;
	int64_t n = 0, now = norc_clock_now_us(), job = 0, node = 0;
	char node_name[160] = "?";
	if (!end->not_in_job) { /* a job's node? Its job's rows are locked before its own (job.h) */
		struct norc_stmt *st;
		int64_t outer = 0; /* the job's own job, if it is nested */
		rc = norc_db_query_row(db, "SELECT COALESCE(i.job_instance_id, 0), COALESCE("
				       "i.job_node_id, 0), COALESCE(n.name, '?'), COALESCE("
				       "j.job_instance_id, 0) FROM instances i LEFT JOIN job_nodes n ON "
				       "n.id = i.job_node_id LEFT JOIN instances j ON j.id = "
				       "i.job_instance_id WHERE i.id = ?", id, &st);
		if (rc == NORC_OK) {
			job = norc_stmt_column_int64(st, 0);
			node = norc_stmt_column_int64(st, 1);
			snprintf(node_name, sizeof(node_name), "%s", norc_stmt_column_text(st, 2));
			outer = norc_stmt_column_int64(st, 3);
			norc_stmt_finalize(st);
		}
		if (rc == NORC_ENOTFOUND)
			rc = NORC_OK; /* the UPDATE below changes nothing then */
		if (rc == NORC_OK && job)
			rc = norc_job_lock_chain(db, job, outer);
	}
	char reason[256]; /* the column is VARCHAR(255) */
	if (end->reason) {
		snprintf(reason, sizeof(reason), "%s", end->reason);
		norc_text_clip(reason, 255);
	}
	struct norc_arg a[] = {
		NORC_AI(end->status),
		NORC_AI(now),
		end->exit_code >= 0 ? NORC_AI(end->exit_code) : NORC_AS(NULL),
		end->term_signal ? NORC_AI(end->term_signal) : NORC_AS(NULL),
		NORC_AS(end->reason ? reason : NULL),
		NORC_AI(id),
		NORC_AI(NORC_ST_SUCCESS),
	};
	if (rc == NORC_OK)
		rc = norc_model_exec(db,
				     "UPDATE instances SET status = ?, ended = ?, exit_code = ?, "
				     "term_signal = ?, reason = COALESCE(?, reason), deadline = NULL, "
				     "kill_status = NULL WHERE id = ? AND status < ?", a, 7, &n);
	if (rc == NORC_OK && n == 1 && retryable(end))
		rc = create_retry(db, id, &after->retry_id);
	int64_t alerted = 0;
	if (rc == NORC_OK && n == 1 && norc_status_is_failure(end->status))
		rc = norc_alert_on_end(db, id, end->status, !after->retry_id, now, &alerted);
	if (rc == NORC_OK && n == 1 && !after->retry_id && !end->cannot_hold) {
		/* overlap "queue": the waiting run may go now (not beside a retry) */
		int64_t held = 0, task_id = 0;
		rc = norc_db_query_int64(db, "SELECT CASE WHEN t.overlap = 2 THEN t.id ELSE 0 END "
					 "FROM instances i JOIN tasks t ON t.id = i.task_id WHERE "
					 "i.id = ?", &task_id, 1, id);
		if (rc == NORC_OK && task_id) /* only "queue" tasks ever hold a run */
			rc = lock_task(db, task_id);
		if (rc == NORC_OK && task_id)
			rc = norc_db_query_int64(db, "SELECT h.id FROM instances h JOIN instances i ON "
					 "i.task_id = h.task_id WHERE i.id = ? AND h.retry_at = ?",
					 &held, 2, id, (int64_t)NORC_INSTANCE_HELD);
		if (rc == NORC_ENOTFOUND)
			rc = NORC_OK;
		struct norc_arg b[] = {NORC_AI(now), NORC_AI(held)};
		if (rc == NORC_OK && held)
			rc = norc_model_exec(db, "UPDATE instances SET retry_at = ?, reason = NULL "
					     "WHERE id = ?", b, 2, NULL);
		if (rc == NORC_OK)
			after->released_id = held;
	}
	if (rc == NORC_OK && n == 1 && job) {
		struct norc_job_ended e = {id, node, node_name, end->status};
		rc = norc_job_node_ended(db, job, &e, &after->notes);
	}
	if (rc == NORC_OK && (after->retry_id || alerted)) /* schedulers deliver alerts too */
		after->notes.ring_schedulers = true;
	if (own) {
		if (rc == NORC_OK)
			rc = norc_db_commit(db);
		else
			norc_db_rollback(db);
	}
	if (rc != NORC_OK) {
		norc_job_notes_free(&after->notes);
		memset(after, 0, sizeof(*after));
	} else {
		after->recorded = n == 1;
	}
	if (after == &dummy) /* nobody to write them: at least nothing leaks */
		norc_job_notes_free(&dummy.notes);
	return rc;
}

int norc_instance_fire(struct norc_db *db, struct norc_queue_handle *q, int64_t task_id,
		       int overlap, int64_t schedule_id, int64_t fire_time_us, int64_t *id,
		       enum norc_fire_outcome *outcome, char *label, size_t labellen, char *note,
		       size_t notelen, char *err, size_t errlen)
{
	*outcome = NORC_FIRE_RUN;
	note[0] = '\0';
	label[0] = '\0';
	struct norc_new_instance n = {.task_id = task_id, .schedule_id = schedule_id,
				 .fire_time_us = fire_time_us, .queue_id = q->id, .attempt = 1,
				 .label = label, .labellen = labellen};
	int64_t active = 0, held = 0;
	int rc = NORC_OK;
	if (overlap != 0) { /* index instances_task (task_id, ended) */
		rc = lock_task(db, task_id);
		if (rc == NORC_OK)
			rc = active_run(db, task_id, &active);
		if (rc == NORC_OK && overlap == 2)
			rc = norc_db_query_int64(db, "SELECT id FROM instances WHERE task_id = ? "
						 "AND ended IS NULL AND retry_at = ? LIMIT 1", &held,
						 2, task_id, (int64_t)NORC_INSTANCE_HELD);
		if (rc == NORC_ENOTFOUND)
			rc = NORC_OK;
	}
	if (rc == NORC_OK && active && (overlap == 1 || held)) {
		*outcome = NORC_FIRE_SKIPPED;
		if (held)
			snprintf(note, notelen, "overlap: instance #%" PRId64 " is already waiting "
				 "for instance #%" PRId64 " to end", held, active);
		else
			snprintf(note, notelen, "overlap: instance #%" PRId64 " is still running",
				 active);
	} else if (rc == NORC_OK && active) {
		*outcome = NORC_FIRE_HELD;
		n.retry_at = NORC_INSTANCE_HELD;
		snprintf(note, notelen, "overlap: waits for instance #%" PRId64 " to end", active);
	}
	if (rc == NORC_OK)
		rc = norc_instance_insert(db, &n, id);
	if (rc == NORC_OK && *outcome != NORC_FIRE_RUN) {
		bool skip = *outcome == NORC_FIRE_SKIPPED;
		struct norc_arg a[] = {NORC_AI(skip ? NORC_ST_SKIPPED : NORC_ST_CREATED),
				       skip ? NORC_AI(norc_clock_now_us()) : NORC_AS(NULL),
				       NORC_AS(note), NORC_AI(*id)};
		rc = norc_model_exec(db, "UPDATE instances SET status = ?, ended = ?, reason = ? "
				     "WHERE id = ?", a, 4, NULL);
	}
	if (rc == NORC_EEXIST)
		return norc_err_set(err, errlen, rc, "schedule #%" PRId64 " already fired for that "
				    "time", schedule_id);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "instance: %s", norc_db_errmsg(db));
	return *outcome == NORC_FIRE_RUN ? q->ops->push(q->h, *id, err, errlen) : NORC_OK;
}

int norc_instance_push_retries(struct norc_db *db, int64_t now_us, int limit,
			       struct norc_queue_handle *(*open_queue)(void *ctx, int64_t queue_id),
			       void (*pushed_queue)(void *ctx, int64_t queue_id, int64_t instance_id),
			       void *ctx, int *pushed, int64_t *next_at)
{
	*pushed = 0;
	*next_at = 0;
	static const struct norc_col cols[] = {{"id", NORC_COL_INT},
					       {"retry_at", NORC_COL_INT},
					       {"queue_id", NORC_COL_INT}};
	struct norc_arg lim[] = {NORC_AI(limit + 1)};
	json_t *rows;
	int rc = norc_model_query(db,
				  "SELECT id, retry_at, queue_id FROM instances WHERE retry_at IS NOT "
				  "NULL ORDER BY retry_at LIMIT ?", lim, 1, cols, 3, &rows);
	if (rc != NORC_OK)
		return rc;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t id = json_integer_value(json_object_get(row, "id"));
		int64_t at = json_integer_value(json_object_get(row, "retry_at"));
		int64_t qid = json_integer_value(json_object_get(row, "queue_id"));
		if (at > now_us || *pushed >= limit) {
			*next_at = at;
			break;
		}
		struct norc_queue_handle *q = open_queue(ctx, qid);
		if (!q)
			continue;
		char err[512] = "";
		int64_t n = 0;
		rc = norc_db_begin_write(db);
		struct norc_arg a[] = {NORC_AI(now_us), NORC_AI(id)};
		if (rc == NORC_OK)
			rc = norc_model_exec(db, "UPDATE instances SET retry_at = NULL, enqueued = ? "
					     "WHERE id = ? AND retry_at IS NOT NULL", a, 2, &n);
		if (rc == NORC_OK && n == 1)
			rc = q->ops->push(q->h, id, err, sizeof(err));
		if (rc == NORC_OK)
			rc = norc_db_commit(db);
		else
			norc_db_rollback(db);
		if (rc != NORC_OK) {
			NORC_ERROR("retry <Instance #%" PRId64 ">: cannot push it: %s; trying again "
				   "later", id, err[0] ? err : norc_db_errmsg(db));
			*next_at = now_us + NORC_US_PER_SEC;
			break;
		}
		if (n == 1) {
			(*pushed)++;
			pushed_queue(ctx, qid, id);
		}
	}
	json_decref(rows);
	return rc;
}

int norc_instance_run_now(struct norc_db *db, int64_t task_id, int64_t queue_id, int64_t *id,
			  char *err, size_t errlen)
{
	struct norc_queue_handle *q = NULL;
	err[0] = '\0';
	int rc = norc_queue_open(db, queue_id, &q, err, errlen);
	if (rc != NORC_OK)
		return rc;
	rc = norc_db_begin_write(db);
	if (rc == NORC_OK)
		rc = norc_instance_enqueue(db, q, task_id, 0, norc_clock_now_us(), id, err, errlen);
	if (rc == NORC_OK)
		rc = norc_db_commit(db);
	else
		norc_db_rollback(db);
	norc_queue_close(q);
	if (rc != NORC_OK && !err[0])
		snprintf(err, errlen, "%s", norc_db_errmsg(db));
	return rc;
}
