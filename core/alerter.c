/*
 * alerter.c - see alerter.h. Alert delivery from a scheduler's loop.
 */
#include "alerter.h"
#include "clock.h"
#include "log.h"
#include "notify.h"

#include <norc/plugin.h>

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define BATCH 16 /* alerts per worker: two channels each */
#define SWITCHES 20 /* dead man's switches looked at per turn */
#define NEVER INT64_MAX
#define BACKOFF_MIN_US (1 * NORC_US_PER_SEC)
#define BACKOFF_MAX_US (60 * NORC_US_PER_SEC)
#define PRUNE_EVERY_US (3600 * NORC_US_PER_SEC)
#define PRUNE_BATCH 1000

void norc_alerter_init(struct norc_alerter *a, const struct norc_config *cfg)
{
	*a = (struct norc_alerter){.cfg = cfg};
	norc_batch_init(&a->batch);
}

void norc_alerter_poke(struct norc_alerter *a) { a->next_look_us = 0; }

/* An item is one channel of one alert: id * 4 + channel bit. */
static int64_t item(int64_t alert_id, int channel) { return alert_id * 4 + channel; }

/* The channels of m still to send. */
static int todo(const struct norc_alert_msg *m)
{
	return ((m->email ? NORC_ALERT_EMAIL : 0) | (m->webhook ? NORC_ALERT_WEBHOOK : 0)) &
	       ~m->delivered;
}

/* In the worker: send each channel of each alert, reporting per item. */
static void deliver(void *ctx, int wfd)
{
	struct norc_alerter *a = ctx;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (size_t i = 0; i < a->n; i++) {
		const struct norc_alert_msg *m = &a->msgs[i];
		for (int ch = NORC_ALERT_EMAIL; ch <= NORC_ALERT_WEBHOOK; ch <<= 1) {
			if (!(todo(m) & ch))
				continue;
			char err[NORC_BATCH_MSG] = "";
			norc_batch_report_start(wfd, item(m->id, ch));
			int rc = ch == NORC_ALERT_EMAIL ? norc_notify_email(a->cfg, m, err, sizeof(err))
							: norc_notify_webhook(a->cfg, m, err, sizeof(err));
			norc_batch_report(wfd, item(m->id, ch), rc, err);
		}
	}
	curl_global_cleanup();
}

static void drop(struct norc_alerter *a)
{
	norc_alert_msgs_free(a->msgs, a->n);
	a->msgs = NULL;
	a->n = 0;
}

/* Look: switches, then due alerts (a read first: no write transaction when none is due);
 * start a worker when some are to send. false when the database refused something. */
static bool look(struct norc_alerter *a, struct norc_db *db, int64_t now, int64_t mono)
{
	int tripped = 0, cancelled = 0;
	int64_t next_switch = 0, next_due = 0;
	bool good = true;
	if (norc_alert_check_switches(db, now, SWITCHES, &tripped, &next_switch) != NORC_OK) {
		NORC_WARN("alerts: cannot look at the dead man's switches: %s", norc_db_errmsg(db));
		good = false;
	}
	if (tripped)
		NORC_INFO("alerts: %d task(s) without a success for too long (no_success).", tripped);
	if (norc_alert_next_due(db, &next_due) != NORC_OK) {
		NORC_WARN("alerts: %s", norc_db_errmsg(db));
		good = false;
	}
	int64_t per_item = (int64_t)a->cfg->alerts.timeout_s * NORC_US_PER_SEC;
	if (good && next_due && next_due <= now &&
	    norc_alert_take(db, now, per_item, 35 * NORC_US_PER_SEC, BATCH, &a->msgs, &a->n,
			    &a->lease, &cancelled) != NORC_OK) {
		NORC_WARN("alerts: cannot take due alerts: %s", norc_db_errmsg(db));
		good = false;
	}
	if (cancelled)
		NORC_DEBUG("alerts: %d deadline(s) met or rule(s) removed: cancelled.", cancelled);
	size_t items = 0;
	for (size_t i = 0; i < a->n; i++)
		items += (size_t)__builtin_popcount((unsigned)todo(&a->msgs[i]));
	int64_t deadline = mono + per_item * (int64_t)items + 5 * NORC_US_PER_SEC;
	if (a->n && norc_batch_start(&a->batch, deliver, a, deadline, "alerts") != NORC_OK)
		drop(a); /* their lease runs out and they come back */
	if (good && (a->n || cancelled) && norc_alert_next_due(db, &next_due) != NORC_OK)
		good = false;
	a->next_look_us = NEVER;
	if (next_switch && next_switch < a->next_look_us)
		a->next_look_us = next_switch;
	if (next_due && next_due < a->next_look_us)
		a->next_look_us = next_due;
	a->next_poll_us = mono + (int64_t)a->cfg->heartbeat_s * NORC_US_PER_SEC;
	return good;
}

