/*
 * params.c - see params.h. A small ordered array: parameter sets have a handful of keys.
 */
#include "params.h"
#include "mem.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct norc_params {
	size_t n, cap;
	char **keys;
	char **vals;
};

struct norc_params *norc_params_new(void) { return norc_xcalloc(1, sizeof(struct norc_params)); }

void norc_params_free(struct norc_params *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->keys[i]);
		free(p->vals[i]);
	}
	free(p->keys);
	free(p->vals);
	free(p);
}

void norc_params_set(struct norc_params *p, const char *key, const char *value)
{
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->keys[i], key) == 0) {
			free(p->vals[i]);
			p->vals[i] = norc_xstrdup(value);
			return;
		}
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4;
		p->keys = norc_xrealloc(p->keys, p->cap * sizeof(char *));
		p->vals = norc_xrealloc(p->vals, p->cap * sizeof(char *));
	}
	p->keys[p->n] = norc_xstrdup(key);
	p->vals[p->n] = norc_xstrdup(value);
	p->n++;
}

static bool valid_key(const char *k, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '-' && k[i] != '.')
			return false;
	return true;
}

int norc_params_set_kv(struct norc_params *p, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	if (!eq)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "parameter '%s' has no '='; write it as key=value", kv);
	size_t klen = (size_t)(eq - kv);
	if (!valid_key(kv, klen))
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "parameter '%s': the key must be 1-64 characters of "
				    "letters, digits, '_', '-' or '.'", kv);
	char key[65];
	memcpy(key, kv, klen);
	key[klen] = '\0';
	norc_params_set(p, key, eq + 1);
	return NORC_OK;
}

const char *norc_params_get(const struct norc_params *p, const char *key)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (strcmp(p->keys[i], key) == 0)
			return p->vals[i];
	return NULL;
}

size_t norc_params_count(const struct norc_params *p) { return p ? p->n : 0; }
const char *norc_params_key(const struct norc_params *p, size_t i) { return i < p->n ? p->keys[i] : NULL; }
const char *norc_params_value(const struct norc_params *p, size_t i) { return i < p->n ? p->vals[i] : NULL; }

char *norc_params_to_json(const struct norc_params *p)
{
	json_t *o = json_object();
	for (size_t i = 0; p && i < p->n; i++)
		json_object_set_new(o, p->keys[i], json_string(p->vals[i]));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	char *out = norc_xstrdup(s ? s : "{}");
	free(s);
	return out;
}

int norc_params_from_json(const char *text, struct norc_params **out, char *err, size_t errlen)
{
	*out = NULL;
	json_error_t je;
	json_t *o = json_loads(text ? text : "{}", 0, &je);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return norc_err_set(err, errlen, NORC_EINVAL, "parameters are not a JSON object: %s",
				    o ? "wrong type" : je.text);
	}
	struct norc_params *p = norc_params_new();
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (!json_is_string(v)) {
			norc_err_set(err, errlen, NORC_EINVAL, "parameter '%s' is not a string", k);
			norc_params_free(p);
			json_decref(o); /* k belongs to o: formatted above */
			return NORC_EINVAL;
		}
		norc_params_set(p, k, json_string_value(v));
	}
	json_decref(o);
	*out = p;
	return NORC_OK;
}
