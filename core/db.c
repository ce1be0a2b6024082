/*
 * db.c - the generic half of norc_db: argument checks, transaction state and dispatch to the
 * backend vtables in db_sqlite.c and db_mariadb.c. No SQL dialect lives here.
 */
#include "db_backend.h"
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int norc_db_set_error(struct norc_db *db, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
	va_end(ap);
	return rc;
}

int norc_db_open(const struct norc_db_config *cfg, struct norc_db **out, char *err,
		 size_t errlen)
{
	*out = NULL;
	const struct norc_db_ops *ops;
	switch (cfg->backend) {
	case NORC_DB_SQLITE: ops = &norc_db_sqlite_ops; break;
	case NORC_DB_MARIADB: ops = &norc_db_mariadb_ops; break;
	default:
		return norc_err_set(err, errlen, NORC_EINVAL, "database: unknown backend %d",
				    (int)cfg->backend);
	}
	struct norc_db *db = norc_xcalloc(1, sizeof(*db));
	db->ops = ops;
	db->backend = cfg->backend;
	int rc = ops->open(db, cfg, err, errlen);
	if (rc != NORC_OK) {
		free(db);
		return rc;
	}
	*out = db;
	return NORC_OK;
}

static void stmt_free(struct norc_stmt *st)
{
	st->db->ops->finalize(st);
	free(st->sql);
	free(st);
}

void norc_db_close(struct norc_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < NORC_DB_STMT_CACHE; i++)
		if (db->cache[i])
			stmt_free(db->cache[i]); /* a busy one would be the caller's leak anyway */
	if (db->in_tx)
		db->ops->rollback(db);
	db->ops->close(db);
	free(db);
}

enum norc_db_backend norc_db_backend(const struct norc_db *db) { return db->backend; }
const char *norc_db_backend_name(const struct norc_db *db) { return db->ops->name; }
const char *norc_db_clause(struct norc_db *db, enum norc_sql_clause c) { return db->ops->clause(c); }
const char *norc_db_ddl(struct norc_db *db, enum norc_db_ddl_token t) { return db->ops->ddl(t); }
int norc_db_exec(struct norc_db *db, const char *sql) { return db->ops->exec(db, sql); }
int norc_db_maintain(struct norc_db *db, enum norc_db_maint what)
{
	return db->ops->maintain ? db->ops->maintain(db, what) : NORC_OK;
}
bool norc_db_in_tx(const struct norc_db *db) { return db->in_tx; }
int64_t norc_db_last_insert_id(struct norc_db *db) { return db->ops->last_insert_id(db); }
const char *norc_db_errmsg(struct norc_db *db) { return db->errmsg; }

static int begin(struct norc_db *db, bool write)
{
	if (db->in_tx)
		return norc_db_set_error(db, NORC_EINVAL, "transaction already open (not nestable)");
	int rc = db->ops->begin(db, write);
	if (rc == NORC_OK)
		db->in_tx = true;
	return rc;
}

int norc_db_begin(struct norc_db *db) { return begin(db, false); }
int norc_db_begin_write(struct norc_db *db) { return begin(db, true); }

int norc_db_commit(struct norc_db *db)
{
	if (!db->in_tx)
		return norc_db_set_error(db, NORC_EINVAL, "commit without a transaction");
	int rc = db->ops->commit(db);
	if (rc != NORC_OK)
		db->ops->rollback(db);
	db->in_tx = false;
	return rc;
}

int norc_db_rollback(struct norc_db *db)
{
	if (!db->in_tx)
		return NORC_OK;
	db->in_tx = false;
	return db->ops->rollback(db);
}

static uint64_t sql_hash(const char *sql)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/* Statement cache: the daemons run the same few statements all the time, and preparing
 * costs more than running them (a server round trip on MariaDB). A finalized statement is
 * reset and kept (least recently used ones go); preparing the same SQL again takes it back.
 * MariaDB re-prepares a statement of an older connection by itself (db_mariadb.c). */
static struct norc_stmt *cache_take(struct norc_db *db, const char *sql, uint64_t h)
{
	for (int i = 0; i < NORC_DB_STMT_CACHE; i++) {
		struct norc_stmt *st = db->cache[i];
		if (st && !st->busy && st->hash == h && strcmp(st->sql, sql) == 0) {
			st->busy = true;
			st->done = false;
			st->used = ++db->uses;
			return st;
		}
	}
	return NULL;
}

static void cache_put(struct norc_db *db, struct norc_stmt *st)
{
	int slot = -1;
	for (int i = 0; i < NORC_DB_STMT_CACHE && slot < 0; i++)
		if (!db->cache[i])
			slot = i;
	for (int i = 0; i < NORC_DB_STMT_CACHE && slot < 0; i++) /* evict the least recent */
		if (!db->cache[i]->busy &&
		    (slot < 0 || db->cache[i]->used < db->cache[slot]->used))
			slot = i;
	if (slot < 0) {
		stmt_free(st);
		return;
	}
	if (db->cache[slot])
		stmt_free(db->cache[slot]);
	st->cached = true;
	st->busy = false;
	db->cache[slot] = st;
}

