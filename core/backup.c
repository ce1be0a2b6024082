/*
 * backup.c - see backup.h. The configured backup plugin, and the uploader that runs each
 * batch of uploads in a forked child and records the results from its pipe.
 */
#include "backup.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "plugin.h"
#include "upload.h"

#include <norc/backup.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define CLOSE_EVERY_US (3 * NORC_US_PER_SEC)  /* look for logs ended elsewhere */
#define TAKE_EVERY_US (5 * NORC_US_PER_SEC)   /* look for due uploads when idle */
#define GATHER_US (250 * 1000)                /* after an end: wait for more, then upload */
#define RETAIN_EVERY_US (60 * NORC_US_PER_SEC) /* retention sweep */
#define RETAIN_BATCH 500
#define SHUTDOWN_WAIT_US (10 * NORC_US_PER_SEC)   /* a batch under way at shutdown */
#define SHUTDOWN_UPLOAD_US (60 * NORC_US_PER_SEC) /* the daemon's own log at shutdown */
#define NEVER INT64_MAX

static int64_t timeout_us(const struct norc_uploader *u)
{
	return (int64_t)u->cfg->backup.timeout_s * NORC_US_PER_SEC;
}

/* A daemon that ended normally uploads its own log; one that ended longer ago than its own
 * upload could take did not manage to (or was declared dead: status ERROR). */
static int64_t daemon_grace_us(const struct norc_uploader *u)
{
	return timeout_us(u) + SHUTDOWN_WAIT_US + SHUTDOWN_UPLOAD_US + 60 * NORC_US_PER_SEC;
}

struct norc_backup {
	const struct norc_plugin_entry *p;
	const struct norc_backup_ops *ops;
	void *h;
};

int norc_backup_open(const struct norc_config *cfg, struct norc_backup **out, char *err,
		     size_t errlen)
{
	*out = NULL;
	if (!cfg->backup.plugin)
		return NORC_OK;
	const struct norc_plugin_entry *p = norc_plugin_find(NORC_KIND_BACKUP, cfg->backup.plugin);
	if (!p)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "backup.plugin \"%s\": no backup plugin of that name is loaded "
				    "(S3 and LocalBackup are built in; `norc plugins` lists what "
				    "is)", cfg->backup.plugin);
	const struct norc_backup_ops *ops = p->desc->ops;
	void *h = NULL;
	char perr[400] = "";
	int rc = ops->open(p->state, cfg->backup.settings, &h, perr, sizeof(perr));
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc < 0 ? rc : NORC_ECONFIG,
				    "backup %s (config backup.settings): %s", p->desc->name,
				    perr[0] ? perr : "open failed");
	struct norc_backup *b = norc_xcalloc(1, sizeof(*b));
	*b = (struct norc_backup){p, ops, h};
	*out = b;
	return NORC_OK;
}

void norc_backup_close(struct norc_backup *b)
{
	if (!b)
		return;
	if (b->ops->close)
		b->ops->close(b->h);
	free(b);
}

const char *norc_backup_name(const struct norc_backup *b) { return b->p->desc->name; }

char *norc_backup_key(const char *rel_path) { return norc_xasprintf("norc_logs/%s", rel_path); }

int norc_backup_fetch(struct norc_backup *b, const char *rel_path, int fd, char *err,
		      size_t errlen)
{
	char *key = norc_backup_key(rel_path);
	char perr[400] = "";
	int rc = b->ops->get(b->h, key, fd, perr, sizeof(perr));
	if (rc != NORC_OK)
		norc_err_set(err, errlen, rc, "%s %s: %s", b->p->desc->name, key,
			     perr[0] ? perr : rc == NORC_ENOTFOUND ? "not found" : "failed");
	free(key);
	return rc;
}

/* ---- the uploader ---- */

void norc_uploader_init(struct norc_uploader *u, const struct norc_config *cfg)
{
	*u = (struct norc_uploader){.cfg = cfg, .next_take_us = NEVER};
	norc_batch_init(&u->batch);
	gethostname(u->host, sizeof(u->host) - 1);
	if (!cfg->backup.plugin)
		return;
	u->tracking = true;
	char err[600];
	if (norc_backup_open(cfg, &u->backup, err, sizeof(err)) != NORC_OK)
		NORC_ERROR("%s; logs are kept for upload until a restart with a working backup",
			   err);
	else
		u->next_take_us = 0; /* what earlier daemons left due: at once */
	if (u->backup)
		NORC_INFO("Logs are backed up to %s%s.", norc_backup_name(u->backup),
			  cfg->backup.keep_local_days ? "; uploaded local copies are deleted after "
							"backup.keep_local_days" : "");
}

