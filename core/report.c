/*
 * report.c - see report.h. Each report is a fixed SELECT with a WHERE built from fixed
 * fragments and an ORDER BY taken from the report's own column table, so nothing a client
 * sends reaches the SQL text; values are bound.
 */
#include "report.h"
#include "clock.h"
#include "mem.h"
#include "model.h"
#include "status.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NARGS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGS 12

/* A sortable column: its name in the API and its SQL; nullable ones sort NULL (still
 * running) first when descending. */
struct order_col {
	const char *name;
	const char *sql;
	bool nullable;
};

struct report_def {
	const char *select;  /* "SELECT ... FROM ... " */
	const char *from;    /* the FROM part alone, for the count */
	const struct norc_col *cols;
	size_t ncols;
	const struct order_col *order;
	const char *default_order; /* ORDER BY text */
	const char *id_sql;        /* tie-break */
};

static const struct order_col executor_order[] = {
	{"id", "d.id", false},           {"host", "d.host", false},
	{"started", "d.started", true},  {"ended", "d.ended", true},
	{"status", "d.status", false},   {"heartbeat", "d.heartbeat", true},
	{"queue", "q.name", false},      {NULL, NULL, false},
};
/* schedulers have no queue (their query does not join queues) */
static const struct order_col scheduler_order[] = {
	{"id", "d.id", false},           {"host", "d.host", false},
	{"started", "d.started", true},  {"ended", "d.ended", true},
	{"status", "d.status", false},   {"heartbeat", "d.heartbeat", true},
	{NULL, NULL, false},
};

static const struct norc_col executor_cols[] = {
	{"id", NORC_COL_INT},          {"queue", NORC_COL_TEXT},   {"queue_type", NORC_COL_TEXT},
	{"host", NORC_COL_TEXT},       {"pid", NORC_COL_INT},      {"concurrency", NORC_COL_INT},
	{"running", NORC_COL_INT},     {"succeeded", NORC_COL_INT}, {"failed", NORC_COL_INT},
	{"started", NORC_COL_TIME},    {"ended", NORC_COL_TIME},   {"status", NORC_COL_STATUS},
	{"heartbeat", NORC_COL_TIME},  {"status_n", NORC_COL_INT}, {"heartbeat_us", NORC_COL_INT},
};

static const struct norc_col scheduler_cols[] = {
	{"id", NORC_COL_INT},         {"host", NORC_COL_TEXT},    {"pid", NORC_COL_INT},
	{"claimed", NORC_COL_INT},    {"started", NORC_COL_TIME}, {"ended", NORC_COL_TIME},
	{"status", NORC_COL_STATUS},  {"heartbeat", NORC_COL_TIME}, {"status_n", NORC_COL_INT},
	{"heartbeat_us", NORC_COL_INT},
};

static const struct norc_col queue_cols[] = {
	{"id", NORC_COL_INT},        {"name", NORC_COL_TEXT},     {"type", NORC_COL_TEXT},
	{"group", NORC_COL_BOOL},    {"executors", NORC_COL_INT}, {"pending", NORC_COL_INT},
	{"oldest_us", NORC_COL_INT},
};
static const struct order_col queue_order[] = {
	{"id", "q.id", false}, {"name", "q.name", false}, {"type", "q.type", false},
	{NULL, NULL, false},
};

static const struct norc_col task_cols[] = {
	{"id", NORC_COL_INT},          {"name", NORC_COL_TEXT},    {"type", NORC_COL_TEXT},
	{"description", NORC_COL_TEXT}, {"added", NORC_COL_TIME},  {"timeout", NORC_COL_INT},
	{"schedules", NORC_COL_INT},   {"last_status", NORC_COL_STATUS},
	{"last_ended", NORC_COL_TIME},
};
static const struct order_col task_order[] = {
	{"id", "t.id", false},     {"name", "t.name", false}, {"type", "t.type", false},
	{"added", "t.added", false}, {NULL, NULL, false},
};

static const struct norc_col instance_cols[] = {
	{"id", NORC_COL_INT},         {"task", NORC_COL_TEXT},     {"task_id", NORC_COL_INT},
	{"type", NORC_COL_TEXT},      {"schedule", NORC_COL_INT},  {"job", NORC_COL_INT},
	{"status", NORC_COL_STATUS},  {"executor", NORC_COL_INT},  {"enqueued", NORC_COL_TIME},
	{"started", NORC_COL_TIME},   {"ended", NORC_COL_TIME},    {"exit_code", NORC_COL_INT},
	{"attempt", NORC_COL_INT},    {"reason", NORC_COL_TEXT},   {"status_n", NORC_COL_INT},
};
static const struct order_col instance_order[] = {
	{"id", "i.id", false},       {"started", "i.started", true}, {"ended", "i.ended", true},
	{"status", "i.status", false}, {"enqueued", "i.enqueued", false},
	{NULL, NULL, false},
};

