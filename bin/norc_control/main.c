/*
 * norc_control {executor|scheduler|host} ID|HOST ACTION [--force] [--wait [--timeout S]]
 * norc_control instance ID --handle|--kill
 *
 * Steers daemons from any host through the shared database (the original's norc_control).
 * ACTION: --stop/-s, --kill/-k, --pause/-p, --resume/-u, --reload/-r (schedulers),
 * --handle (acknowledge a dead or failed daemon, or a failed instance). An instance takes
 * --kill too: a running instance is stopped (INTERRUPTED; a job instance stops its nodes and
 * ends INTERRUPTED once they have). A pending request is not replaced unless
 * --force. With --wait it waits (polling, at most --timeout seconds, default 30) until the
 * daemon has acted. Exit 0 when every request was accepted (and, with --wait, carried out),
 * 1 when one was refused or timed out, 2 on bad usage.
 */
#include "clock.h"
#include "config.h"
#include "control.h"
#include "db.h"
#include "doorbell.h"
#include "job.h"
#include "mem.h"
#include "model.h"
#include "schema.h"
#include "status.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: norc_control {executor|scheduler|host} ID|HOST ACTION [-f] [-w [--timeout S]]\n"
		"                    [-C FILE]\n"
		"       norc_control instance ID --handle|--kill\n\n"
		"ACTION is one of:\n"
		"  -s, --stop     stop: an executor finishes its running instances first (ENDED)\n"
		"  -k, --kill     kill: running instances are interrupted (KILLED)\n"
		"  -p, --pause    pause: an executor takes no new work, a scheduler fires nothing\n"
		"  -u, --resume   resume a paused (or suspended) daemon\n"
		"  -r, --reload   a scheduler re-reads all its schedules\n"
		"      --handle   acknowledge a dead or failed daemon, or a failed instance\n"
		"                 (HANDLED)\n"
		"  -f, --force    replace a pending request\n"
		"  -w, --wait     wait until the daemon has acted (--timeout S, default 30)\n"
		"`instance ID --kill` stops a running instance (INTERRUPTED): its executor kills\n"
		"its process group within a second; a job instance stops all its nodes.\n"
		"`host HOST` sends the action to every running daemon on HOST. The kinds may be\n"
		"shortened to e, s, h and i.\n"
		"Exit codes: 0 done, 1 refused or timed out, 2 usage.\n");
}

/* Status the daemon shows once it has carried out request; 0 = "request taken". */
static bool carried_out(int request, int status, int pending)
{
	switch (request) {
	case NORC_REQ_STOP: case NORC_REQ_KILL: return norc_status_is_final(status);
	case NORC_REQ_PAUSE: return status == NORC_ST_PAUSED || norc_status_is_final(status);
	case NORC_REQ_RESUME: return pending == 0 && status != NORC_ST_PAUSED;
	default: return pending == 0;
	}
}

