/*
 * backupctl.c - drives one backup plugin .so from the command line, for tests and for trying a
 * store by hand: dlopen()s it as the loader does, calls init with a minimal host API table of
 * its own, open with key=value settings, then one op.
 *
 *   backupctl PLUGIN.so [-o KEY=VALUE]... put LOCAL_FILE KEY
 *                                         get KEY        (the object, decoded, on stdout)
 *                                         exists KEY     (prints true or false)
 *                                         del KEY
 *
 * Exit status: 0 done, 1 the op or open failed (one line on stderr), 2 usage or load error,
 * 3 get found no such object (NORC_ENOTFOUND).
 */
#include <norc/backup.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SETTINGS 32

struct norc_params {
	size_t n;
	const char *key[MAX_SETTINGS];
	const char *val[MAX_SETTINGS];
};

static void ctl_log(struct norc_host *host, enum norc_level level, const char *fmt, ...)
{
	(void)host;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "backupctl: plugin log (%d): ", (int)level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *ctl_alloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);
	if (!p)
		abort();
	return p;
}

static char *ctl_strdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

static const char *ctl_strerror(int rc)
{
	static const char *const names[] = {
		"ok",        "error",       "invalid argument", "out of memory", "try again",
		"timed out", "unsupported", "I/O error",        "configuration error",
		"database error", "not found", "exists", "busy", "version mismatch",
		"plugin check failed", "connection failed"};
	return rc <= 0 && -rc < (int)(sizeof(names) / sizeof(names[0])) ? names[-rc] : "unknown";
}

static int64_t ctl_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *ctl_param_get(const struct norc_params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->val[i];
	return NULL;
}

static size_t ctl_param_count(const struct norc_params *p) { return p->n; }

static const char *ctl_param_key(const struct norc_params *p, size_t i)
{
	return i < p->n ? p->key[i] : NULL;
}

static const struct norc_host_api ctl_api = {
	.struct_size = sizeof(struct norc_host_api),
	.abi_major = NORC_ABI_MAJOR,
	.abi_minor = NORC_ABI_MINOR,
	.log = ctl_log,
	.alloc = ctl_alloc,
	.strdup = ctl_strdup,
	.free = free,
	.strerror = ctl_strerror,
	.now_us = ctl_now_us,
	.param_get = ctl_param_get,
	.param_count = ctl_param_count,
	.param_key = ctl_param_key,
};

static int usage(void)
{
	fprintf(stderr, "usage: backupctl PLUGIN.so [-o KEY=VALUE]... put LOCAL_FILE KEY | get KEY"
			" | exists KEY | del KEY\n");
	return 2;
}

static int failed(const char *op, int rc, const char *err)
{
	fprintf(stderr, "backupctl: %s: %s: %s\n", op, ctl_strerror(rc), err);
	return rc == NORC_ENOTFOUND && strcmp(op, "get") == 0 ? 3 : 1;
}

static int run_op(const struct norc_backup_ops *ops, void *h, int argc, char **argv)
{
	char err[1024] = "";
	const char *op = argv[0];
	int rc;
	if (strcmp(op, "put") == 0 && argc == 3) {
		rc = ops->put(h, argv[1], argv[2], err, sizeof(err));
	} else if (strcmp(op, "get") == 0 && argc == 2) {
		rc = ops->get(h, argv[1], STDOUT_FILENO, err, sizeof(err));
	} else if (strcmp(op, "exists") == 0 && argc == 2) {
		bool yes = false;
		rc = ops->exists(h, argv[1], &yes, err, sizeof(err));
		if (rc == NORC_OK)
			printf("%s\n", yes ? "true" : "false");
	} else if (strcmp(op, "del") == 0 && argc == 2 && ops->del) {
		rc = ops->del(h, argv[1], err, sizeof(err));
	} else {
		return usage();
	}
	return rc == NORC_OK ? 0 : failed(op, rc, err);
}

int main(int argc, char **argv)
{
	struct norc_params set = {0};
	int i = 2;
	if (argc < 3)
		return usage();
	for (; i + 1 < argc && strcmp(argv[i], "-o") == 0; i += 2) {
		char *eq = strchr(argv[i + 1], '=');
		if (!eq || set.n == MAX_SETTINGS)
			return usage();
		*eq = '\0';
		set.key[set.n] = argv[i + 1];
		set.val[set.n++] = eq + 1;
	}
	if (i >= argc)
		return usage();

	void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "backupctl: cannot load %s: %s\n", argv[1], dlerror());
		return 2;
	}
	const struct norc_plugin *p = dlsym(dl, "norc_plugin");
	if (!p || p->magic != NORC_PLUGIN_MAGIC || p->kind != NORC_KIND_BACKUP || !p->ops) {
		fprintf(stderr, "backupctl: %s is not a Norc backup plugin\n", argv[1]);
		return 2;
	}
	const struct norc_backup_ops *ops = p->ops;
	void *state = NULL, *h = NULL;
	char err[1024] = "";
	int rc = p->init ? p->init(NULL, &ctl_api, &state, err, sizeof(err)) : NORC_OK;
	if (rc != NORC_OK)
		return failed("init", rc, err);
	int status;
	rc = ops->open(state, &set, &h, err, sizeof(err));
	if (rc != NORC_OK) {
		status = failed("open", rc, err);
	} else {
		status = run_op(ops, h, argc - i, argv + i);
		ops->close(h);
	}
	if (p->fini)
		p->fini(state);
	fflush(stdout);
	return status;
}
