/*
 * alert.c - see alert.h. Alert rules and the alerts table: what raises an alert, the dead
 * man's switches, and the leases under which schedulers deliver them.
 */
#include "alert.h"
#include "clock.h"
#include "instance.h"
#include "mem.h"
#include "model.h"
#include "status.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWITCH_BATCH 100
#define BACKOFF_MAX_S 3600

static const char *const kinds[] = {"?", "failure", "timeout", "retries exhausted",
				    "deadline missed", "no success", "test"};
static const char *const states[] = {"waiting", "sending", "sent", "failed", "cancelled"};
static const char *const on_names[] = {"failure", "timeout", "exhausted"};

const char *norc_alert_kind_name(int kind)
{
	return kind > 0 && kind <= NORC_ALERT_TEST ? kinds[kind] : "?";
}

const char *norc_alert_state_name(int state)
{
	return state >= 0 && state <= NORC_ALERT_CANCELLED ? states[state] : "?";
}

int norc_alert_on_parse(const char *text, int *events, char *err, size_t errlen)
{
	*events = 0;
	if (strcmp(text, "none") == 0)
		return NORC_OK;
	if (strcmp(text, "all") == 0) {
		*events = NORC_ALERT_ON_ALL;
		return NORC_OK;
	}
	char *copy = norc_xstrdup(text), *save = NULL;
	int rc = NORC_OK;
	for (char *w = strtok_r(copy, ",", &save); w && rc == NORC_OK;
	     w = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < 3 && strcmp(w, on_names[i]) != 0)
			i++;
		if (i == 3)
			rc = norc_err_set(err, errlen, NORC_EINVAL, "--on: unknown event \"%s\"; use "
					  "failure, timeout, exhausted (comma-separated), all or "
					  "none", w);
		else
			*events |= 1 << i;
	}
	free(copy);
	if (rc == NORC_OK && *events == 0)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "--on: no event in \"%s\"; use failure, "
				  "timeout, exhausted, all or none", text);
	return rc;
}

const char *norc_alert_on_format(int events)
{
	static const char *const texts[] = {"none",
					    "failure",
					    "timeout",
					    "failure,timeout",
					    "exhausted",
					    "failure,exhausted",
					    "timeout,exhausted",
					    "failure,timeout,exhausted"};
	return texts[events & NORC_ALERT_ON_ALL];
}

int norc_alert_check_email(const char *list, char *err, size_t errlen)
{
	if (strlen(list) > 512)
		return norc_err_set(err, errlen, NORC_EINVAL, "--email: at most 512 characters");
	char *copy = norc_xstrdup(list), *save = NULL;
	int rc = NORC_OK, n = 0;
	for (char *a = strtok_r(copy, ",", &save); a && rc == NORC_OK;
	     a = strtok_r(NULL, ",", &save), n++) {
		const char *at = strchr(a, '@');
		bool ok = at && at != a && at[1] && !strchr(at + 1, '@');
		for (const unsigned char *c = (const unsigned char *)a; ok && *c; c++)
			ok = *c > ' ' && *c < 127 && !strchr("<>()[]\\;:\"", *c);
		if (!ok)
			rc = norc_err_set(err, errlen, NORC_EINVAL, "--email: \"%s\" is not an e-mail "
					  "address (user@domain, several separated by commas)", a);
	}
	free(copy);
	if (rc == NORC_OK && n == 0)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "--email: no address given");
	return rc;
}

int norc_alert_check_webhook(const char *url, char *err, size_t errlen)
{
	bool ok = (strncmp(url, "http://", 7) == 0 && url[7]) ||
		  (strncmp(url, "https://", 8) == 0 && url[8]);
	for (const unsigned char *c = (const unsigned char *)url; ok && *c; c++)
		ok = *c > ' ' && *c < 127;
	if (!ok || strlen(url) > 1024)
		return norc_err_set(err, errlen, NORC_EINVAL, "--webhook: \"%s\" is not an http:// "
				    "or https:// URL (no spaces, at most 1024 characters)", url);
	return NORC_OK;
}

/* ---- rules ---- */

