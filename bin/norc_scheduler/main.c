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
#include "doorbell.h"
#include "db.h"
#include "instance.h"
#include "log.h"
#include "mem.h"
#include "model.h"
#include "plugin.h"
#include "queue.h"
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

#define CLAIM_BATCH 1000

struct sched {
	int64_t due; /* heap key: next_fire, or a later retry time after a failed fire */
	int64_t id, task_id, queue_id, next_fire, period_us;
	int reps, remaining;
	bool make_up;
};

struct scheduler {
	struct norc_config *cfg;
	struct norc_db *db;
	int64_t id;
	int status;
	struct sched *heap;
	size_t n, cap;
	struct norc_queue_handle **queues; /* opened on first use */
	size_t nq;
	int64_t next_beat_us; /* monotonic */
	int64_t next_request_us; /* monotonic: requests from other hosts are read every second */
	int64_t retry_at;     /* wall clock: the earliest retry waiting to be pushed, 0: none */
	struct norc_reaper reaper;
	int bell;             /* doorbell (queue id 0), -1 when polling only */
};

/* ---- min-heap by next_fire ---- */

static void swap(struct sched *a, struct sched *b)
{
	struct sched t = *a;
	*a = *b;
	*b = t;
}

static void heap_push(struct scheduler *s, const struct sched *x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->heap = norc_xrealloc(s->heap, s->cap * sizeof(*s->heap));
	}
	size_t i = s->n++;
	s->heap[i] = *x;
	while (i && s->heap[(i - 1) / 2].due > s->heap[i].due) {
		swap(&s->heap[(i - 1) / 2], &s->heap[i]);
		i = (i - 1) / 2;
	}
}

static void heap_remove_at(struct scheduler *s, size_t i)
{
	s->heap[i] = s->heap[--s->n];
	for (;;) { /* sift down, then up */
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n && s->heap[l].due < s->heap[m].due)
			m = l;
		if (r < s->n && s->heap[r].due < s->heap[m].due)
			m = r;
		if (m == i)
			break;
		swap(&s->heap[i], &s->heap[m]);
		i = m;
	}
	while (i && i < s->n && s->heap[(i - 1) / 2].due > s->heap[i].due) {
		swap(&s->heap[(i - 1) / 2], &s->heap[i]);
		i = (i - 1) / 2;
	}
}

static void heap_drop(struct scheduler *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++) /* only on edits: O(n) is fine */
		if (s->heap[i].id == id) {
			heap_remove_at(s, i);
			return;
		}
}

/* ---- database ---- */

