/*
 * sched.c - see sched.h. Cron rules can only be walked forwards (norc_cron_next), so "the
 * newest fire times before now" are found by walking growing windows that end at now.
 */
#include "sched.h"
#include "mem.h"

#include <norc/plugin.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define US INT64_C(1000000)
#define WALK_LIMIT 100000 /* skipped fire times are counted up to this ("more than N") */

int norc_sched_after(const struct norc_sched *x, int64_t t, int64_t *next)
{
	if (!x->is_cron) {
		*next = t + (x->period_us > 0 ? x->period_us : 1);
		return NORC_OK;
	}
	/* whole seconds: the first fire second strictly after t's second... */
	int64_t s = t >= 0 ? t / US : -((-t + US - 1) / US);
	int64_t n;
	int rc = norc_cron_next(&x->cron, x->tz, s, &n);
	if (rc != NORC_OK)
		return NORC_ENOTFOUND;
	*next = n * US;
	return NORC_OK;
}

/* Walk the fire times in [from, to]: count them (up to limit) and keep the newest. A ring of
 * `keep` slots (may be NULL) receives the newest `keep` of them. */
struct walk {
	int64_t count, newest;
	bool more; /* stopped at the limit */
	int64_t *ring;
	int64_t keep;
};

static void walk(const struct norc_sched *x, int64_t from, int64_t to, int64_t limit,
		 struct walk *w)
{
	w->count = 0;
	w->newest = 0;
	w->more = false;
	int64_t t;
	if (!x->is_cron && x->period_us > 0) { /* arithmetic on the grid of next_fire, exact */
		int64_t a = x->next_fire;
		t = from <= a ? a : a + ((from - a + x->period_us - 1) / x->period_us) * x->period_us;
		if (t > to)
			return;
		int64_t n = (to - t) / x->period_us + 1;
		w->more = n > limit;
		w->count = w->more ? limit : n;
		w->newest = t + (n - 1) * x->period_us;
		for (int64_t k = 0; w->ring && k < w->keep && k < n; k++)
			w->ring[(n - 1 - k) % w->keep] = w->newest - k * x->period_us;
		return;
	}
	if (norc_sched_after(x, from - 1, &t) != NORC_OK)
		return;
	while (t <= to) {
		if (w->count == limit) {
			w->more = true;
			return;
		}
		if (w->ring)
			w->ring[w->count % w->keep] = t;
		w->count++;
		w->newest = t;
		if (norc_sched_after(x, t, &t) != NORC_OK)
			return;
	}
}

/* The newest fire time in [from, now], looking back in growing windows so a long backlog is
 * never walked whole. 0 when there is none. */
static int64_t newest_until(const struct norc_sched *x, int64_t from, int64_t now)
{
	static const int64_t windows[] = {3600, 86400, 32 * 86400, 367 * 86400, 1462 * 86400,
					  10228 * 86400, 146098 * INT64_C(86400)};
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		int64_t start = now - windows[i] * US;
		struct walk w = {0};
		walk(x, start > from ? start : from, now, WALK_LIMIT, &w);
		while (w.more) { /* a very dense rule: keep walking from where it stopped */
			int64_t again = w.newest + 1;
			walk(x, again, now, WALK_LIMIT, &w);
		}
		if (w.count)
			return w.newest;
		if (start <= from)
			break;
	}
	return 0;
}

static void note_skipped(struct norc_sched_plan *p, int64_t first, int64_t last, int64_t n,
			 bool more)
{
	p->skipped = n;
	p->skipped_more = more;
	p->first_skipped = first;
	p->last_skipped = last;
}

