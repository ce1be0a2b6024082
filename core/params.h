/*
 * params.h - key=value parameters of a task or a queue (struct norc_params of the SDK).
 *
 * Stored in the database as a JSON object of strings ({"command":"echo hi"}); handed to
 * plugins read-only through the host API. Keys are unique; setting a key again replaces it.
 */
#ifndef NORC_PARAMS_H
#define NORC_PARAMS_H

#include <norc/plugin.h>
#include <stddef.h>

struct norc_params *norc_params_new(void); /* caller frees with norc_params_free */
void norc_params_free(struct norc_params *p); /* NULL ok */
/* Set key to a copy of value (replacing). */
void norc_params_set(struct norc_params *p, const char *key, const char *value);
/* Parse "key=value"; NORC_EINVAL (err says why) when there is no '=' or the key is empty or
 * not [A-Za-z0-9_.-]. */
int norc_params_set_kv(struct norc_params *p, const char *kv, char *err, size_t errlen);
const char *norc_params_get(const struct norc_params *p, const char *key); /* borrowed */
size_t norc_params_count(const struct norc_params *p);
const char *norc_params_key(const struct norc_params *p, size_t i);   /* borrowed */
const char *norc_params_value(const struct norc_params *p, size_t i); /* borrowed */
/* JSON object text; caller frees with free(). */
char *norc_params_to_json(const struct norc_params *p);
/* Parse a JSON object of strings. NORC_EINVAL on anything else. */
int norc_params_from_json(const char *json, struct norc_params **out, char *err, size_t errlen);

#endif
