/*
 * test_db.c - the norc_db API, table-driven, against SQLite (a fresh temp file per test) and,
 * when NORC_TEST_MARIADB_ENV names the env file written by tests/integration/mariadb-tmp.sh,
 * against that MariaDB server (a fresh database per test, connected as root with an empty
 * password, dropped afterwards). The "api" cases run unchanged on both backends: that is the
 * point of the API. The "mariadb" cases cover what only a server has: transparent reconnect
 * after the connection was killed, row locks between connections, and connect errors.
 *
 * Works with CK_FORK=no too (valgrind runs): every test gets its own database name, and the
 * per-run fixture removes whatever a failed test left behind.
 */
#include "alert.h"
#include "clock.h"
#include "db.h"
#include "instance.h"
#include "job.h"
#include "schema.h"
#include "status.h"
#include "mem.h"

#include "unit.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char mdb_socket[512]; /* empty: run on SQLite */
static int mdb_port;         /* 0: the server has no TCP port */
static long suite_pid;
static char tmp_dir[64];     /* sqlite: this run's directory (unchecked fixture) */
static char db_path[128];    /* sqlite: this test's file */
static char db_name[96];     /* mariadb: this test's database */
static unsigned seq;
static struct norc_db *db;   /* this test's connection */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool on_mariadb(void) { return mdb_socket[0] != '\0'; }

/* Assert that a norc_db call on connection D returned NORC_OK, showing its message if not. */
#define DB_OK(d, expr)                                                                         \
	do {                                                                                   \
		int rc_ = (expr);                                                              \
		ck_assert_msg(rc_ == NORC_OK, "%s -> %d (%s): %s", #expr, rc_,                 \
			      norc_strerror(rc_), norc_db_errmsg(d));                          \
	} while (0)

static struct norc_db_config mariadb_config(const char *database)
{
	return (struct norc_db_config){.backend = NORC_DB_MARIADB,
				       .socket = mdb_socket,
				       .user = "root",
				       .password = "",
				       .database = database,
				       .connect_timeout_s = 5};
}

/* A connection to the server without a default database, or NULL with err filled. */
static struct norc_db *connect_admin(char *err, size_t errlen)
{
	struct norc_db_config cfg = mariadb_config(NULL);
	struct norc_db *d = NULL;
	norc_db_open(&cfg, &d, err, errlen);
	return d;
}

