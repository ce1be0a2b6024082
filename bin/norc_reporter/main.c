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

static json_t *rows_of(struct norc_db *db, const char *sql, const struct norc_arg *a, size_t na,
		       const struct norc_col *cols, size_t nc)
{
	json_t *rows = NULL;
	if (norc_model_query(db, sql, a, na, cols, nc, &rows) != NORC_OK) {
		fprintf(stderr, "norc_reporter: error: %s\n", norc_db_errmsg(db));
		return json_array();
	}
	return rows;
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
	int64_t now = norc_clock_now_us(), cutoff = 0, secs;
	if (strcmp(tf, "all") != 0) {
		if (norc_clock_parse_duration(tf, &secs) != NORC_OK || secs == 0) {
			fprintf(stderr, "norc_reporter: error: -t '%s': give 10m, 30m, 1h, 3h, 12h, "
				"1d, 7d or all\n", tf);
			return 2;
		}
		cutoff = now - secs * NORC_US_PER_SEC;
	}
	int64_t limit = n <= 0 ? INT32_MAX : n;
	norc_log_setup(stderr, NORC_LOG_PLAIN, NORC_LOG_WARN, false);
	struct norc_config *cfg;
	struct norc_db *db;
	if (norc_daemon_open("norc_reporter", config, &cfg, &db) != NORC_OK)
		return 1;
	int64_t dead = now - cfg->heartbeat_timeout_s * NORC_US_PER_SEC;
	json_t *all = json_object();
	if (!json) {
		char stamp[40];
		norc_log_stamp(now, stamp, sizeof(stamp));
		stamp[20] = ']';
		stamp[21] = '\0'; /* [YYYY/MM/DD HH:MM:SS] */
		if (cutoff)
			printf("%s (UTC) from the last %s.\n", stamp, tf);
		else
			printf("%s (UTC)\n", stamp);
	}
	if (ex) {
		static const struct norc_col cols[] = {
			{"id", NORC_COL_INT},      {"queue", NORC_COL_TEXT},   {"queue_type", NORC_COL_TEXT},
			{"host", NORC_COL_TEXT},   {"pid", NORC_COL_INT},      {"running", NORC_COL_INT},
			{"succeeded", NORC_COL_INT}, {"failed", NORC_COL_INT}, {"started", NORC_COL_TIME},
			{"ended", NORC_COL_TIME},  {"status", NORC_COL_STATUS}, {"heartbeat", NORC_COL_TIME},
		};
		struct norc_arg a[] = {NORC_AI(NORC_ST_RUNNING), NORC_AI(NORC_ST_SUCCESS),
				       NORC_AI(NORC_ST_FAILURE), NORC_AI(cutoff),
				       NORC_AI(NORC_ST_FAILURE), NORC_AI(cutoff),
				       NORC_AI(cutoff), NORC_AI(NORC_ST_SUCCESS), NORC_AI(limit)};
		json_t *rows = rows_of(db,
			"SELECT d.id, q.name, q.type, d.host, d.pid,"
			" (SELECT COUNT(*) FROM instances i WHERE i.executor_id = d.id AND i.ended IS NULL"
			"  AND i.status = ?),"
			" (SELECT COUNT(*) FROM instances i WHERE i.executor_id = d.id AND i.status >= ?"
			"  AND i.status < ? AND i.ended >= ?),"
			" (SELECT COUNT(*) FROM instances i WHERE i.executor_id = d.id AND i.status >= ?"
			"  AND i.ended >= ?),"
			" d.started, d.ended, d.status, d.heartbeat"
			" FROM daemons d LEFT JOIN queues q ON q.id = d.queue_id"
			" WHERE d.kind = 'executor' AND (d.ended IS NULL OR d.ended >= ?)"
			" ORDER BY CASE WHEN d.status < ? THEN 0 ELSE 1 END, d.id DESC LIMIT ?",
			a, sizeof(a) / sizeof(a[0]), cols, sizeof(cols) / sizeof(cols[0]));
		static const char *const show[] = {"id", "queue", "queue_type", "host", "pid",
						   "running", "succeeded", "failed", "started",
						   "ended", "status", NULL};
		section("Executors", show, rows, all, json);
		json_decref(rows);
	}
	if (sc) {
		static const struct norc_col cols[] = {
			{"id", NORC_COL_INT},      {"host", NORC_COL_TEXT},  {"pid", NORC_COL_INT},
			{"claimed", NORC_COL_INT}, {"started", NORC_COL_TIME}, {"ended", NORC_COL_TIME},
			{"status", NORC_COL_STATUS}, {"heartbeat", NORC_COL_TIME},
		};
		struct norc_arg a[] = {NORC_AI(cutoff), NORC_AI(NORC_ST_SUCCESS), NORC_AI(limit)};
		json_t *rows = rows_of(db,
			"SELECT d.id, d.host, d.pid,"
			" (SELECT COUNT(*) FROM schedules s WHERE s.lease_owner = d.id),"
			" d.started, d.ended, d.status, d.heartbeat FROM daemons d"
			" WHERE d.kind = 'scheduler' AND (d.ended IS NULL OR d.ended >= ?)"
			" ORDER BY CASE WHEN d.status < ? THEN 0 ELSE 1 END, d.id DESC LIMIT ?",
			a, 3, cols, sizeof(cols) / sizeof(cols[0]));
		static const char *const show[] = {"id", "host", "pid", "claimed", "started",
						   "ended", "status", NULL};
		section("Schedulers", show, rows, all, json);
		json_decref(rows);
	}
	if (qu) {
		static const struct norc_col cols[] = {
			{"id", NORC_COL_INT}, {"name", NORC_COL_TEXT}, {"type", NORC_COL_TEXT},
			{"executors", NORC_COL_INT},
		};
		struct norc_arg a[] = {NORC_AI(NORC_ST_SUCCESS), NORC_AI(dead), NORC_AI(limit)};
		json_t *rows = rows_of(db,
			"SELECT q.id, q.name, q.type,"
			" (SELECT COUNT(*) FROM daemons d WHERE d.kind = 'executor' AND d.queue_id = q.id"
			"  AND d.status < ? AND d.heartbeat >= ?)"
			" FROM queues q WHERE q.deleted = 0 ORDER BY q.name LIMIT ?",
			a, 3, cols, sizeof(cols) / sizeof(cols[0]));
		size_t i;
		json_t *row;
		json_array_foreach(rows, i, row) {
			struct norc_queue_handle *q;
			char err[256];
			int64_t items = -1;
			if (norc_queue_open(db, json_integer_value(json_object_get(row, "id")), &q, err,
					    sizeof(err)) == NORC_OK) {
				if (q->ops->count(q->h, &items, err, sizeof(err)) != NORC_OK)
					items = -1;
				norc_queue_close(q);
			}
			json_object_set_new(row, "items", items >= 0 ? json_integer(items) : json_null());
		}
		static const char *const show[] = {"name", "type", "items", "executors", NULL};
		section("Queues", show, rows, all, json);
		json_decref(rows);
	}
	if (json) {
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	json_decref(all);
	norc_plugin_unload_all();
	norc_db_close(db);
	norc_config_free(cfg);
	return 0;
}