/* The parts of one report query; the arguments of WHERE in order. */
struct query {
	char where[512];
	struct norc_arg args[MAX_ARGS];
	size_t nargs;
};

static void where_add(struct query *qb, const char *cond)
{
	size_t l = strlen(qb->where);
	snprintf(qb->where + l, sizeof(qb->where) - l, "%s%s", l ? " AND " : " WHERE ", cond);
}

static void arg_add(struct query *qb, int64_t v)
{
	if (qb->nargs < MAX_ARGS)
		qb->args[qb->nargs++] = NORC_AI(v);
}

int norc_report_parse_since(const char *text, struct norc_report_query *q, char *err,
			    size_t errlen)
{
	static const char *const ok[] = {"10m", "30m", "1h", "3h", "12h", "1d", "7d", "all", NULL};
	q->since = 0;
	if (!text || strcmp(text, "all") == 0)
		return NORC_OK;
	int64_t secs;
	for (int i = 0; ok[i]; i++)
		if (strcmp(text, ok[i]) == 0 && norc_clock_parse_duration(text, &secs) == NORC_OK) {
			q->since = q->now - secs * NORC_US_PER_SEC;
			return NORC_OK;
		}
	snprintf(err, errlen, "since '%.40s' is not a timeframe; use 10m, 30m, 1h, 3h, 12h, 1d, "
		 "7d or all", text);
	return NORC_EINVAL;
}

const char *norc_report_status_color(int status, bool daemon, bool alive)
{
	if (norc_status_is_failure(status) || status == NORC_ST_KILLED)
		return "status_error";
	if (daemon && !norc_status_is_final(status) && !alive)
		return "status_error";
	return "status_good";
}

/* ORDER BY text for order ("col" / "-col") from the report's table. */
static int order_by(const struct report_def *def, const char *order, char *out, size_t outlen,
		    char *err, size_t errlen)
{
	if (!order || !*order) {
		snprintf(out, outlen, "%s", def->default_order);
		return NORC_OK;
	}
	bool desc = order[0] == '-';
	const char *name = order + desc;
	for (const struct order_col *c = def->order; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		if (c->nullable) /* NULL (not yet) sorts as the newest */
			snprintf(out, outlen, "CASE WHEN %s IS NULL THEN %d ELSE %d END, %s%s, %s%s",
				 c->sql, desc ? 0 : 1, desc ? 1 : 0, c->sql, desc ? " DESC" : "",
				 def->id_sql, desc ? " DESC" : "");
		else
			snprintf(out, outlen, "%s%s, %s%s", c->sql, desc ? " DESC" : "", def->id_sql,
				 desc ? " DESC" : "");
		return NORC_OK;
	}
	char list[200] = "";
	for (const struct order_col *c = def->order; c->name; c++) {
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", c->name);
	}
	snprintf(err, errlen, "order '%.40s' is not a column of this report; use one of %s, with "
		 "'-' in front for descending", order, list);
	return NORC_EINVAL;
}

/* The instance filters into qb. */
static int instance_where(const struct norc_report_query *q, struct query *qb, char *err,
			  size_t errlen)
{
	if (q->executor_id) {
		where_add(qb, "i.executor_id = ?");
		arg_add(qb, q->executor_id);
	}
	if (q->task_id) {
		where_add(qb, "i.task_id = ?");
		arg_add(qb, q->task_id);
	}
	if (q->since) {
		where_add(qb, "(i.ended IS NULL OR i.ended >= ?)");
		arg_add(qb, q->since);
	}
	if (!q->status || !*q->status)
		return NORC_OK;
	if (strcmp(q->status, "running") == 0) {
		where_add(qb, "i.status = ?");
		arg_add(qb, NORC_ST_RUNNING);
	} else if (strcmp(q->status, "succeeded") == 0) {
		where_add(qb, "i.status >= ? AND i.status < ?");
		arg_add(qb, NORC_ST_SUCCESS);
		arg_add(qb, NORC_ST_FAILURE);
	} else if (strcmp(q->status, "failed") == 0 || strcmp(q->status, "unhandled") == 0) {
		where_add(qb, "i.status >= ?"); /* HANDLED (12) is below: handled ones drop out */
		arg_add(qb, NORC_ST_FAILURE);
	} else if (strcmp(q->status, "active") == 0) {
		where_add(qb, "i.ended IS NULL");
	} else {
		int st = norc_status_parse(q->status);
		if (st < 0) {
			snprintf(err, errlen, "status '%.40s' is unknown; use running, succeeded, "
				 "failed, active or a status name such as SUCCESS", q->status);
			return NORC_EINVAL;
		}
		where_add(qb, "i.status = ?");
		arg_add(qb, st);
	}
	return NORC_OK;
}

