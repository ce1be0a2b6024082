/*
 * db_backend.h - the vtable a database backend implements (internal to core/db*.c).
 *
 * db.c owns the generic struct norc_db / norc_stmt wrappers and dispatches to these ops; each
 * backend keeps its native handles in the `impl` pointers. Backends set db->errmsg through
 * norc_db_set_error() and map their error numbers to NORC_E* codes (EEXIST for unique-key
 * violations, EBUSY for lock/deadlock, ECONN for a lost server).
 */
#ifndef NORC_DB_BACKEND_H
#define NORC_DB_BACKEND_H

#include "db.h"

struct norc_db_ops {
	const char *name;
	int (*open)(struct norc_db *db, const struct norc_db_config *cfg, char *err, size_t errlen);
	void (*close)(struct norc_db *db);
	int (*exec)(struct norc_db *db, const char *sql);
	int (*maintain)(struct norc_db *db, int what); /* enum norc_db_maint; NULL: nothing */
	int (*begin)(struct norc_db *db, bool write);
	int (*commit)(struct norc_db *db);
	int (*rollback)(struct norc_db *db);
	int64_t (*last_insert_id)(struct norc_db *db);
	const char *(*clause)(enum norc_sql_clause clause);
	const char *(*ddl)(enum norc_db_ddl_token tok);

	int (*prepare)(struct norc_stmt *st); /* st->sql set; fills st->impl */
	int (*bind_int64)(struct norc_stmt *st, int idx, int64_t v);
	int (*bind_text)(struct norc_stmt *st, int idx, const char *v);
	int (*bind_null)(struct norc_stmt *st, int idx);
	int (*step)(struct norc_stmt *st, bool *row);
	int (*reset)(struct norc_stmt *st);
	int (*column_count)(struct norc_stmt *st);
	bool (*column_is_null)(struct norc_stmt *st, int col);
	int64_t (*column_int64)(struct norc_stmt *st, int col);
	const char *(*column_text)(struct norc_stmt *st, int col);
	int64_t (*changes)(struct norc_stmt *st);
	void (*finalize)(struct norc_stmt *st);
};

#define NORC_DB_STMT_CACHE 64 /* prepared statements kept per connection (db.c) */

struct norc_db {
	const struct norc_db_ops *ops;
	enum norc_db_backend backend;
	void *impl;
	bool in_tx;
	char errmsg[512];
	struct norc_stmt *cache[NORC_DB_STMT_CACHE]; /* idle or busy cached statements */
	uint64_t uses;                               /* clock for least-recently-used */
};

struct norc_stmt {
	struct norc_db *db;
	char *sql;
	void *impl;
	bool done;       /* the last step found no more rows: steps return none until reset */
	int64_t changes; /* rows changed by the last execution (backends that need it) */
	bool cached, busy; /* kept in db->cache; busy while a caller holds it */
	uint64_t hash, used;
};

/* Record the backend's message on db; returns rc. */
int norc_db_set_error(struct norc_db *db, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

extern const struct norc_db_ops norc_db_sqlite_ops;
extern const struct norc_db_ops norc_db_mariadb_ops;

#endif
