/*
 * api.c - norc_web's JSON API under /api (docs/web.md): the original's reports with their
 * since/order/page/per_page/status parameters, logs, daemon control and task actions. Who
 * may do what is checked here, per route; http.c has already checked the login and the CSRF
 * token. Every state change is logged with the user and the client's address.
 */
#include "web.h"
#include "backup.h"
#include "clock.h"
#include "control.h"
#include "doorbell.h"
#include "instance.h"
#include "job.h"
#include "log.h"
#include "logread.h"
#include "mem.h"
#include "model.h"
#include "queue.h"
#include "report.h"
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SEGS 5

/* "/a/b/c" -> segs; false when there are too many or one is empty. */
static bool split(const char *path, char segs[MAX_SEGS][64], int *n)
{
	*n = 0;
	const char *p = path;
	while (*p == '/') {
		p++;
		size_t l = strcspn(p, "/");
		if (!l || l >= 64 || *n == MAX_SEGS)
			return false;
		memcpy(segs[*n], p, l);
		segs[(*n)++][l] = '\0';
		p += l;
	}
	return *p == '\0';
}

/* A positive id, or 0. */
static int64_t parse_id(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	return errno || end == s || *end || v <= 0 ? 0 : v;
}

/* An integer query parameter in [min, max] (dflt when absent); false with a 400 sent. */
static bool int_arg(struct norc_web_req *r, const char *name, int64_t min, int64_t max,
		    int64_t dflt, int64_t *out, enum MHD_Result *res)
{
	const char *v = norc_web_arg(r, name);
	*out = dflt;
	if (!v)
		return true;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max) {
		*res = norc_web_error(r, MHD_HTTP_BAD_REQUEST, "parameter %s='%.40s' must be a "
				      "whole number from %" PRId64 " to %" PRId64, name, v, min, max);
		return false;
	}
	*out = n;
	return true;
}

static bool need(struct norc_web_req *r, int role, const char *what, enum MHD_Result *res)
{
	if (r->who.role >= role)
		return true;
	NORC_WARN("web: %s: %s (%s) may not %s", r->client, r->who.user,
		  norc_webauth_role_name(r->who.role), what);
	*res = norc_web_error(r, MHD_HTTP_FORBIDDEN, "%s needs the %s role; %s is %s", what,
			      norc_webauth_role_name(role), r->who.user,
			      norc_webauth_role_name(r->who.role));
	return false;
}

static enum MHD_Result db_error(struct norc_web_req *r, const char *err)
{
	NORC_ERROR("web: %s", err);
	return norc_web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", err);
}

static enum MHD_Result report(struct norc_web_req *r, enum norc_report which, bool failed)
{
	enum MHD_Result res;
	char err[400];
	struct norc_web *w = r->w;
	struct norc_report_query q = {.now = norc_clock_now_us()};
	q.dead_before = q.now - (int64_t)w->cfg->heartbeat_timeout_s * NORC_US_PER_SEC;
	if (norc_report_parse_since(norc_web_arg(r, "since"), &q, err, sizeof(err)) != NORC_OK)
		return norc_web_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (!int_arg(r, "page", 1, INT32_MAX, 1, &q.page, &res) ||
	    !int_arg(r, "per_page", 1, 500, 20, &q.per_page, &res) ||
	    !int_arg(r, "executor", 1, INT64_MAX, 0, &q.executor_id, &res) ||
	    !int_arg(r, "task", 1, INT64_MAX, 0, &q.task_id, &res))
		return res;
	q.order = norc_web_arg(r, "order");
	q.status = failed ? "unhandled" : norc_web_arg(r, "status");
	json_t *out;
	int rc = norc_report_run(w->db, which, &q, &out, err, sizeof(err));
	if (rc == NORC_EINVAL)
		return norc_web_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (rc != NORC_OK)
		return db_error(r, err);
	if (which == NORC_REPORT_QUEUES)
		norc_queue_add_items(w->db, json_object_get(out, "data"));
	return norc_web_json(r, MHD_HTTP_OK, out);
}

