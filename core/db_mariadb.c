/*
 * db_mariadb.c - the MariaDB backend of norc_db (Connector/C, binary protocol).
 *
 * One connection per norc_db, no library auto-reconnect: we keep a private copy of the
 * settings and re-establish the connection ourselves when the server went away (killed,
 * restarted, idle timeout) while no transaction is open, then retry the failed call once.
 * Inside a transaction a lost server is NORC_ECONN and the caller retries the transaction.
 *
 * database.host may name several servers, "db1,db2:3307,[fd00::3]" (a Galera cluster): the
 * connection goes to the first that answers, and after a loss to the next one, so a dead
 * node costs one reconnect. A node that is up but not part of the cluster's primary
 * component refuses queries (1047) and counts as gone. A deadlock (1213: on Galera also a
 * certification conflict with a write on another node) rolls back only that statement when
 * no transaction is open, so such a statement is run again, up to 3 times; inside a
 * transaction it is NORC_EBUSY and the caller retries the transaction, as with SQLite's
 * busy database.
 * Each (re)connection bumps a generation; a statement prepared on an older connection is
 * re-prepared lazily on its next execute, which is why bound values live on our side.
 *
 * Results are always fully buffered (mysql_stmt_store_result) so that several statements can
 * be open at once, and every column is fetched as text into a growable buffer. Sessions run
 * in strict mode, READ COMMITTED, UTC, utf8mb4. CLIENT_FOUND_ROWS makes changes() count the
 * rows an UPDATE matched, as SQLite does, not only those whose values differ.
 *
 * Threading: a connection and its statements belong to one thread; a forked child must not
 * touch them (not even close them). Messages never contain the password.
 */
#include "db_backend.h"
#include "mem.h"

#include <errmsg.h>
#include <fcntl.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADLOCK_RETRIES 3

#ifndef ER_CLIENT_INTERACTION_TIMEOUT
#define ER_CLIENT_INTERACTION_TIMEOUT 4031 /* server closed an idle connection (10.6+) */
#endif

#define COL_BUF_INITIAL 256

/* The connection and the settings needed to re-establish it. */
struct mdb {
	MYSQL *m;          /* NULL after a failed reconnect */
	unsigned gen;      /* bumped on every (re)connection */
	int64_t last_insert_id;
	char *host, *socket, *user, *password, *database;
	char *where;       /* "127.0.0.1:3306" or "socket /path", for messages */
	int port;
	char **hosts;      /* database.host split at commas (at least one) ... */
	int *ports;        /* ... with their ports */
	size_t nhosts, cur; /* cur: the one connected to, or to try first */
	unsigned connect_timeout_s;
	unsigned io_timeout_s;
};

enum param_type { PARAM_NULL = 0, PARAM_INT, PARAM_TEXT };

struct mdb_param {
	enum param_type type;
	int64_t i;
	char *s;
	unsigned long len;
};

struct mdb_col {
	char *buf;
	unsigned long cap;
	unsigned long len;
	my_bool is_null;
	my_bool error;
};

struct mdb_stmt {
	MYSQL_STMT *s;    /* NULL when (re-)preparing failed */
	unsigned gen;     /* connection generation s was prepared on */
	unsigned nparams;
	struct mdb_param *params;
	MYSQL_BIND *pbind;
	unsigned ncols, colcap;
	struct mdb_col *cols;
	MYSQL_BIND *rbind;
	bool executed;   /* executed since prepare/reset */
	bool has_result; /* the execution produced a (buffered) result set */
	bool have_row;   /* cols hold a fetched row */
	bool done;       /* result set exhausted */
	int64_t changes;
};

static struct mdb *conn(struct norc_db *db) { return db->impl; }
static struct mdb_stmt *native(struct norc_stmt *st) { return st->impl; }

