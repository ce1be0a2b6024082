/*
 * cmd_run.c - `norc run TASK --queue QUEUE`: enqueue one instance of TASK now.
 */
#include "cli.h"
#include "clock.h"
#include "doorbell.h"
#include "instance.h"
#include "model.h"

#include <inttypes.h>
#include <stdio.h>

int norc_cmd_run(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"queue", required_argument, NULL, 'q'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *queue = NULL;
	int c;
	while ((c = norc_cli_getopt("run", argc, argv, "q:h", lo)) != -1) {
		if (c == 'q') {
			queue = optarg;
			continue;
		}
		if (c == 'h') {
			printf("usage: norc run TASK --queue QUEUE [--json]\n\nCreates one instance "
			       "of TASK now and pushes it onto QUEUE, for an executor of that queue "
			       "to run. Prints the instance id.\n");
			return NORC_EXIT_OK;
		}
		return NORC_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("run", "give exactly one TASK (name or id)");
	if (!queue)
		return norc_cli_usage_error("run", "--queue QUEUE is required");
	if (norc_cli_db(cli, true) != NORC_OK || norc_cli_plugins(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512] = "";
	int64_t task_id, queue_id, id = 0;
	if (norc_model_task_find(cli->db, argv[optind], &task_id, err, sizeof(err)) != NORC_OK ||
	    norc_model_queue_find(cli->db, queue, &queue_id, err, sizeof(err)) != NORC_OK ||
	    norc_instance_run_now(cli->db, task_id, queue_id, &id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("run %s: %s", argv[optind], err);
	norc_doorbell_ring(cli->cfg, queue_id);
	if (cli->json)
		printf("{\"id\": %" PRId64 "}\n", id);
	else
		printf("instance %" PRId64 " of %s enqueued on %s\n", id, argv[optind], queue);
	return NORC_EXIT_OK;
}
