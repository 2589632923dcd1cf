// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* capstone loaded on first use; see disasm.h. */
#include <errno.h>
#include <stdio.h>

#include "disasm.h"
#include "dynlib.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* The library this build was compiled against: libcapstone.so.4 for capstone 4. */
#define CAPSTONE_SONAME "libcapstone.so." STR(CS_API_MAJOR)

struct disasm_api disasm_api;
static int load_err = 1; /* 1: not tried */
static char load_msg[256];

int disasm_load(void)
{
	const struct dynlib_fn fns[] = {
		DYNLIB_FN(cs_open, disasm_api.open), DYNLIB_FN(cs_close, disasm_api.close),
		DYNLIB_FN(cs_option, disasm_api.option), DYNLIB_FN(cs_disasm, disasm_api.disasm),
		DYNLIB_FN(cs_free, disasm_api.free), DYNLIB_FN(cs_malloc, disasm_api.malloc),
		DYNLIB_FN(cs_disasm_iter, disasm_api.disasm_iter),
		DYNLIB_FN(cs_insn_group, disasm_api.insn_group),
		DYNLIB_FN(cs_regs_access, disasm_api.regs_access),
	};

	if (load_err <= 0)
		return load_err;
	return load_err = dynlib_load(CAPSTONE_SONAME, fns, sizeof(fns) / sizeof(fns[0]), load_msg,
				      sizeof(load_msg));
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
