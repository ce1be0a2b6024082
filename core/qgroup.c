/*
 * qgroup.c - see qgroup.h. The model (add, member, list) and the group's queue ops, which
 * the executor calls like any plugin's.
 */
#include "qgroup.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "model.h"
#include "params.h"
#include "plugin.h"

#include <stddef.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NARGS(a) (sizeof(a) / sizeof((a)[0]))

int norc_qgroup_add(struct norc_db *db, const char *name, bool weighted, int64_t *id, char *err,
		    size_t errlen)
{
	int rc = norc_db_begin_write(db);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "queue group '%s': %s", name,
				    norc_db_errmsg(db));
	rc = norc_model_queue_add(db, name, NORC_QGROUP_TYPE,
				  weighted ? "{\"mode\":\"weighted\"}" : "{\"mode\":\"strict\"}", id,
				  err, errlen);
	if (rc == NORC_OK) {
		struct norc_arg a[] = {NORC_AI(*id)};
		rc = norc_model_exec(db, "UPDATE queues SET is_group = 1 WHERE id = ?", a, 1, NULL);
		if (rc != NORC_OK)
			norc_err_set(err, errlen, rc, "queue group '%s': %s", name,
				     norc_db_errmsg(db));
	}
	if (rc == NORC_OK && (rc = norc_db_commit(db)) != NORC_OK)
		norc_err_set(err, errlen, rc, "queue group '%s': %s", name, norc_db_errmsg(db));
	if (rc != NORC_OK)
		norc_db_rollback(db);
	return rc;
}

/* 1 when queue id is a group, 0 when not, negative on a database error; name[len] gets its
 * name for messages. */
static int is_group(struct norc_db *db, int64_t id, char *name, size_t len)
{
	struct norc_stmt *st;
	int rc = norc_db_query_row(db, "SELECT is_group, name FROM queues WHERE id = ?", id, &st);
	if (rc != NORC_OK)
		return rc < 0 ? rc : NORC_EDB;
	int g = norc_stmt_column_int64(st, 0) != 0;
	snprintf(name, len, "%s", norc_stmt_column_text(st, 1));
	norc_stmt_finalize(st);
	return g;
}

int norc_qgroup_member(struct norc_db *db, int64_t group_id, int64_t queue_id, int priority,
		       int weight, bool rm, char *err, size_t errlen)
{
	char gname[100], qname[100];
	int g = is_group(db, group_id, gname, sizeof(gname));
	int q = is_group(db, queue_id, qname, sizeof(qname));
	if (g < 0 || q < 0)
		return norc_err_set(err, errlen, NORC_EDB, "queue group: %s", norc_db_errmsg(db));
	if (!g)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "queue '%s' is not a queue group; `norc queue group add NAME` "
				    "makes one", gname);
	if (q)
		return norc_err_set(err, errlen, NORC_EINVAL,
				    "queue '%s' is a queue group itself; groups do not nest: add its "
				    "queues to '%s' instead", qname, gname);
	if (!rm) { /* a queue whose plugin waits on a server cannot serve in a group */
		char type[80] = "";
		struct norc_stmt *st;
		if (norc_db_query_row(db, "SELECT type FROM queues WHERE id = ?", queue_id, &st) ==
		    NORC_OK) {
			snprintf(type, sizeof(type), "%s", norc_stmt_column_text(st, 0));
			norc_stmt_finalize(st);
		}
		const struct norc_plugin_entry *p = norc_plugin_find(NORC_KIND_QUEUE, type);
		const struct norc_queue_ops *o = p ? p->desc->ops : NULL;
		if (o && o->struct_size >= offsetof(struct norc_queue_ops, flags) + sizeof(o->flags) &&
		    (o->flags & NORC_QUEUE_REMOTE))
			return norc_err_set(err, errlen, NORC_EUNSUPP,
					    "queue '%s' (%s) waits on a server; groups take only "
					    "queues that answer at once, such as DBQueue: run an "
					    "executor on '%s' itself", qname, type, qname);
	}
	int64_t changed = 0;
	int rc;
	if (rm) {
		struct norc_arg a[] = {NORC_AI(group_id), NORC_AI(queue_id)};
		rc = norc_model_exec(db, "DELETE FROM queue_group_members WHERE group_id = ? AND "
				     "queue_id = ?", a, 2, &changed);
		if (rc == NORC_OK && changed == 0)
			return norc_err_set(err, errlen, NORC_ENOTFOUND,
					    "queue '%s' is not a member of group '%s'; `norc queue "
					    "group list` shows the members", qname, gname);
	} else {
		struct norc_arg u[] = {NORC_AI(priority), NORC_AI(weight), NORC_AI(group_id),
				       NORC_AI(queue_id)};
		rc = norc_model_exec(db, "UPDATE queue_group_members SET priority = ?, weight = ? "
				     "WHERE group_id = ? AND queue_id = ?", u, 4, &changed);
		if (rc == NORC_OK && changed == 0) {
			struct norc_arg a[] = {NORC_AI(group_id), NORC_AI(queue_id),
					       NORC_AI(priority), NORC_AI(weight)};
			rc = norc_model_exec(db, "INSERT INTO queue_group_members (group_id, "
					     "queue_id, priority, weight) VALUES (?, ?, ?, ?)", a, 4,
					     NULL);
		}
	}
	return rc == NORC_OK ? rc : norc_err_set(err, errlen, rc, "queue group: %s",
						 norc_db_errmsg(db));
}

