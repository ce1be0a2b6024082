/*
 * cron.h - cron expressions (the original Norc's "odwhms" encoding and its shortcuts, standard
 * 5/6-field cron, @shortcuts, @every) and their next fire time in a time zone.
 *
 * Syntax accepted by norc_cron_parse (names and keys case-insensitive):
 *  - Original Norc: o<months>d<days>w<weekdays>h<hours>m<minutes>s<seconds>, whitespace ignored,
 *    keys in any order (a later duplicate wins), each value '*' or a comma list of numbers,
 *    w 0 = MONDAY (Python's weekday()). An omitted s is ONE random second, other omitted keys
 *    are '*'; "" is o*d*w*h*m*s<random>. Chosen when the text is empty or starts with a letter.
 *  - HALFHOURLY HOURLY DAILY WEEKLY MONTHLY: the original's shortcuts, expanded with random
 *    minute/hour/day offsets to spread load (MONTHLY picks a day 1-28).
 *  - Standard cron: "min hour dom mon dow" or "sec min hour dom mon dow"; '*', a-b, *\/n, a-b/n,
 *    a/n (= a-max/n), lists, JAN-DEC, SUN-SAT, 0 and 7 are Sunday. @yearly @annually @monthly
 *    @weekly @daily @midnight @hourly (second 0). @every DURATION (90, 30s, 5m, 1h30m, 2d;
 *    1 s to under a year).
 * Day of month and day of week are ORed when both fields are restricted and ANDed when either
 * was written starting with '*' (Vixie cron's DOM_STAR/DOW_STAR, so "*\/2" counts as '*').
 * Expressions that can never fire ("0 0 30 2 *", "o2d31") are rejected.
 *
 * DST policy (the product contract):
 *  - A fire time whose local time falls in a skipped interval (spring forward) runs ONCE, at the
 *    instant of the jump (the first instant after it); several such local times in one gap give
 *    that one fire.
 *  - A fire time whose local time occurs twice (fall back) runs once, at its FIRST occurrence.
 *  - Exception: schedules whose hour field starts with '*' ('*', '*\/N'; hour_star: every hour or
 *    more often, including every-second and every-minute ones) follow absolute time: in a
 *    repeated hour they fire at both occurrences, and nothing fires for local times that do not
 *    exist. An hour field written "0-23" is not hour_star; the original's h* (or a full h list)
 *    and the shortcuts HOURLY, HALFHOURLY and @hourly are.
 * Put precisely: with W(t) = the latest wall time shown at or before instant t, an ordinary
 * schedule fires at the first instant at which W reaches each matching wall time; an hour_star
 * schedule fires at every instant whose wall time matches.
 */
#ifndef NORC_CRON_H
#define NORC_CRON_H

#include "tz.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NORC_CRON_TEXT_MAX 512 /* enough for any norc_cron_format* output */

struct norc_cron {
	int64_t every;  /* @every: period in seconds (> 0) and the sets below unused; 0: calendar */
	uint64_t sec;   /* bit n: second n (0-59) */
	uint64_t min;   /* bit n: minute n (0-59) */
	uint32_t hour;  /* bit n: hour n (0-23) */
	uint32_t dom;   /* bit n: day of month n (1-31) */
	uint16_t mon;   /* bit n: month n (1-12) */
	uint8_t dow;    /* bit n: weekday n, 0 = Sunday (0-6) */
	bool dom_star;  /* day-of-month field started with '*' (original: d* or the full list) */
	bool dow_star;  /* day-of-week field started with '*' */
	bool hour_star; /* hour field started with '*': absolute-time DST behaviour */
};

/* Parse text into *out (the caller's). rnd (may be NULL: then the "random" values are 0) draws
 * the random offsets of the original's omitted seconds and shortcuts, with rnd_ctx. Returns
 * NORC_OK or NORC_EINVAL with one line in err naming the expression and what is wrong. */
int norc_cron_parse(const char *text, uint32_t (*rnd)(void *), void *rnd_ctx, struct norc_cron *out,
                    char *err, size_t errlen);

/* 1 when a and b describe the same schedule (same sets, flags and period), else 0. */
int norc_cron_equal(const struct norc_cron *a, const struct norc_cron *b);

/* The canonical text to store, into the caller's buf: six fields "sec min hour dom mon dow",
 * lists compacted into ranges, '*' for a full range, star flags kept ("*\/2"), so that parsing it
 * gives an equal struct; "@every 90s" for periods. NORC_OK or NORC_EINVAL (buf too small;
 * NORC_CRON_TEXT_MAX always suffices). */
int norc_cron_format(const struct norc_cron *c, char *buf, size_t len);

/* The original Norc's canonical odwhms text ("o*d1w*h0m0s0": sorted lists, '*' for a full
 * range, weekdays 0 = Monday) into the caller's buf. NORC_OK, or NORC_EINVAL for @every (no
 * such form) or a too small buf. */
int norc_cron_format_original(const struct norc_cron *c, char *buf, size_t len);

/* HALFHOURLY, HOURLY, DAILY, WEEKLY or MONTHLY when c has exactly that shape (as the original's
 * pretty_name), else the canonical text. Writes into the caller's buf and returns buf. */
const char *norc_cron_pretty(const struct norc_cron *c, char *buf, size_t len);

/* The first fire time strictly after `after` (UTC seconds) in zone tz (NULL = UTC), following
 * the DST policy above. For @every N, which is a period and not calendar based, this returns
 * after + N: callers schedule those from their own start time. NORC_OK, NORC_ENOTFOUND (no
 * fire within 400 years; parse rejects expressions that never fire) or NORC_EINVAL (after out
 * of range: |after| <= 2^40). Cost: one calendar search (fields carry with lower fields reset,
 * never stepping second by second) plus an offset lookup per clock change crossed; typically
 * a quarter of a microsecond. */
int norc_cron_next(const struct norc_cron *c, const struct norc_tz *tz, int64_t after,
                   int64_t *next);

/* ISO 8601 local time with offset into the caller's buf: "2026-03-08T03:00:00-04:00",
 * "+00:00" for UTC (never "Z"), "+05:30"; ":SS" is appended to the offset only for historical
 * local mean times such as Monrovia's -00:44:30. NORC_OK or NORC_EINVAL (year outside 0-9999, or
 * buf too small). */
int norc_cron_format_time(int64_t utc, const struct norc_tz *tz, char *buf, size_t len);

/* Parse "YYYY-MM-DDTHH:MM[:SS]" (T or a space) with an optional offset (Z, +HH:MM, +HHMM,
 * +HH), local to tz (NULL = UTC) when there is none (the first occurrence of an ambiguous
 * time, the instant of the jump for a skipped one); "now"; "@EPOCHSECONDS". NORC_OK or
 * NORC_EINVAL with one line in err. */
int norc_cron_parse_time(const char *text, const struct norc_tz *tz, int64_t *utc, char *err,
                         size_t errlen);

#endif