static int map_errno(unsigned e)
{
	switch (e) {
	case 0: return NORC_OK;
	case ER_DUP_ENTRY: case ER_DUP_ENTRY_WITH_KEY_NAME: return NORC_EEXIST;
	case ER_LOCK_DEADLOCK: case ER_LOCK_WAIT_TIMEOUT: return NORC_EBUSY;
	case CR_CONNECTION_ERROR: case CR_CONN_HOST_ERROR: case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST: case CR_SERVER_LOST_EXTENDED: case ER_CONNECTION_KILLED:
	case ER_CLIENT_INTERACTION_TIMEOUT: case ER_SERVER_SHUTDOWN: case ER_UNKNOWN_COM_ERROR:
		return NORC_ECONN;
	case CR_OUT_OF_MEMORY: return NORC_ENOMEM;
	default: return NORC_EDB;
	}
}

/* The connection is dead: worth one reconnect and retry when no transaction is open. */
static bool gone(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_SERVER_LOST_EXTENDED ||
	       e == ER_CLIENT_INTERACTION_TIMEOUT || e == ER_CONNECTION_KILLED ||
	       e == ER_UNKNOWN_COM_ERROR; /* a Galera node outside the primary component */
}

/* Record the connection's last error on db; returns its errno. */
static unsigned conn_error(struct norc_db *db, const char *sql)
{
	MYSQL *m = conn(db)->m;
	unsigned e = mysql_errno(m);
	if (!e)
		e = CR_UNKNOWN_ERROR;
	if (sql)
		norc_db_set_error(db, map_errno(e), "mariadb: %s (errno %u) (in: %.120s)",
				  mysql_error(m), e, sql);
	else
		norc_db_set_error(db, map_errno(e), "mariadb: %s (errno %u)", mysql_error(m), e);
	return e;
}

/* Record a statement's last error on db; returns its errno. */
static unsigned stmt_error(struct norc_stmt *st, MYSQL_STMT *s, bool with_sql)
{
	unsigned e = mysql_stmt_errno(s);
	if (!e)
		e = CR_UNKNOWN_ERROR;
	if (with_sql)
		norc_db_set_error(st->db, map_errno(e), "mariadb: %s (errno %u) (in: %.120s)",
				  mysql_stmt_error(s), e, st->sql);
	else
		norc_db_set_error(st->db, map_errno(e), "mariadb: %s (errno %u)",
				  mysql_stmt_error(s), e);
	return e;
}

static void wipe(char *s)
{
	if (!s)
		return;
	for (volatile char *p = s; *p; p++)
		*p = 0;
}

static void free_conf(struct mdb *c)
{
	wipe(c->password);
	free(c->host);
	free(c->socket);
	free(c->user);
	free(c->password);
	free(c->database);
	free(c->where);
	for (size_t i = 0; i < c->nhosts; i++)
		free(c->hosts[i]);
	free(c->hosts);
	free(c->ports);
	free(c);
}