static const struct norc_col member_cols[] = {
	{"group_id", NORC_COL_INT}, {"group", NORC_COL_TEXT}, {"mode", NORC_COL_TEXT},
	{"queue_id", NORC_COL_INT}, {"queue", NORC_COL_TEXT}, {"type", NORC_COL_TEXT},
	{"priority", NORC_COL_INT}, {"weight", NORC_COL_INT},
};

/* Members of one group (group_id > 0) or of all, in pop order (priority, then id). */
static int members(struct norc_db *db, int64_t group_id, json_t **rows)
{
	char sql[600];
	snprintf(sql, sizeof(sql),
		 "SELECT g.id, g.name, g.params, q.id, q.name, q.type, m.priority, m.weight "
		 "FROM queues g LEFT JOIN (queue_group_members m JOIN queues q ON q.id = "
		 "m.queue_id AND q.deleted = 0) ON m.group_id = g.id WHERE g.is_group = 1 AND "
		 "g.deleted = 0%s ORDER BY g.name, m.priority, q.id", group_id ? " AND g.id = ?" : "");
	struct norc_arg a[] = {NORC_AI(group_id)};
	return norc_model_query(db, sql, a, group_id ? 1 : 0, member_cols, NARGS(member_cols),
				rows);
}

static const char *mode_of(const char *params_json)
{
	return params_json && strstr(params_json, "weighted") ? "weighted" : "strict";
}

int norc_qgroup_list(struct norc_db *db, json_t **rows)
{
	json_t *flat;
	int rc = members(db, 0, &flat);
	if (rc != NORC_OK)
		return rc;
	*rows = json_array();
	json_t *cur = NULL, *row;
	size_t i;
	json_array_foreach(flat, i, row) {
		int64_t gid = json_integer_value(json_object_get(row, "group_id"));
		if (!cur || json_integer_value(json_object_get(cur, "id")) != gid) {
			cur = json_object();
			json_object_set_new(cur, "id", json_integer(gid));
			json_object_set(cur, "name", json_object_get(row, "group"));
			json_object_set_new(cur, "mode", json_string(mode_of(json_string_value(
								 json_object_get(row, "mode")))));
			json_object_set_new(cur, "members", json_array());
			json_array_append_new(*rows, cur);
		}
		if (json_is_null(json_object_get(row, "queue_id")))
			continue; /* a group without members yet */
		json_t *m = json_object();
		json_object_set(m, "id", json_object_get(row, "queue_id"));
		json_object_set(m, "name", json_object_get(row, "queue"));
		json_object_set(m, "type", json_object_get(row, "type"));
		json_object_set(m, "priority", json_object_get(row, "priority"));
		json_object_set(m, "weight", json_object_get(row, "weight"));
		json_array_append_new(json_object_get(cur, "members"), m);
	}
	json_decref(flat);
	return NORC_OK;
}

