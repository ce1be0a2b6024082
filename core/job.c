/*
 * job.c - see job.h. Every decision follows the same three steps, under the job instance's
 * row lock: load the job's node instances and edges (load_job, load_graph), decide
 * (norc_job_decide, pure), apply with compare-and-sets (apply), so that running a step twice
 * changes nothing the second time.
 */
#include "job.h"
#include "clock.h"
#include "daemon.h"
#include "doorbell.h"
#include "instance.h"
#include "jobdef.h"
#include "log.h"
#include "mem.h"
#include "model.h"
#include "queue.h"
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- notes ---- */

void norc_job_note(struct norc_job_notes *notes, const char *log_path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	notes->v = norc_xrealloc(notes->v, (notes->n + 1) * sizeof(*notes->v));
	notes->v[notes->n++] = (struct norc_job_note){norc_xstrdup(log_path), norc_xstrdup(line)};
}

void norc_job_notes_free(struct norc_job_notes *notes)
{
	for (size_t i = 0; i < notes->n; i++) {
		free(notes->v[i].log_path);
		free(notes->v[i].line);
	}
	free(notes->v);
	memset(notes, 0, sizeof(*notes));
}

void norc_job_notes_move(struct norc_job_notes *to, struct norc_job_notes *from)
{
	if (from->n) {
		to->v = norc_xrealloc(to->v, (to->n + from->n) * sizeof(*to->v));
		memcpy(to->v + to->n, from->v, from->n * sizeof(*from->v));
		to->n += from->n;
	}
	for (int i = 0; i < from->nring; i++)
		norc_job_notes_ring(to, from->ring[i], false);
	for (int i = 0; i < from->nstop; i++)
		norc_job_notes_ring(to, from->stop[i], true);
	to->ring_schedulers |= from->ring_schedulers;
	free(from->v);
	memset(from, 0, sizeof(*from));
}

void norc_job_notes_ring(struct norc_job_notes *notes, int64_t queue_id, bool stop)
{
	int64_t *v = stop ? notes->stop : notes->ring;
	int *n = stop ? &notes->nstop : &notes->nring;
	for (int i = 0; i < *n; i++)
		if (v[i] == queue_id)
			return;
	if (queue_id && *n < 4)
		v[(*n)++] = queue_id;
}

void norc_job_notes_flush(const struct norc_config *cfg, struct norc_job_notes *notes)
{
	char stamp[40];
	norc_log_stamp(norc_clock_now_us(), stamp, sizeof(stamp));
	for (size_t i = 0; i < notes->n; i++) {
		int fd = norc_daemon_open_file(cfg, notes->v[i].log_path, NULL);
		if (fd < 0 || dprintf(fd, "%s INFO: %s\n", stamp, notes->v[i].line) < 0)
			NORC_WARN("cannot write the job log %s/%s: %s", cfg->log_dir,
				  notes->v[i].log_path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	for (int i = 0; i < notes->nring; i++)
		norc_doorbell_ring(cfg, notes->ring[i]);
	for (int i = 0; i < notes->nstop; i++)
		norc_doorbell_ring_request(cfg, notes->stop[i]);
	if (notes->ring_schedulers)
		norc_doorbell_ring(cfg, 0);
	norc_job_notes_free(notes);
}

/* ---- the pure part ---- */

enum norc_job_verdict norc_job_decide(struct norc_job_graph *g, bool stop, int *final_status)
{
	size_t n = g->nnodes;
	/* parents of each node as index lists (CSR), edges outside the graph dropped */
	size_t *off = norc_xcalloc(n + 1, sizeof(size_t));
	long *par = norc_xcalloc(g->nedges + 1, sizeof(long));
	long *pidx = norc_xcalloc(g->nedges + 1, sizeof(long));
	long *cidx = norc_xcalloc(g->nedges + 1, sizeof(long));
	for (size_t e = 0; e < g->nedges; e++) {
		pidx[e] = cidx[e] = -1;
		for (size_t i = 0; i < n; i++) {
			if (g->nodes[i].node_id == g->edges[e].parent)
				pidx[e] = (long)i;
			if (g->nodes[i].node_id == g->edges[e].child)
				cidx[e] = (long)i;
		}
		if (pidx[e] >= 0 && cidx[e] >= 0)
			off[cidx[e] + 1]++;
	}
	for (size_t i = 0; i < n; i++)
		off[i + 1] += off[i];
	size_t *fill = norc_xcalloc(n + 1, sizeof(size_t));
	for (size_t e = 0; e < g->nedges; e++)
		if (pidx[e] >= 0 && cidx[e] >= 0)
			par[off[cidx[e]] + fill[cidx[e]]++] = pidx[e];
	for (size_t i = 0; i < n; i++) {
		g->nodes[i].push = g->nodes[i].not_run = false;
		g->nodes[i].cause = -1;
	}
	/* not_run spreads down the graph: repeat until nothing changes (depth + 1 passes) */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			struct norc_job_node *x = &g->nodes[i];
			if (x->push || x->not_run || x->status != NORC_ST_CREATED)
				continue;
			if (stop) {
				x->not_run = changed = true;
				continue;
			}
			if (!x->waiting)
				continue; /* queued already: it runs */
			bool ready = true;
			for (size_t k = off[i]; k < off[i + 1]; k++) {
				const struct norc_job_node *p = &g->nodes[par[k]];
				if (p->not_run || (norc_status_is_final(p->status) &&
						   p->status != NORC_ST_SUCCESS)) {
					x->not_run = changed = true;
					x->cause = p->not_run ? p->cause : par[k];
					break;
				}
				if (p->status != NORC_ST_SUCCESS)
					ready = false;
			}
			if (!x->not_run && ready)
				x->push = true; /* pushing ends nothing: no new pass needed for it */
		}
	}
	bool done = true, all_ok = true;
	for (size_t i = 0; i < n; i++) {
		const struct norc_job_node *x = &g->nodes[i];
		if (!x->not_run && !norc_status_is_final(x->status))
			done = false;
		if (x->not_run || x->status != NORC_ST_SUCCESS)
			all_ok = false;
	}
	free(off);
	free(par);
	free(pidx);
	free(cidx);
	free(fill);
	*final_status = all_ok ? NORC_ST_SUCCESS : NORC_ST_FAILURE;
	return done ? NORC_JOB_DONE : NORC_JOB_GOES_ON;
}

