/*
 * jobdef.c - see jobdef.h.
 *
 * Every edit runs as edit(): resolve the job, open a write transaction, lock the job's tasks
 * row (the first statement, so that under MariaDB's READ COMMITTED every read after it sees
 * what the previous editor committed), then check and write. The checks load the job's graph
 * (nodes in id order, edges as pairs of node numbers) and ask the pure functions: waves for
 * `show`, a shortest path for the cycle an edge would close. Nesting (a node whose task is a
 * Job) is checked on the graph of jobs: an edge J -> K for every node of live job J running
 * Job K.
 *
 * Removing a node deletes its row and its edges. Instances of finished runs that ran it keep
 * their task and job instance but no longer point at the node (job_node_id NULL): the node is
 * gone, so a retry of such a run does not run it again. While a run that started the node is
 * still going, the removal is refused.
 *
 * Single-threaded like the rest of the core; nothing here is signal-safe. Every string
 * argument is borrowed; every json_t handed out is the caller's.
 */
#include "jobdef.h"
#include "mem.h"
#include "model.h"
#include "status.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NARGS(a) (sizeof(a) / sizeof((a)[0]))
#define NONE SIZE_MAX

/* ---- the pure part ---- */

/* The children of node u are adj[start[u] .. start[u + 1] - 1]. Caller frees both. */
static void children(size_t n, const struct norc_jobdef_edge *e, size_t ne, size_t **start,
		     size_t **adj)
{
	size_t *s = norc_xcalloc(n + 1, sizeof(*s));
	size_t *a = norc_xcalloc(ne ? ne : 1, sizeof(*a));
	for (size_t i = 0; i < ne; i++) {
		assert(e[i].parent < n && e[i].child < n);
		s[e[i].parent + 1]++;
	}
	for (size_t u = 0; u < n; u++)
		s[u + 1] += s[u];
	for (size_t i = 0; i < ne; i++) /* s[u] walks to the start of u + 1 ... */
		a[s[e[i].parent]++] = e[i].child;
	for (size_t u = n; u > 0; u--) /* ... and is moved back */
		s[u] = s[u - 1];
	s[0] = 0;
	*start = s;
	*adj = a;
}

int norc_jobdef_waves(size_t n, const struct norc_jobdef_edge *edges, size_t nedges, int *waves)
{
	size_t *start, *adj;
	children(n, edges, nedges, &start, &adj);
	size_t *parents = norc_xcalloc(n ? n : 1, sizeof(*parents)); /* not yet placed */
	size_t *ready = norc_xcalloc(n ? n : 1, sizeof(*ready));
	for (size_t i = 0; i < nedges; i++)
		parents[edges[i].child]++;
	size_t head = 0, tail = 0;
	for (size_t u = 0; u < n; u++) {
		waves[u] = parents[u] ? 0 : 1;
		if (!parents[u])
			ready[tail++] = u;
	}
	while (head < tail) { /* Kahn's order: a node is placed after all its parents */
		size_t u = ready[head++];
		for (size_t k = start[u]; k < start[u + 1]; k++) {
			size_t v = adj[k];
			if (waves[v] < waves[u] + 1)
				waves[v] = waves[u] + 1;
			if (--parents[v] == 0)
				ready[tail++] = v;
		}
	}
	for (size_t u = 0; tail < n && u < n; u++)
		if (parents[u]) /* on a cycle, or below one */
			waves[u] = 0;
	free(start);
	free(adj);
	free(parents);
	free(ready);
	return tail == n ? NORC_OK : NORC_EINVAL;
}

size_t norc_jobdef_path(size_t n, const struct norc_jobdef_edge *edges, size_t nedges,
			size_t from, size_t to, size_t *path)
{
	assert(from < n && to < n);
	if (from == to) {
		path[0] = from;
		return 1;
	}
	size_t *start, *adj;
	children(n, edges, nedges, &start, &adj);
	size_t *pred = norc_xmalloc(n * sizeof(*pred)), *todo = norc_xmalloc(n * sizeof(*todo));
	for (size_t u = 0; u < n; u++)
		pred[u] = NONE;
	size_t head = 0, tail = 0;
	pred[from] = from;
	todo[tail++] = from;
	while (head < tail && pred[to] == NONE) { /* breadth first: the shortest path */
		size_t u = todo[head++];
		for (size_t k = start[u]; k < start[u + 1]; k++)
			if (pred[adj[k]] == NONE) {
				pred[adj[k]] = u;
				todo[tail++] = adj[k];
			}
	}
	size_t len = 0;
	if (pred[to] != NONE) {
		for (size_t u = to; u != from; u = pred[u])
			len++;
		len++;
		size_t i = len;
		for (size_t u = to; i > 0; u = pred[u])
			path[--i] = u;
	}
	free(start);
	free(adj);
	free(pred);
	free(todo);
	return len;
}

