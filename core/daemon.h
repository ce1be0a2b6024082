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
#include "job.h"
#include "db.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Insert the row (status RUNNING, started = heartbeat = now). */
int norc_daemon_register(struct norc_db *db, const char *kind, int64_t queue_id, int concurrency,
			 int64_t *id);
/* heartbeat = now, status as given; *request gets a pending request (0 = none).
 * NORC_ENOTFOUND when another daemon already wrote a final status on this row (it declared
 * this one dead): the caller gives up its work, as the others already did. */
int norc_daemon_heartbeat(struct norc_db *db, int64_t id, int status, int *request);
/* A pending request (0 = none): one primary-key read, cheap enough to do every second. */
int norc_daemon_request(struct norc_db *db, int64_t id, int *request);
/* Final status and ended = now (not over another final status someone else wrote). */
int norc_daemon_end(struct norc_db *db, int64_t id, int status);

/* Any live daemon calls this after each heartbeat, with whether the heartbeat reached the
 * database: daemons whose heartbeat is older than timeout_s become ERROR (a final status
 * already written is never touched), a dead executor's RUNNING instances become ERROR
 * "executor lost" (or are retried), a dead scheduler's schedules are released, and what a
 * dead executor on this host left running is killed. *lost_instances gets how many instances
 * were finalized. Cheap: it reads only the daemons that are not final (index on kind, status).
 *
 * A missing heartbeat is evidence only if the database was reachable: when it was locked or
 * down, nobody could beat. So a daemon judges others only once its own heartbeats have
 * reached the database without a gap for timeout_s (struct norc_reaper keeps that, zeroed by
 * the caller at start). */
struct norc_reaper {
	int64_t good_since_us, last_good_us; /* monotonic; 0 = not yet */
};
int norc_daemon_reap_dead(struct norc_db *db, int64_t self_id, const struct norc_config *cfg,
			  bool beat_ok, struct norc_reaper *r, int64_t *lost_instances);
/* Inside the caller's transaction: the work of dead daemon id goes to others: an executor's
 * RUNNING instances end ERROR "executor lost" (or are retried; *lost counts them), a
 * scheduler's schedules are released. A job instance whose nodes run on is not lost with the
 * executor that started it. What lost job nodes decided goes into notes (norc_job_notes_flush
 * them after the commit). Used by the reaper and by `--handle`. */
int norc_daemon_give_up_work(struct norc_db *db, int64_t id, bool executor, int64_t *lost,
			      struct norc_job_notes *notes);
/* Release schedules still claimed by schedulers that have ended (a release that failed at
 * their shutdown); a scheduler calls it at start. *released counts them. */
int norc_daemon_release_orphans(struct norc_db *db, int64_t *released);
/* Program start-up shared by the daemons: load the config (path may be NULL), open the
 * database, refuse a wrong schema, hand the connection to plugins, load plugins. On failure
 * prints "PROG: error: ..." and returns non-zero; on success the caller frees *cfg and
 * closes *db. */
int norc_daemon_open(const char *prog, const char *config_path, struct norc_config **cfg,
		     struct norc_db **db);
/* SIGHUP: reload the config file into cfg (config.h, norc_config_reload) and log what changed
 * or why nothing did. */
void norc_daemon_reload_config(struct norc_config *cfg);
/* Create the folders of log_dir/rel and open it for appending (fd, O_CLOEXEC); -1 on error
 * with errno set. *abs_out (may be NULL) gets the absolute path; caller frees. */
int norc_daemon_open_file(const struct norc_config *cfg, const char *rel, char **abs_out);
/* Block SIGCHLD, SIGINT, SIGTERM and SIGHUP, ignore SIGPIPE, and return a signalfd for
 * them (CLOEXEC, non-blocking); -1 on error. */
int norc_daemon_signalfd(void);
/* Tell systemd how the daemon is doing ("READY=1", "STOPPING=1", "STATUS=..."), through
 * libsystemd's sd_notify when Norc was built with it; a no-op otherwise or outside systemd. */
void norc_daemon_notify(const char *state);

#endif
