/*
 * cmd_init.c - `norc init`: create the database (MariaDB) and its schema, or migrate an older
 * schema; create log_dir and tmp_dir. Safe to run again: it changes nothing on a current
 * database.
 */
#include "cli.h"
#include "host.h"
#include "mem.h"
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int mkdirs(const char *path)
{
	char *p = norc_xstrdup(path);
	int rc = 0;
	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* MariaDB: create the configured database when it does not exist yet. */
static int create_database(struct norc_cli *cli, char *err, size_t errlen)
{
	const char *name = cli->cfg->db.name;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			return norc_err_set(err, errlen, NORC_ECONFIG,
					    "database.name '%s': use only letters, digits and '_' "
					    "(or create the database yourself)", name);
	struct norc_db_config dc;
	char *pw = NULL;
	int rc = norc_config_db(cli->cfg, &dc, &pw, err, errlen);
	dc.database = NULL;
	struct norc_db *db = NULL;
	if (rc == NORC_OK)
		rc = norc_db_open(&dc, &db, err, errlen);
	free(pw);
	if (rc != NORC_OK)
		return rc;
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", name);
	rc = norc_db_exec(db, sql);
	if (rc != NORC_OK)
		norc_err_set(err, errlen, rc,
			     "cannot create MariaDB database '%s': %s; create it as an admin and "
			     "GRANT ALL ON %s.* to the norc user", name, norc_db_errmsg(db), name);
	norc_db_close(db);
	return rc;
}

int norc_cmd_init(struct norc_cli *cli, int argc, char **argv)
{
	int hrc = norc_cli_simple_opts("init", argc, argv, 0,
				       "usage: norc init\n\nCreates the database schema (and, on MariaDB, the "
			       "database), or migrates an older schema to this version. Creates "
			       "log_dir and tmp_dir. Running it again is harmless.\n");
	if (hrc != -1)
		return hrc;
	if (norc_cli_config(cli) != NORC_OK)
		return NORC_EXIT_FAIL;
	char err[512];
	if (cli->cfg->db.backend == NORC_DB_SQLITE && cli->cfg->db.path) {
		char *dir = norc_xstrdup(cli->cfg->db.path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdirs(dir);
		}
		free(dir);
	}
	struct norc_db_config dc;
	char *pw = NULL;
	int rc = norc_config_db(cli->cfg, &dc, &pw, err, sizeof(err));
	dc.create = true;
	if (rc == NORC_OK)
		rc = norc_db_open(&dc, &cli->db, err, sizeof(err));
	free(pw);
	if (rc == NORC_ENOTFOUND && cli->cfg->db.backend == NORC_DB_MARIADB) {
		rc = create_database(cli, err, sizeof(err));
		if (rc == NORC_OK) {
			rc = norc_config_db(cli->cfg, &dc, &pw, err, sizeof(err));
			if (rc == NORC_OK)
				rc = norc_db_open(&dc, &cli->db, err, sizeof(err));
			free(pw);
		}
	}
	if (rc != NORC_OK)
		return norc_cli_fail("%s", err);
	norc_host_set_db(cli->db);
	int from = 0;
	rc = norc_schema_migrate(cli->db, &from, err, sizeof(err));
	if (rc != NORC_OK)
		return norc_cli_fail("%s", err);
	const char *dirs[] = {cli->cfg->log_dir, cli->cfg->tmp_dir};
	for (size_t i = 0; i < 2; i++)
		if (dirs[i] && mkdirs(dirs[i]) != 0)
			return norc_cli_fail("cannot create folder %s: %s; create it or change "
					     "log_dir/tmp_dir in %s", dirs[i], strerror(errno),
					     cli->cfg->file);
	const char *where = cli->cfg->db.backend == NORC_DB_SQLITE ? cli->cfg->db.path
								    : cli->cfg->db.name;
	int latest = norc_schema_latest();
	if (cli->json)
		printf("{\"backend\": \"%s\", \"database\": \"%s\", \"schema_from\": %d, "
		       "\"schema\": %d}\n", norc_db_backend_name(cli->db), where, from, latest);
	else if (from == latest)
		printf("norc: %s database %s is already at schema version %d\n",
		       norc_db_backend_name(cli->db), where, latest);
	else
		printf("norc: %s database %s initialized at schema version %d (was %d)\n",
		       norc_db_backend_name(cli->db), where, latest, from);
	return NORC_EXIT_OK;
}
