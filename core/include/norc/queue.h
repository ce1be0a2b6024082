/*
 * norc/queue.h - the ops a queue plugin (DBQueue, SQSQueue, users' own) provides.
 *
 * A queue carries instance ids from the scheduler to executors. open() is called once per
 * configured queue (a row of the queues table); every other op gets the handle it returned.
 * All ops run in the daemon's loop and must be bounded in time. Database-backed queues use the
 * host's norc_db calls; those run inside the caller's transaction, so "push" commits together
 * with the instance row and "pop" together with the claim.
 */
#ifndef NORC_QUEUE_H
#define NORC_QUEUE_H

#include <norc/plugin.h>

/* The queue being opened. Borrowed for the call; copy what you keep. */
struct norc_queue_ref {
	uint32_t struct_size;
	int64_t id;
	const char *name;
	const struct norc_params *params;
};

struct norc_queue_ops {
	uint32_t struct_size;
	/* Check a queue's parameters at `norc queue add`. Mandatory. */
	int (*validate)(void *state, const struct norc_params *params, char *err, size_t errlen);
	/* Open a handle for one queue. Mandatory. *handle is freed by close(). */
	int (*open)(void *state, const struct norc_queue_ref *ref, void **handle, char *err,
		    size_t errlen);
	void (*close)(void *handle); /* mandatory */
	/* Append an instance id. Mandatory. */
	int (*push)(void *handle, int64_t instance_id, char *err, size_t errlen);
	/* Remove and return the head; NORC_EAGAIN when empty. Mandatory. At most one caller
	 * across all hosts gets a given item. */
	int (*pop)(void *handle, int64_t *instance_id, char *err, size_t errlen);
	/* Head without removing it; NORC_EAGAIN when empty. Optional (NORC_EUNSUPP). */
	int (*peek)(void *handle, int64_t *instance_id, char *err, size_t errlen);
	/* Number of items (may be approximate). Mandatory. */
	int (*count)(void *handle, int64_t *n, char *err, size_t errlen);
	/* Remove every item; *removed gets how many. Optional. */
	int (*clear)(void *handle, int64_t *removed, char *err, size_t errlen);
};

#endif
