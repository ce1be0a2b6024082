/*
 * testplug.c - one source, many test plugins: each variant is compiled with -D switches that
 * break exactly one thing the loader checks (see CMakeLists.txt here). The descriptor is
 * written out by hand instead of with NORC_PLUGIN_DEFINE so that its frozen fields can be
 * wrong on purpose.
 */
#include <norc/task.h>

#include <signal.h>
#include <unistd.h>

#ifndef TP_MAGIC
#define TP_MAGIC NORC_PLUGIN_MAGIC
#endif
#ifndef TP_ABI_MAJOR
#define TP_ABI_MAJOR NORC_ABI_MAJOR
#endif
#ifndef TP_ABI_MINOR
#define TP_ABI_MINOR NORC_ABI_MINOR
#endif
#ifndef TP_KIND
#define TP_KIND NORC_KIND_TASK
#endif
#ifndef TP_SIZE
#define TP_SIZE sizeof(struct norc_plugin)
#endif
#ifndef TP_NAME
#define TP_NAME "TestGood"
#endif

#ifdef TP_UNRESOLVED
/* Defined nowhere: dlopen(RTLD_NOW) must fail on it. */
extern int norc_test_no_such_function(void);
#endif

__attribute__((unused)) static int tp_validate(void *state, const struct norc_params *params, char *err, size_t errlen)
{
	(void)state;
	(void)params;
	(void)err;
	(void)errlen;
#ifdef TP_UNRESOLVED
	return norc_test_no_such_function();
#else
	return NORC_OK;
#endif
}

static int tp_run_child(void *state, const struct norc_task_ctx *ctx)
{
	(void)state;
	(void)ctx;
	return 0;
}

static int tp_init(struct norc_host *host, const struct norc_host_api *api, void **state,
		   char *err, size_t errlen)
{
	(void)host;
	(void)api;
	*state = NULL;
#ifdef TP_INIT_HANGS
	for (;;)
		pause(); /* never returns: the loader's probe must give up on it */
#endif
#ifdef TP_INIT_CRASHES
	raise(SIGSEGV);
#endif
#ifdef TP_INIT_FAILS
	for (size_t i = 0; errlen && i < errlen - 1 && "test plugin refuses to start"[i]; i++)
		err[i] = "test plugin refuses to start"[i], err[i + 1] = '\0';
	return NORC_ECONFIG;
#else
	(void)err;
	(void)errlen;
	return NORC_OK;
#endif
}

static const struct norc_task_ops tp_ops = {
	.struct_size = sizeof(struct norc_task_ops),
#ifndef TP_NO_VALIDATE
	.validate = tp_validate,
#endif
	.run_child = tp_run_child,
};

#ifndef TP_NO_DESCRIPTOR
NORC_EXPORT const struct norc_plugin norc_plugin = {
	.magic = TP_MAGIC,
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.struct_size = TP_SIZE,
	.build_sig = NORC_BUILD_SIG,
	.kind = TP_KIND,
	.flags = NORC_TASK_INCHILD,
	.name = TP_NAME,
	.version = "0.0-test",
	.description = "test plugin",
	.init = tp_init,
	.fini = NULL,
	.ops = &tp_ops,
};
#else
/* Everything else is there, under another name. */
NORC_EXPORT const void *const norc_not_a_plugin[] = {&tp_ops, (const void *)tp_init};
#endif
