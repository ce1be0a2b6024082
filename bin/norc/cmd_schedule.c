/*
 * cmd_schedule.c - `norc schedule add|set|show|list|pause|resume|rm`: period schedules
 * (every N seconds, R times) and cron rules in a time zone.
 */
#include "clock.h"
#include "cli.h"
#include "doorbell.h"
#include "model.h"
#include "sched.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void add_help(void)
{
	printf("usage: norc schedule add TASK --queue QUEUE (--period DURATION | --cron EXPR)\n"
	       "                         [--tz ZONE] [--reps N] [--start WHEN]\n"
	       "                         [--catch-up skip|latest|all[:N]] [--make-up]\n\n"
	       "Runs TASK on QUEUE:\n"
	       "  --period D     every D (seconds, or 30s/5m/2h/1d); D = 0 fires all --reps at once\n"
	       "  --cron EXPR    cron rule down to the second: 'SEC MIN HOUR DOM MON DOW' or the\n"
	       "                 usual 5 fields, @daily, @hourly..., @every 90s, or the original\n"
	       "                 Norc's 'o*d*w*h9m0s0' and HOURLY/DAILY/...; `norc cron next EXPR`\n"
	       "                 previews it\n"
	       "  --tz ZONE      IANA zone of the cron rule (default: the config's timezone, UTC)\n"
	       "  --reps N       N fires, 0 = forever (default 1 for --period, 0 for --cron)\n"
	       "  --start WHEN   not before WHEN: now (default), +SECONDS, +5m, @EPOCH,\n"
	       "                 'YYYY-MM-DD HH:MM[:SS]' (UTC)\n"
	       "  --catch-up P   fire times missed while no scheduler ran: skip them, run the\n"
	       "                 latest only (default), or all of them (at most N, default 1000)\n"
	       "  --make-up      the original's name for --catch-up all\n");
}

/* The rule options `schedule add` and `schedule set` share. */
struct rule_opts {
	const char *period, *cron, *tz, *start, *catch_up;
	long long reps;
	bool has_reps;
};

static bool rule_opt(int c, struct rule_opts *o, const char *cmd, int *rc)
{
	switch (c) {
	case 'P': o->period = optarg; return true;
	case 'x': o->cron = optarg; return true;
	case 'z': o->tz = optarg; return true;
	case 's': o->start = optarg; return true;
	case 'c': o->catch_up = optarg; return true;
	case 'm': o->catch_up = "all"; return true;
	case 'r':
		if (!norc_cli_int(optarg, 0, INT32_MAX, &o->reps))
			*rc = norc_cli_usage_error(cmd, "--reps '%s': give a count, 0 for forever",
						   optarg);
		o->has_reps = true;
		return true;
	}
	return false;
}

#define RULE_LONGOPTS                                                                           \
	{"period", required_argument, NULL, 'P'}, {"cron", required_argument, NULL, 'x'},     \
		{"tz", required_argument, NULL, 'z'}, {"start", required_argument, NULL, 's'},  \
		{"catch-up", required_argument, NULL, 'c'}, {"make-up", no_argument, NULL, 'm'}, \
		{"reps", required_argument, NULL, 'r'}

static uint32_t rnd(void *ctx)
{
	(void)ctx;
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)norc_clock_now_us() ^ (uint32_t)getpid();
	return v;
}

/* Turn the rule options into d (kind, period or canonical cron text, zone, first fire time in
 * start_us). cron_buf holds the text d->cron points at. Prints the error; exit code or 0. */
