/*
 * norc_scheduler [-e] [-d] [-C FILE] - turns schedules into instances at their fire times.
 *
 * Schedules are claimed with a lease (lease_owner = this scheduler, lease_until = now +
 * daemon.heartbeat_timeout), renewed at every heartbeat; a dead scheduler's leases expire and
 * another takes them over. Claimed schedules live in a min-heap by next fire time and the
 * loop sleeps (ppoll on a signalfd) exactly until the earliest one or the next heartbeat: no
 * per-second scan of the table. At fire time ONE transaction advances the schedule (a
 * compare-and-set on its next fire time and lease) and creates and pushes the instance;
 * UNIQUE(schedule_id, fire_time) makes a second instance for the same fire impossible.
 * At each heartbeat it also picks up new schedules and reloads the ones marked changed
 * (edited or removed).
 *
 * Period schedules follow the original (norc-original.md 4.1): next += period; without
 * make_up, missed periods are skipped so at most one late run fires; with make_up every
 * missed one fires. Period 0 fires all repetitions at once (their nominal fire times are
 * 1 us apart, keeping each (schedule, fire time) unique).
 */
#include "clock.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "alert.h"
#include "alerter.h"
#include "backup.h"
#include "doorbell.h"
#include "job.h"
#include "db.h"
#include "instance.h"
#include "log.h"
#include "mem.h"
#include "model.h"
#include "plugin.h"
#include "queue.h"
#include "sched.h"
#include "schedheap.h"
#include "status.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define CLAIM_BATCH 2000         /* schedules claimed per statement */
#define CLAIM_TURN_US (500 * 1000) /* claiming yields to firing after this long */

struct zone {
	char *name;
	struct norc_tz *tz;
};

struct scheduler {
	struct norc_config *cfg;
	struct norc_db *db;
	int64_t id;
	int status;
	struct norc_sched_heap heap; /* claimed schedules by due time */
	struct zone *zones;          /* loaded time zones, shared by the schedules */
	size_t nzones;
	struct norc_queue_handle **queues; /* opened on first use */
	size_t nq;
	int64_t next_beat_us; /* monotonic */
	int64_t next_request_us; /* monotonic: requests from other hosts are read every second */
	int64_t retry_at;     /* wall clock: the earliest retry waiting to be pushed, 0: none */
	int64_t lease_token;  /* lease_until of the last claim batch */
	bool claim_more;      /* free schedules were left at the last claim turn */
	bool shared;          /* NORC_TEST_SHARED_CLAIMS=1: see main() */
	int64_t ring[16];     /* queues to ring after this turn's fires */
	size_t nring;
	struct norc_reaper reaper;
	int64_t last_checkpoint_us; /* monotonic */
	int bell;             /* doorbell (queue id 0), -1 when polling only */
	int64_t job_deadline; /* wall clock: the earliest running job's timeout (0: none) */
	struct norc_alerter alerter; /* alert delivery (alerter.h) */
	int64_t alert_at;     /* wall clock: when the alerter wants its next turn */
};

/* ---- database ---- */

static const struct norc_tz *zone_of(struct scheduler *s, const char *name, char *err,
				     size_t errlen)
{
	for (size_t i = 0; i < s->nzones; i++)
		if (strcmp(s->zones[i].name, name) == 0)
			return s->zones[i].tz;
	struct norc_tz *tz;
	if (norc_tz_load(name, &tz, err, errlen) != NORC_OK)
		return NULL;
	s->zones = norc_xrealloc(s->zones, (s->nzones + 1) * sizeof(*s->zones));
	s->zones[s->nzones++] = (struct zone){norc_xstrdup(name), tz};
	return tz;
}

#define SCHED_COLS                                                                              \
	"SELECT s.id, s.task_id, s.queue_id, s.next_fire, s.period, s.repetitions, s.remaining, " \
	"s.catch_up, s.catch_up_max, s.kind, s.cron, COALESCE(s.tz, 'UTC'), t.overlap, "         \
	"s.deleted, s.paused, COALESCE(a.deadline, 0) FROM schedules s JOIN tasks t ON t.id = "   \
	"s.task_id LEFT JOIN task_alerts a ON a.task_id = s.task_id "

/* A schedule that can never fire as stored (bad expression or zone, e.g. edited by hand): the
 * original's "Invalid schedule found, deleting", with the reason kept on the row. */
static void drop_invalid(struct scheduler *s, int64_t id, const char *why)
{
	NORC_ERROR("Invalid <Schedule #%" PRId64 "> found, deleting: %s", id, why);
	char note[600];
	snprintf(note, sizeof(note), "deleted by the scheduler: %s", why);
	norc_text_clip(note, 255);
	struct norc_arg a[] = {NORC_AS(note), NORC_AI(id)};
	norc_model_exec(s->db, "UPDATE schedules SET deleted = 1, next_fire = NULL, lease_owner = "
		       "NULL, lease_until = NULL, last_note = ? WHERE id = ?", a, 2, NULL);
}

/* Fill *x from the current row of a SCHED_COLS query; false when it cannot fire (gone,
 * paused, finished, or invalid: then it is soft-deleted with its reason). */