/* ---- the database part ---- */

struct jobrun {
	int64_t id, task_id, queue_id, previous_id, fire_time, left;
	int status, kill_status, attempt;
	bool fail_fast;
	char *log_path, *name, *reason;
	struct norc_job_node *nodes;
	size_t nnodes;
	char **names;
	struct norc_job_edge *edges;
	size_t nedges;
};

static void jobrun_free_graph(struct jobrun *jr)
{
	for (size_t i = 0; i < jr->nnodes; i++)
		free(jr->names[i]);
	free(jr->names);
	free(jr->nodes);
	free(jr->edges);
	jr->names = NULL;
	jr->nodes = NULL;
	jr->edges = NULL;
	jr->nnodes = jr->nedges = 0;
}

static void jobrun_free(struct jobrun *jr)
{
	jobrun_free_graph(jr);
	free(jr->log_path);
	free(jr->name);
	free(jr->reason);
	memset(jr, 0, sizeof(*jr));
}

int norc_job_lock_chain(struct norc_db *db, int64_t job_id, int64_t parent)
{
	int64_t chain[32]; /* job_id, its job, that job's job, ... (only 32 levels deep) */
	int n = 0, rc = NORC_OK;
	chain[n++] = job_id;
	for (int64_t id = parent; id && n < 32 && rc == NORC_OK;) {
		if (id < 0) /* not known: look */
			rc = norc_db_query_int64(db, "SELECT COALESCE(job_instance_id, 0) FROM "
						 "instances WHERE id = ?", &id, 1, job_id);
		if (rc != NORC_OK || !id)
			break;
		chain[n++] = id;
		rc = norc_db_query_int64(db, "SELECT COALESCE(job_instance_id, 0) FROM instances "
					 "WHERE id = ?", &id, 1, id);
	}
	if (rc != NORC_OK)
		return rc;
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT id FROM instances WHERE id = ?%s",
		 norc_db_clause(db, NORC_SQL_LOCK_UPDATE));
	while (rc == NORC_OK && n > 0) {
		int64_t v;
		rc = norc_db_query_int64(db, sql, &v, 1, chain[--n]);
	}
	return rc;
}

/* Lock job instance id's row (serializes every decision about one job; its outer jobs' rows
 * first) unless locked says the caller did, and read it. */
static int load_job(struct norc_db *db, int64_t id, bool locked, struct jobrun *jr)
{
	memset(jr, 0, sizeof(*jr));
	int rc = locked ? NORC_OK : norc_job_lock_chain(db, id, -1);
	struct norc_stmt *st;
	if (rc == NORC_OK)
		rc = norc_db_query_row(db,
				       "SELECT i.task_id, i.status, COALESCE(i.queue_id, 0), "
				       "COALESCE(i.previous_id, 0), COALESCE(i.fire_time, 0), "
				       "COALESCE(i.kill_status, 0), COALESCE(i.log_path, ''), t.name, "
				       "t.params, COALESCE(i.reason, ''), i.attempt, "
				       "COALESCE(i.job_left, 0) FROM instances i "
				       "JOIN tasks t ON t.id = i.task_id WHERE i.id = ?", id, &st);
	if (rc != NORC_OK)
		return rc;
	jr->id = id;
	jr->task_id = norc_stmt_column_int64(st, 0);
	jr->status = (int)norc_stmt_column_int64(st, 1);
	jr->queue_id = norc_stmt_column_int64(st, 2);
	jr->previous_id = norc_stmt_column_int64(st, 3);
	jr->fire_time = norc_stmt_column_int64(st, 4);
	jr->kill_status = (int)norc_stmt_column_int64(st, 5);
	jr->log_path = norc_xstrdup(norc_stmt_column_text(st, 6));
	jr->name = norc_xstrdup(norc_stmt_column_text(st, 7));
	json_t *params = json_loads(norc_stmt_column_text(st, 8), 0, NULL);
	const char *ff = json_string_value(json_object_get(params, "fail_fast"));
	jr->fail_fast = ff && strcmp(ff, "true") == 0;
	json_decref(params);
	jr->reason = norc_xstrdup(norc_stmt_column_text(st, 9));
	jr->attempt = (int)norc_stmt_column_int64(st, 10);
	jr->left = norc_stmt_column_int64(st, 11);
	norc_stmt_finalize(st);
	return NORC_OK;
}

