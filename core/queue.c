/*
 * queue.c - see queue.h.
 */
#include "queue.h"
#include "mem.h"
#include "model.h"
#include "params.h"
#include "qgroup.h"

#include <stddef.h>
#include <string.h>

#include <inttypes.h>
#include <stdlib.h>

int norc_queue_open(struct norc_db *db, int64_t id, struct norc_queue_handle **out, char *err,
		    size_t errlen)
{
	*out = NULL;
	json_t *row;
	int rc = norc_model_queue_get(db, id, &row, err, errlen);
	if (rc != NORC_OK)
		return rc;
	const char *type = json_string_value(json_object_get(row, "type"));
	const char *name = json_string_value(json_object_get(row, "name"));
	if (strcmp(type, NORC_QGROUP_TYPE) == 0) {
		rc = norc_qgroup_open(db, id, name, json_string_value(json_object_get(row, "params")),
				      out, err, errlen);
		json_decref(row);
		return rc;
	}
	const struct norc_plugin_entry *p = norc_plugin_find(NORC_KIND_QUEUE, type);
	if (!p) {
		rc = norc_err_set(err, errlen, NORC_ENOTFOUND,
				  "queue '%s': its type %s is not a loaded queue plugin; `norc "
				  "plugins` lists them", name, type);
		json_decref(row);
		return rc;
	}
	struct norc_params *params = NULL;
	rc = norc_params_from_json(json_string_value(json_object_get(row, "params")), &params, err,
				   errlen);
	struct norc_queue_handle *q = norc_xcalloc(1, sizeof(*q));
	q->id = id;
	q->name = norc_xstrdup(name);
	q->ops = p->desc->ops;
	if (rc == NORC_OK) {
		struct norc_queue_ref ref = {.struct_size = sizeof(ref), .id = id, .name = q->name,
					     .params = params};
		rc = q->ops->open(p->state, &ref, &q->h, err, errlen);
	}
	norc_params_free(params);
	json_decref(row);
	if (rc != NORC_OK) {
		free(q->name);
		free(q);
		return rc;
	}
	*out = q;
	return NORC_OK;
}

void norc_queue_close(struct norc_queue_handle *q)
{
	if (!q)
		return;
	if (q->h)
		q->ops->close(q->h);
	free(q->members);
	free(q->name);
	free(q);
}

bool norc_queue_is_remote(const struct norc_queue_handle *q)
{
	const struct norc_queue_ops *o = q->ops;
	return o->struct_size >= offsetof(struct norc_queue_ops, flags) + sizeof(o->flags) &&
	       (o->flags & NORC_QUEUE_REMOTE);
}

bool norc_queue_serves(const struct norc_queue_handle *q, int64_t queue_id)
{
	if (q->id == queue_id)
		return true;
	for (size_t i = 0; i < q->nmembers; i++)
		if (q->members[i] == queue_id)
			return true;
	return false;
}

void norc_queue_add_items(struct norc_db *db, json_t *rows)
{
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		struct norc_queue_handle *q;
		char err[256];
		int64_t items = -1;
		if (norc_queue_open(db, json_integer_value(json_object_get(row, "id")), &q, err,
				    sizeof(err)) == NORC_OK) {
			if (q->ops->count(q->h, &items, err, sizeof(err)) != NORC_OK)
				items = -1;
			norc_queue_close(q);
		}
		json_object_set_new(row, "items", items >= 0 ? json_integer(items) : json_null());
	}
}
