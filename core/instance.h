/*
 * instance.h - an instance's life in the database: created and pushed (scheduler, `norc
 * run`), claimed (executor; only the winner runs it), finished.
 */
#ifndef NORC_INSTANCE_H
#define NORC_INSTANCE_H

#include "db.h"
#include "job.h"
#include "queue.h"

#include <stdbool.h>
#include <stdint.h>

/* A new instance row (CREATED). Zero fields are NULL (ids, retry_at) or the default. */
struct norc_new_instance {
	int64_t task_id, schedule_id, fire_time_us, queue_id, previous_id, retry_at;
	int64_t job_instance_id, job_node_id; /* a job's node (job.c) */
	int attempt;                          /* 0: 1 */
	const char *log_prefix; /* its log is this + the id; NULL: tasks/TYPE/NAME/NAME- */
	char *label;                          /* out, may be NULL: "<Instance #ID of TYPE NAME>" */
	size_t labellen;
};
/* Inside the caller's transaction: insert it; *id gets its id. NORC_EEXIST when the
 * (schedule, fire time, attempt) is taken. */
int norc_instance_insert(struct norc_db *db, struct norc_new_instance *n, int64_t *id);

/* Inside the caller's transaction: insert the instance (CREATED) of task_id for schedule_id
 * (0 = ad hoc) at the nominal fire_time_us, set its log path, and push it onto q.
 * NORC_EEXIST when this (schedule, fire time) already has its instance. */
int norc_instance_enqueue(struct norc_db *db, struct norc_queue_handle *q, int64_t task_id,
			  int64_t schedule_id, int64_t fire_time_us, int64_t *id, char *err,
			  size_t errlen);

/* `norc run` and the web's "run now": in its own transaction, enqueue one ad hoc instance of
 * task_id on queue_id (opened through its plugin). The caller rings the queue's doorbell. */
int norc_instance_run_now(struct norc_db *db, int64_t task_id, int64_t queue_id, int64_t *id,
			  char *err, size_t errlen);

/* A fire of a schedule under the task's overlap policy (sched.h): how it went. */
enum norc_fire_outcome {
	NORC_FIRE_RUN = 1,     /* instance created and pushed */
	NORC_FIRE_HELD = 2,    /* overlap "queue": created, pushed when the running one ends */
	NORC_FIRE_SKIPPED = 3, /* overlap: recorded as a SKIPPED instance, not run */
};
#define NORC_INSTANCE_HELD (INT64_C(1) << 62) /* retry_at of a held instance */

/* Inside the caller's transaction: the instance of schedule_id for nominal fire_time_us, after
 * checking the task's overlap policy (0 allow, 1 skip, 2 queue) against its active
 * instances. *outcome says what was done; label gets "<Instance #ID of TYPE NAME>" for the
 * log; why a fire was skipped or held goes into note. NORC_EEXIST when that fire already has
 * its instance. */
int norc_instance_fire(struct norc_db *db, struct norc_queue_handle *q, int64_t task_id,
		       int overlap, int64_t schedule_id, int64_t fire_time_us, int64_t *id,
		       enum norc_fire_outcome *outcome, char *label, size_t labellen, char *note,
		       size_t notelen, char *err, size_t errlen);

/* CREATED -> RUNNING for executor_id; *won is false when someone else had it. */
int norc_instance_claim(struct norc_db *db, int64_t id, int64_t executor_id, bool *won);

struct norc_run_info {
	int64_t id, task_id, fire_time_us;
	char *task_name, *task_type, *params_json, *log_path; /* log_path relative to log_dir */
	int timeout_s, nice, attempt;
	bool may_hold; /* its task's overlap policy is "queue": a later fire may wait for it */
	int64_t job_instance_id; /* a job's node: its job instance; 0: none */
	char *job_log_path, *node_name; /* with job_instance_id (may be NULL: a removed node) */
	char *run_as, *limits; /* runas.h; NULL: none */
};
int norc_instance_load(struct norc_db *db, int64_t id, struct norc_run_info *out);
/* Record revision text `info` (a task plugin's revision hook, at most 64 bytes) on instance
 * id: one row per distinct text in revisions, shared. */
