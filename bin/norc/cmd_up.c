/*
 * cmd_up.c - `norc up [-c N] [--demo]`: a whole single-host Norc in the foreground.
 *
 * Migrates the database if needed, sets up the original INSTALL walkthrough on an empty
 * database (or with --demo): DemoQueue, DemoTask (`echo 'Demo successful!'`) every 5 s, 5
 * times. Then runs one norc_scheduler, one norc_executor per queue (-c N slots each) and,
 * when the config has a `web` group, norc_web, all echoing their logs here. Ctrl-C (SIGINT) stops them gracefully, SIGTERM kills; `norc up`
 * waits for every daemon before it returns.
 */
#include "cli.h"
#include "qgroup.h"
#include "clock.h"
#include "doorbell.h"
#include "log.h"
#include "mem.h"
#include "model.h"
#include "params.h"
#include "schema.h"
#include "spawn.h"
#include "daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int demo(struct norc_cli *cli)
{
	char err[512];
	int64_t qid, tid, sid;
	struct norc_task_def t = {.name = "DemoTask", .type = "CommandTask",
				  .params_json = "{\"command\":\"echo 'Demo successful!'\"}"};
	if (norc_model_queue_add(cli->db, "DemoQueue", "DBQueue", "{}", &qid, err, sizeof(err)) ||
	    norc_model_task_add(cli->db, &t, &tid, err, sizeof(err)))
		return norc_cli_fail("up --demo: %s", err);
	struct norc_schedule_def d = {.task_id = tid, .queue_id = qid, .kind = "period",
				      .period_s = 5, .reps = 5, .start_us = norc_clock_now_us()};
	if (norc_model_schedule_add(cli->db, &d, &sid, err, sizeof(err)))
		return norc_cli_fail("up --demo: %s", err);
	printf("norc up: set up the walkthrough: DemoQueue, DemoTask every 5 s, 5 times\n");
	return NORC_EXIT_OK;
}

static char *sibling(const char *prog)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return norc_xstrdup(prog);
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return norc_xasprintf("%s/%s", buf, prog);
}

