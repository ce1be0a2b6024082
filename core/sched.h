/*
 * sched.h - a schedule's timeline: its nominal fire times (every N seconds, or a cron rule in a
 * time zone) and what to fire when the scheduler finds it due, late or far behind.
 *
 * Pure logic (no database, no clock reads), so the catch-up rules are unit-tested on their own.
 * Times are microseconds since the epoch, UTC; cron fire times are whole seconds.
 *
 * Catch-up policy, applied whenever the scheduler is behind (it was down, paused or stalled):
 *  - a fire time at most NORC_SCHED_GRACE_US late is on time and fires under every policy;
 *  - skip:   missed fire times are not run;
 *  - latest: only the newest missed fire time runs (the original's make_up = false);
 *  - all:    every missed fire time runs, back to back (the original's make_up = true), but at
 *            most catch_up_max of them (default 1000): older ones are skipped, and said so.
 * Every skip is counted in the plan, so the scheduler can log it and note it on the schedule.
 */
#ifndef NORC_SCHED_H
#define NORC_SCHED_H

#include "cron.h"
#include "tz.h"

#include <stdbool.h>
#include <stdint.h>

enum norc_catch_up { NORC_CATCH_UP_SKIP = 0, NORC_CATCH_UP_LATEST = 1, NORC_CATCH_UP_ALL = 2 };
enum norc_overlap { NORC_OVERLAP_ALLOW = 0, NORC_OVERLAP_SKIP = 1, NORC_OVERLAP_QUEUE = 2 };

#define NORC_SCHED_GRACE_US (5 * INT64_C(1000000)) /* later than this counts as missed */
#define NORC_SCHED_CATCH_UP_MAX 1000               /* default bound of catch-up "all" */

struct norc_sched {
	int64_t id, task_id, queue_id;
	int64_t next_fire; /* the next nominal fire time */
	int64_t due;       /* heap key: next_fire, or later after a failed fire */
	bool is_cron;
	struct norc_cron cron;    /* is_cron */
	const struct norc_tz *tz; /* is_cron; borrowed (the scheduler's zone cache); NULL = UTC */
	int64_t period_us;        /* !is_cron: period (0: all repetitions at once) */
	int reps, remaining;      /* reps 0 = forever */
	int catch_up, catch_up_max, overlap;
	int alert_deadline_s;      /* its task's alert deadline (alert.h), 0: none */
	int64_t catching_up_until; /* a bounded "all" catch-up in progress: fire up to here */
};

/* The first nominal fire time strictly after t into *next. NORC_OK or NORC_ENOTFOUND (a cron
 * rule with no later fire time). */
int norc_sched_after(const struct norc_sched *x, int64_t t, int64_t *next);

struct norc_sched_plan {
	int64_t fire;     /* nominal time to fire now; 0 = none */
	int64_t next;     /* next nominal time after this decision; 0 = none ever */
	int64_t skipped;  /* missed fire times passed over (a lower bound when capped) */
	bool skipped_more; /* there were more than `skipped` (counting stopped) */
	int64_t first_skipped, last_skipped; /* when skipped > 0 */
	bool bounded;     /* "all" hit catch_up_max */
};

/* x is due (x->next_fire <= now): decide what fires now under x's catch-up policy. Updates
 * x->catching_up_until; the caller sets x->next_fire = plan.next once the decision is stored.
 * NORC_OK, or NORC_ENOMEM. */
int norc_sched_plan(struct norc_sched *x, int64_t now, struct norc_sched_plan *plan);

/* "skip" "latest" "all" (and "all:N") <-> the numbers; -1 / NULL when unknown. */
int norc_sched_catch_up_parse(const char *text, int *policy, int *max);
const char *norc_sched_catch_up_name(int policy);
int norc_sched_overlap_parse(const char *text);
const char *norc_sched_overlap_name(int overlap);

#endif
