/*
 * test_command.c - CommandTask as the core sees it: the real built command.so, dlopen()ed and
 * driven through its descriptor with a mock host API (counting allocator, tiny params), so the
 * test uses nothing but the public SDK, exactly like the loader. Checks validate(), the
 * interpolation and preamble of prepare(), and that plan_free() releases every allocation.
 */
#include <norc/task.h>

#include "unit.h"

#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef NORC_TEST_COMMAND_SO
#error "NORC_TEST_COMMAND_SO must be defined by the build (the path of the built command.so)"
#endif

/* ---- mock host API ---- */

struct norc_params {
	size_t n;
	const char *key[4];
	const char *val[4];
};

static long live_allocs; /* alloc/strdup minus free, per test (each test runs in its own fork) */
static const int64_t now_us_value = 1795514825000000; /* 2026-11-24T10:07:05Z */

static void mock_log(struct norc_host *host, enum norc_level level, const char *fmt, ...)
{
	(void)host;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "plugin log (%d): ", (int)level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *mock_alloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);
	if (!p)
		abort();
	live_allocs++;
	return p;
}

static char *mock_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = mock_alloc(n);
	memcpy(p, s, n);
	return p;
}

static void mock_free(void *p)
{
	if (!p)
		return;
	live_allocs--;
	free(p);
}

static const char *mock_strerror(int rc)
{
	(void)rc;
	return "mock error";
}

static int64_t mock_now_us(void)
{
	return now_us_value;
}

static const char *mock_param_get(const struct norc_params *params, const char *key)
{
	for (size_t i = 0; i < params->n; i++)
		if (strcmp(params->key[i], key) == 0)
			return params->val[i];
	return NULL;
}

static size_t mock_param_count(const struct norc_params *params)
{
	return params->n;
}

static const char *mock_param_key(const struct norc_params *params, size_t i)
{
	return i < params->n ? params->key[i] : NULL;
}

/* The database entries stay NULL: CommandTask must not touch the database. */
static const struct norc_host_api mock_api = {
	.struct_size = sizeof(struct norc_host_api),
	.abi_major = NORC_ABI_MAJOR,
	.abi_minor = NORC_ABI_MINOR,
	.log = mock_log,
	.alloc = mock_alloc,
	.strdup = mock_strdup,
	.free = mock_free,
	.strerror = mock_strerror,
	.now_us = mock_now_us,
	.param_get = mock_param_get,
	.param_count = mock_param_count,
	.param_key = mock_param_key,
};

/* ---- the plugin, loaded once in main() before the runner forks ---- */

static void *handle;
static const struct norc_plugin *plugin;
static const struct norc_task_ops *ops;
static void *state;

static void load_plugin(void)
{
	handle = dlopen(NORC_TEST_COMMAND_SO, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "dlopen %s: %s\n", NORC_TEST_COMMAND_SO, dlerror());
		exit(EXIT_FAILURE);
	}
	plugin = dlsym(handle, "norc_plugin");
	if (!plugin || !plugin->ops) {
		fprintf(stderr, "%s: no norc_plugin descriptor\n", NORC_TEST_COMMAND_SO);
		exit(EXIT_FAILURE);
	}
	ops = plugin->ops;
	char err[256] = "";
	if (plugin->init && plugin->init(NULL, &mock_api, &state, err, sizeof(err)) != NORC_OK) {
		fprintf(stderr, "%s: init failed: %s\n", NORC_TEST_COMMAND_SO, err);
		exit(EXIT_FAILURE);
	}
}

static void use_tz(const char *tz)
{
	if (tz)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
}

/* argv joined with single spaces (malloc'd) */
static char *join_words(char **argv)
{
	size_t n = 1;
	for (char **a = argv; *a; a++)
		n += strlen(*a) + 1;
	char *s = calloc(1, n);
	ck_assert_ptr_nonnull(s);
	size_t k = 0;
	for (char **a = argv; *a; a++)
		k += (size_t)snprintf(s + k, n - k, "%s%s", a == argv ? "" : " ", *a);
	return s;
}

