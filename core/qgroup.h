/*
 * qgroup.h - queue groups: one name for several queues, which an executor serves as one
 * (`norc_executor GROUP -c N`). A group is a row of the queues table (type "QueueGroup",
 * is_group 1, so its name is unique among all queues, as in the original); its members are
 * rows of queue_group_members. A queue may belong to several groups; groups do not nest.
 *
 * Pop order: strict (the original's): members by ascending priority, the first with an item
 * wins, so a busy high-priority queue starves the others; or weighted: smooth weighted round
 * robin over the members by weight (nginx's algorithm), so with every member full, pops are
 * shared exactly in proportion and a low weight still gets its turn. A member that fails is
 * logged and skipped. Pushing to a group is refused: work goes onto one of its queues.
 */
#ifndef NORC_QGROUP_H
#define NORC_QGROUP_H

#include "db.h"
#include "queue.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define NORC_QGROUP_TYPE "QueueGroup"

/* Add group NAME (mode strict, or weighted). err names the object and the fix. */
int norc_qgroup_add(struct norc_db *db, const char *name, bool weighted, int64_t *id, char *err,
		    size_t errlen);
/* Make queue_id a member of group_id with priority and weight (an existing membership is
 * updated), or remove it (rm). Groups cannot be members. */
int norc_qgroup_member(struct norc_db *db, int64_t group_id, int64_t queue_id, int priority,
		       int weight, bool rm, char *err, size_t errlen);
/* Every group with its mode and members (name, type, priority, weight), in pop order. Caller
 * json_decref()s. */
int norc_qgroup_list(struct norc_db *db, json_t **rows);

/* Open group_id (a queues row of type QueueGroup, name borrowed) with its members opened
 * through their plugins. Called by norc_queue_open. */
int norc_qgroup_open(struct norc_db *db, int64_t group_id, const char *name, const char *params,
		     struct norc_queue_handle **out, char *err, size_t errlen);

#endif
