/*
 * plugin.c - see plugin.h. The checks, in order (each refusal names its check):
 *   1 file    regular file (lstat: no symlinks), name ends in ".so"
 *   2 owner   owned by root or by the user running Norc; not group- or world-writable;
 *             the folder likewise
 *   3 elf     a shared object for this machine exporting `norc_plugin` (read from the file)
 *   4 magic   NORC_PLUGIN_MAGIC
 *   5 abi     same ABI major; ABI minor not newer than ours
 *   6 size    struct_size at least what that minor defines
 *   7 layout  build signature (pointer/long sizes, byte order) equals ours
 *   8 kind    task, queue or backup
 *   9 dlopen  RTLD_NOW|RTLD_LOCAL (unresolved symbols fail here, not mid-run)
 *  10 name    non-empty, [A-Za-z0-9_-], unique among registered plugins
 *  11 ops     ops present, ops->struct_size large enough, mandatory ops set
 *  12 init    the plugin's own init() succeeded
 */
#include "plugin.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "mem.h"
#include "elfpeek.h"

#include <norc/backup.h>

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <poll.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(offsetof(struct norc_plugin, magic) == 0, "frozen ABI field moved");
_Static_assert(offsetof(struct norc_plugin, abi_major) == 4, "frozen ABI field moved");
_Static_assert(offsetof(struct norc_plugin, abi_minor) == 6, "frozen ABI field moved");
_Static_assert(offsetof(struct norc_plugin, struct_size) == 8, "frozen ABI field moved");
_Static_assert(offsetof(struct norc_plugin, build_sig) == 12, "frozen ABI field moved");
_Static_assert(offsetof(struct norc_plugin, kind) == 16, "frozen ABI field moved");
_Static_assert(offsetof(struct norc_plugin, flags) == 20, "frozen ABI field moved");

#ifndef NORC_BIN_TO_BUILTIN
#define NORC_BIN_TO_BUILTIN "../lib/norc/builtin"
#endif
#ifndef NORC_BIN_TO_DROPIN
#define NORC_BIN_TO_DROPIN "../lib/norc/plugins"
#endif

/* Smallest descriptor and ops sizes per ABI 1.0 (update with every minor: docs/ABI.md). */
#define MIN_PLUGIN_SIZE (offsetof(struct norc_plugin, ops) + sizeof(void *))
#define MIN_TASK_OPS (offsetof(struct norc_task_ops, revision) + sizeof(void *))
#define MIN_QUEUE_OPS (offsetof(struct norc_queue_ops, clear) + sizeof(void *))
#define MIN_BACKUP_OPS (offsetof(struct norc_backup_ops, del) + sizeof(void *))

static struct norc_plugin_entry *reg;
static size_t nreg, capreg;

const char *norc_plugin_kind_name(uint32_t kind)
{
	switch (kind) {
	case NORC_KIND_TASK: return "task";
	case NORC_KIND_QUEUE: return "queue";
	case NORC_KIND_BACKUP: return "backup";
	}
	return "unknown";
}

static char *exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return norc_xstrdup(".");
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return norc_xstrdup(buf);
}

char **norc_plugin_dirs(const struct norc_config *cfg, size_t *n)
{
	size_t extra = cfg ? cfg->n_plugin_dirs : 0;
	char **dirs = norc_xcalloc(2 + extra, sizeof(char *));
	char *bin = exe_dir();
	const char *env = getenv("NORC_BUILTIN_PLUGIN_DIR"); /* tests and relocated installs */
	dirs[0] = env && *env ? norc_xstrdup(env) : norc_xasprintf("%s/%s", bin, NORC_BIN_TO_BUILTIN);
	dirs[1] = norc_xasprintf("%s/%s", bin, NORC_BIN_TO_DROPIN);
	free(bin);
	for (size_t i = 0; i < extra; i++)
		dirs[2 + i] = norc_xstrdup(cfg->plugin_dirs[i]);
	*n = 2 + extra;
	return dirs;
}

void norc_plugin_dirs_free(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
}

static bool safe_owner(const struct stat *sb) { return sb->st_uid == 0 || sb->st_uid == geteuid(); }

static int check_mode(const char *what, const char *path, const struct stat *sb, char *err,
		      size_t errlen)
{
	if (!safe_owner(sb))
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'owner' failed: %s %s is owned by uid %u, not by root or "
				    "uid %u; chown it", what, path, (unsigned)sb->st_uid,
				    (unsigned)geteuid());
	if (sb->st_mode & (S_IWGRP | S_IWOTH))
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'owner' failed: %s %s is group- or world-writable (mode "
				    "%04o); run chmod go-w on it", what, path,
				    (unsigned)(sb->st_mode & 07777));
	return NORC_OK;
}