static bool from_row(struct scheduler *s, struct norc_stmt *st, struct norc_sched *x)
{
	*x = (struct norc_sched){
		.id = norc_stmt_column_int64(st, 0),
		.task_id = norc_stmt_column_int64(st, 1),
		.queue_id = norc_stmt_column_int64(st, 2),
		.next_fire = norc_stmt_column_int64(st, 3),
		.period_us = norc_stmt_column_int64(st, 4) * NORC_US_PER_SEC,
		.reps = (int)norc_stmt_column_int64(st, 5),
		.remaining = (int)norc_stmt_column_int64(st, 6),
		.catch_up = (int)norc_stmt_column_int64(st, 7),
		.catch_up_max = (int)norc_stmt_column_int64(st, 8),
		.overlap = (int)norc_stmt_column_int64(st, 12),
		.alert_deadline_s = (int)norc_stmt_column_int64(st, 15),
	};
	x->due = x->next_fire;
	if (norc_stmt_column_is_null(st, 3) || norc_stmt_column_int64(st, 13) ||
	    norc_stmt_column_int64(st, 14))
		return false;
	const char *kind = norc_stmt_column_text(st, 9);
	if (kind && strcmp(kind, "period") == 0)
		return true;
	char err[512] = "";
	const char *expr = norc_stmt_column_text(st, 10);
	if (!kind || strcmp(kind, "cron") != 0 || !expr) {
		drop_invalid(s, x->id, "unknown kind or no cron expression");
		return false;
	}
	if (norc_cron_parse(expr, NULL, NULL, &x->cron, err, sizeof(err)) != NORC_OK) {
		drop_invalid(s, x->id, err);
		return false;
	}
	if (!(x->tz = zone_of(s, norc_stmt_column_text(st, 11), err, sizeof(err)))) {
		/* this host's tzdata may lack it (it was valid where it was added): keep the
		 * schedule, say why it does not fire here, and try again when it is reloaded */
		NORC_ERROR("<Schedule #%" PRId64 "> cannot fire on this host: %s", x->id, err);
		char note[600];
		snprintf(note, sizeof(note), "not firing on this scheduler's host: %s", err);
		norc_text_clip(note, 255);
		struct norc_arg a[] = {NORC_AS(note), NORC_AI(x->id)};
		norc_model_exec(s->db, "UPDATE schedules SET last_note = ? WHERE id = ?", a, 2, NULL);
		x->id = -x->id; /* tells claim_batch to hold it rather than let it go round */
		return false;
	}
	if (x->cron.every) { /* @every is a period */
		x->period_us = x->cron.every * NORC_US_PER_SEC;
		return true;
	}
	x->is_cron = true;
	return true;
}

static int load(struct scheduler *s, int64_t id, struct norc_sched *out, bool *live)
{
	struct norc_stmt *st;
	*live = false;
	int rc = norc_db_query_row(s->db, SCHED_COLS "WHERE s.id = ?", id, &st);
	if (rc == NORC_ENOTFOUND)
		return NORC_OK; /* gone: not live */
	if (rc != NORC_OK)
		return rc;
	*live = from_row(s, st, out);
	norc_stmt_finalize(st);
	return NORC_OK;
}

static int64_t *ids_of(struct scheduler *s, const char *sql, const struct norc_arg *a, size_t na,
		       size_t *n)
{
	static const struct norc_col col[] = {{"id", NORC_COL_INT}};
	json_t *rows;
	*n = 0;
	if (norc_model_query(s->db, sql, a, na, col, 1, &rows) != NORC_OK) {
		NORC_WARN("schedules: %s", norc_db_errmsg(s->db));
		return NULL;
	}
	int64_t *ids = norc_xcalloc(json_array_size(rows) + 1, sizeof(int64_t));
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) ids[(*n)++] = json_integer_value(json_object_get(r, "id"));
	json_decref(rows);
	return ids;
}

static void release_one(struct scheduler *s, int64_t id)
{
	struct norc_arg b[] = {NORC_AI(id), NORC_AI(s->id)};
	norc_model_exec(s->db, "UPDATE schedules SET lease_owner = NULL, lease_until = NULL WHERE "
		       "id = ? AND lease_owner = ?", b, 2, NULL);
}

/* Claim up to CLAIM_BATCH free schedules with one UPDATE, then load exactly the ones won,
 * recognised by this batch's token in lease_until. Returns how many were free. */
