/*
 * upload.c - see upload.h. The states of log files on their way to the backup store.
 */
#include "upload.h"
#include "clock.h"
#include "mem.h"
#include "model.h"
#include "status.h"

#include <inttypes.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

const char *norc_upload_state_name(int state)
{
	switch (state) {
	case NORC_UPLOAD_OPEN: return "open";
	case NORC_UPLOAD_DUE: return "due";
	case NORC_UPLOAD_DONE: return "uploaded";
	case NORC_UPLOAD_REMOVED: return "uploaded, local copy removed";
	case NORC_UPLOAD_GONE: return "gone";
	}
	return "none";
}

int norc_upload_track_instance(struct norc_db *db, const char *host, int64_t instance_id)
{
	struct norc_arg a[] = {NORC_AS(host), NORC_AI(norc_clock_now_us()), NORC_AI(instance_id)};
	return norc_model_exec(db,
			       "INSERT INTO log_uploads (host, path, instance_id, state, added) "
			       "SELECT ?, log_path, id, 0, ? FROM instances WHERE id = ? AND "
			       "log_path IS NOT NULL", a, 3, NULL);
}

int norc_upload_track_daemon(struct norc_db *db, const char *host, int64_t daemon_id,
			     const char *path)
{
	struct norc_arg a[] = {NORC_AS(host), NORC_AS(path), NORC_AI(daemon_id),
			       NORC_AI(norc_clock_now_us())};
	return norc_model_exec(db,
			       "INSERT INTO log_uploads (host, path, daemon_id, state, added) "
			       "VALUES (?, ?, ?, 0, ?)", a, 4, NULL);
}

int norc_upload_daemon_due(struct norc_db *db, int64_t daemon_id, int64_t now_us)
{
	struct norc_arg a[] = {NORC_AI(NORC_UPLOAD_DUE), NORC_AI(now_us), NORC_AI(daemon_id),
			       NORC_AI(NORC_UPLOAD_OPEN)};
	return norc_model_exec(db,
			       "UPDATE log_uploads SET state = ?, state_at = ? WHERE daemon_id = ? "
			       "AND state = ?", a, 4, NULL);
}

/* ids of the rows selected by sql (bound: host, then one int), at most limit. */
static int select_ids(struct norc_db *db, const char *sql, const char *host, int64_t arg,
		      int limit, int64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, sql, &st);
	if (rc != NORC_OK)
		return rc;
	norc_stmt_bind_text(st, 1, host);
	norc_stmt_bind_int64(st, 2, arg);
	norc_stmt_bind_int64(st, 3, limit);
	bool row;
	while ((rc = norc_stmt_step(st, &row)) == NORC_OK && row) {
		*ids = norc_xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = norc_stmt_column_int64(st, 0);
	}
	norc_stmt_finalize(st);
	if (rc != NORC_OK) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

int norc_upload_instance_due(struct norc_db *db, int64_t instance_id, int64_t now_us)
{
	struct norc_arg a[] = {NORC_AI(NORC_UPLOAD_DUE), NORC_AI(now_us), NORC_AI(instance_id),
			       NORC_AI(NORC_UPLOAD_OPEN)};
	return norc_model_exec(db, "UPDATE log_uploads SET state = ?, state_at = ? WHERE "
			       "instance_id = ? AND state = ?", a, 4, NULL);
}

int norc_upload_close_ended(struct norc_db *db, const char *host, int64_t now_us,
			    int64_t daemon_cutoff_us, int *n)
{
	if (n)
		*n = 0;
	int64_t *ids;
	size_t k;
	char sql[400];
	snprintf(sql, sizeof(sql),
		 "SELECT u.id FROM log_uploads u LEFT JOIN instances i ON i.id = u.instance_id "
		 "LEFT JOIN daemons d ON d.id = u.daemon_id WHERE u.host = ? AND u.state = ? AND "
		 "(i.ended IS NOT NULL OR d.status = %d OR d.ended < %" PRId64 ") LIMIT ?",
		 NORC_ST_ERROR, daemon_cutoff_us);
	int rc = select_ids(db, sql, host, NORC_UPLOAD_OPEN, 1000, &ids, &k);
	if (rc != NORC_OK || k == 0)
		return rc;
	bool tx = !norc_db_in_tx(db);
	if (tx && (rc = norc_db_begin_write(db)) != NORC_OK) {
		free(ids);
		return rc;
	}
	for (size_t i = 0; i < k && rc == NORC_OK; i++) {
		struct norc_arg a[] = {NORC_AI(NORC_UPLOAD_DUE), NORC_AI(now_us), NORC_AI(ids[i]),
				       NORC_AI(NORC_UPLOAD_OPEN)};
		rc = norc_model_exec(db, "UPDATE log_uploads SET state = ?, state_at = ? WHERE id "
				     "= ? AND state = ?", a, 4, NULL);
	}
	if (tx)
		rc = rc == NORC_OK ? norc_db_commit(db) : (norc_db_rollback(db), rc);
	free(ids);
	if (rc == NORC_OK && n)
		*n = (int)k;
	return rc;
}

