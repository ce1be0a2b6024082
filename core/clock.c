/*
 * clock.c - see clock.h.
 */
#include "clock.h"

#include <norc/plugin.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t norc_clock_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NORC_US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t norc_clock_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NORC_US_PER_SEC + ts.tv_nsec / 1000;
}

static void split(int64_t t_us, struct tm *tm, long *frac)
{
	int64_t secs = t_us / NORC_US_PER_SEC;
	int64_t f = t_us % NORC_US_PER_SEC;
	if (f < 0) {
		f += NORC_US_PER_SEC;
		secs--;
	}
	time_t tt = (time_t)secs;
	gmtime_r(&tt, tm);
	*frac = (long)f;
}

void norc_clock_format(int64_t t_us, char *buf, size_t len)
{
	if (t_us == 0) {
		snprintf(buf, len, "-");
		return;
	}
	struct tm tm;
	long frac;
	split(t_us, &tm, &frac);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void norc_clock_format_iso(int64_t t_us, char *buf, size_t len)
{
	struct tm tm;
	long frac;
	split(t_us, &tm, &frac);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

int norc_clock_parse_duration(const char *s, int64_t *out_s)
{
	if (!s || !isdigit((unsigned char)*s))
		return NORC_EINVAL;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return NORC_EINVAL;
	int64_t mul = 1;
	if (*end) {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return NORC_EINVAL;
		}
		if (end[1])
			return NORC_EINVAL;
	}
	if (v > INT64_MAX / NORC_US_PER_SEC / mul)
		return NORC_EINVAL;
	*out_s = v * mul;
	return NORC_OK;
}

int norc_clock_parse(const char *s, int64_t now_us, int64_t *out_us)
{
	if (!s || !*s)
		return NORC_EINVAL;
	if (strcmp(s, "now") == 0) {
		*out_us = now_us;
		return NORC_OK;
	}
	if (*s == '+' || *s == '-') {
		int64_t d;
		if (norc_clock_parse_duration(s + 1, &d) != NORC_OK)
			return NORC_EINVAL;
		*out_us = now_us + (*s == '-' ? -d : d) * NORC_US_PER_SEC;
		return NORC_OK;
	}
	if (*s == '@') {
		char *end;
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (errno || *end || end == s + 1 || v < 0 || v > INT64_MAX / NORC_US_PER_SEC)
			return NORC_EINVAL;
		*out_us = v * NORC_US_PER_SEC;
		return NORC_OK;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int y, mo, d, h, mi, sec = 0, n = 0;
	char sep;
	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &n) != 6 ||
	    (sep != ' ' && sep != 'T'))
		return NORC_EINVAL;
	const char *rest = s + n;
	if (*rest == ':') {
		int m2 = 0;
		if (sscanf(rest, ":%2d%n", &sec, &m2) != 1)
			return NORC_EINVAL;
		rest += m2;
	}
	if (*rest == 'Z')
		rest++;
	if (*rest || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return NORC_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	struct tm back;
	gmtime_r(&t, &back);
	if (back.tm_mday != d) /* Feb 30 and friends */
		return NORC_EINVAL;
	*out_us = (int64_t)t * NORC_US_PER_SEC;
	return NORC_OK;
}
