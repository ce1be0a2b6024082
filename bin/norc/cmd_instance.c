/*
 * cmd_instance.c - `norc instance list|show`.
 */
#include "cli.h"
#include "mem.h"
#include "upload.h"
#include "model.h"
#include "status.h"
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int instance_list(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"task", required_argument, NULL, 't'},
					   {"status", required_argument, NULL, 's'},
					   {"failed", no_argument, NULL, 'F'},
					   {"limit", required_argument, NULL, 'n'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *task = NULL;
	struct norc_instance_filter f = {.limit = 50};
	long long v;
	int c;
	while ((c = norc_cli_getopt("instance list", argc, argv, "t:s:Fn:h", lo)) != -1) {
		switch (c) {
		case 't': task = optarg; break;
		case 'F': f.failed_only = true; break;
		case 's':
			if ((f.status = norc_status_parse(optarg)) < 0)
				return norc_cli_usage_error("instance list", "--status '%s' is not "
							    "a status (CREATED, RUNNING, SUCCESS, "
							    "FAILURE, ERROR, TIMEDOUT, ...)", optarg);
			break;
		case 'n':
			if (!norc_cli_int(optarg, 1, 100000, &v))
				return norc_cli_usage_error("instance list", "--limit '%s': give "
							    "1..100000", optarg);
			f.limit = (int)v;
			break;
		case 'h':
			printf("usage: norc instance list [--task TASK] [--status STATUS] [--failed]\n"
			       "                          [-n|--limit N] [--json]\n\nLists the newest "
			       "N (default 50) instances, newest first. Times are UTC.\n");
			return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return norc_cli_usage_error("instance list", "unexpected argument '%s'", argv[optind]);
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	if (task && norc_model_task_find(cli->db, task, &f.task_id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	json_t *rows;
	if (norc_model_instance_list(cli->db, &f, &rows) != NORC_OK)
		return norc_cli_fail("instance list: %s", norc_db_errmsg(cli->db));
	static const char *const cols[] = {"id", "task", "job", "status", "attempt", "schedule",
					   "fire_time", "executor", "started", "ended", "exit_code",
					   "reason", NULL};
	norc_table_print_rows(cols, rows, stdout, cli->json);
	json_decref(rows);
	return NORC_EXIT_OK;
}

static int instance_show(struct norc_cli *cli, int argc, char **argv)
{
	int rc = norc_cli_simple_opts("instance show", argc, argv, 1,
				      "usage: norc instance show ID [--json]\n\nShows one instance: "
				      "status, times (UTC), exit code, attempt, log path and the log's\n"
				      "upload to the backup store (when one is configured); for a\n"
				      "job instance, its nodes too (a node waiting for its parents is "
				      "CREATED\nwithout an enqueue time).\n");
	if (rc != -1)
		return rc;
	long long id;
	if (!norc_cli_id(argv[optind], &id))
		return norc_cli_usage_error("instance show", "'%s' is not an instance id",
					    argv[optind]);
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	json_t *obj;
	if (norc_model_instance_get(cli->db, id, &obj, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	static const char *const keys[] = {"id", "task", "status", "schedule", "fire_time",
					   "executor", "enqueued", "started", "ended", "exit_code",
					   "term_signal", "reason", "attempt", "previous", "retry_at",
					   "job", "node", "revision", "log_path", "log_upload",
					   NULL};
	struct norc_upload_info ui;
	if (norc_upload_info(cli->db, id, 0, &ui) == NORC_OK && ui.state >= 0) {
		char *up = norc_xasprintf("%s (host %s, %d attempt(s)%s%s)",
					  norc_upload_state_name(ui.state), ui.host, ui.attempts,
					  ui.last_error ? ", last error: " : "",
					  ui.last_error ? ui.last_error : "");
		json_object_set_new(obj, "log_upload", json_string(up));
		free(up);
	}
	norc_upload_info_free(&ui);
	json_t *nodes;
	if (norc_model_instance_nodes(cli->db, id, &nodes) != NORC_OK) {
		json_decref(obj);
		return norc_cli_fail("instance #%lld: %s", id, norc_db_errmsg(cli->db));
	}
	if (cli->json)
		json_object_set_new(obj, "nodes", nodes);
	norc_table_print_record(keys, obj, stdout, cli->json);
	if (!cli->json && json_array_size(nodes)) {
		static const char *const cols[] = {"id", "node", "task", "status", "executor",
						   "started", "ended", "exit_code", "reason", NULL};
		printf("\nnodes:\n");
		norc_table_print_rows(cols, nodes, stdout, false);
	}
	if (!cli->json)
		json_decref(nodes);
	json_decref(obj);
	return NORC_EXIT_OK;
}

static const struct norc_cli_cmd subs[] = {
	{"list", instance_list, "list instances, newest first"},
	{"show", instance_show, "show one instance"},
	{NULL, NULL, NULL},
};

int norc_cmd_instance(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "instance", argc, argv);
}
