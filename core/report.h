/*
 * report.h - the original's reports (executors, schedulers, queues, tasks, instances) as
 * paged JSON rows, shared by norc_reporter and norc_web so both show the same numbers.
 *
 * Every query goes through an index: daemons by kind, instance counts by executor (index
 * instances_executor), instances by task, by status or by end time; a count of matching rows
 * stops at NORC_REPORT_COUNT_CAP. `order` is checked against each report's column list (never
 * pasted into SQL as given); running daemons and instances come first when ordering by ended
 * descending (the original put them last, hidden on later pages).
 */
#ifndef NORC_REPORT_H
#define NORC_REPORT_H

#include "db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define NORC_REPORT_COUNT_CAP 100000

enum norc_report { NORC_REPORT_EXECUTORS, NORC_REPORT_SCHEDULERS, NORC_REPORT_QUEUES,
		   NORC_REPORT_TASKS, NORC_REPORT_INSTANCES };

struct norc_report_query {
	int64_t now;         /* us */
	int64_t since;       /* us; 0: all time. Hides what ended before; counts from then */
	int64_t dead_before; /* us: a heartbeat older than this means dead */
	const char *order;   /* "col" or "-col"; NULL: the report's default */
	int64_t page;        /* from 1; past the end: the last page */
	int64_t per_page;    /* rows per page (< 1: 20) */
	/* instances only */
	int64_t executor_id; /* 0: any */
	int64_t task_id;     /* 0: any */
	const char *status;  /* running, succeeded, failed, active, unhandled, or a status
			      * name; NULL: any */
};

/* Parse "10m", "1h", ..., "all" into q->since (relative to q->now). NORC_EINVAL, with err
 * naming the accepted values, when it is none of them. */
int norc_report_parse_since(const char *text, struct norc_report_query *q, char *err,
			    size_t errlen);

/* Run a report. *out gets {"data": [...], "page": {"current", "total", "per_page",
 * "count"}} (caller json_decref()s). Daemon and instance rows carry "status_color"
 * ("status_good" / "status_error"); daemon rows "alive". NORC_EINVAL with err for a bad
 * order or status; a database error with err holding it. Queue rows: "items" is left for the
 * caller (it needs the queue plugin). */
int norc_report_run(struct norc_db *db, enum norc_report which, const struct norc_report_query *q,
		    json_t **out, char *err, size_t errlen);

/* "status_good" or "status_error" for a daemon or instance status. */
const char *norc_report_status_color(int status, bool daemon, bool alive);

#endif