void norc_uploader_track_daemon(struct norc_uploader *u, struct norc_db *db, int64_t daemon_id,
				const char *rel_path)
{
	if (u->tracking && norc_upload_track_daemon(db, u->host, daemon_id, rel_path) != NORC_OK)
		NORC_WARN("cannot record this daemon's log for upload: %s", norc_db_errmsg(db));
}

/* An instance end was recorded here: take a batch soon, gathering the ends of the next
 * quarter second into it (one child per batch, not one per log). */
void norc_uploader_poke(struct norc_uploader *u)
{
	int64_t soon = norc_clock_mono_us() + GATHER_US;
	if (u->backup && soon < u->next_take_us)
		u->next_take_us = soon;
}

/* In the child: each file of the batch, reported through batch.h's lines. */
static void upload_child(void *ctx, int wfd)
{
	struct norc_uploader *u = ctx;
	for (size_t i = 0; i < u->nitems; i++) {
		const struct norc_upload_item *it = &u->items[i];
		char *abs = norc_xasprintf("%s/%s", u->cfg->log_dir, it->path);
		char *key = norc_backup_key(it->path);
		char err[200] = "";
		struct stat sb;
		int rc;
		norc_batch_report_start(wfd, it->id);
		if (stat(abs, &sb) != 0) {
			rc = errno == ENOENT ? NORC_ENOTFOUND : NORC_EIO; /* else: retried */
			snprintf(err, sizeof(err), "local file %s: %s", abs, strerror(errno));
		} else {
			rc = u->backup->ops->put(u->backup->h, abs, key, err, sizeof(err));
			if (rc == NORC_OK)
				err[0] = '\0';
			else if (rc == NORC_ENOTFOUND) /* not "gone": the store said not found */
				rc = NORC_EIO;
		}
		norc_batch_report(wfd, it->id, rc, err);
		free(abs);
		free(key);
	}
}

static void drop_items(struct norc_uploader *u)
{
	norc_upload_items_free(u->items, u->nitems);
	u->items = NULL;
	u->nitems = 0;
}

static void start_batch(struct norc_uploader *u, int64_t mono, int64_t timeout_us)
{
	if (norc_batch_start(&u->batch, upload_child, u, mono + timeout_us, "log upload") != NORC_OK)
		return;
	NORC_DEBUG("log upload: %zu file(s) to %s in process %d.", u->nitems,
		   norc_backup_name(u->backup), (int)u->batch.pid);
}

/* Take up to BATCH due uploads (only daemon_id's own log when it is not 0) and start their
 * child, bounded by timeout_us. true when one was started. */
static bool take_batch(struct norc_uploader *u, struct norc_db *db, int64_t mono,
		       int64_t daemon_id, int64_t timeout_us)
{
	int64_t lease = timeout_us + 30 * NORC_US_PER_SEC, now = norc_clock_now_us();
	int rc = norc_db_begin_write(db);
	if (rc == NORC_OK && daemon_id)
		rc = norc_upload_take_daemon(db, daemon_id, now, lease, &u->items, &u->nitems,
					     &u->lease);
	else if (rc == NORC_OK)
		rc = norc_upload_take(db, u->host, now, lease, BATCH, &u->items, &u->nitems,
				      &u->lease);
	rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
	if (rc != NORC_OK) {
		drop_items(u);
		NORC_WARN("log upload: cannot take due uploads: %s", norc_db_errmsg(db));
		return false;
	}
	if (u->nitems == 0)
		return false;
	start_batch(u, mono, timeout_us);
	if (u->batch.pid)
		return true;
	drop_items(u); /* no child: the lease runs out and the rows come back */
	return false;
}

