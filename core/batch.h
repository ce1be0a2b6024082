/*
 * batch.h - a batch of items worked off in a forked child (log uploads, alert deliveries),
 * so that a slow or stuck network call never blocks a daemon's single loop.
 *
 * The child writes "S ID" before each item and "R ID RC MESSAGE" after it on a pipe; the
 * parent reads them when it reaps the child. A child past its deadline is killed, and the
 * kill is charged only to the item in progress: items not started are simply not tried.
 * The daemons are single-threaded, so the child may use the heap and libraries (no lock can
 * be held by another thread at the fork); it never touches the parent's database connection.
 */
#ifndef NORC_BATCH_H
#define NORC_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct norc_batch {
	pid_t pid;           /* the child, 0 when none */
	int pipe_fd;         /* its report lines; -1 when none */
	bool killed;         /* it ran past its deadline and was killed */
	int64_t deadline_us; /* monotonic */
};

#define NORC_BATCH_MSG 200
struct norc_batch_result {
	bool started; /* the child began this item (an "S" line) */
	int rc;       /* NORC_OK or the item's error (an "R" line), else NORC_EIO */
	char msg[NORC_BATCH_MSG]; /* the error's text; without an "R" line: how the child died */
};

/* Zero b (pid 0, pipe_fd -1). */
void norc_batch_init(struct norc_batch *b);
/* Fork the child, which runs run(ctx, wfd) with SIGPIPE ignored and no signal blocked, dies
 * with the parent, and then exits. NORC_OK (b->pid set) or NORC_ERR (logged with `what`). */
int norc_batch_start(struct norc_batch *b, void (*run)(void *ctx, int wfd), void *ctx,
		     int64_t deadline_mono_us, const char *what);
/* In the child: item id begins; item id ended with rc and msg (NULL or "": none; line breaks
 * become spaces). */
void norc_batch_report_start(int wfd, int64_t id);
void norc_batch_report(int wfd, int64_t id, int rc, const char *msg);
/* Kill the child if mono is past its deadline (once); true when it was killed now. */
bool norc_batch_overdue(struct norc_batch *b, int64_t mono);
/* The child was reaped with wstatus: fill res[i] for ids[i] (n at most 64), close the pipe,
 * b->pid = 0. limit_name (e.g. "backup.timeout") names the deadline in a kill's message. */
void norc_batch_collect(struct norc_batch *b, int wstatus, const int64_t *ids, size_t n,
			struct norc_batch_result *res, const char *limit_name);
/* Shutdown: wait for the child until its deadline, kill it, wait up to 5 s more. true: reaped
 * (*wstatus set; call norc_batch_collect); false: given up (pipe closed, b->pid = 0). */
bool norc_batch_wait(struct norc_batch *b, int *wstatus);

#endif
