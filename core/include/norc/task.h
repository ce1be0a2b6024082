/*
 * norc/task.h - the ops a task plugin (CommandTask, Job, users' own types) provides.
 *
 * Two modes:
 *  - exec mode (default): prepare() runs in the daemon and fills a norc_exec_plan; the core
 *    forks, sets up the child (session, log fd on 1/2, rlimits, nice) and execs the plan.
 *  - in-child mode (flag NORC_TASK_INCHILD): the core forks and calls run_child() in the
 *    child, which _exits with its return value. run_child must not touch the host's database.
 * finally() runs after the run was reaped, whatever the outcome (success, failure, timeout,
 * interrupt), in a forked child of its own with the same log, bounded by the executor's
 * daemon.finally_timeout (TIMEDOUT when exceeded). revision() runs in the daemon before the
 * run starts: keep it cheap.
 */
#ifndef NORC_TASK_H
#define NORC_TASK_H

#include <norc/plugin.h>

#define NORC_TASK_INCHILD 0x1u /* run_child() in the forked child instead of prepare()+exec */
/* ABI 1.3: the task is a graph of other tasks (the Job plugin): the core creates its node
 * instances from the job_nodes/job_deps tables instead of starting a process, so only
 * validate() is needed. prepare, run_child and plan_free are not called. */
#define NORC_TASK_JOB 0x2u

/* What a task run knows about itself. Borrowed for the duration of the call. */
struct norc_task_ctx {
	uint32_t struct_size;
	int64_t instance_id;
	int64_t task_id;
	const char *task_name;
	int64_t fire_time_us; /* nominal fire time, UTC microseconds; 0 for ad-hoc runs */
	const struct norc_params *params;
	const char *log_path; /* absolute path of this run's log file */
	const char *tmp_dir;
	int timeout_s; /* 0 = none */
	int attempt;   /* 1 for the first run */
};

/* Filled by prepare(); every string and both arrays allocated with api->alloc/strdup and
 * released by plan_free(). argv and envp are NULL-terminated; envp may be NULL. envp entries
 * ("KEY=VALUE") are added to the environment the core gives every task: the executor's own,
 * plus NORC_INSTANCE_ID, NORC_TASK_NAME, NORC_FIRE_TIME (ISO 8601, UTC) and NORC_TMP_DIR.
 * cwd may be NULL (the task's tmp dir). The core applies nice and the timeout. */
struct norc_exec_plan {
	uint32_t struct_size;
	char **argv;
	char **envp;
	char *cwd;
	char *preamble; /* optional text the core writes into the run's log before the task's
			 * own output (CommandTask: "Executing command...\n$ CMD\n") */
	/* added in ABI 1.2: append below, never above */
	char *path; /* optional: the file to exec when it differs from argv[0] (as a shell runs
		     * "ls" found at /usr/bin/ls with argv[0] "ls"); NULL: argv[0]. Freed by
		     * plan_free like the rest. No PATH search is done by the core. */
};

/* Outcome of a run, borrowed in finally(). */
struct norc_task_result {
	uint32_t struct_size;
	int status;      /* the instance status the core is about to record (SUCCESS 7 ...) */
	int exit_code;   /* -1 when killed by a signal */
	int term_signal; /* 0 when it exited */
	bool timed_out;
	int64_t started_us, ended_us;
};

struct norc_task_ops {
	uint32_t struct_size;
	/* Check a task's parameters at definition time (`norc task add`). Mandatory. Unknown keys
	 * should be rejected, naming the key. */
	int (*validate)(void *state, const struct norc_params *params, char *err, size_t errlen);
	/* Exec mode: fill *plan. Mandatory unless NORC_TASK_INCHILD. */
	int (*prepare)(void *state, const struct norc_task_ctx *ctx, struct norc_exec_plan *plan,
		       char *err, size_t errlen);
	void (*plan_free)(void *state, struct norc_exec_plan *plan); /* mandatory with prepare */
	/* In-child mode: the work; returns the exit code (0 = SUCCESS). */
	int (*run_child)(void *state, const struct norc_task_ctx *ctx);
	/* Optional: after the run, in a child of its own; returns 0 to keep result->status or
	 * one of SUCCESS 7, FAILURE 13, ERROR 14, TIMEDOUT 15, INTERRUPTED 16 to change it. */
	int (*finally)(void *state, const struct norc_task_ctx *ctx,
		       const struct norc_task_result *result);
	/* Optional: a revision string recorded on the instance. */
	int (*revision)(void *state, const struct norc_task_ctx *ctx, char *buf, size_t len);
};

#endif
