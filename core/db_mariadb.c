/*
 * db_mariadb.c - the MariaDB backend of norc_db (MariaDB Connector/C, server >= 10.6).
 *
 * Statements use the binary protocol. Results are stored client-side (mysql_stmt_store_result)
 * so several statements can be open on one connection. Every result column is fetched as text
 * into a growable buffer, so callers read integers and strings the same way on both backends.
 *
 * Bound parameters are kept on our side and bound just before execution. That makes the
 * connection recoverable: when the server goes away outside a transaction, we reconnect,
 * re-prepare and retry once; inside a transaction the caller gets NORC_ECONN and retries the
 * whole transaction. Statements prepared on an older connection are re-prepared lazily
 * (generation counter). The password is never put into a message.
 */
#include "db_backend.h"
#include "mem.h"

#include <errmsg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mconn {
	MYSQL *m;
	unsigned gen; /* bumped at every (re)connect */
	int64_t last_id;
	/* private copy of the settings, for reconnecting */
	char *host, *socket, *user, *password, *database;
	int port, timeout;
	char where[300]; /* "127.0.0.1:3306" or "socket /path", for messages */
};

struct mparam {
	enum { P_NULL, P_INT, P_TEXT } kind;
	long long i;
	char *s;
	unsigned long len;
};

struct mcol {
	char *buf;
	unsigned long cap, len;
	my_bool is_null, error;
};

struct mstmt {
	MYSQL_STMT *st;
	unsigned gen;
	unsigned nparams;
	struct mparam *params;
	unsigned ncols;
	struct mcol *cols;
	MYSQL_BIND *rbind;
	bool executed;
	int64_t changes;
};

static struct mconn *conn(struct norc_db *db) { return db->impl; }

static bool lost(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == 4031 /* client timeout */;
}

static int map_errno(unsigned e)
{
	switch (e) {
	case ER_DUP_ENTRY: case 1586 /* ER_DUP_ENTRY_WITH_KEY_NAME */: return NORC_EEXIST;
	case ER_LOCK_DEADLOCK: case ER_LOCK_WAIT_TIMEOUT: return NORC_EBUSY;
	case CR_CONNECTION_ERROR: case CR_CONN_HOST_ERROR: case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST: case 4031: return NORC_ECONN;
	case ER_BAD_DB_ERROR: return NORC_ENOTFOUND;
	default: return NORC_EDB;
	}
}

static int fail_conn(struct norc_db *db)
{
	MYSQL *m = conn(db)->m;
	unsigned e = mysql_errno(m);
	return norc_db_set_error(db, map_errno(e), "mariadb (%s): %s (errno %u)", conn(db)->where,
				 mysql_error(m), e);
}

static int fail_stmt(struct norc_stmt *s)
{
	struct mstmt *ms = s->impl;
	unsigned e = mysql_stmt_errno(ms->st);
	return norc_db_set_error(s->db, map_errno(e), "mariadb (%s): %s (errno %u)",
				 conn(s->db)->where, mysql_stmt_error(ms->st), e);
}

