/*
 * cmd_web.c - `norc web user add|rm|list`, `norc web hash-password`, `norc web token`: who
 * may use norc_web (docs/web.md). Users added here go to the config's web.users_file; a
 * running norc_web takes them on SIGHUP. Passwords are read from stdin (one line; without
 * echo on a terminal) or generated; nothing secret is ever taken from the command line.
 */
#include "cli.h"
#include "mem.h"
#include "params.h"
#include "webauth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

/* One line from stdin, without echo on a terminal. Caller frees; NULL on EOF. */
static char *read_password(const char *prompt)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n <= 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* 20 characters from an alphabet without look-alikes (about 115 bits). */
static int random_password(char out[21])
{
	static const char abc[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char r[20];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (int i = 0; i < 20; i++)
		out[i] = abc[r[i] % (sizeof(abc) - 1)];
	out[20] = '\0';
	return 0;
}

static int role_opt(const char *cmd, const char *v, int *role)
{
	*role = norc_webauth_role_parse(v);
	if (*role < 0)
		return norc_cli_usage_error(cmd, "--role '%s' is unknown; use viewer, operator or "
					    "admin", v);
	return -1;
}

static int user_add(struct norc_cli *cli, int argc, char **argv)
{
	static const struct option lo[] = {{"role", required_argument, NULL, 'r'},
					   {"random", no_argument, NULL, 'R'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	int role = -1, c, ec;
	bool rnd = false;
	while ((c = norc_cli_getopt("web user add", argc, argv, "r:h", lo)) != -1) {
		if (c == 'r' && (ec = role_opt("web user add", optarg, &role)) >= 0)
			return ec;
		else if (c == 'R')
			rnd = true;
		else if (c == 'h') {
			printf("usage: norc web user add NAME --role viewer|operator|admin [--random]"
			       "\n\nAdds NAME to web.users_file, or replaces its role and password. "
			       "The password is read\nfrom stdin (one line), or with --random made up "
			       "and printed once.\nA running norc_web takes the change on SIGHUP.\n");
			return NORC_EXIT_OK;
		} else if (c != 'r')
			return NORC_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("web user add", "give exactly one user NAME");
	if (role < 0)
		return norc_cli_usage_error("web user add", "--role viewer|operator|admin is required");
	if (norc_cli_config(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	if (!cli->cfg->web.users_file)
		return norc_cli_fail("web user add: the config %s has no web.users_file; set it "
				     "(such as users_file = \"../var/web-users\";) or add the user "
				     "inline with `norc web hash-password`", cli->cfg->file);
	char gen[21], hash[256], err[512];
	char *pw = NULL;
	if (rnd) {
		if (random_password(gen) != 0)
			return norc_cli_fail("web user add: no randomness: %s", strerror(errno));
		pw = norc_xstrdup(gen);
	} else if (!(pw = read_password("Password: "))) {
		return norc_cli_fail("web user add: no password on stdin; pipe one line, or use "
				     "--random");
	}
	int rc = norc_webauth_hash_password(pw, hash, sizeof(hash), err, sizeof(err));
	memset(pw, 0, strlen(pw));
	free(pw);
	if (rc == NORC_OK)
		rc = norc_webauth_users_file_set(cli->cfg->web.users_file, argv[optind], role, hash,
						 err, sizeof(err));
	if (rc != NORC_OK)
		return norc_cli_fail("web user add %s: %s", argv[optind], err);
	printf("user %s (%s) saved in %s\n", argv[optind], norc_webauth_role_name(role),
	       cli->cfg->web.users_file);
	if (rnd)
		printf("password: %s\n", gen);
	return NORC_EXIT_OK;
}

static int user_rm(struct norc_cli *cli, int argc, char **argv)
{
	int ec = norc_cli_simple_opts("web user rm", argc, argv, 1,
				      "usage: norc web user rm NAME\n\nRemoves NAME from "
				      "web.users_file; its sessions end when norc_web reloads.\n");
	if (ec >= 0)
		return ec;
	if (norc_cli_config(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	if (!cli->cfg->web.users_file)
		return norc_cli_fail("web user rm: the config %s has no web.users_file",
				     cli->cfg->file);
	char err[512];
	if (norc_webauth_users_file_set(cli->cfg->web.users_file, argv[optind], 0, NULL, err,
					sizeof(err)) != NORC_OK)
		return norc_cli_fail("web user rm: %s", err);
	printf("user %s removed from %s\n", argv[optind], cli->cfg->web.users_file);
	return NORC_EXIT_OK;
}

static int user_list(struct norc_cli *cli, int argc, char **argv)
{
	int ec = norc_cli_simple_opts("web user list", argc, argv, 0,
				      "usage: norc web user list\n\nChecks the config's users and "
				      "tokens and prints the users with their roles.\n");
	if (ec >= 0)
		return ec;
	if (norc_cli_config(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	struct norc_webauth *a;
	char err[512];
	if (norc_webauth_new(cli->cfg, &a, err, sizeof(err)) != NORC_OK)
		return norc_cli_fail("web user list: %s", err);
	norc_webauth_free(a);
	/* the check passed: print them from the sources (inline, then the file) */
	for (size_t i = 0; i < cli->cfg->web.n_users; i++)
		printf("%s\t%s\t(inline)\n", norc_params_get(cli->cfg->web.users[i], "name"),
		       norc_params_get(cli->cfg->web.users[i], "role"));
	FILE *f = cli->cfg->web.users_file ? fopen(cli->cfg->web.users_file, "re") : NULL;
	char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c1 = *c2 = '\0';
			printf("%s\t%s\t(%s)\n", line, c1 + 1, cli->cfg->web.users_file);
		}
	}
	free(line);
	if (f)
		fclose(f);
	return NORC_EXIT_OK;
}

static int hash_password(struct norc_cli *cli, int argc, char **argv)
{
	(void)cli;
	int ec = norc_cli_simple_opts("web hash-password", argc, argv, 0,
				      "usage: norc web hash-password\n\nReads a password (one line "
				      "of stdin) and prints its yescrypt hash, for\nweb.users = ( { "
				      "name = ...; role = ...; password_hash = \"HASH\"; } );\n");
	if (ec >= 0)
		return ec;
	char *pw = read_password("Password: ");
	if (!pw)
		return norc_cli_fail("web hash-password: no password on stdin");
	char hash[256], err[512];
	int rc = norc_webauth_hash_password(pw, hash, sizeof(hash), err, sizeof(err));
	memset(pw, 0, strlen(pw));
	free(pw);
	if (rc != NORC_OK)
		return norc_cli_fail("web hash-password: %s", err);
	printf("%s\n", hash);
	return NORC_EXIT_OK;
}

static int token(struct norc_cli *cli, int argc, char **argv)
{
	(void)cli;
	static const struct option lo[] = {{"role", required_argument, NULL, 'r'},
					   {"help", no_argument, NULL, 'h'},
					   {0}};
	int role = -1, c, ec;
	while ((c = norc_cli_getopt("web token", argc, argv, "r:h", lo)) != -1) {
		if (c == 'r' && (ec = role_opt("web token", optarg, &role)) >= 0)
			return ec;
		else if (c == 'h') {
			printf("usage: norc web token NAME --role viewer|operator|admin\n\nMakes a "
			       "new API token. Prints the token (give it to the script, as\n"
			       "Authorization: Bearer TOKEN) and the line for web.tokens, which holds "
			       "only its SHA-256.\n");
			return NORC_EXIT_OK;
		} else if (c != 'r')
			return NORC_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return norc_cli_usage_error("web token", "give exactly one token NAME");
	if (role < 0)
		return norc_cli_usage_error("web token", "--role viewer|operator|admin is required");
	char tok[NORC_WEBAUTH_TOKEN_LEN], sha[65];
	if (norc_webauth_new_token(tok, sha) != NORC_OK)
		return norc_cli_fail("web token: no randomness: %s", strerror(errno));
	printf("token: %s\nconfig: { name = \"%s\"; role = \"%s\"; sha256 = \"%s\"; }\n", tok,
	       argv[optind], norc_webauth_role_name(role), sha);
	return NORC_EXIT_OK;
}

static int user(struct norc_cli *cli, int argc, char **argv)
{
	static const struct norc_cli_cmd sub[] = {
		{"add", user_add, "add a user or change its role and password"},
		{"rm", user_rm, "remove a user"},
		{"list", user_list, "check and list the users"},
		{NULL, NULL, NULL},
	};
	return norc_cli_dispatch(cli, sub, "web user", argc, argv);
}

int norc_cmd_web(struct norc_cli *cli, int argc, char **argv)
{
	static const struct norc_cli_cmd sub[] = {
		{"user", user, "add, remove and list norc_web's users (web.users_file)"},
		{"hash-password", hash_password, "print a password hash for an inline user"},
		{"token", token, "make an API token for scripts"},
		{NULL, NULL, NULL},
	};
	return norc_cli_dispatch(cli, sub, "web", argc, argv);
}