static size_t claim_batch(struct scheduler *s, int64_t now, int64_t until)
{
	size_t n;
	struct norc_arg free_args[] = {NORC_AI(now), NORC_AI(CLAIM_BATCH)};
	(void)now; /* index schedules_free: only unclaimed live rows are read */
	int64_t *ids = ids_of(s, "SELECT id FROM schedules WHERE lease_owner IS NULL AND deleted = "
			      "0 AND paused = 0 AND next_fire IS NOT NULL LIMIT ?", free_args + 1, 1,
			      &n);
	if (!n) {
		free(ids);
		return 0;
	}
	/* a token no other batch of ours has: the lease end, moved by a microsecond if needed */
	int64_t token = until > s->lease_token ? until : s->lease_token + 1;
	s->lease_token = token;
	size_t len = 256 + n * 3;
	char *sql = norc_xmalloc(len);
	int off = snprintf(sql, len, "UPDATE schedules SET lease_owner = ?, lease_until = ?, "
			   "changed = 0 WHERE deleted = 0 AND paused = 0 AND lease_owner IS NULL "
			   "AND id IN (");
	struct norc_arg *a = norc_xcalloc(n + 2, sizeof(*a));
	a[0] = NORC_AI(s->id);
	a[1] = NORC_AI(token);
	for (size_t i = 0; i < n; i++) {
		off += snprintf(sql + off, len - (size_t)off, i ? ",?" : "?");
		a[2 + i] = NORC_AI(ids[i]);
	}
	snprintf(sql + off, len - (size_t)off, ")");
	int rc = norc_model_exec(s->db, sql, a, n + 2, NULL);
	free(sql);
	free(a);
	free(ids);
	if (rc != NORC_OK) {
		NORC_WARN("schedules: claiming failed: %s", norc_db_errmsg(s->db));
		return 0;
	}
	struct norc_stmt *st;
	bool row = false;
	rc = norc_db_prepare(s->db, SCHED_COLS "WHERE s.lease_owner = ? AND s.lease_until = ?", &st);
	if (rc == NORC_OK) {
		norc_stmt_bind_int64(st, 1, s->id);
		norc_stmt_bind_int64(st, 2, token);
		rc = norc_stmt_step(st, &row);
	}
	size_t won = 0, dead = 0;
	int64_t *drop = norc_xcalloc(n, sizeof(int64_t));
	while (rc == NORC_OK && row) {
		struct norc_sched x;
		if (from_row(s, st, &x)) {
			norc_sched_heap_put(&s->heap, &x);
			if (++won <= 10) /* the original's line; a big batch is summed up below */
				NORC_INFO("Claiming <Schedule #%" PRId64 ">.", x.id);
		} else if (dead < n && x.id > 0) {
			drop[dead++] = x.id; /* not fireable after all: do not hold it */
		}
		rc = norc_stmt_step(st, &row);
	}
	norc_stmt_finalize(st);
	for (size_t i = 0; i < dead; i++)
		release_one(s, drop[i]);
	free(drop);
	if (rc != NORC_OK)
		NORC_WARN("schedules: loading claimed ones failed: %s", norc_db_errmsg(s->db));
	if (won > 10)
		NORC_INFO("... and %zu more schedules claimed.", won - 10);
	return n;
}

/* Reload changed schedules, claim free ones (in batches, for at most CLAIM_TURN_US;
 * claim_more says the rest follows at the next loop turn). A claim lasts as long as this
 * scheduler's heartbeat: when it dies, the daemon that finds it dead frees its schedules
 * (daemon.c), so nothing per schedule is renewed and a heartbeat costs O(1). */
static void claim_cycle(struct scheduler *s)
{
	int64_t now = norc_clock_now_us();
	int64_t until = now; /* the batch token; see claim_batch */

	size_t n;
	struct norc_arg mine[] = {NORC_AI(s->id)};
	int64_t *ids = ids_of(s, "SELECT id FROM schedules WHERE lease_owner = ? AND changed = 1",
			      mine, 1, &n);
	for (size_t i = 0; i < n; i++) {
		struct norc_sched x;
		bool live;
		norc_sched_heap_remove(&s->heap, ids[i]);
		struct norc_arg a[] = {NORC_AI(ids[i])};
		norc_model_exec(s->db, "UPDATE schedules SET changed = 0 WHERE id = ?", a, 1, NULL);
		if (load(s, ids[i], &x, &live) == NORC_OK && live) {
			NORC_INFO("Reloading <Schedule #%" PRId64 ">.", ids[i]);
			norc_sched_heap_put(&s->heap, &x);
		} else {
			NORC_INFO("<Schedule #%" PRId64 "> was removed or finished.", ids[i]);
			release_one(s, ids[i]);
		}
	}
	free(ids);

	if (s->shared) { /* test mode: every live schedule, whoever holds it */
		struct norc_stmt *st;
		bool row = false;
		int rc = norc_db_prepare(s->db, SCHED_COLS "WHERE s.deleted = 0 AND s.paused = 0 AND "
					 "s.next_fire IS NOT NULL", &st);
		if (rc == NORC_OK)
			rc = norc_stmt_step(st, &row);
		while (rc == NORC_OK && row) {
			struct norc_sched x;
			if (from_row(s, st, &x) && !norc_sched_heap_find(&s->heap, x.id))
				norc_sched_heap_put(&s->heap, &x);
			rc = norc_stmt_step(st, &row);
		}
		norc_stmt_finalize(st);
		return;
	}
	int64_t t0 = norc_clock_mono_us();
	s->claim_more = false;
	while (claim_batch(s, now, until) == CLAIM_BATCH) {
		if (norc_clock_mono_us() - t0 > CLAIM_TURN_US) {
			s->claim_more = true;
			break;
		}
	}
}

static struct norc_queue_handle *queue_of(struct scheduler *s, int64_t id)
{
	for (size_t i = 0; i < s->nq; i++)
		if (s->queues[i]->id == id)
			return s->queues[i];
	struct norc_queue_handle *q;
	char err[512];
	if (norc_queue_open(s->db, id, &q, err, sizeof(err)) != NORC_OK) {
		NORC_ERROR("queue #%" PRId64 ": %s", id, err);
		return NULL;
	}
	s->queues = norc_xrealloc(s->queues, (s->nq + 1) * sizeof(*s->queues));
	s->queues[s->nq++] = q;
	return q;
}

/* A queue's doorbells ring at its first push of a loop turn (executors wake at once and keep
 * popping while they find work) and once more after the turn's fires, not at every push: a
 * ring scans the doorbell folder, which a burst of fires cannot afford each time. */
static void ring_later(struct scheduler *s, int64_t queue_id)
{
	for (size_t i = 0; i < s->nring; i++)
		if (s->ring[i] == queue_id)
			return;
	norc_doorbell_ring(s->cfg, queue_id);
	if (s->nring < sizeof(s->ring) / sizeof(s->ring[0]))
		s->ring[s->nring++] = queue_id;
}