/* prepare() + checks of the whole plan + plan_free(); returns nothing, asserts everything. */
static void check_prepare(const char *command, const char *tmp_dir, int64_t fire_us,
			  const char *want)
{
	struct norc_params params = {1, {"command"}, {command}};
	struct norc_task_ctx ctx = {
		.struct_size = sizeof(ctx),
		.instance_id = 42,
		.task_id = 7,
		.task_name = "DemoTask",
		.fire_time_us = fire_us,
		.params = &params,
		.log_path = "/var/log/norc/DemoTask.42",
		.tmp_dir = tmp_dir,
		.attempt = 1,
	};
	struct norc_exec_plan plan = {.struct_size = sizeof(plan)};
	char err[256] = "";
	long before = live_allocs;

	ck_assert_int_eq(ops->prepare(state, &ctx, &plan, err, sizeof(err)), NORC_OK);
	ck_assert_ptr_nonnull(plan.argv);
	if (plan.path) { /* run directly: the words of want, the first found in PATH */
		char *joined = join_words(plan.argv);
		ck_assert_msg(strcmp(joined, want) == 0, "command %.200s\n gave words %.200s\n "
			      "want %.200s", command, joined, want);
		free(joined);
		const char *slash = strrchr(plan.path, '/');
		ck_assert_ptr_nonnull(slash);
		ck_assert_str_eq(slash + 1, plan.argv[0]);
	} else {
		ck_assert_str_eq(plan.argv[0], "/bin/sh");
		ck_assert_str_eq(plan.argv[1], "-c");
		ck_assert_ptr_nonnull(plan.argv[2]);
		ck_assert_msg(strcmp(plan.argv[2], want) == 0,
			      "command %.200s\n gave %.200s\n want %.200s", command, plan.argv[2],
			      want);
		ck_assert_ptr_null(plan.argv[3]);
	}
	ck_assert_ptr_null(plan.envp);
	ck_assert_ptr_null(plan.cwd);

	size_t n = strlen(want) + 64;
	char *pre = malloc(n);
	ck_assert_ptr_nonnull(pre);
	snprintf(pre, n, "Executing command...\n$ %s\n", want);
	ck_assert_ptr_nonnull(plan.preamble);
	ck_assert_msg(strcmp(plan.preamble, pre) == 0, "preamble %.200s\n want %.200s",
		      plan.preamble, pre);
	free(pre);

	ops->plan_free(state, &plan);
	ck_assert_ptr_null(plan.argv);
	ck_assert_ptr_null(plan.preamble);
	ck_assert_ptr_null(plan.path);
	ck_assert_int_eq(live_allocs, before);
}

/* ---- table of interpolation cases ---- */

#define T0 1795514825123456 /* 2026-11-24T10:07:05.123456Z: month 11, minutes 07 */
#define T1 1795550825000000 /* 2026-11-24T20:07:05Z: 2026-11-25 01:37 in Kolkata */

