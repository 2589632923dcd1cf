// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The copy probes' view of libc, checked against this very process: what proc_resolve_function
 * reads from the IRELATIVE slots must be what the dynamic linker gave our own calls.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "../../loader/host/elf_file.h"

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

/* A table of code pointers in relocated read-only data, as QEMU's MemoryRegionOps are. */
static int table_fn_a(void) { return 1; }
static int table_fn_b(void) { return 2; }
static int (*const table[4])(void) = { table_fn_a, table_fn_b, NULL, NULL };

static void pointers_read_as_the_linker_relocated_them(void **state)
{
	struct elf_file ef;
	uint64_t base, vals[4];
	Dl_info info;

	assert_true(dladdr((void *)table, &info));
	base = (uintptr_t)info.dli_fbase;
	assert_int_equal(elf_file_open(&ef, "/proc/self/exe"), 0);
	assert_int_equal(elf_file_read_pointers(&ef, (uintptr_t)table - base, vals, 4), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(vals[i], table[i] ? (uintptr_t)table[i] - base : 0);
	assert_true(elf_file_vaddr_is_exec(&ef, vals[0]));
	assert_false(elf_file_vaddr_is_exec(&ef, (uintptr_t)table - base));
	/* Past every PT_LOAD's file contents. */
	assert_int_equal(elf_file_read_pointers(&ef, UINT64_MAX - 64, vals, 4), -ERANGE);
	assert_int_equal(elf_file_read_pointers(&ef, UINT64_MAX - 4, vals, 4), -ERANGE);
	elf_file_close(&ef);
}

static void not_elf(void **state)
{
	struct elf_file ef;

	assert_int_equal(elf_file_open(&ef, "/proc/self/status"), -ENOEXEC);
	assert_int_equal(elf_file_open(&ef, "/nonexistent"), -ENOENT);
}

UNIT_MAIN(cmocka_unit_test(libc_routines_resolve_as_the_linker_did),
	  cmocka_unit_test(glibc_exports_copy_routines_as_ifuncs),
	  cmocka_unit_test(pointers_read_as_the_linker_relocated_them), cmocka_unit_test(not_elf))
