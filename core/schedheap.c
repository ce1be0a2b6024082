/*
 * schedheap.c - see schedheap.h. The index maps ids to heap positions (linear probing with
 * backward-shift deletion); every move inside the heap updates it.
 */
#include "schedheap.h"
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static size_t hash(int64_t id, size_t nslots)
{
	uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
	return (size_t)(x >> 17) & (nslots - 1);
}

/* Position of id's slot, or of the empty slot where it would go. */
static size_t probe(const struct norc_sched_heap *h, int64_t id)
{
	size_t i = hash(id, h->nslots);
	while (h->slot[i] && h->v[h->slot[i] - 1].id != id)
		i = (i + 1) & (h->nslots - 1);
	return i;
}

static void index_set(struct norc_sched_heap *h, size_t pos)
{
	h->slot[probe(h, h->v[pos].id)] = pos + 1;
}

static void index_del(struct norc_sched_heap *h, int64_t id)
{
	size_t i = probe(h, id);
	if (!h->slot[i])
		return;
	h->slot[i] = 0;
	/* backward shift: move later entries of the cluster into the hole when they may */
	for (size_t j = (i + 1) & (h->nslots - 1); h->slot[j]; j = (j + 1) & (h->nslots - 1)) {
		size_t home = hash(h->v[h->slot[j] - 1].id, h->nslots);
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			h->slot[i] = h->slot[j];
			h->slot[j] = 0;
			i = j;
		}
	}
}

static void rehash(struct norc_sched_heap *h, size_t nslots)
{
	free(h->slot);
	h->nslots = nslots;
	h->slot = norc_xcalloc(nslots, sizeof(size_t));
	for (size_t i = 0; i < h->n; i++)
		index_set(h, i);
}

static void swap(struct norc_sched_heap *h, size_t a, size_t b)
{
	/* the slots move with their entries; found before the entries move */
	size_t sa = probe(h, h->v[a].id), sb = probe(h, h->v[b].id);
	struct norc_sched t = h->v[a];
	h->v[a] = h->v[b];
	h->v[b] = t;
	h->slot[sa] = b + 1;
	h->slot[sb] = a + 1;
}

static void sift(struct norc_sched_heap *h, size_t i)
{
	while (i && h->v[(i - 1) / 2].due > h->v[i].due) {
		swap(h, (i - 1) / 2, i);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->v[l].due < h->v[m].due)
			m = l;
		if (r < h->n && h->v[r].due < h->v[m].due)
			m = r;
		if (m == i)
			return;
		swap(h, i, m);
		i = m;
	}
}

static void remove_at(struct norc_sched_heap *h, size_t pos)
{
	index_del(h, h->v[pos].id);
	if (--h->n == pos)
		return;
	h->v[pos] = h->v[h->n];
	index_set(h, pos);
	sift(h, pos);
}

void norc_sched_heap_put(struct norc_sched_heap *h, const struct norc_sched *x)
{
	norc_sched_heap_remove(h, x->id);
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = norc_xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	if (2 * (h->n + 1) >= h->nslots)
		rehash(h, h->nslots ? h->nslots * 2 : 128);
	h->v[h->n] = *x;
	index_set(h, h->n);
	h->n++;
	sift(h, h->n - 1);
}

struct norc_sched *norc_sched_heap_find(struct norc_sched_heap *h, int64_t id)
{
	if (!h->nslots)
		return NULL;
	size_t i = probe(h, id);
	return h->slot[i] ? &h->v[h->slot[i] - 1] : NULL;
}

bool norc_sched_heap_remove(struct norc_sched_heap *h, int64_t id)
{
	struct norc_sched *x = norc_sched_heap_find(h, id);
	if (!x)
		return false;
	remove_at(h, (size_t)(x - h->v));
	return true;
}

bool norc_sched_heap_pop(struct norc_sched_heap *h, struct norc_sched *out)
{
	if (!h->n)
		return false;
	*out = h->v[0];
	remove_at(h, 0);
	return true;
}

void norc_sched_heap_clear(struct norc_sched_heap *h)
{
	h->n = 0;
	if (h->slot)
		memset(h->slot, 0, h->nslots * sizeof(size_t));
}

void norc_sched_heap_free(struct norc_sched_heap *h)
{
	free(h->v);
	free(h->slot);
	memset(h, 0, sizeof(*h));
}
