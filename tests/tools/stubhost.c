/*
 * stubhost.c - see stubhost.h.
 */
#include "stubhost.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *prog_name = "stubhost";

void norc_stub_init(const char *prog) { prog_name = prog; }

static void stub_log(struct norc_host *host, enum norc_level level, const char *fmt, ...)
{
	(void)host;
	const char *name = level <= NORC_LOG_ERROR ? "ERROR"
			   : level == NORC_LOG_WARN ? "WARN"
			   : level == NORC_LOG_INFO ? "INFO"
						    : "DEBUG";
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: log %s: ", prog_name, name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *stub_alloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);
	if (!p)
		abort();
	return p;
}

static char *stub_strdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

const char *norc_stub_rcname(int rc)
{
	static const char *const names[] = {
		"OK",	   "ERR",      "EINVAL",  "ENOMEM", "EAGAIN",    "ETIMEDOUT",
		"EUNSUPP", "EIO",      "ECONFIG", "EDB",    "ENOTFOUND", "EEXIST",
		"EBUSY",   "EVERSION", "EPLUGIN", "ECONN"};
	return rc <= 0 && -rc < (int)(sizeof(names) / sizeof(names[0])) ? names[-rc] : "unknown";
}

static int64_t stub_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *stub_param_get(const struct norc_params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->val[i];
	return NULL;
}

static size_t stub_param_count(const struct norc_params *p) { return p->n; }

static const char *stub_param_key(const struct norc_params *p, size_t i)
{
	return i < p->n ? p->key[i] : NULL;
}

static struct norc_db *stub_db(struct norc_host *host)
{
	(void)host;
	return NULL;
}

const struct norc_host_api norc_stub_api = {
	.struct_size = sizeof(struct norc_host_api),
	.abi_major = NORC_ABI_MAJOR,
	.abi_minor = NORC_ABI_MINOR,
	.log = stub_log,
	.alloc = stub_alloc,
	.strdup = stub_strdup,
	.free = free,
	.strerror = norc_stub_rcname,
	.now_us = stub_now_us,
	.param_get = stub_param_get,
	.param_count = stub_param_count,
	.param_key = stub_param_key,
	.db = stub_db,
};

bool norc_stub_param(struct norc_params *p, char *kv)
{
	char *eq = strchr(kv, '=');
	if (!eq)
		return false;
	*eq = '\0';
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->key[i], kv) == 0) {
			p->val[i] = eq + 1;
			return true;
		}
	if (p->n == NORC_STUB_MAX_SETTINGS)
		return false;
	p->key[p->n] = kv;
	p->val[p->n++] = eq + 1;
	return true;
}

const struct norc_plugin *norc_stub_load(const char *path, uint32_t kind)
{
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "%s: cannot load %s: %s\n", prog_name, path, dlerror());
		return NULL;
	}
	const struct norc_plugin *p = dlsym(dl, "norc_plugin");
	if (!p || p->magic != NORC_PLUGIN_MAGIC || p->kind != kind || !p->ops) {
		fprintf(stderr, "%s: %s is not a Norc %s plugin\n", prog_name, path,
			kind == NORC_KIND_QUEUE ? "queue" : kind == NORC_KIND_BACKUP ? "backup" : "task");
		return NULL;
	}
	return p;
}