static enum MHD_Result counts(struct norc_web_req *r)
{
	int64_t now = norc_clock_now_us(), sch = 0, ex = 0;
	int64_t dead = now - (int64_t)r->w->cfg->heartbeat_timeout_s * NORC_US_PER_SEC;
	const char *sql = "SELECT COUNT(*) FROM daemons WHERE kind = ? AND status < ? AND "
			  "heartbeat >= ?";
	struct norc_col c[] = {{"n", NORC_COL_INT}};
	json_t *a = NULL, *b = NULL;
	struct norc_arg x[] = {NORC_AS("scheduler"), NORC_AI(NORC_ST_SUCCESS), NORC_AI(dead)};
	struct norc_arg y[] = {NORC_AS("executor"), NORC_AI(NORC_ST_SUCCESS), NORC_AI(dead)};
	if (norc_model_query(r->w->db, sql, x, 3, c, 1, &a) != NORC_OK ||
	    norc_model_query(r->w->db, sql, y, 3, c, 1, &b) != NORC_OK) {
		json_decref(a);
		return db_error(r, norc_db_errmsg(r->w->db));
	}
	sch = json_integer_value(json_object_get(json_array_get(a, 0), "n"));
	ex = json_integer_value(json_object_get(json_array_get(b, 0), "n"));
	json_decref(a);
	json_decref(b);
	char stamp[40];
	norc_clock_format(now, stamp, sizeof(stamp));
	return norc_web_json(r, MHD_HTTP_OK, json_pack("{s:I, s:I, s:s}", "schedulers_alive",
						       (json_int_t)sch, "executors_alive",
						       (json_int_t)ex, "now", stamp));
}

/* The chart's data: the task's last N ended runs, oldest first. */
static enum MHD_Result runs(struct norc_web_req *r, int64_t task_id)
{
	enum MHD_Result res;
	int64_t limit;
	if (!int_arg(r, "limit", 1, 1000, 100, &limit, &res))
		return res;
	json_t *task = NULL, *rows = NULL;
	char err[300];
	int rc = norc_model_task_get(r->w->db, task_id, &task, err, sizeof(err));
	if (rc == NORC_ENOTFOUND)
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "%s", err);
	if (rc != NORC_OK)
		return db_error(r, err);
	static const struct norc_col cols[] = {{"id", NORC_COL_INT}, {"started_us", NORC_COL_INT},
					       {"ended_us", NORC_COL_INT}, {"status", NORC_COL_INT}};
	struct norc_arg a[] = {NORC_AI(task_id), NORC_AI(limit)};
	rc = norc_model_query(r->w->db,
			      "SELECT id, started, ended, status FROM instances WHERE task_id = ? "
			      "AND ended IS NOT NULL ORDER BY ended DESC LIMIT ?", a, 2, cols, 4,
			      &rows);
	if (rc != NORC_OK) {
		json_decref(task);
		return db_error(r, norc_db_errmsg(r->w->db));
	}
	json_t *out = json_array();
	for (size_t i = json_array_size(rows); i-- > 0;) {
		json_t *row = json_array_get(rows, i);
		json_t *st = json_object_get(row, "started_us");
		int64_t ended = json_integer_value(json_object_get(row, "ended_us"));
		int64_t started = json_is_integer(st) ? json_integer_value(st) : ended;
		int status = (int)json_integer_value(json_object_get(row, "status"));
		json_array_append_new(out, json_pack("{s:O, s:I, s:I, s:s, s:b}", "id",
						     json_object_get(row, "id"), "started_ms",
						     (json_int_t)(started / 1000), "duration_ms",
						     (json_int_t)((ended - started) / 1000), "status",
						     norc_status_name(status), "ok",
						     !norc_status_is_failure(status) &&
							     status != NORC_ST_KILLED));
	}
	json_decref(rows);
	json_t *t = json_pack("{s:O, s:O, s:O}", "id", json_object_get(task, "id"), "name",
			      json_object_get(task, "name"), "type", json_object_get(task, "type"));
	json_decref(task);
	return norc_web_json(r, MHD_HTTP_OK, json_pack("{s:o, s:o}", "task", t, "runs", out));
}

/* GET /logs/KIND/ID: the local file, else the backup's copy (fetched into an unlinked
 * temporary file in tmp_dir, then sent from there). */
