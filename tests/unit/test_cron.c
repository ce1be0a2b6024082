/*
 * test_cron.c - time zones (TZif loading, corrupt files, offsets against glibc for every zone)
 * and cron expressions: the original Norc encoding and its fixed bugs, standard syntax, the
 * canonical text round trip, next fire times across DST changes, a brute-force cross-check
 * against an independent reference built on glibc's localtime_r, and a micro benchmark.
 */
#include "cron.h"
#include "tz.h"

#include "unit.h"

#include <check.h>
#include <dirent.h>
#include <norc/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define YEAR_SECONDS_TEST INT64_C(31536000)

/* ---- helpers ----------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint32_t rnd_cb(void *ctx)
{
	return (uint32_t)(rng_next(ctx) >> 32);
}

static uint32_t fixed_cb(void *ctx)
{
	return *(uint32_t *)ctx;
}

static int rr(uint64_t *s, int n) /* 0 .. n-1 */
{
	return (int)(rng_next(s) % (uint64_t)n);
}

static struct norc_tz *zone(const char *name)
{
	struct norc_tz *tz = NULL;
	char err[256] = "";
	int rc = norc_tz_load(name, &tz, err, sizeof(err));
	ck_assert_msg(rc == 0, "load %s: %d %s", name, rc, err);
	return tz;
}

static struct norc_cron parse(const char *text)
{
	struct norc_cron c;
	char err[256] = "";
	uint64_t seed = 1;
	int rc = norc_cron_parse(text, rnd_cb, &seed, &c, err, sizeof(err));
	ck_assert_msg(rc == 0, "parse '%s': %d %s", text, rc, err);
	return c;
}

static int64_t at(const char *iso, const struct norc_tz *tz)
{
	int64_t t = 0;
	char err[256] = "";
	int rc = norc_cron_parse_time(iso, tz, &t, err, sizeof(err));
	ck_assert_msg(rc == 0, "parse time '%s': %s", iso, err);
	return t;
}

static const char *iso(int64_t t, const struct norc_tz *tz, char *buf)
{
	if (norc_cron_format_time(t, tz, buf, 64) != 0)
		snprintf(buf, 64, "@%lld?", (long long)t);
	return buf;
}

static long gmtoff_at(int64_t t) /* glibc's offset under the TZ environment variable */
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	return tm.tm_gmtoff;
}

/* ---- time zones -------------------------------------------------------------------------- */