static char *dup_or_null(const char *s) { return s && *s ? norc_xstrdup(s) : NULL; }

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int norc_alert_rule_set(struct norc_db *db, int64_t task_id, const struct norc_alert_rule *r,
			int has, bool *changed, char *err, size_t errlen)
{
	if (changed)
		*changed = false;
	if (errlen)
		err[0] = '\0';
	if ((has & NORC_ALERT_SET_EMAIL) && r->email && *r->email &&
	    norc_alert_check_email(r->email, err, errlen) != NORC_OK)
		return NORC_EINVAL;
	if ((has & NORC_ALERT_SET_WEBHOOK) && r->webhook && *r->webhook &&
	    norc_alert_check_webhook(r->webhook, err, errlen) != NORC_OK)
		return NORC_EINVAL;
	int rc = norc_db_begin_write(db);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "alert: %s", norc_db_errmsg(db));
	struct norc_stmt *st;
	bool exists = false;
	struct norc_alert_rule old = {0};
	char *email = NULL, *webhook = NULL;
	rc = norc_db_query_row(db, "SELECT events, deadline, no_success, email, webhook FROM "
			       "task_alerts WHERE task_id = ?", task_id, &st);
	if (rc == NORC_OK) {
		exists = true;
		old.events = (int)norc_stmt_column_int64(st, 0);
		old.deadline_s = (int)norc_stmt_column_int64(st, 1);
		old.no_success_s = (int)norc_stmt_column_int64(st, 2);
		email = dup_or_null(norc_stmt_column_text(st, 3));
		webhook = dup_or_null(norc_stmt_column_text(st, 4));
		norc_stmt_finalize(st);
	} else if (rc == NORC_ENOTFOUND) {
		rc = NORC_OK;
	}
	struct norc_alert_rule n = old;
	if (has & NORC_ALERT_SET_ON)
		n.events = r->events;
	if (has & NORC_ALERT_SET_DEADLINE)
		n.deadline_s = r->deadline_s;
	if (has & NORC_ALERT_SET_NO_SUCCESS)
		n.no_success_s = r->no_success_s;
	n.email = (has & NORC_ALERT_SET_EMAIL) ? (r->email && *r->email ? r->email : NULL) : email;
	n.webhook = (has & NORC_ALERT_SET_WEBHOOK) ? (r->webhook && *r->webhook ? r->webhook : NULL)
						    : webhook;
	if (rc == NORC_OK && !n.events && !n.deadline_s && !n.no_success_s)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "task #%" PRId64 ": the alert would "
				  "watch nothing; give --on, --deadline or --no-success (or remove "
				  "it with `norc alert clear`)", task_id);
	if (rc == NORC_OK && !n.email && !n.webhook)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "task #%" PRId64 ": the alert has no "
				  "destination; give --email or --webhook", task_id);
	bool diff = !exists || n.events != old.events || n.deadline_s != old.deadline_s ||
		    n.no_success_s != old.no_success_s || !same(n.email, email) ||
		    !same(n.webhook, webhook);
	bool rearm = !exists || n.no_success_s != old.no_success_s;
	int64_t now = norc_clock_now_us();
	if (rc == NORC_OK && diff) {
		/* a changed switch is looked at now: it counts from the last success */
		struct norc_arg a[] = {NORC_AI(n.events), NORC_AI(n.deadline_s),
				       NORC_AI(n.no_success_s), NORC_AS(n.email), NORC_AS(n.webhook),
				       NORC_AI(now), NORC_AI(task_id)};
		if (!exists)
			rc = norc_model_exec(db, "INSERT INTO task_alerts (events, deadline, "
					     "no_success, email, webhook, changed, task_id, armed) "
					     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
					     (struct norc_arg[]){a[0], a[1], a[2], a[3], a[4], a[5],
								 a[6], NORC_AI(now)}, 8, NULL);
		else
			rc = norc_model_exec(db, "UPDATE task_alerts SET events = ?, deadline = ?, "
					     "no_success = ?, email = ?, webhook = ?, changed = ? "
					     "WHERE task_id = ?", a, 7, NULL);
		struct norc_arg b[] = {n.no_success_s ? NORC_AI(now) : NORC_AS(NULL), NORC_AI(now),
				       NORC_AI(task_id)};
		if (rc == NORC_OK && rearm)
			rc = norc_model_exec(db, "UPDATE task_alerts SET dms_due = ?, armed = ?, "
					     "dms_alerted = NULL WHERE task_id = ?", b, 3, NULL);
		struct norc_arg c[] = {NORC_AI(task_id)};
		if (rc == NORC_OK && n.deadline_s != old.deadline_s) /* the schedulers reload */
			rc = norc_model_exec(db, "UPDATE schedules SET changed = 1 WHERE task_id = ? "
					     "AND deleted = 0", c, 1, NULL);
		if (rc != NORC_OK && !err[0])
			norc_err_set(err, errlen, rc, "alert: %s", norc_db_errmsg(db));
	}
	free(email);
	free(webhook);
	if (rc == NORC_OK)
		rc = norc_db_commit(db);
	if (rc != NORC_OK) {
		if (!err[0])
			norc_err_set(err, errlen, rc, "alert: %s", norc_db_errmsg(db));
		norc_db_rollback(db);
		return rc;
	}
	if (changed)
		*changed = diff;
	return NORC_OK;
}

