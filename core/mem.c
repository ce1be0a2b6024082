/*
 * mem.c - see mem.h. Allocation failures are bugs of the environment, not of a task: we print
 * one line and abort, as every core allocation would otherwise need an error path.
 */
#include "mem.h"

#include <norc/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "norc: out of memory allocating %zu bytes\n", n);
	abort();
}

void *norc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *norc_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		oom(n * sz);
	return p;
}

void *norc_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *norc_xstrdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = norc_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

char *norc_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	char *p = norc_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int norc_err_set(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

const char *norc_strerror(int rc)
{
	switch (rc) {
	case NORC_OK: return "ok";
	case NORC_ERR: return "failed";
	case NORC_EINVAL: return "invalid argument";
	case NORC_ENOMEM: return "out of memory";
	case NORC_EAGAIN: return "nothing available now";
	case NORC_ETIMEDOUT: return "timed out";
	case NORC_EUNSUPP: return "not supported";
	case NORC_EIO: return "input/output error";
	case NORC_ECONFIG: return "configuration error";
	case NORC_EDB: return "database error";
	case NORC_ENOTFOUND: return "not found";
	case NORC_EEXIST: return "already exists";
	case NORC_EBUSY: return "busy";
	case NORC_EVERSION: return "incompatible version";
	case NORC_EPLUGIN: return "plugin check failed";
	case NORC_ECONN: return "connection failed";
	default: return "unknown error";
	}
}

char *norc_text_clip(char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return s;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--; /* s[n] continues a sequence: cut before its lead byte */
	s[n] = '\0';
	return s;
}
