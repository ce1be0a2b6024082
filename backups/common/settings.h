/*
 * settings.h - reading a backup plugin's settings (the `backup` config group, handed to open()
 * as norc_params): unknown keys, booleans and bounded integers, each refused with one line
 * that names the plugin, the key and what is valid. Compiled into each backup plugin.
 */
#ifndef NORC_SETTINGS_H
#define NORC_SETTINGS_H

#include <norc/plugin.h>

/* NORC_OK when every key of params is in valid (NULL-terminated), else NORC_ECONFIG naming
 * the first unknown key and listing the valid ones. */
int norc_settings_check_keys(const struct norc_host_api *api, const struct norc_params *params,
			     const char *plugin, const char *const *valid, char *err,
			     size_t errlen);

/* *out = the boolean value of key (true/false, yes/no, on/off, 1/0), or def when absent.
 * NORC_ECONFIG for anything else. */
int norc_settings_bool(const struct norc_host_api *api, const struct norc_params *params,
		       const char *plugin, const char *key, bool def, bool *out, char *err,
		       size_t errlen);

/* *out = the integer value of key within [min, max], or def when absent. NORC_ECONFIG when it
 * is not a whole number in range. */
int norc_settings_long(const struct norc_host_api *api, const struct norc_params *params,
		       const char *plugin, const char *key, long def, long min, long max,
		       long *out, char *err, size_t errlen);

#endif
