/*
 * tz.c - see tz.h. The TZif layout is RFC 8536. We keep only what scheduling needs: the instants
 * at which the UTC offset changes, the offset after each, and the footer's POSIX TZ rule, which
 * governs every instant from the last stored transition on (Debian may ship "slim" files whose
 * future lives only there). Every count read from a file is bounds-checked before use.
 */
#include "tz.h"

#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <norc/plugin.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define MAX_FILE     (1 << 20)
#define MAX_OFF      NORC_TZ_MAX_OFFSET /* so any swing is < 2 days */
#define MAX_TRANS    100000
#define MAX_LEAPS    10000
#define EXAMPLE      "use an IANA name such as Europe/Berlin"

struct rule {
	char kind;      /* 'J' (1-365, Feb 29 never counted), 'D' (0-365), 'M' (month.week.day) */
	int m, w, d, n; /* M: month, week 1-5 (5 = last), weekday 0 = Sunday; J/D: n */
	int32_t time;   /* seconds after local midnight, -167 h .. 167 h */
};

struct posix_tz {
	int32_t std_off, dst_off; /* seconds east of UTC */
	int has_dst;
	struct rule start, end;
};

struct norc_tz {
	char *name;
	int32_t n; /* instants at which the offset changes, ascending */
	int64_t *at;
	int32_t *off; /* offset from at[i] on */
	int32_t off0; /* offset before at[0] (local time type 0) */
	int has_footer;
	int64_t footer_from; /* the footer rules instants >= this (the file's last transition) */
	struct posix_tz rule;
};

struct ft { /* one footer transition */
	int64_t t;
	int32_t off;
};