static bool valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static int check_ops(const char *path, const struct norc_plugin *p, char *err, size_t errlen)
{
#define NEED(cond, what)                                                                       \
	do {                                                                                   \
		if (!(cond))                                                                   \
			return norc_err_set(err, errlen, NORC_EPLUGIN,                         \
					    "check 'ops' failed: %s: plugin '%s' has no %s",   \
					    path, p->name, what);                              \
	} while (0)
	NEED(p->ops, "ops table");
	uint32_t size = *(const uint32_t *)p->ops;
	switch (p->kind) {
	case NORC_KIND_TASK: {
		const struct norc_task_ops *o = p->ops;
		NEED(size >= MIN_TASK_OPS, "complete norc_task_ops (struct_size too small)");
		NEED(o->validate, "validate op");
		if (p->flags & NORC_TASK_JOB)
			NEED(p->abi_minor >= 3, "ABI 1.3 or newer (it sets NORC_TASK_JOB)");
		else if (p->flags & NORC_TASK_INCHILD)
			NEED(o->run_child, "run_child op (it sets NORC_TASK_INCHILD)");
		else
			NEED(o->prepare && o->plan_free, "prepare and plan_free ops (exec mode)");
		break;
	}
	case NORC_KIND_QUEUE: {
		const struct norc_queue_ops *o = p->ops;
		NEED(size >= MIN_QUEUE_OPS, "complete norc_queue_ops (struct_size too small)");
		NEED(o->validate && o->open && o->close && o->push && o->pop && o->count,
		     "one of the mandatory ops validate, open, close, push, pop, count");
		break;
	}
	case NORC_KIND_BACKUP: {
		const struct norc_backup_ops *o = p->ops;
		NEED(size >= MIN_BACKUP_OPS, "complete norc_backup_ops (struct_size too small)");
		NEED(o->open && o->close && o->put && o->get && o->exists,
		     "one of the mandatory ops open, close, put, get, exists");
		break;
	}
	}
#undef NEED
	return NORC_OK;
}