int norc_alert_rule_clear(struct norc_db *db, int64_t task_id, bool *had)
{
	int64_t n = 0, deadline = 0;
	*had = false;
	int rc = norc_db_begin_write(db);
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db, "SELECT deadline FROM task_alerts WHERE task_id = ?",
					 &deadline, 1, task_id);
	if (rc == NORC_ENOTFOUND) {
		norc_db_rollback(db);
		return NORC_OK;
	}
	struct norc_arg a[] = {NORC_AI(task_id)};
	if (rc == NORC_OK)
		rc = norc_model_exec(db, "DELETE FROM task_alerts WHERE task_id = ?", a, 1, &n);
	if (rc == NORC_OK && deadline)
		rc = norc_model_exec(db, "UPDATE schedules SET changed = 1 WHERE task_id = ? AND "
				     "deleted = 0", a, 1, NULL);
	rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
	*had = rc == NORC_OK && n > 0;
	return rc;
}

int norc_alert_rule_get(struct norc_db *db, int64_t task_id, json_t **obj)
{
	*obj = NULL;
	struct norc_stmt *st;
	int rc = norc_db_query_row(db, "SELECT events, deadline, no_success, email, webhook, "
				   "COALESCE(dms_due, 0), COALESCE(dms_alerted, 0) FROM task_alerts "
				   "WHERE task_id = ?", task_id, &st);
	if (rc != NORC_OK)
		return rc;
	char due[40], alerted[40];
	norc_clock_format(norc_stmt_column_int64(st, 5), due, sizeof(due));
	norc_clock_format(norc_stmt_column_int64(st, 6), alerted, sizeof(alerted));
	const char *email = norc_stmt_column_text(st, 3), *hook = norc_stmt_column_text(st, 4);
	*obj = json_pack("{s:s, s:I, s:I, s:o, s:o, s:s, s:s}",
			 "on", norc_alert_on_format((int)norc_stmt_column_int64(st, 0)),
			 "deadline", (json_int_t)norc_stmt_column_int64(st, 1),
			 "no_success", (json_int_t)norc_stmt_column_int64(st, 2),
			 "email", email ? json_string(email) : json_null(),
			 "webhook", hook ? json_string(hook) : json_null(),
			 "switch_next_look", due, "switch_tripped_for", alerted);
	norc_stmt_finalize(st);
	return *obj ? NORC_OK : NORC_ENOMEM;
}

/* ---- what raises alerts ---- */

int norc_alert_on_end(struct norc_db *db, int64_t instance_id, int status, bool final,
		      int64_t now_us, int64_t *added)
{
	*added = 0;
	bool timeout = status == NORC_ST_TIMEDOUT;
	/* a timeout is a failure too; "exhausted" only when nothing follows */
	int matched = NORC_ALERT_ON_FAILURE | (timeout ? NORC_ALERT_ON_TIMEOUT : 0) |
		      (final ? NORC_ALERT_ON_EXHAUSTED : 0);
	struct norc_arg a[] = {
		NORC_AI(final), NORC_AI(timeout), NORC_AI(now_us),
		NORC_AS(final ? "no attempt is left" : "it will be retried"), NORC_AI(now_us),
		NORC_AI(instance_id), NORC_AI(matched),
	};
	return norc_model_exec(db, "INSERT INTO alerts (task_id, instance_id, kind, state, due, "
			       "detail, created) SELECT a.task_id, i.id, CASE WHEN ? = 1 AND "
			       "(a.events & 4) <> 0 THEN 3 WHEN ? = 1 AND (a.events & 2) <> 0 THEN 2 "
			       "ELSE 1 END, 0, ?, ?, ? FROM instances i JOIN task_alerts a ON "
			       "a.task_id = i.task_id WHERE i.id = ? AND (a.events & ?) <> 0", a, 7,
			       added);
}

int norc_alert_on_fire(struct norc_db *db, int64_t task_id, int64_t instance_id, int64_t due_us,
		       int64_t now_us)
{
	struct norc_arg a[] = {NORC_AI(task_id), NORC_AI(instance_id), NORC_AI(NORC_ALERT_DEADLINE),
			       NORC_AI(due_us), NORC_AI(now_us)};
	return norc_model_exec(db, "INSERT INTO alerts (task_id, instance_id, kind, state, due, "
			       "created) VALUES (?, ?, ?, 0, ?, ?)", a, 5, NULL);
}

