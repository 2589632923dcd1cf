// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The copy probes' view of libc, checked against this very process: what proc_resolve_function
 * reads from the IRELATIVE slots must be what the dynamic linker gave our own calls.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../loader/elf_file.h"

static void *resolved(const char *name, Dl_info *info)
{
	void *fn = dlsym(RTLD_DEFAULT, name);

	assert_non_null(fn);
	assert_true(dladdr(fn, info));
	return fn;
}

static void libc_routines_resolve_as_the_linker_did(void **state)
{
	static const char *const names[] = { "memcpy", "memmove", "memset" };
	char path[4096], why[256];
	struct elf_file ef;
	uint64_t base, vaddr;
	Dl_info info;

	assert_int_equal(proc_find_libc(getpid(), path, sizeof(path), &base), 0);
	resolved("memcpy", &info);
	assert_int_equal(base, (uintptr_t)info.dli_fbase);
	assert_int_equal(elf_file_open(&ef, path), 0);
	for (size_t i = 0; i < 3; i++) {
		void *fn = resolved(names[i], &info);
		uint64_t off;

		assert_int_equal(proc_resolve_function(&ef, getpid(), base, names[i], &vaddr, why,
						       sizeof(why)), 0);
		/* The default version (memcpy@@GLIBC_2.14), not the hidden memcpy@GLIBC_2.2.5. */
		assert_int_equal(vaddr, (uintptr_t)fn - (uintptr_t)info.dli_fbase);
		assert_int_equal(elf_file_vaddr_to_offset(&ef, vaddr, &off), 0);
	}
	elf_file_close(&ef);
}

static void glibc_exports_copy_routines_as_ifuncs(void **state)
{
	char path[4096], id[96];
	struct elf_file ef;
	uint64_t base, value, slot, off;
	int type;

	assert_int_equal(proc_find_libc(getpid(), path, sizeof(path), &base), 0);
	assert_int_equal(elf_file_open(&ef, path), 0);
	assert_int_equal(elf_file_symbol(&ef, "memcpy", &value, NULL, &type), 0);
	assert_int_equal(type, STT_GNU_IFUNC);
	assert_int_equal(elf_file_irelative_slot(&ef, value, &slot), 0);
	assert_int_equal(elf_file_symbol(&ef, "no_such_function_here", &value, NULL, &type),
			 -ENOENT);
	assert_int_equal(elf_file_vaddr_to_offset(&ef, 0, &off), -ERANGE);
	assert_int_equal(elf_file_build_id(&ef, id, sizeof(id)), 0);
	assert_int_equal(strlen(id), 40);
	elf_file_close(&ef);
}

static void not_elf(void **state)
{
	struct elf_file ef;

	assert_int_equal(elf_file_open(&ef, "/proc/self/status"), -ENOEXEC);
	assert_int_equal(elf_file_open(&ef, "/nonexistent"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(libc_routines_resolve_as_the_linker_did),
		cmocka_unit_test(glibc_exports_copy_routines_as_ifuncs),
		cmocka_unit_test(not_elf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