/* The job's node instances (index instances_job) and its edges (index job_deps_job). */
static int load_graph(struct norc_db *db, struct jobrun *jr)
{
	jobrun_free_graph(jr);
	struct norc_stmt *st;
	int rc = norc_db_prepare(db,
				 "SELECT i.id, COALESCE(i.job_node_id, 0), i.status, CASE WHEN "
				 "i.retry_at = ? THEN 1 ELSE 0 END, COALESCE(n.name, '?') FROM "
				 "instances i LEFT JOIN job_nodes n ON n.id = i.job_node_id WHERE "
				 "i.job_instance_id = ? ORDER BY i.id", &st);
	if (rc != NORC_OK)
		return rc;
	norc_stmt_bind_int64(st, 1, NORC_JOB_WAITING);
	norc_stmt_bind_int64(st, 2, jr->id);
	bool row = false;
	size_t cap = 0;
	while ((rc = norc_stmt_step(st, &row)) == NORC_OK && row) {
		if (jr->nnodes == cap) {
			cap = cap ? cap * 2 : 16;
			jr->nodes = norc_xrealloc(jr->nodes, cap * sizeof(*jr->nodes));
			jr->names = norc_xrealloc(jr->names, cap * sizeof(*jr->names));
		}
		jr->names[jr->nnodes] = norc_xstrdup(norc_stmt_column_text(st, 4));
		jr->nodes[jr->nnodes] = (struct norc_job_node){
			.instance_id = norc_stmt_column_int64(st, 0),
			.node_id = norc_stmt_column_int64(st, 1),
			.status = (int)norc_stmt_column_int64(st, 2),
			.waiting = norc_stmt_column_int64(st, 3) != 0,
			.name = jr->names[jr->nnodes],
		};
		jr->nnodes++;
	}
	norc_stmt_finalize(st);
	if (rc != NORC_OK)
		return rc;
	rc = norc_db_prepare(db, "SELECT parent_id, child_id FROM job_deps WHERE job_id = ?", &st);
	if (rc != NORC_OK)
		return rc;
	norc_stmt_bind_int64(st, 1, jr->task_id);
	cap = 0;
	while ((rc = norc_stmt_step(st, &row)) == NORC_OK && row) {
		if (jr->nedges == cap) {
			cap = cap ? cap * 2 : 16;
			jr->edges = norc_xrealloc(jr->edges, cap * sizeof(*jr->edges));
		}
		jr->edges[jr->nedges++] = (struct norc_job_edge){norc_stmt_column_int64(st, 0),
								 norc_stmt_column_int64(st, 1)};
	}
	norc_stmt_finalize(st);
	return rc;
}

static enum norc_job_verdict decide(struct jobrun *jr, bool stop, int *final)
{
	struct norc_job_graph g = {jr->nodes, jr->nnodes, jr->edges, jr->nedges};
	return norc_job_decide(&g, stop, final);
}

/* Why node x will not run, for its reason column and the job's log. */
static void not_run_reason(const struct jobrun *jr, const struct norc_job_node *x, char *buf,
			   size_t len)
{
	if (x->cause >= 0) {
		const struct norc_job_node *c = &jr->nodes[x->cause];
		snprintf(buf, len, "not run: node %s (instance #%" PRId64 ") ended %s", c->name,
			 c->instance_id, norc_status_name(c->status));
	} else {
		snprintf(buf, len, "not run: job #%" PRId64 " stopped (%s)", jr->id,
			 jr->reason && *jr->reason ? jr->reason : "stopped");
	}
}

static int push_node(struct norc_db *db, struct jobrun *jr, struct norc_queue_handle **q,
		     struct norc_job_node *x, struct norc_job_notes *notes)
{
	int64_t changed = 0;
	struct norc_arg a[] = {NORC_AI(norc_clock_now_us()), NORC_AI(x->instance_id),
			       NORC_AI(NORC_JOB_WAITING)};
	int rc = norc_model_exec(db, "UPDATE instances SET retry_at = NULL, enqueued = ? WHERE "
				 "id = ? AND retry_at = ?", a, 3, &changed);
	if (rc != NORC_OK || changed != 1)
		return rc; /* pushed already: exactly once */
	char err[512] = "";
	if (!*q && (rc = norc_queue_open(db, jr->queue_id, q, err, sizeof(err))) != NORC_OK) {
		NORC_ERROR("job instance #%" PRId64 ": %s", jr->id, err);
		return rc;
	}
	rc = (*q)->ops->push((*q)->h, x->instance_id, err, sizeof(err));
	if (rc != NORC_OK) {
		NORC_ERROR("job instance #%" PRId64 ": cannot push node %s: %s", jr->id, x->name,
			   err);
		return rc;
	}
	x->waiting = false;
	norc_job_notes_ring(notes, jr->queue_id, false);
	norc_job_note(notes, jr->log_path, "Node %s is ready: instance #%" PRId64 " queued on %s.",
		      x->name, x->instance_id, (*q)->name);
	return NORC_OK;
}

static int end_job(struct norc_db *db, struct jobrun *jr, int final, struct norc_job_notes *n);

/* n more of the job's node instances became final (job_left counts those that are not). */
static int count_final(struct norc_db *db, struct jobrun *jr, int64_t n)
{
	struct norc_arg a[] = {NORC_AI(n), NORC_AI(jr->id)};
	jr->left -= n;
	return norc_model_exec(db, "UPDATE instances SET job_left = job_left - ? WHERE id = ?", a, 2,
			       NULL);
}

/* End NOT_RUN node instance id, if it still is CREATED (and, with waiting_only, waiting);
 * *changed tells whether it did. */
static int mark_not_run(struct norc_db *db, struct jobrun *jr, int64_t id, const char *name,
			const char *why, bool waiting_only, bool *changed, struct norc_job_notes *notes)
{
	int64_t n = 0;
	struct norc_arg a[] = {NORC_AI(NORC_ST_NOT_RUN), NORC_AI(norc_clock_now_us()), NORC_AS(why),
			       NORC_AI(id), NORC_AI(NORC_ST_CREATED), NORC_AI(NORC_JOB_WAITING)};
	int rc = norc_model_exec(db, waiting_only
					     ? "UPDATE instances SET status = ?, ended = ?, retry_at = "
					       "NULL, reason = ? WHERE id = ? AND status = ? AND "
					       "retry_at = ?"
					     : "UPDATE instances SET status = ?, ended = ?, retry_at = "
					       "NULL, reason = ? WHERE id = ? AND status = ?",
				 a, waiting_only ? 6 : 5, &n);
	*changed = rc == NORC_OK && n == 1;
	if (*changed) {
		rc = count_final(db, jr, 1);
		norc_job_note(notes, jr->log_path, "Node %s (instance #%" PRId64 ") %s.", name, id,
			      why);
	}
	return rc;
}

/* Apply what decide() marked; with stop, ask running nodes to stop too. Then, on a fresh
 * look, end the job when nothing of it is left. */
