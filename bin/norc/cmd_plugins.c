/*
 * cmd_plugins.c - `norc plugins [list]` and `norc plugins check FILE.so...`.
 */
#include "cli.h"
#include "log.h"
#include "plugin.h"
#include "table.h"

#include <stdio.h>
#include <string.h>

static int plugins_list(struct norc_cli *cli, int argc, char **argv)
{
	int hrc = norc_cli_simple_opts("plugins list", argc, argv, 0,
				       "usage: norc plugins [list] [--json]\n\nLoads every plugin from the "
			       "plugin folders (built-in, drop-in, then the config's plugin_dirs) "
			       "and lists kind, name, version, ABI and path. Refused files are "
			       "reported on stderr with the check that failed.\n");
	if (hrc != -1)
		return hrc;
	if (norc_cli_plugins(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	static const char *const cols[] = {"kind", "name", "version", "abi", "path", NULL};
	struct norc_table *t = norc_table_new(cols);
	for (size_t i = 0; i < norc_plugin_count(); i++) {
		const struct norc_plugin_entry *e = norc_plugin_at(i);
		char abi[16];
		snprintf(abi, sizeof(abi), "%u.%u", e->desc->abi_major, e->desc->abi_minor);
		norc_table_add(t, json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind",
					    norc_plugin_kind_name(e->desc->kind), "name",
					    e->desc->name, "version",
					    e->desc->version ? e->desc->version : "", "abi", abi,
					    "path", e->path));
	}
	norc_table_print(t, stdout, cli->json);
	norc_table_free(t);
	return NORC_EXIT_OK;
}

static int plugins_check(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	while ((c = norc_cli_getopt("plugins check", argc, argv, "h", lo)) != -1) {
		if (c == 'h') {
			printf("usage: norc plugins check FILE.so...\n\nRuns every check of the "
			       "loader on each file without initializing it: file type, owner and "
			       "mode, ELF descriptor (magic, ABI, size, layout, kind), dlopen, name "
			       "(unique against the loaded plugins) and ops. Prints 'ok' or the "
			       "failed check; exits 1 if any file fails.\n");
			return NORC_EXIT_OK;
		}
		return NORC_EXIT_USAGE;
	}
	if (optind >= argc)
		return norc_cli_usage_error("plugins check", "give at least one FILE.so");
	/* The configured plugins are loaded only to find duplicate names: their own problems
	 * are not what was asked about. */
	norc_log_setup(stderr, NORC_LOG_PLAIN, NORC_LOG_ERROR, false);
	if (norc_cli_plugins(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	int rc = NORC_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		char err[512];
		if (norc_plugin_check_file(argv[i], err, sizeof(err)) == 0) {
			printf("%s: ok\n", argv[i]);
		} else {
			fprintf(stderr, "norc: error: plugin %s\n", err);
			rc = NORC_EXIT_FAIL;
		}
	}
	return rc;
}

static const struct norc_cli_cmd subs[] = {
	{"list", plugins_list, "list the loaded plugins"},
	{"check", plugins_check, "run the loader's checks on plugin files"},
	{NULL, NULL, NULL},
};

int norc_cmd_plugins(struct norc_cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return plugins_list(cli, argc, argv);
	return norc_cli_dispatch(cli, subs, "plugins", argc, argv);
}
