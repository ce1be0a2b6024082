/*
 * test_sched.c - the schedule timeline (sched.c: catch-up policies, grace, bounds, period
 * grids and cron rules) and the scheduler's indexed heap (schedheap.c, against a naive model).
 */
#include "cron.h"
#include "sched.h"
#include "schedheap.h"
#include "tz.h"
#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define S INT64_C(1000000)

static struct norc_sched period(int64_t next, int64_t period_s, int policy, int max)
{
	return (struct norc_sched){.id = 1, .next_fire = next, .period_us = period_s * S,
				   .catch_up = policy, .catch_up_max = max};
}

static struct norc_sched cron(const char *expr, int64_t next, int policy, int max)
{
	struct norc_sched x = {.id = 1, .next_fire = next, .is_cron = true, .catch_up = policy,
			       .catch_up_max = max};
	char err[256];
	ck_assert_msg(norc_cron_parse(expr, NULL, NULL, &x.cron, err, sizeof(err)) == 0, "%s", err);
	return x;
}

START_TEST(on_time_and_grace)
{
	int64_t now = 1000000 * S;
	for (int policy = 0; policy < 3; policy++) {
		struct norc_sched x = period(now - S / 1000, 60, policy, 0); /* 1 ms late */
		struct norc_sched_plan p;
		ck_assert_int_eq(norc_sched_plan(&x, now, &p), 0);
		ck_assert_int_eq(p.fire, now - S / 1000);
		ck_assert_int_eq(p.next, now - S / 1000 + 60 * S);
		ck_assert_int_eq(p.skipped, 0);
	}
	/* 30 s late, still the only due one: skip drops it, latest and all run it */
	struct norc_sched x = period(now - 30 * S, 60, NORC_CATCH_UP_SKIP, 0);
	struct norc_sched_plan p;
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, 0);
	ck_assert_int_eq(p.skipped, 1);
	ck_assert_int_eq(p.next, now + 30 * S);
	x = period(now - 30 * S, 60, NORC_CATCH_UP_LATEST, 0);
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, now - 30 * S);
	/* period 0: every repetition at once, whatever the policy */
	x = period(now - 3600 * S, 0, NORC_CATCH_UP_SKIP, 0);
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, now - 3600 * S);
	ck_assert_int_eq(p.next, now - 3600 * S + 1);
}
END_TEST

START_TEST(behind_period)
{
	int64_t now = 1000000 * S, t = now - 600 * S + 7 * S; /* 10 fire times missed, 7 s off grid */
	struct norc_sched_plan p;
	struct norc_sched x = period(t, 60, NORC_CATCH_UP_LATEST, 0);
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, t + 9 * 60 * S); /* the newest, on the schedule's own grid */
	ck_assert_int_eq(p.skipped, 9);
	ck_assert_int_eq(p.first_skipped, t);
	ck_assert_int_eq(p.last_skipped, t + 8 * 60 * S);
	ck_assert_int_eq(p.next, t + 10 * 60 * S);

	x = period(t, 60, NORC_CATCH_UP_SKIP, 0); /* the newest is 53 s late: missed too */
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, 0);
	ck_assert_int_eq(p.skipped, 10);
	ck_assert_int_eq(p.next, t + 10 * 60 * S);

	x = period(t, 60, NORC_CATCH_UP_ALL, 0); /* all: the oldest first, then back to back */
	int64_t fired[20];
	int n = 0;
	for (;;) {
		norc_sched_plan(&x, now, &p);
		if (!p.fire || p.fire > now)
			break;
		ck_assert_int_eq(p.skipped, 0);
		fired[n++] = p.fire;
		x.next_fire = p.next;
		if (x.next_fire > now)
			break;
	}
	ck_assert_int_eq(n, 10);
	ck_assert_int_eq(fired[0], t);
	ck_assert_int_eq(fired[9], t + 9 * 60 * S);

	x = period(t, 60, NORC_CATCH_UP_ALL, 3); /* bounded: the newest 3, the rest said skipped */
	norc_sched_plan(&x, now, &p);
	ck_assert(p.bounded);
	ck_assert_int_eq(p.skipped, 7);
	ck_assert_int_eq(p.fire, t + 7 * 60 * S);
	x.next_fire = p.next;
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, t + 8 * 60 * S);
	ck_assert_int_eq(p.skipped, 0);
}
END_TEST

