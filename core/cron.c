/*
 * cron.c - see cron.h. Parsing, canonical text, and the next fire time: a calendar search on
 * wall time as if it were UTC (cal_next, with lower fields reset whenever a higher one carries),
 * mapped to instants through the zone's intervals of constant offset. No loop visits seconds,
 * minutes or hours one by one, and every search is bounded.
 */
#include "cron.h"

#include "clock.h"
#include "mem.h"

#include <norc/plugin.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FULL_SEC  ((UINT64_C(1) << 60) - 1)
#define FULL_HOUR ((UINT32_C(1) << 24) - 1)
#define FULL_DOM  (((UINT32_C(1) << 31) - 1) << 1)
#define FULL_MON  ((uint16_t)(((1u << 12) - 1) << 1))
#define FULL_DOW  ((uint8_t)0x7f)
#define MAX_TEXT  1024
#define HORIZON_Y 401 /* the Gregorian calendar repeats every 400 years */
#define YEAR_S    (INT64_C(31536000))
#define AFTER_MAX (INT64_C(1) << 40)

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
static const char *const shortcuts[] = {"HALFHOURLY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY"};

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int weekday(int64_t days) /* 0 = Sunday; 1970-01-01 was a Thursday */
{
	return (int)(((days + 4) % 7 + 7) % 7);
}

static int month_days(int64_t y, int m)
{
	static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : md[m - 1];
}

static int next_bit(uint64_t set, int from) /* lowest member >= from, or -1 */
{
	if (from > 63)
		return -1;
	uint64_t m = set >> from;
	return m ? from + __builtin_ctzll(m) : -1;
}

static int count(uint64_t set)
{
	return __builtin_popcountll(set);
}

