/*
 * alert.h - alerts in the database: each task's alert rule, and the alerts it raises.
 *
 * A rule (table task_alerts, one per task) says what to alert on: a failed attempt, a timed
 * out attempt, a failure with no attempt left ("retries exhausted"), a scheduled run that has
 * not succeeded within `deadline` seconds of its fire time, and no success at all for
 * `no_success` seconds (a dead man's switch); and where to: e-mail addresses and a webhook.
 *
 * An alert is a row (table alerts) written in the same transaction as what raised it (the
 * instance's end, the fire), so none is lost with a daemon. A deadline is a row that waits
 * until its time and is cancelled if the run succeeded by then. Any scheduler delivers due
 * rows (alerter.h), leasing them first, so a row is delivered by one scheduler at a time;
 * each channel (e-mail, webhook) is marked done as it succeeds, so a retry after a partial
 * failure does not send the other channel twice.
 */
#ifndef NORC_ALERT_H
#define NORC_ALERT_H

#include "db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum norc_alert_kind {
	NORC_ALERT_FAILURE = 1,    /* an attempt failed (FAILURE, ERROR, INTERRUPTED) */
	NORC_ALERT_TIMEOUT = 2,    /* an attempt timed out */
	NORC_ALERT_EXHAUSTED = 3,  /* it failed and no attempt is left */
	NORC_ALERT_DEADLINE = 4,   /* a scheduled run did not succeed in time */
	NORC_ALERT_NO_SUCCESS = 5, /* the dead man's switch: no success for too long */
	NORC_ALERT_TEST = 6,       /* `norc alert test` */
};
/* A rule's `events` bits: which ends raise an alert. */
enum norc_alert_on {
	NORC_ALERT_ON_FAILURE = 1,
	NORC_ALERT_ON_TIMEOUT = 2,
	NORC_ALERT_ON_EXHAUSTED = 4,
	NORC_ALERT_ON_ALL = 7,
};
enum norc_alert_state {
	NORC_ALERT_WAITING = 0,   /* due: act then (a deadline: look then) */
	NORC_ALERT_SENDING = 1,   /* leased by a scheduler until `due` */
	NORC_ALERT_SENT = 2,
	NORC_ALERT_FAILED = 3,    /* gave up after alerts.attempts */
	NORC_ALERT_CANCELLED = 4, /* a deadline met, or the rule removed before delivery */
};
/* Channels (alerts.delivered bits). */
#define NORC_ALERT_EMAIL 1
#define NORC_ALERT_WEBHOOK 2

const char *norc_alert_kind_name(int kind);   /* "failure", ..., "?" */
const char *norc_alert_state_name(int state); /* "waiting", ..., "?" */
/* "failure,timeout,exhausted" (any order), "all" or "none" into *events. */
int norc_alert_on_parse(const char *text, int *events, char *err, size_t errlen);
/* The text of events: "failure,timeout" or "none". Static. */
const char *norc_alert_on_format(int events);
/* Check a comma-separated list of e-mail addresses / a webhook URL (http or https). */
int norc_alert_check_email(const char *list, char *err, size_t errlen);
int norc_alert_check_webhook(const char *url, char *err, size_t errlen);

/* A rule, as set by `norc alert set` (strings borrowed; "" clears a destination). */
struct norc_alert_rule {
	int events, deadline_s, no_success_s;
	const char *email, *webhook;
};
enum {
	NORC_ALERT_SET_ON = 1,
	NORC_ALERT_SET_DEADLINE = 2,
	NORC_ALERT_SET_NO_SUCCESS = 4,
	NORC_ALERT_SET_EMAIL = 8,
	NORC_ALERT_SET_WEBHOOK = 16,
};
/* In its own transaction: set the fields in `has` of task_id's rule (created when missing);
 * the others keep their values. The result must alert on something and go somewhere.
 * Changing no_success re-arms the switch (it counts from the last success, or from now when
 * there was none); changing deadline makes the schedulers reload the task's schedules.
 * *changed (may be NULL): whether anything changed. */
int norc_alert_rule_set(struct norc_db *db, int64_t task_id, const struct norc_alert_rule *r,
			int has, bool *changed, char *err, size_t errlen);
/* Remove task_id's rule (its waiting alerts are cancelled when their time comes). *had: it
 * had one. */