int norc_alert_test(struct norc_db *db, int64_t task_id, int64_t *id, char *err, size_t errlen)
{
	int64_t now = norc_clock_now_us(), changed = 0;
	struct norc_arg a[] = {NORC_AI(NORC_ALERT_TEST), NORC_AI(now),
			       NORC_AS("a test sent by `norc alert test`"), NORC_AI(now),
			       NORC_AI(task_id)};
	int rc = norc_db_begin_write(db);
	if (rc == NORC_OK)
		rc = norc_model_exec(db, "INSERT INTO alerts (task_id, kind, state, due, detail, "
				     "created) SELECT task_id, ?, 0, ?, ?, ? FROM task_alerts WHERE "
				     "task_id = ?", a, 5, &changed);
	if (rc == NORC_OK && changed == 1)
		*id = norc_db_last_insert_id(db);
	rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "alert test: %s", norc_db_errmsg(db));
	if (changed != 1)
		return norc_err_set(err, errlen, NORC_ENOTFOUND, "task #%" PRId64 " has no alert; "
				    "set one with `norc alert set TASK --email ...`", task_id);
	return NORC_OK;
}

/* ---- dead man's switches ---- */

struct sw {
	int64_t task_id, no_success_us, due, armed, alerted;
	bool gone;
};

/* Look at one switch in its own transaction; *tripped: an alert was written. */
static int look(struct norc_db *db, const struct sw *w, int64_t now, bool *tripped)
{
	*tripped = false;
	int rc = norc_db_begin_write(db);
	if (rc != NORC_OK)
		return rc;
	int64_t last = 0, next = 0, alerted = w->alerted, changed = 0;
	bool trip = false;
	if (!w->gone && w->no_success_us) {
		/* the task's newest success: index instances_task, walked from the newest end */
		rc = norc_db_query_int64(db, "SELECT ended FROM instances WHERE task_id = ? AND "
					 "status = ? AND ended IS NOT NULL ORDER BY ended DESC LIMIT 1",
					 &last, 2, w->task_id, (int64_t)NORC_ST_SUCCESS);
		if (rc == NORC_ENOTFOUND)
			rc = NORC_OK;
		int64_t base = last ? last : w->armed;
		trip = now >= base + w->no_success_us && alerted != base;
		if (trip)
			alerted = base;
		next = now >= base + w->no_success_us ? now + w->no_success_us
						      : base + w->no_success_us;
	}
	struct norc_arg a[] = {next ? NORC_AI(next) : NORC_AS(NULL),
			       alerted ? NORC_AI(alerted) : NORC_AS(NULL), NORC_AI(w->task_id),
			       NORC_AI(w->due)};
	if (rc == NORC_OK)
		rc = norc_model_exec(db, "UPDATE task_alerts SET dms_due = ?, dms_alerted = ? WHERE "
				     "task_id = ? AND dms_due = ?", a, 4, &changed);
	if (rc == NORC_OK && changed == 1 && trip) {
		char since[40], detail[200], dur[40];
		norc_clock_format(alerted, since, sizeof(since));
		int64_t s = w->no_success_us / NORC_US_PER_SEC;
		if (s % 86400 == 0)
			snprintf(dur, sizeof(dur), "%" PRId64 "d", s / 86400);
		else if (s % 3600 == 0)
			snprintf(dur, sizeof(dur), "%" PRId64 "h", s / 3600);
		else if (s % 60 == 0)
			snprintf(dur, sizeof(dur), "%" PRId64 "m", s / 60);
		else
			snprintf(dur, sizeof(dur), "%" PRId64 "s", s);
		snprintf(detail, sizeof(detail), "no successful run for %s: %s %s", dur,
			 last ? "the last one ended" : "none since the alert was set,", since);
		struct norc_arg b[] = {NORC_AI(w->task_id), NORC_AI(NORC_ALERT_NO_SUCCESS),
				       NORC_AI(now), NORC_AS(detail), NORC_AI(now)};
		rc = norc_model_exec(db, "INSERT INTO alerts (task_id, kind, state, due, detail, "
				     "created) VALUES (?, ?, 0, ?, ?, ?)", b, 5, NULL);
		*tripped = rc == NORC_OK;
	}
	rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
	if (rc != NORC_OK)
		*tripped = false;
	return rc;
}