int norc_instance_set_revision(struct norc_db *db, int64_t id, const char *info);
void norc_run_info_free(struct norc_run_info *ri);

/* How an instance ended. exit_code < 0 and term_signal 0 store NULLs; reason (borrowed, may
 * be NULL) says why when the status alone does not ("executor lost", "could not start: ..."). */
struct norc_instance_end {
	int status, exit_code, term_signal;
	const char *reason;
	bool lost; /* its executor died: retried like a failure */
	/* true: its task's overlap policy was not "queue" when it started (run_info.may_hold),
	 * so no held run waits for it and the end skips looking (one query less per instance).
	 * A task switched to "queue" meanwhile is covered by norc_instance_release_holds. */
	bool cannot_hold;
	/* true: it is known not to be a job's node (run_info.job_instance_id == 0), so the end
	 * skips looking for its job (one query less). false: looked up. */
	bool not_in_job;
	/* true: never retried, whatever the status (a finally hook that timed out after the
	 * task's own run: running the task again would repeat work that may have succeeded) */
	bool no_retry;
};

/* The sweep behind norc_instance_end's cannot_hold: make due (retry_at = now) every held run
 * (overlap "queue") whose task has no active run left. Reads index instances_retry (usually
 * no row); one short transaction per held run found. *released: how many. */
int norc_instance_release_holds(struct norc_db *db, int *released);

/* What recording an end led to. */
struct norc_instance_after {
	bool recorded;       /* false: a final status was already there (never overwritten) */
	int64_t retry_id;    /* the next attempt created, or 0 */
	int64_t released_id; /* a held instance of the task (overlap "queue") now due, or 0 */
	/* its job's decisions (job.h): lines for job logs and doorbells, to hand to
	 * norc_job_notes_flush after the commit (or norc_job_notes_free) */
	struct norc_job_notes notes;
};

/* Record the end of a RUNNING instance; a final status already recorded is never overwritten.
 * A job's node end decides, in the same transaction, what of its job runs next (job.h).
 * When the end is retryable (FAILURE, TIMEDOUT or lost) and the task has attempts left, the
 * next attempt is created in the same transaction: CREATED, attempt+1, previous_id = id,
 * retry_at = now + retry_delay * 2^(attempt-1) capped at retry_max_delay; the scheduler pushes
 * it at retry_at. A held instance of the same task is released (retry_at = now). Whoever gets
 * a retry_id or released_id rings the schedulers' doorbell.
 * Runs its own transaction unless the caller has one open. after may be NULL. */
int norc_instance_end(struct norc_db *db, int64_t id, const struct norc_instance_end *end,
		      struct norc_instance_after *after);

/* The delay before attempt `attempt + 1` (pure; exposed for tests): delay * 2^(attempt-1),
 * capped at max_delay, in seconds. */
int64_t norc_instance_retry_delay(int attempt, int64_t delay, int64_t max_delay);

/* Push retries whose time has come (at most `limit`), each with a compare-and-set on retry_at
 * so one scheduler pushes it once; open_queue maps a queue id to a handle (NULL: skip it).
 * *pushed counts them; *next_at gets the earliest retry_at still waiting (0: none). Rings
 * nothing: the caller rings the queues' doorbells (pushed_queue is called per push). */
int norc_instance_push_retries(struct norc_db *db, int64_t now_us, int limit,
			       struct norc_queue_handle *(*open_queue)(void *ctx, int64_t queue_id),
			       void (*pushed_queue)(void *ctx, int64_t queue_id, int64_t instance_id),
			       void *ctx, int *pushed, int64_t *next_at);

#endif