static void retention(struct norc_uploader *u, struct norc_db *db)
{
	int64_t now = norc_clock_now_us();
	int64_t cutoff = now - (int64_t)u->cfg->backup.keep_local_days * 86400 * NORC_US_PER_SEC;
	struct norc_upload_item *items;
	size_t n;
	if (norc_upload_expired(db, u->host, cutoff, RETAIN_BATCH, &items, &n) != NORC_OK) {
		NORC_WARN("log retention: %s", norc_db_errmsg(db));
		return;
	}
	size_t removed = 0, failed = 0;
	char first[600] = "";
	bool tx = n && norc_db_begin_write(db) == NORC_OK;
	for (size_t i = 0; i < n; i++) {
		char *abs = norc_xasprintf("%s/%s", u->cfg->log_dir, items[i].path);
		if (unlink(abs) != 0 && errno != ENOENT) {
			if (!failed++)
				snprintf(first, sizeof(first), "%s: %s", abs, strerror(errno));
		} else if (norc_upload_removed(db, items[i].id, now) == NORC_OK) {
			removed++;
		}
		free(abs);
	}
	if (tx && norc_db_commit(db) != NORC_OK) {
		norc_db_rollback(db);
		removed = 0; /* deleted, but recorded at the next sweep (ENOENT counts as done) */
	}
	if (removed)
		NORC_INFO("Deleted %zu local log file(s) uploaded more than %d day(s) ago.", removed,
			  u->cfg->backup.keep_local_days);
	if (failed)
		NORC_WARN("log retention: %zu file(s) could not be deleted (first: %s); retrying "
			  "in a minute", failed, first);
	norc_upload_items_free(items, n);
	if (n == RETAIN_BATCH && !failed)
		u->next_retention_us = 0; /* more to do: next turn */
}

int64_t norc_uploader_tick(struct norc_uploader *u, struct norc_db *db, int64_t mono)
{
	if (!u->tracking)
		return NEVER;
	pid_t pid = u->batch.pid;
	if (norc_batch_overdue(&u->batch, mono))
		NORC_WARN("log upload: process %d ran past backup.timeout (%d s); killed it, its "
			  "files are retried", (int)pid, u->cfg->backup.timeout_s);
	if (mono >= u->next_close_us) {
		int n = 0;
		int64_t now = norc_clock_now_us();
		if (norc_upload_close_ended(db, u->host, now, now - daemon_grace_us(u), &n) !=
		    NORC_OK)
			NORC_WARN("log upload: cannot look for finished logs: %s",
				  norc_db_errmsg(db));
		if (n)
			norc_uploader_poke(u);
		u->next_close_us = mono + CLOSE_EVERY_US;
	}
	if (u->backup && !u->batch.pid && mono >= u->next_take_us)
		u->next_take_us = take_batch(u, db, mono, 0, timeout_us(u))
					  ? NEVER : mono + TAKE_EVERY_US;
	if (u->cfg->backup.keep_local_days && mono >= u->next_retention_us) {
		u->next_retention_us = mono + RETAIN_EVERY_US;
		retention(u, db);
	}
	int64_t t = u->next_close_us;
	if (u->backup && !u->batch.pid && u->next_take_us < t)
		t = u->next_take_us;
	if (u->cfg->backup.keep_local_days && u->next_retention_us < t)
		t = u->next_retention_us;
	if (u->batch.pid && !u->batch.killed && u->batch.deadline_us < t)
		t = u->batch.deadline_us;
	return t;
}

/* Record one result (the lease guards it); 1 when it counts as uploaded, 0 otherwise. */
static int record(struct norc_db *db, const struct norc_upload_item *it, int64_t lease,
		  const struct norc_batch_result *r, int64_t now, int *drc)
{
	if (!r->started)
		*drc = norc_upload_release(db, it->id, lease, now);
	else if (r->rc == NORC_OK)
		*drc = norc_upload_done(db, it->id, lease, now);
	else
		*drc = norc_upload_failed(db, it, lease, r->rc == NORC_ENOTFOUND, r->msg, now);
	return r->started && r->rc == NORC_OK;
}