static int wait_for(struct norc_db *db, int64_t id, int request, int timeout_s, int *status)
{
	int64_t end = norc_clock_mono_us() + (int64_t)timeout_s * NORC_US_PER_SEC;
	for (;;) {
		int64_t st = 0, pending = 0;
		norc_db_query_int64(db, "SELECT status FROM daemons WHERE id = ?", &st, 1, id);
		norc_db_query_int64(db, "SELECT COALESCE(request, 0) FROM daemons WHERE id = ?",
				    &pending, 1, id);
		*status = (int)st;
		if (carried_out(request, (int)st, (int)pending))
			return NORC_OK;
		if (norc_clock_mono_us() >= end)
			return NORC_ETIMEDOUT;
		usleep(200 * 1000);
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"stop", no_argument, NULL, 's'},   {"kill", no_argument, NULL, 'k'},
		{"pause", no_argument, NULL, 'p'},  {"resume", no_argument, NULL, 'u'},
		{"reload", no_argument, NULL, 'r'}, {"handle", no_argument, NULL, 'H'},
		{"force", no_argument, NULL, 'f'},  {"wait", no_argument, NULL, 'w'},
		{"timeout", required_argument, NULL, 't'},
		{"config", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},   {0}};
	int request = 0, c;
	bool handle = false, force = false, wait = false;
	long timeout = 30;
	const char *config = NULL;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "skpurfwt:C:h", lo, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case 's': r = NORC_REQ_STOP; break;
		case 'k': r = NORC_REQ_KILL; break;
		case 'p': r = NORC_REQ_PAUSE; break;
		case 'u': r = NORC_REQ_RESUME; break;
		case 'r': r = NORC_REQ_RELOAD; break;
		case 'H': handle = true; break;
		case 'f': force = true; break;
		case 'w': wait = true; break;
		case 'C': config = optarg; break;
		case 't': {
			char *end;
			timeout = strtol(optarg, &end, 10);
			if (*end || timeout < 1 || timeout > 86400) {
				fprintf(stderr, "norc_control: error: --timeout '%s': give 1..86400 "
					"seconds\n", optarg);
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "norc_control: error: unknown option %s (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
		if (r && request && r != request) {
			fprintf(stderr, "norc_control: error: give one action, not several\n");
			return 2;
		}
		if (r)
			request = r;
	}
	if ((request != 0) == handle) {
		fprintf(stderr, "norc_control: error: give exactly one action: --stop, --kill, "
			"--pause, --resume, --reload or --handle (see --help)\n");
		return 2;
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "norc_control: error: give a kind (executor, scheduler or host) and "
			"an id or host name (see --help)\n");
		return 2;
	}
	const char *kind = argv[optind], *target = argv[optind + 1];
	static const char *const kinds[] = {"executor", "scheduler", "host", "instance"};
	for (size_t k = 0; k < 4; k++)
		if (strcmp(kind, kinds[k]) == 0 || (kind[0] == kinds[k][0] && !kind[1]))
			kind = kinds[k];
	bool by_host = strcmp(kind, "host") == 0, instance = strcmp(kind, "instance") == 0;
	if (!by_host && !instance && strcmp(kind, "executor") != 0 &&
	    strcmp(kind, "scheduler") != 0) {
		fprintf(stderr, "norc_control: error: '%s' is not executor, scheduler, host or "
			"instance\n", kind);
		return 2;
	}
	if (instance && !handle && request != NORC_REQ_KILL) {
		fprintf(stderr, "norc_control: error: an instance takes only --handle or --kill (see "
			"--help)\n");
		return 2;
	}
	if (by_host && handle) {
		fprintf(stderr, "norc_control: error: --handle takes one daemon, not a host: give "
			"executor ID or scheduler ID\n");
		return 2;
	}
	long long one = 0;
	if (!by_host) {
		char *end;
		one = strtoll(target[0] == '#' ? target + 1 : target, &end, 10);
		if (*end || one <= 0) {
			fprintf(stderr, "norc_control: error: '%s' is not a %s id (`norc_reporter` "
				"lists them)\n", target, kind);
			return 2;
		}
	}

	struct norc_config *cfg = NULL;
	struct norc_db *db = NULL;
	char err[512], *pw = NULL;
	struct norc_db_config dc;
	int rc = norc_config_load(norc_config_pick(config), &cfg, err, sizeof(err));
	if (rc == NORC_OK)
		rc = norc_config_db(cfg, &dc, &pw, err, sizeof(err));
	if (rc == NORC_OK)
		rc = norc_db_open(&dc, &db, err, sizeof(err));
	free(pw);
	if (rc == NORC_OK)
		rc = norc_schema_check(db, err, sizeof(err));
	if (rc != NORC_OK) {
		fprintf(stderr, "norc_control: error: %s\n", err);
		norc_db_close(db);
		norc_config_free(cfg);
		return 1;
	}

	if (instance) {
		int ec = 0;
		struct norc_job_notes notes = {0};
		if (!handle && norc_job_kill(db, one, NORC_ST_INTERRUPTED, "killed by norc_control",
					     &notes, err, sizeof(err)) == NORC_OK) {
			norc_job_notes_flush(cfg, &notes);
			printf("Instance #%lld was asked to stop.\n", one);
		} else if (handle &&
			   norc_control_handle_instance(db, one, err, sizeof(err)) == NORC_OK) {
			printf("The error state of instance #%lld was marked as handled.\n", one);
		} else {
			norc_job_notes_free(&notes);
			fprintf(stderr, "norc_control: error: %s\n", err);
			ec = 1;
		}
		norc_db_close(db);
		norc_config_free(cfg);
		return ec;
	}
	/* the targets: one daemon, or every running one on a host */
	static const struct norc_col cols[] = {{"id", NORC_COL_INT}, {"kind", NORC_COL_TEXT},
					       {"queue_id", NORC_COL_INT}};
	json_t *rows = NULL;
	if (by_host) {
		struct norc_arg a[] = {NORC_AS(target), NORC_AI(NORC_ST_SUCCESS)};
		norc_model_query(db, "SELECT id, kind, COALESCE(queue_id, 0) FROM daemons WHERE "
				 "host = ? AND status < ? ORDER BY id", a, 2, cols, 3, &rows);
	} else {
		struct norc_arg a[] = {NORC_AI(one)};
		norc_model_query(db, "SELECT id, kind, COALESCE(queue_id, 0) FROM daemons WHERE "
				 "id = ?", a, 1, cols, 3, &rows);
	}
	int exit_code = 0;
	if (!rows || json_array_size(rows) == 0) {
		fprintf(stderr, by_host ? "norc_control: error: no running daemon on host %s\n"
					: "norc_control: error: %s #%s does not exist; `norc_reporter` "
					  "lists the daemons\n",
			by_host ? target : kind, target);
		exit_code = 1;
	}
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		int64_t id = json_integer_value(json_object_get(row, "id"));
		const char *k = json_string_value(json_object_get(row, "kind"));
		int64_t qid = json_integer_value(json_object_get(row, "queue_id"));
		if (!by_host && strcmp(k, kind) != 0) {
			fprintf(stderr, "norc_control: error: daemon #%" PRId64 " is a %s, not a %s\n",
				id, k, kind);
			exit_code = 1;
			continue;
		}
		if (by_host && request == NORC_REQ_RELOAD && strcmp(k, "scheduler") != 0)
			continue;
		if (handle) {
			rc = norc_control_handle(db, cfg, k, id, err, sizeof(err));
			if (rc == NORC_OK)
				printf("The error state of %s #%" PRId64 " was marked as handled.\n", k,
				       id);
			else
				fprintf(stderr, "norc_control: error: %s\n", err), exit_code = 1;
			continue;
		}
		rc = norc_control_request(db, k, id, request, force, err, sizeof(err));
		if (rc != NORC_OK) {
			fprintf(stderr, "norc_control: error: %s\n", err);
			exit_code = 1;
			continue;
		}
		norc_doorbell_ring_request(cfg, strcmp(k, "executor") == 0 ? qid : 0);
		if (!wait) {
			printf("%s request left for %s #%" PRId64 "; it acts within a second.\n",
			       norc_control_name(request), k, id);
			continue;
		}
		int status = 0;
		if (wait_for(db, id, request, (int)timeout, &status) == NORC_OK) {
			printf("%s #%" PRId64 " carried out %s; it is %s.\n", k, id,
			       norc_control_name(request), norc_status_name(status));
		} else {
			fprintf(stderr, "norc_control: error: %s #%" PRId64 " did not carry out %s "
				"within %ld s (it is %s); is it alive? `norc_control %s %" PRId64
				" --handle` acknowledges a dead one\n", k, id,
				norc_control_name(request), timeout, norc_status_name(status), k, id);
			exit_code = 1;
		}
	}
	json_decref(rows);
	norc_db_close(db);
	norc_config_free(cfg);
	return exit_code;
}
