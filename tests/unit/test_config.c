/*
 * test_config.c - config loading: every bad input gives one line naming file, line and fix;
 * relative paths resolve against the config's folder; the password comes from one source.
 */
#include "config.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/norc-cfg-XXXXXX";
static char file[4200];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/norc.conf", dir);
}

static void teardown(void)
{
	unlink(file);
	rmdir(dir);
	strcpy(dir, "/tmp/norc-cfg-XXXXXX");
}

static int load(const char *text, struct norc_config **cfg, char *err, size_t errlen)
{
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return norc_config_load(file, cfg, err, errlen);
}

static const struct {
	const char *text;
	const char *want; /* substring of the error; NULL = must load */
} bad[] = {
	{"database: { backend = \"sqlite\"; path = \"x.db\"; };\n", NULL},
	{"database: { backend = \"sqlite\"; path = \"x.db\"; };\nlog_dri = \"log\";\n",
	 ":2: log_dri: unknown setting"},
	{"database: { backend = \"sqlite\"; path = \"x.db\"; colour = 1; };\n",
	 ":1: database.colour: unknown setting"},
	{"database: { backend = \"postgres\"; path = \"x.db\"; };\n", "must be \"sqlite\" or \"mariadb\""},
	{"database: { backend = \"sqlite\"; path = 5; };\n", "database.path: wrong type; it must be a string"},
	{"database: { backend = \"sqlite\"; path = \"x.db\"; };\ndaemon: { heartbeat = \"3\"; };\n",
	 ":2: daemon.heartbeat: wrong type; it must be an integer"},
	{"database: { backend = \"sqlite\"; path = \"x.db\"; };\ndaemon: { heartbeat = 0; };\n",
	 "0 is out of range; use 1 to 3600"},
	{"database: { backend = \"sqlite\"; };\n", "database.path is required"},
	{"database: { backend = \"mariadb\"; };\n", "database.name is required"},
	{"database: { backend = \"mariadb\"; name = \"n\"; password = \"a\"; password_env = \"B\"; };\n",
	 "set only one of"},
	{"database: { backend = \"sqlite\"; path = ; };\n", ":1: syntax error"},
	{"database = 3;\n", "database: wrong type; it must be a group"},
	{"plugin_dirs = [ 1 ];\ndatabase: { backend = \"sqlite\"; path = \"x.db\"; };\n",
	 "every entry must be a string"},
	{"plugin_dirs = [ \"\" ];\ndatabase: { backend = \"sqlite\"; path = \"x.db\"; };\n",
	 "entries must be non-empty paths"},
	{"database: { backend = \"sqlite\"; path = \"x.db\"; };\n"
	 "daemon: { heartbeat = 30; heartbeat_timeout = 20; };\n", "must be larger than"},
	{"database: { path = \"x.db\"; };\nbackup: { settings: { bucket = \"b\"; }; };\n",
	 "backup.settings is set but backup.plugin is not"},
	{"database: { path = \"x.db\"; };\nbackup: { plugin = \"S3\"; settings: { a = [1]; }; };\n",
	 ":2: backup.settings: a: must be a string, number or true/false"},
	{"database: { path = \"x.db\"; };\nbackup: { plugin = \"S3\"; timeout = 1; };\n",
	 "1 is out of range; use 5 to 86400"},
	{"database: { path = \"x.db\"; };\nbackup: { plugin = \"S3\"; bucket = \"b\"; };\n",
	 ":2: backup.bucket: unknown setting"},
};

