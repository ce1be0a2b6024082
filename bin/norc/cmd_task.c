/*
 * cmd_task.c - `norc task add|list|show|rm`.
 */
#include "clock.h"
#include "cli.h"
#include "model.h"
#include "params.h"
#include "plugin.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_help(void)
{
	printf("usage: norc task add NAME [--type TYPE] [--command CMD] [--timeout DURATION]\n"
	       "                     [--nice N] [--description TEXT] [--param KEY=VALUE]...\n\n"
	       "Adds a task. TYPE is a task plugin (default CommandTask, which runs CMD with\n"
	       "/bin/sh -c). --command CMD is short for --param command=CMD. Parameters are\n"
	       "checked by the plugin. --timeout takes seconds or 30s/5m/2h/1d (0 = none);\n"
	       "--nice is -20..19.\n");
}

static int task_add(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"type", required_argument, NULL, 't'},
					   {"command", required_argument, NULL, 'c'},
					   {"timeout", required_argument, NULL, 'T'},
					   {"nice", required_argument, NULL, 'n'},
					   {"description", required_argument, NULL, 'd'},
					   {"param", required_argument, NULL, 'p'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	struct norc_task_def d = {.type = "CommandTask", .description = ""};
	struct norc_params *params = norc_params_new();
	char err[512];
	int c, rc = NORC_EXIT_OK;
	long long v;
	int64_t secs;
	while (rc == NORC_EXIT_OK &&
	       (c = norc_cli_getopt("task add", argc, argv, "t:c:T:n:d:p:h", lo)) != -1) {
		switch (c) {
		case 't': d.type = optarg; break;
		case 'c': norc_params_set(params, "command", optarg); break;
		case 'd': d.description = optarg; break;
		case 'T':
			if (norc_clock_parse_duration(optarg, &secs) != NORC_OK || secs > INT32_MAX)
				rc = norc_cli_usage_error("task add", "--timeout '%s': give seconds "
							  "or 30s, 5m, 2h, 1d", optarg);
			else
				d.timeout_s = (int)secs;
			break;
		case 'n':
			if (!norc_cli_int(optarg, -20, 19, &v))
				rc = norc_cli_usage_error("task add", "--nice '%s': give -20..19", optarg);
			else
				d.nice = (int)v;
			break;
		case 'p':
			if (norc_params_set_kv(params, optarg, err, sizeof(err)) != NORC_OK)
				rc = norc_cli_usage_error("task add", "%s", err);
			break;
		case 'h':
			add_help();
			norc_params_free(params);
			return NORC_EXIT_OK;
		default: rc = NORC_EXIT_USAGE;
		}
	}
	if (rc == NORC_EXIT_OK && optind + 1 != argc)
		rc = norc_cli_usage_error("task add", "give exactly one task NAME");
	d.name = optind < argc ? argv[optind] : "";
	if (rc == NORC_EXIT_OK && norc_model_check_name("task", d.name, 128, err, sizeof(err)))
		rc = norc_cli_usage_error("task add", "%s", err);
	if (rc == NORC_EXIT_OK && (norc_cli_db(cli, true) != NORC_OK ||
				   norc_cli_plugins(cli) != NORC_OK))
		rc = NORC_EXIT_FAIL;
	const struct norc_plugin_entry *p = NULL;
	if (rc == NORC_EXIT_OK && !(p = norc_plugin_find(NORC_KIND_TASK, d.type)))
		rc = norc_cli_fail("task '%s': no task plugin named '%s' is loaded; `norc plugins` "
				   "lists them", d.name, d.type);
	if (rc == NORC_EXIT_OK) {
		const struct norc_task_ops *ops = p->desc->ops;
		err[0] = '\0';
		if (ops->validate(p->state, params, err, sizeof(err)) != NORC_OK)
			rc = norc_cli_fail("task '%s': %s", d.name, *err ? err : "invalid parameters");
	}
	if (rc == NORC_EXIT_OK) {
		char *json = norc_params_to_json(params);
		d.params_json = json;
		int64_t id;
		if (norc_model_task_add(cli->db, &d, &id, err, sizeof(err)) != NORC_OK)
			rc = norc_cli_fail("%s", err);
		else if (cli->json)
			printf("{\"id\": %" PRId64 ", \"name\": \"%s\"}\n", id, d.name);
		else
			printf("task %s added (id %" PRId64 ", type %s)\n", d.name, id, d.type);
		free(json);
	}
	norc_params_free(params);
	return rc;
}