/* "2026-03-08T03:00:00-04:00" in the schedule's zone (UTC for periods). */
static void fmt_time(const struct norc_sched *x, int64_t us, char *buf, size_t len)
{
	if (norc_cron_format_time(us / NORC_US_PER_SEC, x->is_cron ? x->tz : NULL, buf, len) !=
	    NORC_OK)
		snprintf(buf, len, "@%" PRId64, us / NORC_US_PER_SEC);
}

/* What the catch-up decision skipped, for the log and the schedule's last_note. */
static void describe_skips(const struct norc_sched *x, const struct norc_sched_plan *p, char *buf,
			   size_t len)
{
	buf[0] = '\0';
	if (!p->skipped)
		return;
	char a[48], b[48];
	fmt_time(x, p->first_skipped, a, sizeof(a));
	fmt_time(x, p->last_skipped, b, sizeof(b));
	snprintf(buf, len, "missed %s%" PRId64 " fire time(s) from %s to %s, not run (catch-up %s%s)",
		 p->skipped_more ? "more than " : "", p->skipped, a, b,
		 norc_sched_catch_up_name(x->catch_up) ? norc_sched_catch_up_name(x->catch_up) : "?",
		 p->bounded ? ": more than catch_up_max missed" : "");
}

/* One due schedule inside a batch of fires. */
struct fire {
	struct norc_sched x, orig; /* orig: as popped, put back unchanged when the batch fails */
	struct norc_sched_plan plan;
	enum norc_fire_outcome outcome;
	int64_t inst;
	int remaining;
	bool finished, lost_race; /* lost_race: edited, removed, paused or taken over */
	bool release; /* finished: its claim goes back after the batch (fire_batch) */
	char skips[300], why[255], label[400];
};

/* Inside the batch's transaction: claim the fire time with a compare-and-set on the
 * schedule's next fire (and claim), then create the instance (or record its skip), then note
 * the outcome on the schedule. NORC_OK, or an error that undoes the whole batch. */
static int fire_one(struct scheduler *s, struct fire *f, char *err, size_t errlen)
{
	struct norc_sched *x = &f->x;
	int64_t changed = 0;
	describe_skips(x, &f->plan, f->skips, sizeof(f->skips));
	/* written as if the fire runs (the common case: one statement); corrected below when it
	 * is skipped, held or was already there */
	bool runs = f->plan.fire != 0;
	f->remaining = x->reps > 0 && runs ? x->remaining - 1 : x->remaining;
	f->finished = (x->reps > 0 && f->remaining <= 0) || !f->plan.next;
	char note[700];
	snprintf(note, sizeof(note), "%s%s%s", f->skips, f->skips[0] && runs ? "; " : "",
		 runs ? "fired" : (f->skips[0] ? "" : "nothing fired"));
	norc_text_clip(note, 255);
	struct norc_arg a[] = {f->finished ? NORC_AS(NULL) : NORC_AI(f->plan.next),
			       NORC_AI(f->remaining),
			       NORC_AI(runs ? f->plan.fire : f->plan.last_skipped), NORC_AS(note),
			       NORC_AI(x->id), NORC_AI(s->id), NORC_AI(s->shared),
			       NORC_AI(x->next_fire), NORC_AI(s->shared)};
	int rc = norc_model_exec(s->db,
				 "UPDATE schedules SET next_fire = ?, remaining = ?, last_fire = ?, "
				 "last_note = ? WHERE id = ? AND (lease_owner = ? OR ? = 1) AND "
				 "next_fire = ? AND deleted = 0 AND paused = 0 AND (changed = 0 OR "
				 "? = 1)", a, 9, &changed);
	if (rc != NORC_OK || changed != 1) {
		f->lost_race = rc == NORC_OK;
		return rc;
	}
	if (!runs)
		return NORC_OK;
	struct norc_queue_handle *q = queue_of(s, x->queue_id);
	if (!q)
		return norc_err_set(err, errlen, NORC_ERR, "queue #%" PRId64 " cannot be opened",
				    x->queue_id);
	rc = norc_instance_fire(s->db, q, x->task_id, x->overlap, x->id, f->plan.fire, &f->inst,
				&f->outcome, f->label, sizeof(f->label), f->why, sizeof(f->why), err,
				errlen);
	if (rc == NORC_EEXIST) { /* the UNIQUE key, the backstop: never a second one */
		snprintf(f->why, sizeof(f->why), "already fired by another scheduler");
		rc = NORC_OK;
		f->inst = 0;
	}
	if (rc == NORC_OK && f->inst && f->outcome != NORC_FIRE_SKIPPED && x->alert_deadline_s)
		rc = norc_alert_on_fire(s->db, x->task_id, f->inst, f->plan.fire +
					(int64_t)x->alert_deadline_s * NORC_US_PER_SEC,
					norc_clock_now_us());
	if (rc != NORC_OK || (f->inst && f->outcome == NORC_FIRE_RUN))
		return rc;
	/* skipped, held or already there: say so, and give back the repetition if none ran */
	bool ran = f->inst && f->outcome == NORC_FIRE_HELD;
	f->remaining = x->reps > 0 && ran ? x->remaining - 1 : x->remaining;
	f->finished = (x->reps > 0 && f->remaining <= 0) || !f->plan.next;
	if (f->inst)
		snprintf(note, sizeof(note), "%s%s%s instance #%" PRId64 ": %s", f->skips,
			 f->skips[0] ? "; " : "",
			 f->outcome == NORC_FIRE_SKIPPED ? "skipped as" : "held", f->inst, f->why);
	else
		snprintf(note, sizeof(note), "%s%s%s", f->skips, f->skips[0] ? "; " : "", f->why);
	norc_text_clip(note, 255);
	struct norc_arg b[] = {f->finished ? NORC_AS(NULL) : NORC_AI(f->plan.next),
			       NORC_AI(f->remaining), NORC_AS(note), NORC_AI(x->id)};
	return norc_model_exec(s->db, "UPDATE schedules SET next_fire = ?, remaining = ?, "
			       "last_note = ? WHERE id = ?", b, 4, NULL);
}

