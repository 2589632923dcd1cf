/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What every unit test includes: cmocka with the headers it needs first, and its main(). */
#ifndef VFIOGUARD_UNIT_H
#define VFIOGUARD_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* main(): runs the tests given (cmocka_unit_test(fn), ...) as one group. */
#define UNIT_MAIN(...)                                                                           \
	int main(void)                                                                           \
	{                                                                                        \
		const struct CMUnitTest tests[] = { __VA_ARGS__ };                               \
		return cmocka_run_group_tests(tests, NULL, NULL);                                \
	}

#endif /* VFIOGUARD_UNIT_H */
