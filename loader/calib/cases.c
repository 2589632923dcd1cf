// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The cases of a hazard cache as a set; see cases.h. */
#include <stdlib.h>
#include <string.h>

#include "cases.h"

static struct calib_cached_key key_of(const struct calib_case *cc, uint64_t vaddr)
{
	struct calib_cached_key k;

	memset(&k, 0, sizeof(k));
	k.routine = cc->routine;
	k.align = cc->align;
	k.delta = cc->page_delta;
	k.vaddr = vaddr;
	k.len = cc->len;
	k.distance = calib_case_distance(cc);
	return k;
}

bool calib_cases_has(const struct calib_cases *s, const struct calib_case *cc, uint64_t vaddr)
{
	struct calib_cached_key k = key_of(cc, vaddr);
	struct calib_cached *e;

	HASH_FIND(hh, s->v, &k, sizeof(k), e);
	return e != NULL;
}

bool calib_cases_add(struct calib_cases *s, const struct calib_case *cc, uint64_t vaddr,
		     uint32_t hazards)
{
	struct calib_cached *e;

	if (calib_cases_has(s, cc, vaddr))
		return false;
	e = calloc(1, sizeof(*e));
	if (!e)
		return true; /* not kept: looked up as new again */
	e->key = key_of(cc, vaddr);
	e->hazards = hazards;
	HASH_ADD(hh, s->v, key, sizeof(e->key), e);
	if (!e->hh.tbl) /* the table could not grow */
		free(e);
	return true;
}

static void add_read(const struct calib_case *cc, uint64_t vaddr, uint32_t hazards, void *ctx)
{
	calib_cases_add(ctx, cc, vaddr, hazards);
}

int calib_cases_read(struct calib_cases *s, const char *path)
{
	return calib_cache_read(path, add_read, s);
}

static int compare(const struct calib_cached *x, const struct calib_cached *y)
{
	const struct calib_cached_key *a = &x->key, *b = &y->key;

	if (a->routine != b->routine)
		return a->routine < b->routine ? -1 : 1;
	if (a->vaddr != b->vaddr)
		return a->vaddr < b->vaddr ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->align != b->align)
		return a->align < b->align ? -1 : 1;
	if (a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	return a->delta < b->delta ? -1 : a->delta > b->delta;
}

void calib_cases_sort(struct calib_cases *s)
{
	HASH_SORT(s->v, compare);
}

void calib_cases_free(struct calib_cases *s)
{
	struct calib_cached *e, *next;

	HASH_ITER(hh, s->v, e, next) {
		HASH_DEL(s->v, e);
		free(e);
	}
}
