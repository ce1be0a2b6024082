/*
 * doorbell.c - see doorbell.h.
 */
#include "doorbell.h"
#include "log.h"
#include "mem.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static bool fill_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return false;
	memcpy(a->sun_path, path, strlen(path) + 1);
	return true;
}

void norc_doorbell_open(const struct norc_config *cfg, int64_t queue_id, int *fd, char **path)
{
	*fd = -1;
	char *dir = norc_xasprintf("%s/doorbell", cfg->tmp_dir);
	*path = norc_xasprintf("%s/q%" PRId64 "-%ld.sock", dir, queue_id, (long)getpid());
	struct sockaddr_un a;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		NORC_DEBUG("doorbell: cannot create %s: %s; polling only", dir, strerror(errno));
	} else if (!fill_addr(&a, *path)) {
		NORC_DEBUG("doorbell: path %s is too long for a socket; polling only", *path);
	} else {
		unlink(*path);
		int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
			*fd = s;
		} else {
			NORC_DEBUG("doorbell: cannot bind %s: %s; polling only", *path, strerror(errno));
			if (s >= 0)
				close(s);
		}
	}
	free(dir);
}

void norc_doorbell_close(int fd, char *path)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	free(path);
}

char *norc_doorbell_alias(const struct norc_config *cfg, const char *path, int64_t queue_id)
{
	char *alias = norc_xasprintf("%s/doorbell/q%" PRId64 "-%ld.sock", cfg->tmp_dir, queue_id,
				     (long)getpid());
	unlink(alias);
	if (symlink(path, alias) != 0) {
		NORC_DEBUG("doorbell: cannot link %s: %s; polling only for queue #%" PRId64, alias,
			   strerror(errno), queue_id);
		free(alias);
		return NULL;
	}
	return alias;
}

void norc_doorbell_unalias(char *alias)
{
	if (alias)
		unlink(alias);
	free(alias);
}

static void ring(const struct norc_config *cfg, int64_t queue_id, const char *what)
{
	char *dir = norc_xasprintf("%s/doorbell", cfg->tmp_dir);
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "q%" PRId64 "-", queue_id);
	DIR *d = opendir(dir);
	int s = d ? socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) : -1;
	struct dirent *e;
	while (s >= 0 && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		char *p = norc_xasprintf("%s/%s", dir, e->d_name);
		struct sockaddr_un a;
		if (fill_addr(&a, p) && sendto(s, what, 1, MSG_DONTWAIT, (struct sockaddr *)&a,
					       sizeof(a)) < 0 && (errno == ECONNREFUSED ||
								  errno == ENOENT))
			unlink(p); /* its executor is gone (ENOENT: an alias to a removed bell) */
		free(p);
	}
	if (s >= 0)
		close(s);
	if (d)
		closedir(d);
	free(dir);
}

void norc_doorbell_ring(const struct norc_config *cfg, int64_t queue_id)
{
	ring(cfg, queue_id, "!");
}

void norc_doorbell_ring_request(const struct norc_config *cfg, int64_t queue_id)
{
	ring(cfg, queue_id, "r");
}

int norc_doorbell_drain(int fd)
{
	char buf[64];
	ssize_t n;
	int seen = 0;
	while (fd >= 0 && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		for (ssize_t i = 0; i < n; i++)
			seen |= buf[i] == 'r' ? NORC_BELL_REQUEST : NORC_BELL_WORK;
	return seen;
}