static void set_cloexec(MYSQL *m)
{
	int fd = (int)mysql_get_socket(m);
	if (fd < 0)
		return;
	int fl = fcntl(fd, F_GETFD);
	if (fl >= 0)
		fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* Explain a failed mysql_real_connect in one line naming the server and the fix. */
static int connect_error(const struct mdb *c, MYSQL *m, char *err, size_t errlen)
{
	unsigned e = mysql_errno(m);
	const char *msg = mysql_error(m);
	const char *user = c->user ? c->user : "(login name)";
	const char *name = c->database ? c->database : "";
	int rc;
	switch (e) {
	case ER_BAD_DB_ERROR:
		rc = NORC_ENOTFOUND;
		norc_err_set(err, errlen, rc,
			     "database: MariaDB database '%s' does not exist on %s; run "
			     "`norc init` (it creates it) or CREATE DATABASE %s",
			     name, c->where, name);
		break;
	case ER_ACCESS_DENIED_ERROR:
		rc = NORC_ECONFIG;
		norc_err_set(err, errlen, rc,
			     "database: MariaDB on %s refused user '%s': %s (errno %u); check "
			     "database.user and the password (it comes from database.password, "
			     "database.password_env or database.password_file)",
			     c->where, user, msg, e);
		break;
	case ER_DBACCESS_DENIED_ERROR:
		rc = NORC_ECONFIG;
		norc_err_set(err, errlen, rc,
			     "database: MariaDB user '%s' may not use database '%s' on %s: %s "
			     "(errno %u); GRANT ALL ON %s.* to that user or fix database.user",
			     user, name, c->where, msg, e, name);
		break;
	case CR_CONNECTION_ERROR: case CR_CONN_HOST_ERROR: case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR: case CR_SERVER_LOST: case CR_SERVER_LOST_EXTENDED:
		rc = NORC_ECONN;
		norc_err_set(err, errlen, rc,
			     "database: cannot connect to MariaDB on %s: %s (errno %u); is "
			     "mariadbd running and is database.host/port/socket right?",
			     c->where, msg, e);
		break;
	default:
		rc = map_errno(e) == NORC_ECONN ? NORC_ECONN : NORC_EDB;
		norc_err_set(err, errlen, rc,
			     "database: cannot connect to MariaDB on %s: %s (errno %u)", c->where,
			     msg, e);
		break;
	}
	return rc;
}

/* Connect to server i of c's list (or its socket) and set the session up; on success c->m is
 * the new handle. */
static int connect_one(struct mdb *c, size_t which, char *err, size_t errlen)
{
	static const char *const session[] = {
		"SET SESSION sql_mode='STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
		"SET SESSION time_zone='+00:00'",
	};
	MYSQL *m = mysql_init(NULL);
	if (!m)
		return norc_err_set(err, errlen, NORC_ENOMEM,
				    "database: mysql_init failed (out of memory)");
	unsigned timeout = c->connect_timeout_s;
	my_bool off = 0;
	unsigned proto = c->socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	/* a server that stopped answering (a partition, a dead node) ends the wait; the daemon's
	 * loop goes on (children reaped, timeouts enforced) and reconnects later */
	unsigned io = c->io_timeout_s;
	if (io) {
		mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io);
		mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io);
	}
	mysql_options(m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
	if (!mysql_real_connect(m, c->socket ? "localhost" : c->hosts[which], c->user,
				c->password, c->database, c->socket ? 0 : (unsigned)c->ports[which],
				c->socket,
				CLIENT_FOUND_ROWS)) {
		int rc = connect_error(c, m, err, errlen);
		mysql_close(m);
		return rc;
	}
	set_cloexec(m);
	for (size_t i = 0; i < sizeof(session) / sizeof(session[0]); i++) {
		if (mysql_real_query(m, session[i], strlen(session[i]))) {
			unsigned e = mysql_errno(m);
			int rc = map_errno(e);
			norc_err_set(err, errlen, rc,
				     "database: setting up the MariaDB session on %s failed: %s: "
				     "%s (errno %u)",
				     c->where, session[i], mysql_error(m), e);
			mysql_close(m);
			return rc;
		}
	}
	c->m = m;
	c->gen++;
	return NORC_OK;
}

/* Connect to the first server of the list that answers, from c->cur on. A refusal that every
 * server would repeat (a wrong password, no such database) ends the search at once. */
static int connect_server(struct mdb *c, char *err, size_t errlen)
{
	size_t n = c->socket ? 1 : c->nhosts;
	int rc = NORC_ECONN;
	for (size_t k = 0; k < n; k++) {
		size_t i = (c->cur + k) % n;
		free(c->where);
		c->where = c->socket ? norc_xasprintf("socket %s", c->socket)
				     : norc_xasprintf(strchr(c->hosts[i], ':') ? "[%s]:%d" : "%s:%d",
						      c->hosts[i], c->ports[i]);
		rc = connect_one(c, i, err, errlen);
		if (rc == NORC_OK)
			c->cur = i;
		if (rc != NORC_ECONN)
			return rc;
	}
	return rc;
}

