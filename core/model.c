/*
 * model.c - see model.h.
 */
#include "model.h"
#include "instance.h"
#include "clock.h"
#include "mem.h"
#include "status.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int bind_args(struct norc_stmt *st, const struct norc_arg *args, size_t nargs)
{
	int rc = NORC_OK;
	for (size_t i = 0; i < nargs && rc == NORC_OK; i++) {
		int idx = (int)i + 1;
		switch (args[i].kind) {
		case NORC_ARG_NULL: rc = norc_stmt_bind_null(st, idx); break;
		case NORC_ARG_INT: rc = norc_stmt_bind_int64(st, idx, args[i].i); break;
		case NORC_ARG_TEXT: rc = norc_stmt_bind_text(st, idx, args[i].s); break;
		}
	}
	return rc;
}

static json_t *column_json(struct norc_stmt *st, int c, enum norc_col_type t)
{
	if (norc_stmt_column_is_null(st, c))
		return json_null();
	char buf[40];
	switch (t) {
	case NORC_COL_INT: return json_integer(norc_stmt_column_int64(st, c));
	case NORC_COL_TEXT: return json_string(norc_stmt_column_text(st, c));
	case NORC_COL_BOOL: return json_boolean(norc_stmt_column_int64(st, c) != 0);
	case NORC_COL_STATUS: return json_string(norc_status_name((int)norc_stmt_column_int64(st, c)));
	case NORC_COL_TIME:
		norc_clock_format(norc_stmt_column_int64(st, c), buf, sizeof(buf));
		return json_string(buf);
	}
	return json_null();
}

int norc_model_query(struct norc_db *db, const char *sql, const struct norc_arg *args,
		     size_t nargs, const struct norc_col *cols, size_t ncols, json_t **rows)
{
	*rows = NULL;
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, sql, &st);
	if (rc != NORC_OK)
		return rc;
	rc = bind_args(st, args, nargs);
	json_t *arr = json_array();
	bool row = true;
	while (rc == NORC_OK && (rc = norc_stmt_step(st, &row)) == NORC_OK && row) {
		json_t *o = json_object();
		for (size_t c = 0; c < ncols; c++)
			json_object_set_new(o, cols[c].key, column_json(st, (int)c, cols[c].type));
		json_array_append_new(arr, o);
	}
	norc_stmt_finalize(st);
	if (rc != NORC_OK) {
		json_decref(arr);
		return rc;
	}
	*rows = arr;
	return NORC_OK;
}

int norc_model_exec(struct norc_db *db, const char *sql, const struct norc_arg *args,
		    size_t nargs, int64_t *changes)
{
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, sql, &st);
	if (rc != NORC_OK)
		return rc;
	rc = bind_args(st, args, nargs);
	bool row;
	if (rc == NORC_OK)
		rc = norc_stmt_step(st, &row);
	if (rc == NORC_OK && changes)
		*changes = norc_stmt_changes(st);
	norc_stmt_finalize(st);
	return rc;
}

#define NARGS(a) (sizeof(a) / sizeof((a)[0]))

static int dberr(struct norc_db *db, int rc, char *err, size_t errlen, const char *what)
{
	return norc_err_set(err, errlen, rc, "%s: %s", what, norc_db_errmsg(db));
}

int norc_model_check_name(const char *kind, const char *name, size_t max, char *err,
			  size_t errlen)
{
	size_t n = name ? strlen(name) : 0;
	bool digits = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			return norc_err_set(err, errlen, NORC_EINVAL,
					    "%s name '%s': character '%c' is not allowed; use "
					    "letters, digits, '_', '-' and '.'", kind, name, c);
		if (!isdigit(c))
			digits = false;
	}
	if (n == 0 || n > max)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "%s name '%s' must be 1 to %zu characters long", kind,
				    name ? name : "", max);
	if (digits)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "%s name '%s' is only digits, which would be read as an id; "
				    "add a letter", kind, name);
	if (!isalnum((unsigned char)name[0]) && name[0] != '_')
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "%s name '%s' must start with a letter, digit or '_'", kind, name);
	return NORC_OK;
}