static int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static int is_alpha(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static int is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int is_space(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static uint32_t draw(uint32_t (*rnd)(void *), void *ctx, uint32_t n)
{
	return rnd ? rnd(ctx) % n : 0;
}

/* ---- text building ----------------------------------------------------------------------- */

struct sb {
	char *buf;
	size_t len, pos;
	int over;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sb *b, const char *fmt, ...)
{
	if (b->over)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->buf + b->pos, b->len - b->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->pos)
		b->over = 1;
	else
		b->pos += (size_t)n;
}

static void sb_str(struct sb *b, const char *s)
{
	if (b->over)
		return;
	size_t n = strlen(s);
	if (n >= b->len - b->pos) {
		b->over = 1;
		return;
	}
	memcpy(b->buf + b->pos, s, n + 1);
	b->pos += n;
}

/* Members of set in lo..hi, comma-separated. Compact (mode 1 or 2): a progression of 3 or
 * more members as a-b/n ("*\/n" in mode 2, for fields where '*' sets no flag), runs of 3 or
 * more as a-b. */
static void put_list(struct sb *b, uint64_t set, int lo, int hi, int mode)
{
	int first = next_bit(set, lo), second = first < 0 ? -1 : next_bit(set, first + 1);
	if (mode && second > first + 1 && count(set) >= 3) {
		int step = second - first, last = first, prog = 1;
		for (int v = second; v >= 0 && v <= hi; v = next_bit(set, v + 1)) {
			prog = prog && v == last + step;
			last = v;
		}
		if (prog && mode == 2 && first == lo && last + step > hi) {
			sb_add(b, "*/%d", step);
			return;
		}
		if (prog) {
			sb_add(b, "%d-%d/%d", first, last, step);
			return;
		}
	}
	int sep = 0;
	for (int v = lo; v <= hi; v++) {
		if (!(set >> v & 1))
			continue;
		int e = v;
		while (mode && e + 1 <= hi && (set >> (e + 1) & 1))
			e++;
		sb_add(b, sep ? ",%d" : "%d", v);
		if (e >= v + 2)
			sb_add(b, "-%d", e);
		else
			e = v;
		v = e;
		sep = 1;
	}
}

/* A set whose field was written starting with '*': "*", "*\/n", or "*\/n,rest". */
static void put_star(struct sb *b, uint64_t set, int lo, int hi)
{
	if (!(set >> lo & 1)) { /* cannot come from '*'; keep the set at least */
		put_list(b, set, lo, hi, 1);
		return;
	}
	for (int n = 1; n <= hi - lo + 1; n++) {
		uint64_t stepped = 0;
		for (int v = lo; v <= hi; v += n)
			stepped |= UINT64_C(1) << v;
		if ((stepped & set) != stepped)
			continue;
		if (n == 1)
			sb_str(b, "*");
		else
			sb_add(b, "*/%d", n);
		if (set & ~stepped) {
			sb_str(b, ",");
			put_list(b, set & ~stepped, lo, hi, 1);
		}
		return;
	}
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* One line "cron expression 'TEXT': WHAT" into err; returns NORC_EINVAL. */
static int fail(char *err, size_t errlen, const char *text, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, const char *text, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return norc_err_set(err, errlen, NORC_EINVAL, "cron expression '%.200s': %s", text, what);
}

static int64_t number(const char **pp) /* digits, saturating at 10^9 */
{
	int64_t v = 0;
	while (is_digit(**pp)) {
		v = v < INT64_C(1000000000) ? v * 10 + (**pp - '0') : v;
		(*pp)++;
	}
	return v;
}

/* ---- the original's odwhms encoding ---- */

static const char okey_letters[] = "odwhms";

static const struct okey {
	int lo, hi;
	const char *what;
} okeys[] = {
    {1, 12, "months are 1-12"}, {1, 31, "days are 1-31"},    {0, 6, "weekdays are 0-6, 0 = Monday"},
    {0, 23, "hours are 0-23"},  {0, 59, "minutes are 0-59"}, {0, 59, "seconds are 0-59"},
};

/* A value: '*' (then star = 1) or a comma list of numbers. -1 when malformed; else 0, with
 * bad and badlen set to the first number outside lo..hi, if any. */
static int okey_value(const char **pp, int lo, int hi, uint64_t *bits, int *star, const char **bad,
                      size_t *badlen)
{
	const char *p = *pp;
	*bits = 0;
	*star = *p == '*';
	if (*star) {
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		const char *n = p;
		if (!is_digit(*p))
			return -1;
		int64_t v = number(&p);
		if (!*bad && (v < lo || v > hi)) {
			*bad = n;
			*badlen = (size_t)(p - n);
		} else if (v >= lo && v <= hi) {
			*bits |= UINT64_C(1) << v;
		}
		if (*p != ',')
			break;
		p++;
	}
	*pp = p;
	return 0;
}

static int parse_original(const char *text, const char *s, uint32_t (*rnd)(void *), void *ctx,
                          struct norc_cron *c, char *err, size_t errlen)
{
	uint64_t set[6];
	int given[6] = {0}, star[6] = {0};
	const char *p = s;
	while (*p) {
		const char *k = p, *bad = NULL;
		size_t badlen = 0;
		while (is_alpha(*p))
			p++;
		int klen = (int)(p - k);
		const char *kc = klen == 1 ? strchr(okey_letters, lower(*k)) : NULL;
		int i = kc ? (int)(kc - okey_letters) : 0, is_star;
		uint64_t bits;
		if (!klen || okey_value(&p, kc ? okeys[i].lo : 0, kc ? okeys[i].hi : 63, &bits,
		                        &is_star, &bad, &badlen))
			return fail(
			    err, errlen, text,
			    "invalid formatting in '%.100s' (expected keys o d w h m s, each "
			    "followed by * or a comma list of numbers)",
			    k);
		if (!kc)
			return fail(err, errlen, text,
			            "invalid key '%.*s' (keys are o d w h m s: months, days, "
			            "weekdays, hours, minutes, seconds)",
			            klen > 40 ? 40 : klen, k);
		if (bad)
			return fail(err, errlen, text, "invalid number %.*s for key '%c' (%s)",
			            (int)(badlen > 20 ? 20 : badlen), bad, okey_letters[i],
			            okeys[i].what);
		given[i] = 1;
		star[i] = is_star;
		set[i] = bits;
	}
	for (int i = 0; i < 6; i++) {
		uint64_t full = 0;
		for (int v = okeys[i].lo; v <= okeys[i].hi; v++)
			full |= UINT64_C(1) << v;
		if (!given[i] && i == 5) { /* the original: an omitted s is one random second */
			set[i] = UINT64_C(1) << draw(rnd, ctx, 60);
			continue;
		}
		if (!given[i] || star[i])
			set[i] = full;
		star[i] = set[i] == full; /* the original normalises a full list to '*' */
	}
	c->mon = (uint16_t)set[0];
	c->dom = (uint32_t)set[1];
	c->dow = 0;
	for (int w = 0; w < 7; w++) /* 0 = Monday -> 0 = Sunday */
		if (set[2] >> w & 1)
			c->dow |= (uint8_t)(1u << ((w + 1) % 7));
	c->hour = (uint32_t)set[3];
	c->min = set[4];
	c->sec = set[5];
	c->dom_star = star[1];
	c->dow_star = star[2];
	c->hour_star = star[3];
	return NORC_OK;
}

static void original_shortcut(int which, uint32_t (*rnd)(void *), void *ctx, struct norc_cron *c)
{
	c->mon = FULL_MON;
	c->dom = FULL_DOM;
	c->dow = FULL_DOW;
	c->hour = FULL_HOUR;
	c->dom_star = c->dow_star = c->hour_star = true;
	c->sec = UINT64_C(1) << draw(rnd, ctx, 60);
	if (which == 0) { /* HALFHOURLY */
		uint32_t m = draw(rnd, ctx, 30);
		c->min = UINT64_C(1) << m | UINT64_C(1) << (m + 30);
		return;
	}
	c->min = UINT64_C(1) << draw(rnd, ctx, 60);
	if (which == 1) /* HOURLY */
		return;
	c->hour = UINT32_C(1) << draw(rnd, ctx, 24);
	c->hour_star = false;
	if (which == 3) { /* WEEKLY */
		c->dow = (uint8_t)(1u << draw(rnd, ctx, 7));
		c->dow_star = false;
	} else if (which == 4) { /* MONTHLY */
		c->dom = UINT32_C(1) << (1 + draw(rnd, ctx, 28));
		c->dom_star = false;
	}
}

/* ---- standard cron ---- */

static const struct field {
	const char *name;
	int lo, hi, star_hi; /* values lo..hi accepted; '*' means lo..star_hi */
	const char *const *names;
	int names_lo, nnames;
} fields[6] = {
    {"second", 0, 59, 59, NULL, 0, 0},        {"minute", 0, 59, 59, NULL, 0, 0},
    {"hour", 0, 23, 23, NULL, 0, 0},          {"day-of-month", 1, 31, 31, NULL, 0, 0},
    {"month", 1, 12, 12, month_names, 1, 12}, {"day-of-week", 0, 7, 6, dow_names, 0, 7},
};

/* A number or a three-letter name: 0, or -1 malformed, -2 out of range, -3 unknown name. */
static int field_value(const char **pp, const struct field *f, int *out)
{
	const char *p = *pp;
	if (is_digit(*p)) {
		int64_t v = number(&p);
		*pp = p;
		*out = (int)v;
		return v < f->lo || v > f->hi ? -2 : 0;
	}
	if (!f->names || !is_alpha(*p))
		return -1;
	const char *b = p;
	while (is_alpha(*p))
		p++;
	*pp = p;
	for (int i = 0; i < f->nnames && p - b == 3; i++) {
		const char *n = f->names[i];
		if (lower(b[0]) == lower(n[0]) && lower(b[1]) == lower(n[1]) &&
		    lower(b[2]) == lower(n[2])) {
			*out = f->names_lo + i;
			return 0;
		}
	}
	return -3;
}

/* One item: '*', a, a-b, each optionally /step ("a/step" = a-max/step), into lo..hi bounds. */
static int field_item(const char **pp, const struct field *f, int *a, int *b, int *step,
                      const char **what)
{
	int rc = 0, single = 0;
	*step = 1;
	if (**pp == '*') {
		*a = f->lo;
		*b = f->star_hi;
		(*pp)++;
	} else if ((rc = field_value(pp, f, a)) == 0 && **pp == '-') {
		(*pp)++;
		rc = field_value(pp, f, b);
		if (rc == 0 && *a > *b)
			return -4;
	} else {
		*b = *a;
		single = 1;
	}
	if (rc)
		return rc;
	if (**pp == '/') {
		const char *n = ++*pp;
		int64_t v = number(pp);
		*what = n;
		if (*pp == n)
			return -5;
		if (v == 0 || v > f->star_hi - f->lo + 1)
			return -6;
		*step = (int)v;
		if (single)
			*b = f->star_hi > *a ? f->star_hi : *a;
	}
	return 0;
}

static int parse_field(const char *text, const char *s, const struct field *f, uint64_t *set,
                       bool *star, char *err, size_t errlen)
{
	const char *p = s;
	*set = 0;
	*star = *s == '*';
	for (;;) {
		const char *item = p, *step_text = NULL;
		int a = 0, b = 0, step = 1;
		switch (field_item(&p, f, &a, &b, &step, &step_text)) {
		case 0: break;
		case -2:
			return fail(err, errlen, text, "%s %.*s out of range (%d-%d)", f->name,
			            (int)(p - item > 20 ? 20 : p - item), item, f->lo, f->hi);
		case -3:
			return fail(err, errlen, text, "unknown name in %s field '%.60s'", f->name,
			            s);
		case -4:
			return fail(err, errlen, text, "%s range %d-%d is reversed", f->name, a, b);
		case -5:
			return fail(err, errlen, text, "missing step in %s field '%.60s'", f->name,
			            s);
		case -6:
			return fail(err, errlen, text,
			            "step %.*s in %s field is out of range (1-%d)",
			            (int)(p - step_text > 20 ? 20 : p - step_text), step_text,
			            f->name, f->star_hi - f->lo + 1);
		default: return fail(err, errlen, text, "invalid %s field '%.60s'", f->name, s);
		}
		for (int v = a; v <= b; v += step)
			*set |= UINT64_C(1) << (f->hi == 7 && v == 7 ? 0 : v);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\0')
			return NORC_OK;
		return fail(err, errlen, text, "invalid %s field '%.60s'", f->name, s);
	}
}

static int parse_standard(const char *text, const char *s, struct norc_cron *c, char *err,
                          size_t errlen)
{
	char buf[MAX_TEXT + 1], *fv[7];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *p = buf; *p && n < 7;) {
		while (is_space(*p))
			*p++ = '\0';
		if (!*p)
			break;
		fv[n++] = p;
		while (*p && !is_space(*p))
			p++;
	}
	if (n != 5 && n != 6)
		return fail(err, errlen, text,
		            "expected 5 fields (minute hour day-of-month month day-of-week) or 6 "
		            "(second first), found %s%d",
		            n == 7 ? "more than " : "", n == 7 ? 6 : n);
	uint64_t set[6];
	bool star[6];
	int first = n == 5 ? 1 : 0;
	set[0] = 1;
	for (int i = first; i < 6; i++) {
		int rc =
		    parse_field(text, fv[i - first], &fields[i], &set[i], &star[i], err, errlen);
		if (rc)
			return rc;
	}
	c->sec = set[0];
	c->min = set[1];
	c->hour = (uint32_t)set[2];
	c->dom = (uint32_t)set[3];
	c->mon = (uint16_t)set[4];
	c->dow = (uint8_t)set[5];
	c->hour_star = star[2];
	c->dom_star = star[3];
	c->dow_star = star[5];
	return NORC_OK;
}

/* "90" (seconds) or number+unit groups: "30s", "5m", "1h30m", "2d". */
static int parse_every(const char *text, const char *s, struct norc_cron *c, char *err,
                       size_t errlen)
{
	int64_t total = 0;
	const char *p = s;
	int ok = *p != '\0';
	while (ok && *p) {
		const char *n = p;
		int64_t v = number(&p), mul = 0;
		switch (lower(*p)) {
		case 'd': mul = 86400; break;
		case 'h': mul = 3600; break;
		case 'm': mul = 60; break;
		case 's': mul = 1; break;
		case '\0': mul = n == s ? 1 : 0; break; /* a bare number is seconds */
		}
		ok = p != n && mul;
		if (*p)
			p++;
		total += v * mul;
		if (total > 1000 * YEAR_S)
			total = 1000 * YEAR_S;
	}
	if (!ok)
		return fail(err, errlen, text,
		            "bad @every duration '%.60s' (use e.g. 90, 30s, 5m, 1h30m)", s);
	if (total < 1 || total >= YEAR_S)
		return fail(err, errlen, text, "@every needs at least 1 s and less than a year");
	c->every = total;
	return NORC_OK;
}

static int parse_at(const char *text, const char *s, struct norc_cron *c, char *err, size_t errlen)
{
	static const struct {
		const char *name, *expr;
	} at[] = {
	    {"@yearly", "0 0 0 1 1 *"}, {"@annually", "0 0 0 1 1 *"}, {"@monthly", "0 0 0 1 * *"},
	    {"@weekly", "0 0 0 * * 0"}, {"@daily", "0 0 0 * * *"},    {"@midnight", "0 0 0 * * *"},
	    {"@hourly", "0 0 * * * *"},
	};
	size_t n = 0, k = 0;
	while (s[n] && !is_space(s[n]))
		n++;
	const char *rest = s + n;
	while (is_space(*rest))
		rest++;
	if (n == 6 && strncasecmp(s, "@every", 6) == 0) {
		char d[64];
		while (rest[k] && !is_space(rest[k]) && k < sizeof(d) - 1) {
			d[k] = rest[k];
			k++;
		}
		d[k] = '\0';
		if (!k || rest[k]) /* trimmed: anything left is a second word */
			return fail(err, errlen, text,
			            "@every takes one duration (e.g. @every 90s, @every 1h30m)");
		return parse_every(text, d, c, err, errlen);
	}
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		if (strlen(at[i].name) != n || strncasecmp(s, at[i].name, n) != 0)
			continue;
		if (*rest)
			return fail(err, errlen, text, "unexpected text after %s", at[i].name);
		return parse_standard(text, at[i].expr, c, err, errlen);
	}
	return fail(err, errlen, text,
	            "unknown shortcut '%.*s' (use @yearly @annually @monthly @weekly @daily "
	            "@midnight @hourly or @every DURATION)",
	            (int)(n > 40 ? 40 : n), s);
}

