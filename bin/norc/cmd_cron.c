/*
 * cmd_cron.c - `norc cron next EXPR [--tz ZONE] [--from TIME] [-n N]`: preview a cron rule's
 * fire times, one ISO 8601 line each (with the zone's offset), exactly as a schedule would
 * fire them (DST policy in core/cron.h).
 */
#include "cli.h"
#include "clock.h"
#include "cron.h"
#include "sched.h"
#include "tz.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cron_next(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"tz", required_argument, NULL, 'z'},
					   {"from", required_argument, NULL, 'f'},
					   {"count", required_argument, NULL, 'n'},
					   {"help", no_argument, NULL, 'h'}, {0}};
	const char *zone = NULL, *from = "now";
	long long count = 10;
	int c;
	while ((c = norc_cli_getopt("cron next", argc, argv, "z:f:n:h", lo)) != -1) {
		switch (c) {
		case 'z': zone = optarg; break;
		case 'f': from = optarg; break;
		case 'n':
			if (!norc_cli_int(optarg, 1, 100000, &count))
				return norc_cli_usage_error("cron next", "-n '%s': give 1..100000",
							    optarg);
			break;
		case 'h':
			printf("usage: norc cron next EXPR [--tz ZONE] [--from TIME] [-n N]\n\n"
			       "Prints the next N (default 10) fire times of EXPR after TIME (default "
			       "now),\none per line, ISO 8601 with the offset of ZONE (default: the "
			       "config's\ntimezone, else UTC). TIME: YYYY-MM-DDTHH:MM:SS with an "
			       "optional offset (local\nto ZONE without one), now, or @EPOCH.\n");
			return NORC_EXIT_OK;
		default: return NORC_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("cron next", "give exactly one cron EXPR (quote it)");
	if (!zone) { /* the config's default zone, if there is a config */
		const char *path = norc_config_pick(cli->config_path);
		if (path && access(path, R_OK) == 0 && norc_cli_config(cli) == NORC_OK)
			zone = cli->cfg->timezone;
	}
	char err[512];
	struct norc_sched x = {.is_cron = true};
	struct norc_tz *tz = NULL;
	if (norc_cron_parse(argv[optind], NULL, NULL, &x.cron, err, sizeof(err)) != NORC_OK)
		return norc_cli_usage_error("cron next", "%s", err);
	if (norc_tz_load(zone ? zone : "UTC", &tz, err, sizeof(err)) != NORC_OK)
		return norc_cli_usage_error("cron next", "--tz: %s", err);
	int64_t t;
	if (norc_cron_parse_time(from, tz, &t, err, sizeof(err)) != NORC_OK) {
		norc_tz_free(tz);
		return norc_cli_usage_error("cron next", "--from: %s", err);
	}
	x.tz = tz;
	if (x.cron.every) {
		x.is_cron = false;
		x.period_us = x.cron.every * NORC_US_PER_SEC;
	}
	int64_t us = t * NORC_US_PER_SEC;
	for (long long i = 0; i < count; i++) {
		if (norc_sched_after(&x, us, &us) != NORC_OK)
			break;
		char iso[48];
		norc_cron_format_time(us / NORC_US_PER_SEC, tz, iso, sizeof(iso));
		puts(iso);
	}
	norc_tz_free(tz);
	return NORC_EXIT_OK;
}

static const struct norc_cli_cmd subs[] = {
	{"next", cron_next, "print a cron rule's next fire times"},
	{NULL, NULL, NULL},
};

int norc_cmd_cron(struct norc_cli *cli, int argc, char **argv)
{
	return norc_cli_dispatch(cli, subs, "cron", argc, argv);
}