/* ---- helpers ---- */

/* "first -> names[path[0]] -> ... -> last" (first and last may be NULL). Caller frees. */
static char *chain(const char *first, const char *const *names, const size_t *path, size_t len,
		   const char *last)
{
	size_t size = 1;
	const char *part[3] = {first, NULL, last};
	for (int k = 0; k < 3; k += 2)
		size += part[k] ? strlen(part[k]) + 4 : 0;
	for (size_t i = 0; i < len; i++)
		size += strlen(names[path[i]]) + 4;
	char *s = norc_xmalloc(size);
	s[0] = '\0';
	for (size_t i = 0; i < len + 2; i++) {
		const char *p = i == 0 ? first : i == len + 1 ? last : names[path[i - 1]];
		if (p)
			snprintf(s + strlen(s), size - strlen(s), "%s%s", *s ? " -> " : "", p);
	}
	return s;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sort ids and drop repeats; returns how many are left. */
static size_t sort_unique(int64_t *ids, size_t n)
{
	qsort(ids, n, sizeof(*ids), cmp_id);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || ids[i] != ids[u - 1])
			ids[u++] = ids[i];
	return u;
}

/* Position of id in ids (sorted, n entries), or NONE. */
static size_t id_index(const int64_t *ids, size_t n, int64_t id)
{
	const int64_t *p = n ? bsearch(&id, ids, n, sizeof(*ids), cmp_id) : NULL;
	return p ? (size_t)(p - ids) : NONE;
}

static int64_t row_int(json_t *row, const char *key)
{
	return json_integer_value(json_object_get(row, key));
}

static const char *row_text(json_t *row, const char *key)
{
	return json_string_value(json_object_get(row, key));
}

static int dberr(struct norc_db *db, int rc, char *err, size_t errlen, const char *what)
{
	return norc_err_set(err, errlen, rc, "%s: %s", what, norc_db_errmsg(db));
}

/* A job's graph: "nodes" rows in id order and "edges" rows, as node numbers. */
struct graph {
	json_t *nodes, *edges;
	size_t n, ne;
	int64_t *ids;                  /* node ids, ascending */
	const char **names;            /* borrowed from nodes */
	struct norc_jobdef_edge *e;
};

static void graph_free(struct graph *g)
{
	json_decref(g->nodes);
	json_decref(g->edges);
	free(g->ids);
	free(g->names);
	free(g->e);
	memset(g, 0, sizeof(*g));
}

static int graph_load(struct norc_db *db, int64_t job_id, struct graph *g)
{
	static const struct norc_col node_cols[] = {
		{"id", NORC_COL_INT},     {"name", NORC_COL_TEXT}, {"task", NORC_COL_TEXT},
		{"task_id", NORC_COL_INT}, {"type", NORC_COL_TEXT},
	};
	static const struct norc_col edge_cols[] = {
		{"parent_id", NORC_COL_INT}, {"child_id", NORC_COL_INT},
		{"parent", NORC_COL_TEXT},   {"child", NORC_COL_TEXT},
	};
	memset(g, 0, sizeof(*g));
	struct norc_arg a[] = {NORC_AI(job_id)};
	int rc = norc_model_query(db,
				  "SELECT n.id, n.name, t.name, n.task_id, t.type FROM job_nodes n "
				  "JOIN tasks t ON t.id = n.task_id WHERE n.job_id = ? ORDER BY n.id",
				  a, 1, node_cols, NARGS(node_cols), &g->nodes);
	if (rc == NORC_OK)
		rc = norc_model_query(db,
				      "SELECT d.parent_id, d.child_id, p.name, c.name FROM job_deps "
				      "d JOIN job_nodes p ON p.id = d.parent_id JOIN job_nodes c ON "
				      "c.id = d.child_id WHERE d.job_id = ? ORDER BY d.id",
				      a, 1, edge_cols, NARGS(edge_cols), &g->edges);
	if (rc != NORC_OK) {
		graph_free(g);
		return rc;
	}
	g->n = json_array_size(g->nodes);
	g->ids = norc_xcalloc(g->n + 1, sizeof(*g->ids));
	g->names = norc_xcalloc(g->n + 1, sizeof(*g->names));
	g->e = norc_xcalloc(json_array_size(g->edges) + 1, sizeof(*g->e));
	size_t i;
	json_t *row;
	json_array_foreach(g->nodes, i, row) {
		g->ids[i] = row_int(row, "id");
		g->names[i] = row_text(row, "name");
	}
	json_array_foreach(g->edges, i, row) {
		size_t p = id_index(g->ids, g->n, row_int(row, "parent_id"));
		size_t c = id_index(g->ids, g->n, row_int(row, "child_id"));
		if (p != NONE && c != NONE) /* both ends read (show reads without a lock) */
			g->e[g->ne++] = (struct norc_jobdef_edge){p, c};
	}
	return NORC_OK;
}

