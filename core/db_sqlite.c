/*
 * db_sqlite.c - the SQLite backend of norc_db (the embedded, zero-setup default).
 *
 * One file, WAL journal, synchronous=NORMAL (durable across process crashes; an OS crash may
 * lose the last transactions, never corrupt), foreign keys on, busy_timeout so that the
 * scheduler, executors and CLIs of one host can share the file. Write transactions use
 * BEGIN IMMEDIATE so that they take the lock up front instead of failing at first write.
 */
#include "db_backend.h"
#include "mem.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sqlite3 *handle(struct norc_db *db) { return db->impl; }
static sqlite3_stmt *native(struct norc_stmt *st) { return st->impl; }


static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return NORC_OK;
	case SQLITE_BUSY: case SQLITE_LOCKED: return NORC_EBUSY;
	case SQLITE_CONSTRAINT:
		return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			       ? NORC_EEXIST : NORC_EDB;
	case SQLITE_NOMEM: return NORC_ENOMEM;
	case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_CANTOPEN: return NORC_EIO;
	default: return NORC_EDB;
	}
}

static int fail(struct norc_db *db, int rc)
{
	return norc_db_set_error(db, map_rc(rc), "sqlite: %s", sqlite3_errmsg(handle(db)));
}

static int sq_exec(struct norc_db *db, const char *sql)
{
	int rc = sqlite3_exec(handle(db), sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? NORC_OK : fail(db, sqlite3_extended_errcode(handle(db)));
}

static int sq_open(struct norc_db *db, const struct norc_db_config *cfg, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	if (!cfg->path || !*cfg->path)
		return norc_err_set(err, errlen, NORC_ECONFIG,
				    "database: sqlite needs a path; set database.path in the config");
	if (!cfg->create && access(cfg->path, F_OK) != 0 && errno == ENOENT)
		return norc_err_set(err, errlen, NORC_ENOTFOUND,
				    "database: sqlite file %s does not exist; run `norc init` to "
				    "create it (or fix database.path)", cfg->path);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (cfg->create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(cfg->path, &h, flags, NULL);
	if (rc != SQLITE_OK) {
		norc_err_set(err, errlen, NORC_EIO,
			     "database: cannot open sqlite file %s: %s; check that its folder exists "
			     "and is writable",
			     cfg->path, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return NORC_EIO;
	}
	db->impl = h;
	sqlite3_busy_timeout(h, cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms : 5000);
	sqlite3_extended_result_codes(h, 1);
	static const char *const pragmas[] = {
		"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
	};
	for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
		if (sq_exec(db, pragmas[i]) != NORC_OK) {
			norc_err_set(err, errlen, NORC_EIO, "database: %s on %s: %s; is it an SQLite file?",
				     pragmas[i], cfg->path, db->errmsg);
			sqlite3_close(h);
			db->impl = NULL;
			return NORC_EIO;
		}
	}
	return NORC_OK;
}

static void sq_close(struct norc_db *db) { sqlite3_close(handle(db)); }

static int sq_begin(struct norc_db *db, bool write)
{
	return sq_exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

static int sq_commit(struct norc_db *db) { return sq_exec(db, "COMMIT"); }

static int sq_maintain(struct norc_db *db, int what)
{
	if (what == NORC_DB_HOLD_CHECKPOINTS)
		return sq_exec(db, "PRAGMA wal_autocheckpoint=0");
	return sq_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
}

static int sq_rollback(struct norc_db *db)
{
	if (sqlite3_get_autocommit(handle(db)))
		return NORC_OK; /* SQLite already rolled back (e.g. after SQLITE_FULL) */
	return sq_exec(db, "ROLLBACK");
}

static int64_t sq_last_insert_id(struct norc_db *db) { return sqlite3_last_insert_rowid(handle(db)); }

static const char *sq_clause(enum norc_sql_clause c)
{
	(void)c; /* SQLite locks the whole database for a write transaction: nothing to add */
	return "";
}

static const char *sq_ddl(enum norc_db_ddl_token t)
{
	switch (t) {
	case NORC_DDL_PK: return "INTEGER PRIMARY KEY AUTOINCREMENT";
	case NORC_DDL_TABLE_END: return "";
	case NORC_DDL_TABLE_EXISTS:
		return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?";
	}
	return "";
}

static int sq_prepare(struct norc_stmt *st)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(handle(st->db), st->sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return norc_db_set_error(st->db, map_rc(rc), "sqlite: %s (in: %.120s)",
					 sqlite3_errmsg(handle(st->db)), st->sql);
	st->impl = s;
	return NORC_OK;
}

static int bind_result(struct norc_stmt *st, int rc)
{
	return rc == SQLITE_OK ? NORC_OK : fail(st->db, rc);
}

static int sq_bind_int64(struct norc_stmt *st, int i, int64_t v)
{
	return bind_result(st, sqlite3_bind_int64(native(st), i, v));
}

static int sq_bind_text(struct norc_stmt *st, int i, const char *v)
{
	return bind_result(st, sqlite3_bind_text(native(st), i, v, -1, SQLITE_TRANSIENT));
}

static int sq_bind_null(struct norc_stmt *st, int i)
{
	return bind_result(st, sqlite3_bind_null(native(st), i));
}

static int sq_step(struct norc_stmt *st, bool *row)
{
	int rc = sqlite3_step(native(st));
	*row = rc == SQLITE_ROW;
	if (rc == SQLITE_DONE) /* per statement, as on MariaDB: sqlite3_changes is per connection */
		st->changes = sqlite3_stmt_readonly(native(st)) ? 0 : sqlite3_changes(handle(st->db));
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return NORC_OK;
	int erc = sqlite3_extended_errcode(handle(st->db));
	sqlite3_reset(native(st));
	return fail(st->db, erc);
}

static int sq_reset(struct norc_stmt *st)
{
	sqlite3_reset(native(st));
	return NORC_OK;
}

static int sq_column_count(struct norc_stmt *st) { return sqlite3_column_count(native(st)); }

static bool sq_column_is_null(struct norc_stmt *st, int c)
{
	return sqlite3_column_type(native(st), c) == SQLITE_NULL;
}

static int64_t sq_column_int64(struct norc_stmt *st, int c) { return sqlite3_column_int64(native(st), c); }

static const char *sq_column_text(struct norc_stmt *st, int c)
{
	return (const char *)sqlite3_column_text(native(st), c);
}

static int64_t sq_changes(struct norc_stmt *st) { return st->changes; }

static void sq_finalize(struct norc_stmt *st) { sqlite3_finalize(native(st)); }

const struct norc_db_ops norc_db_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.maintain = sq_maintain,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.last_insert_id = sq_last_insert_id,
	.clause = sq_clause,
	.ddl = sq_ddl,
	.prepare = sq_prepare,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.reset = sq_reset,
	.column_count = sq_column_count,
	.column_is_null = sq_column_is_null,
	.column_int64 = sq_column_int64,
	.column_text = sq_column_text,
	.changes = sq_changes,
	.finalize = sq_finalize,
};