static int resolve_rule(struct norc_cli *cli, const char *cmd, const struct rule_opts *o,
			struct norc_schedule_def *d, char *cron_buf, size_t cron_len)
{
	if (!!o->period == !!o->cron)
		return norc_cli_usage_error(cmd, "give either --period DURATION or --cron EXPR");
	if (o->tz && !o->cron)
		return norc_cli_usage_error(cmd, "--tz goes with --cron (periods are absolute)");
	int64_t now = norc_clock_now_us();
	if (norc_clock_parse(o->start ? o->start : "now", now, &d->start_us) != NORC_OK)
		return norc_cli_usage_error(cmd, "--start '%s': give now, +SECONDS, +5m, @EPOCH or "
					    "'YYYY-MM-DD HH:MM[:SS]' (UTC)", o->start);
	if (o->period) {
		d->kind = "period";
		if (norc_clock_parse_duration(o->period, &d->period_s) != NORC_OK ||
		    d->period_s > 100LL * 366 * 86400)
			return norc_cli_usage_error(cmd, "--period '%s': give seconds or 30s, 5m, "
						    "2h, 1d (at most 100 years)", o->period);
		return 0;
	}
	char err[512];
	struct norc_sched x = {.is_cron = true};
	if (norc_cron_parse(o->cron, rnd, NULL, &x.cron, err, sizeof(err)) != NORC_OK)
		return norc_cli_usage_error(cmd, "--cron: %s", err);
	if (norc_cli_config(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	d->tz = o->tz ? o->tz : cli->cfg->timezone ? cli->cfg->timezone : "UTC";
	struct norc_tz *tz = NULL;
	if (norc_tz_load(d->tz, &tz, err, sizeof(err)) != NORC_OK)
		return norc_cli_usage_error(cmd, "--tz: %s", err);
	x.tz = tz;
	d->kind = "cron";
	norc_cron_format(&x.cron, cron_buf, cron_len);
	d->cron = cron_buf;
	if (x.cron.every) { /* a period that keeps its @every text */
		d->period_s = x.cron.every;
	} else if (norc_sched_after(&x, d->start_us - 1, &d->start_us) != NORC_OK) {
		norc_tz_free(tz);
		return norc_cli_usage_error(cmd, "--cron '%s' never fires after --start", o->cron);
	}
	norc_tz_free(tz);
	return 0;
}

static int resolve_catch_up(const char *cmd, const char *text, struct norc_schedule_def *d)
{
	if (norc_sched_catch_up_parse(text, &d->catch_up, &d->catch_up_max) != NORC_OK)
		return norc_cli_usage_error(cmd, "--catch-up '%s': give skip, latest, all or all:N "
					    "(N = 1..1000000)", text);
	return 0;
}

static int schedule_add(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"queue", required_argument, NULL, 'q'}, RULE_LONGOPTS,
					   {"help", no_argument, NULL, 'h'}, {0}};
	const char *queue = NULL;
	struct rule_opts o = {0};
	struct norc_schedule_def d = {.catch_up = NORC_CATCH_UP_LATEST};
	int c, rc = NORC_EXIT_OK;
	while (rc == NORC_EXIT_OK &&
	       (c = norc_cli_getopt("schedule add", argc, argv, "q:P:x:z:s:c:mr:h", lo)) != -1) {
		if (rule_opt(c, &o, "schedule add", &rc))
			continue;
		switch (c) {
		case 'q': queue = optarg; break;
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
	char cron[NORC_CRON_TEXT_MAX];
	if ((rc = resolve_rule(cli, "schedule add", &o, &d, cron, sizeof(cron))) ||
	    (o.catch_up && (rc = resolve_catch_up("schedule add", o.catch_up, &d))))
		return rc;
	d.reps = o.has_reps ? (int)o.reps : o.cron ? 0 : 1;
	if (!o.cron && d.period_s == 0 && d.reps == 0)
		return norc_cli_usage_error("schedule add", "--period 0 with --reps 0 would fire "
					    "forever at once; give a period or a finite --reps");
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	int64_t id;
	if (norc_model_task_find(cli->db, argv[optind], &d.task_id, err, sizeof(err)) != NORC_OK ||
	    norc_model_queue_find(cli->db, queue, &d.queue_id, err, sizeof(err)) != NORC_OK ||
	    norc_model_schedule_add(cli->db, &d, &id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("schedule for %s: %s", argv[optind], err);
	norc_doorbell_ring(cli->cfg, 0); /* schedulers on this host claim it now */
	char when[40], times[32];
	norc_clock_format(d.start_us, when, sizeof(when));
	snprintf(times, sizeof(times), d.reps ? "%d time%s" : "forever", d.reps,
		 d.reps == 1 ? "" : "s");
	if (cli->json)
		printf("{\"id\": %" PRId64 "}\n", id);
	else if (o.cron)
		printf("schedule %" PRId64 " added: %s on %s, cron '%s' in %s, %s, first at %s\n",
		       id, argv[optind], queue, d.cron, d.tz, times, when);
	else
		printf("schedule %" PRId64 " added: %s on %s every %" PRId64 "s, %s, first at %s\n",
		       id, argv[optind], queue, d.period_s, times, when);
	return NORC_EXIT_OK;
}

static int schedule_set(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {RULE_LONGOPTS, {"help", no_argument, NULL, 'h'}, {0}};
	struct rule_opts o = {0};
	struct norc_schedule_def d = {0};
	int c, rc = NORC_EXIT_OK, has = 0;
	while (rc == NORC_EXIT_OK &&
	       (c = norc_cli_getopt("schedule set", argc, argv, "P:x:z:s:c:mr:h", lo)) != -1) {
		if (rule_opt(c, &o, "schedule set", &rc))
			continue;
		if (c == 'h') {
			printf("usage: norc schedule set ID [--period D | --cron EXPR [--tz ZONE]]\n"
			       "                            [--start WHEN] [--reps N]\n"
			       "                            [--catch-up skip|latest|all[:N]]\n\n"
			       "Changes a schedule (see `norc schedule add --help`); the scheduler "
			       "holding it\nreloads it at once (the original's reschedule).\n");
			return NORC_EXIT_OK;
		}
		rc = NORC_EXIT_USAGE;
	}
	if (rc != NORC_EXIT_OK)
		return rc;
	long long id;
	if (optind + 1 != argc || !norc_cli_id(argv[optind], &id))
		return norc_cli_usage_error("schedule set", "give exactly one schedule ID");
	char cron[NORC_CRON_TEXT_MAX];
	if (o.period || o.cron || o.tz || o.start) {
		if ((rc = resolve_rule(cli, "schedule set", &o, &d, cron, sizeof(cron))))
			return rc;
		if (o.period && d.period_s == 0 && (!o.has_reps || o.reps == 0))
			return norc_cli_usage_error("schedule set", "--period 0 fires all repetitions "
						    "at once: give a finite --reps N with it");
		has |= NORC_SCHED_SET_RULE;
	}
	if (o.catch_up) {
		if ((rc = resolve_catch_up("schedule set", o.catch_up, &d)))
			return rc;
		has |= NORC_SCHED_SET_CATCH_UP;
	}
	if (o.has_reps) {
		d.reps = (int)o.reps;
		has |= NORC_SCHED_SET_REPS;
	}
	if (!has)
		return norc_cli_usage_error("schedule set", "give at least one thing to change");
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	if (norc_model_schedule_set(cli->db, id, &d, has, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	norc_doorbell_ring(cli->cfg, 0);
	if (!cli->json)
		printf("schedule %lld changed\n", id);
	return NORC_EXIT_OK;
}

static int schedule_show(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"count", required_argument, NULL, 'n'},
					   {"help", no_argument, NULL, 'h'}, {0}};
	long long count = 5;
	int c;
	while ((c = norc_cli_getopt("schedule show", argc, argv, "n:h", lo)) != -1) {
		if (c == 'n' && norc_cli_int(optarg, 0, 1000, &count))
			continue;
		if (c == 'h') {
			printf("usage: norc schedule show ID [-n N] [--json]\n\nShows a schedule: its "
			       "rule, zone, catch-up policy, the next N fire times\n(default 5), and "
			       "what happened at its last fire time, and why.\n");
			return NORC_EXIT_OK;
		}
		return c == 'n' ? norc_cli_usage_error("schedule show", "-n '%s': give 0..1000",
						       optarg)
				: NORC_EXIT_USAGE;
	}
	long long id;
	if (optind + 1 != argc || !norc_cli_id(argv[optind], &id))
		return norc_cli_usage_error("schedule show", "give exactly one schedule ID");
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	json_t *obj;
	if (norc_model_schedule_get(cli->db, id, &obj, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	/* the coming fire times, from the stored next one */
	json_t *up = json_array();
	struct norc_sched x = {0};
	struct norc_tz *tz = NULL;
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *expr = json_string_value(json_object_get(obj, "cron"));
	const char *zone = json_string_value(json_object_get(obj, "tz"));
	int64_t t = 0;
	bool ok = kind && norc_db_query_int64(cli->db, "SELECT next_fire FROM schedules WHERE id "
					      "= ? AND next_fire IS NOT NULL", &t, 1,
					      (int64_t)id) == NORC_OK;
	if (ok && strcmp(kind, "cron") == 0 && expr)
		ok = norc_cron_parse(expr, NULL, NULL, &x.cron, err, sizeof(err)) == NORC_OK &&
		     norc_tz_load(zone ? zone : "UTC", &tz, err, sizeof(err)) == NORC_OK;
	x.is_cron = ok && strcmp(kind, "cron") == 0 && !x.cron.every;
	x.tz = tz;
	x.period_us = (x.cron.every ? x.cron.every
				    : json_integer_value(json_object_get(obj, "period"))) *
		      NORC_US_PER_SEC;
	for (long long i = 0; ok && i < count; i++) {
		char iso[48];
		norc_cron_format_time(t / NORC_US_PER_SEC, x.is_cron ? tz : NULL, iso, sizeof(iso));
		json_array_append_new(up, json_string(iso));
		if (x.period_us == 0 && !x.is_cron)
			break;
		ok = norc_sched_after(&x, t, &t) == NORC_OK;
	}
	norc_tz_free(tz);
	static const char *const keys[] = {"id", "task", "queue", "kind", "period", "cron", "tz",
					   "repetitions", "remaining", "catch_up", "catch_up_max",
					   "start", "next_fire", "paused", "scheduler", "last_fire",
					   "last_note", "deleted", NULL};
	if (cli->json) {
		json_object_set(obj, "upcoming", up);
		norc_table_print_record(keys, obj, stdout, true);
	} else {
		norc_table_print_record(keys, obj, stdout, false);
		printf("\nnext fire times:\n");
		size_t i;
		json_t *v;
		json_array_foreach(up, i, v) printf("  %s\n", json_string_value(v));
		if (!json_array_size(up))
			printf("  none\n");
	}
	json_decref(up);
	json_decref(obj);
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
	static const char *const cols[] = {"id", "task", "queue", "kind", "period", "cron", "tz",
					   "remaining", "catch_up", "next_fire", "scheduler", NULL};
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
					      "follow its catch-up policy (default: only the latest "
					      "runs).\n");
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
	{"add", schedule_add, "add a schedule (period or cron)"},
	{"set", schedule_set, "change a schedule (reschedule)"},
	{"show", schedule_show, "show a schedule, its next fire times and its last fire"},
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
