/*
 * queue.h - opening a queue (a row of the queues table) through its plugin.
 */
#ifndef NORC_QUEUE_H_CORE
#define NORC_QUEUE_H_CORE

#include "db.h"
#include "plugin.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>

struct norc_queue_handle {
	int64_t id;
	char *name;
	const struct norc_queue_ops *ops;
	void *h; /* the plugin's handle */
	int64_t *members; /* a queue group (qgroup.h): its queues' ids; NULL otherwise */
	size_t nmembers;
};

/* Open queue #id with the plugin its type names, or as a queue group (qgroup.h). Caller
 * frees with norc_queue_close. */
int norc_queue_open(struct norc_db *db, int64_t id, struct norc_queue_handle **out, char *err,
		    size_t errlen);
void norc_queue_close(struct norc_queue_handle *q); /* NULL ok */
/* true when q's plugin waits on a server (its ops say NORC_QUEUE_REMOTE, ABI 1.4): an
 * executor then takes its items through a receiver child (receiver.h). */
bool norc_queue_is_remote(const struct norc_queue_handle *q);
/* true when work pushed onto queue_id is popped through q (q itself, or one of its group's
 * queues). */
bool norc_queue_serves(const struct norc_queue_handle *q, int64_t queue_id);
/* For each object of rows (report rows with an "id"), set "items" to what the queue's plugin
 * counts, or null when it cannot say (a queue group, a server that does not answer). One
 * plugin call per row: a remote queue costs a request each. */
void norc_queue_add_items(struct norc_db *db, json_t *rows);

#endif