static enum MHD_Result logs(struct norc_web_req *r, const char *kind_s, int64_t id)
{
	enum MHD_Result res;
	enum norc_logread_kind kind;
	if (norc_logread_parse_kind(kind_s, &kind) != 0)
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "no log kind '%s'; use instance, node, "
				      "executor or scheduler", kind_s);
	int64_t tail;
	if (!int_arg(r, "tail", 1, INT64_MAX, 0, &tail, &res))
		return res;
	struct norc_web *w = r->w;
	struct norc_logread t;
	char err[700];
	int rc = norc_logread_find(w->db, kind, id, &t, err, sizeof(err));
	if (rc == NORC_ENOTFOUND)
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "%s", err);
	if (rc != NORC_OK)
		return db_error(r, err);
	char *abs = norc_xasprintf("%s/%s", w->cfg->log_dir, t.path);
	const char *source = "local";
	int fd = t.path[0] ? open(abs, O_RDONLY | O_CLOEXEC) : -1;
	free(abs);
	if (fd < 0) {
		struct norc_backup *b = NULL;
		if (norc_backup_open(w->cfg, &b, err, sizeof(err)) != NORC_OK) {
			norc_logread_free(&t);
			return norc_web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", err);
		}
		rc = NORC_ENOTFOUND;
		if (b && t.path[0]) {
			fd = open(w->cfg->tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
			rc = fd < 0 ? norc_err_set(err, sizeof(err), NORC_EIO, "cannot make a "
						   "temporary file in tmp_dir %s: %s",
						   w->cfg->tmp_dir, strerror(errno))
				    : norc_backup_fetch(b, t.path, fd, err, sizeof(err));
			source = "backup";
		}
		if (rc == NORC_ENOTFOUND)
			norc_logread_explain(w->db, &t, b ? norc_backup_name(b) : NULL,
					     w->cfg->log_dir, "norc_log_viewer", err, sizeof(err));
		norc_backup_close(b);
		if (rc != NORC_OK) {
			if (fd >= 0)
				close(fd);
			norc_logread_free(&t);
			return norc_web_error(r, rc == NORC_ENOTFOUND ? MHD_HTTP_NOT_FOUND
								      : MHD_HTTP_BAD_GATEWAY,
					      "%s", err);
		}
	}
	norc_logread_free(&t);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return norc_web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the log");
	}
	uint64_t size = (uint64_t)st.st_size, off = 0;
	if (tail && (uint64_t)tail < size)
		off = size - (uint64_t)tail;
	return norc_web_fd(r, fd, off, size - off, "text/plain; charset=utf-8", source);
}

static unsigned int http_of(int rc)
{
	switch (rc) {
	case NORC_ENOTFOUND: return MHD_HTTP_NOT_FOUND;
	case NORC_EINVAL: return MHD_HTTP_BAD_REQUEST;
	case NORC_EBUSY:
	case NORC_EEXIST: return MHD_HTTP_CONFLICT;
	default: return MHD_HTTP_SERVICE_UNAVAILABLE;
	}
}

/* POST /control/executors|schedulers/ID {"request": ...} */
static enum MHD_Result control(struct norc_web_req *r, const char *kinds, int64_t id)
{
	enum MHD_Result res;
	const char *kind = strcmp(kinds, "executors") == 0    ? "executor"
			   : strcmp(kinds, "schedulers") == 0 ? "scheduler"
							      : NULL;
	if (!kind)
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "control takes executors or "
				      "schedulers, not '%s'", kinds);
	json_t *b;
	if (!norc_web_body_json(r, &b, &res))
		return res;
	const char *name = json_string_value(json_object_get(b, "request"));
	char req[16];
	snprintf(req, sizeof(req), "%s", name ? name : "");
	json_decref(b);
	bool handle = strcmp(req, "handle") == 0;
	int request = handle ? 0 : norc_control_parse(req);
	if (!handle && !request)
		return norc_web_error(r, MHD_HTTP_BAD_REQUEST, "request '%s' is unknown; use stop, "
				      "kill, pause, resume, reload or handle", req);
	char what[80];
	snprintf(what, sizeof(what), "%s %s #%" PRId64, req, kind, id);
	bool admin_only = request == NORC_REQ_STOP || request == NORC_REQ_KILL;
	if (!need(r, admin_only ? NORC_ROLE_ADMIN : NORC_ROLE_OPERATOR, what, &res))
		return res;
	char err[512];
	int rc = handle ? norc_control_handle(r->w->db, r->w->cfg, kind, id, err, sizeof(err))
			: norc_control_request(r->w->db, kind, id, request, false, err, sizeof(err));
	NORC_INFO("web: %s: %s (%s): %s: %s", r->client, r->who.user,
		  norc_webauth_role_name(r->who.role), what, rc == NORC_OK ? "done" : err);
	if (rc != NORC_OK)
		return norc_web_error(r, http_of(rc), "%s", err);
	char msg[200];
	if (handle) {
		snprintf(msg, sizeof(msg), "The error state of %s #%" PRId64 " was marked as "
			 "handled.", kind, id);
	} else {
		int64_t qid = 0;
		if (strcmp(kind, "executor") == 0)
			norc_db_query_int64(r->w->db, "SELECT COALESCE(queue_id, 0) FROM daemons "
					    "WHERE id = ?", &qid, 1, id);
		norc_doorbell_ring_request(r->w->cfg, qid);
		snprintf(msg, sizeof(msg), "%s request left for %s #%" PRId64 "; it acts within a "
			 "heartbeat.", norc_control_name(request), kind, id);
	}
	return norc_web_json(r, MHD_HTTP_OK, json_pack("{s:b, s:s}", "ok", 1, "message", msg));
}