int norc_cmd_up(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"concurrency", required_argument, NULL, 'c'},
					   {"demo", no_argument, NULL, 'D'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	long long conc = 2;
	bool want_demo = false;
	int c;
	while ((c = norc_cli_getopt("up", argc, argv, "c:h", lo)) != -1) {
		switch (c) {
		case 'c':
			if (!norc_cli_int(optarg, 1, 4096, &conc))
				return norc_cli_usage_error("up", "-c '%s': give 1..4096", optarg);
			break;
		case 'D': want_demo = true; break;
		case 'h':
			printf("usage: norc up [-c N] [--demo]\n\nRuns a single-host Norc in the "
			       "foreground: one norc_scheduler and one norc_executor per queue with N "
			       "slots each (default 2), echoing their logs. On an empty database, or "
			       "with --demo, it first sets up the INSTALL walkthrough (DemoQueue, "
			       "DemoTask every 5 s, 5 times). Ctrl-C stops everything.\n");
			return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return norc_cli_usage_error("up", "unexpected argument '%s'", argv[optind]);
	/* exactly what `norc init` does: create or migrate the database, make the folders */
	char *init_argv[] = {"init", NULL};
	optind = 0;
	int irc = norc_cmd_init(cli, 1, init_argv);
	if (irc != NORC_EXIT_OK)
		return irc;
	char err[512];
	json_t *queues;
	if (norc_model_queue_list(cli->db, &queues) != NORC_OK)
		return norc_cli_fail("up: %s", norc_db_errmsg(cli->db));
	int64_t ntasks = 0;
	norc_db_query_int64(cli->db, "SELECT COUNT(*) FROM tasks", &ntasks, 0);
	if (want_demo || (json_array_size(queues) == 0 && ntasks == 0)) {
		int rc = demo(cli);
		json_decref(queues);
		if (rc != NORC_EXIT_OK)
			return rc;
		norc_model_queue_list(cli->db, &queues);
	}
	/* queue groups are served by their queues' executors here (one per queue) */
	for (size_t i = json_array_size(queues); i-- > 0;)
		if (strcmp(json_string_value(json_object_get(json_array_get(queues, i), "type")),
			   NORC_QGROUP_TYPE) == 0)
			json_array_remove(queues, i);
	int sigfd = norc_daemon_signalfd();
	if (sigfd < 0) {
		json_decref(queues);
		return norc_cli_fail("up: signalfd: %s; raise the open-file limit (ulimit -n)",
				     strerror(errno));
	}
	/* the scheduler, one executor per queue, and norc_web when the config has a web group */
	size_t nq = json_array_size(queues), n = nq + 1 + (cli->cfg->web.enabled ? 1 : 0), alive = 0;
	pid_t *pids = norc_xcalloc(n, sizeof(pid_t));
	char *sched = sibling("norc_scheduler"), *exec = sibling("norc_executor");
	char *web = sibling("norc_web");
	char cbuf[16];
	snprintf(cbuf, sizeof(cbuf), "%lld", conc);
	for (size_t i = 0; i < n; i++) {
		char *av[10];
		if (i == 0) {
			char *a[] = {sched, "-e", "-C", cli->cfg->file, NULL};
			memcpy(av, a, sizeof(a));
		} else if (i == nq + 1) {
			char *a[] = {web, "-C", cli->cfg->file, NULL};
			memcpy(av, a, sizeof(a));
		} else {
			const char *q = json_string_value(
				json_object_get(json_array_get(queues, i - 1), "name"));
			char *a[] = {exec, (char *)q, "-c", cbuf, "-e", "-C", cli->cfg->file, NULL};
			memcpy(av, a, sizeof(a));
		}
		struct norc_spawn_req req = {.argv = av, .envp = environ, .log_fd = STDOUT_FILENO,
					     .parent_death_signal = SIGTERM};
		if (norc_spawn(&req, &pids[i], err, sizeof(err)) != NORC_OK) {
			fprintf(stderr, "norc: error: up: cannot start %s: %s; norc_scheduler and "
				"norc_executor (and norc_web) must be installed next to norc\n", av[0], err);
			pids[i] = 0;
		} else {
			alive++;
		}
	}
	bool stopping = false, failed = alive < n;
	if (failed) { /* a half Norc is no Norc: stop what did start */
		stopping = true;
		for (size_t i = 0; i < n; i++)
			if (pids[i] > 0)
				kill(pids[i], SIGINT);
	} else {
		printf("norc up: %zu daemon(s) running; Ctrl-C stops them\n", alive);
	}
	fflush(stdout);
	while (alive > 0) {
		struct pollfd pfd = {.fd = sigfd, .events = POLLIN};
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		struct signalfd_siginfo si;
		while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM ||
			    si.ssi_signo == SIGHUP) { /* HUP: the terminal went away */
				int sig = stopping || si.ssi_signo == SIGTERM ? SIGTERM : SIGINT;
				stopping = true;
				for (size_t i = 0; i < n; i++)
					if (pids[i] > 0)
						kill(pids[i], sig);
			}
		}
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			for (size_t i = 0; i < n; i++)
				if (pids[i] == p) {
					pids[i] = 0;
					alive--;
					if (!stopping) {
						fprintf(stderr, "norc: error: up: %s (pid %ld) ended by "
							"itself (%s %d); stopping the others, see its "
							"log above\n", i == 0 ? "norc_scheduler"
							: i == nq + 1 ? "norc_web" : "an executor", (long)p,
							WIFEXITED(st) ? "exit" : "signal",
							WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
						failed = stopping = true;
						for (size_t k = 0; k < n; k++)
							if (pids[k] > 0)
								kill(pids[k], SIGINT);
					}
				}
		}
	}
	printf("norc up: all daemons stopped\n");
	int rc = failed ? NORC_EXIT_FAIL : NORC_EXIT_OK;
	free(pids);
	free(sched);
	free(exec);
	free(web);
	json_decref(queues);
	close(sigfd);
	return rc;
}
