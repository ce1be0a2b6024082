/*
 * cli.h - what the `norc` admin CLI's commands share: lazily loaded config, database and
 * plugins, output mode, and the exit-code convention (0 ok, 1 failure, 2 usage).
 */
#ifndef NORC_CLI_H
#define NORC_CLI_H

#include "config.h"
#include "db.h"

#include <getopt.h>
#include <stdbool.h>

enum { NORC_EXIT_OK = 0, NORC_EXIT_FAIL = 1, NORC_EXIT_USAGE = 2 };

struct norc_cli {
	const char *config_path; /* -C, or NULL */
	bool json;               /* --json */
	struct norc_config *cfg;
	struct norc_db *db;
	bool plugins_loaded;
};

struct norc_cli_cmd {
	const char *name;
	int (*run)(struct norc_cli *cli, int argc, char **argv); /* argv[0] is the command name */
	const char *summary;
};

/* Load the config (once). Prints the error; returns NORC_OK or NORC_ECONFIG. */
int norc_cli_config(struct norc_cli *cli);
/* Open the database (once) and, when check_schema, refuse a missing/old/newer schema. */
int norc_cli_db(struct norc_cli *cli, bool check_schema);
/* Load plugins (once); refused files are warned about on stderr. */
int norc_cli_plugins(struct norc_cli *cli);
/* Run the subcommand argv[1] of table (NULL-name terminated) for command `prefix`. */
int norc_cli_dispatch(struct norc_cli *cli, const struct norc_cli_cmd *table, const char *prefix,
		      int argc, char **argv);
/* Print "norc: error: ..." and return NORC_EXIT_USAGE, pointing at `norc CMD --help`. */
int norc_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print an error line and return NORC_EXIT_FAIL. */
int norc_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* getopt_long wrapper that resets getopt, prints usage errors our way; returns like getopt. */
int norc_cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
		    const struct option *longopts);
/* Options of a subcommand that has only --help (prints help) and nargs positional arguments.
 * Returns an exit code to return at once, or -1 to go on (optind at the first argument). */
int norc_cli_simple_opts(const char *cmd, int argc, char **argv, int nargs, const char *help);
/* Parse an int in [min, max]; false on junk. */
bool norc_cli_int(const char *s, long long min, long long max, long long *out);
/* Parse an object id, "42" or "#42"; false on junk. */
bool norc_cli_id(const char *s, long long *out);

/* `task add` and `job add` (the adding lives in cmd_task.c): parse argv with the run
 * settings (NORC_CLI_RUN_LONGOPTS, and 'n' --nice), 't' --type, 'c' --command, 'f'
 * --fail-fast (fail_fast=true), 'p' --param, 'h' --help, whichever of them longopts offers;
 * then check the name, validate the parameters through the type's plugin, insert the task and
 * print "KIND NAME added (id N, type T)" or its JSON. Returns an exit code. */
struct norc_cli_add {
	const char *cmd;  /* "task add" */
	const char *kind; /* "task": names it in messages */
	const char *type; /* the default type */
	const char *shortopts;
	const struct option *longopts;
	void (*help)(void);
};
int norc_cli_task_add(struct norc_cli *cli, const struct norc_cli_add *how, int argc, char **argv);
#define NORC_CLI_RUN_LONGOPTS                                                                   \
	{"timeout", required_argument, NULL, 'T'}, {"retries", required_argument, NULL, 'r'},  \
		{"retry-delay", required_argument, NULL, 'D'},                                  \
		{"retry-max-delay", required_argument, NULL, 'M'},                              \
		{"description", required_argument, NULL, 'd'},                                  \
		{"overlap", required_argument, NULL, 'O'},                                      \
		{"run-as", required_argument, NULL, 'u'},                                       \
		{"limit", required_argument, NULL, 'L'}

int norc_cmd_init(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_web(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_alert(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_apply(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_queue(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_queue_group(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_import_crontab(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_task(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_schedule(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_up(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_run(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_instance(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_plugins(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_config(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_cron(struct norc_cli *cli, int argc, char **argv);
int norc_cmd_job(struct norc_cli *cli, int argc, char **argv);

#endif
