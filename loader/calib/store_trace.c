// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Store traces and their hazards; see store_trace.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/vfioguard.h"
#include "store_trace.h"

int store_trace_add(struct store_trace *t, int64_t off, uint32_t width, const uint8_t *data)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct store *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].off = off;
	t->v[t->n].width = width;
	t->v[t->n].flags = 0;
	memset(t->v[t->n].data, 0, sizeof(t->v[t->n].data));
	if (data)
		memcpy(t->v[t->n].data, data, width < STORE_MAX_WIDTH ? width : STORE_MAX_WIDTH);
	t->n++;
	return 0;
}

void store_trace_flag_last(struct store_trace *t, uint32_t flags)
{
	if (t->n)
		t->v[t->n - 1].flags |= flags;
}

void store_trace_reset(struct store_trace *t)
{
	t->n = 0;
	t->truncated = 0;
}

void store_trace_free(struct store_trace *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

uint32_t store_trace_hazards(const struct store_trace *t, size_t len, uintptr_t dst_align)
{
	uint32_t h = 0;
	uint8_t *seen = len ? calloc(len, 1) : NULL;

	/* A natural-width copy that no single store covers whole reaches the device in pieces. */
	if (len == 2 || len == 4 || len == 8) {
		bool whole = false;

		for (size_t i = 0; i < t->n; i++)
			whole |= t->v[i].off == 0 && t->v[i].width == len;
		if (!whole)
			h |= HAZARD_SPLIT;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct store *s = &t->v[i];

		if (s->width > 8 || (s->flags & STORE_VECTOR))
			h |= HAZARD_WIDE;
		/* A masked vector store is one access of its vector's size: judge its start. */
		if (s->flags & STORE_VECTOR) {
			if ((dst_align + (uintptr_t)s->off) & 7)
				h |= HAZARD_UNALIGNED;
		} else if (((dst_align + (uintptr_t)s->off) & (s->width - 1)) ||
			   (s->width & (s->width - 1))) {
			h |= HAZARD_UNALIGNED;
		}
		if (i && s->off < t->v[i - 1].off)
			h |= HAZARD_REORDER;
		for (uint32_t b = 0; seen && b < s->width; b++) {
			int64_t at = s->off + b;

			if (at < 0 || (size_t)at >= len)
				continue;
			if (seen[at])
				h |= HAZARD_DUP;
			seen[at] = 1;
		}
	}
	free(seen);
	return h;
}

int store_trace_replay(const struct store_trace *t, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct store *s = &t->v[i];

		if (s->off < 0 || (uint64_t)s->off + s->width > len || s->width > STORE_MAX_WIDTH)
			return -ERANGE;
		memcpy(buf + s->off, s->data, s->width);
	}
	return 0;
}

const char *store_trace_format(const struct store_trace *t, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < t->n && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%u@%lld", i ? " " : "", t->v[i].width,
			      (long long)t->v[i].off);
	if (n >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}
