/*
 * main.c - `norc`, the admin CLI (it replaces the original's Django shell).
 *
 *   norc [-C FILE] [--json] COMMAND [SUBCOMMAND] [ARGS]
 *
 * -C/--config and --json are accepted anywhere before "--". Errors print one line that names
 * the object and the fix. Exit codes: 0 ok, 1 failure, 2 usage.
 */
#include "cli.h"
#include "host.h"
#include "log.h"
#include "mem.h"
#include "plugin.h"
#include "schema.h"

#include <norc/version.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct norc_cli_cmd commands[] = {
	{"init", norc_cmd_init, "create or migrate the database schema"},
	{"queue", norc_cmd_queue, "add, list and remove queues"},
	{"task", norc_cmd_task, "add, list, show and remove tasks"},
	{"schedule", norc_cmd_schedule, "add, change, show, list, pause and remove schedules"},
	{"job", norc_cmd_job, "define jobs (DAGs of tasks) and retry their runs"},
	{"cron", norc_cmd_cron, "preview a cron rule's fire times"},
	{"import-crontab", norc_cmd_import_crontab, "turn a crontab into tasks and schedules"},
	{"apply", norc_cmd_apply, "make the database match a file of queues, tasks, jobs, schedules"},
	{"up", norc_cmd_up, "run a single-host Norc in the foreground (scheduler + executors)"},
	{"run", norc_cmd_run, "enqueue one instance of a task now"},
	{"instance", norc_cmd_instance, "list and show task instances (runs)"},
	{"plugins", norc_cmd_plugins, "list loaded plugins, check a plugin file"},
	{"config", norc_cmd_config, "validate the config and print the effective settings"},
	{"web", norc_cmd_web, "users and API tokens of the web page (norc_web)"},
	{"alert", norc_cmd_alert, "alert on failures, missed deadlines and silence; list alerts"},
	{NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: norc [-C FILE] [--json] COMMAND ...\n\n"
		     "Norc admin CLI (version %s). Commands:\n", NORC_VERSION_STRING);
	for (const struct norc_cli_cmd *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nOptions (anywhere on the line):\n"
		     "  -C, --config FILE  config file (default: $NORC_CONFIG, else the installed one)\n"
		     "      --json         print JSON instead of tables\n"
		     "  -h, --help         help; `norc COMMAND --help` for a command\n"
		     "      --version      print the version\n"
		     "Exit codes: 0 ok, 1 failure, 2 usage.\n");
}

int norc_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "norc: error: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see `norc %s --help`)\n", cmd);
	return NORC_EXIT_USAGE;
}

int norc_cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "norc: error: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return NORC_EXIT_FAIL;
}

bool norc_cli_int(const char *s, long long min, long long max, long long *out)
{
	if (!s || !*s)
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool norc_cli_id(const char *s, long long *out)
{
	return norc_cli_int(s && s[0] == '#' ? s + 1 : s, 1, INT64_MAX, out);
}

int norc_cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
		    const struct option *longopts)
{
	opterr = 0;
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == '?') {
		if (optopt)
			norc_cli_usage_error(cmd, "unknown option -%c, or it needs a value", optopt);
		else
			norc_cli_usage_error(cmd, "unknown option %s, or it needs a value",
					     argv[optind - 1]);
	} else if (c == ':') {
		norc_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
		c = '?';
	}
	return c;
}

int norc_cli_simple_opts(const char *cmd, int argc, char **argv, int nargs, const char *help)
{
	static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	while ((c = norc_cli_getopt(cmd, argc, argv, "h", lo)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return NORC_EXIT_OK;
		}
		return NORC_EXIT_USAGE;
	}
	if (argc - optind != nargs)
		return norc_cli_usage_error(cmd, "expects %d argument%s, got %d", nargs,
					    nargs == 1 ? "" : "s", argc - optind);
	return -1; /* go on */
}

int norc_cli_config(struct norc_cli *cli)
{
	if (cli->cfg)
		return NORC_OK;
	char err[512];
	int rc = norc_config_load(norc_config_pick(cli->config_path), &cli->cfg, err, sizeof(err));
	if (rc != NORC_OK)
		norc_cli_fail("%s", err);
	return rc;
}

