/*
 * command.c - CommandTask: runs a shell command (`/bin/sh -c COMMAND`; a command of plain
 * words without any shell syntax is exec'd directly, as the shell would: direct.c).
 *
 * Parameters: command (required). The task's nice value and timeout are core settings of
 * every task (`norc task add --nice --timeout`), applied by the executor to the child.
 * Built with the public SDK only, exactly like a third-party plugin.
 *
 * Before the run the command is interpolated as the original Norc did:
 *   $LOCAL{fmt}   the nominal fire time in the executor's local time zone
 *   $UTC{fmt}     the nominal fire time in UTC
 *   $NORC_TMP_DIR the run's tmp dir (textually; left alone when the core gives none, the
 *                 shell then expands it from the environment)
 * In fmt, YYYY MM DD hh mm ss are year, month, day, hour, minutes (the original gave the
 * month here), seconds; every other character is copied. An unterminated `$LOCAL{` or `$UTC{`
 * is copied as is. The original's $DATABASE_* credentials are deliberately not interpolated.
 * The exit code is mapped to a status by the core, not here.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* gmtime_r, localtime_r, tzset */
#endif

#include "direct.h"

#include <norc/task.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct norc_host_api *api;

static int command_init(struct norc_host *host, const struct norc_host_api *a, void **state,
			char *err, size_t errlen)
{
	(void)host;
	(void)err;
	(void)errlen;
	api = a;
	*state = NULL;
	return NORC_OK;
}

static int fail(char *err, size_t errlen, const char *msg, const char *arg)
{
	size_t n = 0;
	const char *parts[] = {msg, arg ? arg : "", NULL};
	if (errlen == 0)
		return NORC_EINVAL;
	for (int i = 0; parts[i]; i++)
		for (const char *p = parts[i]; *p && n + 1 < errlen; p++)
			err[n++] = *p;
	err[n] = '\0';
	return NORC_EINVAL;
}

static int command_validate(void *state, const struct norc_params *params, char *err,
			    size_t errlen)
{
	(void)state;
	const char *cmd = api->param_get(params, "command");
	if (!cmd || !*cmd)
		return fail(err, errlen, "CommandTask needs a command: use --command 'CMD'", NULL);
	if (strlen(cmd) > 8192)
		return fail(err, errlen, "CommandTask command is longer than 8192 bytes", NULL);
	for (size_t i = 0; i < api->param_count(params); i++) {
		const char *k = api->param_key(params, i);
		if (strcmp(k, "command") != 0)
			return fail(err, errlen,
				    "CommandTask has no parameter (its only one is 'command'): ", k);
	}
	return NORC_OK;
}

/* A growing string on the host's allocator (which has no realloc and never fails). */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *p = api->alloc(cap);
		if (b->len)
			memcpy(p, b->p, b->len);
		api->free(b->p);
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_num(struct buf *b, int width, long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%0*ld", width, v);
	buf_add(b, num, (size_t)n);
}

/* Appends fmt[0..n) with the date tokens replaced from tm. */
static void format_time(struct buf *b, const char *fmt, size_t n, const struct tm *tm)
{
	size_t i = 0;
	while (i < n) {
		const char *f = fmt + i;
		size_t left = n - i;
		if (left >= 4 && memcmp(f, "YYYY", 4) == 0) {
			buf_num(b, 4, (long)tm->tm_year + 1900);
			i += 4;
			continue;
		}
		if (left >= 2) {
			long v = -1;
			if (memcmp(f, "MM", 2) == 0)
				v = tm->tm_mon + 1;
			else if (memcmp(f, "DD", 2) == 0)
				v = tm->tm_mday;
			else if (memcmp(f, "hh", 2) == 0)
				v = tm->tm_hour;
			else if (memcmp(f, "mm", 2) == 0)
				v = tm->tm_min;
			else if (memcmp(f, "ss", 2) == 0)
				v = tm->tm_sec;
			if (v >= 0) {
				buf_num(b, 2, v);
				i += 2;
				continue;
			}
		}
		buf_add(b, f, 1);
		i++;
	}
}

static bool starts(const char *s, const char *prefix, size_t *len)
{
	*len = strlen(prefix);
	return strncmp(s, prefix, *len) == 0;
}