static int load(struct scheduler *s, int64_t id, struct sched *out, bool *live)
{
	struct norc_stmt *st;
	*live = false;
	int rc = norc_db_query_row(s->db,
				   "SELECT id, task_id, queue_id, next_fire, period, repetitions, "
				   "remaining, make_up, deleted, paused, kind FROM schedules WHERE id = ?",
				   id, &st);
	if (rc == NORC_ENOTFOUND)
		return NORC_OK; /* gone: not live */
	if (rc != NORC_OK)
		return rc;
	{
		*out = (struct sched){
			.id = norc_stmt_column_int64(st, 0),
			.task_id = norc_stmt_column_int64(st, 1),
			.queue_id = norc_stmt_column_int64(st, 2),
			.next_fire = norc_stmt_column_int64(st, 3),
			.period_us = norc_stmt_column_int64(st, 4) * NORC_US_PER_SEC,
			.reps = (int)norc_stmt_column_int64(st, 5),
			.remaining = (int)norc_stmt_column_int64(st, 6),
			.make_up = norc_stmt_column_int64(st, 7) != 0,
		};
		out->due = out->next_fire;
		const char *kind = norc_stmt_column_text(st, 10);
		*live = !norc_stmt_column_is_null(st, 3) && norc_stmt_column_int64(st, 8) == 0 &&
			norc_stmt_column_int64(st, 9) == 0 && kind && strcmp(kind, "period") == 0;
	}
	norc_stmt_finalize(st);
	return rc;
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

/* Renew our leases, reload changed schedules, claim free or expired ones. */
static void claim_cycle(struct scheduler *s)
{
	int64_t now = norc_clock_now_us();
	int64_t until = now + s->cfg->heartbeat_timeout_s * NORC_US_PER_SEC;
	struct norc_arg renew[] = {NORC_AI(until), NORC_AI(s->id)};
	if (norc_model_exec(s->db, "UPDATE schedules SET lease_until = ? WHERE lease_owner = ?",
			    renew, 2, NULL) != NORC_OK)
		NORC_WARN("schedules: renewing leases failed: %s", norc_db_errmsg(s->db));

	size_t n;
	struct norc_arg mine[] = {NORC_AI(s->id)};
	int64_t *ids = ids_of(s, "SELECT id FROM schedules WHERE lease_owner = ? AND changed = 1",
			      mine, 1, &n);
	for (size_t i = 0; i < n; i++) {
		struct sched x;
		bool live;
		heap_drop(s, ids[i]);
		struct norc_arg a[] = {NORC_AI(ids[i])};
		norc_model_exec(s->db, "UPDATE schedules SET changed = 0 WHERE id = ?", a, 1, NULL);
		if (load(s, ids[i], &x, &live) == NORC_OK && live) {
			NORC_INFO("Reloading <Schedule #%" PRId64 ">.", ids[i]);
			heap_push(s, &x);
		} else {
			NORC_INFO("<Schedule #%" PRId64 "> was removed or finished.", ids[i]);
			struct norc_arg b[] = {NORC_AI(ids[i]), NORC_AI(s->id)};
			norc_model_exec(s->db, "UPDATE schedules SET lease_owner = NULL, lease_until "
				       "= NULL WHERE id = ? AND lease_owner = ?", b, 2, NULL);
		}
	}
	free(ids);

	struct norc_arg free_args[] = {NORC_AI(now), NORC_AI(CLAIM_BATCH)};
	ids = ids_of(s, "SELECT id FROM schedules WHERE deleted = 0 AND paused = 0 AND "
		     "next_fire IS NOT NULL AND kind = 'period' AND (lease_owner IS NULL OR "
		     "lease_until < ?) ORDER BY id LIMIT ?", free_args, 2, &n);
	for (size_t i = 0; i < n; i++) {
		int64_t changed = 0;
		struct norc_arg a[] = {NORC_AI(s->id), NORC_AI(until), NORC_AI(ids[i]), NORC_AI(now)};
		if (norc_model_exec(s->db,
				    "UPDATE schedules SET lease_owner = ?, lease_until = ?, "
				    "changed = 0 WHERE id = ? AND deleted = 0 AND paused = 0 AND "
				    "(lease_owner IS NULL OR lease_until < ?)", a, 4, &changed) !=
			    NORC_OK ||
		    changed != 1)
			continue; /* another scheduler was faster */
		struct sched x;
		bool live;
		if (load(s, ids[i], &x, &live) == NORC_OK && live) {
			NORC_INFO("Claiming <Schedule #%" PRId64 ">.", x.id);
			heap_drop(s, x.id);
			heap_push(s, &x);
		} else { /* not fireable after all, or unreadable: do not hold it */
			struct norc_arg b[] = {NORC_AI(ids[i]), NORC_AI(s->id)};
			norc_model_exec(s->db, "UPDATE schedules SET lease_owner = NULL, lease_until "
				       "= NULL WHERE id = ? AND lease_owner = ?", b, 2, NULL);
		}
	}
	free(ids);
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

/* Fire the heap's top (due). */
static void fire(struct scheduler *s)
{
	struct sched x = s->heap[0];
	heap_remove_at(s, 0);
	int64_t now = norc_clock_now_us();
	int remaining = x.reps > 0 ? x.remaining - 1 : 0;
	bool finished = x.reps > 0 && remaining <= 0;
	int64_t next = 0;
	if (!finished) {
		next = x.next_fire + (x.period_us ? x.period_us : 1);
		if (!x.make_up && x.period_us && next <= now) {
			int64_t skipped = (now - next) / x.period_us + 1;
			next += skipped * x.period_us; /* at most one late fire */
			NORC_INFO("<Schedule #%" PRId64 "> skips %" PRId64 " missed run(s) (no make-up).",
				  x.id, skipped);
		}
	}
	struct norc_queue_handle *q = queue_of(s, x.queue_id);
	if (!q) {
		x.due = now + 5 * NORC_US_PER_SEC; /* try again later; the fire is not lost */
		heap_push(s, &x);
		return;
	}
	char err[512] = "";
	int64_t changed = 0, inst = 0;
	int rc = norc_db_begin_write(s->db);
	struct norc_arg a[] = {finished ? NORC_AS(NULL) : NORC_AI(next), NORC_AI(remaining),
			       NORC_AI(x.id), NORC_AI(s->id), NORC_AI(x.next_fire)};
	if (rc == NORC_OK)
		rc = norc_model_exec(s->db,
				     "UPDATE schedules SET next_fire = ?, remaining = ? WHERE id = ? "
				     "AND lease_owner = ? AND next_fire = ? AND deleted = 0 AND "
				     "paused = 0", a, 5, &changed);
	if (rc == NORC_OK && changed == 1) {
		rc = norc_instance_enqueue(s->db, q, x.task_id, x.id, x.next_fire, &inst, err,
					   sizeof(err));
		if (rc == NORC_EEXIST) {
			NORC_WARN("<Schedule #%" PRId64 "> already fired at that time; not again.", x.id);
			rc = NORC_OK;
			inst = 0;
		}
	}
	if (rc == NORC_OK)
		rc = norc_db_commit(s->db);
	else
		norc_db_rollback(s->db);
	if (rc != NORC_OK) {
		NORC_ERROR("<Schedule #%" PRId64 ">: firing failed: %s; retrying in 1 s", x.id,
			   err[0] ? err : norc_db_errmsg(s->db));
		x.due = norc_clock_now_us() + NORC_US_PER_SEC; /* nothing was written: same fire */
		heap_push(s, &x);
		return;
	}
	if (changed != 1) { /* edited, removed, paused or taken over meanwhile */
		struct norc_arg b[] = {NORC_AI(x.id), NORC_AI(s->id)};
		norc_model_exec(s->db, "UPDATE schedules SET changed = 1 WHERE id = ? AND "
			       "lease_owner = ?", b, 2, NULL);
		return;
	}
	if (inst) {
		norc_doorbell_ring(s->cfg, x.queue_id);
		struct norc_run_info ri;
		if (norc_instance_load(s->db, inst, &ri) == NORC_OK) {
			NORC_INFO("Enqueuing <Instance #%" PRId64 " of %s %s>.", inst, ri.task_type,
				  ri.task_name);
			norc_run_info_free(&ri);
		}
	}
	if (finished) {
		struct norc_arg b[] = {NORC_AI(x.id)};
		norc_model_exec(s->db, "UPDATE schedules SET lease_owner = NULL, lease_until = NULL "
			       "WHERE id = ?", b, 1, NULL);
		NORC_INFO("<Schedule #%" PRId64 "> finished.", x.id);
		return;
	}
	x.next_fire = x.due = next;
	x.remaining = remaining;
	heap_push(s, &x);
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

static void release_all(struct scheduler *s)
{
	struct norc_arg a[] = {NORC_AI(s->id)};
	int64_t n = 0;
	norc_model_exec(s->db, "UPDATE schedules SET lease_owner = NULL, lease_until = NULL WHERE "
		       "lease_owner = ?", a, 1, &n);
	s->n = 0;
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
		if (norc_clock_mono_us() >= s->next_beat_us) {
			int req = 0, end;
			int hb = norc_daemon_heartbeat(s->db, s->id, s->status, &req);
			if (hb == NORC_ENOTFOUND) {
				NORC_ERROR("This scheduler was declared dead by another daemon (no "
					   "heartbeat for %d s: the database was out of its reach); its "
					   "schedules went to others. Stopping.",
					   s->cfg->heartbeat_timeout_s);
				s->n = 0;
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
				push_retries(s);
			}
			s->next_beat_us = norc_clock_mono_us() + s->cfg->heartbeat_s * NORC_US_PER_SEC;
			s->next_request_us = norc_clock_mono_us() + NORC_US_PER_SEC;
		} else if (norc_clock_mono_us() >= s->next_request_us) {
			int req = 0, end;
			if (norc_daemon_request(s->db, s->id, &req) == NORC_OK && req &&
			    (end = handle_request(s, req)))
				return end;
			s->next_request_us = norc_clock_mono_us() + NORC_US_PER_SEC;
		}
		if (s->status == NORC_ST_RUNNING && s->retry_at && s->retry_at <= norc_clock_now_us())
			push_retries(s);
		/* bounded, so a burst (period 0, a long make-up) cannot starve heartbeats,
		 * lease renewal and signals: the rest fires on the next turns */
		int fired = 0;
		while (s->status == NORC_ST_RUNNING && s->n && s->heap[0].due <= norc_clock_now_us() &&
		       fired++ < 256)
			fire(s);
		int64_t wait = s->next_beat_us - norc_clock_mono_us();
		if (s->next_request_us - norc_clock_mono_us() < wait)
			wait = s->next_request_us - norc_clock_mono_us();
		if (s->n && s->status == NORC_ST_RUNNING) {
			int64_t due = s->heap[0].due - norc_clock_now_us();
			if (due < wait)
				wait = due;
		}
		if (s->retry_at && s->status == NORC_ST_RUNNING &&
		    s->retry_at - norc_clock_now_us() < wait)
			wait = s->retry_at - norc_clock_now_us();
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
				return si.ssi_signo == SIGINT ? NORC_ST_ENDED : NORC_ST_KILLED;
			}
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
	if (norc_daemon_open("norc_scheduler", config, &s.cfg, &s.db) != NORC_OK)
		return 1;
	if (norc_daemon_register(s.db, "scheduler", 0, 0, &s.id) != NORC_OK) {
		fprintf(stderr, "norc_scheduler: error: cannot register: %s\n", norc_db_errmsg(s.db));
		return 1;
	}
	char *rel = norc_xasprintf("schedulers/scheduler-%" PRId64, s.id), *abs = NULL;
	int fd = norc_daemon_open_file(s.cfg, rel, &abs);
	FILE *log = fd >= 0 ? fdopen(fd, "a") : NULL;
	free(rel);
	if (!log) {
		fprintf(stderr, "norc_scheduler: error: cannot open log %s: %s; check log_dir\n",
			abs, strerror(errno));
		norc_daemon_end(s.db, s.id, NORC_ST_ERROR);
		return 1;
	}
	free(abs);
	norc_log_setup(log, NORC_LOG_STAMPED, debug ? NORC_LOG_DEBUG : NORC_LOG_INFO, echo);
	int sigfd = norc_daemon_signalfd();
	if (sigfd < 0) {
		NORC_ERROR("signalfd: %s; raise the open-file limit (ulimit -n)", strerror(errno));
		norc_daemon_end(s.db, s.id, NORC_ST_ERROR);
		return 1;
	}
	char *bell_path = NULL;
	norc_doorbell_open(s.cfg, 0, &s.bell, &bell_path);
	NORC_INFO("<Scheduler #%" PRId64 "> initialized; starting...", s.id);
	int final = run_loop(&s, sigfd);
	NORC_INFO("Shutting down...");
	norc_doorbell_close(s.bell, bell_path);
	release_all(&s);
	norc_daemon_end(s.db, s.id, final);
	NORC_INFO("<Scheduler #%" PRId64 "> has been shut down successfully (%s).", s.id,
		  norc_status_name(final));
	for (size_t i = 0; i < s.nq; i++)
		norc_queue_close(s.queues[i]);
	free(s.queues);
	free(s.heap);
	norc_plugin_unload_all();
	norc_db_close(s.db);
	norc_config_free(s.cfg);
	fclose(log);
	close(sigfd);
	return final == NORC_ST_ERROR ? 1 : 0;
}
