// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* capstone loaded on first use; see disasm.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "disasm.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* The library this build was compiled against: libcapstone.so.4 for capstone 4. */
#define CAPSTONE_SONAME "libcapstone.so." STR(CS_API_MAJOR)

struct disasm_api disasm_api;
static int load_err = 1; /* 1: not tried */
static char load_msg[256];

int disasm_load(void)
{
	static const char *const names[] = { "cs_open", "cs_close", "cs_option", "cs_disasm",
					     "cs_free", "cs_malloc", "cs_disasm_iter",
					     "cs_insn_group", "cs_regs_access" };
	void **slots[] = { (void **)&disasm_api.open, (void **)&disasm_api.close,
			   (void **)&disasm_api.option, (void **)&disasm_api.disasm,
			   (void **)&disasm_api.free, (void **)&disasm_api.malloc,
			   (void **)&disasm_api.disasm_iter, (void **)&disasm_api.insn_group,
			   (void **)&disasm_api.regs_access };
	void *lib;

	if (load_err <= 0)
		return load_err;
	lib = dlopen(CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(load_msg, sizeof(load_msg), "%s", dlerror());
		return load_err = -ENOENT;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*slots[i] = dlsym(lib, names[i]);
		if (!*slots[i]) {
			snprintf(load_msg, sizeof(load_msg), "%s: no %s", CAPSTONE_SONAME, names[i]);
			dlclose(lib);
			return load_err = -ENOENT;
		}
	}
	return load_err = 0;
}

const char *disasm_error(void)
{
	return load_err < 0 ? load_msg : "";
}

cs_err disasm_open(cs_arch arch, cs_mode mode, csh *handle)
{
	int err = disasm_load();

	if (err) {
		fprintf(stderr, "vfioguard: cannot load the disassembler: %s\n", load_msg);
		errno = -err;
		return CS_ERR_MEM;
	}
	return disasm_api.open(arch, mode, handle);
}