static int apply(struct norc_db *db, struct jobrun *jr, bool stop, struct norc_job_notes *notes)
{
	struct norc_queue_handle *q = NULL;
	int rc = NORC_OK, final;
	decide(jr, stop, &final);
	for (size_t i = 0; rc == NORC_OK && i < jr->nnodes; i++) {
		struct norc_job_node *x = &jr->nodes[i];
		if (x->push) {
			rc = push_node(db, jr, &q, x, notes);
		} else if (x->not_run) {
			char why[300];
			bool changed;
			not_run_reason(jr, x, why, sizeof(why));
			rc = mark_not_run(db, jr, x->instance_id, x->name, why, false, &changed,
					  notes);
		}
	}
	norc_queue_close(q);
	/* statuses again: a node claimed elsewhere while we decided is RUNNING now, not unrun
	 * (our compare-and-set on CREATED waited for that claim's commit, then found nothing) */
	if (stop && rc == NORC_OK)
		rc = load_graph(db, jr);
	for (size_t i = 0; stop && rc == NORC_OK && i < jr->nnodes; i++) {
		struct norc_job_node *x = &jr->nodes[i];
		if (x->status != NORC_ST_RUNNING)
			continue;
		int64_t kids = 0;
		rc = norc_db_query_int64(db, "SELECT COUNT(*) FROM instances WHERE job_instance_id "
					 "= ?", &kids, 1, x->instance_id);
		char why[300];
		snprintf(why, sizeof(why), "its job #%" PRId64 " stopped (%s)", jr->id, jr->reason);
		if (rc == NORC_OK && kids) { /* a nested job: stop it the same way */
			rc = norc_job_stop(db, x->instance_id, NORC_ST_INTERRUPTED, why, notes);
		} else if (rc == NORC_OK) {
			int64_t changed = 0;
			struct norc_arg a[] = {NORC_AI(NORC_ST_INTERRUPTED), NORC_AS(why),
					       NORC_AI(x->instance_id), NORC_AI(NORC_ST_RUNNING)};
			rc = norc_model_exec(db, "UPDATE instances SET kill_status = ?, reason = ? "
					     "WHERE id = ? AND status = ? AND kill_status IS NULL",
					     a, 4, &changed);
			if (rc == NORC_OK && changed) {
				norc_job_notes_ring(notes, jr->queue_id, true);
				norc_job_note(notes, jr->log_path, "Node %s (instance #%" PRId64
					      ") is asked to stop.", x->name, x->instance_id);
			}
		}
	}
	/* a fresh look: a nested stop may have ended nodes (or this job) meanwhile */
	if (rc == NORC_OK)
		rc = load_graph(db, jr);
	if (rc == NORC_OK && decide(jr, stop, &final) == NORC_JOB_DONE)
		rc = end_job(db, jr, final, notes);
	return rc;
}

static int end_job(struct norc_db *db, struct jobrun *jr, int final, struct norc_job_notes *notes)
{
	int64_t st = 0;
	int rc = norc_db_query_int64(db, "SELECT status FROM instances WHERE id = ?", &st, 1,
				     jr->id);
	if (rc != NORC_OK || norc_status_is_final((int)st))
		return rc; /* ended already (a nested stop ended it) */
	int status = jr->kill_status ? jr->kill_status : final;
	char why[300] = "";
	int not_run = 0;
	const struct norc_job_node *first = NULL;
	for (size_t i = 0; i < jr->nnodes; i++) {
		const struct norc_job_node *x = &jr->nodes[i];
		not_run += x->status == NORC_ST_NOT_RUN || x->not_run;
		if (!first && norc_status_is_final(x->status) && x->status != NORC_ST_SUCCESS &&
		    x->status != NORC_ST_NOT_RUN)
			first = x;
	}
	if (jr->kill_status && jr->reason && *jr->reason)
		snprintf(why, sizeof(why), "%s", jr->reason);
	else if (first)
		snprintf(why, sizeof(why), "node %s (instance #%" PRId64 ") ended %s; %d node(s) "
			 "not run", first->name, first->instance_id, norc_status_name(first->status),
			 not_run);
	struct norc_instance_end end = {status, -1,    0,     *why ? why : NULL,
					false,  false, false, false};
	struct norc_instance_after after;
	rc = norc_instance_end(db, jr->id, &end, &after);
	if (rc != NORC_OK)
		return rc;
	norc_job_note(notes, jr->log_path, "Job ended with status %s%s%s%s.",
		      norc_status_name(status), *why ? " (" : "", why, *why ? ")" : "");
	if (after.retry_id)
		norc_job_note(notes, jr->log_path, "It will be retried as instance #%" PRId64
			      " (only the nodes that did not succeed).", after.retry_id);
	norc_job_notes_move(notes, &after.notes);
	return NORC_OK;
}

/* A transaction of our own unless the caller has one open: open ... close(rc). */
static int tx_open(struct norc_db *db, bool *own)
{
	*own = !norc_db_in_tx(db);
	return *own ? norc_db_begin_write(db) : NORC_OK;
}

static int tx_close(struct norc_db *db, bool own, int rc)
{
	if (own && rc == NORC_OK)
		return norc_db_commit(db);
	if (own)
		norc_db_rollback(db);
	return rc;
}

/* The latest attempt from `prev` back that started its nodes (an attempt that failed before
 * its start, say its executor was lost, ran nothing): *out, or 0 when none did. */
static int attempt_with_nodes(struct norc_db *db, int64_t prev, int64_t *out)
{
	*out = 0;
	int rc = NORC_OK;
	for (int hops = 0; prev && hops < 1000 && rc == NORC_OK; hops++) {
		int64_t had = 0;
		rc = norc_db_query_int64(db, "SELECT COUNT(*) FROM instances WHERE job_instance_id "
					 "= ?", &had, 1, prev);
		if (rc == NORC_OK && had) {
			*out = prev;
			return NORC_OK;
		}
		if (rc == NORC_OK)
			rc = norc_db_query_int64(db, "SELECT COALESCE(previous_id, 0) FROM instances "
						 "WHERE id = ?", &prev, 1, prev);
	}
	return rc;
}