/* Split "h1,h2:3307,[v6]:3308" into c->hosts and c->ports (default port c->port). */
static int parse_hosts(struct mdb *c, const char *list, char *err, size_t errlen)
{
	char *copy = norc_xstrdup(list), *save = NULL;
	int rc = NORC_OK;
	for (char *h = strtok_r(copy, ",", &save); h && rc == NORC_OK; h = strtok_r(NULL, ",", &save)) {
		while (*h == ' ')
			h++;
		char *port = NULL;
		if (*h == '[') { /* [v6] or [v6]:port */
			char *close = strchr(h, ']');
			if (close && (close[1] == ':' || !close[1])) {
				*close = '\0';
				port = close[1] == ':' ? close + 2 : NULL;
				h++;
			} else {
				h = NULL;
			}
		} else if ((port = strchr(h, ':'))) {
			*port++ = '\0';
		}
		char *end = NULL;
		long p = port ? strtol(port, &end, 10) : c->port;
		if (!h || !*h || (port && (end == port || *end || p < 1 || p > 65535))) {
			rc = norc_err_set(err, errlen, NORC_ECONFIG,
					  "database.host \"%s\": give HOST, HOST:PORT or [IPV6]:PORT, "
					  "several separated by commas", list);
			break;
		}
		c->hosts = norc_xrealloc(c->hosts, (c->nhosts + 1) * sizeof(*c->hosts));
		c->ports = norc_xrealloc(c->ports, (c->nhosts + 1) * sizeof(*c->ports));
		c->hosts[c->nhosts] = norc_xstrdup(h);
		c->ports[c->nhosts++] = (int)p;
	}
	free(copy);
	if (rc == NORC_OK && !c->nhosts)
		rc = norc_err_set(err, errlen, NORC_ECONFIG, "database.host \"%s\" names no "
				  "server", list);
	return rc;
}

/* Drop the (dead) connection and make a new one. Statements notice by their generation. */
static int reconnect(struct norc_db *db)
{
	struct mdb *c = conn(db);
	if (c->m) {
		mysql_close(c->m); /* invalidates every MYSQL_STMT of that connection */
		c->m = NULL;
	}
	if (c->nhosts > 1) /* the one that failed is tried last */
		c->cur = (c->cur + 1) % c->nhosts;
	char err[400];
	if (connect_server(c, err, sizeof(err)) != NORC_OK)
		return norc_db_set_error(db, NORC_ECONN,
					 "mariadb: lost the connection to %s and could not "
					 "reconnect: %s",
					 c->where, err);
	return NORC_OK;
}

/* Make sure there is a handle (there is none after a failed reconnect). */
static int ensure_conn(struct norc_db *db)
{
	if (conn(db)->m)
		return NORC_OK;
	if (db->in_tx)
		return norc_db_set_error(db, NORC_ECONN,
					 "mariadb: not connected to %s (connection lost in a "
					 "transaction)",
					 conn(db)->where);
	return reconnect(db);
}

static int mdb_open(struct norc_db *db, const struct norc_db_config *cfg, char *err, size_t errlen)
{
	struct mdb *c = norc_xcalloc(1, sizeof(*c));
	c->host = norc_xstrdup(cfg->host && *cfg->host ? cfg->host : "127.0.0.1");
	c->socket = cfg->socket && *cfg->socket ? norc_xstrdup(cfg->socket) : NULL;
	c->port = cfg->port > 0 ? cfg->port : 3306;
	c->user = cfg->user && *cfg->user ? norc_xstrdup(cfg->user) : NULL;
	c->password = norc_xstrdup(cfg->password);
	c->database = cfg->database && *cfg->database ? norc_xstrdup(cfg->database) : NULL;
	c->connect_timeout_s = cfg->connect_timeout_s > 0 ? (unsigned)cfg->connect_timeout_s : 10;
	c->io_timeout_s = cfg->io_timeout_s > 0 ? (unsigned)cfg->io_timeout_s : 0; /* 0: none */
	int rc = parse_hosts(c, c->host, err, errlen);
	if (rc == NORC_OK)
		rc = connect_server(c, err, errlen);
	if (rc != NORC_OK) {
		free_conf(c);
		return rc;
	}
	db->impl = c;
	return NORC_OK;
}

static void mdb_close(struct norc_db *db)
{
	struct mdb *c = conn(db);
	if (!c)
		return;
	if (c->m)
		mysql_close(c->m);
	free_conf(c);
	db->impl = NULL;
}