/* After the batch committed: log, ring, and put each schedule back for its next fire. */
static void fire_done(struct scheduler *s, struct fire *f)
{
	struct norc_sched *x = &f->x;
	if (f->lost_race && s->shared) { /* the other one fired it: follow */
		NORC_INFO("<Schedule #%" PRId64 "> was fired by another scheduler; following it.",
			  x->id);
		bool live;
		if (load(s, x->id, x, &live) == NORC_OK && live)
			norc_sched_heap_put(&s->heap, x);
		return;
	}
	if (f->lost_race) {
		struct norc_arg b[] = {NORC_AI(x->id), NORC_AI(s->id)};
		norc_model_exec(s->db, "UPDATE schedules SET changed = 1 WHERE id = ? AND "
			       "lease_owner = ?", b, 2, NULL);
		return; /* reloaded (or dropped) at the next claim cycle */
	}
	if (f->skips[0])
		NORC_WARN("<Schedule #%" PRId64 "> %s.", x->id, f->skips);
	if (f->outcome == NORC_FIRE_RUN && f->inst) {
		ring_later(s, x->queue_id);
		NORC_INFO("Enqueuing %s.", f->label);
	} else if (f->inst) {
		NORC_INFO("<Schedule #%" PRId64 ">: instance #%" PRId64 " %s (%s).", x->id, f->inst,
			  f->outcome == NORC_FIRE_HELD ? "held" : "skipped", f->why);
	}
	if (f->finished) {
		f->release = true; /* with the others of the batch, in one statement */
		NORC_INFO("<Schedule #%" PRId64 "> finished.", x->id);
		return;
	}
	x->next_fire = x->due = f->plan.next;
	x->remaining = f->remaining;
	norc_sched_heap_put(&s->heap, x);
}

/* Fire every due schedule (at most FIRE_BATCH) in ONE transaction: the pages a fire touches
 * (instances and their indexes, the queue, the schedule) are written once per batch instead of
 * once per fire, which is what keeps a burst of thousands of fires at the same second within
 * milliseconds. The batch commits whole or not at all; on failure every fire in it is tried
 * again a second later, nothing is lost. Returns how many schedules were due. */
#define FIRE_BATCH 256
static int fire_due(struct scheduler *s)
{
	static struct fire batch[FIRE_BATCH];
	int n = 0;
	int64_t now = norc_clock_now_us();
	while (n < FIRE_BATCH && s->heap.n && s->heap.v[0].due <= now) {
		struct fire *f = &batch[n];
		memset(f, 0, sizeof(*f));
		norc_sched_heap_pop(&s->heap, &f->x);
		f->orig = f->x;
		if (norc_sched_plan(&f->x, now, &f->plan) != NORC_OK) {
			f->x.due = now + NORC_US_PER_SEC;
			norc_sched_heap_put(&s->heap, &f->x);
			continue;
		}
		n++;
	}
	if (!n)
		return 0;
	char err[512] = "";
	int rc = norc_db_begin_write(s->db);
	int failed = -1;
	for (int i = 0; i < n && rc == NORC_OK; i++)
		if ((rc = fire_one(s, &batch[i], err, sizeof(err))) != NORC_OK)
			failed = i;
	if (rc == NORC_OK)
		rc = norc_db_commit(s->db);
	else
		norc_db_rollback(s->db);
	if (rc != NORC_OK) {
		/* nothing was written: every fire goes back as it was. The one that failed waits
		 * (5 s) so the others, fired again at once, are not held hostage by it; a failed
		 * commit (database trouble) retries them all a second later. */
		int64_t later = norc_clock_now_us() + NORC_US_PER_SEC;
		if (failed >= 0)
			NORC_ERROR("<Schedule #%" PRId64 ">: firing failed: %s; trying it again in "
				   "5 s", batch[failed].x.id, err[0] ? err : norc_db_errmsg(s->db));
		else
			NORC_ERROR("firing %d schedule(s) failed: %s; retrying them in 1 s", n,
				   norc_db_errmsg(s->db));
		for (int i = 0; i < n; i++) {
			struct norc_sched *o = &batch[i].orig;
			o->due = i == failed ? later + 4 * NORC_US_PER_SEC
			       : failed >= 0 ? o->due : later;
			norc_sched_heap_put(&s->heap, o);
		}
		return n;
	}
	if (n > 1) { /* enqueued = when the batch became visible, i.e. now, not at its insert */
		size_t len = 128 + (size_t)n * 24, off;
		char *sql = norc_xmalloc(len);
		off = (size_t)snprintf(sql, len, "UPDATE instances SET enqueued = ? WHERE id IN (0");
		for (int i = 0; i < n; i++)
			if (batch[i].inst && batch[i].outcome == NORC_FIRE_RUN)
				off += (size_t)snprintf(sql + off, len - off, ",%" PRId64, batch[i].inst);
		snprintf(sql + off, len - off, ")");
		struct norc_arg a[] = {NORC_AI(norc_clock_now_us())};
		norc_model_exec(s->db, sql, a, 1, NULL);
		free(sql);
	}
	size_t len = 160 + (size_t)n * 24, off, nrel = 0;
	char *rel = norc_xmalloc(len);
	off = (size_t)snprintf(rel, len, "UPDATE schedules SET lease_owner = NULL, lease_until = "
			       "NULL WHERE lease_owner = ? AND id IN (0");
	for (int i = 0; i < n; i++) {
		fire_done(s, &batch[i]);
		if (batch[i].release) {
			off += (size_t)snprintf(rel + off, len - off, ",%" PRId64, batch[i].x.id);
			nrel++;
		}
	}
	if (nrel) { /* finished schedules go back; should this fail, they stay claimed here with
		     * no next fire, and this scheduler still reloads them when they are changed */
		snprintf(rel + off, len - off, ")");
		struct norc_arg a[] = {NORC_AI(s->id)};
		norc_model_exec(s->db, rel, a, 1, NULL);
	}
	free(rel);
	return n;
}

