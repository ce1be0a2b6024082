/*
 * settings.c - reading a backup plugin's settings (see settings.h). Values are strings from
 * the config; everything here is borrowed from params for the call.
 */
#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int norc_settings_check_keys(const struct norc_host_api *api, const struct norc_params *params,
			     const char *plugin, const char *const *valid, char *err,
			     size_t errlen)
{
	size_t n = api->param_count(params);
	for (size_t i = 0; i < n; i++) {
		const char *k = api->param_key(params, i);
		size_t j;
		for (j = 0; valid[j]; j++)
			if (strcmp(k, valid[j]) == 0)
				break;
		if (valid[j])
			continue;
		int off = snprintf(err, errlen, "%s has no setting '%s' (valid:", plugin, k);
		for (j = 0; valid[j] && off >= 0 && (size_t)off < errlen; j++)
			off += snprintf(err + off, errlen - (size_t)off, " %s", valid[j]);
		if (off >= 0 && (size_t)off < errlen)
			snprintf(err + off, errlen - (size_t)off, ")");
		return NORC_ECONFIG;
	}
	return NORC_OK;
}

int norc_settings_bool(const struct norc_host_api *api, const struct norc_params *params,
		       const char *plugin, const char *key, bool def, bool *out, char *err,
		       size_t errlen)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	const char *v = api->param_get(params, key);
	*out = def;
	if (!v)
		return NORC_OK;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, NORC_OK;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, NORC_OK;
	}
	snprintf(err, errlen, "%s setting %s = '%s' is not a boolean (use true or false)", plugin,
		 key, v);
	return NORC_ECONFIG;
}

int norc_settings_long(const struct norc_host_api *api, const struct norc_params *params,
		       const char *plugin, const char *key, long def, long min, long max,
		       long *out, char *err, size_t errlen)
{
	const char *v = api->param_get(params, key);
	*out = def;
	if (!v)
		return NORC_OK;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max) {
		snprintf(err, errlen, "%s setting %s = '%s' must be a whole number from %ld to %ld",
			 plugin, key, v, min, max);
		return NORC_ECONFIG;
	}
	*out = n;
	return NORC_OK;
}