/* ---- calendar ---------------------------------------------------------------------------- */

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t norc_tz_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floordiv(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void norc_tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	days += 719468;
	int64_t era = floordiv(days, 146097);
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* ---- the footer's POSIX TZ rule ---------------------------------------------------------- */

static int64_t rule_day(int64_t y, const struct rule *r)
{
	int64_t jan1 = norc_tz_days_from_civil(y, 1, 1);
	if (r->kind == 'J')
		return jan1 + r->n - 1 + (is_leap(y) && r->n > 59);
	if (r->kind == 'D')
		return jan1 + r->n;
	int64_t first = norc_tz_days_from_civil(y, r->m, 1);
	int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
	int64_t day = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
	while (day >= first + month_days(y, r->m))
		day -= 7;
	return day;
}

static int64_t year_of(int64_t t)
{
	int64_t y;
	int m, d;
	norc_tz_civil_from_days(floordiv(t, 86400), &y, &m, &d);
	return y;
}

/* The footer's transitions of years y0 .. y0 + ny - 1 in time order (stable: at equal instants
 * a year's end comes before the next year's start, which keeps all-year DST continuous). */
static int footer_list(const struct posix_tz *r, int64_t y0, int ny, struct ft *out)
{
	int k = 0;
	for (int64_t y = y0; y < y0 + ny; y++) {
		int64_t s = rule_day(y, &r->start) * 86400 + r->start.time - r->std_off;
		int64_t e = rule_day(y, &r->end) * 86400 + r->end.time - r->dst_off;
		struct ft a = {s, r->dst_off}, b = {e, r->std_off};
		out[k++] = s <= e ? a : b;
		out[k++] = s <= e ? b : a;
	}
	for (int i = 1; i < k; i++) /* insertion sort: stable */
		for (int j = i; j > 0 && out[j - 1].t > out[j].t; j--) {
			struct ft x = out[j];
			out[j] = out[j - 1];
			out[j - 1] = x;
		}
	return k;
}

static int32_t footer_offset(const struct posix_tz *r, int64_t utc)
{
	if (!r->has_dst)
		return r->std_off;
	struct ft l[8];
	int k = footer_list(r, year_of(utc + r->std_off) - 2, 4, l);
	int32_t off = r->std_off;
	for (int i = 0; i < k && l[i].t <= utc; i++)
		off = l[i].off;
	return off;
}

static int footer_next(const struct posix_tz *r, int64_t u, int32_t cur, int64_t *when,
                       int32_t *before, int32_t *after)
{
	if (!r->has_dst || r->std_off == r->dst_off)
		return NORC_ENOTFOUND;
	struct ft l[8];
	int k = footer_list(r, year_of(u + r->std_off) - 1, 4, l);
	for (int i = 0; i < k;) {
		int j = i;
		while (j + 1 < k && l[j + 1].t == l[i].t) /* apply all changes at one instant */
			j++;
		if (j == k - 1)
			break; /* the window's last group may lack its partner from the next year */
		if (l[i].t > u) {
			if (l[j].off != cur) {
				*when = l[i].t;
				*before = cur;
				*after = l[j].off;
				return NORC_OK;
			}
			cur = l[j].off;
		}
		i = j + 1;
	}
	return NORC_ENOTFOUND; /* all-year DST: the offset never changes */
}

struct cur {
	const char *p;
};

static int digits(struct cur *c, int maxlen, int *out)
{
	int v = 0, n = 0;
	while (*c->p >= '0' && *c->p <= '9' && n < maxlen) {
		v = v * 10 + (*c->p++ - '0');
		n++;
	}
	*out = v;
	return n ? 0 : -1;
}

static int parse_name(struct cur *c)
{
	const char *s = c->p, *b;
	if (*s == '<') {
		b = ++s;
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		       (*s >= '0' && *s <= '9') || *s == '+' || *s == '-')
			s++;
		if (*s != '>' || s == b)
			return -1;
		s++;
	} else {
		b = s;
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
			s++;
		if (s - b < 3)
			return -1;
	}
	c->p = s;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh (24 for offsets, 167 for rule times per RFC 8536). */
static int parse_hms(struct cur *c, int maxh, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;
	if (*c->p == '+' || *c->p == '-')
		sign = *c->p++ == '-' ? -1 : 1;
	if (digits(c, 3, &h) || h > maxh)
		return -1;
	if (*c->p == ':') {
		c->p++;
		if (digits(c, 2, &m) || m > 59)
			return -1;
		if (*c->p == ':') {
			c->p++;
			if (digits(c, 2, &s) || s > 59)
				return -1;
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return 0;
}

static int parse_rule(struct cur *c, struct rule *r)
{
	memset(r, 0, sizeof(*r));
	if (*c->p == 'J') {
		c->p++;
		r->kind = 'J';
		if (digits(c, 3, &r->n) || r->n < 1 || r->n > 365)
			return -1;
	} else if (*c->p == 'M') {
		c->p++;
		r->kind = 'M';
		if (digits(c, 2, &r->m) || r->m < 1 || r->m > 12 || *c->p++ != '.' ||
		    digits(c, 1, &r->w) || r->w < 1 || r->w > 5 || *c->p++ != '.' ||
		    digits(c, 1, &r->d) || r->d > 6)
			return -1;
	} else {
		r->kind = 'D';
		if (digits(c, 3, &r->n) || r->n > 365)
			return -1;
	}
	r->time = 7200;
	if (*c->p == '/') {
		c->p++;
		return parse_hms(c, 167, &r->time);
	}
	return 0;
}

/* "std offset [dst [offset] [,start[/time],end[/time]]]"; POSIX offsets count west. */
static int parse_posix(const char *s, struct posix_tz *r)
{
	struct cur c = {s};
	int32_t v;
	memset(r, 0, sizeof(*r));
	if (parse_name(&c) || parse_hms(&c, 24, &v))
		return -1;
	r->std_off = -v;
	if (*c.p) {
		if (parse_name(&c))
			return -1;
		r->has_dst = 1;
		r->dst_off = r->std_off + 3600;
		if (*c.p && *c.p != ',') {
			if (parse_hms(&c, 24, &v))
				return -1;
			r->dst_off = -v;
		}
		if (*c.p == ',') {
			c.p++;
			if (parse_rule(&c, &r->start) || *c.p++ != ',' || parse_rule(&c, &r->end))
				return -1;
		} else { /* POSIX leaves it to the implementation; glibc's default is US rules */
			r->start = (struct rule){'M', 3, 2, 0, 0, 7200};
			r->end = (struct rule){'M', 11, 1, 0, 0, 7200};
		}
	}
	if (*c.p || r->std_off < -MAX_OFF || r->std_off > MAX_OFF || r->dst_off < -MAX_OFF ||
	    r->dst_off > MAX_OFF)
		return -1;
	return 0;
}

/* ---- TZif -------------------------------------------------------------------------------- */

struct rd {
	const unsigned char *p;
	size_t left;
};

static const unsigned char *take(struct rd *r, uint64_t n)
{
	if (n > r->left)
		return NULL;
	const unsigned char *b = r->p;
	r->p += n;
	r->left -= (size_t)n;
	return b;
}

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int64_t be_time(const unsigned char *b, int size)
{
	if (size == 4)
		return (int32_t)be32(b);
	return (int64_t)((uint64_t)be32(b) << 32 | be32(b + 4));
}

struct hdr {
	int version;
	uint32_t isut, isstd, leap, time, type, chars;
};

static const char *read_hdr(struct rd *r, struct hdr *h)
{
	const unsigned char *b = take(r, 44);
	if (!b)
		return "truncated header";
	if (memcmp(b, "TZif", 4) != 0)
		return "bad magic";
	h->version = b[4];
	h->isut = be32(b + 20);
	h->isstd = be32(b + 24);
	h->leap = be32(b + 28);
	h->time = be32(b + 32);
	h->type = be32(b + 36);
	h->chars = be32(b + 40);
	if (h->type == 0 || h->type > 256)
		return "bad count of local time types";
	if (h->time > MAX_TRANS || h->leap > MAX_LEAPS || h->chars > 65536 || h->isut > h->type ||
	    h->isstd > h->type)
		return "bad counts";
	return NULL;
}

static uint64_t body_size(const struct hdr *h, int ts)
{
	return (uint64_t)h->time * (uint64_t)ts + h->time + (uint64_t)h->type * 6 + h->chars +
	       (uint64_t)h->leap * (uint64_t)(ts + 4) + h->isstd + h->isut;
}

static const char *read_body(struct rd *r, const struct hdr *h, int ts, struct norc_tz *tz)
{
	if (body_size(h, ts) > r->left)
		return "truncated data";
	const unsigned char *tb = take(r, (uint64_t)h->time * (uint64_t)ts);
	const unsigned char *ib = take(r, h->time);
	const unsigned char *yb = take(r, (uint64_t)h->type * 6);
	take(r, h->chars);
	const unsigned char *lb = take(r, (uint64_t)h->leap * (uint64_t)(ts + 4));
	take(r, (uint64_t)h->isstd + h->isut);

	int32_t utoff[256];
	for (uint32_t i = 0; i < h->type; i++) {
		int32_t o = (int32_t)be32(yb + 6 * i);
		if (o < -MAX_OFF || o > MAX_OFF)
			return "UTC offset out of range";
		if (yb[6 * i + 4] > 1 || (h->chars && yb[6 * i + 5] >= h->chars))
			return "bad local time type";
		utoff[i] = o;
	}
	int64_t prev_leap = INT64_MIN;
	for (uint32_t j = 0; j < h->leap; j++) {
		int64_t occ = be_time(lb + (size_t)j * (size_t)(ts + 4), ts);
		int32_t corr = (int32_t)be32(lb + (size_t)j * (size_t)(ts + 4) + (size_t)ts);
		if (occ <= prev_leap || corr < -1000 || corr > 1000)
			return "bad leap second records";
		prev_leap = occ;
	}
	tz->at = norc_xcalloc(h->time ? h->time : 1, sizeof(int64_t));
	tz->off = norc_xcalloc(h->time ? h->time : 1, sizeof(int32_t));
	tz->off0 = utoff[0];
	int32_t prev = utoff[0], corr = 0;
	int64_t last = INT64_MIN;
	uint32_t lj = 0;
	for (uint32_t i = 0; i < h->time; i++) {
		int64_t t = be_time(tb + (size_t)i * (size_t)ts, ts);
		if (t <= last)
			return "transition times out of order";
		if (t < -NORC_TZ_LIMIT || t > NORC_TZ_LIMIT)
			return "transition time out of range";
		last = t;
		if (ib[i] >= h->type)
			return "bad local time type index";
		while (lj < h->leap && be_time(lb + (size_t)lj * (size_t)(ts + 4), ts) <= t)
			corr = (int32_t)be32(lb + (size_t)lj++ * (size_t)(ts + 4) + (size_t)ts);
		int32_t o = utoff[ib[i]];
		if (o != prev) { /* keep only changes of the offset */
			tz->at[tz->n] = t - corr;
			tz->off[tz->n++] = o;
			prev = o;
		}
		tz->footer_from = t - corr;
	}
	if (h->time == 0)
		tz->footer_from = INT64_MIN;
	return NULL;
}

static const char *parse_tzif(const unsigned char *data, size_t len, struct norc_tz *tz)
{
	struct rd r = {data, len};
	struct hdr h;
	const char *why = read_hdr(&r, &h);
	if (why)
		return why;
	if (h.version < '2')
		return read_body(&r, &h, 4, tz);
	if (body_size(&h, 4) > r.left)
		return "truncated data";
	take(&r, body_size(&h, 4)); /* skip the 32-bit data: v2+ repeat it with 64-bit times */
	if ((why = read_hdr(&r, &h)) != NULL)
		return why;
	if ((why = read_body(&r, &h, 8, tz)) != NULL)
		return why;
	const unsigned char *nl = r.left ? memchr(r.p + 1, '\n', r.left - 1) : NULL;
	if (!r.left || r.p[0] != '\n' || !nl)
		return "missing footer";
	size_t flen = (size_t)(nl - r.p - 1);
	if (flen == 0)
		return NULL; /* no rule: the last type stays in effect */
	char footer[256];
	if (flen >= sizeof(footer) || memchr(r.p + 1, '\0', flen))
		return "bad POSIX TZ footer";
	memcpy(footer, r.p + 1, flen);
	footer[flen] = '\0';
	if (parse_posix(footer, &tz->rule))
		return "bad POSIX TZ footer";
	tz->has_footer = 1;
	return NULL;
}

static int valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255 || name[0] == '/' || name[n - 1] == '/' || strstr(name, "..") ||
	    strstr(name, "//"))
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '+' || *p == '-' || *p == '/'))
			return 0;
	return 1;
}

