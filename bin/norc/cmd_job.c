/*
 * cmd_job.c - `norc job add|node|dep|show|list|retry`: Jobs are tasks of type Job whose nodes
 * (other tasks) run once the nodes they depend on succeeded. Definitions: core/jobdef.h;
 * running them: core/job.h.
 */
#include "cli.h"
#include "doorbell.h"
#include "job.h"
#include "jobdef.h"
#include "mem.h"
#include "model.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_help(void)
{
	printf("usage: norc job add NAME [--fail-fast] [--timeout DURATION] [--retries N]\n"
	       "                    [--retry-delay DURATION] [--retry-max-delay DURATION]\n"
	       "                    [--overlap P] [--description TEXT] [--param KEY=VALUE]...\n\n"
	       "Adds a job: a task of type Job, scheduled and run like any task. Give it nodes\n"
	       "with `norc job node` and dependencies with `norc job dep`. Durations take\n"
	       "seconds or 30s/5m/2h/1d.\n"
	       "  --fail-fast           when a node fails, stop the whole job at once (default:\n"
	       "                        independent branches finish); same as\n"
	       "                        --param fail_fast=true\n"
	       "  --timeout D           stop the whole job after D (0 = none)\n"
	       "  --retries N           run a failed job again up to N times; a retry runs only\n"
	       "                        the nodes that did not succeed (0..100)\n"
	       "  --retry-delay D       wait D before the first retry, doubling each time\n"
	       "  --retry-max-delay D   cap of that doubling (default 1h)\n"
	       "  --overlap P           when a fire comes while a run of the job is still\n"
	       "                        active: allow (default), skip, or queue\n"
	       "  --param KEY=VALUE     a Job parameter, checked by the Job plugin\n");
}