/* Parse "42" or "#42" as an id; false for names. */
static bool ref_id(const char *ref, int64_t *id)
{
	const char *p = ref[0] == '#' ? ref + 1 : ref;
	if (!*p)
		return false;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return false;
	*id = strtoll(p, NULL, 10);
	return true;
}

static int find(struct norc_db *db, const char *kind, const char *by_id, const char *by_name,
		const char *hint, const char *ref, int64_t *id, char *err, size_t errlen)
{
	int64_t want;
	int rc;
	if (ref_id(ref, &want))
		rc = norc_db_query_int64(db, by_id, id, 1, want);
	else {
		struct norc_stmt *st;
		rc = norc_db_prepare(db, by_name, &st);
		if (rc == NORC_OK) {
			bool row = false;
			norc_stmt_bind_text(st, 1, ref);
			rc = norc_stmt_step(st, &row);
			if (rc == NORC_OK && !row)
				rc = NORC_ENOTFOUND;
			if (rc == NORC_OK)
				*id = norc_stmt_column_int64(st, 0);
			norc_stmt_finalize(st);
		}
	}
	if (rc == NORC_ENOTFOUND)
		return norc_err_set(err, errlen, rc, "%s '%s' does not exist; %s", kind, ref, hint);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, kind);
	return NORC_OK;
}

int norc_model_task_find(struct norc_db *db, const char *ref, int64_t *id, char *err, size_t errlen)
{
	return find(db, "task", "SELECT id FROM tasks WHERE id = ? AND deleted = 0",
		    "SELECT id FROM tasks WHERE name = ? AND deleted = 0",
		    "`norc task list` shows the tasks, `norc task add` creates one", ref, id, err,
		    errlen);
}

int norc_model_queue_find(struct norc_db *db, const char *ref, int64_t *id, char *err, size_t errlen)
{
	return find(db, "queue", "SELECT id FROM queues WHERE id = ? AND deleted = 0",
		    "SELECT id FROM queues WHERE name = ? AND deleted = 0",
		    "`norc queue list` shows the queues, `norc queue add` creates one", ref, id, err,
		    errlen);
}

static int insert(struct norc_db *db, const char *sql, const struct norc_arg *args, size_t n,
		  int64_t *id)
{
	int rc = norc_model_exec(db, sql, args, n, NULL);
	if (rc == NORC_OK && id)
		*id = norc_db_last_insert_id(db);
	return rc;
}

/* ---- queues ---- */

int norc_model_queue_add(struct norc_db *db, const char *name, const char *type,
			 const char *params_json, int64_t *id, char *err, size_t errlen)
{
	int rc = norc_model_check_name("queue", name, 64, err, errlen);
	if (rc != NORC_OK)
		return rc;
	struct norc_arg a[] = {NORC_AS(name), NORC_AS(type), NORC_AS(params_json),
			       NORC_AI(norc_clock_now_us())};
	rc = insert(db, "INSERT INTO queues (name, type, params, added) VALUES (?, ?, ?, ?)", a,
		    NARGS(a), id);
	if (rc == NORC_EEXIST)
		return norc_err_set(err, errlen, rc,
				    "queue '%s' already exists; pick another name or see "
				    "`norc queue list`", name);
	return rc == NORC_OK ? rc : dberr(db, rc, err, errlen, "queue add");
}

static const struct norc_col queue_cols[] = {
	{"id", NORC_COL_INT}, {"name", NORC_COL_TEXT}, {"type", NORC_COL_TEXT},
	{"params", NORC_COL_TEXT}, {"added", NORC_COL_TIME},
};

int norc_model_queue_list(struct norc_db *db, json_t **rows)
{
	return norc_model_query(db,
				"SELECT id, name, type, params, added FROM queues WHERE deleted = 0 "
				"ORDER BY name", NULL, 0, queue_cols, NARGS(queue_cols), rows);
}

