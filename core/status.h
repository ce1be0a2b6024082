/*
 * status.h - status and request numbers, exactly the original Norc's (append only).
 */
#ifndef NORC_STATUS_H
#define NORC_STATUS_H

#include <stdbool.h>

enum norc_status {
	NORC_ST_CREATED = 1,
	NORC_ST_RUNNING = 2,
	NORC_ST_PAUSED = 3,
	NORC_ST_STOPPING = 4,
	NORC_ST_SUSPENDED = 5,
	NORC_ST_PAUSING = 6,
	NORC_ST_SUCCESS = 7,
	NORC_ST_ENDED = 8,
	NORC_ST_KILLED = 9,
	NORC_ST_SKIPPED = 10, /* ours: a fire deliberately not run (overlap; final, not failed) */
	NORC_ST_NOT_RUN = 11, /* ours: a job node that will not run: a node it needs failed, or
			       * its job timed out or was killed (final, not failed itself) */
	NORC_ST_HANDLED = 12,
	NORC_ST_FAILURE = 13,
	NORC_ST_ERROR = 14,
	NORC_ST_TIMEDOUT = 15,
	NORC_ST_INTERRUPTED = 16,
};

enum norc_request {
	NORC_REQ_STOP = 1,
	NORC_REQ_KILL = 2,
	NORC_REQ_PAUSE = 7,
	NORC_REQ_RESUME = 8,
	NORC_REQ_RELOAD = 9,
};

/* "SUCCESS" etc.; "UNKNOWN(n)"-style text is not returned: unknown numbers give "UNKNOWN". */
const char *norc_status_name(int status);
/* Parse a status name (case-insensitive) or number; -1 when unknown. */
int norc_status_parse(const char *s);
static inline bool norc_status_is_final(int s) { return s >= NORC_ST_SUCCESS; }
static inline bool norc_status_is_failure(int s) { return s >= NORC_ST_FAILURE; }

#endif
