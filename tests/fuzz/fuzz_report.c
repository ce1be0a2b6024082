/*
 * fuzz_report.c - libFuzzer target for the web API's report parameters (core/report.c):
 * since, order, status, page, per_page, executor and task, as a client sends them, run
 * against an in-memory SQLite database with Norc's schema and a few rows.
 *
 * Properties beyond "no crash, no leak": every input is either refused with NORC_EINVAL and a
 * message, or answered with a well-formed page (current within 1..total, at most per_page
 * rows); a database error never happens (nothing a client sends reaches the SQL text); an
 * order that is not a column is always refused.
 */
#include "db.h"
#include "model.h"
#include "report.h"
#include "schema.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct norc_db *db;

static void setup(void)
{
	struct norc_db_config c = {.backend = NORC_DB_SQLITE, .path = ":memory:", .create = true,
				   .busy_timeout_ms = 1000};
	char err[512];
	int from;
	if (norc_db_open(&c, &db, err, sizeof(err)) != NORC_OK ||
	    norc_schema_migrate(db, &from, err, sizeof(err)) != NORC_OK) {
		fprintf(stderr, "fuzz_report: %s\n", err);
		abort();
	}
	static const char *const rows[] = {
		"INSERT INTO queues (name, type, params, added) VALUES ('Q', 'DBQueue', '{}', 1)",
		"INSERT INTO tasks (name, type, params, added) VALUES ('T', 'CommandTask', '{}', 1)",
		"INSERT INTO daemons (kind, host, pid, status, heartbeat, started, queue_id) VALUES "
		"('executor', 'h', 1, 2, 5000000, 1, 1)",
		"INSERT INTO daemons (kind, host, pid, status, heartbeat, started, ended) VALUES "
		"('scheduler', 'h', 2, 8, 5000000, 1, 4000000)",
		"INSERT INTO instances (task_id, queue_id, status, executor_id, enqueued, started, "
		"ended) VALUES (1, 1, 7, 1, 1, 2, 3), (1, 1, 13, 1, 1, 2, 4000000), "
		"(1, 1, 2, 1, 1, 2, NULL), (1, 1, 1, NULL, 1, NULL, NULL)",
		NULL,
	};
	for (int i = 0; rows[i]; i++)
		if (norc_model_exec(db, rows[i], NULL, 0, NULL) != NORC_OK) {
			fprintf(stderr, "fuzz_report: %s\n", norc_db_errmsg(db));
			abort();
		}
}

/* The next NUL-separated field of the input (or what is left), into buf. */
static const uint8_t *field(const uint8_t *p, const uint8_t *end, char *buf, size_t len)
{
	size_t n = 0;
	while (p < end && *p && n + 1 < len)
		buf[n++] = (char)*p++;
	buf[n] = '\0';
	while (p < end && *p)
		p++;
	return p < end ? p + 1 : p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db)
		setup();
	if (size < 5)
		return 0;
	static const enum norc_report which[] = {NORC_REPORT_EXECUTORS, NORC_REPORT_SCHEDULERS,
						 NORC_REPORT_QUEUES, NORC_REPORT_TASKS,
						 NORC_REPORT_INSTANCES};
	struct norc_report_query q = {.now = 5000000, .dead_before = 1000000};
	q.page = (int8_t)data[1];
	q.per_page = data[2] % 8;
	q.executor_id = data[3] % 3;
	q.task_id = data[4] % 3;
	enum norc_report r = which[data[0] % 5];
	char since[64], order[64], status[64];
	const uint8_t *p = data + 5, *end = data + size;
	p = field(p, end, since, sizeof(since));
	p = field(p, end, order, sizeof(order));
	field(p, end, status, sizeof(status));
	char err[400] = "";
	if (norc_report_parse_since(since[0] ? since : NULL, &q, err, sizeof(err)) != NORC_OK) {
		if (!err[0])
			abort(); /* a refusal says why */
		return 0;
	}
	q.order = order[0] ? order : NULL;
	q.status = status[0] ? status : NULL;
	json_t *out = NULL;
	int rc = norc_report_run(db, r, &q, &out, err, sizeof(err));
	if (rc == NORC_EINVAL) {
		if (!err[0] || out)
			abort();
		return 0;
	}
	if (rc != NORC_OK) {
		fprintf(stderr, "database error for order '%s' status '%s': %s\n", order, status, err);
		abort(); /* client text reached the SQL */
	}
	/* an order that is none of the columns must have been refused */
	static const char *const cols[] = {"id", "host", "started", "ended", "status", "heartbeat",
					   "queue", "name", "type", "added", "enqueued", NULL};
	if (q.order) {
		const char *o = q.order + (q.order[0] == '-');
		bool known = false;
		for (int i = 0; cols[i]; i++)
			known |= strcmp(o, cols[i]) == 0;
		if (!known)
			abort();
	}
	json_t *page = json_object_get(out, "page");
	json_int_t cur = json_integer_value(json_object_get(page, "current"));
	json_int_t total = json_integer_value(json_object_get(page, "total"));
	json_int_t per = json_integer_value(json_object_get(page, "per_page"));
	size_t n = json_array_size(json_object_get(out, "data"));
	if (cur < 1 || cur > total || per < 1 || n > (size_t)per)
		abort();
	json_decref(out);
	return 0;
}