/* Days of month (AND mode) must exist in some allowed month; Feb has 29 in leap years. */
static int check_fires(const char *text, const struct norc_cron *c, char *err, size_t errlen)
{
	if (!c->dom_star && !c->dow_star)
		return NORC_OK; /* ORed: every month has every weekday */
	for (int m = 1; m <= 12; m++) {
		if (!(c->mon >> m & 1))
			continue;
		int md = m == 2 ? 29 : month_days(1, m);
		if (c->dom & (((UINT32_C(1) << md) - 1) << 1))
			return NORC_OK;
	}
	char days[200];
	struct sb b = {days, sizeof(days), 0, 0};
	put_list(&b, c->dom, 1, 31, 0);
	return norc_err_set(err, errlen, NORC_EINVAL,
	                    "cron expression '%.200s' never fires (no allowed month has day %s)",
	                    text, days);
}

int norc_cron_parse(const char *text, uint32_t (*rnd)(void *), void *rnd_ctx, struct norc_cron *out,
                    char *err, size_t errlen)
{
	struct norc_cron c;
	memset(&c, 0, sizeof(c));
	memset(out, 0, sizeof(*out));
	if (!text)
		text = "";
	if (strlen(text) > MAX_TEXT)
		return norc_err_set(err, errlen, NORC_EINVAL,
		                    "cron expression '%.40s...': too long (over %d characters)",
		                    text, MAX_TEXT);
	char t[MAX_TEXT + 1];
	const char *s = text;
	while (is_space(*s))
		s++;
	size_t n = strlen(s);
	while (n && is_space(s[n - 1]))
		n--;
	memcpy(t, s, n);
	t[n] = '\0';
	int rc = -1;
	if (t[0] == '@') {
		rc = parse_at(text, t, &c, err, errlen);
	} else if (is_alpha(t[0]) || !t[0]) { /* the original's encoding or shortcuts */
		for (int i = 0; i < 5 && rc; i++)
			if (strcasecmp(t, shortcuts[i]) == 0) {
				original_shortcut(i, rnd, rnd_ctx, &c);
				rc = NORC_OK;
			}
		if (rc) {
			char packed[MAX_TEXT + 1];
			size_t k = 0;
			for (const char *p = t; *p; p++)
				if (!is_space(*p))
					packed[k++] = *p;
			packed[k] = '\0';
			rc = parse_original(text, packed, rnd, rnd_ctx, &c, err, errlen);
		}
	} else {
		rc = parse_standard(text, t, &c, err, errlen);
	}
	if (rc == NORC_OK && !c.every)
		rc = check_fires(text, &c, err, errlen);
	if (rc == NORC_OK)
		*out = c;
	return rc;
}