START_TEST(tz_names_and_errors)
{
	struct norc_tz *tz = NULL;
	char err[256];
	unsetenv("NORC_ZONEINFO_DIR");
	ck_assert_int_eq(norc_tz_load("Foo/Bar", &tz, err, sizeof(err)), NORC_ENOTFOUND);
	ck_assert_str_eq(err, "unknown time zone 'Foo/Bar': not found under /usr/share/zoneinfo; "
	                      "use an IANA name such as Europe/Berlin");
	ck_assert_ptr_null(tz);
	const char *bad[] = {"../etc/passwd",  "/etc/localtime",  "Europe/../../etc",
	                     "Europe//Berlin", "Europe/",         "",
	                     "Europe/Ber lin", "Europe/Berlin\n", "a.b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(norc_tz_load(bad[i], &tz, err, sizeof(err)), NORC_EINVAL);
		ck_assert_msg(strstr(err, "invalid time zone name") && strstr(err, "Europe/Berlin"),
		              "%s", err);
	}
	ck_assert_int_eq(norc_tz_load("America", &tz, err, sizeof(err)), NORC_ENOTFOUND);
	/* UTC needs no file */
	setenv("NORC_ZONEINFO_DIR", "/nonexistent", 1);
	tz = zone("UTC");
	ck_assert_str_eq(norc_tz_name(tz), "UTC");
	int32_t off = 1;
	ck_assert_int_eq(norc_tz_offset_at(tz, 1700000000, &off), 0);
	ck_assert_int_eq(off, 0);
	int64_t when;
	int32_t ob, oa;
	ck_assert_int_eq(norc_tz_next_transition(tz, 0, &when, &ob, &oa), NORC_ENOTFOUND);
	norc_tz_free(tz);
	ck_assert_int_eq(norc_tz_load("Europe/Berlin", &tz, err, sizeof(err)), NORC_ENOTFOUND);
	ck_assert_msg(strstr(err, "under /nonexistent;"), "%s", err);
	unsetenv("NORC_ZONEINFO_DIR");
	tz = zone("Europe/Berlin");
	ck_assert_str_eq(norc_tz_name(tz), "Europe/Berlin");
	ck_assert_int_eq(norc_tz_offset_at(tz, at("2026-01-15T12:00:00Z", NULL), &off), 0);
	ck_assert_int_eq(off, 3600);
	ck_assert_int_eq(norc_tz_offset_at(tz, at("2026-07-15T12:00:00Z", NULL), &off), 0);
	ck_assert_int_eq(off, 7200);
	ck_assert_int_eq(
	    norc_tz_next_transition(tz, at("2026-01-01T00:00:00Z", NULL), &when, &ob, &oa), 0);
	ck_assert_int_eq(when, at("2026-03-29T01:00:00Z", NULL));
	ck_assert_int_eq(ob, 3600);
	ck_assert_int_eq(oa, 7200);
	/* far beyond the stored transitions: the footer rule */
	ck_assert_int_eq(
	    norc_tz_next_transition(tz, at("2399-06-01T00:00:00Z", NULL), &when, &ob, &oa), 0);
	ck_assert_int_eq(when, at("2399-10-31T01:00:00Z", NULL));
	ck_assert_int_eq(norc_tz_offset_at(tz, INT64_MAX, &off), NORC_EINVAL);
	norc_tz_free(tz);
	norc_tz_free(NULL);
	/* right/ zones count leap seconds; their changes still happen at the same POSIX instant */
	if (access("/usr/share/zoneinfo/right/Europe/Berlin", R_OK) == 0) {
		tz = zone("right/Europe/Berlin");
		ck_assert_int_eq(
		    norc_tz_next_transition(tz, at("2016-01-01T00:00:00Z", NULL), &when, &ob, &oa),
		    0);
		ck_assert_int_eq(when, at("2016-03-27T01:00:00Z", NULL));
		ck_assert_int_eq(
		    norc_tz_next_transition(tz, at("2026-01-01T00:00:00Z", NULL), &when, &ob, &oa),
		    0);
		ck_assert_int_eq(when, at("2026-03-29T01:00:00Z", NULL));
		norc_tz_free(tz);
	}
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	char *b = malloc(1 << 20);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static void spit(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Load what is in dir/X; must not crash; if it loads, it must answer without hanging. */
static int try_load(const char *dir, const void *data, size_t len, char *err, size_t errlen)
{
	spit(dir, "X", data, len);
	struct norc_tz *tz = NULL;
	int rc = norc_tz_load("X", &tz, err, errlen);
	if (rc == 0) {
		int64_t t, when, nx;
		int32_t off, ob, oa;
		for (t = -INT64_C(4000000000); t < INT64_C(6000000000); t += INT64_C(123456789)) {
			ck_assert_int_eq(norc_tz_offset_at(tz, t, &off), 0);
			norc_tz_next_transition(tz, t, &when, &ob, &oa);
		}
		struct norc_cron c = parse("0 30 2 * * *"), d = parse("*/7 * * * * *");
		norc_cron_next(&c, tz, 1700000000, &nx);
		norc_cron_next(&d, tz, 1700000000, &nx);
		norc_tz_free(tz);
	} else {
		ck_assert_ptr_null(tz);
		ck_assert_msg(strstr(err, "time zone 'X'"), "%s", err);
	}
	return rc;
}

START_TEST(tz_corrupt_files)
{
	char dir[] = "/tmp/norc-tz-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("NORC_ZONEINFO_DIR", dir, 1);
	size_t len;
	unsigned char *good = (unsigned char *)slurp("/usr/share/zoneinfo/America/New_York", &len);
	unsigned char *b = malloc(len + 64);
	char err[512];

	ck_assert_int_eq(try_load(dir, good, len, err, sizeof(err)), 0);
	/* every truncation is an error, never a crash */
	for (size_t n = 0; n < len; n++) {
		int rc = try_load(dir, good, n, err, sizeof(err));
		ck_assert_msg(rc == NORC_EINVAL, "truncated to %zu: %d", n, rc);
		ck_assert_msg(strstr(err, "is not a valid TZif file"), "%s", err);
	}
	/* bad magic, bad counts (v1 header at 20.., v2 header after the v1 data) */
	memcpy(b, good, len);
	b[0] = 'X';
	ck_assert_int_eq(try_load(dir, b, len, err, sizeof(err)), NORC_EINVAL);
	ck_assert_msg(strstr(err, "bad magic"), "%s", err);
	for (int field = 0; field < 6; field++) {
		uint32_t vals[] = {0xffffffffu, 0x7fffffffu, 100001u, 257u, 0u, 1u};
		for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			memcpy(b, good, len);
			put32(b + 20 + 4 * field, vals[v]);
			try_load(dir, b, len, err, sizeof(err));
		}
	}
	memcpy(b, good, len);
	put32(b + 36, 0); /* no local time types */
	ck_assert_int_eq(try_load(dir, b, len, err, sizeof(err)), NORC_EINVAL);
	memcpy(b, good, len);
	put32(b + 32, 0xfffffff0u); /* huge transition count */
	ck_assert_int_eq(try_load(dir, b, len, err, sizeof(err)), NORC_EINVAL);
	/* footer: broken or missing */
	memcpy(b, good, len);
	b[len - 2] = '!';
	ck_assert_int_eq(try_load(dir, b, len, err, sizeof(err)), NORC_EINVAL);
	ck_assert_msg(strstr(err, "footer"), "%s", err);
	memcpy(b, good, len);
	b[len - 1] = 'x';
	ck_assert_int_eq(try_load(dir, b, len, err, sizeof(err)), NORC_EINVAL);
	/* random byte flips: error or a zone that still answers */
	uint64_t seed = 7;
	for (int i = 0; i < 3000; i++) {
		memcpy(b, good, len);
		for (int k = 0; k < 1 + rr(&seed, 4); k++)
			b[rr(&seed, (int)len)] = (unsigned char)rr(&seed, 256);
		try_load(dir, b, len, err, sizeof(err));
	}
	/* a v1-only file (the first block of a real one) works */
	uint32_t tc = 0, ty = 0, ch = 0, lp = 0, is = 0, iu = 0;
	iu = (uint32_t)good[20] << 24 | (uint32_t)good[21] << 16 | good[22] << 8 | good[23];
	is = (uint32_t)good[24] << 24 | (uint32_t)good[25] << 16 | good[26] << 8 | good[27];
	lp = (uint32_t)good[28] << 24 | (uint32_t)good[29] << 16 | good[30] << 8 | good[31];
	tc = (uint32_t)good[32] << 24 | (uint32_t)good[33] << 16 | good[34] << 8 | good[35];
	ty = (uint32_t)good[36] << 24 | (uint32_t)good[37] << 16 | good[38] << 8 | good[39];
	ch = (uint32_t)good[40] << 24 | (uint32_t)good[41] << 16 | good[42] << 8 | good[43];
	size_t v1 = 44 + tc * 5 + ty * 6 + ch + lp * 8 + is + iu;
	memcpy(b, good, v1);
	b[4] = 0;
	ck_assert_int_eq(try_load(dir, b, v1, err, sizeof(err)), 0);
	struct norc_tz *tz = zone("X");
	int32_t off;
	ck_assert_int_eq(norc_tz_offset_at(tz, at("2020-07-01T00:00:00Z", NULL), &off), 0);
	ck_assert_int_eq(off, -14400);
	norc_tz_free(tz);
	/* too large, a directory, not TZif at all */
	unsigned char *big = calloc(1, (1 << 20) + 10);
	memcpy(big, good, len);
	ck_assert_int_eq(try_load(dir, big, (1 << 20) + 10, err, sizeof(err)), NORC_EIO);
	free(big);
	ck_assert_int_eq(try_load(dir, "hello\n", 6, err, sizeof(err)), NORC_EINVAL);
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/D", dir);
	mkdir(sub, 0700);
	ck_assert_int_eq(norc_tz_load("D", &tz, err, sizeof(err)), NORC_ENOTFOUND);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/X", dir);
	unlink(sub);
	rmdir(dir);
	unsetenv("NORC_ZONEINFO_DIR");
	free(b);
	free(good);
}
END_TEST

/* A TZif file with no transitions whose footer is `posix`: the footer rules all instants.
 * glibc reads the same string from TZ, so the two evaluations must agree. */
static size_t posix_tzif(unsigned char *b, char version, int32_t std_off, const char *posix)
{
	size_t n = 0;
	for (int block = 0; block < 2; block++) {
		memset(b + n, 0, 44);
		memcpy(b + n, "TZif", 4);
		b[n + 4] = (unsigned char)version;
		put32(b + n + 36, 1); /* one type */
		put32(b + n + 40, 4); /* "XXX\0" */
		n += 44;
		put32(b + n, (uint32_t)std_off);
		b[n + 4] = 0;
		b[n + 5] = 0;
		memcpy(b + n + 6, "XXX", 4);
		n += 10;
	}
	n += (size_t)sprintf((char *)b + n, "\n%s\n", posix);
	return n;
}

START_TEST(tz_posix_footer)
{
	static const struct {
		const char *tz;
		int32_t std_off;
	} rules[] = {
	    {"EST5EDT,M3.2.0,M11.1.0", -18000},
	    {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", -7200},              /* negative time (Nuuk) */
	    {"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", 45900}, /* Chatham */
	    {"<-04>4<-03>,M9.1.6/24,M4.1.6/24", -14400},             /* 24:00 (Santiago) */
	    {"IST-1GMT0,M10.5.0,M3.5.0/1", 3600},                    /* negative DST (Dublin) */
	    {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 37800},         /* 30 minutes (Lord Howe) */
	    {"AAA-10BBB,J60/26,J300/-1", 36000}, /* Julian, Feb 29 not counted */
	    {"AAA3BBB,J2/0,J364/23", -10800},
	    {"CCC-1DDD-2,59/3,250/4", 3600}, /* zero-based, Feb 29 counted */
	    {"CCC-1DDD-2,1,364", 3600},
	    {"EEE+2FFF+1:30,M1.2.0/-30,M12.3.6/30", -7200}, /* times beyond a day */
	    {"EEE-2FFF,M2.5.0/100,M11.1.3/-100", 7200},
	    {"<-03>3<-02>,M3.5.0/-2:30:15,M10.5.0/-1:00:30", -10800},
	    {"<+0330>-3:30", 12600},
	    {"<-00>0", 0},
	    {"XXX-5:45", 20700},
	};
	char dir[] = "/tmp/norc-tzp-XXXXXX", err[512];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("NORC_ZONEINFO_DIR", dir, 1);
	unsigned char b[512];
	uint64_t seed = 31;
	int compared = 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		size_t n = posix_tzif(b, i % 2 ? '3' : '2', rules[i].std_off, rules[i].tz);
		spit(dir, "P", b, n);
		struct norc_tz *tz = NULL;
		ck_assert_msg(norc_tz_load("P", &tz, err, sizeof(err)) == 0, "%s: %s", rules[i].tz,
		              err);
		setenv("TZ", rules[i].tz, 1);
		tzset();
		for (int k = 0; k < 3000; k++) {
			int64_t t =
			    (int64_t)(rng_next(&seed) % UINT64_C(4102444800)); /* 1970-2100 */
			int32_t off, ob, oa;
			int64_t when;
			ck_assert_int_eq(norc_tz_offset_at(tz, t, &off), 0);
			ck_assert_msg(off == gmtoff_at(t), "%s at %lld: %d, glibc %ld", rules[i].tz,
			              (long long)t, off, gmtoff_at(t));
			int rc = norc_tz_next_transition(tz, t, &when, &ob, &oa);
			if (rc == NORC_ENOTFOUND) {
				ck_assert_int_eq(gmtoff_at(t + 400 * 86400), off);
				continue;
			}
			ck_assert_int_eq(rc, 0);
			ck_assert_msg(when > t && when - t < 400 * 86400, "%s", rules[i].tz);
			ck_assert_msg(ob == off && gmtoff_at(when - 1) == ob &&
			                  gmtoff_at(when) == oa &&
			                  gmtoff_at(t + (when - t) / 2) == ob && ob != oa,
			              "%s: transition at %lld after %lld", rules[i].tz,
			              (long long)when, (long long)t);
			compared++;
		}
		norc_tz_free(tz);
	}
	/* Rules whose changes cross New Year (glibc evaluates only the UTC year's rules there,
	 * so these are checked by hand): DST from Jan 1 00:00 to Dec 31 23:00, and all year. */
	struct norc_tz *tz = NULL;
	int32_t off, ob, oa;
	int64_t when;
	spit(dir, "P", b, posix_tzif(b, '3', -10800, "AAA3BBB,J1/0,J365/23"));
	ck_assert_int_eq(norc_tz_load("P", &tz, err, sizeof(err)), 0);
	ck_assert_int_eq(norc_tz_offset_at(tz, at("1986-01-01T00:30:00Z", NULL), &off), 0);
	ck_assert_int_eq(off, -7200);
	ck_assert_int_eq(norc_tz_offset_at(tz, at("1986-01-01T02:00:00Z", NULL), &off), 0);
	ck_assert_int_eq(off, -10800);
	ck_assert_int_eq(norc_tz_offset_at(tz, at("1986-01-01T03:00:00Z", NULL), &off), 0);
	ck_assert_int_eq(off, -7200);
	ck_assert_int_eq(
	    norc_tz_next_transition(tz, at("1985-06-01T00:00:00Z", NULL), &when, &ob, &oa), 0);
	ck_assert_int_eq(when, at("1986-01-01T01:00:00Z", NULL));
	norc_tz_free(tz);
	spit(dir, "P", b, posix_tzif(b, '2', -10800, "AAA3BBB,0/0,J365/25"));
	ck_assert_int_eq(norc_tz_load("P", &tz, err, sizeof(err)), 0);
	for (int64_t t = 0; t < INT64_C(4102444800); t += 86400 * 7 + 3601) {
		ck_assert_int_eq(norc_tz_offset_at(tz, t, &off), 0);
		ck_assert_int_eq(off, -7200);
		ck_assert_int_eq(norc_tz_next_transition(tz, t, &when, &ob, &oa), NORC_ENOTFOUND);
	}
	struct norc_cron c = parse("0 0 0 1 1 *");
	ck_assert_int_eq(norc_cron_next(&c, tz, 0, &when), 0);
	ck_assert_int_eq(when, at("1970-01-01T02:00:00Z", NULL));
	norc_tz_free(tz);
	/* malformed footers are errors */
	const char *badrules[] = {"EST",
	                          "EST5EDT,M3.2.0",
	                          "EST5EDT,M13.2.0,M11.1.0",
	                          "EST5EDT,M3.6.0,M11.1.0",
	                          "EST5EDT,J0,J365",
	                          "EST5EDT,366,0",
	                          "EST5EDT,M3.2.0/168,M11.1.0",
	                          "EST25",
	                          "<EST5",
	                          "E5",
	                          "EST5EDT,",
	                          "EST5EDT4junk"};
	for (size_t i = 0; i < sizeof(badrules) / sizeof(badrules[0]); i++) {
		size_t n = posix_tzif(b, '2', 0, badrules[i]);
		ck_assert_msg(try_load(dir, b, n, err, sizeof(err)) == NORC_EINVAL, "%s accepted",
		              badrules[i]);
		ck_assert_msg(strstr(err, "bad POSIX TZ footer"), "%s", err);
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/P", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/X", dir);
	unlink(path);
	rmdir(dir);
	unsetenv("NORC_ZONEINFO_DIR");
	unsetenv("TZ");
	tzset();
	printf("tz: %d footer transitions equal to glibc's\n", compared);
}
END_TEST

/* Every zone on the system loads, agrees with glibc on offsets, and cron answers promptly. */
static int zone_count;

static void walk(const char *root, const char *rel, char (*names)[128], int *n, int max)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char r[256], p[700];
		if (snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof(r))
			continue; /* no zone name is that long */
		snprintf(p, sizeof(p), "%s/%s", root, r);
		struct stat st, lst;
		if (lstat(p, &lst) != 0 || stat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (!S_ISLNK(lst.st_mode)) /* posix/ holds links back to the tree */
				walk(root, r, names, n, max);
			continue;
		}
		char magic[4] = {0};
		FILE *f = fopen(p, "rb");
		if (!f)
			continue;
		size_t got = fread(magic, 1, 4, f);
		fclose(f);
		if (got == 4 && memcmp(magic, "TZif", 4) == 0 && *n < max && strlen(r) < 128)
			memcpy(names[(*n)++], r, strlen(r) + 1);
	}
	closedir(d);
}