static int task_list(struct norc_cli *cli, int argc, char **argv)
{
	int rc = norc_cli_simple_opts("task list", argc, argv, 0,
			     "usage: norc task list [--json]\n\nLists tasks with their type, "
			     "timeout, nice and number of schedules.\n");
	if (rc != -1)
		return rc;
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	json_t *rows;
	if (norc_model_task_list(cli->db, &rows) != NORC_OK)
		return norc_cli_fail("task list: %s", norc_db_errmsg(cli->db));
	static const char *const cols[] = {"id", "name", "type", "timeout", "nice", "schedules",
					   "description", NULL};
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (!cli->json) /* the table shows params only through `task show` */
			json_object_del(row, "params");
	}
	norc_table_print_rows(cols, rows, stdout, cli->json);
	json_decref(rows);
	return NORC_EXIT_OK;
}

static int task_show(struct norc_cli *cli, int argc, char **argv)
{
	int rc = norc_cli_simple_opts("task show", argc, argv, 1,
			     "usage: norc task show NAME|ID [--json]\n\nShows a task with its "
			     "parameters and schedules.\n");
	if (rc != -1)
		return rc;
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	int64_t id;
	json_t *obj, *sched;
	if (norc_model_task_find(cli->db, argv[optind], &id, err, sizeof(err)) != NORC_OK ||
	    norc_model_task_get(cli->db, id, &obj, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	if (norc_model_schedule_list(cli->db, id, &sched) != NORC_OK) {
		json_decref(obj);
		return norc_cli_fail("task show: %s", norc_db_errmsg(cli->db));
	}
	static const char *const keys[] = {"id", "name", "type", "description", "timeout", "nice",
					   "params", "added", NULL};
	if (cli->json) {
		json_object_set(obj, "schedule_list", sched);
		norc_table_print_record(keys, obj, stdout, true);
	} else {
		norc_table_print_record(keys, obj, stdout, false);
		printf("\n");
		static const char *const cols[] = {"id", "queue", "kind", "period", "cron",
						   "remaining", "next_fire", NULL};
		norc_table_print_rows(cols, sched, stdout, false);
	}
	json_decref(sched);
	json_decref(obj);
	return NORC_EXIT_OK;
}

static int task_rm(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	bool force = false;
	int c;
	while ((c = norc_cli_getopt("task rm", argc, argv, "fh", lo)) != -1) {
		if (c == 'f') {
			force = true;
			continue;
		}
		if (c == 'h') {
			printf("usage: norc task rm NAME|ID [--force]\n\nRemoves a task. Refused "
			       "while it has schedules, unless --force, which removes them too. Its "
			       "instances and logs stay.\n");
			return NORC_EXIT_OK;
		}
		return NORC_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("task rm", "give exactly one task NAME or ID");
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	int64_t id;
	if (norc_model_task_find(cli->db, argv[optind], &id, err, sizeof(err)) != NORC_OK ||
	    norc_model_task_rm(cli->db, id, force, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	if (!cli->json)
		printf("task %s removed\n", argv[optind]);
	return NORC_EXIT_OK;
}

static const struct norc_cli_cmd subs[] = {
	{"add", task_add, "add a task"},
	{"list", task_list, "list tasks"},
	{"show", task_show, "show one task"},
	{"rm", task_rm, "remove a task"},
	{NULL, NULL, NULL},
};

int norc_cmd_task(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "task", argc, argv);
}