static const struct {
	const char *name;
	const char *tz; /* NULL: unset (UTC) */
	const char *tmp_dir;
	int64_t fire_us;
	const char *command;
	const char *want;
} cases[] = {
	{"plain", NULL, "/tmp/n", T0, "echo 'Demo successful!'", "echo 'Demo successful!'"},
	{"utc full", NULL, NULL, T0, "echo $UTC{YYYY-MM-DD hh:mm:ss}", "echo 2026-11-24 10:07:05"},
	{"mm is minutes, MM month", NULL, NULL, T0, "$UTC{mm} $UTC{MM}", "07 11"},
	{"utc ignores TZ", "Asia/Kolkata", NULL, T0, "$UTC{hh:mm}", "10:07"},
	{"local Kolkata", "Asia/Kolkata", NULL, T0, "$LOCAL{hh:mm}", "15:37"},
	{"local POSIX zone", "IST-5:30", NULL, T0, "$LOCAL{hh:mm}", "15:37"},
	{"local west of UTC", "EST5", NULL, T0, "$LOCAL{DD hh:mm}", "24 05:07"},
	{"local date rolls over", "Asia/Kolkata", NULL, T1, "$LOCAL{YYYY-MM-DD hh:mm}",
	 "2026-11-25 01:37"},
	{"several tokens", "Asia/Kolkata", "/tmp/norc/42", T0,
	 "cp /data/$UTC{YYYY/MM/DD}/in $NORC_TMP_DIR/$LOCAL{YYYYMMDD-hhmmss}.log; ls $NORC_TMP_DIR",
	 "cp /data/2026/11/24/in /tmp/norc/42/20261124-153705.log; ls /tmp/norc/42"},
	{"tokens adjacent", NULL, NULL, T0, "$UTC{YYYYMMDDhhmmss}", "20261124100705"},
	{"other characters copied", NULL, NULL, T0, "$UTC{Y-M-D h:m:s T Yy x}",
	 "Y-M-D h:m:s T Yy x"},
	{"partial tokens", NULL, NULL, T0, "$UTC{YYYYY MMM sss}", "2026Y 11M 05s"},
	{"empty format", NULL, NULL, T0, "a$UTC{}b", "ab"},
	{"tmp dir", NULL, "/tmp/norc/42", T0, "ls $NORC_TMP_DIR/x", "ls /tmp/norc/42/x"},
	{"tmp dir textual", NULL, "/t", T0, "$NORC_TMP_DIRx $NORC_TMP", "/tx $NORC_TMP"},
	{"no tmp dir: left to the shell", NULL, NULL, T0, "ls $NORC_TMP_DIR", "ls $NORC_TMP_DIR"},
	{"tmp dir not re-scanned", NULL, "/t/$UTC{YYYY}", T0, "$NORC_TMP_DIR", "/t/$UTC{YYYY}"},
	{"database credentials stay", NULL, "/t", T0,
	 "mysql -u $DATABASE_USER -p$DATABASE_PASSWORD -h $DATABASE_HOST $DATABASE_NAME",
	 "mysql -u $DATABASE_USER -p$DATABASE_PASSWORD -h $DATABASE_HOST $DATABASE_NAME"},
	{"unterminated utc", NULL, NULL, T0, "echo $UTC{YYYY", "echo $UTC{YYYY"},
	{"unterminated after a token", NULL, NULL, T0, "echo $UTC{YYYY} $LOCAL{hh",
	 "echo 2026 $LOCAL{hh"},
	{"other dollars", NULL, "/t", T0, "echo $$ $HOME ${X} $LOCALX{hh} $UTC $ $",
	 "echo $$ $HOME ${X} $LOCALX{hh} $UTC $ $"},
	{"double dollar before token", NULL, NULL, T0, "$$UTC{YYYY}", "$2026"},
	{"case matters", NULL, NULL, T0, "$utc{YYYY} $Local{hh}", "$utc{YYYY} $Local{hh}"},
	{"fire time 0 uses now", NULL, NULL, 0, "$UTC{YYYY-MM-DD hh:mm:ss}", "2026-11-24 10:07:05"},
	{"before 1970", NULL, NULL, -1, "$UTC{YYYY-MM-DD hh:mm:ss}", "1969-12-31 23:59:59"},
};

START_TEST(interpolation)
{
	use_tz(cases[_i].tz);
	check_prepare(cases[_i].command, cases[_i].tmp_dir, cases[_i].fire_us, cases[_i].want);
}
END_TEST

/* ---- long inputs: the result is built dynamically, no fixed-size buffer ---- */

static char *repeat(const char *unit, size_t times)
{
	size_t n = strlen(unit);
	char *s = malloc(n * times + 1);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * n, unit, n);
	s[n * times] = '\0';
	return s;
}

START_TEST(long_plain_command)
{
	char *cmd = repeat("echo 0123456789;", 640); /* 10240 bytes */
	use_tz(NULL);
	check_prepare(cmd, "/t", T0, cmd);
	free(cmd);
}
END_TEST

