/*
 * norc_reporter [-e] [-s] [-q] [-t 10m|1h|1d|all] [-n N] [--json] [-C FILE]
 *
 * The original's report of executors (-e, the default), schedulers (-s) and queues (-q), from
 * any host. Running daemons come first (the original sorted them last and hid them on later
 * pages); a timeframe hides daemons that ended before it, never running ones. Counts use the
 * indexes (instances by executor, schedules by lease owner): no scan of the instances table.
 * Times are UTC.
 */
#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "model.h"
#include "plugin.h"
#include "queue.h"
#include "schema.h"
#include "status.h"
#include "table.h"
#include "daemon.h"
#include "report.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: norc_reporter [-e] [-s] [-q] [-t 10m|1h|1d|all] [-n N] [--json] [-C FILE]\n\n"
		     "  -e, --executors   executors (the default when none of -e -s -q is given)\n"
		     "  -s, --schedulers  schedulers\n"
		     "  -q, --queues      queues with their items and alive executors\n"
		     "  -t, --timeframe   hide daemons that ended before then (default: all)\n"
		     "  -n, --number N    at most N rows per table (default 20; 0 = all)\n"
		     "      --json        one JSON object with a list per table\n");
}

static void section(const char *title, const char *const *cols, json_t *rows, json_t *all,
		    bool json)
{
	if (json) {
		char key[32];
		size_t i = 0;
		for (; title[i] && i + 1 < sizeof(key); i++)
			key[i] = (char)(title[i] | 0x20); /* "Executors" -> "executors" */
		key[i] = '\0';
		json_object_set(all, key, rows);
		return;
	}
	printf("\n## %s ##\n", title);
	if (json_array_size(rows) == 0)
		printf("None found.\n");
	else
		norc_table_print_rows(cols, rows, stdout, false);
}

/* One section; queue rows get their item count from the queue plugin. 1 on a failure. */
static int report(struct norc_db *db, enum norc_report which, const struct norc_report_query *rq,
		  const char *title, const char *const *show, json_t *all, bool json)
{
	json_t *res, *rows;
	char err[300];
	if (norc_report_run(db, which, rq, &res, err, sizeof(err)) != NORC_OK) {
		fprintf(stderr, "norc_reporter: error: %s\n", err);
		return 1;
	}
	rows = json_incref(json_object_get(res, "data"));
	json_decref(res);
	if (which == NORC_REPORT_QUEUES)
		norc_queue_add_items(db, rows);
	section(title, show, rows, all, json);
	json_decref(rows);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"executors", no_argument, NULL, 'e'},
					   {"schedulers", no_argument, NULL, 's'},
					   {"queues", no_argument, NULL, 'q'},
					   {"timeframe", required_argument, NULL, 't'},
					   {"number", required_argument, NULL, 'n'},
					   {"json", no_argument, NULL, 'J'},
					   {"config", required_argument, NULL, 'C'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	bool ex = false, sc = false, qu = false, json = false;
	const char *tf = "all", *config = NULL;
	long n = 20;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "esqt:n:C:h", lo, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'e': ex = true; break;
		case 's': sc = true; break;
		case 'q': qu = true; break;
		case 't': tf = optarg; break;
		case 'J': json = true; break;
		case 'C': config = optarg; break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || !*optarg) {
				fprintf(stderr, "norc_reporter: error: -n '%s' is not a number\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "norc_reporter: error: unknown option %s (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "norc_reporter: error: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return 2;
	}
	if (!ex && !sc && !qu)
		ex = true;
	int64_t now = norc_clock_now_us();
	struct norc_report_query rq = {.now = now, .page = 1, .per_page = n <= 0 ? INT32_MAX : n};
	char err[300];
	if (norc_report_parse_since(tf, &rq, err, sizeof(err)) != NORC_OK) {
		fprintf(stderr, "norc_reporter: error: -t '%s': give 10m, 30m, 1h, 3h, 12h, 1d, 7d "
			"or all\n", tf);
		return 2;
	}
	norc_log_setup(stderr, NORC_LOG_PLAIN, NORC_LOG_WARN, false);
	struct norc_config *cfg;
	struct norc_db *db;
	if (norc_daemon_open("norc_reporter", config, &cfg, &db) != NORC_OK)
		return 1;
	rq.dead_before = now - cfg->heartbeat_timeout_s * NORC_US_PER_SEC;
	json_t *all = json_object();
	if (!json) {
		char stamp[40];
		norc_log_stamp(now, stamp, sizeof(stamp));
		stamp[20] = ']';
		stamp[21] = '\0'; /* [YYYY/MM/DD HH:MM:SS] */
		if (rq.since)
			printf("%s (UTC) from the last %s.\n", stamp, tf);
		else
			printf("%s (UTC)\n", stamp);
	}
	int rc = 0;
	if (ex) {
		static const char *const show[] = {"id", "queue", "queue_type", "host", "pid",
						   "running", "succeeded", "failed", "started",
						   "ended", "status", NULL};
		rc |= report(db, NORC_REPORT_EXECUTORS, &rq, "Executors", show, all, json);
	}
	if (sc) {
		static const char *const show[] = {"id", "host", "pid", "claimed", "started",
						   "ended", "status", NULL};
		rc |= report(db, NORC_REPORT_SCHEDULERS, &rq, "Schedulers", show, all, json);
	}
	if (qu) {
		static const char *const show[] = {"name", "type", "items", "executors", NULL};
		rc |= report(db, NORC_REPORT_QUEUES, &rq, "Queues", show, all, json);
	}
	if (json) {
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	json_decref(all);
	norc_plugin_unload_all();
	norc_db_close(db);
	norc_config_free(cfg);
	return rc ? 1 : 0;
}