/* The interpolated command in b; NORC_OK or NORC_EINVAL (time not representable). */
static int interpolate(struct buf *b, const char *cmd, const struct norc_task_ctx *ctx,
		       char *err, size_t errlen)
{
	int64_t us = ctx->fire_time_us ? ctx->fire_time_us : api->now_us();
	int64_t secs = us / 1000000 - (us % 1000000 < 0); /* floor, also before 1970 */
	time_t t = (time_t)secs;
	struct tm utc, local;
	bool have_utc = false, have_local = false;

	buf_add(b, "", 0);
	for (const char *p = cmd; *p;) {
		const char *dollar = strchr(p, '$');
		if (!dollar) {
			buf_str(b, p);
			break;
		}
		buf_add(b, p, (size_t)(dollar - p));
		p = dollar;
		size_t n;
		bool is_local = starts(p, "$LOCAL{", &n);
		if (is_local || starts(p, "$UTC{", &n)) {
			const char *close = strchr(p + n, '}');
			if (!close) { /* unterminated: copied as is */
				buf_str(b, p);
				break;
			}
			struct tm *tm = is_local ? &local : &utc;
			bool *have = is_local ? &have_local : &have_utc;
			if (!*have) {
				if (is_local)
					tzset(); /* follow TZ and /etc/localtime changes */
				if ((time_t)secs != secs ||
				    !(is_local ? localtime_r(&t, tm) : gmtime_r(&t, tm)))
					return fail(err, errlen, "CommandTask cannot convert the "
								 "fire time to a date", NULL);
				*have = true;
			}
			format_time(b, p + n, (size_t)(close - (p + n)), tm);
			p = close + 1;
		} else if (ctx->tmp_dir && starts(p, "$NORC_TMP_DIR", &n)) {
			buf_str(b, ctx->tmp_dir);
			p += n;
		} else {
			buf_add(b, p, 1);
			p++;
		}
	}
	return NORC_OK;
}

static int command_prepare(void *state, const struct norc_task_ctx *ctx,
			   struct norc_exec_plan *plan, char *err, size_t errlen)
{
	(void)state;
	const char *cmd = api->param_get(ctx->params, "command");
	if (!cmd || !*cmd)
		return fail(err, errlen, "CommandTask has no command", NULL);
	struct buf line = {0};
	int rc = interpolate(&line, cmd, ctx, err, errlen);
	if (rc != NORC_OK) {
		api->free(line.p);
		return rc;
	}
	struct buf pre = {0};
	buf_str(&pre, "Executing command...\n$ ");
	buf_add(&pre, line.p, line.len);
	buf_str(&pre, "\n");

	plan->envp = NULL;
	if (command_direct(api, line.p, getenv("PATH"), &plan->argv, &plan->path)) {
		api->free(line.p);
	} else {
		plan->argv = api->alloc(4 * sizeof(char *));
		plan->argv[0] = api->strdup("/bin/sh");
		plan->argv[1] = api->strdup("-c");
		plan->argv[2] = line.p;
		plan->argv[3] = NULL;
		plan->path = NULL;
	}
	plan->cwd = NULL;
	plan->preamble = pre.p;
	return NORC_OK;
}

static void command_plan_free(void *state, struct norc_exec_plan *plan)
{
	(void)state;
	for (char **a = plan->argv; a && *a; a++)
		api->free(*a);
	api->free(plan->argv);
	plan->argv = NULL;
	for (char **e = plan->envp; e && *e; e++)
		api->free(*e);
	api->free(plan->envp);
	plan->envp = NULL;
	api->free(plan->cwd);
	plan->cwd = NULL;
	api->free(plan->preamble);
	plan->preamble = NULL;
	api->free(plan->path);
	plan->path = NULL;
}

static const struct norc_task_ops command_ops = {
	.struct_size = sizeof(struct norc_task_ops),
	.validate = command_validate,
	.prepare = command_prepare,
	.plan_free = command_plan_free,
};

NORC_PLUGIN_DEFINE(NORC_KIND_TASK, 0, "CommandTask", "1.0", "runs a shell command",
		   command_init, NULL, &command_ops);