static int read_file(const char *path, unsigned char **data, size_t *len, int *err_no)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err_no = errno;
		return -1;
	}
	struct stat st;
	int bad = fstat(fd, &st) != 0     ? errno
	          : !S_ISREG(st.st_mode)  ? ENOENT /* a directory is not a zone */
	          : st.st_size > MAX_FILE ? EFBIG
	                                  : 0;
	if (bad) {
		*err_no = bad;
		close(fd);
		return -1;
	}
	*data = norc_xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, *data + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			*err_no = k < 0 ? errno : EIO;
			close(fd);
			NORC_FREE(*data);
			return -1;
		}
		got += (size_t)k;
	}
	close(fd);
	*len = got;
	return 0;
}

int norc_tz_load(const char *name, struct norc_tz **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!name || !valid_name(name))
		return norc_err_set(
		    err, errlen, NORC_EINVAL,
		    "invalid time zone name '%.100s': %s (letters, digits, _ + - /)",
		    name ? name : "", EXAMPLE);
	struct norc_tz *tz = norc_xcalloc(1, sizeof(*tz));
	tz->name = norc_xstrdup(name);
	if (strcmp(name, "UTC") == 0) {
		tz->footer_from = INT64_MIN;
		*out = tz;
		return NORC_OK;
	}
	const char *dir = getenv("NORC_ZONEINFO_DIR");
	if (!dir || !*dir)
		dir = ZONEINFO_DIR;
	char *path = norc_xasprintf("%s/%s", dir, name);
	unsigned char *data = NULL;
	size_t len = 0;
	int e = 0, rc = NORC_OK;
	const char *why;
	if (read_file(path, &data, &len, &e) != 0) {
		if (e == ENOENT || e == ENOTDIR)
			rc = norc_err_set(err, errlen, NORC_ENOTFOUND,
			                  "unknown time zone '%s': not found under %s; %s", name,
			                  dir, EXAMPLE);
		else
			rc = norc_err_set(err, errlen, NORC_EIO,
			                  "time zone '%s': cannot read %s: %s", name, path,
			                  strerror(e));
	} else if ((why = parse_tzif(data, len, tz)) != NULL) {
		rc = norc_err_set(
		    err, errlen, NORC_EINVAL,
		    "time zone '%s': %s is not a valid TZif file (%s); reinstall tzdata", name,
		    path, why);
	}
	free(data);
	free(path);
	if (rc != NORC_OK) {
		norc_tz_free(tz);
		return rc;
	}
	*out = tz;
	return NORC_OK;
}

