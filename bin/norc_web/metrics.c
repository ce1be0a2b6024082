/*
 * metrics.c - GET /metrics in the Prometheus text format (docs/web.md, "Metrics").
 *
 * Gauges are read at each scrape through indexes (active instances: instances.ended IS NULL;
 * daemons by kind; queues). The counters (instances ended, by status; fire lag histogram)
 * live in this process: each scrape reads only the instances that ended since the previous
 * one, walking the instances.ended index from a watermark that stays SETTLE_US behind the
 * clock so that an end still being committed is not skipped. They start from zero when
 * norc_web starts, which Prometheus treats as a counter reset.
 */
#include "web.h"
#include "clock.h"
#include "mem.h"
#include "model.h"
#include "queue.h"
#include "report.h"
#include "status.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTLE_US (5 * NORC_US_PER_SEC)
#define BATCH 5000
#define MAX_BATCHES 20 /* rows per scrape at most BATCH * MAX_BATCHES; the rest next time */
#define NSTATUS 17

static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
				300};
#define NB (sizeof(bounds) / sizeof(bounds[0]))

struct norc_web_metrics {
	int64_t wm_ended, wm_id; /* everything up to (ended, id) is counted */
	uint64_t ended[NSTATUS];
	uint64_t lag_bucket[NB]; /* not cumulative here; summed when printed */
	uint64_t lag_count;
	double lag_sum;
};

struct norc_web_metrics *norc_web_metrics_new(int64_t now_us)
{
	struct norc_web_metrics *m = norc_xcalloc(1, sizeof(*m));
	m->wm_ended = now_us - SETTLE_US;
	m->wm_id = INT64_MAX;
	return m;
}

void norc_web_metrics_free(struct norc_web_metrics *m) { free(m); }

/* Count the instances that ended since the watermark, up to now - SETTLE_US. */
static int advance(struct norc_web_metrics *m, struct norc_db *db, int64_t now)
{
	static const struct norc_col cols[] = {
		{"id", NORC_COL_INT},      {"status", NORC_COL_INT}, {"ended", NORC_COL_INT},
		{"started", NORC_COL_INT}, {"fire", NORC_COL_INT},   {"scheduled", NORC_COL_INT},
	};
	int64_t upto = now - SETTLE_US;
	for (int b = 0; b < MAX_BATCHES && m->wm_ended <= upto; b++) {
		struct norc_arg a[] = {NORC_AI(m->wm_ended), NORC_AI(upto), NORC_AI(m->wm_ended),
				       NORC_AI(m->wm_id), NORC_AI(BATCH)};
		json_t *rows = NULL;
		int rc = norc_model_query(db,
					  "SELECT id, status, ended, started, fire_time, CASE WHEN "
					  "schedule_id IS NOT NULL AND attempt = 1 THEN 1 ELSE 0 END "
					  "FROM instances WHERE ended >= ? AND ended <= ? AND (ended > "
					  "? OR id > ?) ORDER BY ended, id LIMIT ?", a, 5, cols, 6,
					  &rows);
		if (rc != NORC_OK)
			return rc;
		size_t n = json_array_size(rows), i;
		json_t *row;
		json_array_foreach(rows, i, row) {
			int64_t id = json_integer_value(json_object_get(row, "id"));
			int64_t ended = json_integer_value(json_object_get(row, "ended"));
			int st = (int)json_integer_value(json_object_get(row, "status"));
			if (st >= 0 && st < NSTATUS)
				m->ended[st]++;
			json_t *s = json_object_get(row, "started"), *f = json_object_get(row, "fire");
			if (json_integer_value(json_object_get(row, "scheduled")) && json_is_integer(s) &&
			    json_is_integer(f)) {
				double lag = (double)(json_integer_value(s) - json_integer_value(f)) / 1e6;
				if (lag < 0)
					lag = 0;
				size_t k = 0;
				while (k < NB && lag > bounds[k])
					k++;
				if (k < NB)
					m->lag_bucket[k]++;
				m->lag_count++;
				m->lag_sum += lag;
			}
			m->wm_ended = ended;
			m->wm_id = id;
		}
		json_decref(rows);
		if (n < BATCH)
			break;
	}
	return NORC_OK;
}

/* A label value with \, " and newline escaped. */
static void label(FILE *f, const char *v)
{
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*p, f);
	}
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