static size_t graph_node(const struct graph *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->names[i], name) == 0)
			return i;
	return NONE;
}

/* ---- finding and locking a job ---- */

int norc_jobdef_find(struct norc_db *db, const char *job, int64_t *id, char *err, size_t errlen)
{
	int rc = norc_model_task_find(db, job, id, err, errlen);
	if (rc == NORC_ENOTFOUND)
		return norc_err_set(err, errlen, rc, "job '%s' does not exist; `norc job list` shows "
				    "the jobs, `norc job add NAME` creates one", job);
	if (rc != NORC_OK)
		return rc;
	struct norc_stmt *st;
	rc = norc_db_query_row(db, "SELECT type FROM tasks WHERE id = ?", *id, &st);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, job);
	if (strcmp(norc_stmt_column_text(st, 0), NORC_JOBDEF_TYPE) != 0)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "task '%s' is a %s, not a Job; `norc job "
				  "list` shows the jobs, `norc job add NAME` creates one", job,
				  norc_stmt_column_text(st, 0));
	norc_stmt_finalize(st);
	return rc;
}

struct job {
	int64_t id;
	char name[192];
};

/* Lock live job id's tasks row for the rest of the transaction and read its name. */
static int lock_job(struct norc_db *db, int64_t id, struct job *j, char *err, size_t errlen)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT name, type FROM tasks WHERE id = ? AND deleted = 0%s",
		 norc_db_clause(db, NORC_SQL_LOCK_UPDATE));
	struct norc_stmt *st;
	int rc = norc_db_query_row(db, sql, id, &st);
	if (rc == NORC_ENOTFOUND)
		return norc_err_set(err, errlen, rc, "job #%" PRId64 " was removed meanwhile; `norc "
				    "job list` shows the jobs", id);
	if (rc != NORC_OK)
		return dberr(db, rc, err, errlen, "job");
	j->id = id;
	snprintf(j->name, sizeof(j->name), "%s", norc_stmt_column_text(st, 0));
	if (strcmp(norc_stmt_column_text(st, 1), NORC_JOBDEF_TYPE) != 0)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "task '%s' is not a Job", j->name);
	norc_stmt_finalize(st);
	return rc;
}

struct edit_args {
	const char *node, *other; /* a node name; the task (node add) or the child (dep) */
	int64_t id;               /* out: the new node's id */
	int count;                /* out: edges removed with a node */
};
typedef int (*edit_fn)(struct norc_db *db, const struct job *j, struct edit_args *x, char *err,
		       size_t errlen);

/* Run fn on job `ref` in one write transaction that starts by locking the job's row. */
static int edit(struct norc_db *db, const char *ref, const char *what, edit_fn fn,
		struct edit_args *x, char *err, size_t errlen)
{
	struct job j;
	int rc = norc_jobdef_find(db, ref, &j.id, err, errlen);
	if (rc != NORC_OK)
		return rc;
	err[0] = '\0';
	rc = norc_db_begin_write(db);
	if (rc == NORC_OK)
		rc = lock_job(db, j.id, &j, err, errlen);
	if (rc == NORC_OK)
		rc = fn(db, &j, x, err, errlen);
	if (rc == NORC_OK)
		rc = norc_db_commit(db);
	if (rc != NORC_OK) {
		if (!err[0])
			dberr(db, rc, err, errlen, what);
		norc_db_rollback(db);
	}
	return rc;
}

