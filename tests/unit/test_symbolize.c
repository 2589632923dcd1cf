// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * symbolize on this process through libdw: a name kept is the name libdw finds, however many
 * addresses share a slot, after a PID is forgotten, and into a buffer shorter than the name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "../../loader/host/symbolize.h"

int symbolize_target(int x);

/* Code of this binary, longer than its addresses below reach. */
__attribute__((noinline)) int symbolize_target(int x)
{
	volatile int v = x;

	for (int i = 0; i < 64; i++)
		v = v * 3 + i;
	return v;
}

#define NADDR 400 /* more than SYMBOLIZER_NAMES: slots are shared and names replaced */

/* Addresses in this binary and in libc, and what a symbolizer with nothing kept names them. */
static uint64_t addrs[NADDR];
static char *want[NADDR];

static int setup(void **state)
{
	struct symbolizer s = {};
	char buf[SYMBOLIZER_NAME];
	uint64_t here = (uintptr_t)symbolize_target, libc = (uintptr_t)strlen;

	(void)state;
	for (unsigned int i = 0; i < NADDR; i++) {
		addrs[i] = i % 2 ? here + i / 2 : libc + 8 * i;
		/* One symbolizer for each, so that no name comes from one kept. */
		const char *n = symbolize(&s, getpid(), addrs[i], buf, sizeof(buf));
		want[i] = n ? strdup(n) : NULL;
		symbolizer_free(&s);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < NADDR; i++)
		free(want[i]);
	return 0;
}

static void names_this_binary(void **state)
{
	struct symbolizer s = {};
	char buf[SYMBOLIZER_NAME];

	(void)state;
	assert_string_equal(
	    symbolize(&s, getpid(), (uintptr_t)symbolize_target + 4, buf, sizeof(buf)),
	    "symbolize_target+0x4 (test_symbolize)");
	assert_non_null(s.procs[0].names); /* kept */
	assert_non_null(want[0]);
	assert_non_null(strstr(want[0], "(libc.so.6)"));
	symbolizer_free(&s);
}

static void kept_names_are_found_names(void **state)
{
	struct symbolizer s = {};
	char buf[SYMBOLIZER_NAME];

	(void)state;
	/* Forward, backward, forward: every name found, kept, replaced, found again. */
	for (int round = 0; round < 3; round++) {
		for (unsigned int k = 0; k < NADDR; k++) {
			unsigned int i = round == 1 ? NADDR - 1 - k : k;
			const char *n = symbolize(&s, getpid(), addrs[i], buf, sizeof(buf));

			if (!want[i]) {
				assert_null(n);
				continue;
			}
			assert_non_null(n);
			assert_string_equal(n, want[i]);
		}
		/* Read again: the names kept before are gone. */
		if (round == 1)
			symbolizer_forget(&s, getpid());
	}
	symbolizer_free(&s);
}

static void a_short_buffer_gets_the_name_cut(void **state)
{
	struct symbolizer s = {};
	char buf[SYMBOLIZER_NAME], small[8];

	(void)state;
	/* Once looked up (kept), once from what was kept: both cut the same way. */
	for (int i = 0; i < 2; i++) {
		assert_non_null(symbolize(&s, getpid(), addrs[1], small, sizeof(small)));
		assert_int_equal(strlen(small), sizeof(small) - 1);
		assert_memory_equal(small, want[1], sizeof(small) - 1);
	}
	assert_string_equal(symbolize(&s, getpid(), addrs[1], buf, sizeof(buf)), want[1]);
	symbolizer_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_this_binary),
	    cmocka_unit_test(kept_names_are_found_names),
	    cmocka_unit_test(a_short_buffer_gets_the_name_cut),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
