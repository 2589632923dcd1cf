// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The hazard cache: what is appended is read back, keyed by the routine this libc picks. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "../../loader/calib/calibrate.h"
#include "../../loader/calib/cases.h"

struct seen {
	struct calib_case cc[8];
	uint64_t vaddr[8];
	uint32_t hazards[8];
	int n;
};

static void collect(const struct calib_case *cc, uint64_t vaddr, uint32_t hazards, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->cc[s->n] = *cc;
		s->vaddr[s->n] = vaddr;
		s->hazards[s->n++] = hazards;
	}
}

static void cases_round_trip(void **state)
{
	char dir[] = "/tmp/vfg-cache-XXXXXX", path[256];
	struct calib_case a = { .routine = CALIB_MEMCPY, .len = 4, .align = 3,
				.page_delta = CALIB_PAGE_FAR };
	struct calib_case d = { .routine = CALIB_MEMMOVE, .len = 1024, .page_delta = 34 };
	/* A copy out of device memory outside the window: (dst - src) mod 64 is 5. */
	struct calib_case e = { .routine = CALIB_MEMCPY, .len = 4, .page_delta = CALIB_PAGE_FAR + 6 };
	struct calib_case b = { .routine = CALIB_MEMMOVE_BACKWARD, .len = 300, .align = 16 };
	struct calib_case c = { .routine = CALIB_MEMMOVE_FORWARD, .len = 300, .distance = 16 };
	struct seen s = {};
	unsigned int w;
	uint64_t mine;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/hazards-x.tsv", dir);
	assert_int_equal(calib_cache_read(path, collect, &s), 0); /* no file: nothing, no error */
	assert_int_equal(calib_cache_append(path, &a, 0x2), 0);   /* makes the directory */
	/* A case with a string instruction's stores keeps that bit. */
	assert_int_equal(calib_cache_append(path, &b, 0xd | VFG_HAZARDS_STRING), 0);
	assert_int_equal(calib_cache_append(path, &c, 0x8), 0);
	assert_int_equal(calib_cache_append(path, &d, 0xe | 0xc << CALIB_LOAD_SHIFT |
						      CALIB_LOADS_MEASURED), 0);
	assert_int_equal(calib_cache_append(path, &e, 0x2 | CALIB_LOADS_MEASURED), 0);
	assert_int_equal(calib_cache_window(path, CALIB_MEMCPY, 0x10, &w), -ENOENT);
	assert_int_equal(calib_cache_append_window(path, CALIB_MEMCPY, 0x10, 256), 0);
	assert_int_equal(calib_cache_append_window(path, CALIB_MEMCPY, 0x20, 64), 0);
	assert_int_equal(calib_cache_append_window(path, CALIB_MEMCPY, 0x10, 512), 0);
	f = fopen(path, "a");
	assert_non_null(f);
	/* A comment, garbage, a length beyond the table, an unknown hazard bit, a placement for
	 * memset, a v1 line. */
	fputs("# a comment\ngarbage line\nmemcpy 0x10 70000 0 far 0x1\nmemcpy 0x10 8 0 far 0x41\n"
	      "memset 0x10 8 0 12 0x1 0\nmemcpy 0x10 8 0 1 0x1 0\n", f);
	fclose(f);
	assert_int_equal(calib_cache_read(path, collect, &s), 6);
	/* The v1 line reads as a placement of 1 byte: why the file's name changed with it. */
	assert_int_equal(s.cc[5].page_delta, 1);
	assert_int_equal(s.hazards[5], 0x1); /* its loads: not measured */
	assert_int_equal(s.cc[3].page_delta, 34);
	assert_int_equal(s.cc[3].routine, CALIB_MEMMOVE);
	assert_int_equal(s.hazards[3], 0xe | 0xc << CALIB_LOAD_SHIFT | CALIB_LOADS_MEASURED);
	assert_int_equal(s.cc[4].page_delta, CALIB_PAGE_FAR + 6);
	assert_int_equal(calib_case_placement(&s.cc[4]), 2048 + 5);
	assert_int_equal(s.hazards[4], 0x2 | CALIB_LOADS_MEASURED);
	assert_int_equal(s.cc[0].page_delta, CALIB_PAGE_FAR);
	assert_int_equal(calib_case_placement(&s.cc[0]), 2048 + 3);
	assert_int_equal(s.cc[1].page_delta, 0);
	/* The last window line of the routine counts. */
	assert_int_equal(calib_cache_window(path, CALIB_MEMCPY, 0x10, &w), 0);
	assert_int_equal(w, 512);
	assert_int_equal(calib_cache_window(path, CALIB_MEMCPY, 0x20, &w), 0);
	assert_int_equal(w, 64);
	assert_int_equal(calib_cache_window(path, CALIB_MEMMOVE, 0x10, &w), -ENOENT);
	assert_int_equal(calib_routine_vaddr(CALIB_MEMCPY, &mine), 0);
	assert_int_equal(s.vaddr[0], mine);
	assert_int_equal(s.cc[0].len, 4);
	assert_int_equal(s.cc[0].align, 3);
	assert_int_equal(s.hazards[0], 0x2);
	assert_int_equal(calib_case_distance(&s.cc[0]), 0);
	/* The default distance of an overlapping case is written out as what was measured. */
	assert_int_equal(s.cc[1].routine, CALIB_MEMMOVE_BACKWARD);
	assert_int_equal(s.cc[1].distance, 150);
	assert_int_equal(s.hazards[1], 0xd | VFG_HAZARDS_STRING);
	assert_int_equal(s.cc[2].distance, 16);
	assert_int_equal(s.hazards[2], 0x8);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

/*
 * A case whose measurement failed is not asked again before its back-off: 1 min, doubling, at
 * most 1 h; other cases are not held back; the table stays bounded and keeps the recent ones.
 */
static void failures_back_off(void **state)
{
	static struct calib_failures t;
	const uint64_t s = 1000000000ULL;
	uint32_t a = 1, b = 2;

	calib_failure_record(&t, &a, sizeof(a), -ENOENT, "load capstone", 100 * s);
	assert_non_null(calib_failure_find(&t, &a, sizeof(a), 100 * s));
	assert_string_equal(calib_failure_find(&t, &a, sizeof(a), 159 * s)->step, "load capstone");
	assert_int_equal(calib_failure_find(&t, &a, sizeof(a), 159 * s)->err, -ENOENT);
	assert_null(calib_failure_find(&t, &a, sizeof(a), 160 * s));
	assert_null(calib_failure_find(&t, &b, sizeof(b), 100 * s));
	/* Failed again when tried: 2 min, then 4, ... and never more than an hour. */
	calib_failure_record(&t, &a, sizeof(a), -ENOENT, "load capstone", 160 * s);
	assert_non_null(calib_failure_find(&t, &a, sizeof(a), 279 * s));
	assert_null(calib_failure_find(&t, &a, sizeof(a), 280 * s));
	for (int i = 0; i < 20; i++)
		calib_failure_record(&t, &a, sizeof(a), -ENOENT, "", 1000 * s);
	assert_non_null(calib_failure_find(&t, &a, sizeof(a), 4599 * s));
	assert_null(calib_failure_find(&t, &a, sizeof(a), 4600 * s));
	assert_int_equal(t.n, 1);
	/* Bounded: the oldest failure makes room. */
	for (uint32_t k = 10; k < 10 + CALIB_FAILURES_MAX; k++)
		calib_failure_record(&t, &k, sizeof(k), -EIO, "", 2000 * s + k);
	assert_int_equal(t.n, CALIB_FAILURES_MAX);
	assert_null(calib_failure_find(&t, &a, sizeof(a), 2001 * s));
	b = 10 + CALIB_FAILURES_MAX - 1;
	assert_non_null(calib_failure_find(&t, &b, sizeof(b), 2001 * s));
}

/* The cache's cases as a set: read, looked up, added once, listed in case order. */
static void cases_as_a_set(void **state)
{
	char dir[] = "/tmp/vfg-cases-XXXXXX", path[256];
	struct calib_case big = { .routine = CALIB_MEMSET, .len = 64, .align = 1 };
	struct calib_case small = { .routine = CALIB_MEMCPY, .len = 8, .align = 1,
				    .page_delta = CALIB_PAGE_FAR };
	struct calib_case other = small;
	struct calib_cases set = {};
	const struct calib_cached *e;
	uint64_t va = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hazards-x.tsv", dir);
	assert_int_equal(calib_cache_append(path, &big, 0x4), 0);
	assert_int_equal(calib_cache_append(path, &small, 0x2), 0);
	assert_int_equal(calib_cases_read(&set, path), 2);
	/* Appended at the address of this process's routine (its libc's IFUNC choice). */
	assert_int_equal(calib_routine_vaddr(CALIB_MEMCPY, &va), 0);
	assert_int_equal(HASH_COUNT(set.v), 2);
	assert_true(calib_cases_has(&set, &small, va));
	/* The same case of another routine address (another IFUNC choice) is another case. */
	assert_false(calib_cases_has(&set, &small, va + 0x40));
	other.align = 2;
	assert_false(calib_cases_has(&set, &other, va));
	assert_false(calib_cases_add(&set, &small, va, 0x2));
	assert_true(calib_cases_add(&set, &other, va, 0x1));
	assert_true(calib_cases_has(&set, &other, va));
	calib_cases_sort(&set);
	e = set.v;
	assert_int_equal(e->key.routine, CALIB_MEMCPY);
	assert_int_equal(e->key.align, 1);
	e = e->hh.next;
	assert_int_equal(e->key.align, 2);
	assert_int_equal(e->hazards, 0x1);
	e = e->hh.next;
	assert_int_equal(e->key.routine, CALIB_MEMSET);
	assert_int_equal(e->hazards, 0x4);
	assert_null(e->hh.next);
	calib_cases_free(&set);
	assert_null(set.v);
	unlink(path);
	rmdir(dir);
}

UNIT_MAIN(cmocka_unit_test(cases_round_trip), cmocka_unit_test(failures_back_off),
	  cmocka_unit_test(cases_as_a_set))