START_TEST(behind_cron)
{
	/* every minute, down for a day (2026-01-01 00:00:00 UTC = 1767225600) */
	int64_t day = 1767225600, now = (day + 86400 + 30) * S;
	struct norc_sched x = cron("0 * * * * *", day * S, NORC_CATCH_UP_LATEST, 0);
	struct norc_sched_plan p;
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, (day + 86400) * S);
	ck_assert_int_eq(p.skipped, 1440);
	ck_assert_int_eq(p.next, (day + 86400 + 60) * S);
	x = cron("0 * * * * *", day * S, NORC_CATCH_UP_ALL, 100);
	norc_sched_plan(&x, now, &p);
	ck_assert(p.bounded);
	ck_assert_int_eq(p.fire, (day + 86400 - 99 * 60) * S);
	ck_assert_int_eq(p.skipped, 1441 - 100);
	/* every second, down for a year: still a quick, counted decision */
	x = cron("* * * * * *", (day - 365 * 86400) * S, NORC_CATCH_UP_LATEST, 0);
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, (day + 86400 + 30) * S);
	ck_assert(p.skipped_more);
	/* a rare rule far behind: the newest is found by looking back in growing windows */
	x = cron("0 0 12 29 2 *", (day - 20 * 365 * 86400) * S, NORC_CATCH_UP_LATEST, 0);
	norc_sched_plan(&x, now, &p);
	ck_assert_int_eq(p.fire, INT64_C(1709208000) * S); /* 2024-02-29T12:00:00Z */
}
END_TEST

START_TEST(policy_names)
{
	int pol, max;
	ck_assert_int_eq(norc_sched_catch_up_parse("all:25", &pol, &max), 0);
	ck_assert_int_eq(pol, NORC_CATCH_UP_ALL);
	ck_assert_int_eq(max, 25);
	ck_assert_int_eq(norc_sched_catch_up_parse("LATEST", &pol, &max), 0);
	ck_assert_int_eq(pol, NORC_CATCH_UP_LATEST);
	ck_assert_int_ne(norc_sched_catch_up_parse("all:0", &pol, &max), 0);
	ck_assert_int_ne(norc_sched_catch_up_parse("skip:3", &pol, &max), 0);
	ck_assert_int_ne(norc_sched_catch_up_parse("some", &pol, &max), 0);
	ck_assert_int_eq(norc_sched_overlap_parse("queue"), NORC_OVERLAP_QUEUE);
	ck_assert_int_eq(norc_sched_overlap_parse("never"), -1);
	ck_assert_str_eq(norc_sched_catch_up_name(0), "skip");
}
END_TEST

/* The heap against a naive array: random puts (new and replacing), removes and pops. */
START_TEST(heap_random)
{
	struct norc_sched_heap h = {0};
	enum { IDS = 3000 };
	static int64_t due[IDS]; /* 0 = absent */
	memset(due, 0, sizeof(due));
	srand(7);
	for (int op = 0; op < 200000; op++) {
		int64_t id = 1 + rand() % (IDS - 1);
		int r = rand() % 10;
		if (r < 6) {
			struct norc_sched x = {.id = id, .due = 1 + rand() % 100000};
			norc_sched_heap_put(&h, &x);
			due[id] = x.due;
		} else if (r < 8) {
			ck_assert_int_eq(norc_sched_heap_remove(&h, id), due[id] != 0);
			due[id] = 0;
		} else {
			struct norc_sched top;
			int64_t min = 0;
			for (int i = 1; i < IDS; i++)
				if (due[i] && (!min || due[i] < min))
					min = due[i];
			ck_assert_int_eq(norc_sched_heap_pop(&h, &top), min != 0);
			if (min) {
				ck_assert_int_eq(top.due, min);
				ck_assert_int_eq(due[top.id], min);
				due[top.id] = 0;
			}
		}
		if (op % 1000 == 0) { /* every present id is found, at its due time */
			size_t n = 0;
			for (int i = 1; i < IDS; i++) {
				struct norc_sched *f = norc_sched_heap_find(&h, i);
				ck_assert_int_eq(f != NULL, due[i] != 0);
				if (f) {
					ck_assert_int_eq(f->due, due[i]);
					n++;
				}
			}
			ck_assert_uint_eq(n, h.n);
		}
	}
	norc_sched_heap_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("pure");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, on_time_and_grace);
	tcase_add_test(tc, behind_period);
	tcase_add_test(tc, behind_cron);
	tcase_add_test(tc, policy_names);
	tcase_add_test(tc, heap_random);
	suite_add_tcase(s, tc);
	return norc_unit_run(s);
}