/* A node name that is not one of job j's: say so, where it is, and how to add it. */
static int no_node(struct norc_db *db, const struct job *j, const char *name, char *err,
		   size_t errlen)
{
	static const struct norc_col cols[] = {{"job", NORC_COL_TEXT}};
	struct norc_arg a[] = {NORC_AS(name), NORC_AI(j->id)};
	json_t *rows = NULL;
	int rc = norc_model_query(db,
				  "SELECT j.name FROM job_nodes n JOIN tasks j ON j.id = n.job_id "
				  "WHERE n.name = ? AND n.job_id <> ? AND j.deleted = 0 ORDER BY "
				  "j.name LIMIT 1", a, NARGS(a), cols, 1, &rows);
	const char *other = rc == NORC_OK ? row_text(json_array_get(rows, 0), "job") : NULL;
	norc_err_set(err, errlen, NORC_ENOTFOUND,
		     "job '%s' has no node '%s'%s%s%s; add it with `norc job node %s %s --task "
		     "TASK` (`norc job show %s` lists the nodes)", j->name, name,
		     other ? " (a node of job '" : "", other ? other : "", other ? "')" : "",
		     j->name, name, j->name);
	json_decref(rows);
	return NORC_ENOTFOUND;
}

/* ---- nodes ---- */

/* Would making live Job `task` (named tname) a node of job j nest j inside itself? */
static int check_nesting(struct norc_db *db, const struct job *j, int64_t task,
			 const char *tname, char *err, size_t errlen)
{
	if (task == j->id)
		return norc_err_set(err, errlen, NORC_EINVAL, "job '%s' cannot be a node of itself; "
				    "give another task", j->name);
	struct job k;
	int rc = lock_job(db, task, &k, err, errlen); /* its nodes stay as they are meanwhile */
	static const struct norc_col cols[] = {{"job_id", NORC_COL_INT}, {"job", NORC_COL_TEXT},
					       {"task_id", NORC_COL_INT}};
	struct norc_arg a[] = {NORC_AS(NORC_JOBDEF_TYPE)};
	json_t *rows = NULL;
	if (rc == NORC_OK)
		rc = norc_model_query(db,
				      "SELECT n.job_id, j.name, n.task_id FROM job_nodes n JOIN tasks "
				      "j ON j.id = n.job_id JOIN tasks t ON t.id = n.task_id WHERE "
				      "j.deleted = 0 AND t.type = ?", a, 1, cols, NARGS(cols), &rows);
	if (rc != NORC_OK)
		return err[0] ? rc : dberr(db, rc, err, errlen, "job node");
	/* the graph of jobs: one number per job, an edge J -> K for each node of J running K */
	size_t nr = json_array_size(rows), n = 0, i;
	int64_t *ids = norc_xcalloc(2 * nr + 2, sizeof(*ids));
	json_t *row;
	json_array_foreach(rows, i, row) {
		ids[n++] = row_int(row, "job_id");
		ids[n++] = row_int(row, "task_id");
	}
	ids[n++] = j->id;
	ids[n++] = task;
	n = sort_unique(ids, n);
	const char **names = norc_xcalloc(n, sizeof(*names));
	struct norc_jobdef_edge *e = norc_xcalloc(nr + 1, sizeof(*e));
	json_array_foreach(rows, i, row) {
		size_t p = id_index(ids, n, row_int(row, "job_id"));
		e[i] = (struct norc_jobdef_edge){p, id_index(ids, n, row_int(row, "task_id"))};
		names[p] = row_text(row, "job");
	}
	names[id_index(ids, n, j->id)] = j->name;
	names[id_index(ids, n, task)] = tname;
	size_t *path = norc_xcalloc(n, sizeof(*path));
	size_t len = norc_jobdef_path(n, e, nr, id_index(ids, n, task), id_index(ids, n, j->id),
				      path);
	if (len) {
		char *c = chain(j->name, names, path, len, NULL);
		rc = norc_err_set(err, errlen, NORC_EINVAL, "job '%s': a node running job '%s' would "
				  "nest the job inside itself: %s; a job cannot contain itself",
				  j->name, tname, c);
		free(c);
	}
	free(path);
	free(e);
	free(names);
	free(ids);
	json_decref(rows);
	return rc;
}

