/*
 * job.h - running Jobs: DAGs of tasks whose instances never hold an executor slot.
 *
 * A Job instance is claimed like any other, but instead of a process it gets one node
 * instance per node of its job (job_instance_id, job_node_id set; log under
 * "<job log>-nodes/node-<id>"; the job's queue and nominal fire time). The roots are pushed at
 * once; the others wait (retry_at = NORC_JOB_WAITING) for their parents. Everything after that
 * happens when a node instance ends, inside the transaction that records the end
 * (norc_instance_end calls norc_job_node_ended): the job instance's row is locked, so two nodes
 * of one job ending at the same moment on different hosts are decided one after the other,
 * and a child is pushed by a compare-and-set on its waiting mark: exactly once.
 *
 *   node SUCCESS      children whose parents all SUCCEEDED are pushed
 *   node not SUCCESS  its waiting descendants end NOT_RUN (reason names the node); other
 *                     branches go on; with the job parameter fail_fast=true, everything else
 *                     of the job is stopped too
 *   nothing left      the job instance ends: SUCCESS when every node did, else FAILURE
 *                     (TIMEDOUT when its timeout stopped it, INTERRUPTED when it was killed)
 *
 * A job's timeout is a deadline on its instance; the scheduler calls norc_job_expire when it
 * passes. Stopping a job marks its waiting nodes NOT_RUN and asks the executors of its running
 * nodes to kill them (kill_status, read by norc_job_kill_requests). Jobs nest: a node whose
 * task is a Job is a job instance itself. A retry of a job instance (automatic, or `norc job
 * retry`) runs only the nodes that did not succeed in the attempt it retries.
 *
 * The decisions are a pure function of the job's graph (norc_job_decide), unit-tested apart.
 */
#ifndef NORC_JOB_H
#define NORC_JOB_H

#include "config.h"
#include "db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* retry_at of a node instance waiting for its parents (after NORC_INSTANCE_HELD). */
#define NORC_JOB_WAITING ((INT64_C(1) << 62) + 1)

/* Lines for job instances' logs, collected inside a transaction and written after its
 * commit (a rolled-back decision must not be logged). */