/* ---- the group as a queue ---- */

struct member {
	struct norc_queue_handle *q;
	int weight;
	int64_t current; /* smooth weighted round robin */
	bool failing;    /* its last pop failed (logged once until it recovers) */
};

struct group {
	char *name;
	bool weighted;
	struct member *m;
	size_t n;
	int64_t total_weight;
	char *names; /* "a, b, c", for messages */
};

static int g_validate(void *state, const struct norc_params *p, char *err, size_t errlen)
{
	(void)state, (void)p, (void)err, (void)errlen;
	return NORC_OK;
}

static int g_open(void *state, const struct norc_queue_ref *ref, void **h, char *err,
		  size_t errlen)
{
	(void)state, (void)ref, (void)h;
	return norc_err_set(err, errlen, NORC_EUNSUPP, "queue groups are opened by the core");
}

static void g_close(void *handle)
{
	struct group *g = handle;
	for (size_t i = 0; i < g->n; i++)
		norc_queue_close(g->m[i].q);
	free(g->m);
	free(g->name);
	free(g->names);
	free(g);
}

static int g_push(void *handle, int64_t instance_id, char *err, size_t errlen)
{
	struct group *g = handle;
	(void)instance_id;
	return norc_err_set(err, errlen, NORC_EUNSUPP,
			    "queue '%s' is a queue group: work is pushed onto one of its queues "
			    "(%s), and executors of the group take it from there", g->name,
			    g->n ? g->names : "it has none yet");
}

/* Try member i; NORC_OK with an item, NORC_EAGAIN empty (the member's own failure is logged
 * and counts as empty), NORC_EBUSY handed up (the executor retries the transaction), and so
 * are database failures: the transaction the pops run in may be gone (SQLite rolls back on
 * some errors), so no other member may be tried in it. */
static int try_member(struct group *g, size_t i, int64_t *id, char *gerr, size_t gerrlen)
{
	struct member *m = &g->m[i];
	char err[512] = "";
	int rc = m->q->ops->pop(m->q->h, id, err, sizeof(err));
	if (rc == NORC_EDB || rc == NORC_ECONN || rc == NORC_ENOMEM) {
		norc_err_set(gerr, gerrlen, rc, "member %s: %s", m->q->name, err);
		return rc;
	}
	if (rc == NORC_OK || rc == NORC_EAGAIN || rc == NORC_EBUSY) {
		if (m->failing && rc != NORC_EBUSY)
			NORC_INFO("queue group %s: member %s works again.", g->name, m->q->name);
		m->failing = m->failing && rc == NORC_EBUSY;
		return rc;
	}
	if (!m->failing)
		NORC_WARN("queue group %s: member %s failed: %s; taking work from the others "
			  "meanwhile", g->name, m->q->name, err[0] ? err : "no reason given");
	m->failing = true;
	return NORC_EAGAIN;
}

static int g_pop(void *handle, int64_t *id, char *err, size_t errlen)
{
	struct group *g = handle;
	if (!g->weighted) {
		for (size_t i = 0; i < g->n; i++) {
			int rc = try_member(g, i, id, err, errlen);
			if (rc != NORC_EAGAIN)
				return rc;
		}
		return NORC_EAGAIN;
	}
	/* smooth weighted round robin (nginx's) over the members that have work: each gains
	 * its weight, the one with the most credit serves and pays what was handed out. Which
	 * have work shows only by trying, so members are tried by credit; one found empty this
	 * round takes no part in it (it gains nothing, so an idle queue does not pile up
	 * credit), and nothing changes when none has work. */
	size_t order[g->n];
	for (size_t i = 0; i < g->n; i++)
		order[i] = i;
	for (size_t i = 1; i < g->n; i++) /* by credit after the raise, then pop order */
		for (size_t j = i; j > 0; j--) {
			const struct member *a = &g->m[order[j - 1]], *b = &g->m[order[j]];
			if (b->current + b->weight <= a->current + a->weight)
				break;
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t k = 0; k < g->n; k++) {
		int rc = try_member(g, order[k], id, err, errlen);
		if (rc == NORC_EAGAIN)
			continue;
		if (rc == NORC_OK) { /* order[0..k-1] were empty: they sit this round out */
			int64_t total = 0;
			for (size_t j = k; j < g->n; j++) {
				g->m[order[j]].current += g->m[order[j]].weight;
				total += g->m[order[j]].weight;
			}
			g->m[order[k]].current -= total;
		}
		return rc;
	}
	return NORC_EAGAIN;
}

