/*
 * daemon.h - a daemon's row in the daemons table: registration, heartbeat, end.
 *
 * Every norc_scheduler and norc_executor registers itself (kind, host, pid, queue,
 * concurrency), heartbeats every daemon.heartbeat seconds, and writes its final status when
 * it ends. Status and request numbers are the original's (status.h).
 */
#ifndef NORC_DAEMON_H
#define NORC_DAEMON_H

#include "db.h"

#include <stdint.h>

/* Insert the row (status RUNNING, started = heartbeat = now). */
int norc_daemon_register(struct norc_db *db, const char *kind, int64_t queue_id, int concurrency,
			 int64_t *id);
/* heartbeat = now, status as given; *request gets a pending request (0 = none). */
int norc_daemon_heartbeat(struct norc_db *db, int64_t id, int status, int *request);
/* Final status and ended = now. */
int norc_daemon_end(struct norc_db *db, int64_t id, int status);

#endif
