/*
 * db.h - the one small database API every part of Norc uses (norc_db).
 *
 * Two backends behind it: SQLite (embedded default, one file, WAL) and MariaDB (Connector/C).
 * All SQL uses '?' placeholders; every dialect difference (DDL types, upserts, SKIP LOCKED)
 * lives only in db_sqlite.c and db_mariadb.c and is reached through norc_db_clause() and
 * norc_db_ddl(). A connection is used by one thread; forked children never touch it.
 *
 * Error handling: functions return NORC_OK or a negative NORC_E*; norc_db_errmsg() then holds
 * the backend's message. NORC_EEXIST means a UNIQUE key was violated, NORC_EBUSY a lock or
 * deadlock the caller may retry, NORC_ECONN a lost server.
 */
#ifndef NORC_DB_H
#define NORC_DB_H

#include <norc/plugin.h>
#include <stdbool.h>
#include <stdint.h>

enum norc_db_backend { NORC_DB_SQLITE = 1, NORC_DB_MARIADB = 2 };

/* Connection settings, filled from the config. Strings borrowed for norc_db_open's call. */
struct norc_db_config {
	enum norc_db_backend backend;
	/* sqlite */
	const char *path;
	bool create; /* create the file when missing (only `norc init`) */
	int busy_timeout_ms;
	/* mariadb */
	const char *host; /* NULL or "localhost" + socket -> unix socket */
	int port;
	const char *socket;
	const char *user;
	const char *password; /* already resolved from env/file by config.c */
	const char *database;
	int connect_timeout_s;
	int io_timeout_s; /* mariadb: read/write timeout (0: none); a host cut off stops waiting */
};

/* Placeholders in portable DDL that each backend rewrites (see norc_db_ddl). */
enum norc_db_ddl_token {
	NORC_DDL_PK = 1,     /* auto-increment 64-bit primary key column definition */
	NORC_DDL_TABLE_END,  /* text after the closing parenthesis of CREATE TABLE */
	NORC_DDL_TABLE_EXISTS /* a SELECT giving the number of tables named ? (0 or 1) */
};

struct norc_db;
struct norc_stmt;

/* Open a connection. On failure *out is NULL and err says what and how to fix it.
 * Caller closes with norc_db_close. */
int norc_db_open(const struct norc_db_config *cfg, struct norc_db **out, char *err,
		 size_t errlen);
void norc_db_close(struct norc_db *db); /* NULL ok */

enum norc_db_backend norc_db_backend(const struct norc_db *db);
const char *norc_db_backend_name(const struct norc_db *db); /* "sqlite" | "mariadb" */
/* Backend-specific SQL fragment (static string). */
const char *norc_db_clause(struct norc_db *db, enum norc_sql_clause clause);
const char *norc_db_ddl(struct norc_db *db, enum norc_db_ddl_token tok);

/* Housekeeping a latency-sensitive daemon times itself (the scheduler): SQLite's WAL
 * checkpoint (which writes back and syncs the database file, ~10-20 ms) otherwise runs
 * inside whichever commit crosses 1000 WAL pages, i.e. in the middle of a burst of fires.
 * NORC_DB_HOLD_CHECKPOINTS: this connection never checkpoints by itself; NORC_DB_CHECKPOINT:
 * checkpoint now (passive: never waits for readers). No-ops on MariaDB. */
enum norc_db_maint { NORC_DB_HOLD_CHECKPOINTS = 1, NORC_DB_CHECKPOINT = 2 };
int norc_db_maintain(struct norc_db *db, enum norc_db_maint what);

/* Run SQL without parameters or results (DDL, pragmas). */
int norc_db_exec(struct norc_db *db, const char *sql);

/* Transactions. begin_write takes the write lock up front on SQLite (BEGIN IMMEDIATE), so a
 * read-then-write transaction cannot fail half-way with SQLITE_BUSY. Not nestable. */
int norc_db_begin(struct norc_db *db);
int norc_db_begin_write(struct norc_db *db);
int norc_db_commit(struct norc_db *db);
int norc_db_rollback(struct norc_db *db); /* safe to call with no transaction open */
bool norc_db_in_tx(const struct norc_db *db);

int64_t norc_db_last_insert_id(struct norc_db *db);
/* Last error message of this connection (borrowed until the next call). */
const char *norc_db_errmsg(struct norc_db *db);

/* Prepared statements. Caller finalizes with norc_stmt_finalize. Parameters are 1-based,
 * columns 0-based. Bound text is copied. */
int norc_db_prepare(struct norc_db *db, const char *sql, struct norc_stmt **out);
int norc_stmt_bind_int64(struct norc_stmt *st, int idx, int64_t v);
int norc_stmt_bind_text(struct norc_stmt *st, int idx, const char *v); /* NULL binds NULL */
int norc_stmt_bind_null(struct norc_stmt *st, int idx);
/* Execute (first call) / fetch next row. *row is true when a row is available. */
int norc_stmt_step(struct norc_stmt *st, bool *row);
/* Make the statement executable again with new bindings (bindings are kept). */
int norc_stmt_reset(struct norc_stmt *st);
int norc_stmt_column_count(struct norc_stmt *st);
bool norc_stmt_column_is_null(struct norc_stmt *st, int col);
int64_t norc_stmt_column_int64(struct norc_stmt *st, int col); /* NULL -> 0 */
/* Borrowed until the next step/reset/finalize; NULL for SQL NULL. */
const char *norc_stmt_column_text(struct norc_stmt *st, int col);
int64_t norc_stmt_changes(struct norc_stmt *st); /* rows changed by the last execution */
void norc_stmt_finalize(struct norc_stmt *st); /* NULL ok */

/* Convenience: prepare SQL with one int64 parameter (an id) and step to its first row. On
 * NORC_OK *st is positioned on the row (caller finalizes); NORC_ENOTFOUND when there is
 * none (nothing to finalize). */
int norc_db_query_row(struct norc_db *db, const char *sql, int64_t id, struct norc_stmt **st);

/* Convenience: prepare SQL, bind the int64 args (pass int64_t values: cast literals) in order, step once; *out gets column 0 of
 * the first row, or NORC_ENOTFOUND when there is no row. */
int norc_db_query_int64(struct norc_db *db, const char *sql, int64_t *out, int nargs, ...);

#endif
