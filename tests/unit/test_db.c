/*
 * test_db.c - the norc_db API, run against SQLite (a temp file) and, when
 * NORC_TEST_MARIADB_ENV names the env file of the test server, against MariaDB (a fresh
 * database per test). Same assertions on both: that is the point of the API.
 */
#include "db.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char socket_path[640];
static struct norc_db *db;
static char sqlite_path[64];
static char dbname[64];
static int seq;

static bool mariadb(void) { return socket_path[0] != '\0'; }

static struct norc_db *open_maria(const char *name, int *rc, char *err, size_t errlen)
{
	struct norc_db_config c = {.backend = NORC_DB_MARIADB, .socket = socket_path,
				   .user = "root", .password = "", .database = name};
	struct norc_db *d = NULL;
	*rc = norc_db_open(&c, &d, err, errlen);
	return d;
}

static void setup(void)
{
	char err[512];
	int rc;
	if (mariadb()) {
		snprintf(dbname, sizeof(dbname), "norc_test_db_%d_%d", (int)getpid(), ++seq);
		struct norc_db *root = open_maria(NULL, &rc, err, sizeof(err));
		ck_assert_msg(rc == 0, "%s", err);
		char sql[128];
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
		ck_assert_int_eq(norc_db_exec(root, sql), 0);
		norc_db_close(root);
		db = open_maria(dbname, &rc, err, sizeof(err));
		ck_assert_msg(rc == 0, "%s", err);
	} else {
		snprintf(sqlite_path, sizeof(sqlite_path), "/tmp/norc-test-db-XXXXXX");
		int fd = mkstemp(sqlite_path);
		ck_assert_int_ge(fd, 0);
		close(fd);
		struct norc_db_config c = {.backend = NORC_DB_SQLITE, .path = sqlite_path};
		rc = norc_db_open(&c, &db, err, sizeof(err));
		ck_assert_msg(rc == 0, "%s", err);
	}
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE t (id %s, name VARCHAR(64) NOT NULL, n BIGINT NULL, body TEXT NULL,"
		 " UNIQUE (name))%s", norc_db_ddl(db, NORC_DDL_PK), norc_db_ddl(db, NORC_DDL_TABLE_END));
	ck_assert_msg(norc_db_exec(db, sql) == 0, "%s", norc_db_errmsg(db));
}

static void teardown(void)
{
	norc_db_close(db);
	db = NULL;
	if (mariadb()) {
		int rc;
		char err[512], sql[128];
		struct norc_db *root = open_maria(NULL, &rc, err, sizeof(err));
		snprintf(sql, sizeof(sql), "DROP DATABASE %s", dbname);
		if (root)
			norc_db_exec(root, sql);
		norc_db_close(root);
	} else {
		char p[80];
		unlink(sqlite_path);
		snprintf(p, sizeof(p), "%s-wal", sqlite_path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", sqlite_path);
		unlink(p);
	}
}

static int insert(const char *name, int64_t n, const char *body)
{
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, "INSERT INTO t (name, n, body) VALUES (?, ?, ?)", &st);
	ck_assert_msg(rc == 0, "%s", norc_db_errmsg(db));
	norc_stmt_bind_text(st, 1, name);
	norc_stmt_bind_int64(st, 2, n);
	norc_stmt_bind_text(st, 3, body);
	bool row;
	rc = norc_stmt_step(st, &row);
	ck_assert(!row);
	norc_stmt_finalize(st);
	return rc;
}

static int64_t count(void)
{
	int64_t n = -1;
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT COUNT(*) FROM t", &n, 0), 0);
	return n;
}

static const int64_t values[] = {0, 1, -1, INT64_C(1795989605123456), INT64_C(-9000000000000000000),
				 INT64_C(9000000000000000000)};

START_TEST(int64_roundtrip)
{
	char name[32];
	snprintf(name, sizeof(name), "v%d", _i);
	ck_assert_int_eq(insert(name, values[_i], "x"), 0);
	int64_t id = norc_db_last_insert_id(db);
	ck_assert_int_gt(id, 0);
	int64_t got = 42;
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT n FROM t WHERE id = ?", &got, 1, id), 0);
	ck_assert(got == values[_i]);
}
END_TEST