/* Checks 1-11. On success *handle is the dlopen handle and *desc the descriptor. */
static int check(const char *path, void **handle, const struct norc_plugin **desc, char *err,
		 size_t errlen)
{
	*handle = NULL;
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return norc_err_set(err, errlen, NORC_EPLUGIN, "check 'file' failed: %s: %s", path,
				    strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'file' failed: %s is not a regular file%s", path,
				    S_ISLNK(sb.st_mode) ? " (symlinks are refused; copy the file)" : "");
	size_t len = strlen(path);
	if (len < 3 || strcmp(path + len - 3, ".so") != 0)
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'file' failed: %s does not end in .so", path);
	int rc = check_mode("file", path, &sb, err, errlen);
	if (rc != NORC_OK)
		return rc;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	struct stat db;
	if (stat(dir, &db) == 0 && (rc = check_mode("folder", dir, &db, err, errlen)) != NORC_OK)
		return rc;

	struct norc_elf_desc e;
	char why[256] = "";
	rc = norc_elfpeek(path, "norc_plugin", &e, why, sizeof(why));
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, NORC_EPLUGIN, "check '%s' failed: %s: %s",
				    rc == NORC_ENOTFOUND ? "descriptor" : "elf", path, why);
	if (e.magic != NORC_PLUGIN_MAGIC)
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'magic' failed: %s: norc_plugin.magic is 0x%08x, expected "
				    "0x%08x; build it with NORC_PLUGIN_DEFINE()", path, e.magic,
				    NORC_PLUGIN_MAGIC);
	if (e.abi_major != NORC_ABI_MAJOR || e.abi_minor > NORC_ABI_MINOR)
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'abi' failed: %s was built for plugin ABI %u.%u, this "
				    "norc has ABI %d.%d; %s", path, e.abi_major, e.abi_minor,
				    NORC_ABI_MAJOR, NORC_ABI_MINOR,
				    e.abi_major != NORC_ABI_MAJOR
					    ? "rebuild the plugin against this norc's SDK"
					    : "upgrade norc or rebuild the plugin against this SDK");
	if (e.struct_size < MIN_PLUGIN_SIZE || e.struct_size > e.sym_size)
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'size' failed: %s: descriptor claims %u bytes in a %llu-byte "
				    "symbol; ABI %u.%u needs at least %zu", path, e.struct_size,
				    (unsigned long long)e.sym_size, e.abi_major, e.abi_minor,
				    (size_t)MIN_PLUGIN_SIZE);
	if (e.build_sig != NORC_BUILD_SIG)
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'layout' failed: %s has build signature 0x%08x, this "
				    "norc 0x%08x (pointer/long size or byte order differ)", path,
				    e.build_sig, (unsigned)NORC_BUILD_SIG);
	if (e.kind < NORC_KIND_TASK || e.kind > NORC_KIND_BACKUP)
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'kind' failed: %s: kind %u is not task (1), queue (2) or "
				    "backup (3)", path, e.kind);

	dlerror();
	/* a name without a slash would make dlopen search the library path, not this folder */
	char here[PATH_MAX];
	if (!strchr(path, '/'))
		snprintf(here, sizeof(here), "./%s", path);
	void *h = dlopen(strchr(path, '/') ? path : here, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *de = dlerror();
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'dlopen' failed: %s; if a symbol is undefined, link the "
				    "library that provides it (check with `ldd -r %s`)",
				    de ? de : "unknown error", path);
	}
	const struct norc_plugin *p = dlsym(h, "norc_plugin");
	if (!p) {
		dlclose(h);
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'descriptor' failed: %s: dlsym(norc_plugin) found nothing",
				    path);
	}
	if (!valid_name(p->name)) {
		dlclose(h);
		return norc_err_set(err, errlen, NORC_EPLUGIN,
				    "check 'name' failed: %s: the plugin name must be 1-64 letters, "
				    "digits, '_' or '-'", path);
	}
	char real[PATH_MAX];
	const char *rp = realpath(path, real) ? real : path;
	for (size_t i = 0; i < nreg; i++) {
		if (strcmp(reg[i].desc->name, p->name) != 0)
			continue;
		/* format first: p points into the library we are about to close */
		if (strcmp(reg[i].path, rp) == 0)
			rc = norc_err_set(err, errlen, NORC_EEXIST, "%s is already loaded", rp);
		else
			rc = norc_err_set(err, errlen, NORC_EPLUGIN,
					  "check 'name' failed: %s: plugin name '%s' is already taken "
					  "by %s; rename one of them", path, p->name, reg[i].path);
		dlclose(h);
		return rc;
	}
	if ((rc = check_ops(path, p, err, errlen)) != NORC_OK) {
		dlclose(h);
		return rc;
	}
	*handle = h;
	*desc = p;
	return NORC_OK;
}

int norc_plugin_check_file(const char *path, char *err, size_t errlen)
{
	void *h;
	const struct norc_plugin *p;
	int rc = check(path, &h, &p, err, errlen);
	if (rc == NORC_EEXIST)
		return NORC_OK; /* this very file is registered: it passed every check */
	if (rc == NORC_OK)
		dlclose(h); /* never initialized, so unloading is safe */
	return rc;
}

/* A plugin's init runs in the loading process, where a hang or a crash would take the
 * daemon with it. So it is first tried in a forked copy (the host's database is NULL
 * there), for at most NORC_PLUGIN_INIT_TIMEOUT_S: a probe that does not return in time or
 * dies of a signal refuses the plugin; one that returns (ok or not) lets the real call
 * decide and report. init may therefore run twice. */
#define NORC_PLUGIN_INIT_TIMEOUT_S 5
static int probe_init(const struct norc_plugin *p, const char *path, char *err, size_t errlen)
{
	fflush(NULL); /* an init that calls exit() must not print our buffered lines again */
	pid_t pid = fork();
	if (pid == 0) {
		setsid(); /* its own group: whatever init forks is killed with it */
		norc_host_set_db(NULL); /* the parent's connection is not ours to use */
		/* a crash must kill the probe, whatever handler the program has (sanitizers) */
		static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			sigaction(fatal[i], &dfl, NULL);
		struct norc_host *host = norc_host_new(p->name);
		void *state = NULL;
		char why[256];
		int rc = p->init(host, norc_host_api(), &state, why, sizeof(why));
		_exit(rc == NORC_OK ? 0 : 1);
	}
	if (pid < 0)
		return NORC_OK; /* no probe possible: the real call goes ahead */
	/* wait for the process itself (not for a pipe its forks could hold open), at most the
	 * timeout: a few sleeps of 2 ms while plugins load at start-up */
	int st = 0;
	pid_t w = 0;
	for (int waited_ms = 0; (w = waitpid(pid, &st, WNOHANG)) == 0 &&
				waited_ms < NORC_PLUGIN_INIT_TIMEOUT_S * 1000;
	     waited_ms += 2) {
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL); /* what init left running in its group goes too */
	if (w == 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return norc_err_set(err, errlen, NORC_EPLUGIN, "check 'init' failed: plugin '%s' "
				    "(%s): init did not return within %d s; fix the plugin (init "
				    "must not block)", p->name, path, NORC_PLUGIN_INIT_TIMEOUT_S);
	}
	if (w > 0 && WIFSIGNALED(st))
		return norc_err_set(err, errlen, NORC_EPLUGIN, "check 'init' failed: plugin '%s' "
				    "(%s): init crashed (signal %d, SIG%s); fix the plugin", p->name,
				    path, WTERMSIG(st), sigabbrev_np(WTERMSIG(st)));
	return NORC_OK;
}