/* Another connection to this test's database. */
static struct norc_db *connect_db(void)
{
	char err[512];
	struct norc_db *d = NULL;
	struct norc_db_config cfg = {.backend = NORC_DB_SQLITE, .path = db_path, .create = true};
	if (on_mariadb())
		cfg = mariadb_config(db_name);
	int rc = norc_db_open(&cfg, &d, err, sizeof(err));
	ck_assert_msg(rc == NORC_OK, "open: %s", err);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* Run "PREFIX NAME" (CREATE DATABASE x, ...) on a connection of its own. */
static void admin_exec(const char *prefix, const char *name)
{
	char err[512], sql[256];
	struct norc_db *a = connect_admin(err, sizeof(err));
	ck_assert_msg(a != NULL, "admin connection: %s", err);
	snprintf(sql, sizeof(sql), "%s %s", prefix, name);
	DB_OK(a, norc_db_exec(a, sql));
	norc_db_close(a);
}

static void unlink_sqlite(const char *path)
{
	char p[160];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void setup(void)
{
	if (on_mariadb()) {
		snprintf(db_name, sizeof(db_name), "norc_test_db_%ld_%ld_%u", suite_pid,
			 (long)getpid(), seq++);
		admin_exec("CREATE DATABASE", db_name);
	} else {
		snprintf(db_path, sizeof(db_path), "%s/db.XXXXXX", tmp_dir);
		int fd = mkstemp(db_path);
		ck_assert_msg(fd >= 0, "mkstemp %s", db_path);
		close(fd);
	}
	db = connect_db();
}

static void teardown(void)
{
	norc_db_close(db);
	db = NULL;
	if (on_mariadb())
		admin_exec("DROP DATABASE IF EXISTS", db_name);
	else
		unlink_sqlite(db_path);
}

/* Per run, in the parent: the SQLite directory; afterwards remove whatever failed tests left. */
static void run_setup(void)
{
	if (on_mariadb() || tmp_dir[0])
		return;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/norc-test-db.XXXXXX");
	if (!mkdtemp(tmp_dir)) {
		perror("test_db: mkdtemp");
		exit(EXIT_FAILURE);
	}
}

static void drop_leftover_databases(void)
{
	char err[512], pattern[64], names[64][96];
	int n = 0;
	struct norc_db *a = connect_admin(err, sizeof(err));
	if (!a) {
		fprintf(stderr, "test_db: cleanup: %s\n", err);
		return;
	}
	struct norc_stmt *st;
	snprintf(pattern, sizeof(pattern), "norc\\_test\\_db\\_%ld\\_%%", suite_pid);
	if (norc_db_prepare(a, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
			       " WHERE SCHEMA_NAME LIKE ?", &st) == NORC_OK) {
		bool row;
		norc_stmt_bind_text(st, 1, pattern);
		while (n < 64 && norc_stmt_step(st, &row) == NORC_OK && row)
			snprintf(names[n++], sizeof(names[0]), "%s", norc_stmt_column_text(st, 0));
		norc_stmt_finalize(st);
	}
	for (int i = 0; i < n; i++) {
		char sql[160];
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.95s", names[i]);
		if (norc_db_exec(a, sql) != NORC_OK)
			fprintf(stderr, "test_db: cleanup: %s\n", norc_db_errmsg(a));
	}
	norc_db_close(a);
}

static void run_teardown(void)
{
	if (on_mariadb()) {
		drop_leftover_databases();
		return;
	}
	DIR *d = opendir(tmp_dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(tmp_dir);
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void exec_ok(struct norc_db *d, const char *sql)
{
	int rc = norc_db_exec(d, sql);
	ck_assert_msg(rc == NORC_OK, "%s -> %d: %s", sql, rc, norc_db_errmsg(d));
}

/* CREATE TABLE name (id <auto-increment PK>, cols)<table options>, through the DDL tokens. */
static void create_table(struct norc_db *d, const char *name, const char *cols)
{
	char *sql = norc_xasprintf("CREATE TABLE %s (id %s, %s)%s", name,
				   norc_db_ddl(d, NORC_DDL_PK), cols,
				   norc_db_ddl(d, NORC_DDL_TABLE_END));
	exec_ok(d, sql);
	free(sql);
}

/* The table most tests use. LONGTEXT: MariaDB's TEXT stops at 64 KiB. */
static void make_t(void)
{
	create_table(db, "t", "grp BIGINT NOT NULL DEFAULT 0, v BIGINT NULL, s LONGTEXT NULL,"
			      " name VARCHAR(64) NULL, UNIQUE (name)");
}

static struct norc_stmt *prep(struct norc_db *d, const char *sql)
{
	struct norc_stmt *st = NULL;
	int rc = norc_db_prepare(d, sql, &st);
	ck_assert_msg(rc == NORC_OK, "prepare %s -> %d: %s", sql, rc, norc_db_errmsg(d));
	ck_assert_ptr_nonnull(st);
	return st;
}

/* Step, asserting success; returns whether a row came. */
static bool step_ok(struct norc_db *d, struct norc_stmt *st)
{
	bool row = true;
	DB_OK(d, norc_stmt_step(st, &row));
	return row;
}

static int64_t q64(struct norc_db *d, const char *sql)
{
	int64_t v = -4242;
	DB_OK(d, norc_db_query_int64(d, sql, &v, 0));
	return v;
}

/* Insert a row of t (v NULL when vp is NULL); returns its id. */
static int64_t insert_t(int64_t grp, const int64_t *vp, const char *s, const char *name)
{
	struct norc_stmt *st = prep(db, "INSERT INTO t (grp, v, s, name) VALUES (?, ?, ?, ?)");
	DB_OK(db, norc_stmt_bind_int64(st, 1, grp));
	DB_OK(db, vp ? norc_stmt_bind_int64(st, 2, *vp) : norc_stmt_bind_null(st, 2));
	DB_OK(db, norc_stmt_bind_text(st, 3, s));
	DB_OK(db, norc_stmt_bind_text(st, 4, name));
	ck_assert(!step_ok(db, st));
	ck_assert_int_eq(norc_stmt_changes(st), 1);
	norc_stmt_finalize(st);
	return norc_db_last_insert_id(db);
}

static char *pattern_text(size_t len, unsigned seed)
{
	char *s = norc_xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		s[i] = (char)('a' + (i * 7 + seed) % 26);
	s[len] = '\0';
	return s;
}

/* ---- api: both backends ----------------------------------------------------------------- */

START_TEST(ddl_and_autoincrement)
{
	ck_assert_str_eq(norc_db_backend_name(db), on_mariadb() ? "mariadb" : "sqlite");
	ck_assert_int_eq(norc_db_backend(db), on_mariadb() ? NORC_DB_MARIADB : NORC_DB_SQLITE);
	make_t();
	for (int i = 0; i < 3; i++)
		exec_ok(db, "INSERT INTO t (grp) VALUES (1)");
	struct norc_stmt *st = prep(db, "SELECT id FROM t ORDER BY id");
	int64_t prev = 0;
	int n = 0;
	while (step_ok(db, st)) {
		int64_t id = norc_stmt_column_int64(st, 0);
		ck_assert_int_gt(id, prev);
		prev = id;
		n++;
	}
	ck_assert_int_eq(n, 3);
	norc_stmt_finalize(st);
	if (on_mariadb())
		ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM information_schema.TABLES"
					 " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't'"
					 " AND ENGINE = 'InnoDB'"
					 " AND TABLE_COLLATION = 'utf8mb4_bin'"),
				 1);
}
END_TEST

START_TEST(ddl_table_exists)
{
	static const struct {
		const char *name;
		int64_t want;
	} cases[] = {{"t", 1}, {"T_not_there", 0}, {"no_such_table", 0}, {"", 0}};
	struct norc_stmt *st = prep(db, norc_db_ddl(db, NORC_DDL_TABLE_EXISTS));
	DB_OK(db, norc_stmt_bind_text(st, 1, "t"));
	ck_assert(step_ok(db, st));
	ck_assert_int_eq(norc_stmt_column_int64(st, 0), 0); /* not created yet */
	make_t();
	for (size_t i = 0; i < NELEM(cases); i++) {
		DB_OK(db, norc_stmt_reset(st));
		DB_OK(db, norc_stmt_bind_text(st, 1, cases[i].name));
		ck_assert(step_ok(db, st));
		ck_assert_msg(norc_stmt_column_int64(st, 0) == cases[i].want, "table '%s'",
			      cases[i].name);
	}
	norc_stmt_finalize(st);
}
END_TEST

static const int64_t int64_cases[] = {
	0,
	1,
	-1,
	INT64_C(2147483648),
	INT64_MAX,
	INT64_MIN,
	INT64_MAX - 1,
	INT64_MIN + 1,
	INT64_C(1764000000000000),   /* 2025-11-24 16:00:00Z in microseconds */
	INT64_C(253402300799999999), /* 9999-12-31 23:59:59.999999Z */
	INT64_C(-62135596800000000), /* 0001-01-01 00:00:00Z */
};

START_TEST(int64_values)
{
	int64_t want = int64_cases[_i];
	char text[32];
	snprintf(text, sizeof(text), "%" PRId64, want);
	make_t();
	int64_t id = insert_t(7, &want, "x", NULL);

	struct norc_stmt *st = prep(db, "SELECT v, grp FROM t WHERE id = ?");
	DB_OK(db, norc_stmt_bind_int64(st, 1, id));
	ck_assert(step_ok(db, st));
	ck_assert(!norc_stmt_column_is_null(st, 0));
	ck_assert_msg(norc_stmt_column_int64(st, 0) == want, "case %d: got %" PRId64 " want %s",
		      _i, norc_stmt_column_int64(st, 0), text);
	ck_assert_str_eq(norc_stmt_column_text(st, 0), text);
	ck_assert_int_eq(norc_stmt_column_int64(st, 1), 7);
	ck_assert(!step_ok(db, st));
	norc_stmt_finalize(st);

	/* the value also works as a bound comparison argument */
	int64_t got = 0;
	DB_OK(db, norc_db_query_int64(db, "SELECT id FROM t WHERE v = ?", &got, 1, want));
	ck_assert_int_eq(got, id);
}
END_TEST

static const struct {
	const char *text; /* NULL: `len` times `fill` */
	char fill;
	size_t len;
} text_cases[] = {
	{"", 0, 0},
	{"a", 0, 0},
	{"hello world", 0, 0},
	{"it's \"quoted\" and back\\slashed; DROP TABLE t; --", 0, 0},
	{"line1\nline2\ttab\r\n", 0, 0},
	{"trailing space ", 0, 0},
	{"h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93", 0, 0},       /* 2- and 3-byte UTF-8 */
	{"emoji \xf0\x9f\x98\x80 needs utf8mb4", 0, 0},          /* 4-byte UTF-8 */
	{NULL, 'p', 255},                                        /* fits the first buffer */
	{NULL, 'q', 256},                                        /* exactly the first buffer */
	{NULL, 'r', 257},                                        /* one byte too many */
	{NULL, 's', 4000},
};

START_TEST(text_values)
{
	char *want;
	if (text_cases[_i].text) {
		want = norc_xstrdup(text_cases[_i].text);
	} else {
		want = norc_xmalloc(text_cases[_i].len + 1);
		memset(want, text_cases[_i].fill, text_cases[_i].len);
		want[text_cases[_i].len] = '\0';
	}
	make_t();
	int64_t id = insert_t(1, NULL, want, NULL);
	struct norc_stmt *st = prep(db, "SELECT s, id FROM t WHERE s = ?");
	DB_OK(db, norc_stmt_bind_text(st, 1, want));
	ck_assert_msg(step_ok(db, st), "case %d: bound text did not find its row", _i);
	ck_assert(!norc_stmt_column_is_null(st, 0));
	const char *got = norc_stmt_column_text(st, 0);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(strlen(got), strlen(want));
	ck_assert_msg(strcmp(got, want) == 0, "case %d: got '%s'", _i, got);
	ck_assert_int_eq(norc_stmt_column_int64(st, 1), id);
	ck_assert(!step_ok(db, st));
	norc_stmt_finalize(st);
	free(want);
}
END_TEST

START_TEST(null_values)
{
	make_t();
	int64_t zero = 0;
	int64_t id_null = insert_t(1, NULL, NULL, NULL);
	int64_t id_empty = insert_t(2, &zero, "", "");

	struct norc_stmt *st = prep(db, "SELECT v, s, name FROM t WHERE id = ?");
	DB_OK(db, norc_stmt_bind_int64(st, 1, id_null));
	ck_assert(step_ok(db, st));
	for (int c = 0; c < 3; c++) {
		ck_assert_msg(norc_stmt_column_is_null(st, c), "column %d", c);
		ck_assert_ptr_null(norc_stmt_column_text(st, c));
		ck_assert_int_eq(norc_stmt_column_int64(st, c), 0);
	}
	DB_OK(db, norc_stmt_reset(st));
	DB_OK(db, norc_stmt_bind_int64(st, 1, id_empty));
	ck_assert(step_ok(db, st));
	for (int c = 0; c < 3; c++)
		ck_assert_msg(!norc_stmt_column_is_null(st, c), "column %d", c);
	ck_assert_str_eq(norc_stmt_column_text(st, 0), "0");
	ck_assert_str_eq(norc_stmt_column_text(st, 1), "");
	norc_stmt_finalize(st);

	/* one parameter rebound through NULL, text and int */
	st = prep(db, "SELECT COUNT(*) FROM t WHERE s IS NULL AND ? IS NULL");
	DB_OK(db, norc_stmt_bind_text(st, 1, "x"));
	DB_OK(db, norc_stmt_bind_null(st, 1));
	ck_assert(step_ok(db, st));
	ck_assert_int_eq(norc_stmt_column_int64(st, 0), 1);
	DB_OK(db, norc_stmt_reset(st));
	DB_OK(db, norc_stmt_bind_int64(st, 1, 5));
	ck_assert(step_ok(db, st));
	ck_assert_int_eq(norc_stmt_column_int64(st, 0), 0);
	norc_stmt_finalize(st);

	int64_t v = -1;
	DB_OK(db, norc_db_query_int64(db, "SELECT NULL", &v, 0));
	ck_assert_int_eq(v, 0);
}
END_TEST

/* Rows of very different sizes through one statement: MariaDB grows its column buffers. */
START_TEST(big_text)
{
	static const size_t sizes[] = {300, 200 * 1024, 1000, 300 * 1024 + 7, 256, 0};
	enum { N = NELEM(sizes) };
	make_t();
	for (int i = 0; i < N; i++) {
		char *s = pattern_text(sizes[i], (unsigned)i);
		int64_t len = (int64_t)sizes[i];
		insert_t(i, &len, s, NULL);
		free(s);
	}
	struct norc_stmt *st = prep(db, "SELECT grp, s, v FROM t ORDER BY grp");
	for (int i = 0; i < N; i++) {
		ck_assert(step_ok(db, st));
		char *want = pattern_text(sizes[i], (unsigned)i);
		const char *got = norc_stmt_column_text(st, 1);
		ck_assert_int_eq(norc_stmt_column_int64(st, 0), i);
		ck_assert_ptr_nonnull(got);
		ck_assert_msg(strlen(got) == sizes[i], "row %d: length %zu, want %zu", i,
			      strlen(got), sizes[i]);
		ck_assert_msg(memcmp(got, want, sizes[i]) == 0, "row %d: content differs", i);
		ck_assert_int_eq(norc_stmt_column_int64(st, 2), (int64_t)sizes[i]);
		free(want);
	}
	ck_assert(!step_ok(db, st));
	norc_stmt_finalize(st);

	/* and once more on its own, through a bound comparison */
	char *want = pattern_text(sizes[1], 1);
	st = prep(db, "SELECT s FROM t WHERE s = ?");
	DB_OK(db, norc_stmt_bind_text(st, 1, want));
	ck_assert(step_ok(db, st));
	ck_assert(strcmp(norc_stmt_column_text(st, 0), want) == 0);
	norc_stmt_finalize(st);
	free(want);
}
END_TEST

START_TEST(unique_violation)
{
	make_t();
	int64_t id = insert_t(1, NULL, NULL, "dup");
	struct norc_stmt *st = prep(db, "INSERT INTO t (grp, name) VALUES (2, ?)");
	DB_OK(db, norc_stmt_bind_text(st, 1, "dup"));
	bool row = true;
	ck_assert_int_eq(norc_stmt_step(st, &row), NORC_EEXIST);
	ck_assert(!row);
	ck_assert_int_gt(strlen(norc_db_errmsg(db)), 0);
	/* the statement is still usable */
	DB_OK(db, norc_stmt_reset(st));
	DB_OK(db, norc_stmt_bind_text(st, 1, "dup2"));
	ck_assert(!step_ok(db, st));
	norc_stmt_finalize(st);

	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO t (grp, name) VALUES (3, 'dup')"),
			 NORC_EEXIST);
	ck_assert_int_gt(strlen(norc_db_errmsg(db)), 0);
	char sql[96];
	snprintf(sql, sizeof(sql), "INSERT INTO t (id, grp) VALUES (%" PRId64 ", 4)", id);
	ck_assert_int_eq(norc_db_exec(db, sql), NORC_EEXIST);
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 2);

	/* inside a transaction only the statement fails; the transaction goes on */
	DB_OK(db, norc_db_begin(db));
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO t (grp, name) VALUES (5, 'dup')"),
			 NORC_EEXIST);
	ck_assert(norc_db_in_tx(db));
	exec_ok(db, "INSERT INTO t (grp, name) VALUES (5, 'fresh')");
	DB_OK(db, norc_db_commit(db));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 3);
}
END_TEST