enum MHD_Result norc_web_metrics(struct norc_web_req *r)
{
	if (strcmp(r->method, "GET") != 0)
		return norc_web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "/metrics takes GET");
	struct norc_web *w = r->w;
	struct norc_db *db = w->db;
	int64_t now = norc_clock_now_us();
	int64_t dead = now - (int64_t)w->cfg->heartbeat_timeout_s * NORC_US_PER_SEC;
	if (advance(w->metrics, db, now) != NORC_OK)
		return norc_web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "database: %s",
				      norc_db_errmsg(db));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	struct norc_web_metrics *m = w->metrics;

	help(f, "norc_fire_lag_seconds", "histogram", "Process start minus nominal fire time of "
	     "scheduled instances (first attempts), observed as they end.");
	uint64_t cum = 0;
	for (size_t k = 0; k < NB; k++) {
		cum += m->lag_bucket[k];
		fprintf(f, "norc_fire_lag_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", bounds[k], cum);
	}
	fprintf(f, "norc_fire_lag_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", m->lag_count);
	fprintf(f, "norc_fire_lag_seconds_sum %.6f\nnorc_fire_lag_seconds_count %" PRIu64 "\n",
		m->lag_sum, m->lag_count);

	help(f, "norc_instances_ended_total", "counter", "Instances that ended since norc_web "
	     "started, by final status.");
	for (int s = NORC_ST_SUCCESS; s < NSTATUS; s++)
		fprintf(f, "norc_instances_ended_total{status=\"%s\"} %" PRIu64 "\n",
			norc_status_name(s), m->ended[s]);

	static const struct norc_col sc[] = {{"status", NORC_COL_INT}, {"n", NORC_COL_INT}};
	json_t *rows = NULL;
	int rc = norc_model_query(db, "SELECT status, COUNT(*) FROM instances WHERE ended IS NULL "
				  "GROUP BY status", NULL, 0, sc, 2, &rows);
	help(f, "norc_instances_active", "gauge", "Instances not ended yet, by status.");
	int64_t active[NSTATUS] = {0};
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t s = json_integer_value(json_object_get(row, "status"));
		if (s >= 0 && s < NSTATUS)
			active[s] = json_integer_value(json_object_get(row, "n"));
	}
	json_decref(rows);
	for (int s = NORC_ST_CREATED; rc == NORC_OK && s < NORC_ST_SUCCESS; s++)
		fprintf(f, "norc_instances_active{status=\"%s\"} %" PRId64 "\n",
			norc_status_name(s), active[s]);

	struct norc_report_query q = {.now = now, .dead_before = dead, .page = 1,
				      .per_page = INT32_MAX};
	json_t *qr = NULL;
	char err[300];
	if (rc == NORC_OK)
		rc = norc_report_run(db, NORC_REPORT_QUEUES, &q, &qr, err, sizeof(err));
	if (rc == NORC_OK) {
		json_t *data = json_object_get(qr, "data");
		norc_queue_add_items(db, data);
		help(f, "norc_queue_items", "gauge", "Items in a queue, as its plugin counts them.");
		json_array_foreach(data, i, row) {
			json_t *it = json_object_get(row, "items");
			if (!json_is_integer(it))
				continue;
			fputs("norc_queue_items{queue=\"", f);
			label(f, json_string_value(json_object_get(row, "name")));
			fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n", json_integer_value(it));
		}
		help(f, "norc_queue_oldest_age_seconds", "gauge", "Age of the oldest instance "
		     "waiting on a queue (0 when none waits).");
		json_array_foreach(data, i, row) {
			json_t *age = json_object_get(row, "oldest_age_s");
			fputs("norc_queue_oldest_age_seconds{queue=\"", f);
			label(f, json_string_value(json_object_get(row, "name")));
			fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n",
				json_is_integer(age) ? json_integer_value(age) : 0);
		}
		json_decref(qr);
	}

	static const struct norc_col ec[] = {{"id", NORC_COL_INT}, {"host", NORC_COL_TEXT},
					     {"queue", NORC_COL_TEXT}, {"slots", NORC_COL_INT},
					     {"used", NORC_COL_INT}};
	struct norc_arg ea[] = {NORC_AI(NORC_ST_RUNNING), NORC_AI(NORC_ST_SUCCESS), NORC_AI(dead)};
	rows = NULL;
	if (rc == NORC_OK)
		rc = norc_model_query(db,
				      "SELECT d.id, d.host, COALESCE(q.name, ''), d.concurrency, "
				      "(SELECT COUNT(*) FROM instances i WHERE i.executor_id = d.id "
				      "AND i.ended IS NULL AND i.status = ?) FROM daemons d LEFT JOIN "
				      "queues q ON q.id = d.queue_id WHERE d.kind = 'executor' AND "
				      "d.status < ? AND d.heartbeat >= ? ORDER BY d.id",
				      ea, 3, ec, 5, &rows);
	for (int pass = 0; rc == NORC_OK && pass < 2; pass++) {
		const char *name = pass ? "norc_executor_slots_used" : "norc_executor_slots";
		help(f, name, "gauge", pass ? "Slots of an alive executor running an instance."
					    : "Slots (concurrency) of an alive executor.");
		json_array_foreach(rows, i, row) {
			fprintf(f, "%s{executor=\"%" JSON_INTEGER_FORMAT "\",host=\"", name,
				json_integer_value(json_object_get(row, "id")));
			label(f, json_string_value(json_object_get(row, "host")));
			fputs("\",queue=\"", f);
			label(f, json_string_value(json_object_get(row, "queue")));
			fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n",
				json_integer_value(json_object_get(row, pass ? "used" : "slots")));
		}
	}
	json_decref(rows);

	static const struct norc_col dc[] = {{"kind", NORC_COL_TEXT}, {"n", NORC_COL_INT}};
	struct norc_arg da[] = {NORC_AI(NORC_ST_SUCCESS), NORC_AI(dead)};
	rows = NULL;
	if (rc == NORC_OK)
		rc = norc_model_query(db, "SELECT kind, COUNT(*) FROM daemons WHERE status < ? AND "
				      "heartbeat >= ? GROUP BY kind", da, 2, dc, 2, &rows);
	if (rc == NORC_OK) {
		help(f, "norc_daemons_alive", "gauge", "Daemons with a recent heartbeat, by kind.");
		int64_t ns = 0, ne = 0;
		json_array_foreach(rows, i, row) {
			const char *k = json_string_value(json_object_get(row, "kind"));
			int64_t n = json_integer_value(json_object_get(row, "n"));
			if (strcmp(k, "scheduler") == 0)
				ns = n;
			else if (strcmp(k, "executor") == 0)
				ne = n;
		}
		fprintf(f, "norc_daemons_alive{kind=\"scheduler\"} %" PRId64 "\n"
			   "norc_daemons_alive{kind=\"executor\"} %" PRId64 "\n", ns, ne);
	}
	json_decref(rows);
	fclose(f);
	if (rc != NORC_OK) {
		free(buf);
		return norc_web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "database: %s",
				      norc_db_errmsg(db));
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}
