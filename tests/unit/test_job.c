/*
 * test_job.c - the decisions of a running job (norc_job_decide, job.h), without a database:
 * the original's waves, failures and what they leave unrun, stopping, retries' partial
 * graphs, and random DAGs run to the end under random failures.
 */
#include "job.h"
#include "status.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#define MAXN 64

struct sim {
	struct norc_job_node n[MAXN];
	struct norc_job_edge e[MAXN * 4];
	struct norc_job_graph g;
};

static void sim_init(struct sim *s, size_t nodes, const int (*edges)[2], size_t nedges)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < nodes; i++)
		s->n[i] = (struct norc_job_node){.node_id = 100 + (int64_t)i,
						 .instance_id = 1000 + (int64_t)i,
						 .status = NORC_ST_CREATED, .waiting = true,
						 .name = "n"};
	for (size_t k = 0; k < nedges; k++)
		s->e[k] = (struct norc_job_edge){100 + edges[k][0], 100 + edges[k][1]};
	s->g = (struct norc_job_graph){s->n, nodes, s->e, nedges};
}

/* Apply the marks as job.c does: pushed nodes leave waiting, not_run ones end NOT_RUN. */
static unsigned apply(struct sim *s)
{
	unsigned pushed = 0;
	for (size_t i = 0; i < s->g.nnodes; i++) {
		if (s->n[i].push) {
			ck_assert(s->n[i].waiting);
			s->n[i].waiting = false;
			pushed |= 1u << i;
		}
		if (s->n[i].not_run)
			s->n[i].status = NORC_ST_NOT_RUN;
	}
	return pushed;
}

static const int orig[][2] = {{0, 2}, {0, 3}, {1, 4}, {2, 3}, {2, 5}, {3, 5}, {4, 5}};

START_TEST(original_waves)
{
	struct sim s;
	sim_init(&s, 6, orig, 7);
	unsigned want[] = {0x3, 0x14, 0x8, 0x20};
	int final;
	for (size_t w = 0; w < 4; w++) {
		ck_assert_int_eq(norc_job_decide(&s.g, false, &final), NORC_JOB_GOES_ON);
		unsigned got = apply(&s);
		ck_assert_uint_eq(got, want[w]);
		for (size_t i = 0; i < 6; i++) /* the wave runs and succeeds */
			if (got & (1u << i))
				s.n[i].status = NORC_ST_SUCCESS;
	}
	ck_assert_int_eq(norc_job_decide(&s.g, false, &final), NORC_JOB_DONE);
	ck_assert_int_eq(final, NORC_ST_SUCCESS);
	ck_assert_uint_eq(apply(&s), 0);
}
END_TEST

START_TEST(failure_leaves_descendants_unrun)
{
	struct sim s;
	sim_init(&s, 6, orig, 7);
	int final;
	norc_job_decide(&s.g, false, &final);
	apply(&s);
	s.n[0].status = NORC_ST_FAILURE; /* 0 fails: 2, 3 and 5 can never run; 1 -> 4 goes on */
	s.n[1].status = NORC_ST_SUCCESS;
	ck_assert_int_eq(norc_job_decide(&s.g, false, &final), NORC_JOB_GOES_ON);
	ck_assert(s.n[2].not_run && s.n[3].not_run && s.n[5].not_run);
	ck_assert_int_eq(s.n[2].cause, 0);
	ck_assert_int_eq(s.n[5].cause, 0); /* the root cause, not the unrun parent */
	ck_assert(s.n[4].push && !s.n[4].not_run);
	ck_assert_uint_eq(apply(&s), 1u << 4);
	s.n[4].status = NORC_ST_SUCCESS;
	ck_assert_int_eq(norc_job_decide(&s.g, false, &final), NORC_JOB_DONE);
	ck_assert_int_eq(final, NORC_ST_FAILURE);
}
END_TEST

