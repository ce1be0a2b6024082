/*
 * tz.h - IANA time zones without global state: TZif files (v1, v2, v3 and later) read from
 * /usr/share/zoneinfo (or $NORC_ZONEINFO_DIR), with the footer's POSIX TZ rule evaluated for
 * any year after the last stored transition. No setenv("TZ")/tzset: a scheduler holds many
 * zones at once. A loaded zone is immutable and may be shared between threads.
 *
 * Times are int64 seconds since the epoch, UTC (POSIX seconds: leap-second records in "right/"
 * files are applied to the stored transitions, so those zones agree with the system clock).
 * An offset is seconds east of UTC (New York in winter: -18000). Every function accepts
 * tz == NULL as UTC. Valid instants are |utc| <= NORC_TZ_LIMIT; others give NORC_EINVAL.
 */
#ifndef NORC_TZ_H
#define NORC_TZ_H

#include <stddef.h>
#include <stdint.h>

#define NORC_TZ_LIMIT      (INT64_C(1) << 42) /* about 139,000 years either side of 1970 */
#define NORC_TZ_MAX_OFFSET 93600              /* |offset| <= 26 h; files beyond are rejected */

struct norc_tz;

/* Load zone `name` ("Europe/Berlin"; "UTC" is built in and needs no file). Names are checked:
 * no leading '/', no "..", only letters, digits and _ + - /. On success *out is the caller's
 * (free with norc_tz_free). Returns NORC_OK, NORC_ENOTFOUND (no such zone), NORC_EINVAL (bad
 * name, or not a valid TZif file) or NORC_EIO, with one line in err naming the zone. */
int norc_tz_load(const char *name, struct norc_tz **out, char *err, size_t errlen);

/* Free a zone from norc_tz_load; NULL is a no-op. */
void norc_tz_free(struct norc_tz *tz);

/* The name the zone was loaded with; owned by tz. */
const char *norc_tz_name(const struct norc_tz *tz);

/* The UTC offset in effect at instant utc. NORC_OK or NORC_EINVAL (utc out of range). */
int norc_tz_offset_at(const struct norc_tz *tz, int64_t utc, int32_t *offset_s);

/* The first instant T > utc at which the offset changes (changes of abbreviation or DST flag
 * alone are not transitions here): *when = T, *off_before = offset at T - 1, *off_after =
 * offset at T. NORC_OK, NORC_ENOTFOUND (the offset never changes again) or NORC_EINVAL. */
int norc_tz_next_transition(const struct norc_tz *tz, int64_t utc, int64_t *when,
                            int32_t *off_before, int32_t *off_after);

/* The first instant whose local wall time (utc + offset) is >= local, where local is a wall
 * time counted in seconds as if it were UTC. So an ambiguous wall time (fall back) gives its
 * first occurrence and a skipped one (spring forward) gives the instant of the jump.
 * NORC_OK or NORC_EINVAL. */
int norc_tz_local_to_utc(const struct norc_tz *tz, int64_t local, int64_t *utc);

/* Calendar helpers shared with cron.c (proleptic Gregorian, H. Hinnant's algorithms). */
int64_t norc_tz_days_from_civil(int64_t y, int m, int d);
void norc_tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