START_TEST(bad_input)
{
	struct norc_config *cfg = NULL;
	char err[512] = "";
	int rc = load(bad[_i].text, &cfg, err, sizeof(err));
	if (!bad[_i].want) {
		ck_assert_msg(rc == 0, "should load, got: %s", err);
		norc_config_free(cfg);
		return;
	}
	ck_assert_int_eq(rc, NORC_ECONFIG);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, bad[_i].want), "expected \"%s\" in: %s", bad[_i].want, err);
	ck_assert_msg(strstr(err, file), "error must name the file: %s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(paths_and_defaults)
{
	struct norc_config *cfg;
	char err[512], want[4300];
	ck_assert_int_eq(load("database: { path = \"./data/../data//norc.db\"; };\nlog_dir = \"/var/log/n/\";\n"
			      "plugin_dirs = [\"p1\", \"/abs/p2\"];\n", &cfg, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/data/norc.db", dir);
	ck_assert_str_eq(cfg->db.path, want);
	ck_assert_str_eq(cfg->log_dir, "/var/log/n");
	snprintf(want, sizeof(want), "%s/tmp", dir);
	ck_assert_str_eq(cfg->tmp_dir, want);
	ck_assert_uint_eq(cfg->n_plugin_dirs, 2);
	snprintf(want, sizeof(want), "%s/p1", dir);
	ck_assert_str_eq(cfg->plugin_dirs[0], want);
	ck_assert_str_eq(cfg->plugin_dirs[1], "/abs/p2");
	norc_config_free(cfg);
	ck_assert_int_eq(load("database: { path = \"../../../../../../../../x.db\"; };\n", &cfg, err,
			      sizeof(err)), 0);
	ck_assert_str_eq(cfg->db.path, "/x.db");
	ck_assert_int_eq(cfg->db.backend, NORC_DB_SQLITE);
	ck_assert_int_eq(cfg->heartbeat_s, 3);
	ck_assert_int_eq(cfg->heartbeat_timeout_s, 20);
	ck_assert_int_eq(cfg->stop_timeout_s, 600);
	norc_config_free(cfg);
}
END_TEST

START_TEST(password_sources_and_masking)
{
	struct norc_config *cfg;
	char err[512];
	ck_assert_int_eq(load("database: { backend = \"mariadb\"; name = \"n\"; "
			      "password_env = \"NORC_TEST_PW\"; };\n", &cfg, err, sizeof(err)), 0);
	struct norc_db_config dc;
	char *buf;
	unsetenv("NORC_TEST_PW");
	ck_assert_int_eq(norc_config_db(cfg, &dc, &buf, err, sizeof(err)), NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "NORC_TEST_PW"));
	setenv("NORC_TEST_PW", "s3cret-env", 1);
	ck_assert_int_eq(norc_config_db(cfg, &dc, &buf, err, sizeof(err)), 0);
	ck_assert_str_eq(dc.password, "s3cret-env");
	ck_assert_str_eq(dc.user, "norc");
	norc_config_free(cfg);

	ck_assert_int_eq(load("database: { backend = \"mariadb\"; name = \"n\"; "
			      "password = \"s3cret-inline\"; };\n", &cfg, err, sizeof(err)), 0);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	norc_config_print(cfg, m, false);
	norc_config_print(cfg, m, true);
	fclose(m);
	ck_assert_ptr_null(strstr(out, "s3cret"));
	ck_assert_ptr_nonnull(strstr(out, "********"));
	free(out);
	norc_config_free(cfg);

	/* a plugin's own settings: scalars become strings; secret-looking ones are masked */
	ck_assert_int_eq(load("database: { path = \"x.db\"; };\nbackup: { plugin = \"Mine\"; "
			      "keep_local_days = 3; settings: { bucket = \"b\"; n = 5; on = true; "
			      "api_token = \"s3cret-tok\"; secret_file = \"/etc/f\"; }; };\n",
			      &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->backup.plugin, "Mine");
	ck_assert_int_eq(cfg->backup.keep_local_days, 3);
	ck_assert_int_eq(cfg->backup.timeout_s, 300);
	ck_assert_str_eq(norc_params_get(cfg->backup.settings, "n"), "5");
	ck_assert_str_eq(norc_params_get(cfg->backup.settings, "on"), "true");
	m = open_memstream(&out, &len);
	norc_config_print(cfg, m, false);
	fclose(m);
	ck_assert_ptr_null(strstr(out, "s3cret"));
	ck_assert_ptr_nonnull(strstr(out, "backup.settings.api_token = \"********\""));
	ck_assert_ptr_nonnull(strstr(out, "backup.settings.secret_file = \"/etc/f\""));
	ck_assert_ptr_nonnull(strstr(out, "backup.settings.bucket = \"b\""));
	free(out);
	norc_config_free(cfg);
}
END_TEST

START_TEST(missing_file)
{
	struct norc_config *cfg;
	char err[512];
	ck_assert_int_eq(norc_config_load("/nonexistent/norc.conf", &cfg, err, sizeof(err)),
			 NORC_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/norc.conf"));
	ck_assert_ptr_nonnull(strstr(err, "-C FILE"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, bad_input, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, paths_and_defaults);
	tcase_add_test(tc, password_sources_and_masking);
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	return norc_unit_run(s);
}
