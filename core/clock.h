/*
 * clock.h - time as Norc stores it: int64 microseconds since the epoch, UTC.
 * Display and parsing helpers for the CLIs. All functions are pure except now_us.
 */
#ifndef NORC_CLOCK_H
#define NORC_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define NORC_US_PER_SEC INT64_C(1000000)

int64_t norc_clock_now_us(void); /* wall clock (CLOCK_REALTIME) */
int64_t norc_clock_mono_us(void); /* monotonic, for timeouts */

/* "2026-11-24 10:00:00Z" (second precision, UTC) into buf; "-" for t == 0. */
void norc_clock_format(int64_t t_us, char *buf, size_t len);
/* ISO 8601 "2026-11-24T10:00:00.000000Z" into buf. */
void norc_clock_format_iso(int64_t t_us, char *buf, size_t len);

/* Parse a point in time relative to now_us: "now", "+90" / "-30" (seconds), "+5m" "+2h" "+1d",
 * "@EPOCHSECONDS", "YYYY-MM-DD HH:MM[:SS]" or "YYYY-MM-DDTHH:MM[:SS][Z]" (always UTC).
 * Returns NORC_OK or NORC_EINVAL. */
int norc_clock_parse(const char *s, int64_t now_us, int64_t *out_us);

/* Parse a duration "90", "90s", "5m", "2h", "1d" into seconds. NORC_OK or NORC_EINVAL. */
int norc_clock_parse_duration(const char *s, int64_t *out_s);

#endif