static int get_one(struct norc_db *db, const char *sql, int64_t id, const struct norc_col *cols,
		   size_t ncols, const char *kind, json_t **obj, char *err, size_t errlen)
{
	json_t *rows;
	struct norc_arg a[] = {NORC_AI(id)};
	int rc = norc_model_query(db, sql, a, 1, cols, ncols, &rows);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, kind);
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return norc_err_set(err, errlen, NORC_ENOTFOUND, "%s #%" PRId64 " does not exist",
				    kind, id);
	}
	*obj = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return NORC_OK;
}

int norc_model_queue_get(struct norc_db *db, int64_t id, json_t **obj, char *err, size_t errlen)
{
	return get_one(db, "SELECT id, name, type, params, added FROM queues WHERE id = ?", id,
		       queue_cols, NARGS(queue_cols), "queue", obj, err, errlen);
}

/* Rename a removed row to NAME~ID so the name can be used again ('~' is not allowed in
 * names, so this never clashes). */
static int soft_remove(struct norc_db *db, const char *table, int64_t id)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE %s SET deleted = 1, name = ? WHERE id = ? AND deleted = 0",
		 table);
	char name[64];
	snprintf(name, sizeof(name), "~%" PRId64, id);
	/* The removed row's name becomes NAME~ID; written in C to stay dialect-free. */
	char sel[96];
	snprintf(sel, sizeof(sel), "SELECT name FROM %s WHERE id = ?", table);
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, sel, &st);
	if (rc != NORC_OK)
		return rc;
	norc_stmt_bind_int64(st, 1, id);
	bool row = false;
	char *renamed = NULL;
	if ((rc = norc_stmt_step(st, &row)) == NORC_OK && row)
		renamed = norc_xasprintf("%s%s", norc_stmt_column_text(st, 0), name);
	norc_stmt_finalize(st);
	if (rc != NORC_OK || !renamed)
		return rc != NORC_OK ? rc : NORC_ENOTFOUND;
	struct norc_arg a[] = {NORC_AS(renamed), NORC_AI(id)};
	rc = norc_model_exec(db, sql, a, 2, NULL);
	free(renamed);
	return rc;
}

int norc_model_queue_rm(struct norc_db *db, int64_t id, char *err, size_t errlen)
{
	/* Remove first, then count: the UPDATE locks the queue row, so a concurrent
	 * `schedule add` (which reads the queue with a share lock) either committed before us
	 * and is counted here, or waits and then finds the queue removed. */
	int64_t n = 0;
	int rc = norc_db_begin_write(db);
	if (rc == NORC_OK)
		rc = soft_remove(db, "queues", id);
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db,
					 "SELECT COUNT(*) FROM schedules WHERE queue_id = ? AND "
					 "deleted = 0", &n, 1, id);
	if (rc == NORC_OK && n > 0) {
		norc_db_rollback(db);
		return norc_err_set(err, errlen, NORC_EBUSY,
				    "queue #%" PRId64 " is used by %" PRId64 " schedule(s); remove "
				    "them first (`norc schedule list`, `norc schedule rm ID`)", id, n);
	}
	if (rc == NORC_OK) { /* out of every group it was in; a group loses its members */
		struct norc_arg a[] = {NORC_AI(id), NORC_AI(id)};
		rc = norc_model_exec(db, "DELETE FROM queue_group_members WHERE queue_id = ? OR "
				     "group_id = ?", a, 2, NULL);
	}
	if (rc == NORC_OK)
		rc = norc_db_commit(db);
	if (rc != NORC_OK) {
		norc_db_rollback(db);
		return dberr(db, rc, err, errlen, "queue rm");
	}
	return NORC_OK;
}

/* ---- tasks ---- */

