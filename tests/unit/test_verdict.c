// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The memoised verdicts: a verdict once given stays where it is while more are asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/verdict.h"

static bool odd_alive(uint32_t pid, void *ctx)
{
	return pid % 2;
}

/*
 * monitor's region table asks for one verdict per row and keeps each pointer: with 34 processes
 * the memo grew under the first rows, and the summary printed freed memory as their rule.
 */
static void verdicts_stay(void **state)
{
	struct verdicts vs = {};
	const struct verdict *first, *v;
	char rule[sizeof(first->rule)];
	void *between[200] = {};

	first = verdict_of(&vs, ARCH_X86_64, 1, "vmm", "0000:00:03.0", 0, CACHE_X86_UC_MINUS);
	assert_non_null(first);
	snprintf(rule, sizeof(rule), "%s", first->rule);
	assert_true(rule[0]);
	for (uint32_t pid = 2; pid < 200; pid++) {
		v = verdict_of(&vs, ARCH_X86_64, pid, "vmm", "0000:00:04.0", 2, CACHE_X86_UC_MINUS);
		assert_non_null(v);
		assert_int_equal(v->pid, pid);
		/* As monitor does between two rows: the memo cannot grow where it is. */
		between[pid] = malloc(64);
	}
	assert_int_equal(first->pid, 1);
	assert_string_equal(first->device, "0000:00:03.0");
	assert_int_equal(first->region, 0);
	assert_string_equal(first->rule, rule);
	/* Asked again: the same verdict, not a second one. */
	assert_ptr_equal(verdict_of(&vs, ARCH_X86_64, 1, "vmm", "0000:00:03.0", 0,
				    CACHE_X86_UC_MINUS), first);
	assert_int_equal(vs.n, 199);
	/* A PID used again is another process: its verdicts are asked for again. */
	verdicts_forget_pid(&vs, 7);
	assert_int_equal(vs.n, 198);
	assert_ptr_equal(verdict_of(&vs, ARCH_X86_64, 1, "vmm", "0000:00:03.0", 0,
				    CACHE_X86_UC_MINUS), first);
	verdicts_forget_exited(&vs, odd_alive, NULL);
	assert_int_equal(vs.n, 99); /* 1, 3, ..., 199 less 7 */
	for (size_t i = 0; i < vs.n; i++)
		assert_true(vs.memo[i]->pid % 2);
	verdicts_free(&vs);
	for (size_t i = 0; i < 200; i++)
		free(between[i]);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdicts_stay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
