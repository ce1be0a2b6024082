/*
 * cmd_alert.c - `norc alert set|show|clear|list|test`: a task's alert rule and the alerts it
 * raised (core/alert.h). The schedulers deliver them (core/alerter.h).
 */
#include "alert.h"
#include "cli.h"
#include "clock.h"
#include "model.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_task(struct norc_cli *cli, const char *ref, int64_t *id)
{
	char err[512];
	if (norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	if (norc_model_task_find(cli->db, ref, id, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s", err);
	return NORC_EXIT_OK;
}

/* A duration option ("90", "15m", "2h", "1d"; "0" or "none" turns it off) into seconds. */
static bool duration(const char *s, int *out)
{
	int64_t v;
	if (strcmp(s, "none") == 0) {
		*out = 0;
		return true;
	}
	if (norc_clock_parse_duration(s, &v) != NORC_OK || v < 0 || v > 366 * 86400)
		return false;
	*out = (int)v;
	return true;
}

static void set_help(void)
{
	printf("usage: norc alert set TASK [--on EVENTS] [--deadline DUR] [--no-success DUR]\n"
	       "                      [--email ADDR[,ADDR...]] [--webhook URL]\n\n"
	       "Sets what TASK alerts on and where to; options not given keep their values.\n"
	       "  --on EVENTS        failure (any failed or timed-out attempt), timeout,\n"
	       "                     exhausted (failed with no attempt left): comma-separated,\n"
	       "                     or all, or none\n"
	       "  --deadline DUR     a scheduled run must have succeeded DUR after its fire time\n"
	       "                     (90, 15m, 2h; none: off)\n"
	       "  --no-success DUR   a dead man's switch: alert once when TASK has had no success\n"
	       "                     for DUR (again only after a new success; none: off)\n"
	       "  --email LIST       addresses, sent through alerts.smtp_url ('' removes them)\n"
	       "  --webhook URL      http(s) URL that gets a JSON POST ('' removes it)\n"
	       "The schedulers deliver alerts, with retries; `norc alert test TASK` sends one.\n");
}

static int alert_set(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"on", required_argument, NULL, 'o'},
					   {"deadline", required_argument, NULL, 'd'},
					   {"no-success", required_argument, NULL, 'n'},
					   {"email", required_argument, NULL, 'e'},
					   {"webhook", required_argument, NULL, 'w'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	struct norc_alert_rule r = {0};
	int has = 0, c;
	char err[512];
	while ((c = norc_cli_getopt("alert set", argc, argv, "o:d:n:e:w:h", lo)) != -1) {
		switch (c) {
		case 'o':
			if (norc_alert_on_parse(optarg, &r.events, err, sizeof(err)) != NORC_OK)
				return norc_cli_usage_error("alert set", "%s", err);
			has |= NORC_ALERT_SET_ON;
			break;
		case 'd':
			if (!duration(optarg, &r.deadline_s))
				return norc_cli_usage_error("alert set", "--deadline '%s': give a "
							    "duration like 600, 15m or 2h (at most "
							    "366d), or none", optarg);
			has |= NORC_ALERT_SET_DEADLINE;
			break;
		case 'n':
			if (!duration(optarg, &r.no_success_s))
				return norc_cli_usage_error("alert set", "--no-success '%s': give a "
							    "duration like 3600, 6h or 1d (at most "
							    "366d), or none", optarg);
			has |= NORC_ALERT_SET_NO_SUCCESS;
			break;
		case 'e':
			if (*optarg && norc_alert_check_email(optarg, err, sizeof(err)) != NORC_OK)
				return norc_cli_usage_error("alert set", "%s", err);
			r.email = optarg;
			has |= NORC_ALERT_SET_EMAIL;
			break;
		case 'w':
			if (*optarg && norc_alert_check_webhook(optarg, err, sizeof(err)) != NORC_OK)
				return norc_cli_usage_error("alert set", "%s", err);
			r.webhook = optarg;
			has |= NORC_ALERT_SET_WEBHOOK;
			break;
		case 'h': set_help(); return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("alert set", "give exactly one TASK");
	if (!has)
		return norc_cli_usage_error("alert set", "nothing to set; give --on, --deadline, "
					    "--no-success, --email or --webhook");
	int64_t id;
	int x = find_task(cli, argv[optind], &id);
	if (x != NORC_EXIT_OK)
		return x;
	bool changed;
	if (norc_alert_rule_set(cli->db, id, &r, has, &changed, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s: %s", argv[optind], err);
	if (r.email && *r.email && !cli->cfg->alerts.smtp_url)
		fprintf(stderr, "norc: warning: alerts.smtp_url is not set in %s; the schedulers' "
			"config needs it to send e-mail\n", cli->cfg->file);
	if (cli->json)
		printf("{\"task\": %" PRId64 ", \"changed\": %s}\n", id, changed ? "true" : "false");
	else
		printf("alert of task %s %s\n", argv[optind], changed ? "set" : "unchanged");
	return NORC_EXIT_OK;
}

static int alert_show(struct norc_cli *cli, int argc, char **argv)
{
	int x = norc_cli_simple_opts("alert show", argc, argv, 1,
				     "usage: norc alert show TASK\n\nShows TASK's alert rule: what "
				     "it alerts on, where to, and its dead man's switch.\n");
	if (x >= 0)
		return x;
	int64_t id;
	if ((x = find_task(cli, argv[optind], &id)) != NORC_EXIT_OK)
		return x;
	json_t *obj;
	int rc = norc_alert_rule_get(cli->db, id, &obj);
	if (rc == NORC_ENOTFOUND)
		return norc_cli_fail("task %s has no alert; set one with `norc alert set %s "
				     "--on failure --email ADDR`", argv[optind], argv[optind]);
	if (rc != NORC_OK)
		return norc_cli_fail("alert show: %s", norc_db_errmsg(cli->db));
	static const char *const keys[] = {"on",      "deadline",         "no_success",
					   "email",   "webhook",          "switch_next_look",
					   "switch_tripped_for", NULL};
	norc_table_print_record(keys, obj, stdout, cli->json);
	json_decref(obj);
	return NORC_EXIT_OK;
}

static int alert_clear(struct norc_cli *cli, int argc, char **argv)
{
	int x = norc_cli_simple_opts("alert clear", argc, argv, 1,
				     "usage: norc alert clear TASK\n\nRemoves TASK's alert rule; "
				     "its alerts waiting for delivery are dropped (one being sent\n"
				     "at that moment still goes out).\n");
	if (x >= 0)
		return x;
	int64_t id;
	if ((x = find_task(cli, argv[optind], &id)) != NORC_EXIT_OK)
		return x;
	bool had;
	if (norc_alert_rule_clear(cli->db, id, &had) != NORC_OK)
		return norc_cli_fail("alert clear: %s", norc_db_errmsg(cli->db));
	printf("alert of task %s %s\n", argv[optind], had ? "removed" : "was not set");
	return NORC_EXIT_OK;
}

static int alert_test(struct norc_cli *cli, int argc, char **argv)
{
	int x = norc_cli_simple_opts("alert test", argc, argv, 1,
				     "usage: norc alert test TASK\n\nRaises a test alert for TASK: a "
				     "scheduler sends it to the rule's e-mail and\nwebhook within a "
				     "few seconds; `norc alert list --task TASK` shows how it went.\n");
	if (x >= 0)
		return x;
	int64_t id, alert = 0;
	if ((x = find_task(cli, argv[optind], &id)) != NORC_EXIT_OK)
		return x;
	char err[512];
	if (norc_alert_test(cli->db, id, &alert, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("%s: %s", argv[optind], err);
	printf("test alert #%" PRId64 " raised for task %s\n", alert, argv[optind]);
	return NORC_EXIT_OK;
}

static int alert_list(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"task", required_argument, NULL, 't'},
					   {"state", required_argument, NULL, 's'},
					   {"limit", required_argument, NULL, 'l'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	const char *task = NULL;
	int state = -1, c;
	long long limit = 50;
	while ((c = norc_cli_getopt("alert list", argc, argv, "t:s:l:h", lo)) != -1) {
		switch (c) {
		case 't': task = optarg; break;
		case 's':
			for (state = NORC_ALERT_CANCELLED; state >= 0; state--)
				if (strcmp(optarg, norc_alert_state_name(state)) == 0)
					break;
			if (state < 0)
				return norc_cli_usage_error("alert list", "--state '%s': use waiting, "
							    "sending, sent, failed or cancelled",
							    optarg);
			break;
		case 'l':
			if (!norc_cli_int(optarg, 1, 100000, &limit))
				return norc_cli_usage_error("alert list", "--limit '%s': give 1..100000",
							    optarg);
			break;
		case 'h':
			printf("usage: norc alert list [--task TASK] [--state STATE] [--limit N]\n\n"
			       "Lists alerts, newest first (default 50): their kind, instance, "
			       "delivery state\n(waiting, sending, sent, failed, cancelled), attempts "
			       "and last error.\n");
			return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return norc_cli_usage_error("alert list", "unexpected argument '%s'", argv[optind]);
	int64_t id = 0;
	int x;
	if (task && (x = find_task(cli, task, &id)) != NORC_EXIT_OK)
		return x;
	if (!task && norc_cli_db(cli, true) != NORC_OK)
		return NORC_EXIT_FAIL;
	json_t *rows;
	if (norc_alert_list(cli->db, id, state, (int)limit, &rows) != NORC_OK)
		return norc_cli_fail("alert list: %s", norc_db_errmsg(cli->db));
	static const char *const cols[] = {"id",       "task",    "kind",   "instance",
					   "state",    "attempts", "created", "due",
					   "done",     "detail",  "last_error", NULL};
	norc_table_print_rows(cols, rows, stdout, cli->json);
	json_decref(rows);
	return NORC_EXIT_OK;
}

static const struct norc_cli_cmd subs[] = {
	{"set", alert_set, "set what a task alerts on (failure, deadline, no success) and where to"},
	{"show", alert_show, "show a task's alert rule"},
	{"clear", alert_clear, "remove a task's alert rule"},
	{"list", alert_list, "list alerts and how their delivery went"},
	{"test", alert_test, "send a test alert for a task"},
	{NULL, NULL, NULL},
};

int norc_cmd_alert(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "alert", argc, argv);
}
