/*
 * queue.h - opening a queue (a row of the queues table) through its plugin.
 */
#ifndef NORC_QUEUE_H_CORE
#define NORC_QUEUE_H_CORE

#include "db.h"
#include "plugin.h"

#include <stdint.h>

struct norc_queue_handle {
	int64_t id;
	char *name;
	const struct norc_queue_ops *ops;
	void *h; /* the plugin's handle */
};

/* Open queue #id with the plugin its type names. Caller frees with norc_queue_close. */
int norc_queue_open(struct norc_db *db, int64_t id, struct norc_queue_handle **out, char *err,
		    size_t errlen);
void norc_queue_close(struct norc_queue_handle *q); /* NULL ok */

#endif
