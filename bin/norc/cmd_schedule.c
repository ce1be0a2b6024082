/*
 * cmd_schedule.c - `norc schedule add|list|rm` (period schedules: every N seconds, R times).
 */
#include "clock.h"
#include "cli.h"
#include "doorbell.h"
#include "model.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_help(void)
{
	printf("usage: norc schedule add TASK --queue QUEUE --period DURATION [--reps N]\n"
	       "                         [--start WHEN] [--make-up]\n\n"
	       "Runs TASK every DURATION (seconds, or 30s/5m/2h/1d), N times (0 = forever;\n"
	       "default 1), starting at WHEN: now (default), +SECONDS, +5m, @EPOCH or\n"
	       "'YYYY-MM-DD HH:MM[:SS]' in UTC. With --make-up, runs missed while no\n"
	       "scheduler was up are made up; without it, at most one late run fires.\n"
	       "A period of 0 fires all repetitions at once and needs a finite --reps.\n");
}

static int schedule_add(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"queue", required_argument, NULL, 'q'},
					   {"period", required_argument, NULL, 'P'},
					   {"reps", required_argument, NULL, 'r'},
					   {"start", required_argument, NULL, 's'},
					   {"make-up", no_argument, NULL, 'm'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *queue = NULL, *period = NULL, *start = "now";
	struct norc_schedule_def d = {.kind = "period", .reps = 1};
	long long v;
	int c, rc = NORC_EXIT_OK;
	while (rc == NORC_EXIT_OK &&
	       (c = norc_cli_getopt("schedule add", argc, argv, "q:P:r:s:mh", lo)) != -1) {
		switch (c) {
		case 'q': queue = optarg; break;
		case 'P': period = optarg; break;
		case 's': start = optarg; break;
		case 'm': d.make_up = true; break;
		case 'r':
			if (!norc_cli_int(optarg, 0, INT32_MAX, &v))
				rc = norc_cli_usage_error("schedule add", "--reps '%s': give a "
							  "count, 0 for forever", optarg);
			d.reps = (int)v;
			break;
		case 'h': add_help(); return NORC_EXIT_OK;
		default: rc = NORC_EXIT_USAGE;
		}
	}
	if (rc != NORC_EXIT_OK)
		return rc;
	if (optind + 1 != argc)
		return norc_cli_usage_error("schedule add", "give exactly one TASK (name or id)");
	if (!queue)
		return norc_cli_usage_error("schedule add", "--queue QUEUE is required");
	if (!period)
		return norc_cli_usage_error("schedule add", "--period DURATION is required");
	if (norc_clock_parse_duration(period, &d.period_s) != NORC_OK)
		return norc_cli_usage_error("schedule add", "--period '%s': give seconds or "
					    "30s, 5m, 2h, 1d", period);
	if (d.period_s == 0 && d.reps == 0)
		return norc_cli_usage_error("schedule add", "--period 0 with --reps 0 would fire "
					    "forever at once; give a period or a finite --reps");
	int64_t now = norc_clock_now_us();
	if (norc_clock_parse(start, now, &d.start_us) != NORC_OK)
		return norc_cli_usage_error("schedule add", "--start '%s': give now, +SECONDS, "
					    "+5m, @EPOCH or 'YYYY-MM-DD HH:MM[:SS]' (UTC)", start);
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	int64_t id;
	if (norc_model_task_find(cli->db, argv[optind], &d.task_id, err, sizeof(err)) != NORC_OK ||
	    norc_model_queue_find(cli->db, queue, &d.queue_id, err, sizeof(err)) != NORC_OK ||
	    norc_model_schedule_add(cli->db, &d, &id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("schedule for %s: %s", argv[optind], err);
	norc_doorbell_ring(cli->cfg, 0); /* schedulers on this host claim it now */
	char when[40];
	norc_clock_format(d.start_us, when, sizeof(when));
	if (cli->json)
		printf("{\"id\": %" PRId64 "}\n", id);
	else if (d.reps)
		printf("schedule %" PRId64 " added: %s on %s every %" PRId64 "s, %d time%s, first "
		       "at %s\n", id, argv[optind], queue, d.period_s, d.reps, d.reps == 1 ? "" : "s",
		       when);
	else
		printf("schedule %" PRId64 " added: %s on %s every %" PRId64 "s, forever, first at "
		       "%s\n", id, argv[optind], queue, d.period_s, when);
	return NORC_EXIT_OK;
}

static int schedule_list(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"task", required_argument, NULL, 't'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *task = NULL;
	int c;
	while ((c = norc_cli_getopt("schedule list", argc, argv, "t:h", lo)) != -1) {
		if (c == 't') {
			task = optarg;
			continue;
		}
		if (c == 'h') {
			printf("usage: norc schedule list [--task TASK] [--json]\n\nLists live "
			       "schedules: task, queue, period, repetitions left, next fire time "
			       "(UTC) and the scheduler holding it.\n");
			return NORC_EXIT_OK;
		}
		return NORC_EXIT_USAGE;
	}
	if (optind != argc)
		return norc_cli_usage_error("schedule list", "unexpected argument '%s'", argv[optind]);
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	int64_t task_id = 0;
	if (task && norc_model_task_find(cli->db, task, &task_id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	json_t *rows;
	if (norc_model_schedule_list(cli->db, task_id, &rows) != NORC_OK)
		return norc_cli_fail("schedule list: %s", norc_db_errmsg(cli->db));
	static const char *const cols[] = {"id", "task", "queue", "kind", "period", "repetitions",
					   "remaining", "make_up", "next_fire", "scheduler", NULL};
	norc_table_print_rows(cols, rows, stdout, cli->json);
	json_decref(rows);
	return NORC_EXIT_OK;
}

static int schedule_rm(struct norc_cli *cli, int argc, char **argv)
{
	int rc = norc_cli_simple_opts("schedule rm", argc, argv, 1,
				      "usage: norc schedule rm ID\n\nRemoves a schedule: it fires "
				      "no more. Its instances and logs stay.\n");
	if (rc != -1)
		return rc;
	long long id;
	if (!norc_cli_id(argv[optind], &id))
		return norc_cli_usage_error("schedule rm", "'%s' is not a schedule id (see `norc "
					    "schedule list`)", argv[optind]);
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	if (norc_model_schedule_rm(cli->db, id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	norc_doorbell_ring(cli->cfg, 0);
	if (!cli->json)
		printf("schedule %lld removed\n", id);
	return NORC_EXIT_OK;
}

static int schedule_pause_resume(struct norc_cli *cli, int argc, char **argv, bool pause)
{
	const char *cmd = pause ? "schedule pause" : "schedule resume";
	int rc = norc_cli_simple_opts(cmd, argc, argv, 1,
				      pause ? "usage: norc schedule pause ID\n\nStops a schedule "
					      "from firing until `norc schedule resume ID`.\n"
					    : "usage: norc schedule resume ID\n\nLets a paused "
					      "schedule fire again; fire times missed while paused "
					      "follow its make-up policy (without --make-up, at most "
					      "one late run).\n");
	if (rc != -1)
		return rc;
	long long id;
	if (!norc_cli_id(argv[optind], &id))
		return norc_cli_usage_error(cmd, "'%s' is not a schedule id (see `norc schedule "
					    "list`)", argv[optind]);
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	if (norc_model_schedule_pause(cli->db, id, pause, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	norc_doorbell_ring(cli->cfg, 0);
	if (!cli->json)
		printf("schedule %lld %s\n", id, pause ? "paused" : "resumed");
	return NORC_EXIT_OK;
}

static int schedule_pause(struct norc_cli *cli, int argc, char **argv)
{
	return schedule_pause_resume(cli, argc, argv, true);
}

static int schedule_resume(struct norc_cli *cli, int argc, char **argv)
{
	return schedule_pause_resume(cli, argc, argv, false);
}

static const struct norc_cli_cmd subs[] = {
	{"add", schedule_add, "add a period schedule"},
	{"list", schedule_list, "list schedules"},
	{"rm", schedule_rm, "remove a schedule"},
	{"pause", schedule_pause, "stop a schedule from firing"},
	{"resume", schedule_resume, "let a paused schedule fire again"},
	{NULL, NULL, NULL},
};

int norc_cmd_schedule(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "schedule", argc, argv);
}