/* Which nodes a start creates: every node of the job, or for a retry the nodes whose
 * instance in the last attempt that ran any did not succeed. */
static int nodes_to_create(struct norc_db *db, const struct jobrun *jr, json_t **rows)
{
	static const struct norc_col cols[] = {
		{"id", NORC_COL_INT}, {"task_id", NORC_COL_INT}, {"prev", NORC_COL_INT}};
	int64_t ran = 0;
	int rc = attempt_with_nodes(db, jr->previous_id, &ran);
	if (rc != NORC_OK)
		return rc;
	if (!ran) {
		struct norc_arg a[] = {NORC_AI(jr->task_id)};
		return norc_model_query(db, "SELECT id, task_id, 0 FROM job_nodes WHERE job_id = ? "
					"ORDER BY id", a, 1, cols, 3, rows);
	}
	struct norc_arg a[] = {NORC_AI(ran), NORC_AI(NORC_ST_SUCCESS)};
	return norc_model_query(db, "SELECT n.id, n.task_id, i.id FROM instances i JOIN job_nodes "
				"n ON n.id = i.job_node_id WHERE i.job_instance_id = ? AND "
				"i.status <> ? ORDER BY n.id", a, 2, cols, 3, rows);
}

static int start_tx(struct norc_db *db, int64_t id, int timeout_s, struct norc_job_started *out,
		    struct norc_job_notes *notes)
{
	struct jobrun jr;
	int rc = load_job(db, id, false, &jr);
	int64_t already = 0;
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db, "SELECT COUNT(*) FROM instances WHERE job_instance_id "
					 "= ?", &already, 1, id);
	if (rc != NORC_OK || jr.status != NORC_ST_RUNNING || already) {
		jobrun_free(&jr); /* not ours to start, or started already */
		return rc == NORC_OK ? NORC_EEXIST : rc;
	}
	out->queue_id = jr.queue_id;
	char sql[96]; /* the definition holds still while it is read (`job node --rm` waits) */
	snprintf(sql, sizeof(sql), "SELECT id FROM tasks WHERE id = ?%s",
		 norc_db_clause(db, NORC_SQL_LOCK_SHARE));
	int64_t v;
	rc = norc_db_query_int64(db, sql, &v, 1, jr.task_id);
	if (rc != NORC_OK) {
		jobrun_free(&jr);
		return rc;
	}
	if (jr.kill_status) { /* stopped between its claim and now */
		rc = load_graph(db, &jr);
		if (rc == NORC_OK)
			rc = end_job(db, &jr, NORC_ST_INTERRUPTED, notes);
		out->ended = true;
		jobrun_free(&jr);
		return rc;
	}
	json_t *rows = NULL;
	rc = nodes_to_create(db, &jr, &rows);
	char *prefix = norc_xasprintf("%s-nodes/node-", jr.log_path);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (rc != NORC_OK)
			break;
		struct norc_new_instance n = {
			.task_id = json_integer_value(json_object_get(row, "task_id")),
			.fire_time_us = jr.fire_time, .queue_id = jr.queue_id,
			.previous_id = json_integer_value(json_object_get(row, "prev")),
			.retry_at = NORC_JOB_WAITING, .job_instance_id = id,
			.job_node_id = json_integer_value(json_object_get(row, "id")),
			.log_prefix = prefix,
		};
		int64_t nid;
		rc = norc_instance_insert(db, &n, &nid);
		out->nodes++;
	}
	free(prefix);
	json_decref(rows);
	struct norc_arg left[] = {NORC_AI(out->nodes), NORC_AI(id)};
	if (rc == NORC_OK)
		rc = norc_model_exec(db, "UPDATE instances SET job_left = ? WHERE id = ?", left, 2,
				     NULL);
	jr.left = out->nodes;
	if (rc == NORC_OK && timeout_s > 0) {
		struct norc_arg a[] = {NORC_AI(norc_clock_now_us() + timeout_s * NORC_US_PER_SEC),
				       NORC_AI(id)};
		rc = norc_model_exec(db, "UPDATE instances SET deadline = ? WHERE id = ?", a, 2, NULL);
		out->has_deadline = notes->ring_schedulers = true;
	}
	if (rc == NORC_OK) {
		if (jr.previous_id)
			norc_job_note(notes, jr.log_path, "Job %s (a retry of instance #%" PRId64
				      ") starts with the %d node(s) that did not succeed there.",
				      jr.name, jr.previous_id, out->nodes);
		else
			norc_job_note(notes, jr.log_path, "Job %s starts with %d node(s).", jr.name,
				      out->nodes);
		rc = load_graph(db, &jr);
	}
	if (rc == NORC_OK)
		rc = apply(db, &jr, false, notes);
	for (size_t k = 0; rc == NORC_OK && k < jr.nnodes; k++)
		out->pushed += !jr.nodes[k].waiting && jr.nodes[k].status == NORC_ST_CREATED;
	int64_t st = 0;
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db, "SELECT status FROM instances WHERE id = ?", &st, 1, id);
	out->ended = rc == NORC_OK && norc_status_is_final((int)st);
	jobrun_free(&jr);
	return rc;
}

int norc_job_start(struct norc_db *db, int64_t id, int timeout_s, struct norc_job_started *out,
		   struct norc_job_notes *notes, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	bool own;
	int rc = tx_open(db, &own);
	if (rc == NORC_OK)
		rc = start_tx(db, id, timeout_s, out, notes);
	rc = tx_close(db, own, rc);
	if (rc == NORC_EEXIST) {
		norc_job_notes_free(notes);
		return norc_err_set(err, errlen, rc, "job instance #%" PRId64 " is not running or "
				    "was started already", id);
	}
	if (rc != NORC_OK) {
		norc_job_notes_free(notes);
		return norc_err_set(err, errlen, rc, "cannot start job instance #%" PRId64 ": %s",
				    id, norc_db_errmsg(db));
	}
	return NORC_OK;
}

