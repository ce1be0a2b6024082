/*
 * job.c - the Job task type: a DAG of other tasks (nodes) with dependencies.
 *
 * A Job's nodes and edges are rows of job_nodes and job_deps (`norc job node`, `norc job
 * dep`); the core runs them (core/job.c) because every decision must be taken inside the
 * transaction that records a node's end, in whichever process records it. This plugin makes
 * the type known (flag NORC_TASK_JOB) and checks a Job's parameters:
 *
 *   fail_fast = true|false   (default false) when a node fails, stop the rest of the job at
 *                            once instead of letting independent branches finish
 *
 * Built with the public SDK only, exactly like a third-party plugin.
 */
#include <norc/task.h>

#include <stdio.h>
#include <string.h>

static const struct norc_host_api *api;

static int job_init(struct norc_host *host, const struct norc_host_api *a, void **state,
		    char *err, size_t errlen)
{
	(void)host;
	(void)err;
	(void)errlen;
	api = a;
	*state = NULL;
	return NORC_OK;
}

static int job_validate(void *state, const struct norc_params *params, char *err, size_t errlen)
{
	(void)state;
	for (size_t i = 0; i < api->param_count(params); i++) {
		const char *k = api->param_key(params, i);
		const char *v = api->param_get(params, k);
		if (strcmp(k, "fail_fast") != 0) {
			snprintf(err, errlen, "Job has no parameter '%s' (its only one is fail_fast); "
				 "nodes are added with `norc job node`", k);
			return NORC_EINVAL;
		}
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
			snprintf(err, errlen, "Job parameter fail_fast='%s': give true or false", v);
			return NORC_EINVAL;
		}
	}
	return NORC_OK;
}

static const struct norc_task_ops ops = {
	.struct_size = sizeof(struct norc_task_ops),
	.validate = job_validate,
};

NORC_PLUGIN_DEFINE(NORC_KIND_TASK, NORC_TASK_JOB, "Job", "1.0",
		   "a DAG of tasks: each node runs once all the nodes it depends on succeeded",
		   job_init, NULL, &ops);
