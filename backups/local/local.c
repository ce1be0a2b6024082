/*
 * local.c - LocalBackup: a log-backup store in a local directory, for single hosts and tests.
 *
 * Settings: dir (required, absolute: objects are DIR/KEY, directories made as needed);
 * tmp_dir (accepted so that a config can switch between S3 and LocalBackup; unused here,
 * since each object is staged next to its final name so that the rename is atomic).
 *
 * Objects are gzip-compressed like S3's, written to a temporary name in the object's own
 * directory, fsync'ed and renamed over the final name, then the directory is fsync'ed: a
 * reader sees the old object or the new one, never half of one. Keys are refused when they
 * start with '/', or have an empty, "." or ".." segment. Below DIR the path is walked with
 * openat(O_NOFOLLOW), so a symlink planted inside the store cannot lead outside it.
 * Every op runs in a child process the core forks for it. Built with the public SDK only.
 */
#include "gz.h"
#include "settings.h"

#include <norc/backup.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (64 * 1024)

static const struct norc_host_api *api;

struct local {
	char *dir; /* absolute, no trailing '/' */
};

static const char *const local_keys[] = {"dir", "tmp_dir", NULL};

static int local_init(struct norc_host *h, const struct norc_host_api *a, void **state, char *err,
		      size_t errlen)
{
	(void)h;
	(void)err;
	(void)errlen;
	api = a;
	*state = NULL;
	return NORC_OK;
}

static int local_open(void *state, const struct norc_params *set, void **handle, char *err,
		      size_t errlen)
{
	(void)state;
	*handle = NULL;
	int rc = norc_settings_check_keys(api, set, "LocalBackup", local_keys, err, errlen);
	if (rc != NORC_OK)
		return rc;
	const char *dir = api->param_get(set, "dir");
	if (!dir || dir[0] != '/') {
		snprintf(err, errlen, "LocalBackup needs dir, an absolute path: set dir = "
			 "\"/var/lib/norc/backup\" in the backup settings%s%s%s",
			 dir ? " (got '" : "", dir ? dir : "", dir ? "')" : "");
		return NORC_ECONFIG;
	}
	struct local *l = api->alloc(sizeof(*l));
	l->dir = api->strdup(dir);
	size_t n = strlen(l->dir);
	while (n > 1 && l->dir[n - 1] == '/')
		l->dir[--n] = '\0';
	*handle = l;
	return NORC_OK;
}

static void local_close(void *handle)
{
	struct local *l = handle;
	if (!l)
		return;
	api->free(l->dir);
	api->free(l);
}

static int local_fail(const char *op, const char *key, int rc, char *err, size_t errlen,
		      const char *what, int errnum)
{
	snprintf(err, errlen, "LocalBackup %s '%s': %s%s%s", op, key, what, errnum ? ": " : "",
		 errnum ? strerror(errnum) : "");
	return rc;
}

/* Keys are relative paths of plain segments. */
static bool local_key_ok(const char *key)
{
	if (!*key || *key == '/' || strlen(key) > 4096)
		return false;
	for (const char *seg = key; seg;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0 || n > NAME_MAX || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		seg = end ? end + 1 : NULL;
	}
	return true;
}

/* mkdir -p of the store's own directory (an absolute path from the config). */
static int mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(path, 0750) != 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* Open the directory that holds key's object (making the missing ones when create) into
 * *dfd (caller closes); *base is the key's last segment. ENOTFOUND when it does not exist. */
static int local_parent(const struct local *l, const char *op, const char *key, bool create,
			int *dfd, const char **base, char *err, size_t errlen)
{
	int fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create && mkdir_p(l->dir) == 0)
		fd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !create)
		return local_fail(op, key, NORC_ENOTFOUND, err, errlen, "no such object", 0);
	if (fd < 0)
		return local_fail(op, key, NORC_EIO, err, errlen, l->dir, errno);
	const char *seg = key;
	for (const char *end; (end = strchr(seg, '/')); seg = end + 1) {
		char name[NAME_MAX + 1];
		snprintf(name, sizeof(name), "%.*s", (int)(end - seg), seg);
		if (create && mkdirat(fd, name, 0750) != 0 && errno != EEXIST) {
			int e = errno;
			close(fd);
			return local_fail(op, key, NORC_EIO, err, errlen, "cannot make a directory",
					  e);
		}
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0 && !create && (e == ENOENT || e == ENOTDIR))
			return local_fail(op, key, NORC_ENOTFOUND, err, errlen, "no such object",
					  0);
		if (next < 0)
			return local_fail(op, key, NORC_EIO, err, errlen,
					  "cannot open its directory", e);
		fd = next;
	}
	*dfd = fd;
	*base = seg;
	return NORC_OK;
}