static struct norc_queue_handle *retry_queue(void *ctx, int64_t id)
{
	return queue_of(ctx, id);
}

static void retry_pushed(void *ctx, int64_t queue_id, int64_t instance_id)
{
	struct scheduler *s = ctx;
	NORC_INFO("Enqueuing retry <Instance #%" PRId64 ">.", instance_id);
	norc_doorbell_ring(s->cfg, queue_id);
}

/* Push the retries that are due (instance.c); remember when the next one is. */
static void push_retries(struct scheduler *s)
{
	int pushed = 0;
	int64_t next = 0;
	if (norc_instance_push_retries(s->db, norc_clock_now_us(), 256, retry_queue, retry_pushed,
				       s, &pushed, &next) != NORC_OK) {
		NORC_WARN("retries: %s; looking again in 1 s", norc_db_errmsg(s->db));
		next = norc_clock_now_us() + NORC_US_PER_SEC;
	}
	s->retry_at = next;
}

/* Held runs whose end-of-blocker release was skipped (the task became "queue" while that
 * run ran: instance.h, cannot_hold) go now; push_retries then pushes them. */
static void release_holds(struct scheduler *s)
{
	int n = 0;
	if (norc_instance_release_holds(s->db, &n) != NORC_OK)
		NORC_WARN("held runs: %s; looking again at the next heartbeat", norc_db_errmsg(s->db));
	else if (n)
		NORC_INFO("Released %d held run(s) with nothing left running ahead of them.", n);
}

/* Stop the jobs whose timeout has passed (job.c); remember when the next one is. */
static void expire_jobs(struct scheduler *s)
{
	int n = 0;
	int64_t next = 0;
	struct norc_job_notes notes = {0};
	if (norc_job_expire(s->db, norc_clock_now_us(), &notes, &n, &next) != NORC_OK) {
		NORC_WARN("job timeouts: %s; looking again in 1 s", norc_db_errmsg(s->db));
		next = norc_clock_now_us() + NORC_US_PER_SEC;
	}
	if (n)
		NORC_INFO("Stopped %d job instance(s) whose timeout passed.", n);
	norc_job_notes_flush(s->cfg, &notes);
	s->job_deadline = next;
}

static void release_all(struct scheduler *s)
{
	struct norc_arg a[] = {NORC_AI(s->id)};
	int64_t n = 0;
	norc_model_exec(s->db, "UPDATE schedules SET lease_owner = NULL, lease_until = NULL WHERE "
		       "lease_owner = ?", a, 1, &n);
	norc_sched_heap_clear(&s->heap);
	NORC_INFO("Cleaning up %" PRId64 " schedules.", n);
}

/* Let go of every schedule (they become free for any scheduler) and empty the heap. */
static void release_all(struct scheduler *s);

static void set_status(struct scheduler *s, int status)
{
	s->status = status;
	int req;
	if (norc_daemon_heartbeat(s->db, s->id, status, &req) != NORC_OK)
		NORC_WARN("cannot record status %s: %s", norc_status_name(status),
			  norc_db_errmsg(s->db));
}

/* A request: returns a final status to stop with, or 0 to go on. */
static int handle_request(struct scheduler *s, int req)
{
	norc_control_take(s->db, s->id, req);
	NORC_INFO("Request received: %s", norc_control_name(req));
	switch (req) {
	case NORC_REQ_STOP: return NORC_ST_ENDED;
	case NORC_REQ_KILL: return NORC_ST_KILLED;
	case NORC_REQ_PAUSE:
		if (s->status == NORC_ST_RUNNING) { /* no firing: release everything */
			release_all(s);
			set_status(s, NORC_ST_PAUSED);
		}
		return 0;
	case NORC_REQ_RESUME:
		if (s->status == NORC_ST_PAUSED) {
			set_status(s, NORC_ST_RUNNING);
			s->next_beat_us = 0; /* claim again now */
		} else {
			NORC_INFO("Must be paused to resume; clearing request.");
		}
		return 0;
	case NORC_REQ_RELOAD:
		/* let go and claim again: every schedule is re-read from the database */
		release_all(s);
		s->next_beat_us = 0;
		return 0;
	}
	return 0;
}

