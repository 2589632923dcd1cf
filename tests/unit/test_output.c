// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Output helpers: sizes as the table prints them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../cli/output.h"

static void sizes(void **state)
{
	char buf[32];

	assert_string_equal(human_size(0, buf, sizeof(buf)), "0");
	assert_string_equal(human_size(256, buf, sizeof(buf)), "256");
	assert_string_equal(human_size(4096, buf, sizeof(buf)), "4K");
	assert_string_equal(human_size(1 << 20, buf, sizeof(buf)), "1M");
	assert_string_equal(human_size(16 << 20, buf, sizeof(buf)), "16M");
	assert_string_equal(human_size(3ULL << 30, buf, sizeof(buf)), "3G");
	/* Not a whole number of the next unit: stays exact. */
	assert_string_equal(human_size(1536, buf, sizeof(buf)), "1536");
	assert_string_equal(human_size(0x1800000, buf, sizeof(buf)), "24M");
	assert_string_equal(human_size(1ULL << 60, buf, sizeof(buf)), "1E");
	assert_string_equal(human_size(1ULL << 63, buf, sizeof(buf)), "8E");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