int norc_model_task_add(struct norc_db *db, const struct norc_task_def *d, int64_t *id,
			char *err, size_t errlen)
{
	int rc = norc_model_check_name("task", d->name, 128, err, errlen);
	if (rc != NORC_OK)
		return rc;
	if (d->description && strlen(d->description) > 512)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "task '%s': the description is longer than 512 characters",
				    d->name);
	struct norc_arg a[] = {NORC_AS(d->name), NORC_AS(d->type),
			       NORC_AS(d->description ? d->description : ""),
			       NORC_AS(d->params_json), NORC_AI(d->timeout_s), NORC_AI(d->nice),
			       NORC_AI(d->retries), NORC_AI(d->retry_delay_s),
			       NORC_AI(d->retry_max_delay_s ? d->retry_max_delay_s : 3600),
			       NORC_AI(d->overlap), NORC_AI(norc_clock_now_us()),
			       NORC_AS(d->run_as && *d->run_as ? d->run_as : NULL),
			       NORC_AS(d->limits && *d->limits ? d->limits : NULL)};
	rc = insert(db,
		    "INSERT INTO tasks (name, type, description, params, timeout, nice, retries, "
		    "retry_delay, retry_max_delay, overlap, added, run_as, limits) VALUES (?, ?, ?, "
		    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", a, NARGS(a), id);
	if (rc == NORC_EEXIST)
		return norc_err_set(err, errlen, rc,
				    "task '%s' already exists; pick another name, or remove it "
				    "first with `norc task rm %s`", d->name, d->name);
	return rc == NORC_OK ? rc : dberr(db, rc, err, errlen, "task add");
}

static const struct norc_col task_cols[] = {
	{"id", NORC_COL_INT},       {"name", NORC_COL_TEXT},    {"type", NORC_COL_TEXT},
	{"timeout", NORC_COL_INT},  {"nice", NORC_COL_INT},     {"schedules", NORC_COL_INT},
	{"description", NORC_COL_TEXT}, {"params", NORC_COL_TEXT}, {"added", NORC_COL_TIME},
	{"retries", NORC_COL_INT},  {"retry_delay", NORC_COL_INT}, {"retry_max_delay", NORC_COL_INT},
	{"overlap", NORC_COL_TEXT}, {"run_as", NORC_COL_TEXT}, {"limits", NORC_COL_TEXT},
};
#define TASK_SELECT                                                                             \
	"SELECT t.id, t.name, t.type, t.timeout, t.nice,"                                       \
	" (SELECT COUNT(*) FROM schedules s WHERE s.task_id = t.id AND s.deleted = 0),"         \
	" t.description, t.params, t.added, t.retries, t.retry_delay, t.retry_max_delay,"       \
	" CASE t.overlap WHEN 1 THEN 'skip' WHEN 2 THEN 'queue' ELSE 'allow' END, t.run_as,"     \
	" t.limits FROM tasks t "

int norc_model_task_list(struct norc_db *db, json_t **rows)
{
	return norc_model_query(db, TASK_SELECT "WHERE t.deleted = 0 ORDER BY t.name", NULL, 0,
				task_cols, NARGS(task_cols), rows);
}

int norc_model_task_get(struct norc_db *db, int64_t id, json_t **obj, char *err, size_t errlen)
{
	return get_one(db, TASK_SELECT "WHERE t.id = ?", id, task_cols, NARGS(task_cols), "task",
		       obj, err, errlen);
}

