/*
 * cmd_task.c - `norc task add|list|show|set|rm`, and the run settings and the adding of a task
 * that `norc job add` shares (cli.h).
 */
#include "clock.h"
#include "cli.h"
#include "model.h"
#include "params.h"
#include "plugin.h"
#include "runas.h"
#include "sched.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_help(void)
{
	printf("usage: norc task add NAME [--type TYPE] [--command CMD] [--timeout DURATION]\n"
	       "                     [--nice N] [--retries N] [--retry-delay DURATION]\n"
	       "                     [--retry-max-delay DURATION] [--description TEXT]\n"
	       "                     [--param KEY=VALUE]...\n\n"
	       "Adds a task. TYPE is a task plugin (default CommandTask, which runs CMD with\n"
	       "/bin/sh -c). --command CMD is short for --param command=CMD. Parameters are\n"
	       "checked by the plugin. Durations take seconds or 30s/5m/2h/1d.\n"
	       "  --timeout D           kill the run after D (0 = none)\n"
	       "  --nice N              -20..19\n"
	       "  --retries N           run again up to N times after FAILURE, TIMEDOUT or a lost\n"
	       "                        executor; each attempt is its own instance (0..100)\n"
	       "  --retry-delay D       wait D before the first retry, doubling each time\n"
	       "  --retry-max-delay D   cap of that doubling (default 1h)\n"
	       "  --overlap P           when a fire comes while a run of the task is still\n"
	       "                        active: allow (default) runs it too, skip records it as\n"
	       "                        SKIPPED, queue runs it after (at most one waits)\n"
	       "  --run-as USER[:GROUP] the user it runs as (a root executor switches to it;\n"
	       "                        without it: tasks.user of the executor's host)\n"
	       "  --limit LIST          resource limits: cpu=60s,mem=512M,files=1024,procs=200,\n"
	       "                        fsize=1G,core=0 (setrlimit; '' removes them)\n");
}

/* --limit's text so far in this command and its normalized form (d->limits points here);
 * commands run in-process (apply, import-crontab) start afresh with limits_reset. */
static char limits_raw[1024], limits_norm[256];
static void limits_reset(void) { limits_raw[0] = limits_norm[0] = '\0'; }

/* The run settings `task add`, `task set` and `job add` share: true when c was one of them. */
static bool run_setting(int c, const char *cmd, struct norc_task_def *d, int *has, int *rc)
{
	char err[400];
	int64_t secs = 0;
	long long v = 0;
	const char *name = c == 'T' ? "--timeout" : c == 'D' ? "--retry-delay" : "--retry-max-delay";
	switch (c) {
	case 'T':
	case 'D':
	case 'M':
		if (norc_clock_parse_duration(optarg, &secs) != NORC_OK || secs > INT32_MAX ||
		    (c == 'M' && secs < 1)) {
			*rc = norc_cli_usage_error(cmd, "%s '%s': give seconds or 30s, 5m, 2h, 1d%s",
						   name, optarg, c == 'M' ? " (at least 1 s)" : "");
		} else if (c == 'T') {
			d->timeout_s = (int)secs;
			*has |= NORC_TASK_SET_TIMEOUT;
		} else if (c == 'D') {
			d->retry_delay_s = (int)secs;
			*has |= NORC_TASK_SET_RETRY_DELAY;
		} else {
			d->retry_max_delay_s = (int)secs;
			*has |= NORC_TASK_SET_RETRY_MAX_DELAY;
		}
		return true;
	case 'n':
		if (!norc_cli_int(optarg, -20, 19, &v))
			*rc = norc_cli_usage_error(cmd, "--nice '%s': give -20..19", optarg);
		d->nice = (int)v;
		*has |= NORC_TASK_SET_NICE;
		return true;
	case 'r':
		if (!norc_cli_int(optarg, 0, 100, &v))
			*rc = norc_cli_usage_error(cmd, "--retries '%s': give 0..100", optarg);
		d->retries = (int)v;
		*has |= NORC_TASK_SET_RETRIES;
		return true;
	case 'd':
		d->description = optarg;
		*has |= NORC_TASK_SET_DESCRIPTION;
		return true;
	case 'O':
		if ((d->overlap = norc_sched_overlap_parse(optarg)) < 0)
			*rc = norc_cli_usage_error(cmd, "--overlap '%s': give allow, skip or queue",
						   optarg);
		*has |= NORC_TASK_SET_OVERLAP;
		return true;
	case 'u':
		if (*optarg && norc_runas_check(optarg, err, sizeof(err)) != NORC_OK)
			*rc = norc_cli_usage_error(cmd, "%s", err);
		d->run_as = optarg;
		*has |= NORC_TASK_SET_RUN_AS;
		return true;
	case 'L': { /* several --limit of one command add up (limits_raw is reset per command) */
		size_t used = strlen(limits_raw);
		int n = snprintf(limits_raw + used, sizeof(limits_raw) - used, "%s%s",
				 used ? "," : "", optarg);
		if (n < 0 || (size_t)n >= sizeof(limits_raw) - used)
			*rc = norc_cli_usage_error(cmd, "--limit: too long");
		else if (norc_runas_limits_parse(limits_raw, limits_norm, sizeof(limits_norm), err,
						 sizeof(err)) != NORC_OK)
			*rc = norc_cli_usage_error(cmd, "--%s", err);
		d->limits = limits_norm;
		*has |= NORC_TASK_SET_LIMITS;
		return true;
	}
	}
	return false;
}