static int g_peek(void *handle, int64_t *id, char *err, size_t errlen)
{
	struct group *g = handle;
	for (size_t i = 0; i < g->n; i++) {
		const struct norc_queue_ops *o = g->m[i].q->ops;
		if (!o->peek)
			continue;
		int rc = o->peek(g->m[i].q->h, id, err, errlen);
		if (rc != NORC_EAGAIN && rc != NORC_EUNSUPP)
			return rc;
	}
	return NORC_EAGAIN;
}

static int g_count(void *handle, int64_t *n, char *err, size_t errlen)
{
	struct group *g = handle;
	*n = 0;
	for (size_t i = 0; i < g->n; i++) {
		int64_t k = 0;
		int rc = g->m[i].q->ops->count(g->m[i].q->h, &k, err, errlen);
		if (rc != NORC_OK)
			return rc;
		*n += k;
	}
	return NORC_OK;
}

static const struct norc_queue_ops group_ops = {
	.struct_size = sizeof(struct norc_queue_ops),
	.validate = g_validate,
	.open = g_open,
	.close = g_close,
	.push = g_push,
	.pop = g_pop,
	.peek = g_peek,
	.count = g_count,
	.clear = NULL,
};

int norc_qgroup_open(struct norc_db *db, int64_t group_id, const char *name, const char *params,
		     struct norc_queue_handle **out, char *err, size_t errlen)
{
	*out = NULL;
	json_t *rows;
	int rc = members(db, group_id, &rows);
	if (rc != NORC_OK)
		return norc_err_set(err, errlen, rc, "queue group '%s': %s", name,
				    norc_db_errmsg(db));
	struct group *g = norc_xcalloc(1, sizeof(*g));
	g->name = norc_xstrdup(name);
	g->weighted = strcmp(mode_of(params), "weighted") == 0;
	g->m = norc_xcalloc(json_array_size(rows) + 1, sizeof(*g->m));
	g->names = norc_xstrdup("");
	struct norc_queue_handle *h = norc_xcalloc(1, sizeof(*h));
	h->members = norc_xcalloc(json_array_size(rows) + 1, sizeof(int64_t));
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (json_is_null(json_object_get(row, "queue_id")))
			continue;
		int64_t qid = json_integer_value(json_object_get(row, "queue_id"));
		struct norc_queue_handle *q;
		if ((rc = norc_queue_open(db, qid, &q, err, errlen)) != NORC_OK)
			break;
		if (norc_queue_is_remote(q)) {
			rc = norc_err_set(err, errlen, NORC_EUNSUPP,
					  "queue group '%s': its queue '%s' waits on a server (long "
					  "polling); groups take only queues that answer at once, such as "
					  "DBQueue: run an executor on '%s' itself", name, q->name,
					  q->name);
			norc_queue_close(q);
			break;
		}
		int w = (int)json_integer_value(json_object_get(row, "weight"));
		g->m[g->n] = (struct member){q, w > 0 ? w : 1, 0, false};
		g->total_weight += g->m[g->n].weight;
		char *names = norc_xasprintf("%s%s%s", g->names, g->n ? ", " : "", q->name);
		free(g->names);
		g->names = names;
		h->members[h->nmembers++] = qid;
		g->n++;
	}
	json_decref(rows);
	if (rc == NORC_OK && g->n == 0)
		rc = norc_err_set(err, errlen, NORC_EINVAL,
				  "queue group '%s' has no queues yet; add one with `norc queue "
				  "group member %s QUEUE`", name, name);
	h->id = group_id;
	h->name = norc_xstrdup(name);
	h->ops = &group_ops;
	h->h = g;
	if (rc != NORC_OK) {
		norc_queue_close(h);
		return rc;
	}
	*out = h;
	return NORC_OK;
}