int norc_alert_rule_clear(struct norc_db *db, int64_t task_id, bool *had);
/* task_id's rule as {on, deadline, no_success, email, webhook, switch_due, last_alerted};
 * NORC_ENOTFOUND when it has none. Caller json_decref()s. */
int norc_alert_rule_get(struct norc_db *db, int64_t task_id, json_t **obj);

/* Inside the caller's transaction (norc_instance_end): instance_id ended with a failure
 * status; final: no attempt follows. Writes the alert its task's rule asks for, if any (one
 * statement). *added: 1 when one was written. */
int norc_alert_on_end(struct norc_db *db, int64_t instance_id, int status, bool final,
		      int64_t now_us, int64_t *added);
/* Inside the caller's transaction (the scheduler's fire): instance_id of task_id must succeed
 * by due_us, or its deadline alert goes out then. */
int norc_alert_on_fire(struct norc_db *db, int64_t task_id, int64_t instance_id, int64_t due_us,
		       int64_t now_us);
/* Write a test alert for task_id's rule (NORC_ENOTFOUND: no rule; err says so). */
int norc_alert_test(struct norc_db *db, int64_t task_id, int64_t *id, char *err, size_t errlen);

/* The dead man's switches due by now_us (at most limit, at most 100, each in its own
 * transaction with a compare-and-set, so two schedulers trip one once): write a NO_SUCCESS
 * alert for each task without a success for its no_success seconds, once per last success.
 * *tripped counts them; *next_us gets the earliest switch still to look at (0: none). */
int norc_alert_check_switches(struct norc_db *db, int64_t now_us, int limit, int *tripped,
			      int64_t *next_us);

/* One alert to deliver, with what its message says (strings owned; NULL when unknown). */
struct norc_alert_msg {
	int64_t id;
	int kind, attempts, delivered; /* delivered: channels done before (NORC_ALERT_EMAIL...) */
	int64_t task_id;
	char *task_name, *task_type;
	int64_t instance_id; /* 0: none (no_success, test) */
	int status, attempt, exit_code, term_signal; /* exit_code -1: none */
	char *reason, *host;
	int64_t executor_id, fire_time, started, ended, created; /* 0: none */
	char *detail;
	char *email, *webhook; /* the rule's destinations now */
};
void norc_alert_msgs_free(struct norc_alert_msg *m, size_t n);
/* In its own transaction: lease up to limit alerts due by now_us (waiting ones, and sending
 * ones whose lease ran out) until now_us + extra_us + item_us per channel to send (the
 * worker's time, so a crashed scheduler's alerts come back soon). A deadline due for the
 * first time is judged: met, it is cancelled; missed, it becomes the alert of the run's
 * latest attempt (a retried delivery keeps that verdict). An alert whose rule is gone is
 * cancelled. *lease gets the lease token. *cancelled counts cancellations. */
int norc_alert_take(struct norc_db *db, int64_t now_us, int64_t item_us, int64_t extra_us,
		    int limit, struct norc_alert_msg **msgs, size_t *n, int64_t *lease,
		    int *cancelled);
/* Give back a leased alert that was not tried (its worker ended first): WAITING, due now,
 * its attempts unchanged. */
int norc_alert_release(struct norc_db *db, int64_t id, int64_t lease, int64_t now_us);
/* Delete up to limit finished alerts (sent, failed, cancelled) that ended before before_us.
 * *pruned: how many. */
int norc_alert_prune(struct norc_db *db, int64_t before_us, int limit, int *pruned);
/* The earliest due alert (waiting or leased): *due_us (0: none). */
int norc_alert_next_due(struct norc_db *db, int64_t *due_us);
/* Record a delivery while m's row still holds lease: delivered = the channels done now (with
 * those before); rc NORC_OK: SENT; else one more failed attempt, WAITING again after the
 * backoff (retry_delay_s doubling, at most 1 h), FAILED after max_attempts. *state gets the
 * new state (-1: the lease was lost, nothing recorded). */
int norc_alert_record(struct norc_db *db, const struct norc_alert_msg *m, int64_t lease,
		      int delivered, int rc, const char *error, int max_attempts,
		      int retry_delay_s, int64_t now_us, int *state);
/* Alerts, newest first: of task_id (0: all), in state (-1: any), at most limit. */
int norc_alert_list(struct norc_db *db, int64_t task_id, int state, int limit, json_t **rows);

#endif