/* POST /instances/ID/handle | kill */
static enum MHD_Result instance_action(struct norc_web_req *r, int64_t id, const char *action)
{
	enum MHD_Result res;
	char what[80], err[512];
	snprintf(what, sizeof(what), "%s instance #%" PRId64, action, id);
	if (!need(r, NORC_ROLE_OPERATOR, what, &res))
		return res;
	int rc;
	if (strcmp(action, "handle") == 0) {
		rc = norc_control_handle_instance(r->w->db, id, err, sizeof(err));
	} else if (strcmp(action, "kill") == 0) {
		struct norc_job_notes notes = {0};
		rc = norc_job_kill(r->w->db, id, NORC_ST_INTERRUPTED, "killed from the web page",
				   &notes, err, sizeof(err));
		if (rc == NORC_OK)
			norc_job_notes_flush(r->w->cfg, &notes);
		else
			norc_job_notes_free(&notes);
	} else {
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "instances take handle or kill, not "
				      "'%s'", action);
	}
	NORC_INFO("web: %s: %s (%s): %s: %s", r->client, r->who.user,
		  norc_webauth_role_name(r->who.role), what, rc == NORC_OK ? "done" : err);
	if (rc != NORC_OK)
		return norc_web_error(r, http_of(rc), "%s", err);
	return norc_web_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1));
}

/* POST /tasks/ID/run {"queue": NAME}: the queue of its first schedule by default. */
static enum MHD_Result run_now(struct norc_web_req *r, int64_t task_id)
{
	enum MHD_Result res;
	char what[80], err[512];
	snprintf(what, sizeof(what), "run task #%" PRId64, task_id);
	if (!need(r, NORC_ROLE_OPERATOR, what, &res))
		return res;
	json_t *b;
	if (!norc_web_body_json(r, &b, &res))
		return res;
	json_t *qv = json_object_get(b, "queue");
	int64_t qid = 0;
	int rc = NORC_OK;
	if (qv && !json_is_string(qv)) {
		json_decref(b);
		return norc_web_error(r, MHD_HTTP_BAD_REQUEST, "\"queue\" must be a queue name");
	}
	if (qv) {
		rc = norc_model_queue_find(r->w->db, json_string_value(qv), &qid, err, sizeof(err));
	} else {
		rc = norc_db_query_int64(r->w->db, "SELECT queue_id FROM schedules WHERE task_id = "
					 "? AND deleted = 0 ORDER BY id LIMIT 1", &qid, 1, task_id);
		if (rc == NORC_ENOTFOUND)
			rc = norc_err_set(err, sizeof(err), NORC_EINVAL, "task #%" PRId64 " has no "
					  "schedule to take a queue from; give {\"queue\": NAME}",
					  task_id);
		else if (rc != NORC_OK)
			snprintf(err, sizeof(err), "%s", norc_db_errmsg(r->w->db));
	}
	json_decref(b);
	int64_t found;
	if (rc == NORC_OK) {
		char ref[32];
		snprintf(ref, sizeof(ref), "%" PRId64, task_id);
		rc = norc_model_task_find(r->w->db, ref, &found, err, sizeof(err));
	}
	int64_t id = 0;
	if (rc == NORC_OK)
		rc = norc_instance_run_now(r->w->db, task_id, qid, &id, err, sizeof(err));
	NORC_INFO("web: %s: %s (%s): %s: %s", r->client, r->who.user,
		  norc_webauth_role_name(r->who.role), what, rc == NORC_OK ? "done" : err);
	if (rc != NORC_OK)
		return norc_web_error(r, http_of(rc), "%s", err);
	norc_doorbell_ring(r->w->cfg, qid);
	return norc_web_json(r, MHD_HTTP_OK, json_pack("{s:I}", "id", (json_int_t)id));
}