int norc_model_task_set(struct norc_db *db, int64_t id, const struct norc_task_def *d, int has,
			char *err, size_t errlen)
{
	static const struct {
		int bit;
		const char *col;
	} fields[] = {
		{NORC_TASK_SET_TIMEOUT, "timeout"},
		{NORC_TASK_SET_NICE, "nice"},
		{NORC_TASK_SET_RETRIES, "retries"},
		{NORC_TASK_SET_RETRY_DELAY, "retry_delay"},
		{NORC_TASK_SET_RETRY_MAX_DELAY, "retry_max_delay"},
		{NORC_TASK_SET_DESCRIPTION, "description"},
		{NORC_TASK_SET_OVERLAP, "overlap"},
		{NORC_TASK_SET_PARAMS, "params"},
		{NORC_TASK_SET_RUN_AS, "run_as"},
		{NORC_TASK_SET_LIMITS, "limits"},
	};
	if ((has & NORC_TASK_SET_DESCRIPTION) && d->description && strlen(d->description) > 512)
		return norc_err_set(err, errlen, NORC_EINVAL, "task #%" PRId64 ": the description "
				    "is longer than 512 characters", id);
	struct norc_arg a[12];
	char sql[300] = "UPDATE tasks SET ";
	size_t n = 0;
	for (size_t i = 0; i < NARGS(fields); i++) {
		if (!(has & fields[i].bit))
			continue;
		int v = fields[i].bit == NORC_TASK_SET_TIMEOUT	       ? d->timeout_s
			: fields[i].bit == NORC_TASK_SET_NICE	       ? d->nice
			: fields[i].bit == NORC_TASK_SET_RETRIES     ? d->retries
			: fields[i].bit == NORC_TASK_SET_RETRY_DELAY ? d->retry_delay_s
			: fields[i].bit == NORC_TASK_SET_OVERLAP     ? d->overlap
								     : d->retry_max_delay_s;
		a[n++] = fields[i].bit == NORC_TASK_SET_DESCRIPTION
				 ? NORC_AS(d->description ? d->description : "")
			 : fields[i].bit == NORC_TASK_SET_PARAMS
				 ? NORC_AS(d->params_json ? d->params_json : "{}")
			 : fields[i].bit == NORC_TASK_SET_RUN_AS
				 ? NORC_AS(d->run_as && *d->run_as ? d->run_as : NULL)
			 : fields[i].bit == NORC_TASK_SET_LIMITS
				 ? NORC_AS(d->limits && *d->limits ? d->limits : NULL)
				 : NORC_AI(v);
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s%s = ?", n > 1 ? ", " : "",
			 fields[i].col);
	}
	if (n == 0)
		return norc_err_set(err, errlen, NORC_EINVAL, "task #%" PRId64 ": nothing to change; "
				    "see `norc task set --help`", id);
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), " WHERE id = ? AND deleted = 0");
	a[n++] = NORC_AI(id);
	int64_t changed = 0;
	int rc = norc_model_exec(db, sql, a, n, &changed);
	struct norc_arg b[] = {NORC_AI(id)};
	if (rc == NORC_OK && changed == 1 && (has & NORC_TASK_SET_OVERLAP)) /* schedulers reload */
		rc = norc_model_exec(db, "UPDATE schedules SET changed = 1 WHERE task_id = ? AND "
				     "deleted = 0", b, 1, NULL);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, "task set");
	if (changed != 1)
		return norc_err_set(err, errlen, NORC_ENOTFOUND, "task #%" PRId64 " does not exist "
				    "(or was removed)", id);
	return NORC_OK;
}

/* Inside task_rm's transaction, after the soft removal: NORC_EBUSY (err says which node and
 * how to remove it; the transaction is rolled back) when task id is a node of a live job. */
static int task_rm_node_check(struct norc_db *db, int64_t id, char *err, size_t errlen)
{
	struct norc_stmt *st;
	int rc = norc_db_query_row(db,
				   "SELECT n.name, j.name FROM job_nodes n JOIN tasks j ON j.id = "
				   "n.job_id WHERE n.task_id = ? AND j.deleted = 0 ORDER BY n.id "
				   "LIMIT 1", id, &st);
	if (rc != NORC_OK)
		return rc == NORC_ENOTFOUND ? NORC_OK : rc;
	char *node = norc_xstrdup(norc_stmt_column_text(st, 0));
	char *job = norc_xstrdup(norc_stmt_column_text(st, 1));
	norc_stmt_finalize(st);
	norc_db_rollback(db); /* which gives the task its name back */
	char *task = NULL;
	if (norc_db_query_row(db, "SELECT name FROM tasks WHERE id = ?", id, &st) == NORC_OK) {
		task = norc_xstrdup(norc_stmt_column_text(st, 0));
		norc_stmt_finalize(st);
	}
	if (!task)
		task = norc_xasprintf("#%" PRId64, id);
	norc_err_set(err, errlen, NORC_EBUSY, "task %s is node %s of job %s; remove the node "
		     "first: norc job node %s %s --rm", task, node, job, job, node);
	free(task);
	free(node);
	free(job);
	return NORC_EBUSY;
}

