// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Hazards from recorded store traces (glibc 2.36 x86_64, measured), and replay. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

#include "../../loader/calib/store_trace.h"
#include "../../policy/policy.h"

/* "w@off w@off ..." into a trace. */
static void trace_of(struct store_trace *t, const char *s)
{
	store_trace_reset(t);
	while (*s) {
		unsigned int w;
		long off;
		int n;

		assert_int_equal(sscanf(s, "%u@%ld%n", &w, &off, &n), 2);
		store_trace_add(t, off, w, NULL);
		s += n;
		while (*s == ' ')
			s++;
	}
}

static uint32_t hz(struct store_trace *t, const char *s, size_t len, uintptr_t align)
{
	trace_of(t, s);
	return store_trace_hazards(t, len, align);
}

static void glibc_small_copies(void **state)
{
	struct store_trace t = {};

	assert_int_equal(hz(&t, "1@0", 1, 0), 0);
	assert_int_equal(hz(&t, "2@0 1@0", 2, 0), HAZARD_DUP);
	assert_int_equal(hz(&t, "2@1 1@0", 3, 0), HAZARD_REORDER | HAZARD_UNALIGNED);
	assert_int_equal(hz(&t, "4@0 4@0", 4, 0), HAZARD_DUP);
	assert_int_equal(hz(&t, "4@0 4@1", 5, 0), HAZARD_DUP | HAZARD_UNALIGNED);
	assert_int_equal(hz(&t, "8@0 8@0", 8, 0), HAZARD_DUP);
	assert_int_equal(hz(&t, "8@0 8@7", 15, 0), HAZARD_DUP | HAZARD_UNALIGNED);
	assert_int_equal(hz(&t, "16@0 16@0", 16, 0), HAZARD_DUP | HAZARD_WIDE);
	/* 129 bytes: two head vectors, then the tail ones from the top down. */
	assert_int_equal(hz(&t, "64@0 64@64 64@65 64@1", 129, 0),
			 HAZARD_DUP | HAZARD_REORDER | HAZARD_WIDE | HAZARD_UNALIGNED);
	/* The same 4-byte copy at an odd destination. */
	assert_int_equal(hz(&t, "4@0 4@0", 4, 1), HAZARD_DUP | HAZARD_UNALIGNED);
	store_trace_free(&t);
}

static void clean_and_split_accesses(void **state)
{
	struct store_trace t = {};

	/* What an inlined fixed-size copy does: one store. */
	assert_int_equal(hz(&t, "4@0", 4, 0), 0);
	assert_int_equal(hz(&t, "8@0", 8, 8), 0);
	/* Two halves: split, though each half is aligned. */
	assert_int_equal(hz(&t, "2@0 2@2", 4, 0), HAZARD_SPLIT);
	assert_int_equal(hz(&t, "1@0 1@1", 2, 0), HAZARD_SPLIT);
	/* Byte-wise ascending: fine for lengths that are not an access width. */
	assert_int_equal(hz(&t, "1@0 1@1 1@2", 3, 0), 0);
	/* Nothing stored. */
	assert_int_equal(hz(&t, "", 0, 0), 0);
	store_trace_free(&t);
}

static void masked_vector_store(void **state)
{
	struct store_trace t = {};

	store_trace_add(&t, 0, 3, NULL);
	store_trace_flag_last(&t, STORE_VECTOR);
	assert_int_equal(store_trace_hazards(&t, 3, 0), HAZARD_WIDE);
	assert_int_equal(store_trace_hazards(&t, 3, 1), HAZARD_WIDE | HAZARD_UNALIGNED);
	store_trace_free(&t);
}

static void replay_and_format(void **state)
{
	const uint8_t a[4] = { 1, 2, 3, 4 }, b[2] = { 9, 9 };
	struct store_trace t = {};
	uint8_t buf[4] = {};
	char text[64];

	store_trace_add(&t, 0, 4, a);
	store_trace_add(&t, 1, 2, b);
	assert_int_equal(store_trace_replay(&t, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, ((uint8_t[]){ 1, 9, 9, 4 }), 4);
	assert_string_equal(store_trace_format(&t, text, sizeof(text)), "4@0 2@1");
	/* A store outside the destination is an error, not a silent overrun. */
	store_trace_add(&t, 3, 2, b);
	assert_int_equal(store_trace_replay(&t, buf, sizeof(buf)), -ERANGE);
	/* A long trace is cut with an ellipsis. */
	assert_string_equal(store_trace_format(&t, text, 8), "4@0 ...");
	store_trace_free(&t);
}

UNIT_MAIN(cmocka_unit_test(glibc_small_copies), cmocka_unit_test(clean_and_split_accesses),
	  cmocka_unit_test(masked_vector_store), cmocka_unit_test(replay_and_format))