/* One mysql_real_query, results (if any) read and discarded; returns the errno or 0. */
static unsigned query_once(struct norc_db *db, const char *sql)
{
	struct mdb *c = conn(db);
	MYSQL *m = c->m;
	if (mysql_real_query(m, sql, strlen(sql)))
		return conn_error(db, sql);
	for (;;) {
		MYSQL_RES *res = mysql_store_result(m);
		if (res) {
			mysql_free_result(res);
		} else if (mysql_field_count(m) > 0) {
			return conn_error(db, sql);
		} else {
			my_ulonglong id = mysql_insert_id(m);
			if (id)
				c->last_insert_id = (int64_t)id;
		}
		int more = mysql_next_result(m);
		if (more > 0)
			return conn_error(db, sql);
		if (more < 0)
			return 0;
	}
}

static int run_query(struct norc_db *db, const char *sql)
{
	for (int attempt = 0;; attempt++) {
		int rc = ensure_conn(db);
		if (rc != NORC_OK)
			return rc;
		unsigned e = query_once(db, sql);
		if (!e)
			return NORC_OK;
		if (attempt == 0 && gone(e) && !db->in_tx) {
			if ((rc = reconnect(db)) != NORC_OK)
				return rc;
			continue;
		}
		if (e == ER_LOCK_DEADLOCK && !db->in_tx && attempt < DEADLOCK_RETRIES)
			continue; /* rolled back alone: run it again */
		return map_errno(e);
	}
}

static int mdb_exec(struct norc_db *db, const char *sql) { return run_query(db, sql); }

static int mdb_begin(struct norc_db *db, bool write)
{
	(void)write; /* InnoDB locks rows as they are written or read FOR UPDATE */
	return run_query(db, "START TRANSACTION");
}

static int mdb_commit(struct norc_db *db) { return run_query(db, "COMMIT"); }

static int mdb_rollback(struct norc_db *db)
{
	if (!conn(db)->m)
		return NORC_OK;
	unsigned e = query_once(db, "ROLLBACK");
	if (e && gone(e))
		return NORC_OK; /* the server discarded the transaction with the connection */
	return map_errno(e);
}

static int64_t mdb_last_insert_id(struct norc_db *db) { return conn(db)->last_insert_id; }

static const char *mdb_clause(enum norc_sql_clause c)
{
	switch (c) {
	case NORC_SQL_LOCK_SKIP: return " FOR UPDATE SKIP LOCKED";
	case NORC_SQL_LOCK_SHARE: return " LOCK IN SHARE MODE";
	case NORC_SQL_LOCK_UPDATE: return " FOR UPDATE";
	}
	return "";
}

static const char *mdb_ddl(enum norc_db_ddl_token t)
{
	switch (t) {
	case NORC_DDL_PK: return "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY";
	case NORC_DDL_TABLE_END:
		return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
	case NORC_DDL_TABLE_EXISTS:
		return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
		       "DATABASE() AND table_name = ?";
	}
	return "";
}

/* Size the parameter array for n parameters, keeping the values bound so far. */
static void size_params(struct mdb_stmt *ms, unsigned n)
{
	for (unsigned i = n; i < ms->nparams; i++)
		NORC_FREE(ms->params[i].s);
	if (n > ms->nparams) {
		ms->params = norc_xrealloc(ms->params, n * sizeof(*ms->params));
		ms->pbind = norc_xrealloc(ms->pbind, n * sizeof(*ms->pbind));
		memset(ms->params + ms->nparams, 0, (n - ms->nparams) * sizeof(*ms->params));
	}
	ms->nparams = n;
}

/* (Re-)prepare st on the current connection; returns the errno or 0. */
static unsigned prepare_native(struct norc_stmt *st)
{
	struct mdb *c = conn(st->db);
	struct mdb_stmt *ms = native(st);
	if (ms->s) {
		mysql_stmt_close(ms->s);
		ms->s = NULL;
	}
	ms->executed = ms->has_result = ms->have_row = ms->done = false;
	MYSQL_STMT *s = mysql_stmt_init(c->m);
	if (!s)
		return conn_error(st->db, st->sql);
	if (mysql_stmt_prepare(s, st->sql, strlen(st->sql))) {
		unsigned e = stmt_error(st, s, true);
		mysql_stmt_close(s);
		return e;
	}
	ms->s = s;
	ms->gen = c->gen;
	size_params(ms, (unsigned)mysql_stmt_param_count(s));
	ms->ncols = mysql_stmt_field_count(s);
	return 0;
}