int norc_model_task_rm(struct norc_db *db, int64_t id, bool force, char *err, size_t errlen)
{
	/* Remove first, then count (see norc_model_queue_rm). */
	int64_t n = 0;
	int rc = norc_db_begin_write(db);
	if (rc == NORC_OK)
		rc = soft_remove(db, "tasks", id);
	if (rc == NORC_OK && (rc = task_rm_node_check(db, id, err, errlen)) == NORC_EBUSY)
		return rc;
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db,
					 "SELECT COUNT(*) FROM schedules WHERE task_id = ? AND "
					 "deleted = 0", &n, 1, id);
	if (rc == NORC_OK && n > 0 && !force) {
		norc_db_rollback(db);
		return norc_err_set(err, errlen, NORC_EBUSY,
				    "task #%" PRId64 " has %" PRId64 " schedule(s); remove them "
				    "first, or pass --force to remove them with the task", id, n);
	}
	struct norc_arg a[] = {NORC_AI(id)};
	if (rc == NORC_OK && n > 0)
		rc = norc_model_exec(db,
				     "UPDATE schedules SET deleted = 1, changed = 1, next_fire = NULL "
				     "WHERE task_id = ? AND deleted = 0", a, 1, NULL);
	if (rc == NORC_OK)
		rc = norc_db_commit(db);
	if (rc != NORC_OK) {
		norc_db_rollback(db);
		return dberr(db, rc, err, errlen, "task rm");
	}
	return NORC_OK;
}

/* ---- schedules ---- */

int norc_model_schedule_add(struct norc_db *db, const struct norc_schedule_def *d, int64_t *id,
			    char *err, size_t errlen)
{
	int64_t grp = 0;
	if (norc_db_query_int64(db, "SELECT is_group FROM queues WHERE id = ?", &grp, 1,
				d->queue_id) == NORC_OK && grp)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "schedule add: queue #%" PRId64 " is a queue group; schedule "
				    "onto one of its queues (`norc queue group list` shows them)",
				    d->queue_id);
	/* INSERT ... SELECT from the live task and queue rows, read with a share lock, so a
	 * concurrent `task rm` / `queue rm` cannot leave a live schedule on a removed object. */
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO schedules (task_id, queue_id, kind, period, cron, tz, start_at, "
		 "next_fire, repetitions, remaining, catch_up, catch_up_max, added) "
		 "SELECT t.id, q.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM tasks t, queues q "
		 "WHERE t.id = ? AND t.deleted = 0 AND q.id = ? AND q.deleted = 0%s",
		 norc_db_clause(db, NORC_SQL_LOCK_SHARE));
	struct norc_arg a[] = {
		NORC_AS(d->kind),    NORC_AI(d->period_s), NORC_AS(d->cron),     NORC_AS(d->tz),
		NORC_AI(d->start_us), NORC_AI(d->start_us), NORC_AI(d->reps),    NORC_AI(d->reps),
		NORC_AI(d->catch_up), NORC_AI(d->catch_up_max), NORC_AI(norc_clock_now_us()),
		NORC_AI(d->task_id), NORC_AI(d->queue_id),
	};
	int64_t n = 0;
	int rc = norc_model_exec(db, sql, a, NARGS(a), &n);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, "schedule add");
	if (n != 1)
		return norc_err_set(err, errlen, NORC_ENOTFOUND,
				    "schedule add: task #%" PRId64 " or queue #%" PRId64 " was removed "
				    "meanwhile; check `norc task list` and `norc queue list`",
				    d->task_id, d->queue_id);
	*id = norc_db_last_insert_id(db);
	return NORC_OK;
}