static int job_add(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {NORC_CLI_RUN_LONGOPTS,
					   {"fail-fast", no_argument, NULL, 'f'},
					   {"param", required_argument, NULL, 'p'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	static const struct norc_cli_add how = {"job add", "job", NORC_JOBDEF_TYPE,
						"T:r:D:M:d:O:u:L:fp:h", lo, add_help};
	return norc_cli_task_add(cli, &how, argc, argv);
}

static int job_node(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"task", required_argument, NULL, 't'},
					   {"rm", no_argument, NULL, 'x'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *task = NULL;
	bool rm = false;
	int c;
	while ((c = norc_cli_getopt("job node", argc, argv, "t:h", lo)) != -1) {
		if (c == 't')
			task = optarg;
		else if (c == 'x')
			rm = true;
		else if (c == 'h') {
			printf("usage: norc job node JOB NODE --task TASK\n"
			       "       norc job node JOB NODE --rm\n\n"
			       "Adds node NODE to JOB: it runs TASK (a name or id; it may be another "
			       "job, as\nlong as that job does not contain JOB). NODE is a name unique "
			       "in the job.\n--rm removes the node and its dependencies; refused while "
			       "a run of the job\nis running it.\n");
			return NORC_EXIT_OK;
		} else
			return NORC_EXIT_USAGE;
	}
	if (optind + 2 != argc)
		return norc_cli_usage_error("job node", "give a JOB and a NODE name");
	if (!task == !rm)
		return norc_cli_usage_error("job node", "give either --task TASK or --rm");
	const char *job = argv[optind], *node = argv[optind + 1];
	char err[512];
	if (!rm && norc_model_check_name("node", node, 128, err, sizeof(err)) != NORC_OK)
		return norc_cli_usage_error("job node", "%s", err);
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	int64_t id = 0;
	int edges = 0;
	if (rm ? norc_jobdef_node_rm(cli->db, job, node, &edges, err, sizeof(err))
	       : norc_jobdef_node_add(cli->db, job, node, task, &id, err, sizeof(err)))
		return norc_cli_fail("%s", err);
	if (cli->json && !rm)
		printf("{\"id\": %" PRId64 "}\n", id);
	else if (!cli->json && rm)
		printf("node %s removed from job %s, with %d edge(s)\n", node, job, edges);
	else if (!cli->json)
		printf("node %s added to job %s (id %" PRId64 ", task %s)\n", node, job, id, task);
	return NORC_EXIT_OK;
}

/* Options of a subcommand whose only one besides --help is the flag --NAME (*set). Returns an
 * exit code to return at once, or -1 to go on (optind at the first argument). */
static int flag_opts(const char *cmd, int argc, char **argv, const char *name, bool *set,
		     const char *help)
{
	const struct option lo[] = {{name, no_argument, NULL, 'x'},
				    {"help", no_argument, NULL, 'h'},
				    {0}};
	int c;
	*set = false;
	while ((c = norc_cli_getopt(cmd, argc, argv, "h", lo)) != -1) {
		if (c == 'x') {
			*set = true;
		} else if (c == 'h') {
			fputs(help, stdout);
			return NORC_EXIT_OK;
		} else {
			return NORC_EXIT_USAGE;
		}
	}
	return -1;
}

static int job_dep(struct norc_cli *cli, int argc, char **argv)
{
	bool rm;
	int rc = flag_opts("job dep", argc, argv, "rm", &rm,
			   "usage: norc job dep JOB PARENT CHILD [--rm]\n\n"
			   "Makes node CHILD of JOB depend on node PARENT of JOB: CHILD runs once "
			   "PARENT\n(and every other parent) succeeded. Refused when it would close "
			   "a cycle.\n--rm removes that dependency.\n");
	if (rc != -1)
		return rc;
	if (optind + 3 != argc)
		return norc_cli_usage_error("job dep", "give a JOB, a PARENT node and a CHILD node");
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	const char *job = argv[optind], *parent = argv[optind + 1], *child = argv[optind + 2];
	char err[512];
	if (rm ? norc_jobdef_dep_rm(cli->db, job, parent, child, err, sizeof(err))
	       : norc_jobdef_dep_add(cli->db, job, parent, child, err, sizeof(err)))
		return norc_cli_fail("%s", err);
	if (!cli->json)
		printf("job %s: edge %s -> %s %s\n", job, parent, child, rm ? "removed" : "added");
	return NORC_EXIT_OK;
}

/* Text inside a Graphviz quoted ID, with '"' and '\' escaped. */
static void dot_text(const char *s)
{
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
}

static void dot_id(const char *s)
{
	putchar('"');
	dot_text(s);
	putchar('"');
}

static const char *field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void print_dot(json_t *obj)
{
	size_t i;
	json_t *row;
	printf("digraph ");
	dot_id(field(obj, "name"));
	printf(" {\n");
	json_array_foreach(json_object_get(obj, "nodes"), i, row) {
		printf("  ");
		dot_id(field(row, "name"));
		printf(" [label=\"");
		dot_text(field(row, "name"));
		printf("\\n"); /* dot's own line break in a label */
		dot_text(field(row, "task"));
		printf("\"];\n");
	}
	json_array_foreach(json_object_get(obj, "edges"), i, row) {
		printf("  ");
		dot_id(field(row, "parent"));
		printf(" -> ");
		dot_id(field(row, "child"));
		printf(";\n");
	}
	printf("}\n");
}

struct by_wave {
	json_int_t wave;
	size_t i;
};

static int cmp_wave(const void *a, const void *b)
{
	const struct by_wave *x = a, *y = b;
	if (x->wave != y->wave)
		return x->wave < y->wave ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static void print_text(json_t *obj)
{
	static const char *const keys[] = {"id", "name", "description", "timeout", "retries",
					   "retry_delay", "retry_max_delay", "overlap", "params",
					   "schedules", "added", NULL};
	norc_table_print_record(keys, obj, stdout, false);
	json_t *nodes = json_object_get(obj, "nodes"), *row;
	size_t n = json_array_size(nodes), i;
	struct by_wave *order = norc_xcalloc(n + 1, sizeof(*order));
	json_array_foreach(nodes, i, row)
		order[i] = (struct by_wave){json_integer_value(json_object_get(row, "wave")), i};
	qsort(order, n, sizeof(*order), cmp_wave);
	json_t *sorted = json_array();
	for (i = 0; i < n; i++)
		json_array_append(sorted, json_array_get(nodes, order[i].i));
	free(order);
	static const char *const cols[] = {"wave", "name", "task", "type", NULL};
	printf("\nnodes (a node runs once every node it depends on succeeded; wave 1 first):\n");
	if (n)
		norc_table_print_rows(cols, sorted, stdout, false);
	else
		printf("  none; add one with `norc job node %s NODE --task TASK`\n",
		       field(obj, "name"));
	json_decref(sorted);
	printf("\nedges (parent -> child):\n");
	json_array_foreach(json_object_get(obj, "edges"), i, row)
		printf("  %s -> %s\n", field(row, "parent"), field(row, "child"));
	if (!json_array_size(json_object_get(obj, "edges")))
		printf("  none\n");
}

static int job_show(struct norc_cli *cli, int argc, char **argv)
{
	bool dot;
	int rc = flag_opts("job show", argc, argv, "dot", &dot,
			   "usage: norc job show JOB [--dot] [--json]\n\n"
			   "Shows a job: its settings, its nodes with their task and wave (wave 1 "
			   "runs\nfirst; a node's wave is one more than its latest parent's), and "
			   "its edges.\n--dot prints the graph for Graphviz instead (`norc job show "
			   "JOB --dot | dot -Tsvg`).\n");
	if (rc != -1)
		return rc;
	if (optind + 1 != argc)
		return norc_cli_usage_error("job show", "give exactly one JOB (name or id)");
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	json_t *obj;
	if (norc_jobdef_get(cli->db, argv[optind], &obj, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	if (dot)
		print_dot(obj);
	else if (cli->json)
		norc_table_print_record(NULL, obj, stdout, true);
	else
		print_text(obj);
	json_decref(obj);
	return NORC_EXIT_OK;
}

static int job_list(struct norc_cli *cli, int argc, char **argv)
{
	int rc = norc_cli_simple_opts("job list", argc, argv, 0,
				      "usage: norc job list [--json]\n\nLists jobs with their "
				      "number of nodes, edges and schedules.\n");
	if (rc != -1)
		return rc;
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	json_t *rows;
	if (norc_jobdef_list(cli->db, &rows) != NORC_OK)
		return norc_cli_fail("job list: %s", norc_db_errmsg(cli->db));
	static const char *const cols[] = {"id", "name", "nodes", "edges", "timeout", "retries",
					   "schedules", "description", NULL};
	norc_table_print_rows(cols, rows, stdout, cli->json);
	json_decref(rows);
	return NORC_EXIT_OK;
}

static int job_retry(struct norc_cli *cli, int argc, char **argv)
{
	int rc = norc_cli_simple_opts("job retry", argc, argv, 1,
				      "usage: norc job retry INSTANCE\n\nRuns a finished job "
				      "instance that did not succeed again, as a new attempt on\nthe "
				      "same queue: only its nodes that did not succeed run (those "
				      "that did are\nnot run again).\n");
	if (rc != -1)
		return rc;
	long long id;
	if (!norc_cli_id(argv[optind], &id))
		return norc_cli_usage_error("job retry", "'%s' is not an instance id (see `norc "
					    "instance list`)", argv[optind]);
	if (norc_cli_db(cli, true) != NORC_OK || norc_cli_plugins(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512] = "";
	int64_t new_id = 0, queue_id = 0;
	int nodes = 0;
	rc = norc_job_retry(cli->db, id, &new_id, &queue_id, &nodes, err, sizeof(err));
	if (rc != NORC_OK)
		return err[0] ? norc_cli_fail("%s", err)
			      : norc_cli_fail("job retry #%lld: %s", id, norc_strerror(rc));
	norc_doorbell_ring(cli->cfg, queue_id);
	if (cli->json)
		printf("{\"id\": %" PRId64 ", \"retries\": %lld, \"nodes\": %d}\n", new_id, id,
		       nodes);
	else
		printf("job instance #%" PRId64 " retries #%lld: %d node(s) to run\n", new_id, id,
		       nodes);
	return NORC_EXIT_OK;
}

static const struct norc_cli_cmd subs[] = {
	{"add", job_add, "add a job"},
	{"node", job_node, "add or remove a node (a task the job runs)"},
	{"dep", job_dep, "add or remove a dependency between two nodes"},
	{"show", job_show, "show a job: its nodes, waves and edges (or --dot)"},
	{"list", job_list, "list jobs"},
	{"retry", job_retry, "run the nodes of a failed job instance that did not succeed"},
	{NULL, NULL, NULL},
};

int norc_cmd_job(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "job", argc, argv);
}
