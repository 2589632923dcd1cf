/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The cases a hazard cache holds, as a set keyed by (routine, the routine's address, length,
 * alignment, placement, distance): what calibrate lists with --cached, and what it looks up so
 * that a run appends only cases the cache does not have.
 */
#ifndef VFIOGUARD_CALIB_CASES_H
#define VFIOGUARD_CALIB_CASES_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "calibrate.h"

struct calib_cached {
	struct calib_cached_key {
		uint32_t routine, align, delta, pad; /* delta: (dst - src) mod 4096 or far */
		uint64_t vaddr, len, distance;
	} key;
	uint32_t hazards; /* packed as CALIB_LOAD_SHIFT says */
	UT_hash_handle hh;
};

struct calib_cases {
	struct calib_cached *v; /* a uthash table; in case order after calib_cases_sort */
};

/* Adds what the cache file at path holds: the cases read (0 without a file), or -errno. */
int calib_cases_read(struct calib_cases *s, const char *path);
/* Adds a case measured at vaddr: true when the set did not have it. */
bool calib_cases_add(struct calib_cases *s, const struct calib_case *cc, uint64_t vaddr,
		     uint32_t hazards);
bool calib_cases_has(const struct calib_cases *s, const struct calib_case *cc, uint64_t vaddr);
/* Orders the set by routine, address, length, alignment, distance and placement. */
void calib_cases_sort(struct calib_cases *s);
void calib_cases_free(struct calib_cases *s);

#endif /* VFIOGUARD_CALIB_CASES_H */
