/*
 * jobdef.h - defining Jobs: the nodes of a Job (each runs one task) and the dependencies
 * between them (`norc job node|dep|show|list`). Running them is core/job.h.
 *
 * A Job is a live row of `tasks` of type NORC_JOBDEF_TYPE. Its nodes are rows of job_nodes
 * (a name unique in the job, and a live task, which may be a Job itself), its edges rows of
 * job_deps (parent -> child: the child runs once the parent succeeded). Every edit keeps the
 * definition a DAG: no self edge, no edge closing a cycle, no job nested inside itself through
 * Job nodes. An edit is one transaction that first locks the job's tasks row (FOR UPDATE on
 * MariaDB; SQLite's write lock is global), so concurrent edits of one job are decided one
 * after the other, on the current graph; a node whose task is a Job locks that job's row too.
 *
 * Jobs are referred to by name or id ("42", "#42" or "etl"), nodes by their name in the job.
 * Errors: NORC_OK or a negative NORC_E*; err gets one line naming the object and the fix.
 */
#ifndef NORC_JOBDEF_H
#define NORC_JOBDEF_H

#include "db.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define NORC_JOBDEF_TYPE "Job" /* tasks.type of a Job (plugins/job) */

/* ---- the pure part: graphs of n nodes numbered 0..n-1 ---- */

struct norc_jobdef_edge {
	size_t parent, child; /* node numbers, < n */
};

/* The wave (topological level) of every node: 1 for a node without parents, else 1 + the
 * highest wave of its parents. waves is the caller's array of n ints. NORC_OK, or NORC_EINVAL
 * when the edges contain a cycle (the nodes on it and after it get wave 0). */
int norc_jobdef_waves(size_t n, const struct norc_jobdef_edge *edges, size_t nedges, int *waves);

/* A shortest path from node `from` to node `to` along the edges: path (the caller's array of n
 * entries) gets its nodes, from first and to last. Returns the number of nodes on it (1 when
 * from == to), 0 when `to` cannot be reached. */
size_t norc_jobdef_path(size_t n, const struct norc_jobdef_edge *edges, size_t nedges,
			size_t from, size_t to, size_t *path);

/* ---- the database part; refs, names and err are borrowed ---- */

/* Find a live Job by name or id. err says when it does not exist or is another type. */
int norc_jobdef_find(struct norc_db *db, const char *job, int64_t *id, char *err, size_t errlen);

/* Add node `node` running task `task` (name or id, live) to job `job`; *id (may be NULL) gets
 * the node's id. NORC_EEXIST when the job has a node of that name; NORC_EINVAL when the task is
 * a Job that is this job or contains it (err names the chain, "A -> B -> A"). */
int norc_jobdef_node_add(struct norc_db *db, const char *job, const char *node, const char *task,
			 int64_t *id, char *err, size_t errlen);

/* Remove node `node` of job `job` with its edges; *edges (may be NULL) gets how many edges
 * went with it. Refused (NORC_EBUSY) while a run of the job that has started the node has not
 * ended; the instances of finished runs stay, no longer pointing at the node. */
int norc_jobdef_node_rm(struct norc_db *db, const char *job, const char *node, int *edges,
			char *err, size_t errlen);

/* Make node `child` of job `job` depend on node `parent` of the same job. Refused: a name that
 * is no node of this job (NORC_ENOTFOUND), parent == child, an edge that exists (NORC_EEXIST)
 * or one that would close a cycle (NORC_EINVAL; err names it, "a -> b -> c -> a"). */
int norc_jobdef_dep_add(struct norc_db *db, const char *job, const char *parent,
			const char *child, char *err, size_t errlen);

/* Remove the edge parent -> child of job `job` (NORC_ENOTFOUND when there is none). */
int norc_jobdef_dep_rm(struct norc_db *db, const char *job, const char *parent,
		       const char *child, char *err, size_t errlen);

/* Job `job` for `norc job show`: *obj (caller json_decref()s) gets the task's fields (id,
 * name, type, timeout, retries, params, description, ... as norc_model_task_get) plus
 * "nodes" [{id, name, task, task_id, type, wave}] in id order, "edges" [{parent, child}]
 * (node names) and "waves" [[names of wave 1], [wave 2], ...]. */
int norc_jobdef_get(struct norc_db *db, const char *job, json_t **obj, char *err, size_t errlen);

/* Live Jobs by name: id, name, nodes, edges, timeout, retries, schedules, description, params.
 * *rows: caller json_decref()s. */
int norc_jobdef_list(struct norc_db *db, json_t **rows);

#endif
