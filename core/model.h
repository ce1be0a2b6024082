/*
 * model.h - reading and writing Norc's objects (queues, tasks, schedules, instances).
 *
 * All SQL of the admin CLI and the reports lives here, parameterized and dialect-free. Lists
 * come back as jansson arrays of objects (keys in column order) so that the CLI tables,
 * `--json` and the web API print the same data. Times are rendered "YYYY-MM-DD HH:MM:SSZ",
 * statuses by name. Objects are referred to by name or id ("42", "#42" or "DemoTask").
 *
 * Errors: NORC_OK or a negative NORC_E*; err gets one line naming the object and the fix.
 * Removal is soft for tasks, queues and schedules: history (instances, logs) keeps pointing
 * at them, and the name is freed for reuse.
 */
#ifndef NORC_MODEL_H
#define NORC_MODEL_H

#include "db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum norc_col_type { NORC_COL_INT, NORC_COL_TEXT, NORC_COL_TIME, NORC_COL_STATUS, NORC_COL_BOOL };
struct norc_col {
	const char *key;
	enum norc_col_type type;
};

enum norc_arg_kind { NORC_ARG_NULL, NORC_ARG_INT, NORC_ARG_TEXT };
struct norc_arg {
	enum norc_arg_kind kind;
	int64_t i;
	const char *s;
};
#define NORC_AI(v) ((struct norc_arg){NORC_ARG_INT, (int64_t)(v), NULL})
static inline struct norc_arg norc_arg_text(const char *s)
{
	return (struct norc_arg){s ? NORC_ARG_TEXT : NORC_ARG_NULL, 0, s};
}
#define NORC_AS(v) norc_arg_text(v)

/* Run a SELECT; *rows gets a new array (caller json_decref()s) of objects keyed by cols
 * (ncols columns, in the SELECT's order). */
int norc_model_query(struct norc_db *db, const char *sql, const struct norc_arg *args,
		     size_t nargs, const struct norc_col *cols, size_t ncols, json_t **rows);
/* Run a statement without results; *changes (may be NULL) gets the rows changed. */
int norc_model_exec(struct norc_db *db, const char *sql, const struct norc_arg *args,
		    size_t nargs, int64_t *changes);

/* Check a task/queue name: [A-Za-z0-9_.-], 1..max chars, not only digits, starts with a
 * letter, digit or '_'. err names the object kind ("task", "queue"). */
int norc_model_check_name(const char *kind, const char *name, size_t max, char *err,
			  size_t errlen);

/* Find a live (not removed) task or queue by name or id. */
int norc_model_task_find(struct norc_db *db, const char *ref, int64_t *id, char *err, size_t errlen);
int norc_model_queue_find(struct norc_db *db, const char *ref, int64_t *id, char *err, size_t errlen);

/* Queues. params_json is a JSON object text (borrowed). */
int norc_model_queue_add(struct norc_db *db, const char *name, const char *type,
			 const char *params_json, int64_t *id, char *err, size_t errlen);
int norc_model_queue_list(struct norc_db *db, json_t **rows);
/* One queue: id, name, type, params (JSON text). */
int norc_model_queue_get(struct norc_db *db, int64_t id, json_t **obj, char *err, size_t errlen);
/* Soft-remove; refused while live schedules use it. */
int norc_model_queue_rm(struct norc_db *db, int64_t id, char *err, size_t errlen);

struct norc_task_def {
	const char *name, *type, *description, *params_json;
	int timeout_s, nice;
	/* retries after a FAILURE, TIMEDOUT or lost run; the delay doubles from retry_delay_s
	 * up to retry_max_delay_s (0 means the default, 3600) */
	int retries, retry_delay_s, retry_max_delay_s;
	int overlap; /* sched.h: 0 allow, 1 skip, 2 queue */
	/* runas.h: "USER[:GROUP]" and a normalized limits text; NULL or "": none */
	const char *run_as, *limits;
};
int norc_model_task_add(struct norc_db *db, const struct norc_task_def *def, int64_t *id,
			char *err, size_t errlen);
int norc_model_task_list(struct norc_db *db, json_t **rows);
int norc_model_task_get(struct norc_db *db, int64_t id, json_t **obj, char *err, size_t errlen);
/* Change a task's run settings: each field of set whose `has` bit is on (TASK_SET_*). */
enum {
	NORC_TASK_SET_TIMEOUT = 1, NORC_TASK_SET_NICE = 2, NORC_TASK_SET_RETRIES = 4,
	NORC_TASK_SET_RETRY_DELAY = 8, NORC_TASK_SET_RETRY_MAX_DELAY = 16,
	NORC_TASK_SET_DESCRIPTION = 32, NORC_TASK_SET_OVERLAP = 64,
	NORC_TASK_SET_PARAMS = 128, /* params_json, already checked by the type's plugin */
	NORC_TASK_SET_RUN_AS = 256, NORC_TASK_SET_LIMITS = 512
};
int norc_model_task_set(struct norc_db *db, int64_t id, const struct norc_task_def *set, int has,
			char *err, size_t errlen);
/* Soft-remove; with live schedules refused unless force, which removes them too. */
int norc_model_task_rm(struct norc_db *db, int64_t id, bool force, char *err, size_t errlen);

struct norc_schedule_def {
	int64_t task_id, queue_id;
	const char *kind; /* "period" | "cron" */
	int64_t period_s;
	const char *cron, *tz;
	int64_t start_us;
	int reps; /* 0 = forever */
	int catch_up, catch_up_max; /* sched.h */
};
int norc_model_schedule_add(struct norc_db *db, const struct norc_schedule_def *def, int64_t *id,
			    char *err, size_t errlen);
/* Change a live schedule (each field whose NORC_SCHED_SET_* bit is in `has`; a new rule
 * comes with its first fire time in start_us) and mark it changed, so its scheduler reloads
 * it. A finished schedule given a new rule or repetitions runs again. */
enum {
	NORC_SCHED_SET_RULE = 1,     /* kind, period, cron, tz, start_us (= next fire) */
	NORC_SCHED_SET_REPS = 2,     /* reps (remaining starts again) */
	NORC_SCHED_SET_CATCH_UP = 4, /* catch_up, catch_up_max */
};
int norc_model_schedule_set(struct norc_db *db, int64_t id, const struct norc_schedule_def *d,
			    int has, char *err, size_t errlen);
/* One schedule with everything `schedule show` tells (incl. last_fire and last_note). */
int norc_model_schedule_get(struct norc_db *db, int64_t id, json_t **obj, char *err,
			    size_t errlen);
/* task_id 0 = all tasks. */
int norc_model_schedule_list(struct norc_db *db, int64_t task_id, json_t **rows);
int norc_model_schedule_rm(struct norc_db *db, int64_t id, char *err, size_t errlen);
/* Pause (no fires; the scheduler lets go of it) or resume a live schedule. Resuming after
 * missed fire times follows its make-up policy, as after downtime. */
int norc_model_schedule_pause(struct norc_db *db, int64_t id, bool paused, char *err,
			      size_t errlen);

struct norc_instance_filter {
	int64_t task_id;  /* 0 = any */
	int status;       /* 0 = any */
	bool failed_only; /* status >= FAILURE */
	int limit;        /* newest first */
};
int norc_model_instance_list(struct norc_db *db, const struct norc_instance_filter *f, json_t **rows);
int norc_model_instance_get(struct norc_db *db, int64_t id, json_t **obj, char *err, size_t errlen);
/* The node instances of job instance job_id (index instances_job), in creation order; an
 * empty array for any other instance. */
int norc_model_instance_nodes(struct norc_db *db, int64_t job_id, json_t **rows);

#endif
