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

	/* ---- added in ABI 1.4 (read only when struct_size covers them) ---- */
	uint32_t flags; /* NORC_QUEUE_* */
	/* After pop returned instance_id and the executor's claim of it committed (or found it
	 * already claimed or ended elsewhere): remove that item for good (SQS: DeleteMessage).
	 * Optional; a queue whose pop removes (DBQueue) needs none. */
	int (*ack)(void *handle, int64_t instance_id, char *err, size_t errlen);
	/* The item could not be claimed now (the database unreachable, or the instance not
	 * visible yet): make it available again after delay_s seconds (SQS:
	 * ChangeMessageVisibility). Optional. */
	int (*nack)(void *handle, int64_t instance_id, int delay_s, char *err, size_t errlen);
	/* Called every few seconds while items popped but not yet acked are held: keep them
	 * from being handed to someone else meanwhile (SQS: extend their visibility). Optional. */
	int (*touch)(void *handle, char *err, size_t errlen);
};

/*
 * NORC_QUEUE_REMOTE: pop talks to a server and may wait for an item (long polling, up to
 * some 20 s). The core then calls open, pop, ack, nack and touch of the executor's handle in a
 * receiver child process, never in a daemon's loop, and asks it to pop only while the
 * executor has a free slot; pop returns NORC_EAGAIN when its wait ended empty. Such a queue is
 * not part of the caller's database transaction: push may deliver before the instance row is
 * committed, so an executor that does not find the instance yet nacks it with a delay, and
 * a pushed item whose transaction rolled back is acked away once it is old (the plugin may
 * use its receive count). push and count are still called in the daemons (keep them short).
 */
#define NORC_QUEUE_REMOTE 1u

#endif