START_TEST(commit_and_rollback)
{
	make_t();
	struct norc_db *other = connect_db();
	DB_OK(db, norc_db_rollback(db)); /* harmless without a transaction */
	ck_assert_int_eq(norc_db_commit(db), NORC_EINVAL);

	DB_OK(db, norc_db_begin(db));
	ck_assert(norc_db_in_tx(db));
	insert_t(1, NULL, "committed", NULL);
	ck_assert_int_eq(q64(other, "SELECT COUNT(*) FROM t"), 0); /* not visible yet */
	DB_OK(db, norc_db_commit(db));
	ck_assert(!norc_db_in_tx(db));
	ck_assert_int_eq(q64(other, "SELECT COUNT(*) FROM t"), 1);

	DB_OK(db, norc_db_begin_write(db));
	insert_t(2, NULL, "rolled back", NULL);
	exec_ok(db, "UPDATE t SET grp = 9");
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 2);
	DB_OK(db, norc_db_rollback(db));
	ck_assert(!norc_db_in_tx(db));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 1);
	ck_assert_int_eq(q64(db, "SELECT grp FROM t"), 1);
	ck_assert_int_eq(q64(other, "SELECT COUNT(*) FROM t"), 1);
	norc_db_close(other);
}
END_TEST

START_TEST(begin_is_not_nestable)
{
	make_t();
	DB_OK(db, norc_db_begin(db));
	ck_assert_int_eq(norc_db_begin(db), NORC_EINVAL);
	ck_assert_ptr_nonnull(strstr(norc_db_errmsg(db), "nest"));
	ck_assert_int_eq(norc_db_begin_write(db), NORC_EINVAL);
	ck_assert(norc_db_in_tx(db));
	insert_t(1, NULL, NULL, NULL); /* the outer transaction is intact */
	DB_OK(db, norc_db_commit(db));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 1);

	DB_OK(db, norc_db_begin_write(db));
	ck_assert_int_eq(norc_db_begin(db), NORC_EINVAL);
	DB_OK(db, norc_db_rollback(db));
	ck_assert(!norc_db_in_tx(db));
}
END_TEST

START_TEST(last_insert_id)
{
	make_t();
	int64_t id1 = insert_t(1, NULL, NULL, NULL);
	ck_assert_int_gt(id1, 0);
	ck_assert_int_eq(q64(db, "SELECT MAX(id) FROM t"), id1);
	int64_t id2 = insert_t(1, NULL, NULL, NULL);
	ck_assert_int_eq(id2, id1 + 1);
	exec_ok(db, "INSERT INTO t (grp) VALUES (2)");
	int64_t id3 = norc_db_last_insert_id(db);
	ck_assert_int_eq(id3, id2 + 1);
	ck_assert_int_eq(q64(db, "SELECT id FROM t WHERE grp = 2"), id3);
	/* statements that insert nothing leave it alone */
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 3);
	exec_ok(db, "UPDATE t SET v = 1");
	ck_assert_int_eq(norc_db_last_insert_id(db), id3);
}
END_TEST

static const struct {
	const char *sql;
	int64_t grp;
	int64_t changes;
} change_cases[] = {
	{"UPDATE t SET v = v + 1 WHERE grp = ?", 1, 3},
	{"UPDATE t SET v = v + 1 WHERE grp = ?", 2, 2},
	{"UPDATE t SET v = v + 1 WHERE grp = ?", 9, 0},
	{"UPDATE t SET v = v WHERE grp = ?", 1, 3}, /* rows matched, even when unchanged */
	{"INSERT INTO t (grp, v) SELECT ?, v FROM t WHERE grp = 1", 3, 3},
	{"DELETE FROM t WHERE grp = ?", 2, 2},
	{"DELETE FROM t WHERE grp = ?", 2, 0},
	{"INSERT INTO t (grp) VALUES (?)", 5, 1},
};

START_TEST(changes_count_rows)
{
	make_t();
	static const int64_t groups[] = {1, 1, 1, 2, 2};
	int64_t ten = 10;
	for (size_t i = 0; i < NELEM(groups); i++)
		insert_t(groups[i], &ten, NULL, NULL);
	for (size_t i = 0; i < NELEM(change_cases); i++) {
		struct norc_stmt *st = prep(db, change_cases[i].sql);
		DB_OK(db, norc_stmt_bind_int64(st, 1, change_cases[i].grp));
		ck_assert(!step_ok(db, st));
		ck_assert_msg(norc_stmt_changes(st) == change_cases[i].changes,
			      "case %zu (%s): %" PRId64 " changes, want %" PRId64, i,
			      change_cases[i].sql, norc_stmt_changes(st), change_cases[i].changes);
		norc_stmt_finalize(st);
	}
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 7);
}
END_TEST

START_TEST(step_after_end_and_changes_per_statement)
{
	make_t();
	int64_t one = 1;
	insert_t(1, &one, NULL, NULL);
	/* stepping a finished INSERT again must not insert again (SQLite would re-run it) */
	struct norc_stmt *ins = prep(db, "INSERT INTO t (grp) VALUES (?)");
	DB_OK(db, norc_stmt_bind_int64(ins, 1, 5));
	ck_assert(!step_ok(db, ins));
	ck_assert(!step_ok(db, ins));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t WHERE grp = 5"), 1);
	/* changes() belongs to the statement, not to the connection's last write */
	struct norc_stmt *upd = prep(db, "UPDATE t SET grp = grp + 10 WHERE grp = ?");
	DB_OK(db, norc_stmt_bind_int64(upd, 1, 5));
	ck_assert(!step_ok(db, upd));
	ck_assert_int_eq(norc_stmt_changes(upd), 1);
	struct norc_stmt *sel = prep(db, "SELECT COUNT(*) FROM t");
	ck_assert(step_ok(db, sel));
	ck_assert(!step_ok(db, sel));
	ck_assert_int_eq(norc_stmt_changes(sel), 0);
	struct norc_stmt *none = prep(db, "UPDATE t SET grp = 0 WHERE grp = 999");
	ck_assert(!step_ok(db, none));
	ck_assert_int_eq(norc_stmt_changes(none), 0);
	ck_assert_int_eq(norc_stmt_changes(upd), 1);
	/* after a reset the statement runs again */
	norc_stmt_reset(ins);
	ck_assert(!step_ok(db, ins));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t WHERE grp = 5"), 1);
	norc_stmt_finalize(ins);
	norc_stmt_finalize(upd);
	norc_stmt_finalize(sel);
	norc_stmt_finalize(none);
}
END_TEST

START_TEST(reset_and_rebind)
{
	make_t();
	struct norc_stmt *ins = prep(db, "INSERT INTO t (grp, s) VALUES (?, ?)");
	ck_assert_int_eq(norc_stmt_column_count(ins), 0);
	for (int i = 0; i < 5; i++) {
		char s[16];
		snprintf(s, sizeof(s), "row-%d", i);
		if (i)
			DB_OK(db, norc_stmt_reset(ins));
		DB_OK(db, norc_stmt_bind_int64(ins, 1, i));
		DB_OK(db, norc_stmt_bind_text(ins, 2, s));
		ck_assert(!step_ok(db, ins));
		ck_assert_int_eq(norc_stmt_changes(ins), 1);
	}
	ck_assert_int_ne(norc_stmt_bind_int64(ins, 3, 1), NORC_OK); /* no such parameter */
	ck_assert_int_ne(norc_stmt_bind_int64(ins, 0, 1), NORC_OK);
	norc_stmt_finalize(ins);
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 5);

	struct norc_stmt *sel = prep(db, "SELECT s FROM t WHERE grp = ?");
	ck_assert_int_eq(norc_stmt_column_count(sel), 1);
	DB_OK(db, norc_stmt_reset(sel)); /* before any step: harmless */
	for (int i = 4; i >= 0; i--) {
		char want[16];
		snprintf(want, sizeof(want), "row-%d", i);
		DB_OK(db, norc_stmt_reset(sel));
		DB_OK(db, norc_stmt_bind_int64(sel, 1, i));
		ck_assert(step_ok(db, sel));
		ck_assert_str_eq(norc_stmt_column_text(sel, 0), want);
		ck_assert(!step_ok(db, sel));
	}
	DB_OK(db, norc_stmt_reset(sel)); /* bindings are kept */
	ck_assert(step_ok(db, sel));
	ck_assert_str_eq(norc_stmt_column_text(sel, 0), "row-0");
	norc_stmt_finalize(sel);

	struct norc_stmt *all = prep(db, "SELECT grp FROM t ORDER BY grp");
	ck_assert(step_ok(db, all));
	ck_assert(step_ok(db, all));
	ck_assert_int_eq(norc_stmt_column_int64(all, 0), 1);
	DB_OK(db, norc_stmt_reset(all)); /* in the middle of the result */
	ck_assert(step_ok(db, all));
	ck_assert_int_eq(norc_stmt_column_int64(all, 0), 0);
	norc_stmt_finalize(all);
}
END_TEST