int norc_alert_check_switches(struct norc_db *db, int64_t now_us, int limit, int *tripped,
			      int64_t *next_us)
{
	if (limit > SWITCH_BATCH)
		limit = SWITCH_BATCH;
	*tripped = 0;
	*next_us = 0;
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, "SELECT a.task_id, a.no_success, a.dms_due, a.armed, "
				 "COALESCE(a.dms_alerted, 0), t.deleted FROM task_alerts a JOIN tasks "
				 "t ON t.id = a.task_id WHERE a.dms_due <= ? ORDER BY a.dms_due LIMIT "
				 "?", &st);
	if (rc != NORC_OK)
		return rc;
	norc_stmt_bind_int64(st, 1, now_us);
	norc_stmt_bind_int64(st, 2, limit);
	struct sw w[SWITCH_BATCH];
	size_t n = 0;
	bool row;
	while (n < (size_t)limit && (rc = norc_stmt_step(st, &row)) == NORC_OK && row)
		w[n++] = (struct sw){norc_stmt_column_int64(st, 0),
				     norc_stmt_column_int64(st, 1) * NORC_US_PER_SEC,
				     norc_stmt_column_int64(st, 2), norc_stmt_column_int64(st, 3),
				     norc_stmt_column_int64(st, 4), norc_stmt_column_int64(st, 5) != 0};
	norc_stmt_finalize(st);
	for (size_t i = 0; i < n && rc == NORC_OK; i++) {
		bool t;
		rc = look(db, &w[i], now_us, &t);
		*tripped += t;
	}
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db, "SELECT MIN(dms_due) FROM task_alerts", next_us, 0);
	return rc == NORC_ENOTFOUND ? NORC_OK : rc;
}

/* ---- delivery ---- */

void norc_alert_msgs_free(struct norc_alert_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].task_name);
		free(m[i].task_type);
		free(m[i].reason);
		free(m[i].host);
		free(m[i].detail);
		free(m[i].email);
		free(m[i].webhook);
	}
	free(m);
}

struct due_row {
	int64_t id, due, instance_id;
	int kind, state, attempts, channels; /* channels: still to send (rule's minus delivered) */
	bool has_rule;
};

/* A due deadline: cancelled when the run succeeded by then (*cancel); otherwise *instance_id
 * becomes its latest attempt and detail says what it was doing. */
static int judge_deadline(struct norc_db *db, const struct due_row *r, int64_t now,
			  int64_t *instance_id, bool *cancel, char *detail, size_t len)
{
	*cancel = false;
	struct norc_stmt *st;
	int rc = norc_db_query_row(db, "SELECT i.id, i.status, COALESCE(i.ended, 0) FROM "
				   "instances i JOIN instances f ON f.schedule_id = i.schedule_id "
				   "AND f.fire_time = i.fire_time WHERE f.id = ? ORDER BY i.attempt "
				   "DESC LIMIT 1", r->instance_id, &st);
	if (rc == NORC_ENOTFOUND) {
		snprintf(detail, len, "its instance #%" PRId64 " is gone", r->instance_id);
		return NORC_OK;
	}
	if (rc != NORC_OK)
		return rc;
	*instance_id = norc_stmt_column_int64(st, 0);
	int status = (int)norc_stmt_column_int64(st, 1);
	int64_t ended = norc_stmt_column_int64(st, 2);
	norc_stmt_finalize(st);
	char by[40], at[40];
	norc_clock_format(r->due, by, sizeof(by));
	norc_clock_format(ended, at, sizeof(at));
	if (status == NORC_ST_SUCCESS && ended <= r->due)
		*cancel = true;
	else if (status == NORC_ST_SUCCESS)
		snprintf(detail, len, "it should have succeeded by %s; it succeeded late, at %s", by,
			 at);
	else if (norc_status_is_final(status))
		snprintf(detail, len, "it should have succeeded by %s; it ended %s at %s", by,
			 norc_status_name(status), at);
	else
		snprintf(detail, len, "it should have succeeded by %s; it was still %s at the "
			 "deadline", by, norc_status_name(status));
	(void)now;
	return NORC_OK;
}