/* The batch's child ended with wstatus: record its results. */
static void collect(struct norc_uploader *u, struct norc_db *db, int wstatus)
{
	int64_t ids[BATCH];
	struct norc_batch_result res[BATCH];
	for (size_t i = 0; i < u->nitems; i++)
		ids[i] = u->items[i].id;
	norc_batch_collect(&u->batch, wstatus, ids, u->nitems, res, "backup.timeout");
	int64_t now = norc_clock_now_us();
	int ok = 0, bad = 0, gone = 0, first_bad = -1;
	for (size_t i = 0; i < u->nitems; i++)
		if (res[i].started && res[i].rc != NORC_OK) {
			gone += res[i].rc == NORC_ENOTFOUND;
			bad += res[i].rc != NORC_ENOTFOUND;
			if (first_bad < 0)
				first_bad = (int)i;
		}
	/* one transaction; if the database refuses it, row by row, so that one bad row does
	 * not void the others (a row not recorded comes back when its lease runs out) */
	int rc = norc_db_begin_write(db), drc = NORC_OK;
	for (size_t i = 0; i < u->nitems && rc == NORC_OK && drc == NORC_OK; i++)
		ok += record(db, &u->items[i], u->lease, &res[i], now, &drc);
	if (rc == NORC_OK && drc == NORC_OK)
		rc = norc_db_commit(db);
	if (rc != NORC_OK || drc != NORC_OK) {
		norc_db_rollback(db);
		ok = 0;
		int lost = 0;
		for (size_t i = 0; i < u->nitems; i++) {
			ok += record(db, &u->items[i], u->lease, &res[i], now, &drc);
			lost += drc != NORC_OK;
		}
		if (lost)
			NORC_WARN("log upload: cannot record %d result(s): %s; those files are "
				  "uploaded again after their lease", lost, norc_db_errmsg(db));
	}
	u->uploaded += ok;
	u->failed += bad;
	if (ok)
		NORC_DEBUG("log upload: %d file(s) uploaded to %s.", ok, norc_backup_name(u->backup));
	if (first_bad >= 0)
		NORC_WARN("log upload: %d of %zu file(s) failed%s (%s: %s)%s.", bad + gone,
			  u->nitems, gone ? ", some are gone from this host" : "",
			  u->items[first_bad].path, res[first_bad].msg,
			  bad ? "; retrying with backoff" : "");
	drop_items(u);
	u->next_take_us = 0; /* more may be due (failed ones wait for their backoff) */
}

bool norc_uploader_reaped(struct norc_uploader *u, struct norc_db *db, pid_t pid, int wstatus)
{
	if (!u->batch.pid || pid != u->batch.pid)
		return false;
	collect(u, db, wstatus);
	return true;
}

/* Wait for the upload child (batch.h: its deadline, then a kill and 5 s more) and record
 * its results; a child given up on leaves its rows to come back when their lease runs out. */
static void wait_child(struct norc_uploader *u, struct norc_db *db)
{
	int st;
	if (!u->batch.pid)
		return;
	if (norc_batch_wait(&u->batch, &st))
		collect(u, db, st);
	else
		drop_items(u);
}

void norc_uploader_finish(struct norc_uploader *u, struct norc_db *db, int64_t daemon_id)
{
	if (!u->tracking)
		return;
	/* a batch under way gets a few more seconds, then its files are someone else's */
	int64_t cap = norc_clock_mono_us() + SHUTDOWN_WAIT_US;
	if (u->batch.pid && u->batch.deadline_us > cap)
		u->batch.deadline_us = cap;
	wait_child(u, db);
	if (norc_upload_daemon_due(db, daemon_id, norc_clock_now_us()) != NORC_OK)
		NORC_WARN("log upload: %s", norc_db_errmsg(db));
	if (u->backup) {
		/* this daemon's own log, bounded; the rest is left to the other daemons here */
		int64_t t = timeout_us(u) < SHUTDOWN_UPLOAD_US ? timeout_us(u) : SHUTDOWN_UPLOAD_US;
		NORC_INFO("Backing up this daemon's log to %s...", norc_backup_name(u->backup));
		fflush(NULL);
		if (take_batch(u, db, norc_clock_mono_us(), daemon_id, t))
			wait_child(u, db);
		NORC_INFO("Log backup: %" PRId64 " file(s) uploaded by this daemon%s.", u->uploaded,
			  u->failed ? "; some failed (retried by the next daemon on this host)" : "");
	}
	norc_backup_close(u->backup);
	u->backup = NULL;
}
