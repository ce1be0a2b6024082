/*
 * backup.h - the configured log-backup store (a backup plugin, config group `backup`), and
 * the daemons' uploader that moves this host's finished logs there (upload.h keeps the state).
 *
 * Keys are "norc_logs/<path relative to log_dir>", as in the original. The uploader never
 * blocks a daemon's loop: each batch of uploads runs in a forked child (plugin code, curl)
 * that reports one result line per file on a pipe; the daemon records the results when the
 * child is reaped, and kills a child that runs past backup.timeout (its files are retried).
 * CLIs (norc_log_viewer, the web UI) fetch in their own process.
 */
#ifndef NORC_BACKUP_CORE_H
#define NORC_BACKUP_CORE_H

#include "batch.h"
#include "config.h"
#include "db.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct norc_backup; /* an opened backup plugin */

/* Open the plugin named by cfg->backup.plugin with cfg->backup.settings. *out is NULL (and
 * NORC_OK) when no backup is configured. Plugins must be loaded already. err names the
 * plugin or setting and the fix. Caller closes with norc_backup_close. */
int norc_backup_open(const struct norc_config *cfg, struct norc_backup **out, char *err,
		     size_t errlen);
void norc_backup_close(struct norc_backup *b); /* NULL ok */
const char *norc_backup_name(const struct norc_backup *b); /* the plugin's name */
/* The key of a log path (relative to log_dir). Caller frees. */
char *norc_backup_key(const char *rel_path);
/* Write the backed-up log rel_path (decompressed) to fd. NORC_ENOTFOUND when it is not
 * there. In the calling process. */
int norc_backup_fetch(struct norc_backup *b, const char *rel_path, int fd, char *err,
		      size_t errlen);

/* The uploader of one daemon. Zero it, then norc_uploader_init. */
struct norc_uploader {
	const struct norc_config *cfg; /* borrowed */
	struct norc_backup *backup;    /* owned; NULL: tracking only (no plugin could open) */
	bool tracking;                 /* a backup is configured: logs are tracked */
	char host[256];
	struct norc_batch batch;       /* the upload child (batch.h) */
	struct norc_upload_item *items; /* its batch */
	size_t nitems;
	int64_t lease;                 /* the batch's lease (upload.h) */
	int64_t next_close_us, next_take_us, next_retention_us; /* monotonic */
	int64_t uploaded, failed;      /* counters, for the daemon's log */
};

/* Open the configured backup (a failure is logged as an error; logs are then still tracked,
 * and uploaded once a restart with a working backup). */
void norc_uploader_init(struct norc_uploader *u, const struct norc_config *cfg);
/* Track this daemon's own log (relative path), in its own transaction. */
void norc_uploader_track_daemon(struct norc_uploader *u, struct norc_db *db, int64_t daemon_id,
				const char *rel_path);
/* An instance's end was recorded here (its log made due in that transaction): upload soon,
 * with the ends of the next quarter second in the same batch. */
void norc_uploader_poke(struct norc_uploader *u);
/* The loop's turn: make ended logs due, start a batch when there is one and no child runs,
 * apply the retention, kill an overdue child. Returns the monotonic time it wants to be
 * called again. */
int64_t norc_uploader_tick(struct norc_uploader *u, struct norc_db *db, int64_t mono);
/* A child was reaped: true when it was the upload child (its results are then recorded). */
bool norc_uploader_reaped(struct norc_uploader *u, struct norc_db *db, pid_t pid, int wstatus);
/* Shutdown: give a running batch up to 10 s more (then kill it: its files come back to the
 * host's other daemons), make daemon_id's own log due and upload it alone, waiting up to
 * backup.timeout or 60 s, whichever is less. Lines logged after that upload are only in the
 * local copy. Then close. */
void norc_uploader_finish(struct norc_uploader *u, struct norc_db *db, int64_t daemon_id);

#endif