START_TEST(two_statements_open)
{
	make_t();
	for (int64_t i = 1; i <= 10; i++)
		insert_t(i, &i, NULL, NULL);
	struct norc_stmt *sel = prep(db, "SELECT id, v FROM t ORDER BY id");
	struct norc_stmt *upd = prep(db, "UPDATE t SET v = ? WHERE id = ?");
	int n = 0;
	while (step_ok(db, sel)) {
		int64_t id = norc_stmt_column_int64(sel, 0), v = norc_stmt_column_int64(sel, 1);
		DB_OK(db, norc_stmt_reset(upd));
		DB_OK(db, norc_stmt_bind_int64(upd, 1, v * 100));
		DB_OK(db, norc_stmt_bind_int64(upd, 2, id));
		ck_assert(!step_ok(db, upd));
		ck_assert_int_eq(norc_stmt_changes(upd), 1);
		ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 10); /* a third one */
		n++;
	}
	ck_assert_int_eq(n, 10);
	norc_stmt_finalize(sel);
	norc_stmt_finalize(upd);
	ck_assert_int_eq(q64(db, "SELECT SUM(v) FROM t"), 5500);

	/* two result sets read alternately */
	struct norc_stmt *up = prep(db, "SELECT grp FROM t ORDER BY grp");
	struct norc_stmt *down = prep(db, "SELECT grp FROM t ORDER BY grp DESC");
	for (int64_t i = 1; i <= 10; i++) {
		ck_assert(step_ok(db, up));
		ck_assert(step_ok(db, down));
		ck_assert_int_eq(norc_stmt_column_int64(up, 0), i);
		ck_assert_int_eq(norc_stmt_column_int64(down, 0), 11 - i);
	}
	ck_assert(!step_ok(db, up));
	ck_assert(!step_ok(db, down));
	norc_stmt_finalize(up);
	norc_stmt_finalize(down);
}
END_TEST

static const struct {
	const char *sql;
	int nargs;
	int64_t a0, a1;
	int rc;
	int64_t want;
} query_cases[] = {
	{"SELECT COUNT(*) FROM t", 0, 0, 0, NORC_OK, 3},
	{"SELECT v FROM t WHERE grp = ?", 1, 2, 0, NORC_OK, 20},
	{"SELECT COUNT(*) FROM t WHERE grp >= ? AND v > ?", 2, 2, 15, NORC_OK, 2},
	{"SELECT v FROM t WHERE grp = ?", 1, 99, 0, NORC_ENOTFOUND, -7},
	{"SELECT v FROM t WHERE grp > ? ORDER BY grp", 1, 0, 0, NORC_OK, 10}, /* first row */
	{"SELECT NULL", 0, 0, 0, NORC_OK, 0},
	{"SELECT ? + ?", 2, INT64_C(1) << 40, 5, NORC_OK, (INT64_C(1) << 40) + 5},
	{"SELECT nope FROM t", 0, 0, 0, NORC_EDB, -7},
};

START_TEST(query_int64)
{
	make_t();
	for (int64_t g = 1; g <= 3; g++) {
		int64_t v = g * 10;
		insert_t(g, &v, NULL, NULL);
	}
	for (size_t i = 0; i < NELEM(query_cases); i++) {
		int64_t got = -7;
		int rc = norc_db_query_int64(db, query_cases[i].sql, &got, query_cases[i].nargs,
					     query_cases[i].a0, query_cases[i].a1);
		ck_assert_msg(rc == query_cases[i].rc, "case %zu (%s): rc %d, want %d: %s", i,
			      query_cases[i].sql, rc, query_cases[i].rc, norc_db_errmsg(db));
		ck_assert_msg(got == query_cases[i].want,
			      "case %zu (%s): %" PRId64 ", want %" PRId64, i, query_cases[i].sql,
			      got, query_cases[i].want);
	}
}
END_TEST

static const struct {
	const char *sql;
	bool prepare; /* else exec */
	const char *in_msg;
} error_cases[] = {
	{"SELEC 1", true, "SELEC"},
	{"CREAT TABLE x (a INT)", false, "CREAT"},
	{"SELECT * FROM no_such_table", true, "no_such_table"},
	{"INSERT INTO no_such_table VALUES (1)", false, "no_such_table"},
	{"SELECT no_such_column FROM t", true, "no_such_column"},
	{"UPDATE t SET no_such_column = 1", false, "no_such_column"},
};

START_TEST(sql_errors)
{
	make_t();
	for (size_t i = 0; i < NELEM(error_cases); i++) {
		int rc;
		if (error_cases[i].prepare) {
			static char sentinel; /* prepare must overwrite it with NULL */
			struct norc_stmt *st = (struct norc_stmt *)(void *)&sentinel;
			rc = norc_db_prepare(db, error_cases[i].sql, &st);
			ck_assert_ptr_null(st);
		} else {
			rc = norc_db_exec(db, error_cases[i].sql);
		}
		ck_assert_msg(rc == NORC_EDB, "case %zu (%s): rc %d", i, error_cases[i].sql, rc);
		ck_assert_msg(strstr(norc_db_errmsg(db), error_cases[i].in_msg) != NULL,
			      "case %zu: message '%s' does not mention '%s'", i, norc_db_errmsg(db),
			      error_cases[i].in_msg);
	}
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 0); /* the connection still works */
}
END_TEST

static const struct {
	enum norc_sql_clause clause;
	const char *mariadb; /* a substring of MariaDB's fragment; SQLite's is always "" */
} clause_cases[] = {
	{NORC_SQL_LOCK_SKIP, "FOR UPDATE SKIP LOCKED"},
	{NORC_SQL_LOCK_SHARE, "LOCK IN SHARE MODE"},
};

/* Each clause is what the backend expects, and a locking SELECT with it works in a
 * transaction (reading rows, then updating them). */
START_TEST(lock_clauses)
{
	const char *clause = norc_db_clause(db, clause_cases[_i].clause);
	ck_assert_ptr_nonnull(clause);
	if (on_mariadb())
		ck_assert_ptr_nonnull(strstr(clause, clause_cases[_i].mariadb));
	else
		ck_assert_str_eq(clause, "");
	make_t();
	for (int64_t g = 1; g <= 3; g++)
		insert_t(g, NULL, NULL, NULL);
	char *sql = norc_xasprintf("SELECT id, grp FROM t WHERE grp >= ? ORDER BY id LIMIT 2%s",
				   clause);
	DB_OK(db, norc_db_begin_write(db));
	struct norc_stmt *st = prep(db, sql);
	struct norc_stmt *upd = prep(db, "UPDATE t SET v = 1 WHERE id = ?");
	DB_OK(db, norc_stmt_bind_int64(st, 1, 1));
	int n = 0;
	while (step_ok(db, st)) {
		ck_assert_int_eq(norc_stmt_column_int64(st, 1), ++n);
		DB_OK(db, norc_stmt_reset(upd));
		DB_OK(db, norc_stmt_bind_int64(upd, 1, norc_stmt_column_int64(st, 0)));
		ck_assert(!step_ok(db, upd));
	}
	ck_assert_int_eq(n, 2);
	norc_stmt_finalize(st);
	norc_stmt_finalize(upd);
	DB_OK(db, norc_db_commit(db));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t WHERE v = 1"), 2);
	free(sql);
}
END_TEST

/* ---- mariadb only ----------------------------------------------------------------------- */

/* KILL the connection D from another one and wait until the server has dropped it. */
static int64_t kill_connection(struct norc_db *d)
{
	char err[512], sql[64];
	int64_t id = q64(d, "SELECT CONNECTION_ID()");
	struct norc_db *a = connect_admin(err, sizeof(err));
	ck_assert_msg(a != NULL, "%s", err);
	snprintf(sql, sizeof(sql), "KILL %" PRId64, id);
	exec_ok(a, sql);
	for (int i = 0; i < 500; i++) {
		int64_t n = -1;
		DB_OK(a, norc_db_query_int64(a, "SELECT COUNT(*)"
						" FROM information_schema.PROCESSLIST WHERE ID = ?",
					     &n, 1, id));
		if (n == 0)
			break;
		usleep(10000);
	}
	norc_db_close(a);
	return id;
}

static const char *text1(struct norc_db *d, struct norc_stmt *st)
{
	ck_assert(step_ok(d, st));
	return norc_stmt_column_text(st, 0);
}

static void check_session(void)
{
	static const struct {
		const char *sql;
		const char *want; /* substring */
	} vars[] = {
		{"SELECT @@session.time_zone", "+00:00"},
		{"SELECT @@session.tx_isolation", "READ-COMMITTED"},
		{"SELECT @@session.sql_mode", "STRICT_ALL_TABLES"},
		{"SELECT @@session.character_set_client", "utf8mb4"},
		{"SELECT FROM_UNIXTIME(0)", "1970-01-01 00:00:00"},
	};
	for (size_t i = 0; i < NELEM(vars); i++) {
		struct norc_stmt *st = prep(db, vars[i].sql);
		const char *got = text1(db, st);
		ck_assert_msg(got && strstr(got, vars[i].want), "%s: '%s', want '%s'", vars[i].sql,
			      got ? got : "NULL", vars[i].want);
		norc_stmt_finalize(st);
	}
}

START_TEST(mariadb_session)
{
	check_session();
	/* strict mode: too long is an error, not a silent truncation */
	create_table(db, "small", "c VARCHAR(3) NOT NULL");
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO small (c) VALUES ('abcdef')"), NORC_EDB);
	ck_assert_ptr_nonnull(strstr(norc_db_errmsg(db), "1406"));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM small"), 0);

	/* every socket of this process (the connection) is close-on-exec */
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	int sockets = 0;
	while ((e = readdir(d))) {
		char target[64];
		ssize_t n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "socket:", 7) != 0)
			continue;
		int flags = fcntl((int)strtol(e->d_name, NULL, 10), F_GETFD);
		ck_assert_msg(flags >= 0 && (flags & FD_CLOEXEC), "fd %s is not FD_CLOEXEC",
			      e->d_name);
		sockets++;
	}
	closedir(d);
	ck_assert_int_ge(sockets, 1);
}
END_TEST