static int node_add(struct norc_db *db, const struct job *j, struct edit_args *x, char *err,
		    size_t errlen)
{
	int64_t task;
	int rc = norc_model_task_find(db, x->other, &task, err, errlen);
	if (rc != NORC_OK)
		return rc;
	static const struct norc_col cols[] = {{"task", NORC_COL_TEXT}};
	struct norc_arg a[] = {NORC_AI(j->id), NORC_AS(x->node)};
	json_t *rows;
	rc = norc_model_query(db, "SELECT t.name FROM job_nodes n JOIN tasks t ON t.id = "
			      "n.task_id WHERE n.job_id = ? AND n.name = ?", a, NARGS(a), cols, 1,
			      &rows);
	if (rc == NORC_OK && json_array_size(rows))
		rc = norc_err_set(err, errlen, NORC_EEXIST, "job '%s' already has a node '%s' (task "
				  "'%s'); pick another name, or remove it first with `norc job node "
				  "%s %s --rm`", j->name, x->node,
				  row_text(json_array_get(rows, 0), "task"), j->name, x->node);
	json_decref(rows);
	struct norc_stmt *st = NULL;
	char tname[192] = "";
	bool nested = false;
	if (rc == NORC_OK &&
	    (rc = norc_db_query_row(db, "SELECT name, type FROM tasks WHERE id = ?", task, &st)) ==
		    NORC_OK) {
		snprintf(tname, sizeof(tname), "%s", norc_stmt_column_text(st, 0));
		nested = strcmp(norc_stmt_column_text(st, 1), NORC_JOBDEF_TYPE) == 0;
		norc_stmt_finalize(st);
	}
	if (rc == NORC_OK && nested)
		rc = check_nesting(db, j, task, tname, err, errlen);
	if (rc != NORC_OK)
		return rc;
	/* from the live task, read with a share lock: a concurrent `task rm` either committed
	 * before (no row) or waits and then finds the node (norc_model_task_rm) */
	char sql[256];
	snprintf(sql, sizeof(sql), "INSERT INTO job_nodes (job_id, name, task_id) SELECT ?, ?, id "
		 "FROM tasks WHERE id = ? AND deleted = 0%s",
		 norc_db_clause(db, NORC_SQL_LOCK_SHARE));
	struct norc_arg b[] = {NORC_AI(j->id), NORC_AS(x->node), NORC_AI(task)};
	int64_t n = 0;
	rc = norc_model_exec(db, sql, b, NARGS(b), &n);
	if (rc == NORC_OK && n != 1)
		return norc_err_set(err, errlen, NORC_ENOTFOUND, "task '%s' was removed meanwhile; "
				    "`norc task list` shows the tasks", x->other);
	if (rc == NORC_EEXIST)
		return norc_err_set(err, errlen, rc, "job '%s' already has a node '%s'; pick another "
				    "name", j->name, x->node);
	x->id = norc_db_last_insert_id(db);
	return rc;
}

int norc_jobdef_node_add(struct norc_db *db, const char *job, const char *node, const char *task,
			 int64_t *id, char *err, size_t errlen)
{
	int rc = norc_model_check_name("node", node, 128, err, errlen);
	if (rc != NORC_OK)
		return rc;
	struct edit_args x = {.node = node, .other = task};
	rc = edit(db, job, "job node", node_add, &x, err, errlen);
	if (rc == NORC_OK && id)
		*id = x.id;
	return rc;
}