int norc_cron_equal(const struct norc_cron *a, const struct norc_cron *b)
{
	return a->every == b->every && a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
	       a->dom == b->dom && a->mon == b->mon && a->dow == b->dow &&
	       a->dom_star == b->dom_star && a->dow_star == b->dow_star &&
	       a->hour_star == b->hour_star;
}

/* ---- formatting -------------------------------------------------------------------------- */

int norc_cron_format(const struct norc_cron *c, char *buf, size_t len)
{
	if (!len)
		return NORC_EINVAL;
	struct sb b = {buf, len, 0, 0};
	buf[0] = '\0';
	if (c->every) {
		sb_add(&b, "@every %llds", (long long)c->every);
		return b.over ? NORC_EINVAL : NORC_OK;
	}
	if (c->sec == FULL_SEC)
		sb_str(&b, "*");
	else
		put_list(&b, c->sec, 0, 59, 2);
	sb_str(&b, " ");
	if (c->min == FULL_SEC)
		sb_str(&b, "*");
	else
		put_list(&b, c->min, 0, 59, 2);
	sb_str(&b, " ");
	if (c->hour_star)
		put_star(&b, c->hour, 0, 23);
	else
		put_list(&b, c->hour, 0, 23, 1);
	sb_str(&b, " ");
	if (c->dom_star)
		put_star(&b, c->dom, 1, 31);
	else
		put_list(&b, c->dom, 1, 31, 1);
	sb_str(&b, " ");
	if (c->mon == FULL_MON)
		sb_str(&b, "*");
	else
		put_list(&b, c->mon, 1, 12, 2);
	sb_str(&b, " ");
	if (c->dow_star)
		put_star(&b, c->dow, 0, 6);
	else
		put_list(&b, c->dow, 0, 6, 1);
	return b.over ? NORC_EINVAL : NORC_OK;
}

