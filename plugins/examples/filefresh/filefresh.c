/*
 * filefresh.c - FileFresh, an example task type: "alert if last night's backup is missing or
 * stale". It checks that the newest file matching a pattern is recent enough and big enough.
 *
 *   norc task add BackupFresh --type FileFresh --param 'path=/backups/db-*.sql.gz' \
 *        --param max_age=1d --param min_size=1024
 *
 * Parameters: path (required: a file, or a glob(3) pattern whose newest match counts; must
 * be absolute), max_age (required: seconds, or a number with s, m, h or d: 90, 30s, 5m, 2h,
 * 1d) and min_size (optional: bytes, default 1, so an empty file fails).
 *
 * Built with the public SDK only (<norc/task.h>): no core symbol, every core service through
 * the host API table that init() receives. It runs in-child (NORC_TASK_INCHILD): the task's
 * work is a C function, not a command line. What runs where:
 *
 *   init       in every process that loads the plugin (daemon or CLI; first in a forked probe,
 *              so it may run twice): keeps the API table. Must be quick and must not fail.
 *   validate   in the CLI at `norc task add` (and wherever a definition is checked): checks
 *              the parameters, naming the key and the fix. Cheap and crash-free: it runs
 *              inside the calling process.
 *   run_child  in a child forked by the executor for each run, with stdout and stderr on the
 *              run's log file, in its own process group, killed at the task's timeout. Its
 *              return value is the exit code: 0 SUCCESS, anything else FAILURE. The core
 *              ends the child with _exit(), so buffered output must be flushed first.
 * There is no prepare (exec mode only), finally or revision hook: they are optional.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* glob, stat */
#endif

#include <norc/task.h>

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const struct norc_host_api *api; /* the host's services, set once by init */

static int filefresh_init(struct norc_host *host, const struct norc_host_api *a, void **state,
			  char *err, size_t errlen)
{
	(void)host;
	(void)err;
	(void)errlen;
	api = a;
	*state = NULL; /* nothing to keep: every run reads its own parameters */
	return NORC_OK;
}

/* s as a whole number in *out; with units, a duration in seconds ("90", "30s", "5m", "2h",
 * "1d"; 1 s .. 100 years). false when it is not one. */
static bool filefresh_number(const char *s, bool units, long long *out)
{
	static const char suffix[] = "smhd";
	static const long long mult[] = {1, 60, 3600, 86400};
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10), unit = 1;
	if (*s < '0' || *s > '9' || errno != 0)
		return false;
	if (units && *end && strchr(suffix, *end) && !end[1])
		unit = mult[strchr(suffix, *end) - suffix];
	else if (*end)
		return false;
	if (units && (n <= 0 || n > 100LL * 365 * 86400 / unit))
		return false;
	*out = n * unit;
	return true;
}

static int filefresh_validate(void *state, const struct norc_params *params, char *err,
			      size_t errlen)
{
	(void)state;
	long long v;
	for (size_t i = 0; i < api->param_count(params); i++) {
		const char *k = api->param_key(params, i);
		if (strcmp(k, "path") != 0 && strcmp(k, "max_age") != 0 &&
		    strcmp(k, "min_size") != 0) {
			snprintf(err, errlen, "FileFresh has no parameter '%s' (its parameters are "
				 "path, max_age and min_size)", k);
			return NORC_EINVAL;
		}
	}
	const char *path = api->param_get(params, "path");
	const char *age = api->param_get(params, "max_age");
	const char *size = api->param_get(params, "min_size");
	if (!path || !*path) {
		snprintf(err, errlen, "FileFresh needs path: add --param 'path=/backups/db-*.gz' "
			 "(a file or a glob pattern; the newest match counts)");
		return NORC_EINVAL;
	}
	if (path[0] != '/') {
		snprintf(err, errlen, "FileFresh path '%s' is not absolute: give the full path, "
			 "starting with /", path);
		return NORC_EINVAL;
	}
	if (!age) {
		snprintf(err, errlen, "FileFresh needs max_age: add --param max_age=1d (seconds, "
			 "or a number with s, m, h or d)");
		return NORC_EINVAL;
	}
	if (!filefresh_number(age, true, &v)) {
		snprintf(err, errlen, "FileFresh max_age '%s' is not a duration: use seconds or a "
			 "number with s, m, h or d, such as 90, 30m, 26h or 2d", age);
		return NORC_EINVAL;
	}
	if (size && !filefresh_number(size, false, &v)) {
		snprintf(err, errlen, "FileFresh min_size '%s' is not a number of bytes: use a "
			 "whole number such as 1024, or 0 to accept empty files", size);
		return NORC_EINVAL;
	}
	return NORC_OK;
}

/* An age as "45s", "5m10s", "3h12m" or "2d3h", in buf. */
static void filefresh_age_text(long long s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm%llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%llds", s);
}

/* In the forked child: find the newest match, judge it, say so in one line of the log. */
static int filefresh_run(void *state, const struct norc_task_ctx *ctx)
{
	(void)state;
	const char *pattern = api->param_get(ctx->params, "path");
	const char *age_text = api->param_get(ctx->params, "max_age");
	const char *size_text = api->param_get(ctx->params, "min_size");
	long long max_age = 0, min_size = 1;
	if (!pattern || !age_text || !filefresh_number(age_text, true, &max_age) ||
	    (size_text && !filefresh_number(size_text, false, &min_size))) {
		printf("FileFresh: bad parameters (the task was changed by hand?): run norc task "
		       "show %s\n", ctx->task_name);
		fflush(stdout);
		return 2;
	}

	glob_t g;
	int rc = glob(pattern, 0, NULL, &g);
	const char *newest = NULL;
	struct stat best = {0}, st;
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode) &&
		    (!newest || st.st_mtime > best.st_mtime)) {
			newest = g.gl_pathv[i];
			best = st;
		}
	int exit_code = 1;
	if (rc == GLOB_NOSPACE) {
		printf("%s: out of memory while listing the matches\n", pattern);
	} else if (rc == GLOB_ABORTED) {
		printf("%s: cannot read a folder on the way: check that it exists and that this "
		       "user may list it\n", pattern);
	} else if (!newest) {
		printf("%s: no file matches: MISSING\n", pattern);
	} else {
		long long age = (long long)(time(NULL) - best.st_mtime);
		long long size = (long long)best.st_size;
		char old[32];
		filefresh_age_text(age < 0 ? 0 : age, old, sizeof(old));
		printf("%s: %s old (max %s), %lld bytes", newest, old, age_text, size);
		if (g.gl_pathc > 1)
			printf(", newest of %zu matches", g.gl_pathc);
		if (age > max_age)
			printf(": STALE, older than max_age %s\n", age_text);
		else if (size < min_size)
			printf(": TOO SMALL, under min_size %lld bytes\n", min_size);
		else {
			printf(": fresh\n");
			exit_code = 0;
		}
	}
	globfree(&g); /* glibc: safe after any glob() outcome */
	fflush(stdout); /* the core leaves with _exit(): stdio is not flushed for us */
	return exit_code;
}

static const struct norc_task_ops filefresh_ops = {
	.struct_size = sizeof(struct norc_task_ops),
	.validate = filefresh_validate,
	.run_child = filefresh_run,
};

NORC_PLUGIN_DEFINE(NORC_KIND_TASK, NORC_TASK_INCHILD, "FileFresh", "1.0",
		   "checks that the newest file matching a pattern is recent and not too small",
		   filefresh_init, NULL, &filefresh_ops);