START_TEST(tz_every_zone)
{
	int max = 4000, n = 0;
	char(*names)[128] = malloc((size_t)max * 128);
	walk("/usr/share/zoneinfo", "", names, &n, max);
	ck_assert_msg(n > 400, "only %d zones found", n);
	struct norc_cron c1 = parse("0 30 2 * * *"), c2 = parse("* * * * * *");
	const int64_t starts[] = {0, 946684800, 1772935200, 1792000000, 2208988800, 4102444800};
	uint64_t seed = 99;
	int compared = 0;
	for (int i = 0; i < n; i++) {
		struct norc_tz *tz = zone(names[i]);
		for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
			int64_t nx;
			ck_assert_int_eq(norc_cron_next(&c1, tz, starts[s], &nx), 0);
			ck_assert_msg(nx > starts[s] && nx < starts[s] + 3 * 86400, "%s", names[i]);
			ck_assert_int_eq(norc_cron_next(&c2, tz, starts[s], &nx), 0);
			ck_assert_msg(nx > starts[s] && nx <= starts[s] + 86400 + 1, "%s",
			              names[i]);
		}
		if (strncmp(names[i], "right/", 6) != 0) { /* glibc reads right/ as TAI-based */
			setenv("TZ", names[i], 1);
			tzset();
			for (int k = 0; k < 60; k++) {
				int64_t t = -INT64_C(2208988800) +
				            (int64_t)(rng_next(&seed) % UINT64_C(6311433600));
				time_t tt = (time_t)t;
				struct tm tm;
				localtime_r(&tt, &tm);
				int32_t off;
				ck_assert_int_eq(norc_tz_offset_at(tz, t, &off), 0);
				ck_assert_msg(off == tm.tm_gmtoff, "%s at %lld: %d, glibc %ld",
				              names[i], (long long)t, off, tm.tm_gmtoff);
				compared++;
			}
		}
		norc_tz_free(tz);
	}
	unsetenv("TZ");
	tzset();
	zone_count = n;
	printf("tz: %d zones loaded, %d offsets equal to glibc's\n", n, compared);
	free(names);
}
END_TEST

/* ---- the original encoding --------------------------------------------------------------- */

static void expect_original(const char *in, const char *want)
{
	char buf[NORC_CRON_TEXT_MAX];
	struct norc_cron c = parse(in);
	ck_assert_int_eq(norc_cron_format_original(&c, buf, sizeof(buf)), 0);
	ck_assert_msg(strcmp(buf, want) == 0, "'%s' -> '%s', want '%s'", in, buf, want);
	struct norc_cron back = parse(buf); /* and the normal form is stable */
	ck_assert(norc_cron_equal(&c, &back));
}

static void expect_error(const char *in, const char *want)
{
	struct norc_cron c;
	char err[512] = "";
	uint64_t seed = 3;
	int rc = norc_cron_parse(in, rnd_cb, &seed, &c, err, sizeof(err));
	ck_assert_msg(rc == NORC_EINVAL, "'%s' accepted", in);
	ck_assert_msg(strstr(err, want) != NULL, "'%s': message '%s' lacks '%s'", in, err, want);
	ck_assert_msg(!strchr(err, '\n'), "'%s': message has several lines", in);
}