static void free_stmt(struct mdb_stmt *ms)
{
	if (ms->s)
		mysql_stmt_close(ms->s);
	for (unsigned i = 0; i < ms->nparams; i++)
		free(ms->params[i].s);
	for (unsigned i = 0; i < ms->colcap; i++)
		free(ms->cols[i].buf);
	free(ms->params);
	free(ms->pbind);
	free(ms->cols);
	free(ms->rbind);
	free(ms);
}

static int mdb_prepare(struct norc_stmt *st)
{
	st->impl = norc_xcalloc(1, sizeof(struct mdb_stmt));
	for (int attempt = 0;; attempt++) {
		int rc = ensure_conn(st->db);
		unsigned e = 0;
		if (rc == NORC_OK && !(e = prepare_native(st)))
			return NORC_OK;
		if (rc == NORC_OK && attempt == 0 && gone(e) && !st->db->in_tx &&
		    (rc = reconnect(st->db)) == NORC_OK)
			continue;
		free_stmt(st->impl);
		st->impl = NULL;
		return rc != NORC_OK ? rc : map_errno(e);
	}
}

static struct mdb_param *param(struct norc_stmt *st, int idx)
{
	struct mdb_stmt *ms = native(st);
	if (idx < 1 || (unsigned)idx > ms->nparams) {
		norc_db_set_error(st->db, NORC_EINVAL,
				  "mariadb: parameter index %d out of range (the statement has %u)",
				  idx, ms->nparams);
		return NULL;
	}
	struct mdb_param *p = &ms->params[idx - 1];
	NORC_FREE(p->s);
	p->type = PARAM_NULL;
	return p;
}

static int mdb_bind_int64(struct norc_stmt *st, int idx, int64_t v)
{
	struct mdb_param *p = param(st, idx);
	if (!p)
		return NORC_EINVAL;
	p->type = PARAM_INT;
	p->i = v;
	return NORC_OK;
}

static int mdb_bind_text(struct norc_stmt *st, int idx, const char *v)
{
	struct mdb_param *p = param(st, idx);
	if (!p)
		return NORC_EINVAL;
	if (v) {
		p->type = PARAM_TEXT;
		p->s = norc_xstrdup(v);
		p->len = (unsigned long)strlen(v);
	}
	return NORC_OK;
}

static int mdb_bind_null(struct norc_stmt *st, int idx)
{
	return param(st, idx) ? NORC_OK : NORC_EINVAL;
}

/* Result columns: a text buffer each, bound as MYSQL_TYPE_STRING. */
static void setup_columns(struct mdb_stmt *ms, unsigned n)
{
	if (n > ms->colcap) {
		ms->cols = norc_xrealloc(ms->cols, n * sizeof(*ms->cols));
		ms->rbind = norc_xrealloc(ms->rbind, n * sizeof(*ms->rbind));
		for (unsigned i = ms->colcap; i < n; i++) {
			ms->cols[i] = (struct mdb_col){ .buf = norc_xmalloc(COL_BUF_INITIAL),
							.cap = COL_BUF_INITIAL };
		}
		ms->colcap = n;
	}
	for (unsigned i = 0; i < n; i++) {
		struct mdb_col *col = &ms->cols[i];
		memset(&ms->rbind[i], 0, sizeof(ms->rbind[i]));
		ms->rbind[i].buffer_type = MYSQL_TYPE_STRING;
		ms->rbind[i].buffer = col->buf;
		ms->rbind[i].buffer_length = col->cap;
		ms->rbind[i].length = &col->len;
		ms->rbind[i].is_null = &col->is_null;
		ms->rbind[i].error = &col->error;
	}
	ms->ncols = n;
}