static int load_msg(struct norc_db *db, int64_t id, struct norc_alert_msg *m)
{
	struct norc_stmt *st;
	int rc = norc_db_query_row(
		db,
		"SELECT a.id, a.kind, a.attempts, a.delivered, a.task_id, t.name, t.type, "
		"COALESCE(a.instance_id, 0), COALESCE(i.status, 0), COALESCE(i.attempt, 0), "
		"i.exit_code, COALESCE(i.term_signal, 0), i.reason, d.host, COALESCE(i.executor_id, "
		"0), COALESCE(i.fire_time, 0), COALESCE(i.started, 0), COALESCE(i.ended, 0), "
		"a.created, a.detail, r.email, r.webhook FROM alerts a JOIN tasks t ON t.id = "
		"a.task_id LEFT JOIN instances i ON i.id = a.instance_id LEFT JOIN daemons d ON d.id "
		"= i.executor_id LEFT JOIN task_alerts r ON r.task_id = a.task_id WHERE a.id = ?",
		id, &st);
	if (rc != NORC_OK)
		return rc;
	*m = (struct norc_alert_msg){
		.id = norc_stmt_column_int64(st, 0),
		.kind = (int)norc_stmt_column_int64(st, 1),
		.attempts = (int)norc_stmt_column_int64(st, 2),
		.delivered = (int)norc_stmt_column_int64(st, 3),
		.task_id = norc_stmt_column_int64(st, 4),
		.task_name = norc_xstrdup(norc_stmt_column_text(st, 5)),
		.task_type = norc_xstrdup(norc_stmt_column_text(st, 6)),
		.instance_id = norc_stmt_column_int64(st, 7),
		.status = (int)norc_stmt_column_int64(st, 8),
		.attempt = (int)norc_stmt_column_int64(st, 9),
		.exit_code = norc_stmt_column_is_null(st, 10) ? -1
							       : (int)norc_stmt_column_int64(st, 10),
		.term_signal = (int)norc_stmt_column_int64(st, 11),
		.reason = norc_xstrdup(norc_stmt_column_text(st, 12)),
		.host = norc_xstrdup(norc_stmt_column_text(st, 13)),
		.executor_id = norc_stmt_column_int64(st, 14),
		.fire_time = norc_stmt_column_int64(st, 15),
		.started = norc_stmt_column_int64(st, 16),
		.ended = norc_stmt_column_int64(st, 17),
		.created = norc_stmt_column_int64(st, 18),
		.detail = norc_xstrdup(norc_stmt_column_text(st, 19)),
		.email = norc_xstrdup(norc_stmt_column_text(st, 20)),
		.webhook = norc_xstrdup(norc_stmt_column_text(st, 21)),
	};
	norc_stmt_finalize(st);
	return NORC_OK;
}

/* Inside the take's transaction: lease one due row (or cancel it); *taken when leased. */
static int take_one(struct norc_db *db, const struct due_row *r, int64_t now, int64_t lease,
		    bool *taken, int *cancelled)
{
	*taken = false;
	int64_t instance_id = r->instance_id, changed = 0;
	char detail[256] = "", why[120] = "";
	bool cancel = !r->has_rule;
	if (cancel)
		snprintf(why, sizeof(why), "the task's alert rule was removed");
	int rc = NORC_OK;
	/* judged once, at the deadline: a retried delivery keeps the verdict (its due is then
	 * the retry's time, not the deadline) */
	if (!cancel && r->kind == NORC_ALERT_DEADLINE && r->state == NORC_ALERT_WAITING &&
	    r->attempts == 0 && r->instance_id)
		rc = judge_deadline(db, r, now, &instance_id, &cancel, detail, sizeof(detail));
	if (rc != NORC_OK)
		return rc;
	norc_text_clip(detail, 255);
	struct norc_arg a[] = {NORC_AI(cancel ? NORC_ALERT_CANCELLED : NORC_ALERT_SENDING),
			       NORC_AI(cancel ? now : lease),
			       instance_id ? NORC_AI(instance_id) : NORC_AS(NULL),
			       NORC_AS(detail[0] ? detail : NULL),
			       cancel ? NORC_AI(now) : NORC_AS(NULL),
			       NORC_AS(why[0] ? why : NULL),
			       NORC_AI(r->id), NORC_AI(r->state), NORC_AI(r->due)};
	rc = norc_model_exec(db, "UPDATE alerts SET state = ?, due = ?, instance_id = ?, detail = "
			     "COALESCE(?, detail), done = ?, last_error = COALESCE(?, last_error) "
			     "WHERE id = ? AND state = ? AND due = ?", a, 9, &changed);
	if (rc == NORC_OK && changed == 1) {
		*taken = !cancel;
		*cancelled += cancel;
	}
	return rc;
}

