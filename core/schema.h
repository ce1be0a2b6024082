/*
 * schema.h - the versioned database schema and its migrations (`norc init`).
 *
 * The schema is a list of migrations; migration N brings a database from version N-1 to N.
 * DDL is portable SQL with two tokens each backend rewrites ({PK}, {END}); statements use
 * IF NOT EXISTS so a migration interrupted half-way (MariaDB DDL commits implicitly) is simply
 * run again. The version row is written last.
 */
#ifndef NORC_SCHEMA_H
#define NORC_SCHEMA_H

#include "db.h"

#include <stddef.h>

/* The newest schema version this build knows. */
int norc_schema_latest(void);
/* Current version of db into *version: 0 when Norc was never initialized there. */
int norc_schema_version(struct norc_db *db, int *version);
/* Migrate db up to norc_schema_latest(); *from gets the version found. Refuses (NORC_EVERSION)
 * a database newer than this build. */
int norc_schema_migrate(struct norc_db *db, int *from, char *err, size_t errlen);
/* For every program but `norc init`: NORC_OK if db is exactly at the latest version, else
 * NORC_EVERSION with a message saying what to run or install. */
int norc_schema_check(struct norc_db *db, char *err, size_t errlen);

#endif