/* Bind our parameter values, execute and buffer the result; returns the errno or 0. */
static unsigned execute_native(struct norc_stmt *st)
{
	struct mdb *c = conn(st->db);
	struct mdb_stmt *ms = native(st);
	MYSQL_STMT *s = ms->s;
	ms->has_result = ms->have_row = ms->done = false;
	if (ms->nparams) {
		memset(ms->pbind, 0, ms->nparams * sizeof(*ms->pbind));
		for (unsigned i = 0; i < ms->nparams; i++) {
			struct mdb_param *p = &ms->params[i];
			MYSQL_BIND *b = &ms->pbind[i];
			switch (p->type) {
			case PARAM_NULL: b->buffer_type = MYSQL_TYPE_NULL; break;
			case PARAM_INT:
				b->buffer_type = MYSQL_TYPE_LONGLONG;
				b->buffer = &p->i;
				break;
			case PARAM_TEXT:
				b->buffer_type = MYSQL_TYPE_STRING;
				b->buffer = p->s;
				b->buffer_length = p->len;
				b->length = &p->len;
				break;
			}
		}
		if (mysql_stmt_bind_param(s, ms->pbind))
			return stmt_error(st, s, false);
	}
	if (mysql_stmt_execute(s))
		return stmt_error(st, s, false);
	unsigned nf = mysql_stmt_field_count(s);
	if (nf == 0) {
		ms->ncols = 0;
		ms->changes = (int64_t)mysql_stmt_affected_rows(s);
		my_ulonglong id = mysql_stmt_insert_id(s);
		if (id)
			c->last_insert_id = (int64_t)id;
		return 0;
	}
	setup_columns(ms, nf);
	ms->changes = 0;
	if (mysql_stmt_bind_result(s, ms->rbind) || mysql_stmt_store_result(s))
		return stmt_error(st, s, false);
	ms->has_result = true;
	return 0;
}

/*
 * May a failed execution be run again? Only when it certainly did not run: the server
 * refused the command before executing it (gone before sending, killed, idle timeout), or
 * it only reads. A connection lost while waiting for the answer to a write (2013, 2055)
 * may have committed it, so an autocommit INSERT must not be repeated: the caller gets
 * NORC_ECONN and decides.
 */
static bool retry_safe(struct norc_stmt *st, unsigned e)
{
	if (e == CR_SERVER_GONE_ERROR || e == ER_CONNECTION_KILLED ||
	    e == ER_CLIENT_INTERACTION_TIMEOUT || e == ER_UNKNOWN_COM_ERROR)
		return true; /* refused before running (1047: a node outside the primary) */
	return native(st)->ncols > 0; /* a statement with a result set */
}

/* First step: execute, re-preparing after a reconnect and retrying once if the server went. */
static int execute(struct norc_stmt *st)
{
	struct norc_db *db = st->db;
	struct mdb_stmt *ms = native(st);
	for (int attempt = 0;; attempt++) {
		int rc = ensure_conn(db);
		if (rc != NORC_OK)
			return rc;
		unsigned e = 0;
		bool sent = false;
		if (!ms->s || ms->gen != conn(db)->gen)
			e = prepare_native(st);
		if (!e) {
			sent = true;
			e = execute_native(st);
		}
		if (!e)
			return NORC_OK;
		if (attempt == 0 && gone(e) && !db->in_tx && (!sent || retry_safe(st, e))) {
			if ((rc = reconnect(db)) != NORC_OK)
				return rc;
			continue;
		}
		if (e == ER_LOCK_DEADLOCK && !db->in_tx && attempt < DEADLOCK_RETRIES)
			continue; /* rolled back alone: run it again */
		return map_errno(e);
	}
}

/* After a fetch: grow the buffers of columns that did not fit, and NUL-terminate. */
static int complete_row(struct norc_stmt *st)
{
	struct mdb_stmt *ms = native(st);
	bool rebind = false;
	for (unsigned i = 0; i < ms->ncols; i++) {
		struct mdb_col *col = &ms->cols[i];
		if (col->is_null)
			continue;
		if (col->len >= col->cap) {
			unsigned long cap = col->cap * 2;
			if (cap <= col->len)
				cap = col->len + 1;
			col->buf = norc_xrealloc(col->buf, cap);
			col->cap = cap;
			ms->rbind[i].buffer = col->buf;
			ms->rbind[i].buffer_length = cap;
			if (mysql_stmt_fetch_column(ms->s, &ms->rbind[i], i, 0))
				return map_errno(stmt_error(st, ms->s, false));
			rebind = true;
		}
		col->buf[col->len] = '\0';
	}
	if (rebind && mysql_stmt_bind_result(ms->s, ms->rbind))
		return map_errno(stmt_error(st, ms->s, false));
	return NORC_OK;
}