struct norc_job_note {
	char *log_path; /* relative to log_dir, owned */
	char *line;     /* owned, without stamp or newline */
};
struct norc_job_notes {
	struct norc_job_note *v;
	size_t n;
	/* queues whose doorbells to ring: nodes were pushed (ring), or running instances were
	 * asked to stop (stop: a request ring); a fifth distinct queue waits for its poll */
	int64_t ring[4], stop[4];
	int nring, nstop;
	bool ring_schedulers; /* a retry or a deadline appeared: ring the schedulers */
};
/* Add queue_id to notes->ring or notes->stop (once). */
void norc_job_notes_ring(struct norc_job_notes *notes, int64_t queue_id, bool stop);
/* Append a note (log_path and the formatted line are copied). */
void norc_job_note(struct norc_job_notes *notes, const char *log_path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Move every note of from into to (from is left empty; ring fields are merged). */
void norc_job_notes_move(struct norc_job_notes *to, struct norc_job_notes *from);
/* After the commit: write every note as a stamped INFO line into its log under cfg->log_dir
 * (a log that cannot be written is warned about in the daemon's log), ring the doorbells the
 * notes ask for, and free them. */
void norc_job_notes_flush(const struct norc_config *cfg, struct norc_job_notes *notes);
void norc_job_notes_free(struct norc_job_notes *notes);

/* ---- the pure part: one job instance's graph and what an event decides ---- */

struct norc_job_node {
	int64_t node_id;     /* job_nodes.id */
	int64_t instance_id; /* its node instance in this job instance */
	int status;          /* that instance's status */
	bool waiting;        /* not pushed yet (retry_at = NORC_JOB_WAITING) */
	const char *name;    /* borrowed */
	/* out (norc_job_decide) */
	bool push;           /* became ready: push it */
	bool not_run;        /* will never run: end it NOT_RUN */
	long cause;          /* with not_run: index of the node whose end caused it, -1: stop */
};
struct norc_job_edge {
	int64_t parent, child; /* job_nodes ids; edges to nodes not in the instance are ignored */
};
struct norc_job_graph {
	struct norc_job_node *nodes;
	size_t nnodes;
	const struct norc_job_edge *edges;
	size_t nedges;
};
enum norc_job_verdict {
	NORC_JOB_GOES_ON = 0, /* something still runs or waits */
	NORC_JOB_DONE = 1,    /* nothing left: *final_status says how it ended */
};
/* From the statuses in the graph, mark what to push (waiting, every parent SUCCEEDED) and
 * what will never run (waiting or queued, and a parent failed or will not run; with stop,
 * every node not started yet). Idempotent: the same graph gives the same marks. Returns the
 * verdict, with *final_status SUCCESS when every node succeeded, else FAILURE (the caller
 * turns that into TIMEDOUT/INTERRUPTED when the job was stopped). Edges whose ends are not
 * both in the graph are ignored (a retry holds only the nodes that did not succeed). */
enum norc_job_verdict norc_job_decide(struct norc_job_graph *g, bool stop, int *final_status);

/* ---- the database part ---- */

/* Lock job instance job_id's row and those of the jobs it is a node of, the outermost first:
 * every path that decides about a job (a node's end, a start, a stop) takes its locks in this
 * order, so they wait for each other instead of deadlocking. Inside a transaction. */
/* parent: job_id's own job instance when the caller knows it (0: none), -1: look it up. */
int norc_job_lock_chain(struct norc_db *db, int64_t job_id, int64_t parent);

/* What starting a job instance did. */
struct norc_job_started {
	int nodes, pushed;
	int64_t queue_id;  /* where the roots went (ring its doorbell) */
	bool ended;        /* it had no node to run and ended at once (SUCCESS) */
	bool has_deadline; /* a timeout was set: ring the schedulers */
};
/* Start RUNNING job instance id (claimed by the caller): create its node instances and push
 * the roots, in one transaction of its own. A retry (previous_id set) creates only the nodes
 * that did not succeed in the attempt it retries. Notes go into notes. */
int norc_job_start(struct norc_db *db, int64_t id, int timeout_s, struct norc_job_started *out,
		   struct norc_job_notes *notes, char *err, size_t errlen);

/* Inside norc_instance_end's transaction, with job_id's rows locked (norc_job_lock_chain),
 * after node instance e->id of job instance job_id reached e->status: push ready children, mark what will not run, and end the job instance
 * when nothing of it is left (which may end its own parent job in turn). */
struct norc_job_ended {
	int64_t id;       /* the node instance */
	int64_t node_id;  /* its job_nodes row; 0 when the node was removed since */
	const char *name; /* the node's name (borrowed) */
	int status;       /* the status it reached */
};
int norc_job_node_ended(struct norc_db *db, int64_t job_id, const struct norc_job_ended *e,
			struct norc_job_notes *notes);

/* Stop job instance id (not final): its waiting and queued nodes end NOT_RUN, its running
 * nodes are asked to stop (kill_status INTERRUPTED; nested jobs are stopped the same way), and
 * the job ends `status` (TIMEDOUT or INTERRUPTED) with reason once they have. Inside the
 * caller's transaction, if any. */
int norc_job_stop(struct norc_db *db, int64_t id, int status, const char *reason,
		  struct norc_job_notes *notes);

/* Stop every job instance whose deadline has passed (index instances_deadline), one
 * transaction each; *next_us gets the earliest deadline still ahead (0: none). *stopped
 * counts them. */
int norc_job_expire(struct norc_db *db, int64_t now_us, struct norc_job_notes *notes,
		    int *stopped, int64_t *next_us);

/* Ask RUNNING instance id to stop (`norc_control instance ID --kill`): a job instance is
 * stopped as above, a plain one gets kill_status (its executor kills its process group within
 * a second and records `status`). NORC_EINVAL (err says why) when it is not running. */
int norc_job_kill(struct norc_db *db, int64_t id, int status, const char *reason,
		  struct norc_job_notes *notes, char *err, size_t errlen);

/* The executor's side of kill_status: up to max ids of its own running instances that were
 * asked to stop, with the status to record. One indexed query (instances_executor). */
int norc_job_kill_requests(struct norc_db *db, int64_t executor_id, int64_t *ids, int *statuses,
			   int max, int *n);

/* `norc job retry INSTANCE`: a new attempt of finished job instance id (not SUCCESS, not
 * retried yet), pushed onto the same queue; it runs the nodes that did not succeed. *new_id
 * and *queue_id are set; *nodes gets how many will run. err names the problem and the fix. */
int norc_job_retry(struct norc_db *db, int64_t id, int64_t *new_id, int64_t *queue_id,
		   int *nodes, char *err, size_t errlen);

#endif
