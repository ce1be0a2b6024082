/*
 * cmd_queue.c - `norc queue add|list|rm` (groups: cmd_qgroup.c).
 */
#include "cli.h"
#include "mem.h"
#include "model.h"
#include "params.h"
#include "plugin.h"
#include "qgroup.h"
#include "queue.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int queue_add(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"type", required_argument, NULL, 't'},
					   {"param", required_argument, NULL, 'p'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *type = "DBQueue";
	struct norc_params *params = norc_params_new();
	char err[512];
	int c, rc = NORC_EXIT_OK;
	while (rc == NORC_EXIT_OK && (c = norc_cli_getopt("queue add", argc, argv, "t:p:h", lo)) != -1) {
		switch (c) {
		case 't': type = optarg; break;
		case 'p':
			if (norc_params_set_kv(params, optarg, err, sizeof(err)) != NORC_OK)
				rc = norc_cli_usage_error("queue add", "%s", err);
			break;
		case 'h':
			printf("usage: norc queue add NAME [--type TYPE] [--param KEY=VALUE]...\n\n"
			       "Adds a queue. TYPE is a queue plugin (default DBQueue, a table in "
			       "the Norc database); its parameters are checked by the plugin.\n");
			norc_params_free(params);
			return NORC_EXIT_OK;
		default: rc = NORC_EXIT_USAGE;
		}
	}
	if (rc == NORC_EXIT_OK && optind + 1 != argc)
		rc = norc_cli_usage_error("queue add", "give exactly one queue NAME");
	if (rc == NORC_EXIT_OK && (norc_cli_db(cli, true) != NORC_OK ||
				   norc_cli_plugins(cli) != NORC_OK))
		rc = NORC_EXIT_FAIL;
	const char *name = optind < argc ? argv[optind] : "";
	const struct norc_plugin_entry *p = NULL;
	if (rc == NORC_EXIT_OK && strcmp(type, NORC_QGROUP_TYPE) == 0)
		rc = norc_cli_fail("queue '%s': groups are made with `norc queue group add %s`",
				   name, name);
	if (rc == NORC_EXIT_OK && !(p = norc_plugin_find(NORC_KIND_QUEUE, type)))
		rc = norc_cli_fail("queue '%s': no queue plugin named '%s' is loaded; `norc "
				   "plugins` lists them", name, type);
	if (rc == NORC_EXIT_OK) {
		const struct norc_queue_ops *ops = p->desc->ops;
		err[0] = '\0';
		if (ops->validate(p->state, params, err, sizeof(err)) != NORC_OK)
			rc = norc_cli_fail("queue '%s': %s", name, *err ? err : "invalid parameters");
	}
	if (rc == NORC_EXIT_OK) {
		char *json = norc_params_to_json(params);
		int64_t id;
		if (norc_model_queue_add(cli->db, name, type, json, &id, err, sizeof(err)) != NORC_OK)
			rc = norc_cli_fail("%s", err);
		else if (cli->json)
			printf("{\"id\": %" PRId64 ", \"name\": \"%s\"}\n", id, name);
		else
			printf("queue %s added (id %" PRId64 ", type %s)\n", name, id, type);
		free(json);
	}
	norc_params_free(params);
	return rc;
}

/* Item count through the queue's own plugin (a group: the sum of its queues'); -1 when it
 * cannot tell. */
static int64_t queue_items(struct norc_db *db, json_t *row)
{
	struct norc_queue_handle *q;
	char err[256];
	int64_t n = -1;
	if (norc_queue_open(db, json_integer_value(json_object_get(row, "id")), &q, err,
			    sizeof(err)) != NORC_OK)
		return -1;
	if (q->ops->count(q->h, &n, err, sizeof(err)) != NORC_OK)
		n = -1;
	norc_queue_close(q);
	return n;
}

static int queue_list(struct norc_cli *cli, int argc, char **argv)
{
	int hrc = norc_cli_simple_opts("queue list", argc, argv, 0,
				       "usage: norc queue list [--json]\n\nLists queues with their type and "
			       "the number of items waiting.\n");
	if (hrc != -1)
		return hrc;
	if (norc_cli_db(cli, true) != NORC_OK || norc_cli_plugins(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	json_t *rows;
	if (norc_model_queue_list(cli->db, &rows) != NORC_OK)
		return norc_cli_fail("queue list: %s", norc_db_errmsg(cli->db));
	static const char *const cols[] = {"id", "name", "type", "items", "params", "added", NULL};
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t n = queue_items(cli->db, row);
		json_object_set_new(row, "items", n >= 0 ? json_integer(n) : json_null());
	}
	norc_table_print_rows(cols, rows, stdout, cli->json);
	json_decref(rows);
	return NORC_EXIT_OK;
}

static int queue_rm(struct norc_cli *cli, int argc, char **argv)
{
	int hrc = norc_cli_simple_opts("queue rm", argc, argv, 1,
				       "usage: norc queue rm NAME|ID\n\nRemoves a queue. Refused while "
			       "schedules push to it. History keeps referring to it.\n");
	if (hrc != -1)
		return hrc;
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	int64_t id;
	if (norc_model_queue_find(cli->db, argv[optind], &id, err, sizeof(err)) != NORC_OK ||
	    norc_model_queue_rm(cli->db, id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	if (!cli->json)
		printf("queue %s removed\n", argv[optind]);
	return NORC_EXIT_OK;
}

static const struct norc_cli_cmd subs[] = {
	{"add", queue_add, "add a queue"},
	{"list", queue_list, "list queues"},
	{"rm", queue_rm, "remove a queue"},
	{"group", norc_cmd_queue_group, "queue groups: add, member, list"},
	{NULL, NULL, NULL},
};

int norc_cmd_queue(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "queue", argc, argv);
}
