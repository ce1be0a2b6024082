/*
 * log.c - see log.h. One process-wide sink; single-threaded daemons need no locking.
 */
#include "log.h"
#include "clock.h"

#include <inttypes.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static FILE *sink;
static enum norc_log_style style = NORC_LOG_PLAIN;
static enum norc_level max_level = NORC_LOG_INFO;
static bool echo;
static bool sink_journal, echo_journal; /* that stream is systemd's journal */
static bool sink_failing; /* the log file refused the last write (a full disk): stderr too */

/* systemd connects a service's output to the journal and says so in $JOURNAL_STREAM
 * ("DEV:INODE" of that stream): lines then carry a <priority> prefix and no time stamp
 * (the journal has its own). */
static bool is_journal(int fd)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;
	uintmax_t dev, ino;
	if (!js || fd < 0 || sscanf(js, "%ju:%ju", &dev, &ino) != 2 || fstat(fd, &st) != 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void norc_log_setup(FILE *stream, enum norc_log_style s, enum norc_level lvl, bool e)
{
	sink = stream;
	style = s;
	max_level = lvl;
	echo = e;
	sink_journal = is_journal(fileno(stream ? stream : stderr));
	echo_journal = is_journal(STDOUT_FILENO);
}

static int priority(enum norc_level level)
{
	switch (level) {
	case NORC_LOG_ERROR: return 3;
	case NORC_LOG_WARN: return 4;
	case NORC_LOG_INFO: return 6;
	default: return 7;
	}
}

const char *norc_log_level_name(enum norc_level level)
{
	switch (level) {
	case NORC_LOG_ERROR: return "ERROR";
	case NORC_LOG_WARN: return "WARNING";
	case NORC_LOG_INFO: return "INFO";
	case NORC_LOG_DEBUG: return "DEBUG";
	}
	return "INFO";
}

void norc_log_stamp(int64_t t_us, char *buf, size_t len)
{
	time_t secs = (time_t)(t_us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(buf, len, "[%04d/%02d/%02d %02d:%02d:%02d.%06ld]", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(t_us % 1000000));
}

void norc_logv(enum norc_level level, const char *fmt, va_list ap)
{
	if (level > max_level)
		return;
	FILE *out = sink ? sink : stderr;
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one message, one line: a newline or other control character in what a client or a
	 * task sent cannot forge further log lines (norc_web's log is an audit trail) */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = *c == '\t' ? ' ' : '?';
	if (style == NORC_LOG_PLAIN) {
		if (level <= NORC_LOG_WARN)
			fprintf(out, "norc: %s: %s\n", level == NORC_LOG_ERROR ? "error" : "warning", msg);
		else
			fprintf(out, "norc: %s\n", msg);
		fflush(out);
		return;
	}
	char stamp[40];
	norc_log_stamp(norc_clock_now_us(), stamp, sizeof(stamp));
	errno = 0;
	if (sink_journal)
		fprintf(out, "<%d>%s: %s\n", priority(level), norc_log_level_name(level), msg);
	else
		fprintf(out, "%s %s: %s\n", stamp, norc_log_level_name(level), msg);
	int werr = fflush(out) == EOF || ferror(out) ? (errno ? errno : EIO) : 0;
	if (werr && out != stderr) { /* the log file is full or gone: say so where it can be seen */
		if (!sink_failing)
			fprintf(stderr, "%s WARNING: this daemon's log file cannot be written (%s); "
				"its messages go to stderr until it can\n", stamp, strerror(werr));
		sink_failing = true;
		fprintf(stderr, "%s %s: %s\n", stamp, norc_log_level_name(level), msg);
		fflush(stderr);
		clearerr(out);
	} else if (sink_failing && out != stderr) {
		sink_failing = false;
		fprintf(stderr, "%s INFO: this daemon's log file is writable again\n", stamp);
		fflush(stderr);
	}
	if (echo && out != stdout) {
		if (echo_journal)
			fprintf(stdout, "<%d>%s: %s\n", priority(level), norc_log_level_name(level),
				msg);
		else
			fprintf(stdout, "%s %s: %s\n", stamp, norc_log_level_name(level), msg);
		fflush(stdout);
	}
}

void norc_log(enum norc_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	norc_logv(level, fmt, ap);
	va_end(ap);
}
