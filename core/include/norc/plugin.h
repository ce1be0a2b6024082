/*
 * norc/plugin.h - the descriptor every Norc plugin exports, and the host API it receives.
 *
 * A plugin is a .so file that exports exactly one data symbol, `norc_plugin`, filled by
 * NORC_PLUGIN_DEFINE(). Its first block of fields (magic .. flags) is plain integers at fixed
 * offsets, so the loader reads and checks them from the ELF file before any plugin code runs
 * (not even constructors). Only then is the file dlopen()ed with RTLD_NOW|RTLD_LOCAL.
 *
 * Plugins never link against the daemon: every core service is reached through the
 * `struct norc_host_api` table handed to init(). Build with -fvisibility=hidden -Wl,-z,defs.
 *
 * Lifecycle (which process runs what):
 *
 *   loader (daemon or CLI)          ELF check -> dlopen -> name/ops check -> init() once
 *   task plugin, daemon side        validate(params)  prepare(ctx, plan)  plan_free()
 *   task plugin, forked child       run_child(ctx)    (only with NORC_TASK_INCHILD)
 *   task plugin, its own child      finally(ctx, result)  after the run was reaped (any end)
 *   task plugin, daemon side        revision(ctx)         before the run starts
 *   queue plugin, daemon side       validate  open  push  pop  peek  count  clear  close
 *   backup plugin, upload child     put  get  exists  del
 *   shutdown                        fini()  (plugins are never unloaded while running)
 *
 * Self-contained: includes only standard headers. Structs grow only at the end; each carries
 * struct_size and the core never reads past it.
 */
#ifndef NORC_PLUGIN_H
#define NORC_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <norc/version.h>

#define NORC_PLUGIN_MAGIC 0x4e4f5243u /* "NORC" */
#define NORC_EXPORT __attribute__((visibility("default")))

/* Layout signature: pointer, long and off_t sizes plus byte order. A plugin built for another
 * layout is refused before it is loaded. */
#define NORC_BUILD_SIG                                                                         \
	((uint32_t)(sizeof(void *) << 24 | sizeof(long) << 16 | sizeof(long long) << 8 |          \
		    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 1u : 2u)))

/* Return codes: 0 or negative. Append only; never renumber. */
enum norc_rc {
	NORC_OK = 0,
	NORC_ERR = -1,       /* generic failure; the message says why */
	NORC_EINVAL = -2,    /* bad argument or input */
	NORC_ENOMEM = -3,
	NORC_EAGAIN = -4,    /* nothing now (an empty queue); try later */
	NORC_ETIMEDOUT = -5,
	NORC_EUNSUPP = -6,   /* operation not supported by this plugin/backend */
	NORC_EIO = -7,
	NORC_ECONFIG = -8,   /* configuration error */
	NORC_EDB = -9,       /* database error */
	NORC_ENOTFOUND = -10,
	NORC_EEXIST = -11,   /* duplicate name or key */
	NORC_EBUSY = -12,    /* locked, or lost a race; retry */
	NORC_EVERSION = -13, /* incompatible version (schema, ABI) */
	NORC_EPLUGIN = -14,  /* a plugin failed a check */
	NORC_ECONN = -15,    /* connection to a server lost or refused */
};

enum norc_kind { NORC_KIND_TASK = 1, NORC_KIND_QUEUE = 2, NORC_KIND_BACKUP = 3 };

enum norc_level { NORC_LOG_ERROR = 3, NORC_LOG_WARN = 4, NORC_LOG_INFO = 6, NORC_LOG_DEBUG = 7 };

struct norc_host;   /* opaque: the core's context handed to plugins */
struct norc_params; /* opaque: read-only key=value parameters of a task or queue */
struct norc_db;     /* opaque: the host's database connection */
struct norc_stmt;   /* opaque: a prepared statement on it */

/* SQL fragments that differ between database backends (see db_clause). */
enum norc_sql_clause {
	NORC_SQL_LOCK_SKIP = 1,  /* appended to a SELECT: " FOR UPDATE SKIP LOCKED" or "" */
	NORC_SQL_LOCK_SHARE = 2, /* appended to a SELECT: " LOCK IN SHARE MODE" or "" */
	NORC_SQL_LOCK_UPDATE = 3, /* appended to a SELECT: " FOR UPDATE" or "" (ABI 1.1) */
};

/*
 * The core's services, handed to init(). All strings passed in are borrowed for the call.
 * Everything here may be called from the daemon's loop; nothing here may be called from a
 * forked child (run_child, finally) except these, which work there too: alloc strdup free
 * strerror now_us param_get param_count param_key, and log (into the run's log); db() is
 * NULL there.
 */