START_TEST(long_command_with_tokens)
{
	char *cmd = repeat("x$UTC{YYYY-MM-DD hh:mm:ss};", 400); /* 10800 bytes */
	char *want = repeat("x2026-11-24 10:07:05;", 400);
	use_tz(NULL);
	check_prepare(cmd, NULL, T0, want);
	free(cmd);
	free(want);
}
END_TEST

START_TEST(long_result_grows)
{
	char *tmp = repeat("d/", 256); /* 512 bytes, so 800 references expand to 400 KB */
	char *cmd = repeat("$NORC_TMP_DIR ", 800);
	char *unit = malloc(strlen(tmp) + 2);
	ck_assert_ptr_nonnull(unit);
	snprintf(unit, strlen(tmp) + 2, "%s ", tmp);
	char *want = repeat(unit, 800);
	check_prepare(cmd, tmp, T0, want);
	free(tmp);
	free(cmd);
	free(unit);
	free(want);
}
END_TEST

START_TEST(long_unterminated)
{
	char *body = repeat("YYYY", 2560);
	char *cmd = malloc(strlen(body) + 16);
	ck_assert_ptr_nonnull(cmd);
	snprintf(cmd, strlen(body) + 16, "a $LOCAL{%s", body);
	check_prepare(cmd, NULL, T0, cmd);
	free(body);
	free(cmd);
}
END_TEST

/* ---- errors and validate ---- */

START_TEST(prepare_without_command)
{
	struct norc_params params = {0, {NULL}, {NULL}};
	struct norc_task_ctx ctx = {.struct_size = sizeof(ctx), .params = &params};
	struct norc_exec_plan plan = {.struct_size = sizeof(plan)};
	char err[256] = "";
	long before = live_allocs;
	ck_assert_int_eq(ops->prepare(state, &ctx, &plan, err, sizeof(err)), NORC_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "command"));
	ck_assert_ptr_null(plan.argv);
	ck_assert_ptr_null(plan.preamble);
	ck_assert_int_eq(live_allocs, before);
}
END_TEST

START_TEST(validate_accepts_command)
{
	struct norc_params params = {1, {"command"}, {"echo $UTC{YYYY} $DATABASE_PASSWORD"}};
	char err[256] = "";
	ck_assert_int_eq(ops->validate(state, &params, err, sizeof(err)), NORC_OK);
}
END_TEST