void norc_tz_free(struct norc_tz *tz)
{
	if (!tz)
		return;
	free(tz->name);
	free(tz->at);
	free(tz->off);
	free(tz);
}

const char *norc_tz_name(const struct norc_tz *tz)
{
	return tz ? tz->name : "UTC";
}

static int32_t offset_at(const struct norc_tz *tz, int64_t utc)
{
	if (!tz)
		return 0;
	if (tz->has_footer && utc >= tz->footer_from)
		return footer_offset(&tz->rule, utc);
	int32_t lo = 0, hi = tz->n; /* first at[] > utc */
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= utc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? tz->off0 : tz->off[lo - 1];
}

int norc_tz_offset_at(const struct norc_tz *tz, int64_t utc, int32_t *offset_s)
{
	if (utc < -NORC_TZ_LIMIT || utc > NORC_TZ_LIMIT)
		return NORC_EINVAL;
	*offset_s = offset_at(tz, utc);
	return NORC_OK;
}

int norc_tz_next_transition(const struct norc_tz *tz, int64_t utc, int64_t *when,
                            int32_t *off_before, int32_t *off_after)
{
	if (utc < -NORC_TZ_LIMIT || utc > NORC_TZ_LIMIT)
		return NORC_EINVAL;
	if (!tz)
		return NORC_ENOTFOUND;
	int32_t cur = offset_at(tz, utc);
	if (!tz->has_footer || utc < tz->footer_from) {
		int32_t lo = 0, hi = tz->n;
		while (lo < hi) {
			int32_t mid = lo + (hi - lo) / 2;
			if (tz->at[mid] <= utc)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (int32_t i = lo; i < tz->n && (!tz->has_footer || tz->at[i] < tz->footer_from);
		     i++) {
			if (tz->off[i] != cur) {
				*when = tz->at[i];
				*off_before = cur;
				*off_after = tz->off[i];
				return NORC_OK;
			}
		}
		if (!tz->has_footer)
			return NORC_ENOTFOUND;
		int32_t o = footer_offset(&tz->rule, tz->footer_from); /* the footer takes over */
		if (o != cur) {
			*when = tz->footer_from;
			*off_before = cur;
			*off_after = o;
			return NORC_OK;
		}
		utc = tz->footer_from;
	}
	return footer_next(&tz->rule, utc, cur, when, off_before, off_after);
}

int norc_tz_local_to_utc(const struct norc_tz *tz, int64_t local, int64_t *utc)
{
	if (local < -NORC_TZ_LIMIT + 2 * MAX_OFF || local > NORC_TZ_LIMIT - 2 * MAX_OFF)
		return NORC_EINVAL;
	int64_t t = local - MAX_OFF - 1; /* t + offset < local for every t up to here */
	int32_t off = offset_at(tz, t);
	for (int guard = 0; guard < 64; guard++) { /* a few transitions lie within 2 days */
		if (t + off >= local) {
			*utc = t;
			return NORC_OK;
		}
		int64_t T;
		int32_t ob, oa;
		int rc = norc_tz_next_transition(tz, t, &T, &ob, &oa);
		if (rc == NORC_ENOTFOUND || local - off < T) {
			*utc = local - off;
			return NORC_OK;
		}
		if (rc != NORC_OK)
			return rc;
		t = T;
		off = oa;
	}
	return NORC_EINVAL;
}
