/*
 * instance.h - an instance's life in the database: created and pushed (scheduler, `norc
 * run`), claimed (executor; only the winner runs it), finished.
 */
#ifndef NORC_INSTANCE_H
#define NORC_INSTANCE_H

#include "db.h"
#include "queue.h"

#include <stdbool.h>
#include <stdint.h>

/* Inside the caller's transaction: insert the instance (CREATED) of task_id for schedule_id
 * (0 = ad hoc) at the nominal fire_time_us, set its log path, and push it onto q.
 * NORC_EEXIST when this (schedule, fire time) already has its instance. */
int norc_instance_enqueue(struct norc_db *db, struct norc_queue_handle *q, int64_t task_id,
			  int64_t schedule_id, int64_t fire_time_us, int64_t *id, char *err,
			  size_t errlen);

/* CREATED -> RUNNING for executor_id; *won is false when someone else had it. */
int norc_instance_claim(struct norc_db *db, int64_t id, int64_t executor_id, bool *won);

struct norc_run_info {
	int64_t id, task_id, fire_time_us;
	char *task_name, *task_type, *params_json, *log_path; /* log_path relative to log_dir */
	int timeout_s, nice, attempt;
};
int norc_instance_load(struct norc_db *db, int64_t id, struct norc_run_info *out);
void norc_run_info_free(struct norc_run_info *ri);

/* Final status; exit_code < 0 and term_signal 0 store NULLs. */
int norc_instance_finish(struct norc_db *db, int64_t id, int status, int exit_code,
			 int term_signal);

#endif