START_TEST(text_null_and_big)
{
	size_t big = 60 * 1024; /* TEXT holds 64 KiB on MariaDB */
	char *body = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		body[i] = (char)('a' + i % 26);
	body[big] = '\0';
	ck_assert_int_eq(insert("big", 1, body), 0);
	ck_assert_int_eq(insert("nul", 2, NULL), 0);
	ck_assert_int_eq(insert("small", 3, "é ü \"quoted\" 'x'"), 0);
	struct norc_stmt *st;
	ck_assert_int_eq(norc_db_prepare(db, "SELECT name, body, n FROM t ORDER BY n", &st), 0);
	ck_assert_int_eq(norc_stmt_column_count(st), 3);
	bool row;
	ck_assert_int_eq(norc_stmt_step(st, &row), 0);
	ck_assert(row);
	ck_assert_str_eq(norc_stmt_column_text(st, 0), "big");
	ck_assert_uint_eq(strlen(norc_stmt_column_text(st, 1)), big);
	ck_assert(memcmp(norc_stmt_column_text(st, 1), body, big) == 0);
	ck_assert_int_eq(norc_stmt_step(st, &row), 0);
	ck_assert(row);
	ck_assert(norc_stmt_column_is_null(st, 1));
	ck_assert_ptr_null(norc_stmt_column_text(st, 1));
	ck_assert(!norc_stmt_column_is_null(st, 0));
	ck_assert_int_eq(norc_stmt_step(st, &row), 0);
	ck_assert(row);
	ck_assert_str_eq(norc_stmt_column_text(st, 1), "é ü \"quoted\" 'x'");
	ck_assert_int_eq(norc_stmt_step(st, &row), 0);
	ck_assert(!row);
	norc_stmt_finalize(st);
	free(body);
}
END_TEST

START_TEST(unique_violation)
{
	ck_assert_int_eq(insert("dup", 1, NULL), 0);
	ck_assert_int_eq(insert("dup", 2, NULL), NORC_EEXIST);
	ck_assert(strlen(norc_db_errmsg(db)) > 0);
	ck_assert_int_eq(count(), 1);
}
END_TEST

START_TEST(transactions)
{
	ck_assert_int_eq(norc_db_begin_write(db), 0);
	ck_assert(norc_db_in_tx(db));
	ck_assert_int_eq(norc_db_begin(db), NORC_EINVAL); /* not nestable */
	ck_assert_int_eq(insert("a", 1, NULL), 0);
	ck_assert_int_eq(norc_db_rollback(db), 0);
	ck_assert(!norc_db_in_tx(db));
	ck_assert_int_eq(count(), 0);
	ck_assert_int_eq(norc_db_begin(db), 0);
	ck_assert_int_eq(insert("b", 1, NULL), 0);
	ck_assert_int_eq(norc_db_commit(db), 0);
	ck_assert_int_eq(count(), 1);
	ck_assert_int_eq(norc_db_commit(db), NORC_EINVAL);
	ck_assert_int_eq(norc_db_rollback(db), 0); /* harmless without a transaction */
}
END_TEST

START_TEST(changes_reset_and_two_open_statements)
{
	for (int i = 0; i < 5; i++) {
		char name[8];
		snprintf(name, sizeof(name), "r%d", i);
		ck_assert_int_eq(insert(name, i, NULL), 0);
	}
	struct norc_stmt *sel, *upd;
	ck_assert_int_eq(norc_db_prepare(db, "SELECT id, n FROM t ORDER BY id", &sel), 0);
	ck_assert_int_eq(norc_db_prepare(db, "UPDATE t SET n = n + ? WHERE id = ?", &upd), 0);
	bool row;
	int seen = 0;
	while (norc_stmt_step(sel, &row) == 0 && row) {
		norc_stmt_bind_int64(upd, 1, 100);
		norc_stmt_bind_int64(upd, 2, norc_stmt_column_int64(sel, 0));
		bool r2;
		ck_assert_int_eq(norc_stmt_step(upd, &r2), 0);
		ck_assert_int_eq(norc_stmt_changes(upd), 1);
		norc_stmt_reset(upd);
		seen++;
	}
	ck_assert_int_eq(seen, 5);
	norc_stmt_finalize(sel);
	norc_stmt_finalize(upd);
	int64_t sum;
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT SUM(n) FROM t", &sum, 0), 0);
	ck_assert_int_eq(sum, 510);
	struct norc_stmt *all;
	ck_assert_int_eq(norc_db_prepare(db, "UPDATE t SET n = 0 WHERE n >= ?", &all), 0);
	norc_stmt_bind_int64(all, 1, 102);
	ck_assert_int_eq(norc_stmt_step(all, &row), 0);
	ck_assert_int_eq(norc_stmt_changes(all), 3);
	norc_stmt_reset(all); /* same bindings again: nothing left to change */
	ck_assert_int_eq(norc_stmt_step(all, &row), 0);
	ck_assert_int_eq(norc_stmt_changes(all), 0);
	norc_stmt_finalize(all);
}
END_TEST