START_TEST(mariadb_reconnect)
{
	make_t();
	for (int64_t g = 1; g <= 3; g++) {
		int64_t v = g * 10;
		insert_t(g, &v, NULL, NULL);
	}
	struct norc_stmt *sel = prep(db, "SELECT v FROM t WHERE grp = ?");
	struct norc_stmt *stale = prep(db, "SELECT COUNT(*) FROM t");
	DB_OK(db, norc_stmt_bind_int64(sel, 1, 1));
	ck_assert(step_ok(db, sel));
	DB_OK(db, norc_stmt_reset(sel));

	/* a statement prepared before the kill: execute reconnects and re-prepares */
	int64_t killed = kill_connection(db);
	DB_OK(db, norc_stmt_bind_int64(sel, 1, 2));
	ck_assert(step_ok(db, sel));
	ck_assert_int_eq(norc_stmt_column_int64(sel, 0), 20);
	int64_t now = q64(db, "SELECT CONNECTION_ID()");
	ck_assert_int_ne(now, killed);
	/* another statement of the old connection is re-prepared on its first use */
	ck_assert(step_ok(db, stale));
	ck_assert_int_eq(norc_stmt_column_int64(stale, 0), 3);
	check_session(); /* the session was set up again */

	/* exec, prepare and begin each reconnect too */
	kill_connection(db);
	exec_ok(db, "INSERT INTO t (grp) VALUES (4)");
	kill_connection(db);
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 4);
	kill_connection(db);
	DB_OK(db, norc_db_begin(db));
	exec_ok(db, "INSERT INTO t (grp) VALUES (5)");
	DB_OK(db, norc_db_commit(db));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 5);
	DB_OK(db, norc_stmt_reset(sel));
	ck_assert(step_ok(db, sel)); /* re-prepared once more, binding kept */
	ck_assert_int_eq(norc_stmt_column_int64(sel, 0), 20);
	norc_stmt_finalize(sel);
	norc_stmt_finalize(stale);
}
END_TEST

START_TEST(mariadb_lost_in_transaction)
{
	make_t();
	insert_t(1, NULL, NULL, NULL);
	struct norc_stmt *st = prep(db, "SELECT COUNT(*) FROM t");

	/* a statement in a transaction on a killed connection: ECONN, no silent reconnect */
	DB_OK(db, norc_db_begin(db));
	ck_assert(step_ok(db, st));
	kill_connection(db);
	DB_OK(db, norc_stmt_reset(st));
	bool row = true;
	ck_assert_int_eq(norc_stmt_step(st, &row), NORC_ECONN);
	ck_assert(!row);
	ck_assert_int_gt(strlen(norc_db_errmsg(db)), 0);
	ck_assert(norc_db_in_tx(db));
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO t (grp) VALUES (2)"), NORC_ECONN);
	DB_OK(db, norc_db_rollback(db));
	ck_assert(!norc_db_in_tx(db));
	/* the caller retries the whole transaction */
	DB_OK(db, norc_db_begin(db));
	DB_OK(db, norc_stmt_reset(st));
	ck_assert(step_ok(db, st));
	ck_assert_int_eq(norc_stmt_column_int64(st, 0), 1);
	DB_OK(db, norc_db_commit(db));

	/* COMMIT on a killed connection: ECONN and nothing persisted */
	DB_OK(db, norc_db_begin(db));
	exec_ok(db, "INSERT INTO t (grp) VALUES (3)");
	kill_connection(db);
	ck_assert_int_eq(norc_db_commit(db), NORC_ECONN);
	ck_assert(!norc_db_in_tx(db));
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM t"), 1);
	norc_stmt_finalize(st);
}
END_TEST

/* The server drops a connection idle for longer than wait_timeout (error 4031 or 2013 on the
 * next call): the next call reconnects without the caller noticing. */
START_TEST(mariadb_idle_timeout)
{
	make_t();
	insert_t(1, NULL, NULL, NULL);
	struct norc_stmt *st = prep(db, "SELECT COUNT(*) FROM t");
	int64_t before = q64(db, "SELECT CONNECTION_ID()");
	exec_ok(db, "SET SESSION wait_timeout = 1");
	usleep(2500 * 1000);
	ck_assert(step_ok(db, st));
	ck_assert_int_eq(norc_stmt_column_int64(st, 0), 1);
	ck_assert_int_ne(q64(db, "SELECT CONNECTION_ID()"), before);
	ck_assert_int_gt(q64(db, "SELECT @@session.wait_timeout"), 1); /* a fresh session */
	norc_stmt_finalize(st);
}
END_TEST

/* A result being read when another statement re-establishes the connection. */
START_TEST(mariadb_reconnect_with_open_result)
{
	make_t();
	for (int64_t g = 1; g <= 3; g++)
		insert_t(g, NULL, NULL, NULL);
	struct norc_stmt *sel = prep(db, "SELECT grp FROM t ORDER BY grp");
	struct norc_stmt *upd = prep(db, "UPDATE t SET v = 1 WHERE grp = ?");
	ck_assert(step_ok(db, sel));
	kill_connection(db);
	DB_OK(db, norc_stmt_bind_int64(upd, 1, 1));
	ck_assert(!step_ok(db, upd)); /* reconnects */
	ck_assert_int_eq(norc_stmt_changes(upd), 1);
	bool row = true;
	ck_assert_int_eq(norc_stmt_step(sel, &row), NORC_ECONN);
	ck_assert(!row);
	DB_OK(db, norc_stmt_reset(sel));
	ck_assert(step_ok(db, sel));
	ck_assert_int_eq(norc_stmt_column_int64(sel, 0), 1);
	ck_assert(step_ok(db, sel));
	ck_assert_int_eq(norc_stmt_column_int64(sel, 0), 2);
	norc_stmt_finalize(sel);
	norc_stmt_finalize(upd);
}
END_TEST

START_TEST(mariadb_row_locks)
{
	make_t();
	for (int64_t g = 1; g <= 4; g++)
		insert_t(g, NULL, NULL, NULL);
	struct norc_db *other = connect_db();
	/* ORDER BY the primary key: InnoDB locks every row it reads, so a sort would lock all */
	char *sql = norc_xasprintf("SELECT grp FROM t ORDER BY id LIMIT 2%s",
				   norc_db_clause(db, NORC_SQL_LOCK_SKIP));
	struct norc_stmt *a = prep(db, sql), *b = prep(other, sql);
	DB_OK(db, norc_db_begin_write(db));
	DB_OK(other, norc_db_begin_write(other));
	for (int64_t want = 1; want <= 2; want++) {
		ck_assert(step_ok(db, a));
		ck_assert_int_eq(norc_stmt_column_int64(a, 0), want);
	}
	for (int64_t want = 3; want <= 4; want++) { /* rows 1 and 2 are skipped */
		ck_assert(step_ok(other, b));
		ck_assert_int_eq(norc_stmt_column_int64(b, 0), want);
	}
	DB_OK(other, norc_db_rollback(other));

	/* waiting for a locked row ends in NORC_EBUSY */
	exec_ok(other, "SET SESSION innodb_lock_wait_timeout = 1");
	DB_OK(other, norc_db_begin(other));
	ck_assert_int_eq(norc_db_exec(other, "UPDATE t SET v = 2 WHERE grp = 1"), NORC_EBUSY);
	ck_assert_ptr_nonnull(strstr(norc_db_errmsg(other), "1205"));
	DB_OK(other, norc_db_rollback(other));
	DB_OK(db, norc_db_commit(db));
	norc_stmt_finalize(a);
	norc_stmt_finalize(b);
	norc_db_close(other);
	free(sql);
}
END_TEST

START_TEST(mariadb_connect_errors)
{
	char missing[64];
	snprintf(missing, sizeof(missing), "norc_test_missing_%ld", suite_pid);
	struct {
		struct norc_db_config cfg;
		int rc;
		const char *in_msg[3];
	} cases[] = {
		{mariadb_config(missing), NORC_ENOTFOUND, {"does not exist", missing, "norc init"}},
		{mariadb_config(NULL), NORC_ECONN, {"/nonexistent-dir/norc.sock", "is mariadbd"}},
		{mariadb_config(NULL), NORC_ECONN, {"127.0.0.1:1", "database.host/port/socket"}},
		{mariadb_config(NULL), NORC_ECONFIG, {"root", "password_env", "password_file"}},
	};
	cases[1].cfg.socket = "/nonexistent-dir/norc.sock";
	cases[2].cfg.socket = NULL;
	cases[2].cfg.host = "127.0.0.1";
	cases[2].cfg.port = 1;
	cases[3].cfg.password = "Wrong-Secret-42";
	for (size_t i = 0; i < NELEM(cases); i++) {
		char err[512] = "";
		struct norc_db *d = db; /* must be set to NULL */
		int rc = norc_db_open(&cases[i].cfg, &d, err, sizeof(err));
		ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d, want %d: %s", i, rc, cases[i].rc,
			      err);
		ck_assert_ptr_null(d);
		ck_assert_ptr_null(strchr(err, '\n'));
		ck_assert_ptr_null(strstr(err, "Wrong-Secret-42"));
		for (int m = 0; m < 3 && cases[i].in_msg[m]; m++)
			ck_assert_msg(strstr(err, cases[i].in_msg[m]), "case %zu: '%s' lacks '%s'",
				      i, err, cases[i].in_msg[m]);
	}
}
END_TEST

START_TEST(mariadb_tcp)
{
	if (mdb_port <= 0)
		return; /* the server was started without a TCP port */
	char err[512];
	struct norc_db_config cfg = mariadb_config(db_name);
	cfg.socket = NULL;
	cfg.host = "127.0.0.1";
	cfg.port = mdb_port;
	struct norc_db *d = NULL;
	int rc = norc_db_open(&cfg, &d, err, sizeof(err));
	ck_assert_msg(rc == NORC_OK, "%s", err);
	ck_assert_int_eq(q64(d, "SELECT 41 + 1"), 42);
	norc_db_close(d);
	/* a list (Galera): the first server refuses, the next one answers */
	char list[100];
	snprintf(list, sizeof(list), "127.0.0.1:1, [::1]:1,127.0.0.1:%d", mdb_port);
	cfg.host = list;
	rc = norc_db_open(&cfg, &d, err, sizeof(err));
	ck_assert_msg(rc == NORC_OK, "%s", err);
	ck_assert_int_eq(q64(d, "SELECT 6 * 7"), 42);
	norc_db_close(d);
	cfg.host = "127.0.0.1:1,127.0.0.1:x";
	ck_assert_int_eq(norc_db_open(&cfg, &d, err, sizeof(err)), NORC_ECONFIG);
	ck_assert_msg(strstr(err, "give HOST, HOST:PORT or [IPV6]:PORT"), "%s", err);
}
END_TEST

