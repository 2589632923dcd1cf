/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * capstone, loaded the first time a disassembler is opened. Linked at start it costs every
 * command its relocation (some 77 000 relative relocations over 1.3 MiB on Debian's build),
 * more than a whole audit of a host; only calibrate and the copy probes disassemble.
 *
 * Include instead of <capstone/capstone.h>: the cs_* calls the project makes go through the
 * library loaded at run time. cs_open returns CS_ERR_MEM with errno set (and a message from
 * disasm_error()) when the library cannot be loaded.
 */
#ifndef VFIOGUARD_DISASM_H
#define VFIOGUARD_DISASM_H

#include <capstone/capstone.h>

struct disasm_api {
	cs_err (*open)(cs_arch arch, cs_mode mode, csh *handle);
	cs_err (*close)(csh *handle);
	cs_err (*option)(csh handle, cs_opt_type type, size_t value);
	size_t (*disasm)(csh handle, const uint8_t *code, size_t size, uint64_t address,
			 size_t count, cs_insn **insn);
	void (*free)(cs_insn *insn, size_t count);
	cs_insn *(*malloc)(csh handle);
	bool (*disasm_iter)(csh handle, const uint8_t **code, size_t *size, uint64_t *address,
			    cs_insn *insn);
	bool (*insn_group)(csh handle, const cs_insn *insn, unsigned int group_id);
	cs_err (*regs_access)(csh handle, const cs_insn *insn, cs_regs regs_read,
			      uint8_t *regs_read_count, cs_regs regs_write,
			      uint8_t *regs_write_count);
};

extern struct disasm_api disasm_api;

/* Loads the library (once); 0 or -errno. */
int disasm_load(void);
/* Why the last load failed (dlerror's words), or "". */
const char *disasm_error(void);
/* cs_open through disasm_load(). */
cs_err disasm_open(cs_arch arch, cs_mode mode, csh *handle);

#define cs_open disasm_open
#define cs_close disasm_api.close
#define cs_option disasm_api.option
#define cs_disasm disasm_api.disasm
#define cs_free disasm_api.free
#define cs_malloc disasm_api.malloc
#define cs_disasm_iter disasm_api.disasm_iter
#define cs_insn_group disasm_api.insn_group
#define cs_regs_access disasm_api.regs_access

#endif /* VFIOGUARD_DISASM_H */
