/*
 * upload.h - which log files of a host still have to reach the backup store (table
 * log_uploads), so that no log is lost when a daemon dies before its upload.
 *
 * A row is written when a log file starts (an instance claimed on this host, a daemon
 * registered), in the same transaction, as OPEN. Once its owner has ended (the instance's
 * or daemon's row says so, whoever wrote that) the row becomes DUE; a daemon on the same
 * host takes a batch of due rows (a lease: the rows' state_at moves past the upload's time
 * limit, so a second daemon leaves them alone and a dead one's batch comes back), uploads them
 * in a child process (backup.h) and records each result: UPLOADED, or DUE again later with
 * exponential backoff and the error, or GONE when the local file no longer exists. With a
 * retention set, UPLOADED files older than it are deleted locally (REMOVED).
 *
 * Every query here reads one host's rows of one state through the index (host, state,
 * state_at): nothing scans the table.
 */
#ifndef NORC_UPLOAD_H
#define NORC_UPLOAD_H

#include "db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum norc_upload_state {
	NORC_UPLOAD_OPEN = 0,     /* the file is still being written */
	NORC_UPLOAD_DUE = 1,      /* complete; to upload at state_at */
	NORC_UPLOAD_DONE = 2,     /* in the backup store since state_at */
	NORC_UPLOAD_REMOVED = 3,  /* uploaded, and the local copy deleted (retention) */
	NORC_UPLOAD_GONE = 4,     /* the local file disappeared before it was uploaded */
};

const char *norc_upload_state_name(int state); /* "open", "due", ... */

/* Inside the caller's transaction: track the log of instance_id (its log_path), written on
 * host (borrowed). A second call for the same instance and host is a no-op. */
int norc_upload_track_instance(struct norc_db *db, const char *host, int64_t instance_id);
/* Track a daemon's log (path relative to log_dir, borrowed). */
int norc_upload_track_daemon(struct norc_db *db, const char *host, int64_t daemon_id,
			     const char *path);
/* A daemon's own log is complete (it is shutting down): due now. */
int norc_upload_daemon_due(struct norc_db *db, int64_t daemon_id, int64_t now_us);

/* Inside the caller's transaction (the one recording the instance's end): its log is DUE. */
int norc_upload_instance_due(struct norc_db *db, int64_t instance_id, int64_t now_us);
/* OPEN rows of host whose instance has ended, or whose daemon was declared dead or ended
 * before daemon_cutoff_us (a daemon that ends normally uploads its own log), become DUE now.
 * The sweep behind the ends recorded elsewhere (a dead executor's instances, job ends). *n
 * (may be NULL) gets how many. Reads only the host's open rows. */
int norc_upload_close_ended(struct norc_db *db, const char *host, int64_t now_us,
			    int64_t daemon_cutoff_us, int *n);

struct norc_upload_item {
	int64_t id;
	char *path;   /* relative to log_dir; owned */
	int attempts; /* failed attempts so far */
};
/* Take up to limit DUE rows of host whose time has come, leasing them: their state_at becomes
 * *lease (now_us + lease_us, made unique to this take), so results are recorded only by the
 * holder of the lease. *items (caller frees with norc_upload_items_free) may be empty. */
int norc_upload_take(struct norc_db *db, const char *host, int64_t now_us, int64_t lease_us,
		     int limit, struct norc_upload_item **items, size_t *n, int64_t *lease);
/* The same for the DUE log of one daemon (its own, at shutdown): at most one item. */
int norc_upload_take_daemon(struct norc_db *db, int64_t daemon_id, int64_t now_us,
			    int64_t lease_us, struct norc_upload_item **items, size_t *n,
			    int64_t *lease);
void norc_upload_items_free(struct norc_upload_item *items, size_t n);

/* Results, recorded only while the row still holds lease (a batch that outlived its lease
 * changes nothing). done: UPLOADED since now_us. failed: one more failed attempt, DUE again
 * after the backoff (norc_upload_backoff) with err (borrowed, cut to 255 bytes on a UTF-8
 * boundary); gone: GONE with err. release: not tried (the batch ended first): DUE now, no
 * attempt counted. */
int norc_upload_done(struct norc_db *db, int64_t id, int64_t lease, int64_t now_us);
int norc_upload_failed(struct norc_db *db, const struct norc_upload_item *it, int64_t lease,
		       bool gone, const char *err, int64_t now_us);
int norc_upload_release(struct norc_db *db, int64_t id, int64_t lease, int64_t now_us);
/* 5 s after the first failure, doubling, at most 10 min. */
int64_t norc_upload_backoff(int attempts);

/* Retention: up to limit UPLOADED rows of host uploaded before cutoff_us, as items. */
int norc_upload_expired(struct norc_db *db, const char *host, int64_t cutoff_us, int limit,
			struct norc_upload_item **items, size_t *n);
int norc_upload_removed(struct norc_db *db, int64_t id, int64_t now_us);

/* The upload state of a log by instance or daemon (exactly one of the two ids non-zero):
 * *state -1 when none is tracked; host, err (may be NULL) get copies of the host and the last
 * error (caller frees). */
struct norc_upload_info {
	int state;
	int attempts;
	int64_t state_at;
	char *host;
	char *last_error;
};
int norc_upload_info(struct norc_db *db, int64_t instance_id, int64_t daemon_id,
		     struct norc_upload_info *out);
void norc_upload_info_free(struct norc_upload_info *info);

#endif
