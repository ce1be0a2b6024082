/*
 * logread.c - see logread.h.
 */
#include "logread.h"
#include "mem.h"
#include "status.h"
#include "upload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kinds[] = {"instance", "node", "executor", "scheduler"};

const char *norc_logread_kind_name(enum norc_logread_kind kind)
{
	return (unsigned)kind < 4 ? kinds[kind] : "?";
}

int norc_logread_parse_kind(const char *s, enum norc_logread_kind *kind)
{
	size_t n = strlen(s);
	int found = -1;
	for (int i = 0; n && i < 4; i++)
		if (strncasecmp(s, kinds[i], n) == 0)
			found = found < 0 ? i : -2;
	if (found < 0)
		return -1;
	*kind = (enum norc_logread_kind)found;
	return 0;
}

static bool is_instance(const struct norc_logread *t)
{
	return t->kind == NORC_LOG_INSTANCE || t->kind == NORC_LOG_NODE;
}

int norc_logread_find(struct norc_db *db, enum norc_logread_kind kind, int64_t id,
		      struct norc_logread *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->id = id;
	struct norc_stmt *st;
	int rc;
	if (is_instance(t)) {
		rc = norc_db_query_row(db,
				       "SELECT COALESCE(i.log_path, ''), i.ended, i.status, "
				       "i.job_instance_id, COALESCE(d.host, '') FROM instances i LEFT "
				       "JOIN daemons d ON d.id = i.executor_id WHERE i.id = ?", id, &st);
		if (rc == NORC_ENOTFOUND) {
			snprintf(err, errlen, "no instance #%" PRId64 " (`norc instance list` shows "
				 "them)", id);
			return rc;
		}
		if (rc != NORC_OK)
			goto dberr;
		t->path = norc_xstrdup(norc_stmt_column_text(st, 0));
		t->ended = !norc_stmt_column_is_null(st, 1);
		t->status = (int)norc_stmt_column_int64(st, 2);
		bool node = !norc_stmt_column_is_null(st, 3);
		t->host = norc_xstrdup(norc_stmt_column_text(st, 4));
		norc_stmt_finalize(st);
		if (kind == NORC_LOG_NODE && !node) {
			snprintf(err, errlen, "instance #%" PRId64 " is not a node of a job; ask for "
				 "instance %" PRId64 " instead", id, id);
			norc_logread_free(t);
			return NORC_ENOTFOUND;
		}
		return NORC_OK;
	}
	const char *k = kinds[kind];
	rc = norc_db_query_row(db, kind == NORC_LOG_EXECUTOR
				       ? "SELECT host, ended, status FROM daemons WHERE id = ? AND "
					 "kind = 'executor'"
				       : "SELECT host, ended, status FROM daemons WHERE id = ? AND "
					 "kind = 'scheduler'", id, &st);
	if (rc == NORC_ENOTFOUND) {
		snprintf(err, errlen, "no %s #%" PRId64 " (`norc_reporter -%c -t all` shows them)",
			 k, id, kind == NORC_LOG_EXECUTOR ? 'e' : 's');
		return rc;
	}
	if (rc != NORC_OK)
		goto dberr;
	t->host = norc_xstrdup(norc_stmt_column_text(st, 0));
	t->ended = !norc_stmt_column_is_null(st, 1);
	t->status = (int)norc_stmt_column_int64(st, 2);
	norc_stmt_finalize(st);
	t->path = norc_xasprintf("%ss/%s-%" PRId64, k, k, id);
	return NORC_OK;
dberr:
	snprintf(err, errlen, "database: %s", norc_db_errmsg(db));
	return rc;
}

void norc_logread_free(struct norc_logread *t)
{
	free(t->path);
	free(t->host);
	t->path = t->host = NULL;
}

int norc_logread_ended(struct norc_db *db, const struct norc_logread *t)
{
	int64_t v = 0;
	int rc = norc_db_query_int64(db, is_instance(t)
					 ? "SELECT COUNT(*) FROM instances WHERE id = ? AND ended IS "
					   "NOT NULL"
					 : "SELECT COUNT(*) FROM daemons WHERE id = ? AND ended IS "
					   "NOT NULL", &v, 1, t->id);
	return rc != NORC_OK ? -1 : v > 0;
}

void norc_logread_explain(struct norc_db *db, const struct norc_logread *t, const char *store,
			  const char *log_dir, const char *prog, char *err, size_t errlen)
{
	const char *k = kinds[t->kind];
	const char *host = t->host && t->host[0] ? t->host : "the host that ran it";
	bool inst = is_instance(t);
	if (!store) {
		if (inst && t->status == NORC_ST_CREATED)
			snprintf(err, errlen, "instance #%" PRId64 " has not started yet (status "
				 "CREATED): it has no log", t->id);
		else
			snprintf(err, errlen, "%s #%" PRId64 ": its log %s is not in this host's "
				 "log_dir (%s)%s%s, and no backup is configured (config group "
				 "`backup`)", k, t->id, t->path, log_dir,
				 t->host && t->host[0] ? "; it ran on " : "", t->host ? t->host : "");
		return;
	}
	struct norc_upload_info ui;
	if (norc_upload_info(db, inst ? t->id : 0, inst ? 0 : t->id, &ui) != NORC_OK)
		ui.state = -1;
	if (ui.state == NORC_UPLOAD_OPEN)
		snprintf(err, errlen, "%s #%" PRId64 ": its log is still being written on %s "
			 "(uploaded to %s when it ends); run %s there", k, t->id, ui.host, store,
			 prog);
	else if (ui.state == NORC_UPLOAD_DUE)
		snprintf(err, errlen, "%s #%" PRId64 ": its log waits on %s for its upload to %s "
			 "(%d attempt(s)%s%s); run %s there, or again later", k, t->id, ui.host,
			 store, ui.attempts, ui.last_error ? ", last error: " : "",
			 ui.last_error ? ui.last_error : "", prog);
	else if (ui.state == NORC_UPLOAD_GONE)
		snprintf(err, errlen, "%s #%" PRId64 ": its log was deleted from %s before it could "
			 "be uploaded (%s)", k, t->id, ui.host, ui.last_error ? ui.last_error : "");
	else if (ui.state < 0 && inst && t->status == NORC_ST_CREATED)
		snprintf(err, errlen, "instance #%" PRId64 " has not started yet (status CREATED): "
			 "it has no log", t->id);
	else
		snprintf(err, errlen, "%s #%" PRId64 ": its log %s is neither in this host's "
			 "log_dir nor in %s; look on %s", k, t->id, t->path, store, host);
	norc_upload_info_free(&ui);
}