static const struct norc_col schedule_cols[] = {
	{"id", NORC_COL_INT},          {"task", NORC_COL_TEXT},      {"queue", NORC_COL_TEXT},
	{"kind", NORC_COL_TEXT},       {"period", NORC_COL_INT},     {"cron", NORC_COL_TEXT},
	{"repetitions", NORC_COL_INT}, {"remaining", NORC_COL_INT},  {"catch_up", NORC_COL_TEXT},
	{"next_fire", NORC_COL_TIME},  {"paused", NORC_COL_BOOL},    {"scheduler", NORC_COL_INT},
	{"tz", NORC_COL_TEXT},         {"catch_up_max", NORC_COL_INT}, {"start", NORC_COL_TIME},
	{"last_fire", NORC_COL_TIME},  {"last_note", NORC_COL_TEXT}, {"deleted", NORC_COL_BOOL},
	{"task_id", NORC_COL_INT},
};
#define SCHEDULE_SELECT                                                                         \
	"SELECT s.id, t.name, q.name, s.kind, s.period, s.cron, s.repetitions, s.remaining, "     \
	"CASE s.catch_up WHEN 0 THEN 'skip' WHEN 1 THEN 'latest' ELSE 'all' END, s.next_fire, "   \
	"s.paused, s.lease_owner, s.tz, s.catch_up_max, s.start_at, s.last_fire, s.last_note, "   \
	"s.deleted, s.task_id FROM schedules s JOIN tasks t ON t.id = s.task_id "                 \
	"JOIN queues q ON q.id = s.queue_id "

int norc_model_schedule_list(struct norc_db *db, int64_t task_id, json_t **rows)
{
	struct norc_arg a[] = {NORC_AI(task_id), NORC_AI(task_id)};
	return norc_model_query(db,
				SCHEDULE_SELECT "WHERE s.deleted = 0 AND (? = 0 OR s.task_id = ?) ORDER BY s.id",
				a, NARGS(a), schedule_cols, NARGS(schedule_cols), rows);
}

int norc_model_schedule_get(struct norc_db *db, int64_t id, json_t **obj, char *err,
			    size_t errlen)
{
	return get_one(db, SCHEDULE_SELECT "WHERE s.id = ?", id, schedule_cols, NARGS(schedule_cols),
		       "schedule", obj, err, errlen);
}

int norc_model_schedule_set(struct norc_db *db, int64_t id, const struct norc_schedule_def *d,
			    int has, char *err, size_t errlen)
{
	char sql[512] = "UPDATE schedules SET changed = 1";
	struct norc_arg a[12];
	size_t n = 0;
	if (has & NORC_SCHED_SET_RULE) {
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s", ", kind = ?, period = ?, cron = ?, tz = ?, start_at = ?, next_fire = ?");
		a[n++] = NORC_AS(d->kind);
		a[n++] = NORC_AI(d->period_s);
		a[n++] = NORC_AS(d->cron);
		a[n++] = NORC_AS(d->tz);
		a[n++] = NORC_AI(d->start_us);
		a[n++] = NORC_AI(d->start_us);
	}
	if (has & NORC_SCHED_SET_REPS) {
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s", ", repetitions = ?, remaining = ?");
		a[n++] = NORC_AI(d->reps);
		a[n++] = NORC_AI(d->reps);
	}
	if (has & NORC_SCHED_SET_CATCH_UP) {
		snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s", ", catch_up = ?, catch_up_max = ?");
		a[n++] = NORC_AI(d->catch_up);
		a[n++] = NORC_AI(d->catch_up_max);
	}
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s", " WHERE id = ? AND deleted = 0");
	a[n++] = NORC_AI(id);
	int64_t changed = 0;
	int rc = norc_model_exec(db, sql, a, n, &changed);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, "schedule set");
	if (changed != 1)
		return norc_err_set(err, errlen, NORC_ENOTFOUND,
				    "schedule #%" PRId64 " does not exist (or was removed); `norc "
				    "schedule list` shows the schedules", id);
	return NORC_OK;
}

int norc_model_schedule_rm(struct norc_db *db, int64_t id, char *err, size_t errlen)
{
	int64_t n = 0;
	struct norc_arg a[] = {NORC_AI(id)};
	int rc = norc_model_exec(db,
				 "UPDATE schedules SET deleted = 1, changed = 1, next_fire = NULL "
				 "WHERE id = ? AND deleted = 0", a, 1, &n);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, "schedule rm");
	if (n == 0)
		return norc_err_set(err, errlen, NORC_ENOTFOUND,
				    "schedule #%" PRId64 " does not exist; `norc schedule list` "
				    "shows the schedules", id);
	return NORC_OK;
}