START_TEST(errors_and_not_found)
{
	int64_t v;
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT n FROM t WHERE id = ?", &v, 1, (int64_t)999),
			 NORC_ENOTFOUND);
	struct norc_stmt *st;
	ck_assert_int_eq(norc_db_prepare(db, "SELEKT nonsense", &st), NORC_EDB);
	ck_assert(strlen(norc_db_errmsg(db)) > 0);
	ck_assert_int_eq(norc_db_prepare(db, "SELECT * FROM no_such_table", &st), NORC_EDB);
}
END_TEST

START_TEST(lock_clause)
{
	const char *cl = norc_db_clause(db, NORC_SQL_LOCK_SKIP);
	if (mariadb())
		ck_assert_ptr_nonnull(strstr(cl, "SKIP LOCKED"));
	else
		ck_assert_str_eq(cl, "");
	ck_assert_int_eq(insert("q", 1, NULL), 0);
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT id FROM t ORDER BY id LIMIT 1%s", cl);
	ck_assert_int_eq(norc_db_begin_write(db), 0);
	int64_t id;
	ck_assert_int_eq(norc_db_query_int64(db, sql, &id, 0), 0);
	ck_assert_int_eq(norc_db_commit(db), 0);
}
END_TEST

START_TEST(mariadb_reconnect_and_bad_targets)
{
	if (!mariadb())
		return;
	int64_t cid;
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT CONNECTION_ID()", &cid, 0), 0);
	struct norc_stmt *st;
	ck_assert_int_eq(norc_db_prepare(db, "SELECT COUNT(*) FROM t WHERE n >= ?", &st), 0);
	int rc;
	char err[512], sql[64];
	struct norc_db *other = open_maria(dbname, &rc, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	snprintf(sql, sizeof(sql), "KILL %lld", (long long)cid);
	ck_assert_int_eq(norc_db_exec(other, sql), 0);
	norc_db_close(other);
	usleep(100000);
	/* the statement prepared before the kill still works: transparent reconnect */
	norc_stmt_bind_int64(st, 1, 0);
	bool row;
	ck_assert_msg(norc_stmt_step(st, &row) == 0, "%s", norc_db_errmsg(db));
	ck_assert(row);
	norc_stmt_finalize(st);
	int64_t cid2;
	ck_assert_int_eq(norc_db_query_int64(db, "SELECT CONNECTION_ID()", &cid2, 0), 0);
	ck_assert(cid2 != cid);
	ck_assert_int_eq(insert("after", 1, NULL), 0);

	struct norc_db *d = open_maria("norc_no_such_database", &rc, err, sizeof(err));
	ck_assert_ptr_null(d);
	ck_assert_int_eq(rc, NORC_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, "does not exist"));
	struct norc_db_config c = {.backend = NORC_DB_MARIADB, .socket = "/nonexistent/x.sock",
				   .user = "root", .database = "x"};
	ck_assert_int_eq(norc_db_open(&c, &d, err, sizeof(err)), NORC_ECONN);
	ck_assert_ptr_nonnull(strstr(err, "is mariadbd running"));
	c.socket = socket_path;
	c.password = "wrong-secret";
	ck_assert_int_eq(norc_db_open(&c, &d, err, sizeof(err)), NORC_ECONFIG);
	ck_assert_ptr_null(strstr(err, "wrong-secret"));
}
END_TEST

static void read_env(void)
{
	const char *path = getenv("NORC_TEST_MARIADB_ENV");
	if (!path || !*path)
		return;
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "test_db: cannot read %s (did the mariadb_start fixture run?)\n", path);
		exit(1);
	}
	char line[600];
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "MDB_SOCKET=", 11) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(socket_path, sizeof(socket_path), "%s", line + 11);
		}
	fclose(f);
	if (!socket_path[0]) {
		fprintf(stderr, "test_db: no MDB_SOCKET in %s\n", path);
		exit(1);
	}
}

int main(void)
{
	read_env();
	Suite *s = suite_create(mariadb() ? "db-mariadb" : "db-sqlite");
	TCase *tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, int64_roundtrip, 0, (int)(sizeof(values) / sizeof(values[0])));
	tcase_add_test(tc, text_null_and_big);
	tcase_add_test(tc, unique_violation);
	tcase_add_test(tc, transactions);
	tcase_add_test(tc, changes_reset_and_two_open_statements);
	tcase_add_test(tc, errors_and_not_found);
	tcase_add_test(tc, lock_clause);
	tcase_add_test(tc, mariadb_reconnect_and_bad_targets);
	suite_add_tcase(s, tc);
	return norc_unit_run(s);
}