/* ---- main ------------------------------------------------------------------------------- */

/* MDB_SOCKET and MDB_PORT from the env file mariadb-tmp.sh wrote (KEY=VALUE lines). */
static void read_env(void)
{
	const char *path = getenv("NORC_TEST_MARIADB_ENV");
	if (!path || !*path)
		return;
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "test_db: cannot read %s (did the mariadb_start fixture run?)\n",
			path);
		exit(EXIT_FAILURE);
	}
	char line[700];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *v = strchr(line, '=');
		if (!v)
			continue;
		*v++ = '\0';
		size_t n = strlen(v);
		if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		if (strcmp(line, "MDB_SOCKET") == 0)
			snprintf(mdb_socket, sizeof(mdb_socket), "%s", v);
		else if (strcmp(line, "MDB_PORT") == 0)
			mdb_port = (int)strtol(v, NULL, 10);
	}
	fclose(f);
	if (!mdb_socket[0]) {
		fprintf(stderr, "test_db: no MDB_SOCKET in %s\n", path);
		exit(EXIT_FAILURE);
	}
}

/* ---- retries (instance.c) on the real schema ---- */

static int64_t fake_pushed[8];
static int fake_npushed;
static int fake_push(void *h, int64_t id, char *err, size_t errlen)
{
	(void)h, (void)err, (void)errlen;
	ck_assert_int_lt(fake_npushed, 8);
	fake_pushed[fake_npushed++] = id;
	return NORC_OK;
}
static const struct norc_queue_ops fake_ops = {.struct_size = sizeof(fake_ops), .push = fake_push};
static struct norc_queue_handle fake_q = {.id = 1, .name = "Q", .ops = &fake_ops};
static struct norc_queue_handle *fake_open(void *ctx, int64_t id)
{
	(void)ctx;
	return id == 1 ? &fake_q : NULL;
}
static void fake_rang(void *ctx, int64_t qid, int64_t iid) { (void)ctx, (void)qid, (void)iid; }

/* Overlap "queue": the blocker's end releases the held run, unless its task could not hold
 * one when it started (cannot_hold); then the scheduler's sweep does, and only once nothing
 * runs ahead of it. */
/* An executor's stop requests are its running processes only: a job instance being stopped
 * (it has nodes, no process) never hides them, however many there are. */
START_TEST(job_kill_requests)
{
	char err[512], sql[256];
	int from, n = -1, st[64];
	int64_t ids[64];
	ck_assert_int_eq(norc_schema_migrate(db, &from, err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO queues (name, type, params, added) VALUES "
				      "('Q', 'DBQueue', '{}', 1)"), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO tasks (name, type, params, added) VALUES "
				      "('T', 'CommandTask', '{}', 1), ('J', 'Job', '{}', 1)"), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO daemons (kind, host, pid) VALUES "
				      "('executor', 'h', 1)"), NORC_OK);
	for (int i = 0; i < 70; i++) { /* job #(2i+1) stopping, its node #(2i+2) elsewhere */
		snprintf(sql, sizeof(sql), "INSERT INTO instances (task_id, queue_id, status, "
			 "enqueued, executor_id, kill_status) VALUES (2, 1, 2, 1, 1, 16)");
		ck_assert_int_eq(norc_db_exec(db, sql), NORC_OK);
		snprintf(sql, sizeof(sql), "INSERT INTO instances (task_id, queue_id, status, "
			 "enqueued, job_instance_id) VALUES (1, 1, 2, 1, %d)", 2 * i + 1);
		ck_assert_int_eq(norc_db_exec(db, sql), NORC_OK);
	}
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO instances (task_id, queue_id, status, "
				      "enqueued, executor_id, kill_status) VALUES (1, 1, 2, 1, 1, 16)"),
			 NORC_OK);
	ck_assert_int_eq(norc_job_kill_requests(db, 1, ids, st, 64, &n), NORC_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(ids[0], 141);
	ck_assert_int_eq(st[0], NORC_ST_INTERRUPTED);
}
END_TEST

START_TEST(held_release)
{
	char err[512], sql[256];
	int from, released = -1;
	ck_assert_int_eq(norc_schema_migrate(db, &from, err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO queues (name, type, params, added) VALUES "
				      "('Q', 'DBQueue', '{}', 1)"), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO tasks (name, type, params, overlap, added) "
				      "VALUES ('T', 'CommandTask', '{}', 2, 1)"), NORC_OK);
	snprintf(sql, sizeof(sql), "INSERT INTO instances (task_id, queue_id, status, enqueued, "
		 "retry_at) VALUES (1, 1, 2, 1, NULL), (1, 1, 1, 1, %lld), (1, 1, 2, 1, NULL), "
		 "(1, 1, 1, 1, %lld)", (long long)NORC_INSTANCE_HELD, (long long)NORC_INSTANCE_HELD);
	ck_assert_int_eq(norc_db_exec(db, sql), NORC_OK);
	/* #1 and #3 run, #2 and #4 wait: the sweep leaves them */
	ck_assert_int_eq(norc_instance_release_holds(db, &released), NORC_OK);
	ck_assert_int_eq(released, 0);
	/* #3 ends and looks: #2 (the oldest held) may go */
	struct norc_instance_end ok = {NORC_ST_SUCCESS, 0, 0, NULL, false, false, false, false};
	struct norc_instance_after after;
	ck_assert_int_eq(norc_instance_end(db, 3, &ok, &after), NORC_OK);
	ck_assert_int_eq(after.released_id, 2);
	/* #1 ends without looking (its task was not "queue" when it started): #4 stays held */
	struct norc_instance_end blind = {NORC_ST_SUCCESS, 0, 0, NULL, false, true, false, false};
	ck_assert_int_eq(norc_instance_end(db, 1, &blind, &after), NORC_OK);
	ck_assert_int_eq(after.released_id, 0);
	int64_t v;
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT COUNT(*) FROM instances WHERE retry_at = ?",
					     &v, 1, (int64_t)NORC_INSTANCE_HELD), NORC_OK);
	ck_assert_int_eq(v, 1);
	/* #2 is due now (not running): it counts as active, so #4 still waits */
	ck_assert_int_eq(norc_instance_release_holds(db, &released), NORC_OK);
	ck_assert_int_eq(released, 0);
	/* once #2 has ended too, the sweep releases #4, once */
	ck_assert_int_eq(norc_instance_end(db, 2, &blind, &after), NORC_OK);
	ck_assert_int_eq(norc_instance_release_holds(db, &released), NORC_OK);
	ck_assert_int_eq(released, 1);
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT retry_at FROM instances WHERE id = 4", &v,
					     0), NORC_OK);
	ck_assert(v > 0 && v < NORC_INSTANCE_HELD);
	ck_assert_int_eq(norc_instance_release_holds(db, &released), NORC_OK);
	ck_assert_int_eq(released, 0);
}
END_TEST

START_TEST(instance_retries)
{
	char err[512];
	int from;
	ck_assert_int_eq(norc_schema_migrate(db, &from, err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO queues (name, type, params, added) VALUES "
				      "('Q', 'DBQueue', '{}', 1)"), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO tasks (name, type, params, retries, "
				      "retry_delay, retry_max_delay, added) VALUES ('T', "
				      "'CommandTask', '{}', 2, 10, 15, 1)"), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO instances (task_id, schedule_id, fire_time, "
				      "queue_id, status, enqueued) VALUES (1, NULL, 5, 1, 2, 1)"),
			 NORC_OK);
	/* backoff doubles and stops at the cap */
	ck_assert_int_eq(norc_instance_retry_delay(1, 10, 15), 10);
	ck_assert_int_eq(norc_instance_retry_delay(2, 10, 15), 15);
	ck_assert_int_eq(norc_instance_retry_delay(40, 10, 3600), 3600);
	ck_assert_int_eq(norc_instance_retry_delay(1, 0, 3600), 0);

	struct norc_instance_end fail = {NORC_ST_FAILURE, 3, 0, NULL, false, false, false, false};
	int64_t t0 = norc_clock_now_us();
	struct norc_instance_after after;
	ck_assert_int_eq(norc_instance_end(db, 1, &fail, &after), NORC_OK);
	ck_assert(after.recorded);
	ck_assert_int_eq(after.retry_id, 2);
	int64_t v;
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT attempt * 1000 + previous_id + status * 10 "
					     "FROM instances WHERE id = 2", &v, 0), NORC_OK);
	ck_assert_int_eq(v, 2000 + 1 + NORC_ST_CREATED * 10);
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT retry_at FROM instances WHERE id = 2", &v,
					     0), NORC_OK);
	ck_assert(v >= t0 + 10 * NORC_US_PER_SEC && v <= norc_clock_now_us() + 10 * NORC_US_PER_SEC);
	/* a final status is never overwritten, and no second retry comes of it */
	struct norc_instance_end ok = {NORC_ST_SUCCESS, 0, 0, NULL, false, false, false, false};
	ck_assert_int_eq(norc_instance_end(db, 1, &ok, &after), NORC_OK);
	ck_assert(!after.recorded);
	ck_assert_int_eq(after.retry_id, 0);
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT status FROM instances WHERE id = 1", &v, 0),
			 NORC_OK);
	ck_assert_int_eq(v, NORC_ST_FAILURE);

	/* not due yet: nothing pushed, next_at says when */
	int pushed;
	int64_t next;
	fake_npushed = 0;
	ck_assert_int_eq(norc_instance_push_retries(db, t0, 10, fake_open, fake_rang, NULL, &pushed,
						    &next), NORC_OK);
	ck_assert_int_eq(pushed, 0);
	ck_assert(next >= t0 + 10 * NORC_US_PER_SEC);
	/* due: pushed once, and only once */
	int64_t later = t0 + 3600 * NORC_US_PER_SEC;
	ck_assert_int_eq(norc_instance_push_retries(db, later, 10, fake_open, fake_rang, NULL,
						    &pushed, &next), NORC_OK);
	ck_assert_int_eq(pushed, 1);
	ck_assert_int_eq(fake_pushed[0], 2);
	ck_assert_int_eq(next, 0);
	ck_assert_int_eq(norc_instance_push_retries(db, later, 10, fake_open, fake_rang, NULL,
						    &pushed, &next), NORC_OK);
	ck_assert_int_eq(pushed, 0);

	/* attempt 2 lost (its executor died): attempt 3 is the last one the task allows */
	ck_assert_int_eq(norc_db_exec(db, "UPDATE instances SET status = 2 WHERE id = 2"), NORC_OK);
	struct norc_instance_end lost = {NORC_ST_ERROR, -1, 0, "executor lost", true, false, false, false};
	ck_assert_int_eq(norc_instance_end(db, 2, &lost, &after), NORC_OK);
	ck_assert_int_eq(after.retry_id, 3);
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT COUNT(*) FROM instances WHERE id = 2 AND "
					     "reason = 'executor lost'", &v, 0), NORC_OK);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(norc_db_exec(db, "UPDATE instances SET status = 2 WHERE id = 3"), NORC_OK);
	ck_assert_int_eq(norc_instance_end(db, 3, &fail, &after), NORC_OK);
	ck_assert(after.recorded);
	ck_assert_int_eq(after.retry_id, 0);
	/* an ERROR that is not a loss (could not start) is not retried */
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO instances (task_id, queue_id, status, "
				      "enqueued) VALUES (1, 1, 2, 1)"), NORC_OK);
	struct norc_instance_end err_end = {NORC_ST_ERROR, -1, 0, "could not start: x", false,
					    false, false, false};
	ck_assert_int_eq(norc_instance_end(db, 4, &err_end, &after), NORC_OK);
	ck_assert(after.recorded);
	ck_assert_int_eq(after.retry_id, 0);
}
END_TEST

