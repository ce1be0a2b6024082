/*
 * mem.h - allocation that succeeds or does not return, and error-message helpers.
 *
 * norc_x* abort the process with a message on out-of-memory (Postfix mymalloc): callers never
 * check for NULL. norc_err_set formats a one-line message into a caller's buffer.
 */
#ifndef NORC_MEM_H
#define NORC_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *norc_xmalloc(size_t n);             /* caller frees with free() */
void *norc_xcalloc(size_t n, size_t sz);  /* caller frees with free() */
void *norc_xrealloc(void *p, size_t n);   /* caller frees with free() */
char *norc_xstrdup(const char *s);        /* s may be NULL -> NULL; caller frees */
char *norc_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* caller frees */

#define NORC_FREE(p) do { free(p); (p) = NULL; } while (0)

/* Format into err[errlen] (truncating); returns rc so callers can `return norc_err_set(...)`. */
int norc_err_set(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Static text for a NORC_E* code. Never NULL. */
const char *norc_strerror(int rc);

/* Cut s in place to at most max bytes without splitting a UTF-8 sequence (MariaDB in strict
 * mode refuses both an over-long value and a broken character). Returns s. */
char *norc_text_clip(char *s, size_t max);

#endif
