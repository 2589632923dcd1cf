// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --probe and --usdt specifications: what each part means, and the reason when it is wrong. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "../../loader/probes/copies.h"

static void function_probe(void **state)
{
	struct copy_probe_spec p;
	char why[256];

	assert_int_equal(copy_probe_parse("/usr/bin/vmm:copy_to_guest:dst=arg1,src=arg2,len=arg3",
					  false, &p, why, sizeof(why)), 0);
	assert_string_equal(p.binary, "/usr/bin/vmm");
	assert_string_equal(p.symbol, "copy_to_guest");
	assert_false(p.usdt);
	assert_int_equal(p.t.kind, VFG_COPY_KIND_COPY);
	assert_int_equal(p.t.dst_arg, 1);
	assert_int_equal(p.t.src_arg, 2);
	assert_int_equal(p.t.len_arg, 3);
	/* With a source, a copy is taken to store as memcpy does. */
	assert_int_equal(p.t.routine, VFG_ROUTINE_MEMCPY);

	/* Without one, nothing is assumed. */
	assert_int_equal(copy_probe_parse("/v:fill:dst=arg0,len=arg2", false, &p, why, sizeof(why)),
			 0);
	assert_int_equal(p.t.routine, VFG_ROUTINE_NONE);
	assert_int_equal(p.t.src_arg, VFG_ARG_NONE);

	assert_int_equal(copy_probe_parse("/v:fill:dst=arg0,src=arg1,len=arg2,like=memset", false,
					  &p, why, sizeof(why)), 0);
	assert_int_equal(p.t.kind, VFG_COPY_KIND_SET);
	assert_int_equal(p.t.routine, VFG_ROUTINE_MEMSET);
	assert_int_equal(p.t.src_arg, VFG_ARG_NONE);

	assert_int_equal(copy_probe_parse("/v:mmio:dst=arg0,len=arg1,like=single", false, &p, why,
					  sizeof(why)), 0);
	assert_int_equal(p.t.routine, VFG_ROUTINE_SINGLE);
}

static void usdt_probe(void **state)
{
	struct copy_probe_spec p;
	char why[256];

	assert_int_equal(copy_probe_parse("/usr/bin/qemu:qemu:ram_write:dst=arg2,len=arg11", true,
					  &p, why, sizeof(why)), 0);
	assert_true(p.usdt);
	assert_string_equal(p.binary, "/usr/bin/qemu");
	assert_string_equal(p.provider, "qemu");
	assert_string_equal(p.symbol, "ram_write");
	assert_int_equal(p.t.dst_arg, 2);
	assert_int_equal(p.t.len_arg, 11);
	/* arg11 is a USDT argument, not a function's. */
	assert_int_equal(copy_probe_parse("/v:f:dst=arg0,len=arg11", false, &p, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "arg0..arg4"));
}

static void errors_say_why(void **state)
{
	static const struct {
		const char *spec;
		bool usdt;
		const char *why;
	} bad[] = {
		{ "nocolon", false, "is not BINARY:SYMBOL" },
		{ ":sym:dst=arg0,len=arg1", false, "is not BINARY:SYMBOL" },
		{ "/v::dst=arg0,len=arg1", false, "is not BINARY:SYMBOL" },
		{ "/v:sym:", false, "is not BINARY:SYMBOL" },
		{ "/v:sym:dst=arg0", false, "dst= and len= are needed" },
		{ "/v:sym:dst,len=arg1", false, "expected KEY=VALUE" },
		{ "/v:sym:dst=rdi,len=arg1", false, "dst=rdi: expected arg0..arg4" },
		{ "/v:sym:dst=arg-1,len=arg1", false, "expected arg0..arg4" },
		{ "/v:sym:dst=arg0,len=arg1,like=fast", false, "like=fast" },
		{ "/v:sym:dst=arg0,len=arg1,size=4", false, "unknown key 'size'" },
		{ "/v:prov:dst=arg0,len=arg1", true, "is not BINARY:PROVIDER:NAME" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct copy_probe_spec p;
		char why[256] = "";

		assert_int_equal(copy_probe_parse(bad[i].spec, bad[i].usdt, &p, why, sizeof(why)),
				 -EINVAL);
		if (!strstr(why, bad[i].why))
			fail_msg("%s: '%s' does not say '%s'", bad[i].spec, why, bad[i].why);
	}
}

/*
 * Retired targets: the oldest folded per probe once more than kept are left, whatever
 * /proc/PID/root each process's libc was reached through; sums kept, folded ones first.
 */
static void retired_targets_fold(void **state)
{
	struct copy_target *r = calloc(400, sizeof(*r));
	size_t n = 0;
	uint64_t hits = 0;

	assert_non_null(r);
	for (unsigned int i = 0; i < 300; i++) {
		struct copy_target *t = &r[n++];

		snprintf(t->name, sizeof(t->name), "libc %s", i % 3 ? "memcpy" : "memset");
		snprintf(t->path, sizeof(t->path), "/proc/%u/root/usr/lib/x86_64-linux-gnu/libc.so.6",
			 1000 + i);
		t->offset = i % 3 ? 0x9d340 : 0x9e000;
		t->pid = 1000 + i;
		t->serial = i + 1;
		t->final.hits = i + 1;
		hits += i + 1;
		copies_retired_fold(r, &n, 8);
		assert_true(n <= 8 + 2);
	}
	/* Two probes (memcpy and memset) summed, then the last 8 processes one by one. */
	assert_int_equal(n, 10);
	assert_int_equal(r[0].serial, 0);
	assert_int_equal(r[1].serial, 0);
	assert_int_equal(r[0].pid, 0);
	assert_string_equal(r[0].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(r[2].serial, 293);
	assert_int_equal(r[9].serial, 300);
	for (size_t i = 0; i < n; i++)
		hits -= r[i].final.hits;
	assert_int_equal(hits, 0);
	free(r);
}

UNIT_MAIN(cmocka_unit_test(function_probe), cmocka_unit_test(usdt_probe),
	  cmocka_unit_test(errors_say_why), cmocka_unit_test(retired_targets_fold))