/* Delete finished alerts older than alerts.keep_days, a batch an hour. */
static void prune(struct norc_alerter *a, struct norc_db *db, int64_t now, int64_t mono)
{
	a->next_prune_us = mono + PRUNE_EVERY_US;
	int n = 0;
	int64_t before = now - (int64_t)a->cfg->alerts.keep_days * 86400 * NORC_US_PER_SEC;
	if (norc_alert_prune(db, before, PRUNE_BATCH, &n) != NORC_OK)
		NORC_WARN("alerts: cannot delete old alerts: %s", norc_db_errmsg(db));
	else if (n)
		NORC_INFO("alerts: deleted %d alert(s) finished more than %d day(s) ago.", n,
			  a->cfg->alerts.keep_days);
	if (n == PRUNE_BATCH)
		a->next_prune_us = mono; /* more: next turn */
}

int64_t norc_alerter_tick(struct norc_alerter *a, struct norc_db *db, int64_t now_us,
			  int64_t mono_us)
{
	pid_t pid = a->batch.pid;
	if (norc_batch_overdue(&a->batch, mono_us))
		NORC_WARN("alerts: delivery process %d ran past its time (alerts.timeout per "
			  "delivery); killed it, its alerts are retried", (int)pid);
	if (a->batch.pid)
		return now_us + (a->batch.killed ? NORC_US_PER_SEC
						 : a->batch.deadline_us - mono_us);
	if (mono_us >= a->next_prune_us && a->next_prune_us)
		prune(a, db, now_us, mono_us);
	if (!a->next_prune_us) /* the first an hour after the start */
		a->next_prune_us = mono_us + PRUNE_EVERY_US;
	if (now_us >= a->next_look_us || mono_us >= a->next_poll_us) {
		bool good = look(a, db, now_us, mono_us);
		if (!a->batch.pid && a->next_look_us <= now_us) {
			/* still due but nothing started: the database refused; do not spin */
			a->backoff_us = good ? BACKOFF_MIN_US
					     : a->backoff_us ? a->backoff_us * 2 : BACKOFF_MIN_US;
			if (a->backoff_us > BACKOFF_MAX_US)
				a->backoff_us = BACKOFF_MAX_US;
			a->next_look_us = now_us + a->backoff_us;
		} else {
			a->backoff_us = 0;
		}
	}
	int64_t t = now_us + (a->next_poll_us - mono_us);
	return a->next_look_us < t ? a->next_look_us : t;
}

/* One alert's outcome from its channels' results (res, in channel order). */
struct outcome {
	int done, rc; /* channels delivered now; NORC_OK or the first failure */
	bool tried;   /* the worker started at least one of its channels */
	char err[2 * NORC_BATCH_MSG + 8];
};

static void judge(const struct norc_alert_msg *m, const struct norc_batch_result *res,
		  size_t *j, struct outcome *o)
{
	*o = (struct outcome){.rc = NORC_OK};
	for (int ch = NORC_ALERT_EMAIL; ch <= NORC_ALERT_WEBHOOK; ch <<= 1) {
		if (!(todo(m) & ch))
			continue;
		const struct norc_batch_result *r = &res[(*j)++];
		o->tried |= r->started;
		if (r->started && r->rc == NORC_OK) {
			o->done |= ch;
			continue;
		}
		o->rc = r->rc != NORC_OK ? r->rc : NORC_EIO;
		size_t len = strlen(o->err);
		snprintf(o->err + len, sizeof(o->err) - len, "%s%s", len ? "; " : "",
			 r->started ? r->msg : "not tried (the worker ended first)");
	}
	if (!todo(m)) { /* nothing left to send: done if something was, else nowhere to go */
		o->tried = true;
		if (!m->delivered) {
			o->rc = NORC_ECONFIG;
			snprintf(o->err, sizeof(o->err), "the task's alert rule has no destination");
		}
	}
}

/* Record one alert's outcome; *state as norc_alert_record (-1: nothing recorded; -2: given
 * back untried). */
