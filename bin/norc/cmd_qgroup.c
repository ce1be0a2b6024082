/*
 * cmd_qgroup.c - `norc queue group add|member|list`: queue groups (core/qgroup.h).
 */
#include "cli.h"
#include "model.h"
#include "qgroup.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int group_add(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"weighted", no_argument, NULL, 'w'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	bool weighted = false;
	int c;
	while ((c = norc_cli_getopt("queue group add", argc, argv, "wh", lo)) != -1) {
		switch (c) {
		case 'w': weighted = true; break;
		case 'h':
			printf("usage: norc queue group add GROUP [--weighted]\n\n"
			       "Adds a queue group: `norc_executor GROUP -c N` takes work from its "
			       "queues.\nStrict (the default): by ascending priority, the first queue "
			       "with work wins\n(a busy queue starves the later ones). --weighted: "
			       "each queue gets a share of\nthe pops in proportion to its weight.\n");
			return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("queue group add", "give exactly one GROUP name");
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	int64_t id;
	if (norc_qgroup_add(cli->db, argv[optind], weighted, &id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	if (cli->json)
		printf("{\"id\": %" PRId64 ", \"name\": \"%s\"}\n", id, argv[optind]);
	else
		printf("queue group %s added (id %" PRId64 ", %s)\n", argv[optind], id,
		       weighted ? "weighted" : "strict priority");
	return NORC_EXIT_OK;
}

static int group_member(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"priority", required_argument, NULL, 'p'},
					   {"weight", required_argument, NULL, 'w'},
					   {"rm", no_argument, NULL, 'r'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	long long prio = 0, weight = 1;
	bool rm = false;
	int c;
	while ((c = norc_cli_getopt("queue group member", argc, argv, "p:w:rh", lo)) != -1) {
		switch (c) {
		case 'p':
			if (!norc_cli_int(optarg, 0, 1000000, &prio))
				return norc_cli_usage_error("queue group member", "--priority '%s': "
							    "give 0..1000000 (lower goes first)",
							    optarg);
			break;
		case 'w':
			if (!norc_cli_int(optarg, 1, 1000000, &weight))
				return norc_cli_usage_error("queue group member", "--weight '%s': "
							    "give 1..1000000", optarg);
			break;
		case 'r': rm = true; break;
		case 'h':
			printf("usage: norc queue group member GROUP QUEUE [--priority P] [--weight W] "
			       "[--rm]\n\nAdds QUEUE to GROUP, or changes its priority (strict "
			       "groups: lower first, default 0)\nand weight (weighted groups: its "
			       "share, default 1); --rm removes it. A queue may\nbelong to several "
			       "groups. Running executors of the group see the change when\nthey "
			       "restart.\n");
			return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind + 2 != argc)
		return norc_cli_usage_error("queue group member", "give GROUP and QUEUE");
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	int64_t gid, qid;
	if (norc_model_queue_find(cli->db, argv[optind], &gid, err, sizeof(err)) != NORC_OK ||
	    norc_model_queue_find(cli->db, argv[optind + 1], &qid, err, sizeof(err)) != NORC_OK ||
	    norc_qgroup_member(cli->db, gid, qid, (int)prio, (int)weight, rm, err, sizeof(err)) !=
		    NORC_OK)
		return norc_cli_fail("%s", err);
	if (!cli->json)
		printf(rm ? "queue %s removed from group %s\n" : "queue %s is in group %s\n",
		       argv[optind + 1], argv[optind]);
	return NORC_EXIT_OK;
}

static int group_list(struct norc_cli *cli, int argc, char **argv)
{
	int hrc = norc_cli_simple_opts("queue group list", argc, argv, 0,
				       "usage: norc queue group list [--json]\n\nLists queue groups with "
				       "their mode and queues, in the order they are served.\n");
	if (hrc != -1)
		return hrc;
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	json_t *groups;
	if (norc_qgroup_list(cli->db, &groups) != NORC_OK)
		return norc_cli_fail("queue group list: %s", norc_db_errmsg(cli->db));
	if (cli->json) {
		json_dumpf(groups, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(groups);
		return NORC_EXIT_OK;
	}
	/* one row per member: GROUP MODE QUEUE TYPE PRIORITY WEIGHT */
	json_t *rows = json_array(), *g, *m;
	size_t i, j;
	json_array_foreach(groups, i, g) {
		json_t *members = json_object_get(g, "members");
		if (json_array_size(members) == 0) {
			json_t *r = json_object();
			json_object_set(r, "group", json_object_get(g, "name"));
			json_object_set(r, "mode", json_object_get(g, "mode"));
			json_array_append_new(rows, r);
		}
		json_array_foreach(members, j, m) {
			json_t *r = json_object();
			json_object_set(r, "group", json_object_get(g, "name"));
			json_object_set(r, "mode", json_object_get(g, "mode"));
			json_object_set(r, "queue", json_object_get(m, "name"));
			json_object_set(r, "type", json_object_get(m, "type"));
			json_object_set(r, "priority", json_object_get(m, "priority"));
			json_object_set(r, "weight", json_object_get(m, "weight"));
			json_array_append_new(rows, r);
		}
	}
	static const char *const cols[] = {"group", "mode", "queue", "type", "priority", "weight",
					   NULL};
	norc_table_print_rows(cols, rows, stdout, false);
	json_decref(rows);
	json_decref(groups);
	return NORC_EXIT_OK;
}

static const struct norc_cli_cmd subs[] = {
	{"add", group_add, "add a queue group"},
	{"member", group_member, "add a queue to a group, change or remove it"},
	{"list", group_list, "list queue groups and their queues"},
	{NULL, NULL, NULL},
};

int norc_cmd_queue_group(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "queue group", argc, argv);
}