static enum MHD_Result schedule_action(struct norc_web_req *r, int64_t id, const char *action)
{
	enum MHD_Result res;
	bool pause = strcmp(action, "pause") == 0;
	if (!pause && strcmp(action, "resume") != 0)
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "schedules take pause or resume, not "
				      "'%s'", action);
	char what[80], err[512];
	snprintf(what, sizeof(what), "%s schedule #%" PRId64, action, id);
	if (!need(r, NORC_ROLE_OPERATOR, what, &res))
		return res;
	int rc = norc_model_schedule_pause(r->w->db, id, pause, err, sizeof(err));
	NORC_INFO("web: %s: %s (%s): %s: %s", r->client, r->who.user,
		  norc_webauth_role_name(r->who.role), what, rc == NORC_OK ? "done" : err);
	if (rc != NORC_OK)
		return norc_web_error(r, http_of(rc), "%s", err);
	return norc_web_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1));
}

static enum MHD_Result get_one(struct norc_web_req *r, int rc, json_t *obj, const char *err)
{
	if (rc == NORC_ENOTFOUND)
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "%s", err);
	if (rc != NORC_OK)
		return db_error(r, err);
	return norc_web_json(r, MHD_HTTP_OK, obj);
}

enum MHD_Result norc_web_api(struct norc_web_req *r, const char *path)
{
	char s[MAX_SEGS][64];
	int n;
	bool post = strcmp(r->method, "POST") == 0;
	if (!split(path, s, &n) || n == 0)
		return norc_web_error(r, MHD_HTTP_NOT_FOUND, "no such API path: %s", r->url);
	int64_t id = n >= 2 ? parse_id(s[1]) : 0;
	static const struct {
		const char *name;
		enum norc_report which;
		bool failed;
	} reports[] = {
		{"executors", NORC_REPORT_EXECUTORS, false}, {"schedulers", NORC_REPORT_SCHEDULERS, false},
		{"queues", NORC_REPORT_QUEUES, false},       {"tasks", NORC_REPORT_TASKS, false},
		{"instances", NORC_REPORT_INSTANCES, false}, {"failed", NORC_REPORT_INSTANCES, true},
	};
	json_t *obj = NULL;
	char err[400] = "";
	if (!post) {
		if (n == 1 && strcmp(s[0], "counts") == 0)
			return counts(r);
		for (size_t i = 0; n == 1 && i < sizeof(reports) / sizeof(reports[0]); i++)
			if (strcmp(s[0], reports[i].name) == 0)
				return report(r, reports[i].which, reports[i].failed);
		if (n == 2 && id && strcmp(s[0], "instances") == 0) {
			int rc = norc_model_instance_get(r->w->db, id, &obj, err, sizeof(err));
			return get_one(r, rc, obj, err);
		}
		if (n == 3 && id && strcmp(s[0], "tasks") == 0 && strcmp(s[2], "runs") == 0)
			return runs(r, id);
		if (n == 3 && id && strcmp(s[0], "tasks") == 0 && strcmp(s[2], "schedules") == 0) {
			int rc = norc_model_schedule_list(r->w->db, id, &obj);
			return get_one(r, rc, rc == NORC_OK ? json_pack("{s:o}", "data", obj) : NULL,
				       norc_db_errmsg(r->w->db));
		}
		if (n == 3 && strcmp(s[0], "logs") == 0) {
			int64_t lid = parse_id(s[2][0] == '#' ? s[2] + 1 : s[2]);
			if (!lid)
				return norc_web_error(r, MHD_HTTP_BAD_REQUEST, "'%s' is not an id",
						      s[2]);
			return logs(r, s[1], lid);
		}
	} else {
		if (n == 3 && strcmp(s[0], "control") == 0 && parse_id(s[2]))
			return control(r, s[1], parse_id(s[2]));
		if (n == 3 && id && strcmp(s[0], "instances") == 0)
			return instance_action(r, id, s[2]);
		if (n == 3 && id && strcmp(s[0], "tasks") == 0 && strcmp(s[2], "run") == 0)
			return run_now(r, id);
		if (n == 3 && id && strcmp(s[0], "schedules") == 0)
			return schedule_action(r, id, s[2]);
	}
	return norc_web_error(r, MHD_HTTP_NOT_FOUND, "no such API path: %s %s (docs/web.md lists "
			      "them)", r->method, r->url);
}
