/*
 * alerter.h - a scheduler's part in alerting (alert.h): it trips the dead man's switches whose
 * time has come, leases due alerts, and sends them (notify.h) from a worker process
 * (batch.h), so a slow SMTP relay or webhook never delays a fire. Each channel of each alert
 * is one item of the batch, so a retry sends only the channels that failed.
 */
#ifndef NORC_ALERTER_H
#define NORC_ALERTER_H

#include "alert.h"
#include "batch.h"
#include "config.h"
#include "db.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct norc_alerter {
	const struct norc_config *cfg; /* borrowed */
	struct norc_batch batch;
	struct norc_alert_msg *msgs; /* the batch's alerts (owned) */
	size_t n;
	int64_t lease;
	int64_t next_look_us; /* wall clock: earliest due alert or switch; 0: at the next turn */
	int64_t next_poll_us; /* monotonic: look anyway then (alerts raised on other hosts) */
	int64_t backoff_us;   /* after a look that failed: wait this long (doubling) */
	int64_t next_prune_us; /* monotonic: retention of finished alerts */
	int64_t sent, failed; /* counters, for the daemon's log */
};

void norc_alerter_init(struct norc_alerter *a, const struct norc_config *cfg);
/* An alert may have been raised (the doorbell rang): look at the next turn. */
void norc_alerter_poke(struct norc_alerter *a);
/* The loop's turn (call it when no fire is imminent): kill an overdue worker; when the time
 * has come, trip due switches and start a batch. Returns the wall-clock time (µs) it wants
 * to be called again. */
int64_t norc_alerter_tick(struct norc_alerter *a, struct norc_db *db, int64_t now_us,
			  int64_t mono_us);
/* SIGCHLD: reap the alerter's worker if it ended, and record its results. */
void norc_alerter_sigchld(struct norc_alerter *a, struct norc_db *db);
/* Shutdown: wait for a running batch (up to its deadline) and record it. */
void norc_alerter_finish(struct norc_alerter *a, struct norc_db *db);

#endif
