/*
 * receiver.h - the receiver child of an executor whose queue waits on a server
 * (NORC_QUEUE_REMOTE, e.g. SQSQueue): it long-polls so the executor's loop never does.
 *
 * The child owns the queue handle's network side: it pops only as many items as the executor
 * asked for (its free slots), and acks, nacks and touches on the executor's word. Lines on
 * two pipes, both close-on-exec:
 *   executor -> child   "W n" want n more items, "C" cancel what is wanted, "A id" ack,
 *                       "N id delay" nack, "Q" quit
 *   child -> executor   "I id" an item, "E message" a failure (the child backs off)
 * The executor claims each item in its own transaction and then acks it, or nacks it when
 * the instance cannot be claimed yet (queue.h says why that happens).
 */
#ifndef NORC_RECEIVER_H
#define NORC_RECEIVER_H

#include "queue.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct norc_receiver {
	pid_t pid;      /* 0: not running */
	int cmd_fd;     /* write end of the commands */
	int res_fd;     /* read end of the results (non-blocking) */
	int wanted;     /* items asked for and not yet delivered */
	char buf[4096]; /* result lines not taken yet */
	size_t len;
	char name[100]; /* the queue's, for messages */
};

/* Fork the child for q (opened by the caller, which must not use its network side after).
 * r is zeroed first. NORC_OK, or an error with err. */
int norc_receiver_start(struct norc_receiver *r, struct norc_queue_handle *q, char *err,
			size_t errlen);
/* Ask for n more items; cancel all that are asked for; ack; nack. Never block. */
void norc_receiver_want(struct norc_receiver *r, int n);
void norc_receiver_cancel(struct norc_receiver *r);
void norc_receiver_ack(struct norc_receiver *r, int64_t id);
void norc_receiver_nack(struct norc_receiver *r, int64_t id, int delay_s);
/* Read what the child said: up to max item ids into ids (*n of them); failure lines are
 * logged. Returns false when the child closed its end (it died or quit). */
bool norc_receiver_read(struct norc_receiver *r, int64_t *ids, size_t max, size_t *n);
/* The child was reaped (pid): true when it was this receiver's; it then needs a restart. */
bool norc_receiver_reaped(struct norc_receiver *r, pid_t pid);
/* Nack what was delivered but not taken, ask the child to quit, wait up to 1 s, then kill
 * it; close the pipes. */
void norc_receiver_stop(struct norc_receiver *r);

#endif
