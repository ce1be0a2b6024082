/*
 * stubhost.h - the host side for driving one plugin .so outside the daemons (the test tools
 * backupctl and queuectl): a host API table (log to stderr, memory, return-code names, the
 * clock, parameters, no database) and the -o KEY=VALUE parameters.
 */
#ifndef NORC_STUBHOST_H
#define NORC_STUBHOST_H

#include <norc/plugin.h>

#define NORC_STUB_MAX_SETTINGS 32

struct norc_params {
	size_t n;
	const char *key[NORC_STUB_MAX_SETTINGS];
	const char *val[NORC_STUB_MAX_SETTINGS];
};

/* Plugin log lines go to stderr as "PROG: log LEVEL: message" (prog borrowed, static). */
void norc_stub_init(const char *prog);
extern const struct norc_host_api norc_stub_api;
/* "OK", "ERR", "EINVAL", ... for a NORC_E* code. */
const char *norc_stub_rcname(int rc);
/* Take "KEY=VALUE" (kv is modified and borrowed); a later KEY replaces an earlier one. false
 * when there is no '=' or no room. */
bool norc_stub_param(struct norc_params *p, char *kv);
/* Open the plugin .so at path as the loader does and check it is of kind; NULL (message on
 * stderr) when not. */
const struct norc_plugin *norc_stub_load(const char *path, uint32_t kind);

#endif