#define RUN_SETTING_OPTS NORC_CLI_RUN_LONGOPTS, {"nice", required_argument, NULL, 'n'}

/* Check d's name, validate params through d->type's plugin, insert the task and print it. */
static int add(struct norc_cli *cli, const char *cmd, const char *kind, struct norc_task_def *d,
	       const struct norc_params *params)
{
	char err[512];
	if (norc_model_check_name(kind, d->name, 128, err, sizeof(err)) != NORC_OK)
		return norc_cli_usage_error(cmd, "%s", err);
	if (norc_cli_db(cli, true) != NORC_OK || norc_cli_plugins(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	const struct norc_plugin_entry *p = norc_plugin_find(NORC_KIND_TASK, d->type);
	if (!p)
		return norc_cli_fail("%s '%s': no task plugin named '%s' is loaded; `norc plugins` "
				     "lists them", kind, d->name, d->type);
	const struct norc_task_ops *ops = p->desc->ops;
	err[0] = '\0';
	if (ops->validate(p->state, params, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s '%s': %s", kind, d->name, *err ? err : "invalid parameters");
	char *json = norc_params_to_json(params);
	d->params_json = json;
	int64_t id;
	int rc = NORC_EXIT_OK;
	if (norc_model_task_add(cli->db, d, &id, err, sizeof(err)) != NORC_OK)
		rc = norc_cli_fail("%s", err);
	else if (cli->json)
		printf("{\"id\": %" PRId64 ", \"name\": \"%s\"}\n", id, d->name);
	else
		printf("%s %s added (id %" PRId64 ", type %s)\n", kind, d->name, id, d->type);
	free(json);
	return rc;
}

int norc_cli_task_add(struct norc_cli *cli, const struct norc_cli_add *how, int argc, char **argv)
{
	struct norc_task_def d = {.type = how->type, .description = ""};
	struct norc_params *params = norc_params_new();
	limits_reset();
	char err[512];
	int c, rc = NORC_EXIT_OK, has = 0;
	while (rc == NORC_EXIT_OK && (c = norc_cli_getopt(how->cmd, argc, argv, how->shortopts,
							  how->longopts)) != -1) {
		if (run_setting(c, how->cmd, &d, &has, &rc))
			continue;
		switch (c) {
		case 't': d.type = optarg; break;
		case 'c': norc_params_set(params, "command", optarg); break;
		case 'f': norc_params_set(params, "fail_fast", "true"); break;
		case 'p':
			if (norc_params_set_kv(params, optarg, err, sizeof(err)) != NORC_OK)
				rc = norc_cli_usage_error(how->cmd, "%s", err);
			break;
		case 'h':
			how->help();
			norc_params_free(params);
			return NORC_EXIT_OK;
		default: rc = NORC_EXIT_USAGE;
		}
	}
	if (rc == NORC_EXIT_OK && optind + 1 != argc)
		rc = norc_cli_usage_error(how->cmd, "give exactly one %s NAME", how->kind);
	if (rc == NORC_EXIT_OK && strcmp(how->kind, "task") != 0 &&
	    (has & (NORC_TASK_SET_RUN_AS | NORC_TASK_SET_LIMITS)))
		rc = norc_cli_usage_error(how->cmd, "a %s runs no process of its own; give --run-as "
					  "and --limit to the tasks of its nodes", how->kind);
	d.name = optind < argc ? argv[optind] : "";
	if (rc == NORC_EXIT_OK)
		rc = add(cli, how->cmd, how->kind, &d, params);
	norc_params_free(params);
	return rc;
}

static int task_add(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"type", required_argument, NULL, 't'},
					   {"command", required_argument, NULL, 'c'},
					   RUN_SETTING_OPTS,
					   {"param", required_argument, NULL, 'p'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	static const struct norc_cli_add how = {"task add", "task", "CommandTask",
						"t:c:T:n:r:D:M:d:O:u:L:p:h", lo, add_help};
	return norc_cli_task_add(cli, &how, argc, argv);
}

/* The new parameters of task id (the whole set), checked by its type's plugin, into
 * d->params_json (caller frees *json). */
static int set_params(struct norc_cli *cli, int64_t id, const struct norc_params *params,
		      struct norc_task_def *d, char **json)
{
	char err[512];
	json_t *t;
	if (norc_cli_plugins(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	if (norc_model_task_get(cli->db, id, &t, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	const char *type = json_string_value(json_object_get(t, "type"));
	const struct norc_plugin_entry *p = norc_plugin_find(NORC_KIND_TASK, type ? type : "");
	int rc = NORC_EXIT_OK;
	err[0] = '\0';
	if (!p)
		rc = norc_cli_fail("task #%" PRId64 ": no task plugin named '%s' is loaded; `norc "
				   "plugins` lists them", id, type ? type : "?");
	else if (((const struct norc_task_ops *)p->desc->ops)->validate(p->state, params, err,
									 sizeof(err)) != NORC_OK)
		rc = norc_cli_fail("task #%" PRId64 ": %s", id, *err ? err : "invalid parameters");
	json_decref(t);
	if (rc == NORC_EXIT_OK)
		d->params_json = *json = norc_params_to_json(params);
	return rc;
}

static int task_set(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {RUN_SETTING_OPTS,
					   {"command", required_argument, NULL, 'c'},
					   {"param", required_argument, NULL, 'p'},
					   {"no-params", no_argument, NULL, 'N'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	struct norc_task_def d = {0};
	struct norc_params *params = norc_params_new();
	char perr[512];
	limits_reset();
	int c, rc = NORC_EXIT_OK, has = 0;
	while (rc == NORC_EXIT_OK &&
	       (c = norc_cli_getopt("task set", argc, argv, "T:n:r:D:M:d:O:u:L:c:p:Nh", lo)) != -1) {
		if (run_setting(c, "task set", &d, &has, &rc))
			continue;
		if (c == 'c') {
			norc_params_set(params, "command", optarg);
			has |= NORC_TASK_SET_PARAMS;
			continue;
		}
		if (c == 'p') {
			if (norc_params_set_kv(params, optarg, perr, sizeof(perr)) != NORC_OK)
				rc = norc_cli_usage_error("task set", "%s", perr);
			has |= NORC_TASK_SET_PARAMS;
			continue;
		}
		if (c == 'N') { /* no parameters at all (if its plugin allows that) */
			has |= NORC_TASK_SET_PARAMS;
			continue;
		}
		if (c == 'h') {
			printf("usage: norc task set NAME|ID [--timeout D] [--nice N] [--retries N]\n"
			       "                     [--retry-delay D] [--retry-max-delay D]\n"
			       "                     [--overlap P] [--description TEXT]\n"
			       "                     [--run-as USER[:GROUP]] [--limit LIST]\n"
			       "                     [--command CMD] [--param KEY=VALUE]... "
			       "[--no-params]\n\n"
			       "Changes a task's run settings (see `norc task add --help`). They apply "
			       "to runs\nthat start from now on, retries included. --command and "
			       "--param replace the\ntask's parameters, all of them (give every one "
			       "it needs), checked by its plugin;\n--no-params leaves it none.\n");
			norc_params_free(params);
			return NORC_EXIT_OK;
		}
		rc = NORC_EXIT_USAGE;
	}
	if (rc != NORC_EXIT_OK) {
		norc_params_free(params);
		return rc;
	}
	if (optind + 1 != argc || !has || norc_cli_db(cli, true) != NORC_OK) {
		norc_params_free(params);
		if (optind + 1 != argc)
			return norc_cli_usage_error("task set", "give exactly one task NAME or ID");
		if (!has)
			return norc_cli_usage_error("task set", "give at least one setting to change");
		return NORC_EXIT_FAIL;
	}
	char err[512], *json = NULL;
	int64_t id;
	if (norc_model_task_find(cli->db, argv[optind], &id, err, sizeof(err)) != NORC_OK) {
		norc_params_free(params);
		return norc_cli_fail("%s", err);
	}
	if ((has & NORC_TASK_SET_PARAMS) && set_params(cli, id, params, &d, &json) != NORC_EXIT_OK) {
		norc_params_free(params);
		return NORC_EXIT_FAIL;
	}
	norc_params_free(params);
	rc = norc_model_task_set(cli->db, id, &d, has, err, sizeof(err));
	free(json);
	if (rc != NORC_OK)
		return norc_cli_fail("%s", err);
	if (!cli->json)
		printf("task %s changed\n", argv[optind]);
	return NORC_EXIT_OK;
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
	static const char *const cols[] = {"id", "name", "type", "timeout", "nice", "retries",
					   "schedules", "description", NULL};
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
					   "retries", "retry_delay", "retry_max_delay", "overlap",
					   "run_as", "limits", "params",
					   "added", NULL};
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
	{"set", task_set, "change a task's run settings"},
	{"rm", task_rm, "remove a task"},
	{NULL, NULL, NULL},
};

int norc_cmd_task(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "task", argc, argv);
}