int norc_db_prepare(struct norc_db *db, const char *sql, struct norc_stmt **out)
{
	uint64_t h = sql_hash(sql);
	struct norc_stmt *cached = cache_take(db, sql, h);
	if (cached) {
		*out = cached;
		return NORC_OK;
	}
	struct norc_stmt *st = norc_xcalloc(1, sizeof(*st));
	st->db = db;
	st->hash = h;
	st->busy = true;
	st->used = ++db->uses;
	st->sql = norc_xstrdup(sql);
	int rc = db->ops->prepare(st);
	if (rc != NORC_OK) {
		free(st->sql);
		free(st);
		*out = NULL;
		return rc;
	}
	*out = st;
	return NORC_OK;
}

int norc_stmt_bind_int64(struct norc_stmt *st, int idx, int64_t v)
{
	return st->db->ops->bind_int64(st, idx, v);
}

int norc_stmt_bind_text(struct norc_stmt *st, int idx, const char *v)
{
	if (!v)
		return st->db->ops->bind_null(st, idx);
	return st->db->ops->bind_text(st, idx, v);
}

int norc_stmt_bind_null(struct norc_stmt *st, int idx) { return st->db->ops->bind_null(st, idx); }
int norc_stmt_step(struct norc_stmt *st, bool *row)
{
	/* Same on every backend: after the last row, no more rows (SQLite would silently run
	 * the statement again) until norc_stmt_reset. */
	*row = false;
	if (st->done)
		return NORC_OK;
	int rc = st->db->ops->step(st, row);
	if (rc != NORC_OK || !*row)
		st->done = true;
	return rc;
}

int norc_stmt_reset(struct norc_stmt *st)
{
	st->done = false;
	return st->db->ops->reset(st);
}
int norc_stmt_column_count(struct norc_stmt *st) { return st->db->ops->column_count(st); }

bool norc_stmt_column_is_null(struct norc_stmt *st, int col)
{
	return st->db->ops->column_is_null(st, col);
}

int64_t norc_stmt_column_int64(struct norc_stmt *st, int col)
{
	return st->db->ops->column_int64(st, col);
}

const char *norc_stmt_column_text(struct norc_stmt *st, int col)
{
	return st->db->ops->column_text(st, col);
}

int64_t norc_stmt_changes(struct norc_stmt *st) { return st->db->ops->changes(st); }

void norc_stmt_finalize(struct norc_stmt *st)
{
	if (!st)
		return;
	/* reset (which also ends SQLite's read of it) and keep it for the next caller */
	if (st->db->ops->reset(st) != NORC_OK) {
		if (st->cached) { /* drop it from the cache */
			for (int i = 0; i < NORC_DB_STMT_CACHE; i++)
				if (st->db->cache[i] == st)
					st->db->cache[i] = NULL;
		}
		stmt_free(st);
		return;
	}
	st->done = false;
	if (st->cached)
		st->busy = false;
	else if (strlen(st->sql) <= 1024) /* long SQL is built on the fly (IN lists): not kept */
		cache_put(st->db, st);
	else
		stmt_free(st);
}

int norc_db_query_int64(struct norc_db *db, const char *sql, int64_t *out, int nargs, ...)
{
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, sql, &st);
	if (rc != NORC_OK)
		return rc;
	va_list ap;
	va_start(ap, nargs);
	for (int i = 0; i < nargs && rc == NORC_OK; i++)
		rc = norc_stmt_bind_int64(st, i + 1, va_arg(ap, int64_t));
	va_end(ap);
	bool row = false;
	if (rc == NORC_OK)
		rc = norc_stmt_step(st, &row);
	if (rc == NORC_OK && !row)
		rc = NORC_ENOTFOUND;
	if (rc == NORC_OK)
		*out = norc_stmt_column_int64(st, 0);
	norc_stmt_finalize(st);
	return rc;
}

int norc_db_query_row(struct norc_db *db, const char *sql, int64_t id, struct norc_stmt **out)
{
	struct norc_stmt *st;
	*out = NULL;
	int rc = norc_db_prepare(db, sql, &st);
	if (rc != NORC_OK)
		return rc;
	bool row = false;
	rc = norc_stmt_bind_int64(st, 1, id);
	if (rc == NORC_OK)
		rc = norc_stmt_step(st, &row);
	if (rc == NORC_OK && !row)
		rc = NORC_ENOTFOUND;
	if (rc != NORC_OK) {
		norc_stmt_finalize(st);
		return rc;
	}
	*out = st;
	return NORC_OK;
}