static int record(struct norc_alerter *a, struct norc_db *db, const struct norc_alert_msg *m,
		  const struct outcome *o, int64_t now, int *state)
{
	if (!o->tried) {
		*state = -2;
		return norc_alert_release(db, m->id, a->lease, now);
	}
	return norc_alert_record(db, m, a->lease, o->done, o->rc, o->err, a->cfg->alerts.attempts,
				 a->cfg->alerts.retry_delay_s, now, state);
}

static void report(struct norc_alerter *a, const struct norc_alert_msg *m,
		   const struct outcome *o, int state)
{
	const char *what = norc_alert_kind_name(m->kind);
	if (state == NORC_ALERT_SENT) {
		a->sent++;
		NORC_INFO("Alert #%" PRId64 " (%s of task %s) sent%s%s.", m->id, what, m->task_name,
			  (m->delivered | o->done) & NORC_ALERT_EMAIL ? " by e-mail" : "",
			  (m->delivered | o->done) & NORC_ALERT_WEBHOOK ? " to the webhook" : "");
	} else if (state == NORC_ALERT_FAILED) {
		a->failed++;
		NORC_ERROR("Alert #%" PRId64 " (%s of task %s) could not be delivered after %d "
			   "attempts; giving up: %s", m->id, what, m->task_name, m->attempts + 1,
			   o->err);
	} else if (state == NORC_ALERT_WAITING) {
		NORC_WARN("Alert #%" PRId64 " (%s of task %s): delivery attempt %d of %d failed: %s; "
			  "retrying with backoff", m->id, what, m->task_name, m->attempts + 1,
			  a->cfg->alerts.attempts, o->err);
	}
}

/* Record the worker's results for the batch: one transaction, else row by row (a row not
 * recorded comes back when its lease runs out). */
static void collect(struct norc_alerter *a, struct norc_db *db, int wstatus)
{
	int64_t ids[2 * BATCH];
	size_t k = 0;
	for (size_t i = 0; i < a->n; i++)
		for (int ch = NORC_ALERT_EMAIL; ch <= NORC_ALERT_WEBHOOK; ch <<= 1)
			if (todo(&a->msgs[i]) & ch)
				ids[k++] = item(a->msgs[i].id, ch);
	struct norc_batch_result res[2 * BATCH];
	norc_batch_collect(&a->batch, wstatus, ids, k, res, "alerts.timeout");
	struct outcome o[BATCH];
	for (size_t i = 0, j = 0; i < a->n; i++)
		judge(&a->msgs[i], res, &j, &o[i]);
	int64_t now = norc_clock_now_us();
	int state[BATCH];
	int rc = norc_db_begin_write(db);
	for (size_t i = 0; i < a->n && rc == NORC_OK; i++)
		rc = record(a, db, &a->msgs[i], &o[i], now, &state[i]);
	rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
	for (size_t i = 0; i < a->n; i++) {
		if (rc != NORC_OK && record(a, db, &a->msgs[i], &o[i], now, &state[i]) != NORC_OK)
			state[i] = -1;
		if (state[i] == -1)
			NORC_WARN("alerts: the result of alert #%" PRId64 " was not recorded (%s); it "
				  "may be sent again after its lease", a->msgs[i].id,
				  rc == NORC_OK ? "its lease ran out" : norc_db_errmsg(db));
		else
			report(a, &a->msgs[i], &o[i], state[i]);
	}
	drop(a);
	a->next_look_us = 0; /* more may be due */
}

void norc_alerter_sigchld(struct norc_alerter *a, struct norc_db *db)
{
	int st;
	if (a->batch.pid && waitpid(a->batch.pid, &st, WNOHANG) == a->batch.pid)
		collect(a, db, st);
}

void norc_alerter_finish(struct norc_alerter *a, struct norc_db *db)
{
	int st;
	int64_t cap = norc_clock_mono_us() + 10 * NORC_US_PER_SEC; /* then: retried by others */
	if (a->batch.pid && a->batch.deadline_us > cap)
		a->batch.deadline_us = cap;
	if (a->batch.pid && norc_batch_wait(&a->batch, &st)) {
		collect(a, db, st);
	} else if (a->n) { /* given up: the other schedulers take them now, not at the lease */
		int64_t now = norc_clock_now_us();
		for (size_t i = 0; i < a->n; i++)
			norc_alert_release(db, a->msgs[i].id, a->lease, now);
	}
	drop(a);
	if (a->sent || a->failed)
		NORC_INFO("Alerts: %" PRId64 " sent by this scheduler, %" PRId64 " given up.",
			  a->sent, a->failed);
}