/* Derived fields each row gets after the query. */
static void decorate(enum norc_report which, json_t *rows, const struct norc_report_query *q)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int status = (int)json_integer_value(json_object_get(row, "status_n"));
		if (which == NORC_REPORT_EXECUTORS || which == NORC_REPORT_SCHEDULERS) {
			json_t *hb = json_object_get(row, "heartbeat_us");
			bool alive = !norc_status_is_final(status) && json_is_integer(hb) &&
				     json_integer_value(hb) >= q->dead_before;
			json_object_set_new(row, "alive", json_boolean(alive));
			json_object_set_new(row, "status_color",
					    json_string(norc_report_status_color(status, true, alive)));
			json_object_del(row, "heartbeat_us");
			json_object_del(row, "status_n");
		} else if (which == NORC_REPORT_INSTANCES) {
			json_object_set_new(row, "status_color",
					    json_string(norc_report_status_color(status, false, true)));
			json_t *job = json_object_get(row, "job"), *sch = json_object_get(row, "schedule");
			char src[48] = "manual";
			if (json_is_integer(job))
				snprintf(src, sizeof(src), "job #%" JSON_INTEGER_FORMAT,
					 json_integer_value(job));
			else if (json_is_integer(sch))
				snprintf(src, sizeof(src), "schedule #%" JSON_INTEGER_FORMAT,
					 json_integer_value(sch));
			json_object_set_new(row, "source", json_string(src));
			json_object_del(row, "status_n");
		} else if (which == NORC_REPORT_TASKS) {
			const char *ls = json_string_value(json_object_get(row, "last_status"));
			if (ls)
				json_object_set_new(row, "status_color",
						    json_string(norc_report_status_color(
							    norc_status_parse(ls), false, true)));
		} else if (which == NORC_REPORT_QUEUES) {
			json_t *o = json_object_get(row, "oldest_us");
			json_object_set_new(row, "oldest_age_s",
					    json_is_integer(o)
						    ? json_integer((q->now - json_integer_value(o)) /
								   NORC_US_PER_SEC)
						    : json_null());
			json_object_del(row, "oldest_us");
		}
	}
}

