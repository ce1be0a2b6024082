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

#define BATCH 32 /* alerts per worker: two channels each, batch.h's 64 items */
#define NEVER INT64_MAX

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

/* Look: switches, then due alerts; start a worker when some are to send. */
static void look(struct norc_alerter *a, struct norc_db *db, int64_t now, int64_t mono)
{
	int tripped = 0, cancelled = 0;
	int64_t next_switch = 0, next_due = 0;
	if (norc_alert_check_switches(db, now, &tripped, &next_switch) != NORC_OK)
		NORC_WARN("alerts: cannot look at the dead man's switches: %s", norc_db_errmsg(db));
	if (tripped)
		NORC_INFO("alerts: %d task(s) without a success for too long (no_success).", tripped);
	/* a worker's worth of time per batch, plus room: then the lease runs out */
	int64_t budget = ((int64_t)a->cfg->alerts.timeout_s * 2 * BATCH + 5) * NORC_US_PER_SEC;
	if (norc_alert_take(db, now, budget + 30 * NORC_US_PER_SEC, BATCH, &a->msgs, &a->n,
			    &a->lease, &cancelled) != NORC_OK)
		NORC_WARN("alerts: cannot take due alerts: %s", norc_db_errmsg(db));
	if (cancelled)
		NORC_DEBUG("alerts: %d deadline(s) met or rule(s) removed: cancelled.", cancelled);
	size_t items = 0;
	for (size_t i = 0; i < a->n; i++)
		items += (size_t)__builtin_popcount((unsigned)todo(&a->msgs[i]));
	int64_t deadline = mono + ((int64_t)a->cfg->alerts.timeout_s * (int64_t)items + 5) *
					  NORC_US_PER_SEC;
	if (a->n && norc_batch_start(&a->batch, deliver, a, deadline, "alerts") != NORC_OK)
		drop(a); /* their lease runs out and they come back */
	if (norc_alert_next_due(db, &next_due) != NORC_OK)
		NORC_WARN("alerts: %s", norc_db_errmsg(db));
	a->next_look_us = NEVER;
	if (next_switch && next_switch < a->next_look_us)
		a->next_look_us = next_switch;
	if (next_due && next_due < a->next_look_us)
		a->next_look_us = next_due;
	a->next_poll_us = mono + (int64_t)a->cfg->heartbeat_s * NORC_US_PER_SEC;
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
	if (now_us >= a->next_look_us || mono_us >= a->next_poll_us)
		look(a, db, now_us, mono_us);
	int64_t t = now_us + (a->next_poll_us - mono_us);
	return a->next_look_us < t ? a->next_look_us : t;
}

/* Record the worker's results for each alert of the batch. */
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
	int64_t now = norc_clock_now_us();
	for (size_t i = 0, j = 0; i < a->n; i++) {
		const struct norc_alert_msg *m = &a->msgs[i];
		int done = 0, rc = NORC_OK;
		char err[2 * NORC_BATCH_MSG + 8] = "";
		for (int ch = NORC_ALERT_EMAIL; ch <= NORC_ALERT_WEBHOOK; ch <<= 1) {
			if (!(todo(m) & ch))
				continue;
			const struct norc_batch_result *r = &res[j++];
			if (r->started && r->rc == NORC_OK) {
				done |= ch;
				continue;
			}
			rc = r->rc != NORC_OK ? r->rc : NORC_EIO;
			size_t len = strlen(err);
			snprintf(err + len, sizeof(err) - len, "%s%s", len ? "; " : "",
				 r->started ? r->msg : "not tried (the worker ended first)");
		}
		if (!todo(m)) { /* nowhere to send (the rule lost its destinations) */
			rc = NORC_ECONFIG;
			snprintf(err, sizeof(err), "the task's alert rule has no destination");
		}
		int state;
		if (norc_alert_record(db, m, a->lease, done, rc, err, a->cfg->alerts.attempts,
				      a->cfg->alerts.retry_delay_s, now, &state) != NORC_OK ||
		    state < 0) {
			NORC_WARN("alerts: the result of alert #%" PRId64 " was not recorded (%s); it "
				  "may be sent again", m->id, state < 0 ? "its lease ran out"
									 : norc_db_errmsg(db));
			continue;
		}
		const char *what = norc_alert_kind_name(m->kind);
		if (state == NORC_ALERT_SENT) {
			a->sent++;
			NORC_INFO("Alert #%" PRId64 " (%s of task %s) sent%s%s.", m->id, what,
				  m->task_name, (m->delivered | done) & NORC_ALERT_EMAIL ? " by e-mail"
											  : "",
				  (m->delivered | done) & NORC_ALERT_WEBHOOK ? " to the webhook" : "");
		} else if (state == NORC_ALERT_FAILED) {
			a->failed++;
			NORC_ERROR("Alert #%" PRId64 " (%s of task %s) could not be delivered after %d "
				   "attempts; giving up: %s", m->id, what, m->task_name,
				   m->attempts + 1, err);
		} else {
			NORC_WARN("Alert #%" PRId64 " (%s of task %s): delivery attempt %d of %d "
				  "failed: %s; retrying with backoff", m->id, what, m->task_name,
				  m->attempts + 1, a->cfg->alerts.attempts, err);
		}
	}
	drop(a);
	a->next_look_us = 0; /* more may be due */
}

bool norc_alerter_reaped(struct norc_alerter *a, struct norc_db *db, pid_t pid, int wstatus)
{
	if (!a->batch.pid || pid != a->batch.pid)
		return false;
	collect(a, db, wstatus);
	return true;
}

void norc_alerter_finish(struct norc_alerter *a, struct norc_db *db)
{
	int st;
	int64_t cap = norc_clock_mono_us() + 10 * NORC_US_PER_SEC; /* then: retried by others */
	if (a->batch.pid && a->batch.deadline_us > cap)
		a->batch.deadline_us = cap;
	if (a->batch.pid && norc_batch_wait(&a->batch, &st))
		collect(a, db, st);
	drop(a);
	if (a->sent || a->failed)
		NORC_INFO("Alerts: %" PRId64 " sent by this scheduler, %" PRId64 " given up.",
			  a->sent, a->failed);
}