static int mdb_step(struct norc_stmt *st, bool *row)
{
	struct mdb_stmt *ms = native(st);
	*row = false;
	if (!ms->executed) {
		int rc = execute(st);
		if (rc != NORC_OK)
			return rc;
		ms->executed = true;
	}
	if (!ms->has_result || ms->done)
		return NORC_OK;
	ms->have_row = false;
	if (ms->gen != conn(st->db)->gen) {
		/* Another statement re-established the connection: this handle is invalid. */
		ms->done = true;
		return norc_db_set_error(st->db, NORC_ECONN,
					 "mariadb: the connection to %s was re-established while "
					 "this result was being read; run the statement again",
					 conn(st->db)->where);
	}
	int r = mysql_stmt_fetch(ms->s);
	if (r == MYSQL_NO_DATA) {
		ms->done = true;
		return NORC_OK;
	}
	if (r != 0 && r != MYSQL_DATA_TRUNCATED) {
		ms->done = true;
		return map_errno(stmt_error(st, ms->s, false));
	}
	int rc = complete_row(st);
	if (rc != NORC_OK) {
		ms->done = true;
		return rc;
	}
	ms->have_row = true;
	*row = true;
	return NORC_OK;
}

static int mdb_reset(struct norc_stmt *st)
{
	struct mdb_stmt *ms = native(st);
	struct mdb *c = conn(st->db);
	bool was_executed = ms->executed;
	ms->executed = ms->has_result = ms->have_row = ms->done = false;
	if (!was_executed || !ms->s || !c->m || ms->gen != c->gen)
		return NORC_OK; /* nothing to reset, or re-prepared on next execute anyway */
	mysql_stmt_free_result(ms->s);
	if (mysql_stmt_reset(ms->s)) {
		unsigned e = mysql_stmt_errno(ms->s);
		if (!gone(e)) /* a dead connection is noticed (and replaced) by the next execute */
			return map_errno(stmt_error(st, ms->s, false));
	}
	return NORC_OK;
}

static int mdb_column_count(struct norc_stmt *st) { return (int)native(st)->ncols; }

static struct mdb_col *column(struct norc_stmt *st, int c)
{
	struct mdb_stmt *ms = native(st);
	if (!ms->have_row || c < 0 || (unsigned)c >= ms->ncols || ms->cols[c].is_null)
		return NULL;
	return &ms->cols[c];
}

static bool mdb_column_is_null(struct norc_stmt *st, int c) { return column(st, c) == NULL; }

static int64_t mdb_column_int64(struct norc_stmt *st, int c)
{
	struct mdb_col *col = column(st, c);
	return col ? (int64_t)strtoll(col->buf, NULL, 10) : 0;
}

static const char *mdb_column_text(struct norc_stmt *st, int c)
{
	struct mdb_col *col = column(st, c);
	return col ? col->buf : NULL;
}

static int64_t mdb_changes(struct norc_stmt *st) { return native(st)->changes; }

static void mdb_finalize(struct norc_stmt *st)
{
	if (st->impl)
		free_stmt(st->impl);
	st->impl = NULL;
}

const struct norc_db_ops norc_db_mariadb_ops = {
	.name = "mariadb",
	.open = mdb_open,
	.close = mdb_close,
	.exec = mdb_exec,
	.begin = mdb_begin,
	.commit = mdb_commit,
	.rollback = mdb_rollback,
	.last_insert_id = mdb_last_insert_id,
	.clause = mdb_clause,
	.ddl = mdb_ddl,
	.prepare = mdb_prepare,
	.bind_int64 = mdb_bind_int64,
	.bind_text = mdb_bind_text,
	.bind_null = mdb_bind_null,
	.step = mdb_step,
	.reset = mdb_reset,
	.column_count = mdb_column_count,
	.column_is_null = mdb_column_is_null,
	.column_int64 = mdb_column_int64,
	.column_text = mdb_column_text,
	.changes = mdb_changes,
	.finalize = mdb_finalize,
};