/* A node succeeded: queue each waiting child whose parents in this job all succeeded
 * (indexes job_deps(parent_id, ...), job_deps_child, instances_job). */
static int push_ready_children(struct norc_db *db, struct jobrun *jr, int64_t node_id,
			       struct norc_job_notes *notes)
{
	static const struct norc_col cols[] = {
		{"id", NORC_COL_INT}, {"node", NORC_COL_INT}, {"name", NORC_COL_TEXT}};
	struct norc_arg a[] = {NORC_AI(jr->id), NORC_AI(node_id), NORC_AI(NORC_JOB_WAITING)};
	json_t *rows;
	int rc = norc_model_query(db, "SELECT c.id, c.job_node_id, n.name FROM job_deps d JOIN "
				  "instances c ON c.job_instance_id = ? AND c.job_node_id = "
				  "d.child_id JOIN job_nodes n ON n.id = d.child_id WHERE d.parent_id "
				  "= ? AND c.retry_at = ?", a, 3, cols, 3, &rows);
	if (rc != NORC_OK)
		return rc;
	struct norc_queue_handle *q = NULL;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t child = json_integer_value(json_object_get(row, "node")), blocked = 0;
		rc = norc_db_query_int64(db, "SELECT COUNT(*) FROM job_deps d JOIN instances p ON "
					 "p.job_instance_id = ? AND p.job_node_id = d.parent_id WHERE "
					 "d.child_id = ? AND p.status <> ?", &blocked, 3, jr->id, child,
					 (int64_t)NORC_ST_SUCCESS);
		struct norc_job_node x = {
			.node_id = child,
			.instance_id = json_integer_value(json_object_get(row, "id")),
			.name = json_string_value(json_object_get(row, "name")),
			.waiting = true,
		};
		if (rc == NORC_OK && !blocked)
			rc = push_node(db, jr, &q, &x, notes);
		if (rc != NORC_OK)
			break;
	}
	norc_queue_close(q);
	json_decref(rows);
	return rc;
}

/* A node did not succeed: every waiting node that needs it, directly or not, will not run. */
static int unrun_descendants(struct norc_db *db, struct jobrun *jr, int64_t node_id,
			     const char *name, int64_t id, int status, struct norc_job_notes *notes)
{
	char why[300];
	snprintf(why, sizeof(why), "not run: node %s (instance #%" PRId64 ") ended %s", name, id,
		 norc_status_name(status));
	size_t n = 0, cap = 16;
	int64_t *todo = norc_xmalloc(cap * sizeof(int64_t)); /* node ids whose children to visit */
	todo[n++] = node_id;
	int rc = NORC_OK;
	static const struct norc_col cols[] = {
		{"id", NORC_COL_INT}, {"node", NORC_COL_INT}, {"name", NORC_COL_TEXT}};
	while (rc == NORC_OK && n) {
		struct norc_arg a[] = {NORC_AI(jr->id), NORC_AI(todo[--n]),
				       NORC_AI(NORC_JOB_WAITING)};
		json_t *rows;
		rc = norc_model_query(db, "SELECT c.id, c.job_node_id, n.name FROM job_deps d JOIN "
				      "instances c ON c.job_instance_id = ? AND c.job_node_id = "
				      "d.child_id JOIN job_nodes n ON n.id = d.child_id WHERE "
				      "d.parent_id = ? AND c.retry_at = ?", a, 3, cols, 3, &rows);
		size_t i;
		json_t *row;
		json_array_foreach(rows, i, row) {
			bool changed = false;
			if (rc == NORC_OK)
				rc = mark_not_run(db, jr, json_integer_value(json_object_get(row, "id")),
						  json_string_value(json_object_get(row, "name")), why,
						  true, &changed, notes);
			if (changed) { /* unrun just now: its own children follow */
				if (n == cap)
					todo = norc_xrealloc(todo, (cap *= 2) * sizeof(int64_t));
				todo[n++] = json_integer_value(json_object_get(row, "node"));
			}
		}
		json_decref(rows);
	}
	free(todo);
	return rc;
}

int norc_job_node_ended(struct norc_db *db, int64_t job_id, const struct norc_job_ended *e,
			struct norc_job_notes *notes)
{
	struct jobrun jr;
	int rc = load_job(db, job_id, true, &jr);
	if (rc == NORC_ENOTFOUND)
		return NORC_OK;
	if (rc != NORC_OK || norc_status_is_final(jr.status)) {
		jobrun_free(&jr);
		return rc;
	}
	/* only what this end changes is read: its children, or what needs it (O(degree) or
	 * O(descendants), not the whole job); job_left says when nothing is left */
	norc_job_note(notes, jr.log_path, "Node %s (instance #%" PRId64 ") ended %s.", e->name,
		      e->id, norc_status_name(e->status));
	rc = count_final(db, &jr, 1);
	if (rc != NORC_OK || jr.kill_status) {
		/* stopping: nothing new starts; what waited was unrun at the stop */
	} else if (jr.fail_fast && e->status != NORC_ST_SUCCESS) {
		char why[300];
		snprintf(why, sizeof(why), "fail_fast: node %s (instance #%" PRId64 ") ended %s",
			 e->name, e->id, norc_status_name(e->status));
		rc = norc_job_stop(db, job_id, NORC_ST_FAILURE, why, notes);
		jr.left = 1; /* the stop ends the job itself when nothing is left */
	} else if (e->node_id && e->status == NORC_ST_SUCCESS) {
		rc = push_ready_children(db, &jr, e->node_id, notes);
	} else if (e->node_id) {
		rc = unrun_descendants(db, &jr, e->node_id, e->name, e->id, e->status, notes);
	}
	if (rc == NORC_OK && jr.left <= 0) { /* the last one: how did it go? */
		int final;
		rc = load_graph(db, &jr);
		if (rc == NORC_OK && decide(&jr, jr.kill_status != 0, &final) == NORC_JOB_DONE)
			rc = end_job(db, &jr, final, notes);
		else if (rc == NORC_OK)
			NORC_WARN("job instance #%" PRId64 ": its count of nodes left was 0 but some "
				  "are not final; it ends when they are", job_id);
	}
	jobrun_free(&jr);
	return rc;
}