int norc_cron_format_original(const struct norc_cron *c, char *buf, size_t len)
{
	if (!len)
		return NORC_EINVAL;
	buf[0] = '\0';
	if (c->every)
		return NORC_EINVAL;
	uint64_t w = 0; /* 0 = Monday */
	for (int d = 0; d < 7; d++)
		if (c->dow >> d & 1)
			w |= UINT64_C(1) << ((d + 6) % 7);
	const struct {
		char key;
		uint64_t set, full;
		int lo, hi;
	} f[6] = {
	    {'o', c->mon, FULL_MON, 1, 12}, {'d', c->dom, FULL_DOM, 1, 31},
	    {'w', w, FULL_DOW, 0, 6},       {'h', c->hour, FULL_HOUR, 0, 23},
	    {'m', c->min, FULL_SEC, 0, 59}, {'s', c->sec, FULL_SEC, 0, 59},
	};
	struct sb b = {buf, len, 0, 0};
	for (int i = 0; i < 6; i++) {
		sb_add(&b, "%c", f[i].key);
		if (f[i].set == f[i].full)
			sb_str(&b, "*");
		else
			put_list(&b, f[i].set, f[i].lo, f[i].hi, 0);
	}
	return b.over ? NORC_EINVAL : NORC_OK;
}

const char *norc_cron_pretty(const struct norc_cron *c, char *buf, size_t len)
{
	const char *name = NULL;
	int every_day = c->dom_star && c->dom == FULL_DOM && c->dow_star && c->dow == FULL_DOW;
	int hourly = c->hour_star && c->hour == FULL_HOUR;
	int one_time = count(c->min) == 1 && count(c->sec) == 1;
	if (!c->every && c->mon == FULL_MON && count(c->sec) == 1) {
		int m0 = next_bit(c->min, 0);
		if (every_day && hourly && count(c->min) == 2 &&
		    next_bit(c->min, m0 + 1) == m0 + 30)
			name = "HALFHOURLY";
		else if (every_day && hourly && one_time)
			name = "HOURLY";
		else if (one_time && !c->hour_star && count(c->hour) == 1) {
			if (every_day)
				name = "DAILY";
			else if (c->dom_star && c->dom == FULL_DOM && !c->dow_star &&
			         count(c->dow) == 1)
				name = "WEEKLY";
			else if (c->dow_star && c->dow == FULL_DOW && !c->dom_star &&
			         count(c->dom) == 1 && next_bit(c->dom, 1) <= 28)
				name = "MONTHLY";
		}
	}
	if (len == 0)
		return buf;
	if (name)
		snprintf(buf, len, "%s", name);
	else if (norc_cron_format(c, buf, len) != NORC_OK)
		buf[0] = '\0';
	return buf;
}

