/*
 * logread.h - finding the log of an instance, job node, executor or scheduler, and saying
 * why it cannot be read. Shared by norc_log_viewer and norc_web, so both look in the same
 * places and explain a missing log the same way.
 */
#ifndef NORC_LOGREAD_H
#define NORC_LOGREAD_H

#include "db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum norc_logread_kind { NORC_LOG_INSTANCE, NORC_LOG_NODE, NORC_LOG_EXECUTOR, NORC_LOG_SCHEDULER };

/* What a log belongs to, filled by norc_logread_find. Free with norc_logread_free. */
struct norc_logread {
	enum norc_logread_kind kind;
	int64_t id;
	char *path; /* relative to log_dir (owned) */
	char *host; /* where it ran, "" when unknown (owned) */
	bool ended;
	int status;
};

/* "instance", "node", "executor", "scheduler". */
const char *norc_logread_kind_name(enum norc_logread_kind kind);
/* Parse a kind: any case, any unique prefix. -1 when unknown or ambiguous. */
int norc_logread_parse_kind(const char *s, enum norc_logread_kind *kind);

/* Look the object up. NORC_ENOTFOUND (err names where to look; also for an instance that is
 * not a node when kind is NODE), or a database error (err holds it). */
int norc_logread_find(struct norc_db *db, enum norc_logread_kind kind, int64_t id,
		      struct norc_logread *out, char *err, size_t errlen);
void norc_logread_free(struct norc_logread *t);

/* The log is in neither place: one line in err saying why, from its upload state (`prog` is
 * named as the tool to run on the right host). store is the backup's name, NULL when none. */
void norc_logread_explain(struct norc_db *db, const struct norc_logread *t, const char *store,
			  const char *log_dir, const char *prog, char *err, size_t errlen);

/* 1 when the owner has ended, 0 not yet, -1 the database did not answer. */
int norc_logread_ended(struct norc_db *db, const struct norc_logread *t);

#endif
