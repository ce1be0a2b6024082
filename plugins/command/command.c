/*
 * command.c - CommandTask: runs a shell command (`/bin/sh -c COMMAND`).
 *
 * Parameters: command (required). The task's nice value and timeout are core settings of
 * every task (`norc task add --nice --timeout`), applied by the executor to the child.
 * Built with the public SDK only, exactly like a third-party plugin.
 */
#include <norc/task.h>

#include <string.h>

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

static int command_prepare(void *state, const struct norc_task_ctx *ctx,
			   struct norc_exec_plan *plan, char *err, size_t errlen)
{
	(void)state;
	const char *cmd = api->param_get(ctx->params, "command");
	if (!cmd)
		return fail(err, errlen, "CommandTask has no command", NULL);
	plan->argv = api->alloc(4 * sizeof(char *));
	plan->argv[0] = api->strdup("/bin/sh");
	plan->argv[1] = api->strdup("-c");
	plan->argv[2] = api->strdup(cmd);
	plan->argv[3] = NULL;
	plan->envp = NULL;
	plan->cwd = NULL;
	return NORC_OK;
}

static void command_plan_free(void *state, struct norc_exec_plan *plan)
{
	(void)state;
	for (char **a = plan->argv; a && *a; a++)
		api->free(*a);
	api->free(plan->argv);
	plan->argv = NULL;
}

static const struct norc_task_ops command_ops = {
	.struct_size = sizeof(struct norc_task_ops),
	.validate = command_validate,
	.prepare = command_prepare,
	.plan_free = command_plan_free,
};

NORC_PLUGIN_DEFINE(NORC_KIND_TASK, 0, "CommandTask", "1.0", "runs a shell command",
		   command_init, NULL, &command_ops);