/* A new file named ".BASE.XXXXXX" in dfd, open for writing: *fd, and its name in tmp. */
static int local_tmp(int dfd, const char *base, char *tmp, size_t len, int *fd)
{
	for (int i = 0; i < 100; i++) {
		unsigned long long r = 0;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (unsigned long long)getpid() * 1000003ull + (unsigned long long)i;
		snprintf(tmp, len, ".%.200s.%06llx", base, r & 0xffffffull);
		*fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (*fd >= 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

static int local_put(void *handle, const char *local_path, const char *key, char *err,
		     size_t errlen)
{
	struct local *l = handle;
	if (!local_key_ok(key))
		return local_fail("put", key, NORC_EINVAL, err, errlen, "not a valid key", 0);
	int src = open(local_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (src < 0)
		return local_fail("put", key, errno == ENOENT ? NORC_ENOTFOUND : NORC_EIO, err,
				  errlen, local_path, errno);
	int dfd, out = -1;
	const char *base;
	int rc = local_parent(l, "put", key, true, &dfd, &base, err, errlen);
	if (rc != NORC_OK) {
		close(src);
		return rc;
	}
	char tmp[NAME_MAX + 1], why[512];
	if (local_tmp(dfd, base, tmp, sizeof(tmp), &out) != 0) {
		tmp[0] = '\0'; /* not ours */
		rc = local_fail("put", key, NORC_EIO, err, errlen, "cannot create a temporary file",
				errno);
		goto done;
	}
	rc = norc_gz_compress(src, out, NULL, NULL, NULL, why, sizeof(why));
	if (rc != NORC_OK) {
		local_fail("put", key, rc, err, errlen, why, 0);
		goto done;
	}
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		rc = local_fail("put", key, NORC_EIO, err, errlen, "cannot write", errno);
		goto done;
	}
	out = -1;
	if (renameat(dfd, tmp, dfd, base) != 0) {
		rc = local_fail("put", key, NORC_EIO, err, errlen, "cannot rename into place",
				errno);
		goto done;
	}
	tmp[0] = '\0'; /* renamed: nothing to remove */
	if (fsync(dfd) != 0)
		rc = local_fail("put", key, NORC_EIO, err, errlen, "cannot sync the directory",
				errno);
done:
	if (out >= 0)
		close(out);
	if (rc != NORC_OK && tmp[0])
		unlinkat(dfd, tmp, 0);
	close(dfd);
	close(src);
	return rc;
}

static int local_get(void *handle, const char *key, int fd, char *err, size_t errlen)
{
	struct local *l = handle;
	if (!local_key_ok(key))
		return local_fail("get", key, NORC_EINVAL, err, errlen, "not a valid key", 0);
	int dfd;
	const char *base;
	int rc = local_parent(l, "get", key, false, &dfd, &base, err, errlen);
	if (rc != NORC_OK)
		return rc;
	int in = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	int e = errno;
	close(dfd);
	if (in < 0 && e == ENOENT)
		return local_fail("get", key, NORC_ENOTFOUND, err, errlen, "no such object", 0);
	if (in < 0)
		return local_fail("get", key, NORC_EIO, err, errlen, "cannot open", e);
	struct norc_gz_decoder dec;
	char why[512];
	unsigned char *buf = malloc(BLOCK);
	rc = norc_gz_decoder_init(&dec, fd);
	if (rc != NORC_OK || !buf) {
		rc = local_fail("get", key, NORC_ENOMEM, err, errlen, "out of memory", 0);
		goto done;
	}
	for (;;) {
		ssize_t n = read(in, buf, BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = local_fail("get", key, NORC_EIO, err, errlen, "cannot read", errno);
			goto done;
		}
		if (n == 0)
			break;
		rc = norc_gz_decoder_write(&dec, buf, (size_t)n, why, sizeof(why));
		if (rc != NORC_OK) {
			local_fail("get", key, rc, err, errlen, why, 0);
			goto done;
		}
	}
	rc = norc_gz_decoder_finish(&dec, why, sizeof(why));
	if (rc != NORC_OK)
		local_fail("get", key, rc, err, errlen, why, 0);
done:
	norc_gz_decoder_free(&dec);
	free(buf);
	close(in);
	return rc;
}

static int local_exists(void *handle, const char *key, bool *exists, char *err, size_t errlen)
{
	struct local *l = handle;
	if (!local_key_ok(key))
		return local_fail("exists", key, NORC_EINVAL, err, errlen, "not a valid key", 0);
	int dfd;
	const char *base;
	*exists = false;
	int rc = local_parent(l, "exists", key, false, &dfd, &base, err, errlen);
	if (rc == NORC_ENOTFOUND)
		return NORC_OK;
	if (rc != NORC_OK)
		return rc;
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		*exists = S_ISREG(st.st_mode);
	else if (errno != ENOENT)
		rc = local_fail("exists", key, NORC_EIO, err, errlen, "cannot stat", errno);
	close(dfd);
	return rc;
}

static int local_del(void *handle, const char *key, char *err, size_t errlen)
{
	struct local *l = handle;
	if (!local_key_ok(key))
		return local_fail("del", key, NORC_EINVAL, err, errlen, "not a valid key", 0);
	int dfd;
	const char *base;
	int rc = local_parent(l, "del", key, false, &dfd, &base, err, errlen);
	if (rc == NORC_ENOTFOUND)
		return NORC_OK; /* deleting what is not there is done */
	if (rc != NORC_OK)
		return rc;
	if (unlinkat(dfd, base, 0) != 0 && errno != ENOENT)
		rc = local_fail("del", key, NORC_EIO, err, errlen, "cannot remove", errno);
	close(dfd);
	return rc;
}

static const struct norc_backup_ops local_ops = {
	.struct_size = sizeof(struct norc_backup_ops),
	.open = local_open,
	.close = local_close,
	.put = local_put,
	.get = local_get,
	.exists = local_exists,
	.del = local_del,
};

NORC_PLUGIN_DEFINE(NORC_KIND_BACKUP, 0, "LocalBackup", "1.0",
		   "log backup into a local directory (gzip objects, atomic writes)", local_init,
		   NULL, &local_ops);
