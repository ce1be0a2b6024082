/*
 * hooks.c - a test task type, HookTask, that runs in the forked child (NORC_TASK_INCHILD) and
 * has a finally and a revision hook, each doing what its parameters say, so the integration
 * tests can make a plugin succeed, fail, crash, hang or leak and watch the executor live on.
 *
 *   do       ok | fail (exit 3) | segv | abort | exit (calls exit(4)) | loop | leakfds | sleep |
 *            orphan (forks a child that leaves the group with setsid() and waits for ever)
 *   sleep    seconds for do=sleep
 *   finally  keep | fail (FAILURE) | success (SUCCESS) | sleep (never returns) | crash |
 *            slowkeep (1.5 s, then keep)
 *   mark     a file the finally hook appends "status=S exit=E signal=G timed_out=T" to
 *   rev      the revision the revision hook reports
 * Built with the public SDK only.
 */
#include <norc/task.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct norc_host_api *api;
static struct norc_host *self;

static int hk_init(struct norc_host *host, const struct norc_host_api *a, void **state,
		   char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	self = host;
	api = a;
	*state = NULL;
	return NORC_OK;
}

static const char *param(const struct norc_params *p, const char *key, const char *dflt)
{
	const char *v = api->param_get(p, key);
	return v ? v : dflt;
}

static int hk_validate(void *state, const struct norc_params *params, char *err, size_t errlen)
{
	(void)state;
	static const char *const keys[] = {"do", "sleep", "finally", "mark", "rev", NULL};
	for (size_t i = 0; i < api->param_count(params); i++) {
		const char *k = api->param_key(params, i);
		bool known = false;
		for (const char *const *q = keys; *q; q++)
			known |= strcmp(*q, k) == 0;
		if (!known) {
			snprintf(err, errlen, "HookTask has no parameter '%s' (do, sleep, finally, "
				 "mark, rev)", k);
			return NORC_EINVAL;
		}
	}
	return NORC_OK;
}

static int hk_run(void *state, const struct norc_task_ctx *ctx)
{
	(void)state;
#ifdef HK_NOOP
	(void)ctx;
	return 0; /* the benchmark's in-child no-op */
#endif
	const char *what = param(ctx->params, "do", "ok");
	printf("HookTask %s: do=%s log=%s\n", ctx->task_name, what, ctx->log_path);
	fflush(stdout);
	api->log(self, NORC_LOG_INFO, "run_child of %s, through the host log (db %s)",
		 ctx->task_name, api->db(self) ? "reachable" : "NULL");
	if (strcmp(what, "orphan") == 0 && fork() == 0) {
		setsid();
		for (;;)
			pause();
	}
	if (strcmp(what, "fail") == 0)
		return 3;
	if (strcmp(what, "segv") == 0)
		raise(SIGSEGV);
	if (strcmp(what, "abort") == 0)
		abort();
	if (strcmp(what, "exit") == 0)
		exit(4);
	if (strcmp(what, "loop") == 0)
		for (volatile int spin = 0;; spin++)
			;
	if (strcmp(what, "leakfds") == 0)
		for (int i = 0; i < 200; i++)
			if (open("/dev/null", O_RDONLY) < 0)
				break;
	if (strcmp(what, "sleep") == 0)
		sleep((unsigned)strtoul(param(ctx->params, "sleep", "1"), NULL, 10));
	return 0;
}

static int hk_finally(void *state, const struct norc_task_ctx *ctx,
		      const struct norc_task_result *r)
{
	(void)state;
	const char *mark = param(ctx->params, "mark", NULL);
	if (mark) {
		FILE *f = fopen(mark, "a");
		if (f) {
			fprintf(f, "status=%d exit=%d signal=%d timed_out=%d\n", r->status,
				r->exit_code, r->term_signal, r->timed_out);
			fclose(f);
		}
	}
	const char *what = param(ctx->params, "finally", "keep");
	printf("finally: %s\n", what);
	fflush(stdout);
	if (strcmp(what, "fail") == 0)
		return 13;
	if (strcmp(what, "success") == 0)
		return 7;
	if (strcmp(what, "sleep") == 0)
		for (;;)
			pause();
	if (strcmp(what, "crash") == 0)
		raise(SIGSEGV);
	if (strcmp(what, "slowkeep") == 0)
		usleep(1500 * 1000);
	return 0;
}

static int hk_revision(void *state, const struct norc_task_ctx *ctx, char *buf, size_t len)
{
	(void)state;
	const char *rev = param(ctx->params, "rev", NULL);
	if (!rev)
		return NORC_EUNSUPP;
	snprintf(buf, len, "%s", rev);
	return NORC_OK;
}

#ifdef HK_NOOP /* NoopTask: run_child returns 0, no other hook (tests/bench/dispatch.sh) */
static const struct norc_task_ops ops = {
	.struct_size = sizeof(struct norc_task_ops),
	.validate = hk_validate,
	.run_child = hk_run,
};
__attribute__((unused)) static const void *unused_hooks[] = {hk_finally, hk_revision};
NORC_PLUGIN_DEFINE(NORC_KIND_TASK, NORC_TASK_INCHILD, "NoopTask", "1.0",
		   "test task: does nothing in the forked child", hk_init, NULL, &ops);
#else
static const struct norc_task_ops ops = {
	.struct_size = sizeof(struct norc_task_ops),
	.validate = hk_validate,
	.run_child = hk_run,
	.finally = hk_finally,
	.revision = hk_revision,
};

NORC_PLUGIN_DEFINE(NORC_KIND_TASK, NORC_TASK_INCHILD, "HookTask", "1.0",
		   "test task: runs, fails, crashes or hangs as told, with finally and revision",
		   hk_init, NULL, &ops);
#endif