int norc_alert_take(struct norc_db *db, int64_t now_us, int64_t item_us, int64_t extra_us,
		    int limit, struct norc_alert_msg **msgs, size_t *n, int64_t *lease,
		    int *cancelled)
{
	*msgs = NULL;
	*n = 0;
	*cancelled = 0;
	int rc = norc_db_begin_write(db);
	if (rc != NORC_OK)
		return rc;
	struct norc_stmt *st;
	rc = norc_db_prepare(db, "SELECT a.id, a.due, COALESCE(a.instance_id, 0), a.kind, a.state, "
			     "a.attempts, a.delivered, r.id, r.email, r.webhook FROM alerts a LEFT "
			     "JOIN task_alerts r ON r.task_id = a.task_id WHERE a.state IN (0, 1) "
			     "AND a.due <= ? ORDER BY a.due LIMIT ?", &st);
	struct due_row *rows = norc_xcalloc((size_t)limit, sizeof(*rows));
	size_t k = 0;
	int items = 0;
	if (rc == NORC_OK) {
		norc_stmt_bind_int64(st, 1, now_us);
		norc_stmt_bind_int64(st, 2, limit);
		bool row;
		while (k < (size_t)limit && (rc = norc_stmt_step(st, &row)) == NORC_OK && row) {
			int ch = (norc_stmt_column_is_null(st, 8) ? 0 : NORC_ALERT_EMAIL) |
				 (norc_stmt_column_is_null(st, 9) ? 0 : NORC_ALERT_WEBHOOK);
			ch &= ~(int)norc_stmt_column_int64(st, 6);
			rows[k++] = (struct due_row){norc_stmt_column_int64(st, 0),
						     norc_stmt_column_int64(st, 1),
						     norc_stmt_column_int64(st, 2),
						     (int)norc_stmt_column_int64(st, 3),
						     (int)norc_stmt_column_int64(st, 4),
						     (int)norc_stmt_column_int64(st, 5),
						     ch,
						     !norc_stmt_column_is_null(st, 7)};
			items += __builtin_popcount((unsigned)ch);
		}
		norc_stmt_finalize(st);
	}
	/* the lease covers the worker's time for these channels, and no more: after a crash
	 * they come back that soon */
	*lease = now_us + extra_us + item_us * items;
	int64_t *ids = norc_xcalloc((size_t)limit, sizeof(*ids));
	size_t taken = 0;
	for (size_t i = 0; i < k && rc == NORC_OK; i++) {
		bool t;
		rc = take_one(db, &rows[i], now_us, *lease, &t, cancelled);
		if (t)
			ids[taken++] = rows[i].id;
	}
	free(rows);
	struct norc_alert_msg *m = taken ? norc_xcalloc(taken, sizeof(*m)) : NULL;
	size_t loaded = 0;
	for (; loaded < taken && rc == NORC_OK; loaded++)
		rc = load_msg(db, ids[loaded], &m[loaded]);
	free(ids);
	rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
	if (rc != NORC_OK) {
		norc_alert_msgs_free(m, loaded);
		*cancelled = 0;
		return rc;
	}
	*msgs = m;
	*n = taken;
	return NORC_OK;
}

int norc_alert_release(struct norc_db *db, int64_t id, int64_t lease, int64_t now_us)
{
	struct norc_arg a[] = {NORC_AI(now_us), NORC_AI(id), NORC_AI(NORC_ALERT_SENDING),
			       NORC_AI(lease)};
	return norc_model_exec(db, "UPDATE alerts SET state = 0, due = ? WHERE id = ? AND state = "
			       "? AND due = ?", a, 4, NULL);
}

int norc_alert_prune(struct norc_db *db, int64_t before_us, int limit, int *pruned)
{
	*pruned = 0;
	int64_t *ids = norc_xcalloc((size_t)limit, sizeof(*ids));
	size_t n = 0;
	struct norc_stmt *st;
	/* finished rows have due = their end (index alerts_due) */
	int rc = norc_db_prepare(db, "SELECT id FROM alerts WHERE state IN (2, 3, 4) AND due < ? "
				 "LIMIT ?", &st);
	if (rc == NORC_OK) {
		norc_stmt_bind_int64(st, 1, before_us);
		norc_stmt_bind_int64(st, 2, limit);
		bool row;
		while (n < (size_t)limit && (rc = norc_stmt_step(st, &row)) == NORC_OK && row)
			ids[n++] = norc_stmt_column_int64(st, 0);
		norc_stmt_finalize(st);
	}
	if (rc == NORC_OK && n)
		rc = norc_db_begin_write(db);
	for (size_t i = 0; rc == NORC_OK && i < n; i++) {
		struct norc_arg a[] = {NORC_AI(ids[i])};
		rc = norc_model_exec(db, "DELETE FROM alerts WHERE id = ?", a, 1, NULL);
	}
	if (n && norc_db_in_tx(db))
		rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
	free(ids);
	if (rc == NORC_OK)
		*pruned = (int)n;
	return rc;
}