int norc_model_schedule_pause(struct norc_db *db, int64_t id, bool paused, char *err,
			      size_t errlen)
{
	int64_t n = 0;
	struct norc_arg a[] = {NORC_AI(paused ? 1 : 0), NORC_AI(id)};
	int rc = norc_model_exec(db,
				 "UPDATE schedules SET paused = ?, changed = 1 WHERE id = ? AND "
				 "deleted = 0", a, 2, &n);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, paused ? "schedule pause" : "schedule resume");
	if (n == 0)
		return norc_err_set(err, errlen, NORC_ENOTFOUND,
				    "schedule #%" PRId64 " does not exist; `norc schedule list` "
				    "shows the schedules", id);
	return NORC_OK;
}

/* ---- instances ---- */

static const struct norc_col instance_cols[] = {
	{"id", NORC_COL_INT},         {"task", NORC_COL_TEXT},     {"status", NORC_COL_STATUS},
	{"schedule", NORC_COL_INT},   {"fire_time", NORC_COL_TIME}, {"executor", NORC_COL_INT},
	{"enqueued", NORC_COL_TIME},  {"started", NORC_COL_TIME},  {"ended", NORC_COL_TIME},
	{"exit_code", NORC_COL_INT},  {"attempt", NORC_COL_INT},   {"log_path", NORC_COL_TEXT},
	{"previous", NORC_COL_INT},   {"retry_at", NORC_COL_TIME}, {"reason", NORC_COL_TEXT},
	{"term_signal", NORC_COL_INT}, {"job", NORC_COL_INT},       {"node", NORC_COL_TEXT},
	{"revision", NORC_COL_TEXT},
};
/* retry_at's marks (a held run, a job node waiting for its parents) are not times: NULL */
#define INSTANCE_SELECT                                                                         \
	"SELECT i.id, t.name, i.status, i.schedule_id, i.fire_time, i.executor_id, i.enqueued, " \
	"i.started, i.ended, i.exit_code, i.attempt, i.log_path, i.previous_id, CASE WHEN "      \
	"i.retry_at < 4611686018427387904 THEN i.retry_at END, i.reason, i.term_signal, "         \
	"i.job_instance_id, n.name, r.info FROM instances i JOIN tasks t ON t.id = i.task_id "    \
	"LEFT JOIN job_nodes n ON n.id = i.job_node_id LEFT JOIN revisions r ON r.id = "          \
	"i.revision_id "
_Static_assert(NORC_INSTANCE_HELD == INT64_C(4611686018427387904), "INSTANCE_SELECT's mark");

int norc_model_instance_list(struct norc_db *db, const struct norc_instance_filter *f, json_t **rows)
{
	struct norc_arg a[] = {NORC_AI(f->task_id), NORC_AI(f->task_id), NORC_AI(f->status),
			       NORC_AI(f->status), NORC_AI(f->failed_only ? 1 : 0),
			       NORC_AI(NORC_ST_FAILURE), NORC_AI(f->limit > 0 ? f->limit : 50)};
	return norc_model_query(db,
				INSTANCE_SELECT
				"WHERE (? = 0 OR i.task_id = ?) AND (? = 0 OR i.status = ?) "
				"AND (? = 0 OR i.status >= ?) ORDER BY i.id DESC LIMIT ?",
				a, NARGS(a), instance_cols, NARGS(instance_cols), rows);
}

int norc_model_instance_get(struct norc_db *db, int64_t id, json_t **obj, char *err, size_t errlen)
{
	return get_one(db, INSTANCE_SELECT "WHERE i.id = ?", id, instance_cols,
		       NARGS(instance_cols), "instance", obj, err, errlen);
}

int norc_model_instance_nodes(struct norc_db *db, int64_t job_id, json_t **rows)
{
	struct norc_arg a[] = {NORC_AI(job_id)};
	return norc_model_query(db, INSTANCE_SELECT "WHERE i.job_instance_id = ? ORDER BY i.id", a,
				1, instance_cols, NARGS(instance_cols), rows);
}