int norc_sched_plan(struct norc_sched *x, int64_t now, struct norc_sched_plan *p)
{
	memset(p, 0, sizeof(*p));
	int64_t t = x->next_fire, t2 = 0;
	bool has_t2 = norc_sched_after(x, t, &t2) == NORC_OK;
	if (!x->is_cron && x->period_us == 0) { /* all repetitions at once */
		p->fire = t;
		p->next = t2;
		return NORC_OK;
	}
	if (x->catching_up_until && t <= x->catching_up_until) { /* an "all" catch-up goes on */
		p->fire = t;
		p->next = has_t2 ? t2 : 0;
		return NORC_OK;
	}
	x->catching_up_until = 0;
	if (!has_t2 || t2 > now) { /* one fire time is due */
		if (now - t <= NORC_SCHED_GRACE_US || x->catch_up != NORC_CATCH_UP_SKIP)
			p->fire = t;
		else
			note_skipped(p, t, t, 1, false);
		p->next = has_t2 ? t2 : 0;
		return NORC_OK;
	}
	/* behind by at least one whole interval */
	int64_t latest = newest_until(x, t, now);
	struct walk w = {0};
	switch (x->catch_up) {
	case NORC_CATCH_UP_ALL: {
		int64_t max = x->catch_up_max > 0 ? x->catch_up_max : NORC_SCHED_CATCH_UP_MAX;
		walk(x, t, now, max + 1, &w);
		x->catching_up_until = now;
		if (!w.more) {
			p->fire = t;
			p->next = t2;
			return NORC_OK;
		}
		/* more than max missed: fire the newest max, from the max-th newest on */
		static const int64_t windows[] = {60, 3600, 86400, 32 * 86400, 367 * 86400,
						  1462 * 86400, 10228 * 86400};
		int64_t *ring = malloc((size_t)max * sizeof(int64_t));
		if (!ring)
			return NORC_ENOMEM;
		int64_t start = t;
		for (size_t i = 0; i <= sizeof(windows) / sizeof(windows[0]); i++) {
			int64_t ws = i < sizeof(windows) / sizeof(windows[0])
					     ? now - windows[i] * US
					     : t;
			if (ws < t)
				ws = t; /* [t, now] holds more than max: this window is enough */
			struct walk c = {.ring = ring, .keep = max};
			walk(x, ws, now, INT64_MAX, &c);
			if (c.count >= max) {
				start = ring[c.count % max]; /* the oldest of the newest max */
				break;
			}
		}
		free(ring);
		struct walk skipped = {0};
		walk(x, t, start - 1, WALK_LIMIT, &skipped);
		note_skipped(p, t, skipped.newest, skipped.count, skipped.more);
		p->bounded = true;
		p->fire = start;
		norc_sched_after(x, start, &p->next);
		return NORC_OK;
	}
	case NORC_CATCH_UP_LATEST:
	case NORC_CATCH_UP_SKIP:
	default:
		walk(x, t, latest - 1, WALK_LIMIT, &w);
		if (x->catch_up != NORC_CATCH_UP_SKIP || now - latest <= NORC_SCHED_GRACE_US) {
			p->fire = latest;
			if (w.count)
				note_skipped(p, t, w.newest, w.count, w.more);
		} else {
			note_skipped(p, t, latest, w.count + 1, w.more);
		}
		if (norc_sched_after(x, latest, &p->next) != NORC_OK)
			p->next = 0;
		return NORC_OK;
	}
}

static const char *const catch_up_names[] = {"skip", "latest", "all"};
static const char *const overlap_names[] = {"allow", "skip", "queue"};

int norc_sched_catch_up_parse(const char *text, int *policy, int *max)
{
	*max = 0;
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(catch_up_names[i]);
		if (strncasecmp(text, catch_up_names[i], n) != 0)
			continue;
		if (text[n] == '\0') {
			*policy = i;
			return NORC_OK;
		}
		if (i == NORC_CATCH_UP_ALL && text[n] == ':') {
			char *end;
			long v = strtol(text + n + 1, &end, 10);
			if (*end || end == text + n + 1 || v < 1 || v > 1000000)
				return NORC_EINVAL;
			*policy = i;
			*max = (int)v;
			return NORC_OK;
		}
	}
	return NORC_EINVAL;
}

const char *norc_sched_catch_up_name(int policy)
{
	return policy >= 0 && policy < 3 ? catch_up_names[policy] : NULL;
}

int norc_sched_overlap_parse(const char *text)
{
	for (int i = 0; i < 3; i++)
		if (strcasecmp(text, overlap_names[i]) == 0)
			return i;
	return -1;
}

const char *norc_sched_overlap_name(int overlap)
{
	return overlap >= 0 && overlap < 3 ? overlap_names[overlap] : NULL;
}