/* ---- next fire time ---------------------------------------------------------------------- */

static int day_ok(const struct norc_cron *c, int d, int wd)
{
	int dm = (int)(c->dom >> d & 1), wm = c->dow >> wd & 1;
	return c->dom_star || c->dow_star ? dm && wm : dm || wm;
}

/* The first wall time >= l0 that matches c, counting wall time in seconds as if it were UTC. */
static int cal_next(const struct norc_cron *c, int64_t l0, int64_t *out)
{
	int64_t days = floordiv(l0, 86400), y;
	int sod = (int)(l0 - days * 86400), m, d;
	norc_tz_civil_from_days(days, &y, &m, &d);
	int h = sod / 3600, mi = sod / 60 % 60, s = sod % 60;
	int64_t ylim = y + HORIZON_Y;
	for (;;) {
		if (y > ylim)
			return NORC_ENOTFOUND;
		if (!(c->mon >> m & 1)) {
			int nm = next_bit(c->mon, m + 1);
			if (nm < 0) {
				y++;
				nm = next_bit(c->mon, 1);
			}
			m = nm;
			d = 1;
			h = mi = s = 0;
			continue;
		}
		int md = month_days(y, m);
		if (d <= md) {
			int wd = weekday(norc_tz_days_from_civil(y, m, d));
			while (d <= md && !day_ok(c, d, wd)) {
				d++;
				wd = (wd + 1) % 7;
				h = mi = s = 0;
			}
		}
		if (d > md) {
			d = 1;
			h = mi = s = 0;
			if (++m > 12) {
				m = 1;
				y++;
			}
			continue;
		}
		int nh = next_bit(c->hour, h);
		if (nh < 0) {
			d++;
			h = mi = s = 0;
			continue;
		}
		if (nh != h) {
			h = nh;
			mi = s = 0;
		}
		int nmi = next_bit(c->min, mi);
		if (nmi < 0) {
			h++;
			mi = s = 0;
			if (h > 23) {
				h = 0;
				d++;
			}
			continue;
		}
		if (nmi != mi) {
			mi = nmi;
			s = 0;
		}
		int ns = next_bit(c->sec, s);
		if (ns < 0) {
			s = 0;
			if (++mi > 59) {
				mi = 0;
				if (++h > 23) {
					h = 0;
					d++;
				}
			}
			continue;
		}
		*out = norc_tz_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + ns;
		return NORC_OK;
	}
}