int norc_cli_db(struct norc_cli *cli, bool check_schema)
{
	if (cli->db)
		return NORC_OK;
	int rc = norc_cli_config(cli);
	if (rc != NORC_OK)
		return rc;
	struct norc_db_config dc;
	char *pw = NULL, err[512];
	rc = norc_config_db(cli->cfg, &dc, &pw, err, sizeof(err));
	/* an admin command may run long statements (a migration's ALTER on a big table): no
	 * read/write timeout here, only in the daemons */
	dc.io_timeout_s = 0;
	if (rc == NORC_OK)
		rc = norc_db_open(&dc, &cli->db, err, sizeof(err));
	free(pw);
	if (rc == NORC_OK && check_schema)
		rc = norc_schema_check(cli->db, err, sizeof(err));
	if (rc != NORC_OK) {
		norc_cli_fail("%s", err);
		return rc;
	}
	norc_host_set_db(cli->db);
	return NORC_OK;
}

int norc_cli_plugins(struct norc_cli *cli)
{
	if (cli->plugins_loaded)
		return NORC_OK;
	/* A plugin author checking a .so needs no config: without -C, $NORC_CONFIG or an
	 * installed config, only the built-in and drop-in folders are searched. */
	const char *path = norc_config_pick(cli->config_path);
	bool implicit = !cli->config_path && !getenv("NORC_CONFIG");
	if (!(implicit && access(path, F_OK) != 0) && norc_cli_config(cli) != NORC_OK)
		return NORC_ECONFIG;
	norc_plugin_load_all(cli->cfg);
	cli->plugins_loaded = true;
	return NORC_OK;
}

int norc_cli_dispatch(struct norc_cli *cli, const struct norc_cli_cmd *table, const char *prefix,
		      int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (!sub || strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		FILE *out = sub ? stdout : stderr;
		fprintf(out, "usage: norc %s SUBCOMMAND ...\n", prefix);
		for (const struct norc_cli_cmd *c = table; c->name; c++)
			fprintf(out, "  %-8s %s\n", c->name, c->summary);
		fprintf(out, "`norc %s SUBCOMMAND --help` shows its options.\n", prefix);
		return sub ? NORC_EXIT_OK : NORC_EXIT_USAGE;
	}
	for (const struct norc_cli_cmd *c = table; c->name; c++)
		if (strcmp(c->name, sub) == 0) {
			optind = 0; /* full getopt reset for the subcommand */
			return c->run(cli, argc - 1, argv + 1);
		}
	return norc_cli_usage_error(prefix, "'%s' is not a subcommand of `norc %s`", sub, prefix);
}

/* Take -C/--config and --json out of argv wherever they are (before "--"). */
static int strip_globals(struct norc_cli *cli, int *argc, char **argv)
{
	int out = 1;
	bool dashdash = false;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (!dashdash && strcmp(a, "--") == 0)
			dashdash = true;
		if (dashdash) {
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			cli->json = true;
		} else if (strcmp(a, "-C") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= *argc)
				return norc_cli_usage_error("", "%s needs a file name", a);
			cli->config_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			cli->config_path = a + 9;
		} else if (strncmp(a, "-C", 2) == 0 && a[2]) {
			cli->config_path = a + 2;
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	*argc = out;
	return NORC_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct norc_cli cli = {0};
	norc_log_setup(stderr, NORC_LOG_PLAIN, NORC_LOG_INFO, false);
	int rc = strip_globals(&cli, &argc, argv);
	if (rc != NORC_EXIT_OK)
		return rc;
	if (argc < 2) {
		usage(stderr);
		return NORC_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return NORC_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("norc %s (plugin ABI %d.%d)\n", NORC_VERSION_STRING, NORC_ABI_MAJOR,
		       NORC_ABI_MINOR);
		return NORC_EXIT_OK;
	}
	rc = -1;
	for (const struct norc_cli_cmd *c = commands; c->name; c++)
		if (strcmp(c->name, cmd) == 0) {
			optind = 0;
			rc = c->run(&cli, argc - 1, argv + 1);
		}
	if (rc == -1) {
		fprintf(stderr, "norc: error: unknown command '%s' (see `norc --help`)\n", cmd);
		rc = NORC_EXIT_USAGE;
	}
	norc_plugin_unload_all();
	norc_db_close(cli.db);
	norc_config_free(cli.cfg);
	return rc;
}