static int stop_tx(struct norc_db *db, int64_t id, int status, const char *reason,
		   struct norc_job_notes *notes)
{
	struct jobrun jr;
	int rc = load_job(db, id, false, &jr);
	if (rc != NORC_OK || norc_status_is_final(jr.status)) {
		jobrun_free(&jr);
		return rc;
	}
	struct norc_arg dl[] = {NORC_AI(id)};
	rc = norc_model_exec(db, "UPDATE instances SET deadline = NULL WHERE id = ?", dl, 1, NULL);
	if (rc == NORC_OK && !jr.kill_status) { /* the first cause wins */
		char why[256];
		snprintf(why, sizeof(why), "%s", reason);
		norc_text_clip(why, 255);
		struct norc_arg a[] = {NORC_AI(status), NORC_AS(why), NORC_AI(id)};
		rc = norc_model_exec(db, "UPDATE instances SET kill_status = ?, reason = ? WHERE id = ?",
				     a, 3, NULL);
		jr.kill_status = status;
		free(jr.reason);
		jr.reason = norc_xstrdup(why);
		norc_job_note(notes, jr.log_path, "Job stopping: %s.", why);
	}
	if (rc == NORC_OK)
		rc = load_graph(db, &jr);
	if (rc == NORC_OK)
		rc = apply(db, &jr, true, notes);
	jobrun_free(&jr);
	return rc;
}

int norc_job_stop(struct norc_db *db, int64_t id, int status, const char *reason,
		  struct norc_job_notes *notes)
{
	bool own;
	int rc = tx_open(db, &own);
	if (rc == NORC_OK)
		rc = stop_tx(db, id, status, reason, notes);
	return tx_close(db, own, rc);
}

int norc_job_expire(struct norc_db *db, int64_t now_us, struct norc_job_notes *notes,
		    int *stopped, int64_t *next_us)
{
	*stopped = 0;
	*next_us = 0;
	static const struct norc_col cols[] = {{"id", NORC_COL_INT}, {"deadline", NORC_COL_INT},
					       {"started", NORC_COL_INT}};
	struct norc_arg a[] = {NORC_AI(now_us)};
	json_t *rows;
	int rc = norc_model_query(db, "SELECT id, deadline, COALESCE(started, 0) FROM instances "
				  "WHERE deadline IS NOT NULL AND deadline <= ? ORDER BY deadline "
				  "LIMIT 64", a, 1, cols, 3, &rows);
	if (rc != NORC_OK)
		return rc;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t id = json_integer_value(json_object_get(row, "id"));
		int64_t secs = (json_integer_value(json_object_get(row, "deadline")) -
				json_integer_value(json_object_get(row, "started"))) / NORC_US_PER_SEC;
		char why[64];
		snprintf(why, sizeof(why), "timed out after %" PRId64 " s", secs);
		struct norc_job_notes mine = {0};
		rc = norc_job_stop(db, id, NORC_ST_TIMEDOUT, why, &mine);
		if (rc != NORC_OK) {
			norc_job_notes_free(&mine);
			break;
		}
		norc_job_notes_move(notes, &mine);
		(*stopped)++;
	}
	json_decref(rows);
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db, "SELECT COALESCE(MIN(deadline), 0) FROM instances WHERE "
					 "deadline IS NOT NULL", next_us, 0);
	return rc;
}

static int kill_tx(struct norc_db *db, int64_t id, int status, const char *reason,
		   struct norc_job_notes *notes, char *err, size_t errlen)
{
	struct jobrun jr;
	int64_t kids = 0, changed = 0;
	int rc = load_job(db, id, false, &jr); /* locked: a start cannot slip between look and act */
	if (rc == NORC_ENOTFOUND)
		rc = norc_err_set(err, errlen, rc, "instance #%" PRId64 " does not exist; `norc "
				  "instance list` shows them", id);
	else if (rc == NORC_OK && jr.status != NORC_ST_RUNNING)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "instance #%" PRId64 " is not running "
				  "(%s); only a running instance can be killed", id,
				  norc_status_name(jr.status));
	else if (rc == NORC_OK && jr.kill_status)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "instance #%" PRId64 " was asked to "
				  "stop already (%s); it ends once its processes are gone", id,
				  jr.reason);
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db, "SELECT COUNT(*) FROM instances WHERE job_instance_id "
					 "= ?", &kids, 1, id);
	if (rc == NORC_OK && kids) {
		rc = stop_tx(db, id, status, reason, notes);
	} else if (rc == NORC_OK) { /* a plain run, or a job not started yet (it ends at start) */
		struct norc_arg a[] = {NORC_AI(status), NORC_AS(reason), NORC_AI(id),
				       NORC_AI(NORC_ST_RUNNING)};
		rc = norc_model_exec(db, "UPDATE instances SET kill_status = ?, reason = ? WHERE id = "
				     "? AND status = ? AND kill_status IS NULL", a, 4, &changed);
		if (rc == NORC_OK && changed)
			norc_job_notes_ring(notes, jr.queue_id, true);
	}
	jobrun_free(&jr);
	return rc;
}

int norc_job_kill(struct norc_db *db, int64_t id, int status, const char *reason,
		  struct norc_job_notes *notes, char *err, size_t errlen)
{
	err[0] = '\0';
	bool own;
	int rc = tx_open(db, &own);
	if (rc == NORC_OK)
		rc = kill_tx(db, id, status, reason, notes, err, errlen);
	rc = tx_close(db, own, rc);
	if (rc != NORC_OK && !err[0])
		norc_err_set(err, errlen, rc, "instance #%" PRId64 ": %s", id, norc_db_errmsg(db));
	return rc;
}