START_TEST(stop_unruns_everything_not_started)
{
	struct sim s;
	sim_init(&s, 6, orig, 7);
	int final;
	norc_job_decide(&s.g, false, &final);
	apply(&s);
	s.n[0].status = NORC_ST_RUNNING; /* 1 is queued (CREATED, not waiting) */
	ck_assert_int_eq(norc_job_decide(&s.g, true, &final), NORC_JOB_GOES_ON);
	for (size_t i = 1; i < 6; i++)
		ck_assert(s.n[i].not_run && s.n[i].cause == -1);
	ck_assert(!s.n[0].not_run);
	apply(&s);
	s.n[0].status = NORC_ST_INTERRUPTED;
	ck_assert_int_eq(norc_job_decide(&s.g, true, &final), NORC_JOB_DONE);
	ck_assert_int_eq(final, NORC_ST_FAILURE);
}
END_TEST

START_TEST(empty_and_partial_graphs)
{
	struct sim s;
	int final;
	sim_init(&s, 0, orig, 0);
	ck_assert_int_eq(norc_job_decide(&s.g, false, &final), NORC_JOB_DONE);
	ck_assert_int_eq(final, NORC_ST_SUCCESS);
	/* a retry holds only nodes 3 and 5 (ids 103, 105): edges from 0, 2, 4 are ignored */
	sim_init(&s, 2, orig, 7);
	s.n[0].node_id = 103;
	s.n[1].node_id = 105;
	ck_assert_int_eq(norc_job_decide(&s.g, false, &final), NORC_JOB_GOES_ON);
	ck_assert(s.n[0].push && !s.n[1].push);
	/* idempotent: the same graph, the same marks */
	ck_assert_int_eq(norc_job_decide(&s.g, false, &final), NORC_JOB_GOES_ON);
	ck_assert(s.n[0].push && !s.n[1].push && !s.n[1].not_run);
}
END_TEST

/* Random DAGs (edges only from lower to higher index), nodes failing at random: every node
 * is pushed at most once and only when all its parents succeeded, a node is unrun exactly
 * when some ancestor failed, and the job always reaches DONE with the right status. */
START_TEST(random_dags)
{
	srand(12345);
	for (int round = 0; round < 2000; round++) {
		struct sim s;
		int n = 1 + rand() % 20, ne = 0;
		int edges[MAXN * 4][2];
		for (int c = 1; c < n; c++)
			for (int p = 0; p < c; p++)
				if (rand() % 4 == 0 && ne < MAXN * 4) {
					edges[ne][0] = p;
					edges[ne][1] = c;
					ne++;
				}
		sim_init(&s, (size_t)n, (const int(*)[2])edges, (size_t)ne);
		bool fails[MAXN];
		bool any_fail_ran = false;
		for (int i = 0; i < n; i++)
			fails[i] = rand() % 8 == 0;
		int final, turns = 0;
		while (norc_job_decide(&s.g, false, &final) == NORC_JOB_GOES_ON) {
			ck_assert_int_lt(turns++, 100);
			unsigned pushed = apply(&s);
			for (int i = 0; i < n; i++) {
				if (!(pushed & (1u << i)))
					continue;
				for (int k = 0; k < ne; k++)
					if (edges[k][1] == i)
						ck_assert_int_eq(s.n[edges[k][0]].status,
								 NORC_ST_SUCCESS);
				s.n[i].status = fails[i] ? NORC_ST_FAILURE : NORC_ST_SUCCESS;
				any_fail_ran |= fails[i];
			}
			/* a queued node that was not pushed this turn must not stay queued */
			for (int i = 0; i < n; i++)
				ck_assert(s.n[i].waiting || s.n[i].status != NORC_ST_CREATED);
		}
		apply(&s);
		/* unrun exactly when an ancestor failed or was unrun */
		for (int i = 0; i < n; i++) {
			bool blocked = false;
			for (int k = 0; k < ne; k++)
				if (edges[k][1] == i && s.n[edges[k][0]].status != NORC_ST_SUCCESS)
					blocked = true;
			ck_assert_int_eq(s.n[i].status == NORC_ST_NOT_RUN, blocked);
		}
		ck_assert_int_eq(final, any_fail_ran ? NORC_ST_FAILURE : NORC_ST_SUCCESS);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("decide");
	tcase_add_test(tc, original_waves);
	tcase_add_test(tc, failure_leaves_descendants_unrun);
	tcase_add_test(tc, stop_unruns_everything_not_started);
	tcase_add_test(tc, empty_and_partial_graphs);
	tcase_add_test(tc, random_dags);
	suite_add_tcase(s, tc);
	return norc_unit_run(s);
}