START_TEST(validate_rejects_missing_command)
{
	struct norc_params none = {0, {NULL}, {NULL}};
	struct norc_params empty = {1, {"command"}, {""}};
	char err[256] = "";
	ck_assert_int_eq(ops->validate(state, &none, err, sizeof(err)), NORC_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--command"));
	err[0] = '\0';
	ck_assert_int_eq(ops->validate(state, &empty, err, sizeof(err)), NORC_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--command"));
}
END_TEST

START_TEST(validate_rejects_unknown_key)
{
	struct norc_params params = {2, {"command", "shell"}, {"true", "/bin/bash"}};
	char err[256] = "";
	ck_assert_int_eq(ops->validate(state, &params, err, sizeof(err)), NORC_EINVAL);
	ck_assert_msg(strstr(err, "shell"), "the key should be named: %s", err);
}
END_TEST

START_TEST(validate_rejects_too_long)
{
	char *cmd = repeat("x", 8193);
	struct norc_params params = {1, {"command"}, {cmd}};
	char err[256] = "";
	ck_assert_int_eq(ops->validate(state, &params, err, sizeof(err)), NORC_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "8192"));
	cmd[8192] = '\0';
	ck_assert_int_eq(ops->validate(state, &params, err, sizeof(err)), NORC_OK);
	free(cmd);
}
END_TEST

START_TEST(descriptor_and_exports)
{
	ck_assert_str_eq(plugin->name, "CommandTask");
	ck_assert_uint_eq(plugin->kind, NORC_KIND_TASK);
	ck_assert_uint_eq(plugin->flags, 0);
	ck_assert_ptr_nonnull(ops->validate);
	ck_assert_ptr_nonnull(ops->prepare);
	ck_assert_ptr_nonnull(ops->plan_free);
	/* built with hidden visibility: only the descriptor is exported */
	ck_assert_ptr_null(dlsym(handle, "command_prepare"));
	ck_assert_ptr_null(dlsym(handle, "interpolate"));
}
END_TEST

/* ---- the direct path: plain words run without a shell, anything else through it ---- */

static char direct_dir[64], direct_dir2[64];

static void put_file(const char *dir, const char *name, const char *from, const char *text,
		     mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	if (from) { /* a copy of a real binary */
		FILE *in = fopen(from, "r");
		ck_assert_ptr_nonnull(in);
		char buf[8192];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
		fclose(in);
	} else {
		fputs(text, f);
	}
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void direct_setup(void)
{
	snprintf(direct_dir, sizeof(direct_dir), "/tmp/norc-direct.XXXXXX");
	snprintf(direct_dir2, sizeof(direct_dir2), "/tmp/norc-direct2.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(direct_dir));
	ck_assert_ptr_nonnull(mkdtemp(direct_dir2));
	put_file(direct_dir, "prog", "/bin/true", NULL, 0755);
	put_file(direct_dir, "echo", "/bin/true", NULL, 0755); /* a builtin's name: still sh */
	put_file(direct_dir, "script", NULL, "#!/bin/sh\nexit 0\n", 0755);
	put_file(direct_dir, "noshebang", NULL, "exit 0\n", 0755); /* sh runs it as a script */
	put_file(direct_dir, "twice", "/bin/true", NULL, 0644);     /* not executable here */
	put_file(direct_dir2, "twice", "/bin/true", NULL, 0755);    /* ... but there */
	put_file(direct_dir, "noexec", "/bin/true", NULL, 0644);
	char path[200];
	snprintf(path, sizeof(path), "%s:%s", direct_dir, direct_dir2);
	setenv("PATH", path, 1);
}

static void remove_dir(const char *dir)
{
	static const char *const names[] = {"prog", "echo", "script", "noshebang", "twice",
					    "noexec", NULL};
	char path[256];
	for (int i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path); /* not every name is in both folders */
	}
	if (rmdir(dir) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void direct_teardown(void)
{
	remove_dir(direct_dir);
	remove_dir(direct_dir2);
}

static const struct {
	const char *command;
	const char *dir;   /* NULL: through the shell; "1"/"2": found in direct_dir/direct_dir2;
			    * "/": absolute as typed */
	const char *words; /* the argv, joined with spaces */
} direct_cases[] = {
	{"prog", "1", "prog"},
	{"  prog  a\tb=c -x,y:z+1@h%2 ./p  ", "1", "prog a b=c -x,y:z+1@h%2 ./p"},
	{"script arg", "1", "script arg"},
	{"twice", "2", "twice"},
	{"/bin/true x", "/", "/bin/true x"},
	{"prog 'a'", NULL, NULL},
	{"prog \"a\"", NULL, NULL},
	{"prog $HOME", NULL, NULL},
	{"prog a;prog", NULL, NULL},
	{"prog >x", NULL, NULL},
	{"prog <x", NULL, NULL},
	{"prog | prog", NULL, NULL},
	{"prog &", NULL, NULL},
	{"prog *", NULL, NULL},
	{"prog a?", NULL, NULL},
	{"prog [a]", NULL, NULL},
	{"prog ~", NULL, NULL},
	{"prog a#b", NULL, NULL},
	{"prog `x`", NULL, NULL},
	{"prog (x)", NULL, NULL},
	{"prog {a,b}", NULL, NULL},
	{"prog\nprog", NULL, NULL},
	{"prog a\\b", NULL, NULL},
	{"prog !", NULL, NULL},
	{"prog ^", NULL, NULL},
	{"FOO=1 prog", NULL, NULL},
	{"echo hi", NULL, NULL},
	{"true", NULL, NULL},
	{"false x", NULL, NULL},
	{"chdir /tmp", NULL, NULL},
	{"declare -x A", NULL, NULL},
	{"cd /tmp", NULL, NULL},
	{"exit 3", NULL, NULL},
	{"noshebang", NULL, NULL},
	{"noexec", NULL, NULL},
	{"missing", NULL, NULL},
	{"./prog", NULL, NULL},
	{"sub/prog", NULL, NULL},
	{"/no/such/prog", NULL, NULL},
	{"   ", NULL, NULL},
};

START_TEST(direct_decision)
{
	const char *command = direct_cases[_i].command;
	struct norc_params params = {1, {"command"}, {command}};
	struct norc_task_ctx ctx = {.struct_size = sizeof(ctx), .instance_id = 1,
				    .task_name = "D", .fire_time_us = T0, .params = &params,
				    .log_path = "D.1", .attempt = 1};
	struct norc_exec_plan plan = {.struct_size = sizeof(plan)};
	char err[256] = "";
	long before = live_allocs;
	ck_assert_int_eq(ops->prepare(state, &ctx, &plan, err, sizeof(err)), NORC_OK);
	const char *dir = direct_cases[_i].dir;
	if (!dir) {
		ck_assert_msg(plan.path == NULL, "%s: run directly as %s, want the shell", command,
			      plan.path);
		ck_assert_str_eq(plan.argv[0], "/bin/sh");
		ck_assert_str_eq(plan.argv[2], command);
	} else {
		ck_assert_msg(plan.path != NULL, "%s: through the shell, want it direct", command);
		char want[300];
		if (strcmp(dir, "/") == 0)
			snprintf(want, sizeof(want), "%s", plan.argv[0]);
		else
			snprintf(want, sizeof(want), "%s/%s", strcmp(dir, "1") == 0 ? direct_dir
							      : direct_dir2, plan.argv[0]);
		ck_assert_str_eq(plan.path, want);
		char *joined = join_words(plan.argv);
		ck_assert_str_eq(joined, direct_cases[_i].words);
		free(joined);
	}
	ops->plan_free(state, &plan);
	ck_assert_int_eq(live_allocs, before);
}
END_TEST

/* A relative PATH entry depends on the child's directory: the shell decides. */
START_TEST(direct_relative_path_entry)
{
	char path[200];
	snprintf(path, sizeof(path), "bin:%s", direct_dir);
	setenv("PATH", path, 1);
	struct norc_params params = {1, {"command"}, {"prog"}};
	struct norc_task_ctx ctx = {.struct_size = sizeof(ctx), .instance_id = 1,
				    .task_name = "D", .fire_time_us = T0, .params = &params,
				    .log_path = "D.1", .attempt = 1};
	struct norc_exec_plan plan = {.struct_size = sizeof(plan)};
	char err[256] = "";
	ck_assert_int_eq(ops->prepare(state, &ctx, &plan, err, sizeof(err)), NORC_OK);
	ck_assert_ptr_null(plan.path);
	ck_assert_str_eq(plan.argv[0], "/bin/sh");
	ops->plan_free(state, &plan);
}
END_TEST

static Suite *command_suite(void)
{
	Suite *s = suite_create("command");
	TCase *tc = tcase_create("prepare");
	tcase_add_loop_test(tc, interpolation, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, long_plain_command);
	tcase_add_test(tc, long_command_with_tokens);
	tcase_add_test(tc, long_result_grows);
	tcase_add_test(tc, long_unterminated);
	tcase_add_test(tc, prepare_without_command);
	suite_add_tcase(s, tc);

	tc = tcase_create("direct");
	tcase_add_checked_fixture(tc, direct_setup, direct_teardown);
	tcase_add_loop_test(tc, direct_decision, 0,
			    (int)(sizeof(direct_cases) / sizeof(direct_cases[0])));
	tcase_add_test(tc, direct_relative_path_entry);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_test(tc, validate_accepts_command);
	tcase_add_test(tc, validate_rejects_missing_command);
	tcase_add_test(tc, validate_rejects_unknown_key);
	tcase_add_test(tc, validate_rejects_too_long);
	tcase_add_test(tc, descriptor_and_exports);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	load_plugin();
	return norc_unit_run(command_suite());
}
