/*
 * test_jobdef.c - the pure part of job definitions (jobdef.c): waves (topological levels)
 * and the shortest path that names the cycle an edge would close.
 */
#include "jobdef.h"
#include "unit.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 16
#define MAXE 32

/* A graph as text: "0>2 0>3 1>4" (parent>child pairs). */
static size_t parse_edges(const char *text, struct norc_jobdef_edge *e)
{
	size_t n = 0;
	const char *p = text;
	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10);
		ck_assert(*end == '>');
		unsigned long b = strtoul(end + 1, &end, 10);
		ck_assert(n < MAXE);
		e[n++] = (struct norc_jobdef_edge){a, b};
		p = end;
		while (*p == ' ')
			p++;
	}
	return n;
}

static const struct {
	const char *name;
	size_t n;
	const char *edges;
	int rc;
	int waves[MAXN]; /* expected; 0 = on or below a cycle */
} wave_cases[] = {
	/* the original's test_job: waves {0,1}, {2,4}, {3}, {5} */
	{"original 6-node graph", 6, "0>2 0>3 1>4 2>3 2>5 3>5 4>5", 0, {1, 1, 2, 3, 2, 4}},
	{"no nodes", 0, "", 0, {0}},
	{"one node", 1, "", 0, {1}},
	{"no edges", 3, "", 0, {1, 1, 1}},
	{"chain given backwards", 4, "3>2 2>1 1>0", 0, {4, 3, 2, 1}},
	{"diamond", 4, "0>1 0>2 1>3 2>3", 0, {1, 2, 2, 3}},
	{"the longest path counts", 4, "0>3 0>1 1>2 2>3", 0, {1, 2, 3, 4}},
	{"duplicate edge", 2, "0>1 0>1", 0, {1, 2}},
	{"two components", 5, "0>1 2>3 3>4", 0, {1, 2, 1, 2, 3}},
	{"self loop", 2, "0>0", NORC_EINVAL, {0, 1}},
	{"cycle, with a root and a node below", 5, "0>1 1>2 2>3 3>1 3>4", NORC_EINVAL,
	 {1, 0, 0, 0, 0}},
	{"two-node cycle beside a DAG", 4, "0>1 2>3 3>2", NORC_EINVAL, {1, 2, 0, 0}},
};

START_TEST(waves)
{
	struct norc_jobdef_edge e[MAXE];
	size_t ne = parse_edges(wave_cases[_i].edges, e);
	int got[MAXN];
	memset(got, 0x55, sizeof(got));
	ck_assert_msg(norc_jobdef_waves(wave_cases[_i].n, e, ne, got) == wave_cases[_i].rc, "%s",
		      wave_cases[_i].name);
	for (size_t u = 0; u < wave_cases[_i].n; u++)
		ck_assert_msg(got[u] == wave_cases[_i].waves[u], "%s: node %zu wave %d, wanted %d",
			      wave_cases[_i].name, u, got[u], wave_cases[_i].waves[u]);
}
END_TEST

static const struct {
	const char *name;
	size_t n;
	const char *edges;
	size_t from, to;
	const char *path; /* expected nodes, "" when unreachable */
} path_cases[] = {
	{"to itself", 3, "0>1", 1, 1, "1"},
	{"direct edge", 2, "0>1", 0, 1, "0 1"},
	{"against the edges", 2, "0>1", 1, 0, ""},
	{"shortest of two", 5, "0>1 1>2 2>4 0>3 3>4", 0, 4, "0 3 4"},
	/* dep add c -> a on a -> b -> c: the path from a to c names the cycle a b c (a) */
	{"the cycle an edge would close", 3, "0>1 1>2", 0, 2, "0 1 2"},
	{"unreachable component", 4, "0>1 2>3", 0, 3, ""},
	{"original graph 1 to 5", 6, "0>2 0>3 1>4 2>3 2>5 3>5 4>5", 1, 5, "1 4 5"},
	{"original graph 0 to 5", 6, "0>2 0>3 1>4 2>3 2>5 3>5 4>5", 0, 5, "0 2 5"},
	{"through a cycle", 4, "0>1 1>2 2>1 2>3", 0, 3, "0 1 2 3"},
	{"no edges", 3, "", 0, 2, ""},
};

START_TEST(paths)
{
	struct norc_jobdef_edge e[MAXE];
	size_t ne = parse_edges(path_cases[_i].edges, e);
	size_t path[MAXN];
	size_t len = norc_jobdef_path(path_cases[_i].n, e, ne, path_cases[_i].from,
				      path_cases[_i].to, path);
	char got[128] = "";
	for (size_t k = 0; k < len; k++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%zu", k ? " " : "",
			 path[k]);
	ck_assert_msg(strcmp(got, path_cases[_i].path) == 0, "%s: path '%s', wanted '%s'",
		      path_cases[_i].name, got, path_cases[_i].path);
}
END_TEST

/* A long chain and a wide fan: linear work, the levels come out right. */
START_TEST(large_graphs)
{
	enum { N = 20000 };
	struct norc_jobdef_edge *e = calloc(N, sizeof(*e));
	int *w = calloc(N, sizeof(*w));
	size_t *path = calloc(N, sizeof(*path));
	for (size_t i = 0; i + 1 < N; i++)
		e[i] = (struct norc_jobdef_edge){i, i + 1};
	ck_assert_int_eq(norc_jobdef_waves(N, e, N - 1, w), 0);
	ck_assert_int_eq(w[N - 1], N);
	ck_assert_uint_eq(norc_jobdef_path(N, e, N - 1, 0, N - 1, path), N);
	ck_assert_uint_eq(path[N / 2], N / 2);
	e[N - 1] = (struct norc_jobdef_edge){N - 1, 0}; /* close the chain */
	ck_assert_int_eq(norc_jobdef_waves(N, e, N, w), NORC_EINVAL);
	for (size_t i = 0; i + 1 < N; i++) /* a fan: 0 -> everything */
		e[i] = (struct norc_jobdef_edge){0, i + 1};
	ck_assert_int_eq(norc_jobdef_waves(N, e, N - 1, w), 0);
	ck_assert_int_eq(w[0], 1);
	ck_assert_int_eq(w[N - 1], 2);
	free(e);
	free(w);
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobdef");
	TCase *tc = tcase_create("graph");
	tcase_add_loop_test(tc, waves, 0, (int)(sizeof(wave_cases) / sizeof(wave_cases[0])));
	tcase_add_loop_test(tc, paths, 0, (int)(sizeof(path_cases) / sizeof(path_cases[0])));
	tcase_add_test(tc, large_graphs);
	suite_add_tcase(s, tc);
	return norc_unit_run(s);
}
