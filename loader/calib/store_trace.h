/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The stores one call of a copy routine made, in order, and the hazards (DESIGN.md) they show.
 * Pure: filled by loader/calib/calibrate.c from single-stepping, or by tests from recorded traces.
 */
#ifndef VFIOGUARD_STORE_TRACE_H
#define VFIOGUARD_STORE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_MAX_WIDTH 64

#define STORE_VECTOR 0x1 /* a vector instruction (under a mask: width is what it changed) */

struct store {
	int64_t off;      /* from the destination's start */
	uint32_t width;   /* bytes */
	uint32_t flags;
	uint8_t data[STORE_MAX_WIDTH]; /* what the store left in memory (first 64 bytes) */
};

struct store_trace {
	struct store *v;
	size_t n, cap;
	/* Stores that were not all recorded (a trace cut at its limit) make the analysis void. */
	int truncated;
};

int store_trace_add(struct store_trace *t, int64_t off, uint32_t width, const uint8_t *data);
/* Marks the last store added. */
void store_trace_flag_last(struct store_trace *t, uint32_t flags);
void store_trace_reset(struct store_trace *t);
void store_trace_free(struct store_trace *t);

/*
 * The hazards (HAZARD_* bits of bpf/vfioguard.h) of a copy of len bytes to a destination at the
 * given address alignment:
 *   split     a copy of 2, 4 or 8 bytes that no single store of that width covers
 *   dup       a byte stored more than once
 *   reorder   a store that starts below an earlier one (not in ascending address order)
 *   wide      a store wider than 8 bytes, or any vector store
 *   unaligned a store not naturally aligned (address not a multiple of its width)
 */
uint32_t store_trace_hazards(const struct store_trace *t, size_t len, uintptr_t dst_align);

/*
 * Replays the stores onto buf (len bytes, the destination), in order, from their recorded data.
 * Returns 0, or -ERANGE when a store falls outside [0, len).
 */
int store_trace_replay(const struct store_trace *t, uint8_t *buf, size_t len);

/* "4@0 4@0", "2@1 1@0", "32@0 32@32 ...": for tables. Returns buf. */
const char *store_trace_format(const struct store_trace *t, char *buf, size_t len);

#endif /* VFIOGUARD_STORE_TRACE_H */