int norc_alert_next_due(struct norc_db *db, int64_t *due_us)
{
	*due_us = 0;
	for (int state = NORC_ALERT_WAITING; state <= NORC_ALERT_SENDING; state++) {
		int64_t d = 0;
		int rc = norc_db_query_int64(db, "SELECT MIN(due) FROM alerts WHERE state = ?", &d, 1,
					     (int64_t)state);
		if (rc != NORC_OK && rc != NORC_ENOTFOUND)
			return rc;
		if (d && (!*due_us || d < *due_us))
			*due_us = d;
	}
	return NORC_OK;
}

int norc_alert_record(struct norc_db *db, const struct norc_alert_msg *m, int64_t lease,
		      int delivered, int rc, const char *error, int max_attempts,
		      int retry_delay_s, int64_t now_us, int *state)
{
	int attempts = m->attempts + 1;
	bool sent = rc == NORC_OK;
	int st = sent ? NORC_ALERT_SENT
		      : attempts >= max_attempts ? NORC_ALERT_FAILED : NORC_ALERT_WAITING;
	int64_t due = st == NORC_ALERT_WAITING
			      ? now_us + norc_instance_retry_delay(attempts, retry_delay_s, BACKOFF_MAX_S) *
						 NORC_US_PER_SEC
			      : now_us;
	char e[256];
	snprintf(e, sizeof(e), "%s", error ? error : "");
	norc_text_clip(e, 255);
	int64_t changed = 0;
	struct norc_arg a[] = {NORC_AI(st),
			       NORC_AI(due),
			       NORC_AI(attempts),
			       NORC_AI(m->delivered | delivered),
			       NORC_AS(sent || !e[0] ? NULL : e),
			       st == NORC_ALERT_WAITING ? NORC_AS(NULL) : NORC_AI(now_us),
			       NORC_AI(m->id),
			       NORC_AI(NORC_ALERT_SENDING),
			       NORC_AI(lease)};
	int r = norc_model_exec(db, "UPDATE alerts SET state = ?, due = ?, attempts = ?, delivered "
				"= ?, last_error = ?, done = ? WHERE id = ? AND state = ? AND due = "
				"?", a, 9, &changed);
	*state = r == NORC_OK && changed == 1 ? st : -1;
	return r;
}

int norc_alert_list(struct norc_db *db, int64_t task_id, int state, int limit, json_t **rows)
{
	static const struct norc_col cols[] = {
		{"id", NORC_COL_INT},       {"task", NORC_COL_TEXT},    {"kind", NORC_COL_INT},
		{"instance", NORC_COL_INT}, {"state", NORC_COL_INT},    {"attempts", NORC_COL_INT},
		{"created", NORC_COL_TIME}, {"due", NORC_COL_TIME},     {"done", NORC_COL_TIME},
		{"detail", NORC_COL_TEXT},  {"last_error", NORC_COL_TEXT},
	};
	char sql[600];
	snprintf(sql, sizeof(sql),
		 "SELECT a.id, t.name, a.kind, a.instance_id, a.state, a.attempts, a.created, "
		 "CASE WHEN a.state < 2 THEN a.due END, a.done, a.detail, a.last_error FROM alerts a "
		 "JOIN tasks t ON t.id = a.task_id WHERE 1 = 1%s%s ORDER BY a.id DESC LIMIT ?",
		 task_id ? " AND a.task_id = ?" : "", state >= 0 ? " AND a.state = ?" : "");
	struct norc_arg a[3];
	size_t n = 0;
	if (task_id)
		a[n++] = NORC_AI(task_id);
	if (state >= 0)
		a[n++] = NORC_AI(state);
	a[n++] = NORC_AI(limit);
	int rc = norc_model_query(db, sql, a, n, cols, sizeof(cols) / sizeof(cols[0]), rows);
	if (rc != NORC_OK)
		return rc;
	size_t i;
	json_t *row;
	json_array_foreach(*rows, i, row) {
		json_object_set_new(row, "kind", json_string(norc_alert_kind_name(
			(int)json_integer_value(json_object_get(row, "kind"))))); /* names, not numbers */
		json_object_set_new(row, "state", json_string(norc_alert_state_name(
			(int)json_integer_value(json_object_get(row, "state")))));
	}
	return NORC_OK;
}
