/*
 * queue.c - see queue.h.
 */
#include "queue.h"
#include "mem.h"
#include "model.h"
#include "params.h"

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
	q->ops->close(q->h);
	free(q->name);
	free(q);
}