/* ---- alerts (alert.h) -------------------------------------------------------------------- */

/* Schema, queue Q, task T (#1) with a rule: events, deadline 0, webhook only. */
static void alert_fixture(int events)
{
	char err[512];
	int from;
	ck_assert_int_eq(norc_schema_migrate(db, &from, err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO queues (name, type, params, added) VALUES "
				      "('Q', 'DBQueue', '{}', 1)"), NORC_OK);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO tasks (name, type, params, added) VALUES "
				      "('T', 'CommandTask', '{}', 1)"), NORC_OK);
	struct norc_alert_rule r = {.events = events, .webhook = "http://127.0.0.1:9/h"};
	bool changed = false;
	ck_assert_int_eq(norc_alert_rule_set(db, 1, &r, NORC_ALERT_SET_ON | NORC_ALERT_SET_WEBHOOK,
					     &changed, err, sizeof(err)), NORC_OK);
	ck_assert(changed);
}

/* Rules: validation with one line naming the fix, fields merged, unchanged reported. */
START_TEST(alert_rules)
{
	char err[512];
	alert_fixture(NORC_ALERT_ON_FAILURE);
	bool changed = true;
	struct norc_alert_rule r = {.email = "ops@example.com"};
	ck_assert_int_eq(norc_alert_rule_set(db, 1, &r, NORC_ALERT_SET_EMAIL, &changed, err,
					     sizeof(err)), NORC_OK);
	ck_assert(changed);
	json_t *o;
	ck_assert_int_eq(norc_alert_rule_get(db, 1, &o), NORC_OK);
	ck_assert_str_eq(json_string_value(json_object_get(o, "on")), "failure"); /* kept */
	ck_assert_str_eq(json_string_value(json_object_get(o, "email")), "ops@example.com");
	ck_assert_str_eq(json_string_value(json_object_get(o, "webhook")), "http://127.0.0.1:9/h");
	json_decref(o);
	ck_assert_int_eq(norc_alert_rule_set(db, 1, &r, NORC_ALERT_SET_EMAIL, &changed, err,
					     sizeof(err)), NORC_OK);
	ck_assert(!changed);
	r = (struct norc_alert_rule){.events = 0};
	ck_assert_int_eq(norc_alert_rule_set(db, 1, &r, NORC_ALERT_SET_ON, &changed, err,
					     sizeof(err)), NORC_EINVAL);
	ck_assert_msg(strstr(err, "would watch nothing"), "%s", err);
	r = (struct norc_alert_rule){.email = "", .webhook = ""};
	ck_assert_int_eq(norc_alert_rule_set(db, 1, &r, NORC_ALERT_SET_EMAIL | NORC_ALERT_SET_WEBHOOK,
					     &changed, err, sizeof(err)), NORC_EINVAL);
	ck_assert_msg(strstr(err, "no destination"), "%s", err);
	r = (struct norc_alert_rule){.email = "a@b,no-at-sign"};
	ck_assert_int_eq(norc_alert_rule_set(db, 1, &r, NORC_ALERT_SET_EMAIL, &changed, err,
					     sizeof(err)), NORC_EINVAL);
	ck_assert_msg(strstr(err, "\"no-at-sign\" is not an e-mail address"), "%s", err);
	int ev;
	ck_assert_int_eq(norc_alert_on_parse("timeout,failure", &ev, err, sizeof(err)), NORC_OK);
	ck_assert_int_eq(ev, NORC_ALERT_ON_FAILURE | NORC_ALERT_ON_TIMEOUT);
	ck_assert_str_eq(norc_alert_on_format(ev), "failure,timeout");
	ck_assert_int_eq(norc_alert_on_parse("failure,boom", &ev, err, sizeof(err)), NORC_EINVAL);
	bool had;
	ck_assert_int_eq(norc_alert_rule_clear(db, 1, &had), NORC_OK);
	ck_assert(had);
	ck_assert_int_eq(norc_alert_rule_get(db, 1, &o), NORC_ENOTFOUND);
}
END_TEST

/* What an end raises, by the rule's events: at most one alert, the most specific kind. */
START_TEST(alert_on_end)
{
	static const struct {
		int events, status;
		bool final;
		int kind; /* 0: none */
	} cases[] = {
		{NORC_ALERT_ON_FAILURE, NORC_ST_FAILURE, false, NORC_ALERT_FAILURE},
		{NORC_ALERT_ON_FAILURE, NORC_ST_TIMEDOUT, false, NORC_ALERT_FAILURE},
		{NORC_ALERT_ON_FAILURE, NORC_ST_FAILURE, true, NORC_ALERT_FAILURE},
		{NORC_ALERT_ON_EXHAUSTED, NORC_ST_FAILURE, false, 0},
		{NORC_ALERT_ON_EXHAUSTED, NORC_ST_ERROR, true, NORC_ALERT_EXHAUSTED},
		{NORC_ALERT_ON_TIMEOUT, NORC_ST_FAILURE, true, 0},
		{NORC_ALERT_ON_TIMEOUT, NORC_ST_TIMEDOUT, false, NORC_ALERT_TIMEOUT},
		{NORC_ALERT_ON_ALL, NORC_ST_TIMEDOUT, true, NORC_ALERT_EXHAUSTED},
		{NORC_ALERT_ON_FAILURE | NORC_ALERT_ON_TIMEOUT, NORC_ST_TIMEDOUT, true,
		 NORC_ALERT_TIMEOUT},
	};
	char err[512], sql[200];
	alert_fixture(NORC_ALERT_ON_FAILURE);
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct norc_alert_rule r = {.events = cases[i].events};
		ck_assert_int_eq(norc_alert_rule_set(db, 1, &r, NORC_ALERT_SET_ON, NULL, err,
						     sizeof(err)), NORC_OK);
		ck_assert_int_eq(norc_db_exec(db, "INSERT INTO instances (task_id, queue_id, status, "
					      "enqueued) VALUES (1, 1, 2, 1)"), NORC_OK);
		int64_t id = norc_db_last_insert_id(db), added = -1;
		ck_assert_int_eq(norc_alert_on_end(db, id, cases[i].status, cases[i].final, 5,
						   &added), NORC_OK);
		ck_assert_int_eq(added, cases[i].kind != 0);
		snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(kind), 0) FROM alerts WHERE "
			 "instance_id = %" PRId64, id);
		ck_assert_msg(q64(db, sql) == cases[i].kind, "case %zu: kind %" PRId64, i, q64(db, sql));
	}
}
END_TEST

/* Leases: a taken alert is not taken again until its lease runs out; a result needs the
 * lease; failures back off, then give up; an untried alert goes back without an attempt. */