int norc_job_kill_requests(struct norc_db *db, int64_t executor_id, int64_t *ids, int *statuses,
			   int max, int *n)
{
	*n = 0;
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, "SELECT id, kill_status FROM instances i WHERE executor_id = ? "
				 "AND ended IS NULL AND kill_status IS NOT NULL AND NOT EXISTS ("
				 "SELECT 1 FROM instances n WHERE n.job_instance_id = i.id)", &st);
	if (rc != NORC_OK)
		return rc;
	norc_stmt_bind_int64(st, 1, executor_id);
	bool row = false;
	while (*n < max && (rc = norc_stmt_step(st, &row)) == NORC_OK && row) {
		ids[*n] = norc_stmt_column_int64(st, 0);
		statuses[*n] = (int)norc_stmt_column_int64(st, 1);
		(*n)++;
	}
	norc_stmt_finalize(st);
	return rc;
}

static int retry_tx(struct norc_db *db, int64_t id, int64_t *new_id, int64_t *queue_id,
		    int *nodes, char *err, size_t errlen)
{
	struct jobrun jr;
	int rc = load_job(db, id, false, &jr);
	int64_t retried = 0, is_job = 0, maxatt = 0, sched = 0, cnt = 0;
	if (rc == NORC_ENOTFOUND)
		return norc_err_set(err, errlen, rc, "instance #%" PRId64 " does not exist; `norc "
				    "instance list` shows them", id);
	struct norc_stmt *st;
	if (rc == NORC_OK) /* the type's name lives in jobdef.h */
		rc = norc_db_query_row(db, "SELECT t.type FROM tasks t JOIN instances i ON t.id = "
				       "i.task_id WHERE i.id = ?", id, &st);
	if (rc == NORC_OK) {
		is_job = strcmp(norc_stmt_column_text(st, 0), NORC_JOBDEF_TYPE) == 0;
		norc_stmt_finalize(st);
	}
	if (rc == NORC_OK && !is_job)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "instance #%" PRId64 " is not a job "
				  "instance; `norc run TASK` runs a task again", id);
	else if (rc == NORC_OK && !norc_status_is_final(jr.status))
		rc = norc_err_set(err, errlen, NORC_EINVAL, "job instance #%" PRId64 " has not "
				  "ended yet (%s); retry it once it has", id,
				  norc_status_name(jr.status));
	else if (rc == NORC_OK && jr.status == NORC_ST_SUCCESS)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "job instance #%" PRId64 " succeeded; "
				  "there is nothing to retry (`norc run %s` runs the job again)", id,
				  jr.name);
	else if (rc == NORC_OK &&
		 (rc = norc_db_query_int64(db, "SELECT id FROM instances WHERE previous_id = ? "
					   "ORDER BY id LIMIT 1", &retried, 1, id)) == NORC_OK)
		rc = norc_err_set(err, errlen, NORC_EEXIST, "job instance #%" PRId64 " was retried "
				  "already as instance #%" PRId64 "; retry that one instead", id,
				  retried);
	else if (rc == NORC_ENOTFOUND)
		rc = NORC_OK;
	if (rc == NORC_OK)
		rc = norc_db_query_int64(db, "SELECT COALESCE(schedule_id, 0) FROM instances WHERE "
					 "id = ?", &sched, 1, id);
	if (rc == NORC_OK && sched)
		rc = norc_db_query_int64(db, "SELECT MAX(attempt) FROM instances WHERE schedule_id "
					 "= ? AND fire_time = ?", &maxatt, 2, sched, jr.fire_time);
	if (rc == NORC_OK) {
		struct norc_new_instance n = {
			.task_id = jr.task_id, .schedule_id = sched, .fire_time_us = jr.fire_time,
			.queue_id = jr.queue_id, .previous_id = id,
			.attempt = (int)(maxatt > jr.attempt ? maxatt : jr.attempt) + 1,
		};
		rc = norc_instance_insert(db, &n, new_id);
	}
	struct norc_queue_handle *q = NULL;
	char qerr[512] = "";
	if (rc == NORC_OK && (rc = norc_queue_open(db, jr.queue_id, &q, qerr, sizeof(qerr))) ==
				     NORC_OK)
		rc = q->ops->push(q->h, *new_id, qerr, sizeof(qerr));
	norc_queue_close(q);
	if (rc != NORC_OK && *qerr)
		norc_err_set(err, errlen, rc, "job instance #%" PRId64 ": cannot queue its retry: "
			     "%s", id, qerr);
	int64_t ran = 0;
	if (rc == NORC_OK)
		rc = attempt_with_nodes(db, id, &ran);
	if (rc == NORC_OK && ran)
		rc = norc_db_query_int64(db, "SELECT COUNT(*) FROM instances WHERE job_instance_id "
					 "= ? AND status <> ?", &cnt, 2, ran, (int64_t)NORC_ST_SUCCESS);
	if (rc == NORC_OK && !ran)
		rc = norc_db_query_int64(db, "SELECT COUNT(*) FROM job_nodes WHERE job_id = ?", &cnt,
					 1, jr.task_id);
	*nodes = (int)cnt;
	*queue_id = jr.queue_id;
	jobrun_free(&jr);
	return rc;
}

int norc_job_retry(struct norc_db *db, int64_t id, int64_t *new_id, int64_t *queue_id,
		   int *nodes, char *err, size_t errlen)
{
	*new_id = *queue_id = 0;
	*nodes = 0;
	err[0] = '\0';
	bool own;
	int rc = tx_open(db, &own);
	if (rc == NORC_OK)
		rc = retry_tx(db, id, new_id, queue_id, nodes, err, errlen);
	rc = tx_close(db, own, rc);
	if (rc != NORC_OK && !err[0])
		norc_err_set(err, errlen, rc, "job instance #%" PRId64 ": %s", id,
			     norc_db_errmsg(db));
	return rc;
}