int norc_plugin_load_file(const char *path, char *err, size_t errlen)
{
	void *h;
	const struct norc_plugin *p;
	int rc = check(path, &h, &p, err, errlen);
	if (rc != NORC_OK)
		return rc;
	struct norc_host *host = norc_host_new(p->name);
	void *state = NULL;
	if (p->init && (rc = probe_init(p, path, err, errlen)) != NORC_OK) {
		norc_host_free(host);
		return rc; /* not dlclose()d: the probe ran its code, so keep it mapped */
	}
	if (p->init) {
		char why[256] = "";
		rc = p->init(host, norc_host_api(), &state, why, sizeof(why));
		if (rc != NORC_OK) {
			/* format first: p points into the library we are about to close */
			norc_err_set(err, errlen, NORC_EPLUGIN, "check 'init' failed: plugin '%s' "
				     "(%s): %s", p->name, path, *why ? why : norc_strerror(rc));
			norc_host_free(host);
			dlclose(h);
			return NORC_EPLUGIN;
		}
	}
	if (nreg == capreg) {
		capreg = capreg ? capreg * 2 : 8;
		reg = norc_xrealloc(reg, capreg * sizeof(*reg));
	}
	char real[PATH_MAX];
	reg[nreg++] = (struct norc_plugin_entry){
		.desc = p,
		.path = norc_xstrdup(realpath(path, real) ? real : path),
		.state = state,
		.host = host,
	};
	NORC_DEBUG("plugin %s %s %s (ABI %u.%u) loaded from %s", norc_plugin_kind_name(p->kind),
		   p->name, p->version ? p->version : "?", p->abi_major, p->abi_minor, path);
	return NORC_OK;
}

static int so_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 3 && strcmp(d->d_name + n - 3, ".so") == 0;
}

int norc_plugin_load_all(const struct norc_config *cfg)
{
	size_t ndirs;
	char **dirs = norc_plugin_dirs(cfg, &ndirs);
	int refused = 0;
	for (size_t d = 0; d < ndirs; d++) {
		struct dirent **names;
		int n = scandir(dirs[d], &names, so_filter, alphasort);
		if (n < 0) {
			if (d == 0 || errno != ENOENT)
				NORC_WARN("plugins: cannot read folder %s: %s", dirs[d], strerror(errno));
			continue;
		}
		for (int i = 0; i < n; i++) {
			char *path = norc_xasprintf("%s/%s", dirs[d], names[i]->d_name);
			char err[512];
			int rc = norc_plugin_load_file(path, err, sizeof(err));
			if (rc != NORC_OK && rc != NORC_EEXIST) {
				NORC_WARN("plugins: refused %s", err);
				refused++;
			}
			free(path);
			free(names[i]);
		}
		free(names);
	}
	norc_plugin_dirs_free(dirs, ndirs);
	return refused;
}

const struct norc_plugin_entry *norc_plugin_find(enum norc_kind kind, const char *name)
{
	for (size_t i = 0; i < nreg; i++)
		if (reg[i].desc->kind == (uint32_t)kind && strcmp(reg[i].desc->name, name) == 0)
			return &reg[i];
	return NULL;
}

size_t norc_plugin_count(void) { return nreg; }
const struct norc_plugin_entry *norc_plugin_at(size_t i) { return i < nreg ? &reg[i] : NULL; }

void norc_plugin_unload_all(void)
{
	for (size_t i = nreg; i-- > 0;) {
		if (reg[i].desc->fini)
			reg[i].desc->fini(reg[i].state);
		norc_host_free(reg[i].host);
		free(reg[i].path);
	}
	free(reg);
	reg = NULL;
	nreg = capreg = 0;
}
