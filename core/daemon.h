/*
 * daemon.h - a daemon's row in the daemons table: registration, heartbeat, end.
 *
 * Every norc_scheduler and norc_executor registers itself (kind, host, pid, queue,
 * concurrency), heartbeats every daemon.heartbeat seconds, and writes its final status when
 * it ends. Status and request numbers are the original's (status.h).
 */
#ifndef NORC_DAEMON_H
#define NORC_DAEMON_H

#include "config.h"
#include "db.h"

#include <stdint.h>
#include <stdio.h>

/* Insert the row (status RUNNING, started = heartbeat = now). */
int norc_daemon_register(struct norc_db *db, const char *kind, int64_t queue_id, int concurrency,
			 int64_t *id);
/* heartbeat = now, status as given; *request gets a pending request (0 = none). */
int norc_daemon_heartbeat(struct norc_db *db, int64_t id, int status, int *request);
/* Final status and ended = now. */
int norc_daemon_end(struct norc_db *db, int64_t id, int status);

/* Any live daemon calls this at its heartbeat: daemons whose heartbeat is older than
 * timeout_s become ERROR (a final status already written is never touched), a dead
 * executor's RUNNING instances become ERROR ("executor lost"), a dead scheduler's schedules
 * are released. *lost_instances gets how many instances were finalized. Cheap: it reads
 * only the daemons that are not final (index on kind, status). */
int norc_daemon_reap_dead(struct norc_db *db, int64_t self_id, int timeout_s, int64_t *lost_instances);

/* Program start-up shared by the daemons: load the config (path may be NULL), open the
 * database, refuse a wrong schema, hand the connection to plugins, load plugins. On failure
 * prints "PROG: error: ..." and returns non-zero; on success the caller frees *cfg and
 * closes *db. */
int norc_daemon_open(const char *prog, const char *config_path, struct norc_config **cfg,
		     struct norc_db **db);
/* Create the folders of log_dir/rel and open it for appending (fd, O_CLOEXEC); -1 on error
 * with errno set. *abs_out (may be NULL) gets the absolute path; caller frees. */
int norc_daemon_open_file(const struct norc_config *cfg, const char *rel, char **abs_out);
/* Block SIGCHLD, SIGINT, SIGTERM and SIGHUP, ignore SIGPIPE, and return a signalfd for
 * them (CLOEXEC, non-blocking); -1 on error. */
int norc_daemon_signalfd(void);

#endif