/* Rows of host in state with state_at < before (ordered by it), up to limit, as items. */
static int items_in_state(struct norc_db *db, const char *host, int state, int64_t before,
			  int limit, struct norc_upload_item **items, size_t *n)
{
	*items = NULL;
	*n = 0;
	struct norc_stmt *st;
	int rc = norc_db_prepare(db,
				 "SELECT id, path, attempts, state_at FROM log_uploads WHERE host = ? "
				 "AND state = ? AND state_at < ? ORDER BY state_at LIMIT ?", &st);
	if (rc != NORC_OK)
		return rc;
	norc_stmt_bind_text(st, 1, host);
	norc_stmt_bind_int64(st, 2, state);
	norc_stmt_bind_int64(st, 3, before);
	norc_stmt_bind_int64(st, 4, limit);
	bool row;
	while ((rc = norc_stmt_step(st, &row)) == NORC_OK && row) {
		*items = norc_xrealloc(*items, (*n + 1) * sizeof(**items));
		(*items)[(*n)++] = (struct norc_upload_item){
			norc_stmt_column_int64(st, 0), norc_xstrdup(norc_stmt_column_text(st, 1)),
			(int)norc_stmt_column_int64(st, 2)};
	}
	norc_stmt_finalize(st);
	if (rc != NORC_OK) {
		norc_upload_items_free(*items, *n);
		*items = NULL;
		*n = 0;
	}
	return rc;
}

/* Lease the rows in *items (state DUE, state_at <= now_us); keep those this call got. */
static int lease_items(struct norc_db *db, int64_t now_us, int64_t lease,
		       struct norc_upload_item **items, size_t *n)
{
	int rc = NORC_OK;
	size_t keep = 0, i = 0;
	for (; i < *n && rc == NORC_OK; i++) {
		struct norc_upload_item *it = &(*items)[i];
		int64_t changed = 0;
		struct norc_arg a[] = {NORC_AI(lease), NORC_AI(it->id), NORC_AI(NORC_UPLOAD_DUE),
				       NORC_AI(now_us)};
		rc = norc_model_exec(db, "UPDATE log_uploads SET state_at = ? WHERE id = ? AND "
				     "state = ? AND state_at <= ?", a, 4, &changed);
		if (rc == NORC_OK && changed == 1)
			(*items)[keep++] = *it;
		else
			free(it->path);
	}
	for (; i < *n; i++) /* not looked at (an error): not taken */
		free((*items)[i].path);
	if (rc != NORC_OK) {
		norc_upload_items_free(*items, keep);
		*items = NULL;
		*n = 0;
		return rc;
	}
	*n = keep;
	return NORC_OK;
}

int norc_upload_take(struct norc_db *db, const char *host, int64_t now_us, int64_t lease_us,
		     int limit, struct norc_upload_item **items, size_t *n, int64_t *lease)
{
	/* the lease value is also the batch's token: now in microseconds plus the lease time
	 * is distinct per daemon in practice; a collision only lets two batches record each
	 * other's results, both of which are true */
	*lease = now_us + lease_us;
	int rc = items_in_state(db, host, NORC_UPLOAD_DUE, now_us + 1, limit, items, n);
	if (rc != NORC_OK || *n == 0)
		return rc;
	return lease_items(db, now_us, *lease, items, n);
}

int norc_upload_take_daemon(struct norc_db *db, int64_t daemon_id, int64_t now_us,
			    int64_t lease_us, struct norc_upload_item **items, size_t *n,
			    int64_t *lease)
{
	*lease = now_us + lease_us;
	*items = NULL;
	*n = 0;
	struct norc_stmt *st;
	int rc = norc_db_query_row(db, "SELECT id, path, attempts FROM log_uploads WHERE "
				   "daemon_id = ? AND state = 1", daemon_id, &st);
	if (rc == NORC_ENOTFOUND)
		return NORC_OK;
	if (rc != NORC_OK)
		return rc;
	*items = norc_xcalloc(1, sizeof(**items));
	**items = (struct norc_upload_item){norc_stmt_column_int64(st, 0),
					    norc_xstrdup(norc_stmt_column_text(st, 1)),
					    (int)norc_stmt_column_int64(st, 2)};
	*n = 1;
	norc_stmt_finalize(st);
	return lease_items(db, now_us, *lease, items, n);
}

void norc_upload_items_free(struct norc_upload_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i].path);
	free(items);
}

int64_t norc_upload_backoff(int attempts)
{
	int64_t d = 5 * NORC_US_PER_SEC;
	for (int i = 1; i < attempts && d < 600 * NORC_US_PER_SEC; i++)
		d *= 2;
	return d < 600 * NORC_US_PER_SEC ? d : 600 * NORC_US_PER_SEC;
}