static int node_rm(struct norc_db *db, const struct job *j, struct edit_args *x, char *err,
		   size_t errlen)
{
	int64_t node = 0, run = 0;
	struct norc_stmt *st;
	int rc = norc_db_prepare(db, "SELECT id FROM job_nodes WHERE job_id = ? AND name = ?", &st);
	bool row = false;
	if (rc == NORC_OK) {
		norc_stmt_bind_int64(st, 1, j->id);
		norc_stmt_bind_text(st, 2, x->node);
		rc = norc_stmt_step(st, &row);
		node = row ? norc_stmt_column_int64(st, 0) : 0;
		norc_stmt_finalize(st);
	}
	if (rc == NORC_OK && !row)
		return norc_err_set(err, errlen, NORC_ENOTFOUND, "job '%s' has no node '%s'; `norc "
				    "job show %s` lists the nodes", j->name, x->node, j->name);
	if (rc == NORC_OK) /* a run of the job going on that started the node */
		rc = norc_db_query_int64(db,
					 "SELECT j.id FROM instances j JOIN instances i ON "
					 "i.job_instance_id = j.id WHERE j.task_id = ? AND j.status < "
					 "? AND i.job_node_id = ? ORDER BY j.id LIMIT 1", &run, 3, j->id,
					 (int64_t)NORC_ST_SUCCESS, node);
	if (rc == NORC_OK)
		return norc_err_set(err, errlen, NORC_EBUSY, "job '%s' instance #%" PRId64 " is "
				    "running node '%s'; remove the node once that run has ended "
				    "(`norc instance show %" PRId64 "`)", j->name, run, x->node, run);
	if (rc != NORC_ENOTFOUND)
		return rc;
	struct norc_arg a[] = {NORC_AI(node), NORC_AI(j->id)};
	rc = norc_model_exec(db,
			     "UPDATE instances SET job_node_id = NULL WHERE job_node_id = ? AND "
			     "job_instance_id IN (SELECT id FROM instances WHERE task_id = ?)",
			     a, NARGS(a), NULL);
	struct norc_arg b[] = {NORC_AI(j->id), NORC_AI(node), NORC_AI(node)};
	int64_t edges = 0;
	if (rc == NORC_OK)
		rc = norc_model_exec(db, "DELETE FROM job_deps WHERE job_id = ? AND (parent_id = ? "
				     "OR child_id = ?)", b, NARGS(b), &edges);
	if (rc == NORC_OK)
		rc = norc_model_exec(db, "DELETE FROM job_nodes WHERE id = ?", a, 1, NULL);
	x->count = (int)edges;
	return rc;
}

int norc_jobdef_node_rm(struct norc_db *db, const char *job, const char *node, int *edges,
			char *err, size_t errlen)
{
	struct edit_args x = {.node = node};
	int rc = edit(db, job, "job node --rm", node_rm, &x, err, errlen);
	if (rc == NORC_OK && edges)
		*edges = x.count;
	return rc;
}

/* ---- edges ---- */

/* Load job j's graph and find nodes x->node (parent) and x->other (child) in it. */
static int dep_ends(struct norc_db *db, const struct job *j, const struct edit_args *x,
		    struct graph *g, size_t *p, size_t *c, char *err, size_t errlen)
{
	int rc = graph_load(db, j->id, g);
	if (rc != NORC_OK)
		return rc;
	*p = graph_node(g, x->node);
	*c = graph_node(g, x->other);
	if (*p == NONE || *c == NONE) {
		rc = no_node(db, j, *p == NONE ? x->node : x->other, err, errlen);
		graph_free(g);
	}
	return rc;
}

static int dep_add(struct norc_db *db, const struct job *j, struct edit_args *x, char *err,
		   size_t errlen)
{
	if (strcmp(x->node, x->other) == 0)
		return norc_err_set(err, errlen, NORC_EINVAL, "job '%s': node '%s' cannot depend on "
				    "itself", j->name, x->node);
	struct graph g;
	size_t p, c;
	int rc = dep_ends(db, j, x, &g, &p, &c, err, errlen);
	if (rc != NORC_OK)
		return rc;
	for (size_t i = 0; rc == NORC_OK && i < g.ne; i++)
		if (g.e[i].parent == p && g.e[i].child == c)
			rc = norc_err_set(err, errlen, NORC_EEXIST, "job '%s': node '%s' depends on "
					  "'%s' already (`norc job show %s` lists the edges)",
					  j->name, x->other, x->node, j->name);
	size_t *path = norc_xcalloc(g.n, sizeof(*path));
	size_t len = rc == NORC_OK ? norc_jobdef_path(g.n, g.e, g.ne, c, p, path) : 0;
	if (len) { /* the child reaches the parent: the edge closes that cycle */
		char *cyc = chain(NULL, g.names, path, len, g.names[c]);
		rc = norc_err_set(err, errlen, NORC_EINVAL, "job '%s': the edge %s -> %s would close "
				  "the cycle %s; jobs must stay acyclic", j->name, x->node, x->other,
				  cyc);
		free(cyc);
	}
	free(path);
	if (rc == NORC_OK) {
		struct norc_arg a[] = {NORC_AI(j->id), NORC_AI(g.ids[p]), NORC_AI(g.ids[c])};
		rc = norc_model_exec(db, "INSERT INTO job_deps (job_id, parent_id, child_id) VALUES "
				     "(?, ?, ?)", a, NARGS(a), NULL);
	}
	graph_free(&g);
	return rc;
}