static int run_loop(struct scheduler *s, int sigfd)
{
	s->next_beat_us = norc_clock_mono_us();
	for (;;) {
		/* fires first: a heartbeat or request read due at the same moment waits for them.
		 * Bounded (FIRE_BATCH), so a burst (period 0, a long make-up) cannot starve
		 * heartbeats and signals: the rest fires on the next turns. */
		int fired = s->status == NORC_ST_RUNNING ? fire_due(s) : 0;
		for (size_t i = 0; fired > 1 && i < s->nring; i++)
			norc_doorbell_ring(s->cfg, s->ring[i]);
		s->nring = 0;
		if (norc_clock_mono_us() >= s->next_beat_us) {
			int req = 0, end;
			int hb = norc_daemon_heartbeat(s->db, s->id, s->status, &req);
			if (hb == NORC_ENOTFOUND) {
				NORC_ERROR("This scheduler was declared dead by another daemon (no "
					   "heartbeat for %d s: the database was out of its reach); its "
					   "schedules went to others. Stopping.",
					   s->cfg->heartbeat_timeout_s);
				norc_sched_heap_clear(&s->heap);
				return NORC_ST_ERROR;
			}
			if (hb != NORC_OK)
				NORC_WARN("heartbeat failed: %s", norc_db_errmsg(s->db));
			int64_t lost;
			norc_daemon_reap_dead(s->db, s->id, s->cfg, hb == NORC_OK, &s->reaper, &lost);
			if (req && (end = handle_request(s, req)))
				return end;
			if (s->status == NORC_ST_RUNNING) {
				claim_cycle(s);
				release_holds(s);
				push_retries(s);
				expire_jobs(s);
			}
			s->next_beat_us = norc_clock_mono_us() + s->cfg->heartbeat_s * NORC_US_PER_SEC;
			s->next_request_us = norc_clock_mono_us() + NORC_US_PER_SEC;
			/* the database's write-back between fires, not inside a burst (db.h) */
			int64_t mono = norc_clock_mono_us();
			bool quiet = !s->heap.n ||
				     s->heap.v[0].due - norc_clock_now_us() > 300 * 1000;
			if (quiet || mono - s->last_checkpoint_us > 30 * NORC_US_PER_SEC) {
				norc_db_maintain(s->db, NORC_DB_CHECKPOINT);
				s->last_checkpoint_us = mono;
			}
		} else if (norc_clock_mono_us() >= s->next_request_us) {
			int req = 0, end;
			if (norc_daemon_request(s->db, s->id, &req) == NORC_OK && req &&
			    (end = handle_request(s, req)))
				return end;
			s->next_request_us = norc_clock_mono_us() + NORC_US_PER_SEC;
		}
		if (s->status == NORC_ST_RUNNING && s->retry_at && s->retry_at <= norc_clock_now_us())
			push_retries(s);
		if (s->status == NORC_ST_RUNNING && s->job_deadline &&
		    s->job_deadline <= norc_clock_now_us())
			expire_jobs(s);
		if (s->claim_more && s->status == NORC_ST_RUNNING)
			claim_cycle(s); /* many free schedules: go on claiming between fires */
		/* alerts between fires, not in the last 100 ms before one (unless fires leave no
		 * such gap for a second: then between two of them) */
		int64_t now = norc_clock_now_us();
		bool fire_soon = s->heap.n && s->status == NORC_ST_RUNNING &&
				 s->heap.v[0].due - now <= 100 * 1000;
		if (!fire_soon || now - s->alert_at > NORC_US_PER_SEC)
			s->alert_at = norc_alerter_tick(&s->alerter, s->db, now, norc_clock_mono_us());
		else if (s->alert_at < s->heap.v[0].due)
			s->alert_at = s->heap.v[0].due; /* not before the fire: no busy wait */
		int64_t wait = s->next_beat_us - norc_clock_mono_us();
		if (s->next_request_us - norc_clock_mono_us() < wait)
			wait = s->next_request_us - norc_clock_mono_us();
		if (s->claim_more && s->status == NORC_ST_RUNNING)
			wait = 0;
		if (s->heap.n && s->status == NORC_ST_RUNNING) {
			int64_t due = s->heap.v[0].due - norc_clock_now_us();
			if (due < wait)
				wait = due;
		}
		if (s->retry_at && s->status == NORC_ST_RUNNING &&
		    s->retry_at - norc_clock_now_us() < wait)
			wait = s->retry_at - norc_clock_now_us();
		if (s->job_deadline && s->status == NORC_ST_RUNNING &&
		    s->job_deadline - norc_clock_now_us() < wait)
			wait = s->job_deadline - norc_clock_now_us();
		if (s->alert_at - norc_clock_now_us() < wait)
			wait = s->alert_at - norc_clock_now_us();
		if (wait < 0)
			wait = 0;
		struct timespec ts = {.tv_sec = wait / NORC_US_PER_SEC,
				      .tv_nsec = (wait % NORC_US_PER_SEC) * 1000};
		struct pollfd pfd[2] = {{.fd = sigfd, .events = POLLIN},
					{.fd = s->bell, .events = POLLIN}};
		int n = ppoll(pfd, s->bell >= 0 ? 2 : 1, &ts, NULL);
		if (n > 0 && s->bell >= 0 && (pfd[1].revents & POLLIN)) {
			norc_doorbell_drain(s->bell);
			s->next_beat_us = 0; /* schedules or a request changed: look now */
			norc_alerter_poke(&s->alerter); /* or an alert was raised */
		}
		if (n < 0 && errno != EINTR) {
			NORC_ERROR("ppoll: %s; stopping (the schedules are released)",
				   strerror(errno));
			return NORC_ST_ERROR;
		}
		struct signalfd_siginfo si;
		while (n > 0 && read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
				NORC_INFO("Signal '%s' received!",
					  si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
				norc_daemon_notify("STOPPING=1");
				return si.ssi_signo == SIGINT ? NORC_ST_ENDED : NORC_ST_KILLED;
			}
			if (si.ssi_signo == SIGCHLD) /* the alerter's worker */
				norc_alerter_sigchld(&s->alerter, s->db);
			if (si.ssi_signo == SIGHUP) { /* the config, and every schedule */
				norc_daemon_reload_config(s->cfg);
				release_all(s);
				s->next_beat_us = 0;
			}
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"echo", no_argument, NULL, 'e'},
					   {"debug", no_argument, NULL, 'd'},
					   {"config", required_argument, NULL, 'C'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *config = NULL;
	bool echo = false, debug = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "edC:h", lo, NULL)) != -1) {
		switch (c) {
		case 'e': echo = true; break;
		case 'd': debug = true; break;
		case 'C': config = optarg; break;
		case 'h':
			printf("usage: norc_scheduler [-e] [-d] [-C FILE]\n\nCreates instances of "
			       "schedules at their fire times and pushes them onto their queues.\n"
			       "  -e, --echo         echo the log to stdout\n"
			       "  -d, --debug        debug lines in the log\n"
			       "  -C, --config FILE  config file\n"
			       "SIGINT or SIGTERM: release the schedules and stop. SIGHUP: reload "
			       "schedules now.\n");
			return 0;
		default:
			fprintf(stderr, "norc_scheduler: error: unknown option %s (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "norc_scheduler: error: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return 2;
	}
	norc_log_setup(stderr, NORC_LOG_PLAIN, debug ? NORC_LOG_DEBUG : NORC_LOG_INFO, false);
	struct scheduler s = {.status = NORC_ST_RUNNING, .bell = -1};
	/* Test mode for the exactly-once proof: schedulers ignore each other's claims and race
	 * to fire the same schedules; only the compare-and-set and UNIQUE key keep it exact. */
	const char *shared = getenv("NORC_TEST_SHARED_CLAIMS");
	s.shared = shared && strcmp(shared, "1") == 0;
	if (norc_daemon_open("norc_scheduler", config, &s.cfg, &s.db) != NORC_OK)
		return 1;
	if (norc_daemon_register(s.db, "scheduler", 0, 0, &s.id) != NORC_OK) {
		fprintf(stderr, "norc_scheduler: error: cannot register: %s\n", norc_db_errmsg(s.db));
		return 1;
	}
	char *rel = norc_xasprintf("schedulers/scheduler-%" PRId64, s.id), *abs = NULL;
	int fd = norc_daemon_open_file(s.cfg, rel, &abs);
	FILE *log = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!log) {
		fprintf(stderr, "norc_scheduler: error: cannot open log %s: %s; check log_dir\n",
			abs, strerror(errno));
		norc_daemon_end(s.db, s.id, NORC_ST_ERROR);
		free(rel);
		return 1;
	}
	free(abs);
	norc_log_setup(log, NORC_LOG_STAMPED, debug ? NORC_LOG_DEBUG : NORC_LOG_INFO, echo);
	/* The scheduler uploads its own log when it ends (executors upload continuously, and
	 * also upload this log if the scheduler dies): no upload work between fires. */
	struct norc_uploader up;
	norc_uploader_init(&up, s.cfg);
	norc_uploader_track_daemon(&up, s.db, s.id, rel);
	free(rel);
	int sigfd = norc_daemon_signalfd();
	if (sigfd < 0) {
		NORC_ERROR("signalfd: %s; raise the open-file limit (ulimit -n)", strerror(errno));
		norc_daemon_end(s.db, s.id, NORC_ST_ERROR);
		return 1;
	}
	char *bell_path = NULL;
	norc_doorbell_open(s.cfg, 0, &s.bell, &bell_path);
	norc_db_maintain(s.db, NORC_DB_HOLD_CHECKPOINTS);
	int64_t orphans = 0;
	if (norc_daemon_release_orphans(s.db, &orphans) == NORC_OK && orphans)
		NORC_WARN("Released %" PRId64 " schedule(s) still claimed by schedulers that ended.",
			  orphans);
	NORC_INFO("<Scheduler #%" PRId64 "> initialized; starting...", s.id);
	char ready[80];
	snprintf(ready, sizeof(ready), "READY=1\nSTATUS=Scheduler #%" PRId64, s.id);
	norc_daemon_notify(ready);
	if (s.shared)
		NORC_WARN("NORC_TEST_SHARED_CLAIMS=1: racing other schedulers for every schedule "
			  "(a test mode)");
	norc_alerter_init(&s.alerter, s.cfg);
	int final = run_loop(&s, sigfd);
	NORC_INFO("Shutting down...");
	norc_alerter_finish(&s.alerter, s.db);
	norc_doorbell_close(s.bell, bell_path);
	release_all(&s);
	norc_daemon_end(s.db, s.id, final);
	NORC_INFO("<Scheduler #%" PRId64 "> has been shut down successfully (%s).", s.id,
		  norc_status_name(final));
	norc_uploader_finish(&up, s.db, s.id);
	for (size_t i = 0; i < s.nq; i++)
		norc_queue_close(s.queues[i]);
	free(s.queues);
	norc_sched_heap_free(&s.heap);
	for (size_t i = 0; i < s.nzones; i++) {
		free(s.zones[i].name);
		norc_tz_free(s.zones[i].tz);
	}
	free(s.zones);
	norc_plugin_unload_all();
	norc_db_close(s.db);
	norc_config_free(s.cfg);
	fclose(log);
	close(sigfd);
	return final == NORC_ST_ERROR ? 1 : 0;
}
