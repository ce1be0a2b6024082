/*
 * schedheap.h - the scheduler's claimed schedules: a min-heap by due time with an index by
 * schedule id, so the next fire is O(1) to find, a fire O(log n), and an edit or a duplicate
 * claim O(1) to locate (100,000 schedules load without any quadratic step).
 */
#ifndef NORC_SCHEDHEAP_H
#define NORC_SCHEDHEAP_H

#include "sched.h"

#include <stddef.h>
#include <stdint.h>

struct norc_sched_heap {
	struct norc_sched *v; /* heap array, v[0] is the earliest due */
	size_t n, cap;
	size_t *slot;   /* open addressing: index into v + 1, 0 = empty */
	size_t nslots;  /* power of two, > 2 * n */
};

/* Insert a copy of x; an entry with the same id is replaced. */
void norc_sched_heap_put(struct norc_sched_heap *h, const struct norc_sched *x);
/* The entry with this id (borrowed until the next change), or NULL. */
struct norc_sched *norc_sched_heap_find(struct norc_sched_heap *h, int64_t id);
/* Remove the entry with this id; false when there was none. */
bool norc_sched_heap_remove(struct norc_sched_heap *h, int64_t id);
/* Remove the earliest into *out; false when empty. */
bool norc_sched_heap_pop(struct norc_sched_heap *h, struct norc_sched *out);
void norc_sched_heap_clear(struct norc_sched_heap *h); /* empty, keeps memory */
void norc_sched_heap_free(struct norc_sched_heap *h);

#endif