START_TEST(original_validate)
{
	expect_original("o1d1w1h1m1s1", "o1d1w1h1m1s1");
	expect_original("d1w1h1m1s1", "o*d1w1h1m1s1");
	expect_original(" d 1 , 2 s 1 ", "o*d1,2w*h*m*s1");
	expect_original("s1m2h3w4d5o6", "o6d5w4h3m2s1");
	expect_original("O1D1W1H1M1S1", "o1d1w1h1m1s1");
	expect_original("o1o2s0", "o2d*w*h*m*s0"); /* a later duplicate overrides */
	expect_original("h5,3,5,1s0", "o*d*w*h1,3,5m*s0");
	expect_original("h0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23s0",
	                "o*d*w*h*m*s0");
	/* w0 is Monday: Monday is 1 in cron's numbering */
	struct norc_cron c = parse("w0s0");
	ck_assert_uint_eq(c.dow, 1u << 1);
	c = parse("w6s0");
	ck_assert_uint_eq(c.dow, 1u << 0);
	/* '' and an omitted s: one random second */
	char buf[NORC_CRON_TEXT_MAX];
	for (uint32_t v = 0; v < 200; v += 7) {
		uint32_t fixed = v;
		ck_assert_int_eq(norc_cron_parse("", fixed_cb, &fixed, &c, buf, sizeof(buf)), 0);
		ck_assert_int_eq(norc_cron_format_original(&c, buf, sizeof(buf)), 0);
		char want[64];
		snprintf(want, sizeof(want), "o*d*w*h*m*s%u", v % 60);
		ck_assert_str_eq(buf, want);
		ck_assert_int_eq(norc_cron_parse("  m5 ", fixed_cb, &fixed, &c, buf, sizeof(buf)),
		                 0);
		ck_assert_int_eq(norc_cron_format_original(&c, buf, sizeof(buf)), 0);
		snprintf(want, sizeof(want), "o*d*w*h*m5s%u", v % 60);
		ck_assert_str_eq(buf, want);
	}
	uint64_t seed = 5;
	int seen[60] = {0};
	for (int i = 0; i < 2000; i++) {
		ck_assert_int_eq(norc_cron_parse("", rnd_cb, &seed, &c, buf, sizeof(buf)), 0);
		ck_assert_int_eq(norc_cron_format_original(&c, buf, sizeof(buf)), 0);
		ck_assert(strncmp(buf, "o*d*w*h*m*s", 11) == 0);
		int s = atoi(buf + 11);
		ck_assert(s >= 0 && s < 60);
		seen[s] = 1;
	}
	int distinct = 0;
	for (int i = 0; i < 60; i++)
		distinct += seen[i];
	ck_assert_int_eq(distinct, 60);
	ck_assert_int_eq(norc_cron_parse("", NULL, NULL, &c, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.sec, 1);

	expect_error("adf", "cron expression 'adf': invalid formatting in 'adf'");
	expect_error("o1,13",
	             "cron expression 'o1,13': invalid number 13 for key 'o' (months are 1-12)");
	expect_error("x5", "invalid key 'x'");
	expect_error("hours5", "invalid key 'hours'");
	expect_error("day1", "invalid key 'day'");
	expect_error("d0", "invalid number 0 for key 'd' (days are 1-31)");
	expect_error("w7", "invalid number 7 for key 'w' (weekdays are 0-6, 0 = Monday)");
	expect_error("h24", "invalid number 24 for key 'h'");
	expect_error("m60", "invalid number 60 for key 'm'");
	expect_error("s99999999999999", "invalid number 9999999");
	expect_error("d1,", "invalid formatting in 'd1,'");
	expect_error("d1,,2", "invalid formatting");
	expect_error("d*1", "invalid formatting");
	expect_error("d", "invalid formatting in 'd'");
	expect_error("o2d31", "cron expression 'o2d31' never fires (no allowed month has day 31)");
	expect_error("o2d30,31", "never fires (no allowed month has day 30,31)");
	expect_error("o4,6,9,11d31", "never fires");
	struct norc_cron ok = parse("o2d29s0"); /* leap years */
	(void)ok;
	ok = parse("o2d31w0s0"); /* ORed with Mondays: fires */
	(void)ok;
}
END_TEST

START_TEST(original_shortcuts_and_pretty)
{
	const char *names[] = {"HALFHOURLY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY"};
	char buf[NORC_CRON_TEXT_MAX], fmt[NORC_CRON_TEXT_MAX], err[256];
	uint64_t seed = 11;
	for (int i = 0; i < 5; i++) {
		for (int k = 0; k < 300; k++) {
			struct norc_cron c, back;
			const char *in = names[i];
			char lower_name[32];
			if (k % 2) { /* case-insensitive */
				size_t j;
				for (j = 0; in[j]; j++)
					lower_name[j] = (char)(in[j] | 0x20);
				lower_name[j] = '\0';
				in = lower_name;
			}
			ck_assert_int_eq(norc_cron_parse(in, rnd_cb, &seed, &c, err, sizeof(err)),
			                 0);
			ck_assert_str_eq(norc_cron_pretty(&c, buf, sizeof(buf)), names[i]);
			ck_assert_int_eq(norc_cron_format(&c, fmt, sizeof(fmt)), 0);
			back = parse(fmt);
			ck_assert(norc_cron_equal(&c, &back));
			ck_assert_str_eq(norc_cron_pretty(&back, buf, sizeof(buf)), names[i]);
			ck_assert_int_eq(norc_cron_format_original(&c, fmt, sizeof(fmt)), 0);
			back = parse(fmt);
			ck_assert_str_eq(norc_cron_pretty(&back, buf, sizeof(buf)), names[i]);
			ck_assert_int_eq(__builtin_popcountll(c.sec), 1);
			if (i == 0) {
				int m = __builtin_ctzll(c.min);
				ck_assert(m < 30 &&
				          c.min == ((UINT64_C(1) << m) | UINT64_C(1) << (m + 30)));
			}
			if (i == 4)
				ck_assert(c.dom >= 2 && c.dom <= (1u << 28));
		}
	}
	/* shapes that are not shortcuts */
	struct norc_cron c = parse("o*d*w*h*m0,31s0");
	ck_assert_str_eq(norc_cron_pretty(&c, buf, sizeof(buf)), "0 0,31 * * * *");
	c = parse("0 0 * * *");
	ck_assert_str_eq(norc_cron_pretty(&c, buf, sizeof(buf)), "DAILY");
	c = parse("0 0 29 * *");
	ck_assert_str_eq(norc_cron_pretty(&c, buf, sizeof(buf)), "0 0 0 29 * *");
	c = parse("0 0 1 1 *");
	ck_assert_str_eq(norc_cron_pretty(&c, buf, sizeof(buf)), "0 0 0 1 1 *");
	c = parse("@every 1h30m");
	ck_assert_str_eq(norc_cron_pretty(&c, buf, sizeof(buf)), "@every 5400s");
}
END_TEST

static void expect_next(const char *zname, const char *expr, const char *from, const char *want)
{
	struct norc_tz *tz = zone(zname);
	struct norc_cron c = parse(expr);
	int64_t nx = 0;
	char got[64];
	int rc = norc_cron_next(&c, tz, at(from, tz), &nx);
	ck_assert_msg(rc == 0, "%s '%s' from %s: rc %d", zname, expr, from, rc);
	ck_assert_msg(strcmp(iso(nx, tz, got), want) == 0, "%s '%s' from %s: %s, want %s", zname,
	              expr, from, got, want);
	norc_tz_free(tz);
}

START_TEST(original_bugs_fixed)
{
	/* [hotfix] test_monthly */
	expect_next("UTC", "o1,4,7,10d1w*h0m0s0", "2010-01-01T00:00:00",
	            "2010-04-01T00:00:00+00:00");
	expect_next("UTC", "o1,4,7,10d1w*h0m0s0", "2010-06-01T00:00:00",
	            "2010-07-01T00:00:00+00:00");
	expect_next("UTC", "o1,4,7,10d1w*h0m0s0", "2010-11-01T00:00:00",
	            "2011-01-01T00:00:00+00:00");
	/* lower fields reset after a carry */
	expect_next("UTC", "o*d*w*h*m0s0,30", "2010-01-10T10:05:10", "2010-01-10T11:00:00+00:00");
	expect_next("UTC", "o*d15w*h0,12m0s0", "2010-01-10T11:00:00", "2010-01-15T00:00:00+00:00");
	/* months honoured (master ignored them) */
	expect_next("UTC", "o3d*w*h0m0s0", "2010-01-10T11:00:00", "2010-03-01T00:00:00+00:00");
	/* day of month OR weekday when both are restricted: 2010-01-13 is a Wednesday (w2) */
	expect_next("UTC", "o*d20w2h0m0s0", "2010-01-10T00:00:00", "2010-01-13T00:00:00+00:00");
	expect_next("UTC", "o*d11w2h0m0s0", "2010-01-10T00:00:00", "2010-01-11T00:00:00+00:00");
	/* ANDed when one is '*' */
	expect_next("UTC", "o*d*w2h0m0s0", "2010-01-10T00:00:00", "2010-01-13T00:00:00+00:00");
	expect_next("UTC", "0 0 13 * 5", "2010-01-01T00:00:00", "2010-01-08T00:00:00+00:00");
	expect_next("UTC", "0 0 13 * 5", "2010-01-08T00:00:00", "2010-01-13T00:00:00+00:00");
	expect_next("UTC", "0 0 */13 * 5", "2010-01-01T00:00:00", "2010-05-14T00:00:00+00:00");
	/* test_cron: every second, 1 s apart */
	expect_next("UTC", "o*d*w*h*m*s*", "2010-01-10T10:05:10", "2010-01-10T10:05:11+00:00");
}
END_TEST

/* ---- standard syntax --------------------------------------------------------------------- */

static const struct {
	const char *in, *canon;
} std_ok[] = {
    {"* * * * *", "0 * * * * *"},
    {"* * * * * *", "* * * * * *"},
    {"*/15 * * * *", "0 */15 * * * *"},
    {"0 9-17 * * MON-FRI", "0 0 9-17 * * 1-5"},
    {"0 9-17 * * mon-fri", "0 0 9-17 * * 1-5"},
    {"0 0 * * 7", "0 0 0 * * 0"},
    {"0 0 * * 0,7", "0 0 0 * * 0"},
    {"0 0 * * 5-7", "0 0 0 * * 0,5,6"},
    {"0 0 * * 1-7", "0 0 0 * * 0-6"},
    {"0 0 * * SUN,sat", "0 0 0 * * 0,6"},
    {"0 0 1 JAN,jul *", "0 0 0 1 1,7 *"},
    {"0 0 1 jan-MAR *", "0 0 0 1 1-3 *"},
    {"0 0 1 */3 *", "0 0 0 1 */3 *"},
    {"5/15 * * * * *", "5-50/15 * * * * *"},
    {"1-30/2 * * * *", "0 1-29/2 * * * *"},
    {"0 0 * * 1,3,5", "0 0 0 * * 1-5/2"},
    {"0,20,40 * * * *", "0 */20 * * * *"},
    {"10,30,50 * * * *", "0 10-50/20 * * * *"},
    {"0 0-22/2 * * *", "0 0 0-22/2 * * *"},
    {"0 0 * 1,7 *", "0 0 0 * 1,7 *"},
    {"0 0 * */6 *", "0 0 0 * 1,7 *"},
    {"0 0 * */4 *", "0 0 0 * */4 *"},
    {"0 0 * 2-12/5 *", "0 0 0 * 2-12/5 *"},
    {"0,7,14,21,28,35,42,49,56 * * * *", "0 */7 * * * *"},
    {"0,7,14,21 * * * *", "0 0-21/7 * * * *"},
    {"0 */2 * * *", "0 0 */2 * * *"},
    {"0 */5,2 * * *", "0 0 */5,2 * * *"},
    {"0 0-23 * * *", "0 0 0-23 * * *"},
    {"0 0 1-31 * *", "0 0 0 1-31 * *"},
    {"0 0 */2 * *", "0 0 0 */2 * *"},
    {"0 0 * * */2", "0 0 0 * * */2"},
    {"0 0 * * */7", "0 0 0 * * */7"},
    {"0-59 * * * *", "0 * * * * *"},
    {"1,2,3,5 * * * *", "0 1-3,5 * * * *"},
    {"59,0 * * * *", "0 0,59 * * * *"},
    {"  0   12  *  *  *  ", "0 0 12 * * *"},
    {"\t0\t12 * * *\n", "0 0 12 * * *"},
    {"0 0 29 2 *", "0 0 0 29 2 *"},
    {"0 0 30 2 1", "0 0 0 30 2 1"},
    {"0 0 31 2,3 *", "0 0 0 31 2,3 *"},
    {"@yearly", "0 0 0 1 1 *"},
    {"@annually", "0 0 0 1 1 *"},
    {"@monthly", "0 0 0 1 * *"},
    {"@weekly", "0 0 0 * * 0"},
    {"@daily", "0 0 0 * * *"},
    {"@midnight", "0 0 0 * * *"},
    {"@hourly", "0 0 * * * *"},
    {"@HOURLY", "0 0 * * * *"},
    {"@every 90", "@every 90s"},
    {"@every 30s", "@every 30s"},
    {"@every 5m", "@every 300s"},
    {"@every 1h30m", "@every 5400s"},
    {"@Every 2D", "@every 172800s"},
    {"@every 364d23h59m59s", "@every 31535999s"},
    {"@every 1s", "@every 1s"},
};

START_TEST(standard_syntax)
{
	char buf[NORC_CRON_TEXT_MAX];
	struct norc_cron c = parse(std_ok[_i].in), back;
	ck_assert_int_eq(norc_cron_format(&c, buf, sizeof(buf)), 0);
	ck_assert_msg(strcmp(buf, std_ok[_i].canon) == 0, "'%s' -> '%s', want '%s'", std_ok[_i].in,
	              buf, std_ok[_i].canon);
	back = parse(buf);
	ck_assert(norc_cron_equal(&c, &back));
}
END_TEST

static const struct {
	const char *in, *msg;
} std_bad[] = {
    {"61 * * * *", "cron expression '61 * * * *': minute 61 out of range (0-59)"},
    {"* 24 * * *", "hour 24 out of range (0-23)"},
    {"0 0 32 * *", "day-of-month 32 out of range (1-31)"},
    {"0 0 0 * *", "day-of-month 0 out of range (1-31)"},
    {"0 0 * 13 *", "month 13 out of range (1-12)"},
    {"0 0 * 0 *", "month 0 out of range (1-12)"},
    {"0 0 * * 8", "day-of-week 8 out of range (0-7)"},
    {"60 * * * * *", "second 60 out of range (0-59)"},
    {"5-1 * * * *", "cron expression '5-1 * * * *': minute range 5-1 is reversed"},
    {"0 0 * * FRI-MON", "day-of-week range 5-1 is reversed"},
    {"*/0 * * * *", "step 0 in minute field is out of range (1-60)"},
    {"*/61 * * * *", "step 61 in minute field is out of range (1-60)"},
    {"0 0 */25 * * *", "step 25 in hour field is out of range (1-24)"},
    {"1-5/ * * * *", "missing step in minute field '1-5/'"},
    {"* * * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week) or 6 "
                      "(second first), found more than 6"},
    {"* * *", "found 3"},
    {"1,,2 * * * *", "invalid minute field '1,,2'"},
    {"1, * * * *", "invalid minute field '1,'"},
    {"1- * * * *", "invalid minute field '1-'"},
    {"1-2-3 * * * *", "invalid minute field '1-2-3'"},
    {"** * * * *", "invalid minute field '**'"},
    {"0 0 * * FOO", "unknown name in day-of-week field 'FOO'"},
    {"0 0 * JANUARY *", "unknown name in month field 'JANUARY'"},
    {"0 MON * * *", "invalid hour field 'MON'"},
    {"0 0 * * 1x", "invalid day-of-week field '1x'"},
    {"0 0 * * -1", "invalid day-of-week field '-1'"},
    {"0 0 30 2 *", "cron expression '0 0 30 2 *' never fires (no allowed month has day 30)"},
    {"0 0 31 4,6,9,11 *", "never fires (no allowed month has day 31)"},
    {"0 0 30,31 2 *", "never fires (no allowed month has day 30,31)"},
    {"@every 0s", "@every needs at least 1 s and less than a year"},
    {"@every 365d", "@every needs at least 1 s and less than a year"},
    {"@every 5x", "bad @every duration '5x'"},
    {"@every 1h30", "bad @every duration '1h30'"},
    {"@every", "@every takes one duration"},
    {"@every 5m 3s", "@every takes one duration"},
    {"@bogus", "unknown shortcut '@bogus'"},
    {"@daily x", "unexpected text after @daily"},
    {"@ daily", "unknown shortcut '@'"},
    {"HOURLY2", "invalid key 'HOURLY'"},
    {"99999999999999999999 * * * *", "minute 9999999"},
};

START_TEST(standard_rejected)
{
	expect_error(std_bad[_i].in, std_bad[_i].msg);
}
END_TEST

/* Random expressions in both syntaxes: parse(format(x)) == x. */
static void rand_field(uint64_t *s, char *out, size_t len, int lo, int hi, int dow)
{
	int k = rr(s, 10);
	int a = lo + rr(s, hi - lo + 1), b = lo + rr(s, hi - lo + 1);
	if (a > b) {
		int t = a;
		a = b;
		b = t;
	}
	static const char *const dn[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};
	if (k < 3)
		snprintf(out, len, "*");
	else if (k < 4)
		snprintf(out, len, "*/%d", 1 + rr(s, (dow ? 6 : hi) - lo + 1));
	else if (k < 5)
		snprintf(out, len, "%d-%d", a, b);
	else if (k < 6)
		snprintf(out, len, "%d-%d/%d", a, b, 1 + rr(s, 5));
	else if (k < 7)
		snprintf(out, len, "%d/%d", a, 1 + rr(s, 7));
	else if (k < 8 && dow)
		snprintf(out, len, "%s-%s", dn[a], dn[b]);
	else {
		int n = 1 + rr(s, 3), pos = 0;
		for (int i = 0; i < n; i++)
			pos += snprintf(out + pos, len - (size_t)pos, "%s%d", i ? "," : "",
			                lo + rr(s, hi - lo + 1));
	}
}

static void rand_expr(uint64_t *s, char *out, size_t len)
{
	char f[6][64];
	if (rr(s, 3) == 0) { /* original encoding */
		const char keys[] = "odwhms";
		const int lo[] = {1, 1, 0, 0, 0, 0}, hi[] = {12, 31, 6, 23, 59, 59};
		size_t pos = 0;
		for (int i = 0; i < 6; i++) {
			if (rr(s, 4) == 0)
				continue;
			pos += (size_t)snprintf(out + pos, len - pos, "%c", keys[i]);
			if (rr(s, 3) == 0) {
				pos += (size_t)snprintf(out + pos, len - pos, "*");
				continue;
			}
			int n = 1 + rr(s, 3);
			for (int k = 0; k < n; k++)
				pos += (size_t)snprintf(out + pos, len - pos, "%s%d", k ? "," : "",
				                        lo[i] + rr(s, hi[i] - lo[i] + 1));
		}
		return;
	}
	rand_field(s, f[0], 64, 0, 59, 0);
	rand_field(s, f[1], 64, 0, 59, 0);
	rand_field(s, f[2], 64, 0, 23, 0);
	rand_field(s, f[3], 64, 1, 31, 0);
	rand_field(s, f[4], 64, 1, 12, 0);
	rand_field(s, f[5], 64, 0, 7, 1);
	int n = rr(s, 2) ? snprintf(out, len, "%s %s %s %s %s %s", f[0], f[1], f[2], f[3], f[4], f[5])
			 : snprintf(out, len, "%s %s %s %s %s", f[1], f[2], f[3], f[4], f[5]);
	ck_assert_msg(n > 0 && (size_t)n < len, "expression buffer too small");
}

START_TEST(format_round_trip)
{
	uint64_t s = 42;
	int n = 0, rejected = 0;
	char text[256], buf[NORC_CRON_TEXT_MAX], orig[NORC_CRON_TEXT_MAX], err[256];
	for (int i = 0; i < 20000; i++) {
		rand_expr(&s, text, sizeof(text));
		struct norc_cron c, back;
		if (norc_cron_parse(text, rnd_cb, &s, &c, err, sizeof(err)) != 0) {
			ck_assert_msg(strstr(err, "never fires") || strstr(err, "reversed"),
			              "%s: %s", text, err);
			rejected++;
			continue;
		}
		ck_assert_int_eq(norc_cron_format(&c, buf, sizeof(buf)), 0);
		ck_assert_int_eq(norc_cron_parse(buf, NULL, NULL, &back, err, sizeof(err)), 0);
		ck_assert_msg(norc_cron_equal(&c, &back), "'%s' -> '%s' differs", text, buf);
		/* the odwhms form keeps the sets */
		ck_assert_int_eq(norc_cron_format_original(&c, orig, sizeof(orig)), 0);
		ck_assert_int_eq(norc_cron_parse(orig, NULL, NULL, &back, err, sizeof(err)), 0);
		ck_assert_msg(back.sec == c.sec && back.min == c.min && back.hour == c.hour &&
		                  back.dom == c.dom && back.mon == c.mon && back.dow == c.dow,
		              "'%s' -> '%s'", text, orig);
		n++;
	}
	for (int64_t e = 1; e < YEAR_SECONDS_TEST; e = e * 3 + 1) {
		struct norc_cron c = {.every = e}, back;
		ck_assert_int_eq(norc_cron_format(&c, buf, sizeof(buf)), 0);
		ck_assert_int_eq(norc_cron_parse(buf, NULL, NULL, &back, err, sizeof(err)), 0);
		ck_assert(norc_cron_equal(&c, &back));
		ck_assert_int_eq(norc_cron_format_original(&c, buf, sizeof(buf)), NORC_EINVAL);
	}
	/* any struct (sets and flags at random, as a star field always holds its first value):
	 * the canonical text fits NORC_CRON_TEXT_MAX and parses back to the same struct */
	size_t longest = 0;
	for (int i = 0; i < 20000; i++) {
		struct norc_cron c, back;
		memset(&c, 0, sizeof(c));
		int dense = rr(&s, 4);
		do {
			c.sec = dense ? rng_next(&s) & ((UINT64_C(1) << 60) - 1)
			              : UINT64_C(1) << rr(&s, 60);
			c.min = rng_next(&s) & ((UINT64_C(1) << 60) - 1);
			c.hour = (uint32_t)rng_next(&s) & ((1u << 24) - 1);
			c.dom = (uint32_t)rng_next(&s) & ~1u;
			c.mon = (uint16_t)(rng_next(&s) & 0x1ffe);
			c.dow = (uint8_t)(rng_next(&s) & 0x7f);
		} while (!c.sec || !c.min || !c.hour || !c.dom || !c.mon || !c.dow);
		c.hour_star = rr(&s, 2);
		c.dom_star = rr(&s, 2);
		c.dow_star = rr(&s, 2);
		if (c.hour_star)
			c.hour |= 1;
		if (c.dom_star)
			c.dom |= 2;
		if (c.dow_star)
			c.dow |= 1;
		ck_assert_int_eq(norc_cron_format(&c, buf, sizeof(buf)), 0);
		if (strlen(buf) > longest)
			longest = strlen(buf);
		if (norc_cron_parse(buf, NULL, NULL, &back, err, sizeof(err)) != 0) {
			ck_assert_msg(strstr(err, "never fires"), "%s: %s", buf, err);
			continue;
		}
		ck_assert_msg(norc_cron_equal(&c, &back), "'%s' does not parse back", buf);
		ck_assert_int_eq(norc_cron_format(&c, buf, 10), NORC_EINVAL);
	}
	printf("cron: longest canonical text %zu characters\n", longest);
	printf("cron: %d random expressions round-tripped (%d rejected as never firing)\n", n,
	       rejected);
}
END_TEST

/* ---- next fire times across DST changes -------------------------------------------------- */

static const struct {
	const char *zone, *expr, *from, *want;
} dst[] = {
    /* New York 2026: 02:00 EST -> 03:00 EDT on Mar 8; 02:00 EDT -> 01:00 EST on Nov 1 */
    {"America/New_York", "0 30 2 * * *", "2026-03-07T02:30:00", "2026-03-08T03:00:00-04:00"},
    {"America/New_York", "0 30 2 * * *", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"},
    {"America/New_York", "0 0,30 2 * * *", "2026-03-08T01:59:00", "2026-03-08T03:00:00-04:00"},
    {"America/New_York", "0 0,30 2 * * *", "2026-03-08T03:00:00-04:00",
     "2026-03-09T02:00:00-04:00"},
    {"America/New_York", "0 2 * * *", "2026-03-08T00:00:00", "2026-03-08T03:00:00-04:00"},
    {"America/New_York", "0 3 * * *", "2026-03-08T00:00:00", "2026-03-08T03:00:00-04:00"},
    {"America/New_York", "0 3 * * *", "2026-03-08T03:00:00-04:00", "2026-03-09T03:00:00-04:00"},
    {"America/New_York", "0 30 1 * * *", "2026-10-31T01:30:00", "2026-11-01T01:30:00-04:00"},
    {"America/New_York", "0 30 1 * * *", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"},
    {"America/New_York", "0 30 1 * * *", "2026-11-01T01:10:00-05:00", "2026-11-02T01:30:00-05:00"},
    {"America/New_York", "0 59 1 * * *", "2026-11-01T00:00:00", "2026-11-01T01:59:00-04:00"},
    {"America/New_York", "0 59 1 * * *", "2026-11-01T01:59:00-04:00", "2026-11-02T01:59:00-05:00"},
    {"America/New_York", "0 30 * * * *", "2026-11-01T00:45:00", "2026-11-01T01:30:00-04:00"},
    {"America/New_York", "0 30 * * * *", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"},
    {"America/New_York", "*/15 * * * *", "2026-11-01T01:45:00-04:00", "2026-11-01T01:00:00-05:00"},
    {"America/New_York", "@hourly", "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"},
    {"America/New_York", "0 30 * * * *", "2026-03-08T01:30:00", "2026-03-08T03:30:00-04:00"},
    {"America/New_York", "* * * * * *", "2026-03-08T01:59:59", "2026-03-08T03:00:00-04:00"},
    {"America/New_York", "* * * * * *", "2026-11-01T01:59:59-04:00", "2026-11-01T01:00:00-05:00"},
    {"America/New_York", "0 30 2 * * *", "2050-03-12T12:00:00", "2050-03-13T03:00:00-04:00"},
    {"America/New_York", "0 30 1 * * *", "2050-11-06T01:30:00-04:00", "2050-11-07T01:30:00-05:00"},
    /* Berlin 2026: Mar 29 02:00 -> 03:00; Oct 25 03:00 -> 02:00 */
    {"Europe/Berlin", "30 2 * * *", "2026-03-28T12:00:00", "2026-03-29T03:00:00+02:00"},
    {"Europe/Berlin", "30 2 * * *", "2026-10-24T12:00:00", "2026-10-25T02:30:00+02:00"},
    {"Europe/Berlin", "30 2 * * *", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"},
    {"Europe/Berlin", "30 * * * *", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"},
    {"Europe/Berlin", "0 0 * * *", "2026-03-28T12:00:00", "2026-03-29T00:00:00+01:00"},
    /* Lord Howe: 30-minute DST; Oct 4 2026 02:00 -> 02:30, Apr 5 2026 02:00 -> 01:30 */
    {"Australia/Lord_Howe", "0 15 2 * * *", "2026-10-03T12:00:00", "2026-10-04T02:30:00+11:00"},
    {"Australia/Lord_Howe", "0 0 2 * * *", "2026-10-03T12:00:00", "2026-10-04T02:30:00+11:00"},
    {"Australia/Lord_Howe", "0 15 * * * *", "2026-10-04T01:30:00", "2026-10-04T03:15:00+11:00"},
    {"Australia/Lord_Howe", "0 45 1 * * *", "2026-04-04T12:00:00", "2026-04-05T01:45:00+11:00"},
    {"Australia/Lord_Howe", "0 45 1 * * *", "2026-04-05T01:45:00+11:00",
     "2026-04-06T01:45:00+10:30"},
    {"Australia/Lord_Howe", "0 45 * * * *", "2026-04-05T01:45:00+11:00",
     "2026-04-05T01:45:00+10:30"},
    /* Santiago: at 24:00; Sep 6 2026 00:00 -> 01:00, Apr 5 2026 00:00 -> Apr 4 23:00 */
    {"America/Santiago", "0 0 0 * * *", "2026-09-05T12:00:00", "2026-09-06T01:00:00-03:00"},
    {"America/Santiago", "0 30 0 * * *", "2026-09-05T12:00:00", "2026-09-06T01:00:00-03:00"},
    {"America/Santiago", "@daily", "2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"},
    {"America/Santiago", "0 30 23 * * *", "2026-04-04T12:00:00", "2026-04-04T23:30:00-03:00"},
    {"America/Santiago", "0 30 23 * * *", "2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00"},
    {"America/Santiago", "0 0 0 * * *", "2026-04-04T12:00:00", "2026-04-05T00:00:00-04:00"},
    {"America/Santiago", "0 0 * * * *", "2026-04-04T23:00:00-03:00", "2026-04-04T23:00:00-04:00"},
    /* Tehran: DST until 2022 (Mar 22 00:00 -> 01:00, Sep 21 24:00 -> 23:00), none since */
    {"Asia/Tehran", "0 30 0 * * *", "2021-03-21T12:00:00", "2021-03-22T01:00:00+04:30"},
    {"Asia/Tehran", "0 30 23 * * *", "2021-09-21T12:00:00", "2021-09-21T23:30:00+04:30"},
    {"Asia/Tehran", "0 30 23 * * *", "2021-09-21T23:30:00+04:30", "2021-09-22T23:30:00+03:30"},
    {"Asia/Tehran", "0 30 0 22 3 *", "2030-01-01T00:00:00", "2030-03-22T00:30:00+03:30"},
    {"Asia/Tehran", "0 30 23 21 9 *", "2030-09-21T23:30:00", "2031-09-21T23:30:00+03:30"},
    /* Apia skipped Friday 2011-12-30 */
    {"Pacific/Apia", "0 0 12 * * *", "2011-12-29T12:00:00", "2011-12-31T00:00:00+14:00"},
    {"Pacific/Apia", "0 0 12 * * *", "2011-12-31T00:00:00+14:00", "2011-12-31T12:00:00+14:00"},
    {"Pacific/Apia", "0 0 12 * * *", "2011-12-29T12:00:00", "2011-12-31T00:00:00+14:00"},
    {"Pacific/Apia", "0 0 * * * *", "2011-12-29T23:00:00", "2011-12-31T00:00:00+14:00"},
    /* Dublin: "negative" DST in the data (IST is standard, GMT the winter rule) */
    {"Europe/Dublin", "0 30 1 * * *", "2026-03-28T12:00:00", "2026-03-29T02:00:00+01:00"},
    {"Europe/Dublin", "0 30 1 * * *", "2026-10-24T12:00:00", "2026-10-25T01:30:00+01:00"},
    {"Europe/Dublin", "0 30 1 * * *", "2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"},
    /* Troll: a two-hour jump; two skipped fire times give one fire */
    {"Antarctica/Troll", "0 0 1,2 * * *", "2026-03-28T12:00:00", "2026-03-29T03:00:00+02:00"},
    {"Antarctica/Troll", "0 0 1,2 * * *", "2026-03-29T03:00:00+02:00", "2026-03-30T01:00:00+02:00"},
    /* Chatham +12:45/+13:45, Kolkata +05:30, St Johns -03:30 */
    {"Pacific/Chatham", "0 0 3 * * *", "2026-04-04T12:00:00", "2026-04-05T03:00:00+13:45"},
    {"Asia/Kolkata", "0 0 9 * * 1-5", "2026-01-02T09:00:00", "2026-01-05T09:00:00+05:30"},
    {"America/St_Johns", "0 0 12 * * *", "2026-01-02T12:00:00", "2026-01-03T12:00:00-03:30"},
    /* leap years and month ends */
    {"UTC", "0 0 29 2 *", "2025-01-01T00:00:00", "2028-02-29T00:00:00+00:00"},
    {"UTC", "0 0 29 2 *", "2096-03-01T00:00:00", "2104-02-29T00:00:00+00:00"},
    {"UTC", "0 0 29 2 */7", "2033-01-01T00:00:00", "2060-02-29T00:00:00+00:00"},
    {"UTC", "0 0 29 2 */7", "2089-01-01T00:00:00", "2128-02-29T00:00:00+00:00"},
    {"UTC", "0 0 31 * *", "2026-01-31T00:00:00", "2026-03-31T00:00:00+00:00"},
    {"UTC", "0 0 31 * *", "2026-03-31T00:00:00", "2026-05-31T00:00:00+00:00"},
    {"UTC", "0 0 30 * *", "2026-01-30T00:00:00", "2026-03-30T00:00:00+00:00"},
    {"UTC", "@yearly", "2026-12-31T23:59:59", "2027-01-01T00:00:00+00:00"},
    {"UTC", "59 59 23 31 12 *", "2026-12-31T23:59:59", "2027-12-31T23:59:59+00:00"},
    {"Europe/Berlin", "0 0 29 2 *", "2025-01-01T00:00:00", "2028-02-29T00:00:00+01:00"},
    {"America/New_York", "0 0 0 31 * *", "2026-10-31T00:00:00", "2026-12-31T00:00:00-05:00"},
};

START_TEST(dst_table)
{
	expect_next(dst[_i].zone, dst[_i].expr, dst[_i].from, dst[_i].want);
}
END_TEST

START_TEST(every_and_limits)
{
	struct norc_cron c = parse("@every 90s");
	int64_t nx;
	ck_assert_int_eq(norc_cron_next(&c, NULL, 1000, &nx), 0);
	ck_assert_int_eq(nx, 1090);
	c = parse("0 0 0 * * *");
	ck_assert_int_eq(norc_cron_next(&c, NULL, INT64_MAX, &nx), NORC_EINVAL);
	ck_assert_int_eq(norc_cron_next(&c, NULL, -(INT64_C(1) << 41), &nx), NORC_EINVAL);
	struct norc_cron zero;
	memset(&zero, 0, sizeof(zero));
	ck_assert_int_eq(norc_cron_next(&zero, NULL, 0, &nx), NORC_EINVAL);
	/* historical and distant instants still work */
	ck_assert_int_eq(norc_cron_next(&c, NULL, -INT64_C(62135596800), &nx), 0); /* year 1 */
	ck_assert_int_eq(nx, -INT64_C(62135596800) + 86400);
	struct norc_tz *tz = zone("Europe/Berlin");
	ck_assert_int_eq(norc_cron_next(&c, tz, INT64_C(253402300799), &nx), 0); /* 9999-12-31 */
	norc_tz_free(tz);
}
END_TEST

/* ---- instants as text -------------------------------------------------------------------- */

START_TEST(time_text)
{
	char buf[64], err[256];
	struct norc_tz *ny = zone("America/New_York"), *lh = zone("Australia/Lord_Howe"),
	               *th = zone("Asia/Tehran"), *kt = zone("Asia/Kathmandu"),
	               *ch = zone("Pacific/Chatham"), *mo = zone("Africa/Monrovia");
	ck_assert_str_eq(iso(at("2026-03-08T07:00:00Z", NULL), ny, buf),
	                 "2026-03-08T03:00:00-04:00");
	ck_assert_str_eq(iso(at("2026-03-08T07:00:00Z", NULL), NULL, buf),
	                 "2026-03-08T07:00:00+00:00");
	ck_assert_str_eq(iso(at("2026-07-01T00:00:00Z", NULL), lh, buf),
	                 "2026-07-01T10:30:00+10:30");
	ck_assert_str_eq(iso(at("2030-07-01T00:00:00Z", NULL), th, buf),
	                 "2030-07-01T03:30:00+03:30");
	ck_assert_str_eq(iso(at("2026-07-01T00:00:00Z", NULL), kt, buf),
	                 "2026-07-01T05:45:00+05:45");
	ck_assert_str_eq(iso(at("2026-07-01T00:00:00Z", NULL), ch, buf),
	                 "2026-07-01T12:45:00+12:45");
	ck_assert_str_eq(iso(at("1960-07-01T00:00:00Z", NULL), mo, buf),
	                 "1960-06-30T23:15:30-00:44:30"); /* Liberia's old mean time */
	ck_assert_int_eq(norc_cron_format_time(0, NULL, buf, 10), NORC_EINVAL);
	ck_assert_int_eq(norc_cron_format_time(INT64_C(300000000000), NULL, buf, 64), NORC_EINVAL);
	/* parsing: local, offsets, gaps, overlaps */
	ck_assert_int_eq(at("2026-03-08T02:30:00", ny), at("2026-03-08T07:00:00Z", NULL));
	ck_assert_int_eq(at("2026-11-01T01:30:00", ny), at("2026-11-01T05:30:00Z", NULL));
	ck_assert_int_eq(at("2026-11-01T01:30:00-05:00", ny), at("2026-11-01T06:30:00Z", NULL));
	ck_assert_int_eq(at("2026-11-01 01:30", ny), at("2026-11-01T05:30:00+00:00", NULL));
	ck_assert_int_eq(at("2026-01-01T00:00:00+0530", NULL), at("2025-12-31T18:30:00Z", NULL));
	ck_assert_int_eq(at("2026-01-01T00:00:00-03", NULL), at("2026-01-01T03:00:00Z", NULL));
	ck_assert_int_eq(at("@1700000000", ny), 1700000000);
	ck_assert_int_eq(at("@-5", ny), -5);
	ck_assert_int_eq(at("2026-10-04T02:10:00", lh), at("2026-10-03T15:30:00Z", NULL));
	int64_t now = at("now", ny), t;
	ck_assert(now >= (int64_t)time(NULL) - 2 && now <= (int64_t)time(NULL));
	const char *bad[] = {"",
	                     "tomorrow",
	                     "2026-02-30T00:00:00",
	                     "2026-13-01T00:00:00",
	                     "2026-01-01T24:00:00",
	                     "2026-01-01T00:00:60",
	                     "2026-01-01T00:00:00+",
	                     "2026-01-01T00:00:00 junk",
	                     "2026-1-01T00:00:00",
	                     "@",
	                     "@12x",
	                     "2026-01-01",
	                     "2026-01-01T00:00:00+99:00"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(norc_cron_parse_time(bad[i], ny, &t, err, sizeof(err)) == NORC_EINVAL,
		              "'%s' accepted", bad[i]);
		ck_assert_msg(strstr(err, "invalid time"), "%s", err);
	}
	/* format and parse agree everywhere */
	uint64_t seed = 1234;
	for (int i = 0; i < 20000; i++) {
		int64_t u = 631152000 + (int64_t)(rng_next(&seed) % UINT64_C(2208988800));
		struct norc_tz *z = (i % 3 == 0) ? ny : (i % 3 == 1) ? lh : ch;
		ck_assert_int_eq(norc_cron_format_time(u, z, buf, sizeof(buf)), 0);
		ck_assert_int_eq(at(buf, z), u);
	}
	norc_tz_free(ny);
	norc_tz_free(lh);
	norc_tz_free(th);
	norc_tz_free(kt);
	norc_tz_free(ch);
	norc_tz_free(mo);
}
END_TEST

/* ---- brute-force cross-check ------------------------------------------------------------- */
/* The reference walks time with glibc's localtime_r under TZ (allowed in tests only) and
 * applies the DST policy literally: it tracks the latest wall time shown so far (hw); an
 * ordinary schedule fires when a matching wall time is shown for the first time, or at the
 * jump when a matching wall time is skipped; an hour_star schedule fires whenever the wall
 * time shown matches. It steps to the next local midnight / hour / minute / allowed second,
 * and bisects to the exact instant whenever the UTC offset changes within a step. */

static int ref_day(const struct norc_cron *c, const struct tm *tm)
{
	if (!(c->mon >> (tm->tm_mon + 1) & 1))
		return 0;
	int dm = (int)(c->dom >> tm->tm_mday & 1), wm = c->dow >> tm->tm_wday & 1;
	return (c->dom_star || c->dow_star) ? (dm && wm) : (dm || wm);
}

static int ref_match(const struct norc_cron *c, const struct tm *tm)
{
	return ref_day(c, tm) && (c->hour >> tm->tm_hour & 1) && (c->min >> tm->tm_min & 1) &&
	       (c->sec >> tm->tm_sec & 1);
}

static int64_t ref_step(const struct norc_cron *c, const struct tm *tm)
{
	int64_t sod = tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
	if (!ref_day(c, tm))
		return 86400 - sod;
	if (!(c->hour >> tm->tm_hour & 1))
		return 3600 - (tm->tm_min * 60 + tm->tm_sec);
	if (!(c->min >> tm->tm_min & 1))
		return 60 - tm->tm_sec;
	for (int s = tm->tm_sec + 1; s < 60; s++)
		if (c->sec >> s & 1)
			return s - tm->tm_sec;
	return 60 - tm->tm_sec;
}

static int64_t ref_change(int64_t lo, int64_t hi, long off) /* first in (lo, hi] != off */
{
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (gmtoff_at(mid) == off)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static int64_t ref_next(const struct norc_cron *c, int64_t after, int64_t limit)
{
	int64_t t = after - 3 * 86400;
	long off = gmtoff_at(t);
	int64_t hw = t + off;
	while (t < after) { /* the latest wall time shown up to `after` */
		int64_t nt = t + 3600 < after ? t + 3600 : after;
		if (gmtoff_at(nt) != off) {
			int64_t T = ref_change(t, nt, off);
			if (T - 1 + off > hw)
				hw = T - 1 + off;
			t = T;
			off = gmtoff_at(T);
		} else {
			t = nt;
		}
		if (t + off > hw)
			hw = t + off;
	}
	int64_t d = 1; /* from `after`, the first step is one second */
	for (long iter = 0; t <= limit && iter < 10000000; iter++) {
		if (gmtoff_at(t + d) == off) {
			t += d;
		} else {
			int64_t T = ref_change(t, t + d, off);
			long oa = gmtoff_at(T);
			if (!c->hour_star && oa > off) { /* wall times [T+off, T+oa) never shown */
				int64_t g = T + off > hw + 1 ? T + off : hw + 1;
				while (g < T + oa) {
					time_t gt = (time_t)g;
					struct tm gm;
					gmtime_r(&gt, &gm);
					if (ref_match(c, &gm))
						return T;
					g += ref_step(c, &gm);
				}
				if (T + oa - 1 > hw)
					hw = T + oa - 1;
			}
			t = T;
		}
		time_t tt = (time_t)t;
		struct tm tm;
		localtime_r(&tt, &tm);
		off = tm.tm_gmtoff;
		int64_t l = t + off;
		if (ref_match(c, &tm) && (c->hour_star || l > hw))
			return t;
		if (l > hw)
			hw = l;
		d = (!c->hour_star && l < hw) ? hw + 1 - l : ref_step(c, &tm);
	}
	return INT64_MIN; /* none */
}

static const char *const xzones[] = {
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Tehran",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Apia",
    "Europe/Dublin",
    "UTC",
    "Antarctica/Troll",
    "America/Havana",
    "Australia/Sydney",
    "Asia/Kathmandu",
    "America/Sao_Paulo",
};

static const char *pick(uint64_t *s, const char *const *v, int n)
{
	return v[rr(s, n)];
}

/* Expressions biased toward the hours and minutes where clocks change. */
static void dst_expr(uint64_t *s, char *out, size_t len)
{
	static const char *const sec[] = {"0", "0", "0", "30", "*/20", "7", "*", "59"};
	static const char *const min[] = {"0", "30", "0,30",  "*/15", "45",
	                                  "*", "59", "15,45", "1-5",  "*/7"};
	static const char *const hour[] = {"*",   "*", "*/2", "1",  "2",    "0",     "23", "1-3",
	                                   "0,2", "3", "*/3", "12", "0-23", "22-23", "2,3"};
	static const char *const dom[] = {"*",     "*",   "*",  "*",  "*",   "1",
	                                  "15,30", "*/2", "29", "31", "1-7", "30"};
	static const char *const mon[] = {"*",     "*",   "*", "*", "*", "3",
	                                  "10,11", "3-4", "9", "4", "2", "12,1"};
	static const char *const dow[] = {"*", "*",       "*",       "*",   "*",
	                                  "0", "SAT,SUN", "MON-FRI", "*/2", "6"};
	char h[16];
	const char *hs = pick(s, hour, 15);
	if (rr(s, 5) == 0) { /* any hour */
		snprintf(h, sizeof(h), "%d", rr(s, 24));
		hs = h;
	}
	snprintf(out, len, "%s %s %s %s %s %s", pick(s, sec, 8), pick(s, min, 10), hs,
	         pick(s, dom, 12), pick(s, mon, 12), pick(s, dow, 10));
}

START_TEST(brute_force)
{
	uint64_t s = 2024 + (uint64_t)_i;
	const char *zn = xzones[_i];
	struct norc_tz *tz = zone(zn);
	setenv("TZ", zn, 1);
	tzset();
	int cases = 0, none = 0;
	char text[128], err[256], a[64], b[64], f[64];
	int64_t lo = 631152000, span = INT64_C(2208988800); /* 1990 .. 2060 */
	const char *env = getenv("NORC_TEST_CRON_CASES");   /* more, for a soak run */
	int n = env ? atoi(env) : 150;
	if (env) { /* and from 1900 to 2100 */
		lo = -INT64_C(2208988800);
		span = INT64_C(6311433600);
	}
	for (int k = 0; k < n; k++) {
		struct norc_cron c;
		if (rr(&s, 3) == 0)
			rand_expr(&s, text, sizeof(text));
		else
			dst_expr(&s, text, sizeof(text));
		if (norc_cron_parse(text, NULL, NULL, &c, err, sizeof(err)) != 0) {
			ck_assert_msg(strstr(err, "never fires") || strstr(err, "reversed"),
			              "%s: %s", text, err);
			continue;
		}
		int64_t after = lo + (int64_t)(rng_next(&s) % (uint64_t)span), when;
		int32_t ob, oa;
		if (rr(&s, 3) != 0 && norc_tz_next_transition(tz, after, &when, &ob, &oa) == 0)
			after = when - rr(&s, 3 * 86400); /* shortly before a clock change */
		for (int chain = 0; chain < 4; chain++) {
			int64_t ours = -1, limit = after + 12 * YEAR_SECONDS_TEST;
			int rc = norc_cron_next(&c, tz, after, &ours);
			int64_t want = ref_next(&c, after, limit);
			cases++;
			if (want == INT64_MIN) {
				ck_assert_msg(rc == NORC_ENOTFOUND || ours > limit,
				              "%s '%s' from %s: %s, reference none", zn, text,
				              iso(after, tz, f), iso(ours, tz, a));
				none++;
				break;
			}
			ck_assert_msg(rc == 0 && ours == want, "%s '%s' from %s: rc %d %s, want %s",
			              zn, text, iso(after, tz, f), rc, iso(ours, tz, a),
			              iso(want, tz, b));
			after = ours;
		}
	}
	norc_tz_free(tz);
	unsetenv("TZ");
	tzset();
	printf("cron: %s: %d fire times equal to the reference (%d none within 12 years)\n", zn,
	       cases, none);
}
END_TEST

/* ---- micro benchmark (printed, not asserted) --------------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

START_TEST(benchmark)
{
	enum { N = 100000 };
	char(*texts)[128] = malloc((size_t)N * 128);
	struct norc_cron *cs = malloc(sizeof(*cs) * N);
	struct norc_tz *tzs[4] = {zone("America/New_York"), zone("Europe/Berlin"),
	                          zone("Australia/Lord_Howe"), NULL};
	uint64_t s = 77;
	char err[256];
	for (int i = 0; i < N; i++) {
		if (i % 2)
			rand_expr(&s, texts[i], 128);
		else
			dst_expr(&s, texts[i], 128);
	}
	double t0 = now_ns();
	int ok = 0;
	for (int i = 0; i < N; i++)
		if (norc_cron_parse(texts[i], rnd_cb, &s, &cs[i], err, sizeof(err)) == 0)
			ok++;
		else
			cs[i] = cs[i > 0 ? i - 1 : 0];
	double t1 = now_ns();
	int64_t base = 1772900000, nx, sum = 0;
	for (int i = 0; i < N; i++) {
		if (norc_cron_next(&cs[i], tzs[i % 4], base + i * 37, &nx) == 0)
			sum += nx & 1;
	}
	double t2 = now_ns();
	int64_t fwd = base; /* a scheduler's loop: each schedule advanced from its last fire */
	for (int i = 0; i < N; i++) {
		norc_cron_next(&cs[i % 1000], tzs[i % 4], fwd, &nx);
		fwd = nx < fwd + 86400 ? nx : fwd + 60;
	}
	double t3 = now_ns();
	printf("cron benchmark: %d schedules: parse %.0f ns, next %.0f ns, chained next %.0f ns "
	       "each; parse+next of all %.2f s (%lld)\n",
	       N, (t1 - t0) / N, (t2 - t1) / N, (t3 - t2) / N, (t2 - t0) / 1e9, (long long)sum);
	ck_assert_int_gt(ok, N / 2);
	for (int i = 0; i < 4; i++)
		norc_tz_free(tzs[i]);
	free(texts);
	free(cs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cron");
	TCase *tz = tcase_create("tz");
	tcase_set_timeout(tz, 300);
	tcase_add_test(tz, tz_names_and_errors);
	tcase_add_test(tz, tz_corrupt_files);
	tcase_add_test(tz, tz_posix_footer);
	tcase_add_test(tz, tz_every_zone);
	suite_add_tcase(s, tz);

	TCase *syn = tcase_create("syntax");
	tcase_set_timeout(syn, 120);
	tcase_add_test(syn, original_validate);
	tcase_add_test(syn, original_shortcuts_and_pretty);
	tcase_add_test(syn, original_bugs_fixed);
	tcase_add_loop_test(syn, standard_syntax, 0, (int)(sizeof(std_ok) / sizeof(std_ok[0])));
	tcase_add_loop_test(syn, standard_rejected, 0, (int)(sizeof(std_bad) / sizeof(std_bad[0])));
	tcase_add_test(syn, format_round_trip);
	tcase_add_test(syn, time_text);
	suite_add_tcase(s, syn);

	TCase *next = tcase_create("next");
	tcase_set_timeout(next, 300);
	tcase_add_loop_test(next, dst_table, 0, (int)(sizeof(dst) / sizeof(dst[0])));
	tcase_add_test(next, every_and_limits);
	tcase_add_loop_test(next, brute_force, 0, (int)(sizeof(xzones) / sizeof(xzones[0])));
	tcase_add_test(next, benchmark);
	suite_add_tcase(s, next);
	return norc_unit_run(s);
}