START_TEST(alert_leases)
{
	alert_fixture(NORC_ALERT_ON_FAILURE);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO instances (task_id, queue_id, status, "
				      "enqueued) VALUES (1, 1, 13, 1)"), NORC_OK);
	for (int i = 0; i < 2; i++) {
		int64_t added;
		ck_assert_int_eq(norc_alert_on_end(db, 1, NORC_ST_FAILURE, false, 1000, &added),
				 NORC_OK);
	}
	struct norc_alert_msg *m, *m2;
	size_t n, n2;
	int64_t lease, lease2;
	int cancelled, state;
	ck_assert_int_eq(norc_alert_take(db, 2000, 10, 100, 16, &m, &n, &lease, &cancelled), NORC_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(lease, 2000 + 100 + 2 * 10); /* one channel (webhook) each */
	ck_assert_str_eq(m[0].task_name, "T");
	ck_assert_str_eq(m[0].webhook, "http://127.0.0.1:9/h");
	ck_assert_int_eq(m[0].status, NORC_ST_FAILURE);
	ck_assert_int_eq(norc_alert_take(db, 2001, 10, 100, 16, &m2, &n2, &lease2, &cancelled),
			 NORC_OK);
	ck_assert_int_eq(n2, 0); /* leased */
	ck_assert_int_eq(norc_alert_record(db, &m[0], lease + 1, NORC_ALERT_WEBHOOK, NORC_OK, NULL,
					   3, 30, 2050, &state), NORC_OK);
	ck_assert_int_eq(state, -1); /* not its lease */
	ck_assert_int_eq(norc_alert_record(db, &m[0], lease, 0, NORC_EIO, "HTTP 500", 3, 30, 2050,
					   &state), NORC_OK);
	ck_assert_int_eq(state, NORC_ALERT_WAITING);
	ck_assert_int_eq(q64(db, "SELECT due FROM alerts WHERE id = 1"), 2050 + 30 * NORC_US_PER_SEC);
	ck_assert_int_eq(norc_alert_release(db, m[1].id, lease, 2060), NORC_OK);
	ck_assert_int_eq(q64(db, "SELECT attempts * 10 + state FROM alerts WHERE id = 2"), 0);
	norc_alert_msgs_free(m, n);
	/* the second comes back at once; after its lease runs out it is taken again */
	ck_assert_int_eq(norc_alert_take(db, 2100, 10, 100, 16, &m, &n, &lease, &cancelled), NORC_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(m[0].id, 2);
	ck_assert_int_eq(norc_alert_take(db, lease, 10, 100, 16, &m2, &n2, &lease2, &cancelled),
			 NORC_OK);
	ck_assert_int_eq(n2, 1);
	ck_assert_int_eq(norc_alert_record(db, &m[0], lease, NORC_ALERT_WEBHOOK, NORC_OK, NULL, 3, 30,
					   lease + 1, &state), NORC_OK);
	ck_assert_int_eq(state, -1); /* the lease went to the second take */
	ck_assert_int_eq(norc_alert_record(db, &m2[0], lease2, NORC_ALERT_WEBHOOK, NORC_OK, NULL, 3,
					   30, lease2 + 1, &state), NORC_OK);
	ck_assert_int_eq(state, NORC_ALERT_SENT);
	norc_alert_msgs_free(m, n);
	norc_alert_msgs_free(m2, n2);
	/* alert 1: two more failures and it is FAILED */
	int64_t t = 2050 + 30 * NORC_US_PER_SEC;
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(norc_alert_take(db, t, 10, 100, 16, &m, &n, &lease, &cancelled),
				 NORC_OK);
		ck_assert_int_eq(n, 1);
		ck_assert_int_eq(norc_alert_record(db, &m[0], lease, 0, NORC_EIO, "down", 3, 30, t,
						   &state), NORC_OK);
		ck_assert_int_eq(state, i == 0 ? NORC_ALERT_WAITING : NORC_ALERT_FAILED);
		t += 3600 * NORC_US_PER_SEC;
		norc_alert_msgs_free(m, n);
	}
	ck_assert_int_eq(q64(db, "SELECT attempts FROM alerts WHERE id = 1"), 3);
	int pruned = -1;
	ck_assert_int_eq(norc_alert_prune(db, lease2 + 1, 100, &pruned), NORC_OK);
	ck_assert_int_eq(pruned, 0); /* ended at lease2 + 1 and later: kept */
	ck_assert_int_eq(norc_alert_prune(db, t, 100, &pruned), NORC_OK);
	ck_assert_int_eq(pruned, 2);
}
END_TEST

/* Deadlines: met -> cancelled; missed -> taken with the latest attempt; judged only once. */
START_TEST(alert_deadlines)
{
	alert_fixture(NORC_ALERT_ON_FAILURE);
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO schedules (task_id, queue_id, kind, period, "
				      "start_at, added) VALUES (1, 1, 'period', 60, 1, 1)"), NORC_OK);
	/* fire 100: succeeded at 150; fire 200: attempt 1 failed, attempt 2 running */
	ck_assert_int_eq(norc_db_exec(db, "INSERT INTO instances (task_id, schedule_id, fire_time, "
				      "queue_id, status, enqueued, ended, attempt) VALUES "
				      "(1, 1, 100, 1, 7, 100, 150, 1), (1, 1, 200, 1, 13, 200, 210, 1), "
				      "(1, 1, 200, 1, 2, 220, NULL, 2)"), NORC_OK);
	ck_assert_int_eq(norc_alert_on_fire(db, 1, 1, 160, 100), NORC_OK);
	ck_assert_int_eq(norc_alert_on_fire(db, 1, 2, 260, 200), NORC_OK);
	struct norc_alert_msg *m;
	size_t n;
	int64_t lease;
	int cancelled, state;
	ck_assert_int_eq(norc_alert_take(db, 300, 10, 100, 16, &m, &n, &lease, &cancelled), NORC_OK);
	ck_assert_int_eq(cancelled, 1);
	ck_assert_int_eq(q64(db, "SELECT state FROM alerts WHERE id = 1"), NORC_ALERT_CANCELLED);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(m[0].instance_id, 3); /* the latest attempt */
	ck_assert_msg(strstr(m[0].detail, "still RUNNING at the deadline"), "%s", m[0].detail);
	ck_assert_int_eq(norc_alert_record(db, &m[0], lease, 0, NORC_EIO, "down", 5, 1, 300, &state),
			 NORC_OK);
	norc_alert_msgs_free(m, n);
	/* the run then succeeds late; the retried delivery still goes out */
	ck_assert_int_eq(norc_db_exec(db, "UPDATE instances SET status = 7, ended = 400 WHERE id = 3"),
			 NORC_OK);
	ck_assert_int_eq(norc_alert_take(db, 300 + 2 * NORC_US_PER_SEC, 10, 100, 16, &m, &n, &lease,
					 &cancelled), NORC_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(cancelled, 0);
	ck_assert_msg(strstr(m[0].detail, "still RUNNING"), "%s", m[0].detail); /* the verdict */
	norc_alert_msgs_free(m, n);
}
END_TEST

/* The dead man's switch: trips once per silence, again after a new success. */
START_TEST(alert_switch)
{
	char err[512];
	alert_fixture(NORC_ALERT_ON_FAILURE);
	int64_t t0 = norc_clock_now_us(), next = 0, s = NORC_US_PER_SEC;
	struct norc_alert_rule r = {.no_success_s = 10};
	ck_assert_int_eq(norc_alert_rule_set(db, 1, &r, NORC_ALERT_SET_NO_SUCCESS, NULL, err,
					     sizeof(err)), NORC_OK);
	int tripped = -1;
	ck_assert_int_eq(norc_alert_check_switches(db, t0 + 5 * s, 20, &tripped, &next), NORC_OK);
	ck_assert_int_eq(tripped, 0);
	ck_assert(next > t0 + 9 * s && next <= t0 + 11 * s); /* armed + 10 s */
	ck_assert_int_eq(norc_alert_check_switches(db, t0 + 12 * s, 20, &tripped, &next), NORC_OK);
	ck_assert_int_eq(tripped, 1);
	ck_assert_int_eq(norc_alert_check_switches(db, t0 + 30 * s, 20, &tripped, &next), NORC_OK);
	ck_assert_int_eq(tripped, 0); /* the same silence */
	char sql[200];
	snprintf(sql, sizeof(sql), "INSERT INTO instances (task_id, queue_id, status, enqueued, "
		 "ended) VALUES (1, 1, 7, 1, %" PRId64 ")", t0 + 35 * s);
	ck_assert_int_eq(norc_db_exec(db, sql), NORC_OK);
	ck_assert_int_eq(norc_alert_check_switches(db, t0 + 60 * s, 20, &tripped, &next), NORC_OK);
	ck_assert_int_eq(tripped, 1); /* 25 s since that success */
	ck_assert_int_eq(q64(db, "SELECT COUNT(*) FROM alerts WHERE kind = 5"), 2);
}
END_TEST


int main(void)
{
	read_env();
	suite_pid = (long)getpid();
	Suite *s = suite_create(on_mariadb() ? "db-mariadb" : "db-sqlite");

	TCase *tc = tcase_create("api");
	tcase_add_unchecked_fixture(tc, run_setup, run_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ddl_and_autoincrement);
	tcase_add_loop_test(tc, int64_values, 0, (int)NELEM(int64_cases));
	tcase_add_loop_test(tc, text_values, 0, (int)NELEM(text_cases));
	tcase_add_test(tc, null_values);
	tcase_add_test(tc, big_text);
	tcase_add_test(tc, unique_violation);
	tcase_add_test(tc, commit_and_rollback);
	tcase_add_test(tc, begin_is_not_nestable);
	tcase_add_test(tc, last_insert_id);
	tcase_add_test(tc, changes_count_rows);
	tcase_add_test(tc, reset_and_rebind);
	tcase_add_test(tc, step_after_end_and_changes_per_statement);
	tcase_add_test(tc, two_statements_open);
	tcase_add_test(tc, query_int64);
	tcase_add_test(tc, sql_errors);
	tcase_add_loop_test(tc, lock_clauses, 0, (int)NELEM(clause_cases));
	tcase_add_test(tc, ddl_table_exists);
	tcase_add_test(tc, instance_retries);
	tcase_add_test(tc, held_release);
	tcase_add_test(tc, job_kill_requests);
	tcase_add_test(tc, alert_rules);
	tcase_add_test(tc, alert_on_end);
	tcase_add_test(tc, alert_leases);
	tcase_add_test(tc, alert_deadlines);
	tcase_add_test(tc, alert_switch);
	suite_add_tcase(s, tc);

	if (on_mariadb()) {
		tc = tcase_create("mariadb");
		tcase_add_unchecked_fixture(tc, run_setup, run_teardown);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, mariadb_session);
		tcase_add_test(tc, mariadb_reconnect);
		tcase_add_test(tc, mariadb_lost_in_transaction);
		tcase_add_test(tc, mariadb_reconnect_with_open_result);
		tcase_add_test(tc, mariadb_idle_timeout);
		tcase_add_test(tc, mariadb_row_locks);
		tcase_add_test(tc, mariadb_connect_errors);
		tcase_add_test(tc, mariadb_tcp);
		suite_add_tcase(s, tc);
	}
	return norc_unit_run(s);
}