/* Connect (or reconnect) c->m with the saved settings. */
static int do_connect(struct norc_db *db, char *err, size_t errlen)
{
	struct mconn *c = conn(db);
	if (c->m)
		mysql_close(c->m);
	c->m = mysql_init(NULL);
	if (!c->m)
		return norc_err_set(err, errlen, NORC_ENOMEM, "mariadb: out of memory");
	unsigned timeout = (unsigned)c->timeout;
	my_bool off = 0;
	mysql_options(c->m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(c->m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(c->m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	const char *host = c->socket ? "localhost" : (c->host ? c->host : "127.0.0.1");
	if (!mysql_real_connect(c->m, host, c->user, c->password ? c->password : "", c->database,
				c->socket ? 0 : (unsigned)c->port, c->socket, 0)) {
		unsigned e = mysql_errno(c->m);
		int rc = map_errno(e);
		if (e == ER_BAD_DB_ERROR)
			norc_err_set(err, errlen, rc,
				     "database: MariaDB database '%s' does not exist on %s; run `norc "
				     "init` (it creates it) or CREATE DATABASE %s", c->database,
				     c->where, c->database);
		else if (e == ER_ACCESS_DENIED_ERROR || e == ER_DBACCESS_DENIED_ERROR)
			norc_err_set(err, errlen, rc = NORC_ECONFIG,
				     "database: MariaDB on %s refused user '%s': %s; check "
				     "database.user and the password (database.password, password_env "
				     "or password_file)", c->where, c->user ? c->user : "",
				     e == ER_ACCESS_DENIED_ERROR ? "access denied" : mysql_error(c->m));
		else if (rc == NORC_ECONN)
			norc_err_set(err, errlen, rc,
				     "database: cannot connect to MariaDB on %s: %s; is mariadbd "
				     "running and is database.host/port/socket right?", c->where,
				     mysql_error(c->m));
		else
			norc_err_set(err, errlen, rc, "database: MariaDB on %s: %s (errno %u)",
				     c->where, mysql_error(c->m), e);
		mysql_close(c->m);
		c->m = NULL;
		return rc;
	}
	int fd = mysql_get_socket(c->m);
	if (fd >= 0)
		fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	static const char *const setup[] = {
		"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
		"SET SESSION time_zone = '+00:00'",
	};
	for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
		if (mysql_real_query(c->m, setup[i], strlen(setup[i])) != 0) {
			norc_err_set(err, errlen, NORC_EDB, "database: MariaDB on %s: %s: %s",
				     c->where, setup[i], mysql_error(c->m));
			mysql_close(c->m);
			c->m = NULL;
			return NORC_EDB;
		}
	}
	c->gen++;
	return NORC_OK;
}

static void free_conn(struct mconn *c)
{
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	free(c->host);
	free(c->socket);
	free(c->user);
	free(c->password);
	free(c->database);
	free(c);
}

static int my_open(struct norc_db *db, const struct norc_db_config *cfg, char *err, size_t errlen)
{
	struct mconn *c = norc_xcalloc(1, sizeof(*c));
	c->host = norc_xstrdup(cfg->host);
	c->socket = cfg->socket && *cfg->socket ? norc_xstrdup(cfg->socket) : NULL;
	c->user = norc_xstrdup(cfg->user ? cfg->user : "norc");
	c->password = norc_xstrdup(cfg->password);
	c->database = cfg->database && *cfg->database ? norc_xstrdup(cfg->database) : NULL;
	c->port = cfg->port > 0 ? cfg->port : 3306;
	c->timeout = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
	if (c->socket)
		snprintf(c->where, sizeof(c->where), "socket %s", c->socket);
	else
		snprintf(c->where, sizeof(c->where), "%s:%d", c->host ? c->host : "127.0.0.1",
			 c->port);
	db->impl = c;
	int rc = do_connect(db, err, errlen);
	if (rc != NORC_OK) {
		free_conn(c);
		db->impl = NULL;
	}
	return rc;
}

static void my_close(struct norc_db *db)
{
	struct mconn *c = conn(db);
	if (!c)
		return;
	if (c->m)
		mysql_close(c->m);
	free_conn(c);
}

/* After a lost connection outside a transaction: reconnect. true when it worked. */
static bool recover(struct norc_db *db, unsigned e)
{
	if (!lost(e) || db->in_tx)
		return false;
	char err[512];
	if (do_connect(db, err, sizeof(err)) != NORC_OK) {
		norc_db_set_error(db, NORC_ECONN, "%s", err);
		return false;
	}
	return true;
}

static int query(struct norc_db *db, const char *sql)
{
	struct mconn *c = conn(db);
	if (!c->m && !recover(db, CR_SERVER_GONE_ERROR))
		return NORC_ECONN;
	if (mysql_real_query(c->m, sql, strlen(sql)) == 0)
		goto done;
	if (recover(db, mysql_errno(c->m)) && mysql_real_query(c->m, sql, strlen(sql)) == 0)
		goto done;
	return fail_conn(db);
done:;
	MYSQL_RES *r = mysql_store_result(c->m);
	if (r)
		mysql_free_result(r);
	return NORC_OK;
}

static int my_exec(struct norc_db *db, const char *sql) { return query(db, sql); }

static int my_begin(struct norc_db *db, bool write)
{
	(void)write; /* InnoDB row locks are taken by the statements themselves */
	return query(db, "START TRANSACTION");
}

static int my_commit(struct norc_db *db)
{
	struct mconn *c = conn(db);
	if (mysql_real_query(c->m, "COMMIT", 6) != 0)
		return fail_conn(db);
	return NORC_OK;
}

static int my_rollback(struct norc_db *db)
{
	struct mconn *c = conn(db);
	if (!c->m)
		return NORC_OK;
	if (mysql_real_query(c->m, "ROLLBACK", 8) != 0)
		return fail_conn(db);
	return NORC_OK;
}

static int64_t my_last_insert_id(struct norc_db *db) { return conn(db)->last_id; }

static const char *my_clause(enum norc_sql_clause cl)
{
	return cl == NORC_SQL_LOCK_SKIP ? " FOR UPDATE SKIP LOCKED" : "";
}

static const char *my_ddl(enum norc_db_ddl_token t)
{
	switch (t) {
	case NORC_DDL_PK: return "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY";
	case NORC_DDL_TABLE_END: return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
	}
	return "";
}

static void drop_native(struct mstmt *ms)
{
	if (ms->st)
		mysql_stmt_close(ms->st);
	ms->st = NULL;
	for (unsigned i = 0; i < ms->ncols; i++)
		free(ms->cols[i].buf);
	free(ms->cols);
	free(ms->rbind);
	ms->cols = NULL;
	ms->rbind = NULL;
	ms->ncols = 0;
}

/* Prepare ms->st on the current connection. */
static int native_prepare(struct norc_stmt *s)
{
	struct mstmt *ms = s->impl;
	struct mconn *c = conn(s->db);
	for (int attempt = 0; attempt < 2; attempt++) {
		drop_native(ms);
		if (!c->m && !recover(s->db, CR_SERVER_GONE_ERROR))
			return NORC_ECONN;
		ms->st = mysql_stmt_init(c->m);
		if (!ms->st)
			return fail_conn(s->db);
		if (mysql_stmt_prepare(ms->st, s->sql, strlen(s->sql)) == 0)
			break;
		unsigned e = mysql_stmt_errno(ms->st);
		if (attempt == 0 && recover(s->db, e))
			continue;
		int rc = fail_stmt(s);
		drop_native(ms);
		return rc;
	}
	ms->gen = c->gen;
	unsigned np = mysql_stmt_param_count(ms->st);
	if (np > ms->nparams) {
		ms->params = norc_xrealloc(ms->params, np * sizeof(*ms->params));
		memset(ms->params + ms->nparams, 0, (np - ms->nparams) * sizeof(*ms->params));
		ms->nparams = np;
	}
	MYSQL_RES *meta = mysql_stmt_result_metadata(ms->st);
	if (meta) {
		ms->ncols = mysql_num_fields(meta);
		mysql_free_result(meta);
		ms->cols = norc_xcalloc(ms->ncols, sizeof(*ms->cols));
		ms->rbind = norc_xcalloc(ms->ncols, sizeof(*ms->rbind));
		for (unsigned i = 0; i < ms->ncols; i++) {
			ms->cols[i].cap = 256;
			ms->cols[i].buf = norc_xmalloc(ms->cols[i].cap + 1);
			ms->rbind[i].buffer_type = MYSQL_TYPE_STRING;
			ms->rbind[i].buffer = ms->cols[i].buf;
			ms->rbind[i].buffer_length = ms->cols[i].cap;
			ms->rbind[i].length = &ms->cols[i].len;
			ms->rbind[i].is_null = &ms->cols[i].is_null;
			ms->rbind[i].error = &ms->cols[i].error;
		}
	}
	return NORC_OK;
}

static int my_prepare(struct norc_stmt *s)
{
	s->impl = norc_xcalloc(1, sizeof(struct mstmt));
	int rc = native_prepare(s);
	if (rc != NORC_OK) {
		free(s->impl);
		s->impl = NULL;
	}
	return rc;
}

static struct mparam *param(struct norc_stmt *s, int idx)
{
	struct mstmt *ms = s->impl;
	if (idx < 1 || (unsigned)idx > ms->nparams) {
		norc_db_set_error(s->db, NORC_EINVAL, "mariadb: parameter %d out of range (1..%u)",
				  idx, ms->nparams);
		return NULL;
	}
	struct mparam *p = &ms->params[idx - 1];
	free(p->s);
	p->s = NULL;
	return p;
}

static int my_bind_int64(struct norc_stmt *s, int idx, int64_t v)
{
	struct mparam *p = param(s, idx);
	if (!p)
		return NORC_EINVAL;
	p->kind = P_INT;
	p->i = v;
	return NORC_OK;
}

static int my_bind_text(struct norc_stmt *s, int idx, const char *v)
{
	struct mparam *p = param(s, idx);
	if (!p)
		return NORC_EINVAL;
	p->kind = P_TEXT;
	p->s = norc_xstrdup(v);
	p->len = (unsigned long)strlen(v);
	return NORC_OK;
}

static int my_bind_null(struct norc_stmt *s, int idx)
{
	struct mparam *p = param(s, idx);
	if (!p)
		return NORC_EINVAL;
	p->kind = P_NULL;
	return NORC_OK;
}

static int execute_once(struct norc_stmt *s, unsigned *errnum)
{
	struct mstmt *ms = s->impl;
	*errnum = 0;
	unsigned np = mysql_stmt_param_count(ms->st);
	MYSQL_BIND *b = np ? norc_xcalloc(np, sizeof(*b)) : NULL;
	my_bool yes = 1;
	for (unsigned i = 0; i < np; i++) {
		struct mparam *p = &ms->params[i];
		switch (p->kind) {
		case P_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			b[i].is_null = &yes;
			break;
		case P_INT:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &p->i;
			break;
		case P_TEXT:
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = p->s;
			b[i].buffer_length = p->len;
			b[i].length = &p->len;
			break;
		}
	}
	int rc = NORC_OK;
	if ((np && mysql_stmt_bind_param(ms->st, b)) || mysql_stmt_execute(ms->st) ||
	    (ms->ncols && (mysql_stmt_bind_result(ms->st, ms->rbind) ||
			   mysql_stmt_store_result(ms->st)))) {
		*errnum = mysql_stmt_errno(ms->st);
		rc = NORC_EDB;
	}
	free(b);
	return rc;
}

static int execute(struct norc_stmt *s)
{
	struct mstmt *ms = s->impl;
	struct mconn *c = conn(s->db);
	int rc;
	if ((!ms->st || ms->gen != c->gen) && (rc = native_prepare(s)) != NORC_OK)
		return rc;
	unsigned e;
	if (execute_once(s, &e) != NORC_OK) {
		if (!recover(s->db, e))
			return fail_stmt(s);
		if ((rc = native_prepare(s)) != NORC_OK)
			return rc;
		if (execute_once(s, &e) != NORC_OK)
			return fail_stmt(s);
	}
	ms->executed = true;
	my_ulonglong ar = mysql_stmt_affected_rows(ms->st);
	ms->changes = ar == (my_ulonglong)-1 ? 0 : (int64_t)ar;
	my_ulonglong id = mysql_stmt_insert_id(ms->st);
	if (id)
		c->last_id = (int64_t)id;
	return NORC_OK;
}

static int my_step(struct norc_stmt *s, bool *row)
{
	struct mstmt *ms = s->impl;
	*row = false;
	if (!ms->executed) {
		int rc = execute(s);
		if (rc != NORC_OK)
			return rc;
	}
	if (!ms->ncols)
		return NORC_OK;
	int f = mysql_stmt_fetch(ms->st);
	if (f == MYSQL_NO_DATA)
		return NORC_OK;
	if (f == 1)
		return fail_stmt(s);
	for (unsigned i = 0; i < ms->ncols; i++) {
		struct mcol *col = &ms->cols[i];
		if (col->is_null) {
			col->buf[0] = '\0';
			continue;
		}
		if (col->len > col->cap) { /* MYSQL_DATA_TRUNCATED for this column */
			col->cap = col->len;
			col->buf = norc_xrealloc(col->buf, col->cap + 1);
			ms->rbind[i].buffer = col->buf;
			ms->rbind[i].buffer_length = col->cap;
			if (mysql_stmt_fetch_column(ms->st, &ms->rbind[i], i, 0) != 0)
				return fail_stmt(s);
			/* rebind so later rows land in the grown buffer */
			mysql_stmt_bind_result(ms->st, ms->rbind);
		}
		col->buf[col->len] = '\0';
	}
	*row = true;
	return NORC_OK;
}

static int my_reset(struct norc_stmt *s)
{
	struct mstmt *ms = s->impl;
	if (ms->st && ms->executed) {
		mysql_stmt_free_result(ms->st);
		mysql_stmt_reset(ms->st);
	}
	ms->executed = false;
	return NORC_OK;
}

static int my_column_count(struct norc_stmt *s) { return (int)((struct mstmt *)s->impl)->ncols; }

static struct mcol *column(struct norc_stmt *s, int c)
{
	struct mstmt *ms = s->impl;
	return c >= 0 && (unsigned)c < ms->ncols ? &ms->cols[c] : NULL;
}

static bool my_column_is_null(struct norc_stmt *s, int c)
{
	struct mcol *col = column(s, c);
	return !col || col->is_null;
}

static int64_t my_column_int64(struct norc_stmt *s, int c)
{
	struct mcol *col = column(s, c);
	return col && !col->is_null ? strtoll(col->buf, NULL, 10) : 0;
}

static const char *my_column_text(struct norc_stmt *s, int c)
{
	struct mcol *col = column(s, c);
	return col && !col->is_null ? col->buf : NULL;
}

static int64_t my_changes(struct norc_stmt *s) { return ((struct mstmt *)s->impl)->changes; }

static void my_finalize(struct norc_stmt *s)
{
	struct mstmt *ms = s->impl;
	if (!ms)
		return;
	drop_native(ms);
	for (unsigned i = 0; i < ms->nparams; i++)
		free(ms->params[i].s);
	free(ms->params);
	free(ms);
}

const struct norc_db_ops norc_db_mariadb_ops = {
	.name = "mariadb",
	.open = my_open,
	.close = my_close,
	.exec = my_exec,
	.begin = my_begin,
	.commit = my_commit,
	.rollback = my_rollback,
	.last_insert_id = my_last_insert_id,
	.clause = my_clause,
	.ddl = my_ddl,
	.prepare = my_prepare,
	.bind_int64 = my_bind_int64,
	.bind_text = my_bind_text,
	.bind_null = my_bind_null,
	.step = my_step,
	.reset = my_reset,
	.column_count = my_column_count,
	.column_is_null = my_column_is_null,
	.column_int64 = my_column_int64,
	.column_text = my_column_text,
	.changes = my_changes,
	.finalize = my_finalize,
};