int norc_report_run(struct norc_db *db, enum norc_report which, const struct norc_report_query *q,
		    json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	struct query qb = {0};
	struct report_def def = {0};
	/* leading arguments of the SELECT list (before the WHERE's) */
	struct norc_arg pre[8];
	size_t npre = 0;
	switch (which) {
	case NORC_REPORT_EXECUTORS:
		def = (struct report_def){
			"SELECT d.id, q.name, q.type, d.host, d.pid, d.concurrency,"
			" (SELECT COUNT(*) FROM instances i WHERE i.executor_id = d.id AND"
			"  i.ended IS NULL AND i.status = ?),"
			" (SELECT COUNT(*) FROM instances i WHERE i.executor_id = d.id AND"
			"  i.ended >= ? AND i.status >= ? AND i.status < ?),"
			" (SELECT COUNT(*) FROM instances i WHERE i.executor_id = d.id AND"
			"  i.ended >= ? AND i.status >= ?),"
			" d.started, d.ended, d.status, d.heartbeat, d.status, d.heartbeat ",
			"FROM daemons d LEFT JOIN queues q ON q.id = d.queue_id",
			executor_cols, NARGS(executor_cols), executor_order, NULL, "d.id"};
		pre[npre++] = NORC_AI(NORC_ST_RUNNING);
		pre[npre++] = NORC_AI(q->since);
		pre[npre++] = NORC_AI(NORC_ST_SUCCESS);
		pre[npre++] = NORC_AI(NORC_ST_FAILURE);
		pre[npre++] = NORC_AI(q->since);
		pre[npre++] = NORC_AI(NORC_ST_FAILURE);
		where_add(&qb, "d.kind = 'executor'");
		break;
	case NORC_REPORT_SCHEDULERS:
		def = (struct report_def){
			"SELECT d.id, d.host, d.pid,"
			" (SELECT COUNT(*) FROM schedules s WHERE s.lease_owner = d.id),"
			" d.started, d.ended, d.status, d.heartbeat, d.status, d.heartbeat ",
			"FROM daemons d", scheduler_cols, NARGS(scheduler_cols), scheduler_order, NULL,
			"d.id"};
		where_add(&qb, "d.kind = 'scheduler'");
		break;
	case NORC_REPORT_QUEUES:
		def = (struct report_def){
			"SELECT q.id, q.name, q.type, q.is_group,"
			" (SELECT COUNT(*) FROM daemons d WHERE d.kind = 'executor' AND"
			"  d.queue_id = q.id AND d.status < ? AND d.heartbeat >= ?),"
			" (SELECT COUNT(*) FROM instances i WHERE i.ended IS NULL AND"
			"  i.queue_id = q.id AND i.status = ?),"
			" (SELECT MIN(i.enqueued) FROM instances i WHERE i.ended IS NULL AND"
			"  i.queue_id = q.id AND i.status = ?) ",
			"FROM queues q", queue_cols, NARGS(queue_cols), queue_order, "q.name", "q.id"};
		pre[npre++] = NORC_AI(NORC_ST_SUCCESS);
		pre[npre++] = NORC_AI(q->dead_before);
		pre[npre++] = NORC_AI(NORC_ST_CREATED);
		pre[npre++] = NORC_AI(NORC_ST_CREATED);
		where_add(&qb, "q.deleted = 0");
		break;
	case NORC_REPORT_TASKS:
		def = (struct report_def){
			"SELECT t.id, t.name, t.type, t.description, t.added, t.timeout,"
			" (SELECT COUNT(*) FROM schedules s WHERE s.task_id = t.id AND s.deleted = 0),"
			" (SELECT i.status FROM instances i WHERE i.task_id = t.id AND"
			"  i.ended IS NOT NULL ORDER BY i.ended DESC LIMIT 1),"
			" (SELECT MAX(i.ended) FROM instances i WHERE i.task_id = t.id) ",
			"FROM tasks t", task_cols, NARGS(task_cols), task_order, "t.name", "t.id"};
		where_add(&qb, "t.deleted = 0");
		break;
	case NORC_REPORT_INSTANCES:
		def = (struct report_def){
			"SELECT i.id, t.name, i.task_id, t.type, i.schedule_id, i.job_instance_id,"
			" i.status, i.executor_id, i.enqueued, i.started, i.ended, i.exit_code,"
			" i.attempt, i.reason, i.status ",
			"FROM instances i JOIN tasks t ON t.id = i.task_id", instance_cols,
			NARGS(instance_cols), instance_order, "i.id DESC", "i.id"};
		if (instance_where(q, &qb, err, errlen) != NORC_OK)
			return NORC_EINVAL;
		break;
	}
	if (which == NORC_REPORT_EXECUTORS || which == NORC_REPORT_SCHEDULERS) {
		if (q->since) {
			where_add(&qb, "(d.ended IS NULL OR d.ended >= ?)");
			arg_add(&qb, q->since);
		}
		/* running daemons first, then the newest */
		static char dflt[80];
		snprintf(dflt, sizeof(dflt), "CASE WHEN d.status < %d THEN 0 ELSE 1 END, d.id DESC",
			 NORC_ST_SUCCESS);
		def.default_order = dflt;
	}
	char order[300];
	int rc = order_by(&def, q->order, order, sizeof(order), err, errlen);
	if (rc != NORC_OK)
		return rc;

	/* the count, capped */
	char *sql = norc_xasprintf("SELECT COUNT(*) FROM (SELECT 1 %s%s LIMIT %d) c", def.from,
				   qb.where, NORC_REPORT_COUNT_CAP);
	struct norc_col ccol[] = {{"n", NORC_COL_INT}};
	json_t *crow = NULL;
	rc = norc_model_query(db, sql, qb.args, qb.nargs, ccol, 1, &crow);
	free(sql);
	if (rc != NORC_OK) {
		snprintf(err, errlen, "database: %s", norc_db_errmsg(db));
		return rc;
	}
	int64_t count = json_integer_value(json_object_get(json_array_get(crow, 0), "n"));
	json_decref(crow);

	int64_t per = q->per_page < 1 ? 20 : q->per_page;
	int64_t pages = count ? (count + per - 1) / per : 1;
	int64_t page = q->page < 1 ? 1 : q->page > pages ? pages : q->page;

	struct norc_arg all[8 + MAX_ARGS + 2];
	size_t na = 0;
	for (size_t i = 0; i < npre; i++)
		all[na++] = pre[i];
	for (size_t i = 0; i < qb.nargs; i++)
		all[na++] = qb.args[i];
	all[na++] = NORC_AI(per);
	all[na++] = NORC_AI((page - 1) * per);
	sql = norc_xasprintf("%s%s%s ORDER BY %s LIMIT ? OFFSET ?", def.select, def.from, qb.where,
			     order);
	json_t *rows = NULL;
	rc = norc_model_query(db, sql, all, na, def.cols, def.ncols, &rows);
	free(sql);
	if (rc != NORC_OK) {
		snprintf(err, errlen, "database: %s", norc_db_errmsg(db));
		return rc;
	}
	decorate(which, rows, q);
	*out = json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:b}}", "data", rows, "page", "current",
			 (json_int_t)page, "total", (json_int_t)pages, "per_page", (json_int_t)per,
			 "count", (json_int_t)count, "count_capped", count >= NORC_REPORT_COUNT_CAP);
	return NORC_OK;
}
