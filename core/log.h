/*
 * log.h - Norc's one logging API.
 *
 * Daemon and task logs use the original's line format, in UTC:
 *     [YYYY/MM/DD HH:MM:SS.ffffff] LEVEL: message
 * CLIs log in "plain" mode to stderr ("norc: warning: message"), because a person reads them.
 * Messages follow "subsystem: object: what failed: cause". Not for use in forked children.
 */
#ifndef NORC_LOG_H
#define NORC_LOG_H

#include <norc/plugin.h>
#include <stdbool.h>
#include <stdio.h>

enum norc_log_style { NORC_LOG_PLAIN = 0, NORC_LOG_STAMPED = 1 };

/* Log to stream (borrowed; stderr by default) in the given style; echo copies stamped lines to
 * stdout (-e). Lines above max_level are dropped. */
void norc_log_setup(FILE *stream, enum norc_log_style style, enum norc_level max_level, bool echo);
void norc_log(enum norc_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void norc_logv(enum norc_level level, const char *fmt, va_list ap);
const char *norc_log_level_name(enum norc_level level); /* "INFO", ... */
/* Format "[YYYY/MM/DD HH:MM:SS.ffffff]" for t (UTC microseconds) into buf (>= 29 bytes). */
void norc_log_stamp(int64_t t_us, char *buf, size_t len);

#define NORC_ERROR(...) norc_log(NORC_LOG_ERROR, __VA_ARGS__)
#define NORC_WARN(...) norc_log(NORC_LOG_WARN, __VA_ARGS__)
#define NORC_INFO(...) norc_log(NORC_LOG_INFO, __VA_ARGS__)
#define NORC_DEBUG(...) norc_log(NORC_LOG_DEBUG, __VA_ARGS__)

#endif