/* hour_star: every instant t > after whose wall time matches, walking intervals of constant
 * offset. The last calendar answer is reused while it stays valid, so a sparse schedule costs
 * one offset lookup per transition. */
static int next_absolute(const struct norc_cron *c, const struct norc_tz *tz, int64_t after,
                         int64_t *next)
{
	int64_t t = after + 1, from = 0, match = -1, end = after + HORIZON_Y * 366 * INT64_C(86400);
	int32_t off, ob, oa;
	int have = 0, rc = norc_tz_offset_at(tz, t, &off);
	if (rc)
		return rc;
	while (t <= end) {
		int64_t T;
		int trc = norc_tz_next_transition(tz, t, &T, &ob, &oa);
		if (trc != NORC_OK && trc != NORC_ENOTFOUND)
			return trc;
		int64_t q = t + off;
		if (!have || q < from || q > match) {
			if ((rc = cal_next(c, q, &match)) != NORC_OK)
				return rc;
			from = q;
			have = 1;
		}
		if (trc == NORC_ENOTFOUND || match - off < T) {
			*next = match - off;
			return NORC_OK;
		}
		t = T;
		off = oa;
	}
	return NORC_ENOTFOUND;
}

static int sets_ok(const struct norc_cron *c)
{
	return c->sec && !(c->sec & ~FULL_SEC) && c->min && !(c->min & ~FULL_SEC) && c->hour &&
	       !(c->hour & ~FULL_HOUR) && c->dom && !(c->dom & ~FULL_DOM) && c->mon &&
	       !(c->mon & ~FULL_MON) && c->dow && !(c->dow & ~FULL_DOW);
}

