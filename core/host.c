/*
 * host.c - see host.h. Thin adapters from the SDK's host API to the core's functions.
 */
#include "host.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "params.h"

#include <stdio.h>
#include <stdlib.h>

struct norc_host {
	char *name;
};

static struct norc_db *current_db;

struct norc_host *norc_host_new(const char *plugin_name)
{
	struct norc_host *h = norc_xcalloc(1, sizeof(*h));
	h->name = norc_xstrdup(plugin_name);
	return h;
}

void norc_host_free(struct norc_host *h)
{
	if (!h)
		return;
	free(h->name);
	free(h);
}

void norc_host_set_db(struct norc_db *db) { current_db = db; }

__attribute__((format(printf, 3, 4))) static void host_log(struct norc_host *h,
							   enum norc_level level,
							   const char *fmt, ...)
{
	char msg[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	norc_log(level, "plugin %s: %s", h ? h->name : "?", msg);
}

static void *host_alloc(size_t n) { return norc_xmalloc(n); }
static char *host_strdup(const char *s) { return norc_xstrdup(s); }
static void host_free(void *p) { free(p); }
static struct norc_db *host_db(struct norc_host *h) { (void)h; return current_db; }
static const char *host_errmsg(struct norc_db *db) { return db ? norc_db_errmsg(db) : "no database"; }

static int host_step(struct norc_stmt *st, bool *row) { return norc_stmt_step(st, row); }

static const struct norc_host_api api = {
	.struct_size = sizeof(struct norc_host_api),
	.abi_major = NORC_ABI_MAJOR,
	.abi_minor = NORC_ABI_MINOR,
	.log = host_log,
	.alloc = host_alloc,
	.strdup = host_strdup,
	.free = host_free,
	.strerror = norc_strerror,
	.now_us = norc_clock_now_us,
	.param_get = norc_params_get,
	.param_count = norc_params_count,
	.param_key = norc_params_key,
	.db = host_db,
	.db_clause = norc_db_clause,
	.db_prepare = norc_db_prepare,
	.db_bind_int64 = norc_stmt_bind_int64,
	.db_bind_text = norc_stmt_bind_text,
	.db_step = host_step,
	.db_column_int64 = norc_stmt_column_int64,
	.db_column_text = norc_stmt_column_text,
	.db_changes = norc_stmt_changes,
	.db_finalize = norc_stmt_finalize,
	.db_errmsg = host_errmsg,
};

const struct norc_host_api *norc_host_api(void) { return &api; }
