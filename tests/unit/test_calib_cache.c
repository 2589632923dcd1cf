// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The hazard cache: what is appended is read back, keyed by the routine this libc picks. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../loader/calibrate.h"

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
	struct calib_case a = { .routine = CALIB_MEMCPY, .len = 4, .align = 3 };
	struct calib_case b = { .routine = CALIB_MEMMOVE_BACKWARD, .len = 300, .align = 16 };
	struct calib_case c = { .routine = CALIB_MEMMOVE_FORWARD, .len = 300, .distance = 16 };
	struct seen s = {};
	uint64_t mine;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/hazards-x.tsv", dir);
	assert_int_equal(calib_cache_read(path, collect, &s), 0); /* no file: nothing, no error */
	assert_int_equal(calib_cache_append(path, &a, 0x2), 0);   /* makes the directory */
	assert_int_equal(calib_cache_append(path, &b, 0xd), 0);
	assert_int_equal(calib_cache_append(path, &c, 0x8), 0);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("# a comment\ngarbage line\nmemcpy 0x10 70000 0 0 0x1\n", f); /* too long: skipped */
	fclose(f);
	assert_int_equal(calib_cache_read(path, collect, &s), 3);
	assert_int_equal(calib_routine_vaddr(CALIB_MEMCPY, &mine), 0);
	assert_int_equal(s.vaddr[0], mine);
	assert_int_equal(s.cc[0].len, 4);
	assert_int_equal(s.cc[0].align, 3);
	assert_int_equal(s.hazards[0], 0x2);
	assert_int_equal(calib_case_distance(&s.cc[0]), 0);
	/* The default distance of an overlapping case is written out as what was measured. */
	assert_int_equal(s.cc[1].routine, CALIB_MEMMOVE_BACKWARD);
	assert_int_equal(s.cc[1].distance, 150);
	assert_int_equal(s.cc[2].distance, 16);
	assert_int_equal(s.hazards[2], 0x8);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cases_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