struct norc_host_api {
	uint32_t struct_size;
	uint16_t abi_major, abi_minor;

	/* Logging into the daemon's log, as "plugin NAME: message". */
	void (*log)(struct norc_host *host, enum norc_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Memory: alloc/strdup never return NULL (they abort on OOM). Free with free. */
	void *(*alloc)(size_t size);
	char *(*strdup)(const char *s);
	void (*free)(void *p);
	const char *(*strerror)(int rc);
	/* Wall clock, microseconds since the epoch, UTC. */
	int64_t (*now_us)(void);

	/* Parameters: value of KEY or NULL (borrowed, lives as long as params). */
	const char *(*param_get)(const struct norc_params *params, const char *key);
	/* Number of parameters, and the key at index i (borrowed), for unknown-key checks. */
	size_t (*param_count)(const struct norc_params *params);
	const char *(*param_key)(const struct norc_params *params, size_t i);

	/* Database (queue plugins such as DBQueue). db() returns the host's connection; SQL uses
	 * '?' placeholders, columns and parameters are 1-based for bind and 0-based for column.
	 * Statements run inside the caller's transaction, if any. */
	struct norc_db *(*db)(struct norc_host *host);
	const char *(*db_clause)(struct norc_db *db, enum norc_sql_clause clause);
	int (*db_prepare)(struct norc_db *db, const char *sql, struct norc_stmt **out);
	int (*db_bind_int64)(struct norc_stmt *st, int idx, int64_t v);
	int (*db_bind_text)(struct norc_stmt *st, int idx, const char *v); /* copied */
	int (*db_step)(struct norc_stmt *st, bool *row);                    /* row: got one */
	int64_t (*db_column_int64)(struct norc_stmt *st, int col);
	const char *(*db_column_text)(struct norc_stmt *st, int col); /* borrowed until next step */
	int64_t (*db_changes)(struct norc_stmt *st);                   /* rows changed by last step */
	void (*db_finalize)(struct norc_stmt *st);
	const char *(*db_errmsg)(struct norc_db *db);
	/* added in ABI 1.1: append below, never above */
};

/*
 * The descriptor. Fields magic .. flags are integers at fixed offsets (0..23) and are frozen
 * forever: the loader reads them from the file before dlopen.
 */
struct norc_plugin {
	uint32_t magic;       /* NORC_PLUGIN_MAGIC */
	uint16_t abi_major;   /* NORC_ABI_MAJOR at build time */
	uint16_t abi_minor;   /* NORC_ABI_MINOR at build time */
	uint32_t struct_size; /* sizeof(struct norc_plugin) at build time */
	uint32_t build_sig;   /* NORC_BUILD_SIG at build time */
	uint32_t kind;        /* enum norc_kind */
	uint32_t flags;       /* NORC_TASK_* for task plugins */
	/* ---- end of the frozen block ---- */
	const char *name;        /* unique among loaded plugins: CommandTask, DBQueue, ... */
	const char *version;     /* the plugin's own version */
	const char *description; /* one line, for `norc plugins` */
	/* Called once after the checks passed. *state is the plugin's private state, passed back
	 * to every op. On failure fill err and return a negative NORC_E*. Optional. */
	int (*init)(struct norc_host *host, const struct norc_host_api *api, void **state,
		    char *err, size_t errlen);
	void (*fini)(void *state); /* at shutdown; optional */
	const void *ops;           /* struct norc_task_ops | norc_queue_ops | norc_backup_ops */
};

#define NORC_PLUGIN_DEFINE(KIND, FLAGS, NAME, VERSION, DESCRIPTION, INIT, FINI, OPS)          \
	NORC_EXPORT const struct norc_plugin norc_plugin = {                                   \
		.magic = NORC_PLUGIN_MAGIC,                                                    \
		.abi_major = NORC_ABI_MAJOR,                                                   \
		.abi_minor = NORC_ABI_MINOR,                                                   \
		.struct_size = sizeof(struct norc_plugin),                                     \
		.build_sig = NORC_BUILD_SIG,                                                   \
		.kind = (KIND),                                                                \
		.flags = (FLAGS),                                                              \
		.name = (NAME),                                                                \
		.version = (VERSION),                                                          \
		.description = (DESCRIPTION),                                                  \
		.init = (INIT),                                                                \
		.fini = (FINI),                                                                \
		.ops = (OPS),                                                                  \
	}

#endif
