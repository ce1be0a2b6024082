/*
 * cmd_config.c - `norc config check`: load and validate the config exactly as the daemons do,
 * then print the effective settings with secrets masked.
 */
#include "backup.h"
#include "cli.h"
#include "plugin.h"
#include "webauth.h"

#include <stdio.h>
#include <string.h>

static int config_check(struct norc_cli *cli, int argc, char **argv)
{
	int hrc = norc_cli_simple_opts("config check", argc, argv, 0,
				       "usage: norc config check [-C FILE] [--json]\n\nValidates the config "
			       "(unknown keys and wrong types are errors with their line) and prints "
			       "the effective settings, relative paths resolved, secrets masked.\n"
			       "With a backup configured, its plugin checks its settings too (no "
			       "network request is made). With a web group, its users and tokens "
			       "are checked.\n");
	if (hrc != -1)
		return hrc;
	if (norc_cli_config(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	if (cli->cfg->backup.plugin) {
		norc_plugin_load_all(cli->cfg);
		struct norc_backup *b;
		char err[600];
		if (norc_backup_open(cli->cfg, &b, err, sizeof(err)) != NORC_OK)
			return norc_cli_fail("%s", err);
		norc_backup_close(b);
	}
	if (cli->cfg->web.enabled) { /* users, hashes, tokens: as norc_web reads them */
		struct norc_webauth *a;
		char err[600];
		if (norc_webauth_new(cli->cfg, &a, err, sizeof(err)) != NORC_OK)
			return norc_cli_fail("%s", err);
		norc_webauth_free(a);
	}
	norc_config_print(cli->cfg, stdout, cli->json);
	return NORC_EXIT_OK;
}

static const struct norc_cli_cmd subs[] = {
	{"check", config_check, "validate the config and print the effective settings"},
	{NULL, NULL, NULL},
};

int norc_cmd_config(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "config", argc, argv);
}
