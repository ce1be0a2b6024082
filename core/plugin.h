/*
 * plugin.h - the plugin loader: finds, checks, loads and registers task/queue/backup plugins.
 *
 * Search order: the built-in folder next to the program (<bindir>/../lib/norc/builtin), the
 * installation's drop-in folder (<bindir>/../lib/norc/plugins), then the config's plugin_dirs.
 * Every file is checked before any of its code runs (owner and mode, ELF descriptor: magic,
 * ABI, size, layout, kind), then dlopen(RTLD_NOW|RTLD_LOCAL), then name and ops checks, then
 * init(). A refused file is logged with the exact check that failed and skipped; the daemon
 * goes on. Plugins are never unloaded while the process runs (fini at exit).
 */
#ifndef NORC_PLUGIN_LOADER_H
#define NORC_PLUGIN_LOADER_H

#include <norc/plugin.h>
#include <norc/queue.h>
#include <norc/task.h>

#include <stdbool.h>
#include <stddef.h>

struct norc_config;

/* A registered plugin. Borrowed from the registry; valid until norc_plugin_unload_all. */
struct norc_plugin_entry {
	const struct norc_plugin *desc;
	char *path;
	void *state; /* from init */
	struct norc_host *host;
};

/* The folders searched, in order, for this program and config (cfg may be NULL). Caller frees
 * the array and its strings with norc_plugin_dirs_free. */
char **norc_plugin_dirs(const struct norc_config *cfg, size_t *n);
void norc_plugin_dirs_free(char **dirs, size_t n);

/* Load every *.so of every folder (missing folders other than the built-in one are fine).
 * Returns the number of files refused (each was logged), or a negative NORC_E*. */
int norc_plugin_load_all(const struct norc_config *cfg);
/* Check one file without initializing it: every check of the loader, plus name uniqueness
 * against what is already registered. err names the failed check and the fix. */
int norc_plugin_check_file(const char *path, char *err, size_t errlen);
/* Check, load, init and register one file. */
int norc_plugin_load_file(const char *path, char *err, size_t errlen);

const struct norc_plugin_entry *norc_plugin_find(enum norc_kind kind, const char *name);
size_t norc_plugin_count(void);
const struct norc_plugin_entry *norc_plugin_at(size_t i);
const char *norc_plugin_kind_name(uint32_t kind); /* "task", "queue", "backup" */
/* fini() every plugin (the code stays mapped). */
void norc_plugin_unload_all(void);

#endif