int norc_jobdef_dep_add(struct norc_db *db, const char *job, const char *parent,
			const char *child, char *err, size_t errlen)
{
	struct edit_args x = {.node = parent, .other = child};
	return edit(db, job, "job dep", dep_add, &x, err, errlen);
}

static int dep_rm(struct norc_db *db, const struct job *j, struct edit_args *x, char *err,
		  size_t errlen)
{
	struct graph g;
	size_t p, c;
	int rc = dep_ends(db, j, x, &g, &p, &c, err, errlen);
	if (rc != NORC_OK)
		return rc;
	struct norc_arg a[] = {NORC_AI(j->id), NORC_AI(g.ids[p]), NORC_AI(g.ids[c])};
	int64_t n = 0;
	rc = norc_model_exec(db, "DELETE FROM job_deps WHERE job_id = ? AND parent_id = ? AND "
			     "child_id = ?", a, NARGS(a), &n);
	if (rc == NORC_OK && n == 0)
		rc = norc_err_set(err, errlen, NORC_ENOTFOUND, "job '%s' has no edge %s -> %s; `norc "
				  "job show %s` lists the edges", j->name, x->node, x->other,
				  j->name);
	graph_free(&g);
	return rc;
}

int norc_jobdef_dep_rm(struct norc_db *db, const char *job, const char *parent,
		       const char *child, char *err, size_t errlen)
{
	struct edit_args x = {.node = parent, .other = child};
	return edit(db, job, "job dep --rm", dep_rm, &x, err, errlen);
}

/* ---- reading ---- */

int norc_jobdef_get(struct norc_db *db, const char *job, json_t **obj, char *err, size_t errlen)
{
	*obj = NULL;
	int64_t id;
	json_t *o = NULL;
	int rc = norc_jobdef_find(db, job, &id, err, errlen);
	if (rc == NORC_OK)
		rc = norc_model_task_get(db, id, &o, err, errlen);
	if (rc != NORC_OK)
		return rc;
	struct graph g;
	if ((rc = graph_load(db, id, &g)) != NORC_OK) {
		json_decref(o);
		return dberr(db, rc, err, errlen, job);
	}
	int *waves = norc_xcalloc(g.n + 1, sizeof(*waves));
	norc_jobdef_waves(g.n, g.e, g.ne, waves); /* a cycle cannot be stored: edits refuse it */
	json_t *levels = json_array();
	for (size_t i = 0; i < g.n; i++) {
		json_t *row = json_array_get(g.nodes, i);
		json_object_set_new(row, "wave", json_integer(waves[i]));
		while (waves[i] > 0 && json_array_size(levels) < (size_t)waves[i])
			json_array_append_new(levels, json_array());
		if (waves[i] > 0)
			json_array_append_new(json_array_get(levels, (size_t)waves[i] - 1),
					      json_string(g.names[i]));
	}
	size_t i;
	json_t *row;
	json_array_foreach(g.edges, i, row) {
		json_object_del(row, "parent_id");
		json_object_del(row, "child_id");
	}
	json_object_set(o, "nodes", g.nodes);
	json_object_set(o, "edges", g.edges);
	json_object_set_new(o, "waves", levels);
	free(waves);
	graph_free(&g);
	*obj = o;
	return NORC_OK;
}

int norc_jobdef_list(struct norc_db *db, json_t **rows)
{
	static const struct norc_col cols[] = {
		{"id", NORC_COL_INT},        {"name", NORC_COL_TEXT},   {"nodes", NORC_COL_INT},
		{"edges", NORC_COL_INT},     {"timeout", NORC_COL_INT}, {"retries", NORC_COL_INT},
		{"schedules", NORC_COL_INT}, {"description", NORC_COL_TEXT},
		{"params", NORC_COL_TEXT},
	};
	struct norc_arg a[] = {NORC_AS(NORC_JOBDEF_TYPE)};
	return norc_model_query(db,
				"SELECT t.id, t.name,"
				" (SELECT COUNT(*) FROM job_nodes n WHERE n.job_id = t.id),"
				" (SELECT COUNT(*) FROM job_deps d WHERE d.job_id = t.id),"
				" t.timeout, t.retries,"
				" (SELECT COUNT(*) FROM schedules s WHERE s.task_id = t.id AND"
				" s.deleted = 0), t.description, t.params "
				"FROM tasks t WHERE t.type = ? AND t.deleted = 0 ORDER BY t.name",
				a, 1, cols, NARGS(cols), rows);
}