int norc_cron_next(const struct norc_cron *c, const struct norc_tz *tz, int64_t after,
                   int64_t *next)
{
	if (after < -AFTER_MAX || after > AFTER_MAX)
		return NORC_EINVAL;
	if (c->every < 0 || c->every > YEAR_S || (!c->every && !sets_ok(c)))
		return NORC_EINVAL; /* not from norc_cron_parse */
	if (c->every) {
		*next = after + c->every;
		return NORC_OK;
	}
	if (c->hour_star)
		return next_absolute(c, tz, after, next);
	/* W = the latest wall time shown up to `after`: its own, or one before a fall back. */
	int32_t off, ob, oa;
	int rc = norc_tz_offset_at(tz, after, &off);
	if (rc)
		return rc;
	int64_t w = after + off, t = after - 2 * NORC_TZ_MAX_OFFSET - 1, T;
	for (int guard = 0; guard < 64; guard++) {
		if (norc_tz_next_transition(tz, t, &T, &ob, &oa) != NORC_OK || T > after)
			break;
		if (T - 1 + ob > w)
			w = T - 1 + ob;
		t = T;
	}
	int64_t l;
	if ((rc = cal_next(c, w + 1, &l)) != NORC_OK)
		return rc;
	/* The first instant whose wall time reaches l: its first occurrence, or the jump. */
	return norc_tz_local_to_utc(tz, l, next);
}

/* ---- instants as text -------------------------------------------------------------------- */

int norc_cron_format_time(int64_t utc, const struct norc_tz *tz, char *buf, size_t len)
{
	int32_t off;
	if (!len || norc_tz_offset_at(tz, utc, &off) != NORC_OK)
		return NORC_EINVAL;
	int64_t l = utc + off, days = floordiv(l, 86400), y;
	int sod = (int)(l - days * 86400), m, d;
	norc_tz_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return NORC_EINVAL;
	int a = off < 0 ? -off : off;
	int n =
	    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (int)y, m, d, sod / 3600,
	             sod / 60 % 60, sod % 60, off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
	if (n >= 0 && a % 60 && (size_t)n < len) /* historical local mean time */
		n += snprintf(buf + n, len - (size_t)n, ":%02d", a % 60);
	return n < 0 || (size_t)n >= len ? NORC_EINVAL : NORC_OK;
}

static int num(const char **pp, int width, int *out)
{
	int v = 0;
	for (int i = 0; i < width; i++) {
		if (!is_digit((*pp)[i]))
			return -1;
		v = v * 10 + ((*pp)[i] - '0');
	}
	*pp += width;
	*out = v;
	return 0;
}

int norc_cron_parse_time(const char *text, const struct norc_tz *tz, int64_t *utc, char *err,
                         size_t errlen)
{
	const char *p = text ? text : "";
	if (strcmp(p, "now") == 0) {
		*utc = floordiv(norc_clock_now_us(), NORC_US_PER_SEC);
		return NORC_OK;
	}
	if (*p == '@') {
		const char *q = p + 1;
		int neg = *q == '-';
		q += neg;
		int64_t v = 0;
		const char *n = q;
		while (is_digit(*q) && q - n < 15)
			v = v * 10 + (*q++ - '0');
		if (q != n && !*q) {
			*utc = neg ? -v : v;
			return NORC_OK;
		}
	} else {
		int y, mo, d, h, mi, s = 0, oh = 0, om = 0, sign = 0;
		const char *q = p;
		int ok = !num(&q, 4, &y) && *q++ == '-' && !num(&q, 2, &mo) && *q++ == '-' &&
		         !num(&q, 2, &d) && (*q == 'T' || *q == 't' || *q == ' ') && q++ &&
		         !num(&q, 2, &h) && *q++ == ':' && !num(&q, 2, &mi);
		if (ok && *q == ':')
			ok = (q++, !num(&q, 2, &s));
		if (ok && (*q == 'Z' || *q == 'z')) {
			q++;
			sign = 1;
		} else if (ok && (*q == '+' || *q == '-')) {
			sign = *q++ == '-' ? -1 : 1;
			ok = !num(&q, 2, &oh);
			if (ok && *q == ':')
				q++;
			if (ok && is_digit(*q))
				ok = !num(&q, 2, &om);
		}
		if (ok && !*q && mo >= 1 && mo <= 12 && d >= 1 && d <= month_days(y, mo) &&
		    h <= 23 && mi <= 59 && s <= 59 && oh <= 25 && om <= 59) {
			int64_t l =
			    norc_tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
			if (sign) {
				*utc = l - sign * (oh * 3600 + om * 60);
				return NORC_OK;
			}
			if (norc_tz_local_to_utc(tz, l, utc) == NORC_OK)
				return NORC_OK;
		}
	}
	return norc_err_set(err, errlen, NORC_EINVAL,
	                    "invalid time '%.100s': use YYYY-MM-DDTHH:MM:SS with an optional "
	                    "offset (Z, +HH:MM), 'now' or @EPOCHSECONDS",
	                    p);
}