int norc_upload_done(struct norc_db *db, int64_t id, int64_t lease, int64_t now_us)
{
	struct norc_arg a[] = {NORC_AI(NORC_UPLOAD_DONE), NORC_AI(now_us), NORC_AI(id),
			       NORC_AI(NORC_UPLOAD_DUE), NORC_AI(lease)};
	return norc_model_exec(db, "UPDATE log_uploads SET state = ?, state_at = ?, last_error = "
			       "NULL WHERE id = ? AND state = ? AND state_at = ?", a, 5, NULL);
}

/* Copy s into out[len], cut so that no UTF-8 sequence is left incomplete (a strict MariaDB
 * refuses those). */
static void utf8_cut(char *out, size_t len, const char *s)
{
	snprintf(out, len, "%s", s);
	size_t n = strlen(out), i = n;
	while (i > 0 && ((unsigned char)out[i - 1] & 0xC0) == 0x80)
		i--; /* back over continuation bytes to the lead byte */
	if (i > 0 && ((unsigned char)out[i - 1] & 0x80)) {
		unsigned char lead = (unsigned char)out[i - 1];
		size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
		if (n - (i - 1) < need)
			out[i - 1] = '\0';
	}
}

int norc_upload_failed(struct norc_db *db, const struct norc_upload_item *it, int64_t lease,
		       bool gone, const char *err, int64_t now_us)
{
	char cut[256];
	utf8_cut(cut, sizeof(cut), err ? err : "failed");
	struct norc_arg a[] = {NORC_AI(gone ? NORC_UPLOAD_GONE : NORC_UPLOAD_DUE),
			       NORC_AI(gone ? now_us : now_us + norc_upload_backoff(it->attempts + 1)),
			       NORC_AS(cut), NORC_AI(it->id), NORC_AI(NORC_UPLOAD_DUE), NORC_AI(lease)};
	return norc_model_exec(db, "UPDATE log_uploads SET state = ?, state_at = ?, last_error = "
			       "?, attempts = attempts + 1 WHERE id = ? AND state = ? AND state_at "
			       "= ?", a, 6, NULL);
}

int norc_upload_release(struct norc_db *db, int64_t id, int64_t lease, int64_t now_us)
{
	struct norc_arg a[] = {NORC_AI(now_us), NORC_AI(id), NORC_AI(NORC_UPLOAD_DUE),
			       NORC_AI(lease)};
	return norc_model_exec(db, "UPDATE log_uploads SET state_at = ? WHERE id = ? AND state = "
			       "? AND state_at = ?", a, 4, NULL);
}

int norc_upload_expired(struct norc_db *db, const char *host, int64_t cutoff_us, int limit,
			struct norc_upload_item **items, size_t *n)
{
	return items_in_state(db, host, NORC_UPLOAD_DONE, cutoff_us, limit, items, n);
}

int norc_upload_removed(struct norc_db *db, int64_t id, int64_t now_us)
{
	struct norc_arg a[] = {NORC_AI(NORC_UPLOAD_REMOVED), NORC_AI(now_us), NORC_AI(id)};
	return norc_model_exec(db, "UPDATE log_uploads SET state = ?, state_at = ? WHERE id = ?",
			       a, 3, NULL);
}

int norc_upload_info(struct norc_db *db, int64_t instance_id, int64_t daemon_id,
		     struct norc_upload_info *out)
{
	memset(out, 0, sizeof(*out));
	out->state = -1;
	struct norc_stmt *st;
	int rc = norc_db_query_row(db, instance_id
			       ? "SELECT state, attempts, state_at, host, last_error FROM "
				 "log_uploads WHERE instance_id = ? ORDER BY id DESC LIMIT 1"
			       : "SELECT state, attempts, state_at, host, last_error FROM "
				 "log_uploads WHERE daemon_id = ? ORDER BY id DESC LIMIT 1",
			       instance_id ? instance_id : daemon_id, &st);
	if (rc == NORC_ENOTFOUND)
		return NORC_OK;
	if (rc != NORC_OK)
		return rc;
	out->state = (int)norc_stmt_column_int64(st, 0);
	out->attempts = (int)norc_stmt_column_int64(st, 1);
	out->state_at = norc_stmt_column_int64(st, 2);
	out->host = norc_xstrdup(norc_stmt_column_text(st, 3));
	const char *e = norc_stmt_column_text(st, 4);
	out->last_error = e ? norc_xstrdup(e) : NULL;
	norc_stmt_finalize(st);
	return NORC_OK;
}

void norc_upload_info_free(struct norc_upload_info *info)
{
	free(info->host);
	free(info->last_error);
	info->host = info->last_error = NULL;
}
