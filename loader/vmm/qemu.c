// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The qemu profile: which of a QEMU executable's functions to probe, found from its exported
 * symbols and its machine code (no debug information needed); see targets.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../host/disasm.h"
#include "../host/elf_file.h"
#include "targets.h"

/*
 * The build's own architecture in capstone's terms: its disassembler, an instruction's details,
 * a memory operand, the first argument's register.
 */
#if defined(__x86_64__)
#define ARCH_CS CS_ARCH_X86, CS_MODE_64
#define ARCH_DETAIL cs_x86
#define ARCH_DETAIL_FIELD x86
#define ARCH_OP_MEM X86_OP_MEM
#define ARCH_ARG0 X86_REG_RDI
#define ARCH_REG_INVALID X86_REG_INVALID
#else
#define ARCH_CS CS_ARCH_ARM64, CS_MODE_ARM
#define ARCH_DETAIL cs_arm64
#define ARCH_DETAIL_FIELD arm64
#define ARCH_OP_MEM ARM64_OP_MEM
#define ARCH_ARG0 ARM64_REG_X0
#define ARCH_REG_INVALID ARM64_REG_INVALID
#endif

/*
 * The first count instructions (0: all) of an exported function of exe, at most max bytes
 * (the symbol's size when smaller), disassembled with details; *h is open for them. 0 or
 * -errno, with the reason in why.
 */
static int function_disasm(struct elf_file *ef, const char *exe, const char *sym, size_t max,
			   size_t count, csh *h, cs_insn **insn, size_t *n, char *why, size_t len)
{
	uint64_t value, size, off;
	unsigned char code[512];
	ssize_t got;
	int fd;

	if (elf_file_symbol(ef, sym, &value, &size, NULL) ||
	    elf_file_vaddr_to_offset(ef, value, &off)) {
		snprintf(why, len, "no %s", sym);
		return -ENOENT;
	}
	if (max > sizeof(code))
		max = sizeof(code);
	if (!size || size > max)
		size = max;
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "cannot read %s: %s", exe, strerror(errno));
		return -errno;
	}
	got = pread(fd, code, size, off);
	close(fd);
	if (got <= 0) {
		snprintf(why, len, "cannot read %s at %s", exe, sym);
		return -EIO;
	}
	if (cs_open(ARCH_CS, h) != CS_ERR_OK) {
		snprintf(why, len, "no disassembler: %s", disasm_error());
		return -ENOTSUP;
	}
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	*n = cs_disasm(*h, code, got, value, count, insn);
	return 0;
}

/*
 * The displacement of the first load through the first argument register in a small accessor:
 * qemu_ram_get_host_addr(rb) is "return rb->host", memory_region_get_ram_addr(mr) starts with
 * "mr->ram_block". This is how the qemu profile learns the two offsets it reads without QEMU's
 * debug information.
 */
static int first_arg_load(struct elf_file *ef, const char *exe, const char *sym, uint32_t *disp)
{
	char why[160];
	cs_insn *insn = NULL;
	size_t n = 0;
	int err;
	csh h;

	err = function_disasm(ef, exe, sym, 32, 4, &h, &insn, &n, why, sizeof(why));
	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < n && err; i++) {
		const ARCH_DETAIL *d = &insn[i].detail->ARCH_DETAIL_FIELD;

		for (int k = 0; k < d->op_count; k++)
			if (d->operands[k].type == ARCH_OP_MEM && d->operands[k].mem.base == ARCH_ARG0 &&
			    d->operands[k].mem.index == ARCH_REG_INVALID &&
			    d->operands[k].mem.disp >= 0 && d->operands[k].mem.disp < 4096) {
				*disp = d->operands[k].mem.disp;
				err = 0;
				break;
			}
	}
	cs_free(insn, n);
	cs_close(&h);
	return err;
}

/*
 * The read and write handlers of QEMU's ram_device_mem_ops (memory.c), which only RAM-device
 * regions (an mmapped VFIO BAR) use: memory_region_init_ram_device_ptr() stores the address of
 * that MemoryRegionOps in the region, and it is the one address of data the function takes
 * that holds two code pointers (.read, .write) followed by two null ones (.read_with_attrs,
 * .write_with_attrs). The handlers are static, so a stripped QEMU names them nowhere else.
 */
static int ram_device_handlers(struct elf_file *ef, const char *exe, uint64_t *read_fn,
			       uint64_t *write_fn, char *why, size_t len)
{
	static const char sym[] = "memory_region_init_ram_device_ptr";
	uint64_t found[2] = { 0, 0 };
#if !defined(__x86_64__)
	uint64_t addrs[32] = { 0 }; /* what adrp and add put in x0..x31 */
#endif
	cs_insn *insn = NULL;
	int nfound = 0, err;
	size_t n = 0;
	csh h;

	err = function_disasm(ef, exe, sym, 512, 0, &h, &insn, &n, why, len);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		uint64_t addr = 0, ptr[4];
#if defined(__x86_64__)
		cs_x86 *x = &insn[i].detail->x86;

		/* lea disp(%rip), reg */
		if (insn[i].id != X86_INS_LEA || x->op_count != 2 || x->operands[1].type != X86_OP_MEM ||
		    x->operands[1].mem.base != X86_REG_RIP)
			continue;
		addr = insn[i].address + insn[i].size + x->operands[1].mem.disp;
#else
		cs_arm64 *a = &insn[i].detail->arm64;
		unsigned int r, d;

		/* adrp xN, page; add xN, xN, #lo (sometimes twice: a field of a static object) */
		if (a->op_count < 2 || a->operands[0].type != ARM64_OP_REG ||
		    (d = a->operands[0].reg - ARM64_REG_X0) >= 32)
			continue;
		if (insn[i].id == ARM64_INS_ADRP) {
			addrs[d] = a->operands[1].imm;
			continue;
		}
		if (insn[i].id != ARM64_INS_ADD || a->op_count != 3 ||
		    a->operands[1].type != ARM64_OP_REG || a->operands[2].type != ARM64_OP_IMM ||
		    (r = a->operands[1].reg - ARM64_REG_X0) >= 32 || !addrs[r]) {
			addrs[d] = 0; /* whatever else it does, the register is no known address */
			continue;
		}
		addr = addrs[d] = addrs[r] + a->operands[2].imm;
#endif
		if (elf_file_vaddr_is_exec(ef, addr) || elf_file_read_pointers(ef, addr, ptr, 4) ||
		    !elf_file_vaddr_is_exec(ef, ptr[0]) || !elf_file_vaddr_is_exec(ef, ptr[1]) || ptr[2] ||
		    ptr[3])
			continue;
		if (nfound && (found[0] != ptr[0] || found[1] != ptr[1])) {
			nfound = 2;
			break;
		}
		found[0] = ptr[0];
		found[1] = ptr[1];
		nfound = 1;
	}
	cs_free(insn, n);
	cs_close(&h);
	if (nfound != 1) {
		snprintf(why, len, "%s stores %s MemoryRegionOps of the expected shape (two handlers, "
			 "no attrs handlers)", sym, nfound ? "more than one" : "no");
		return -ENOENT;
	}
	*read_fn = found[0];
	*write_fn = found[1];
	return 0;
}


/*
 * QEMU's DMA maps: address_space_map (entry and return), memory_region_ref (the region of a map
 * in flight) and address_space_unmap (a bounce buffer given back), which Debian's QEMU exports.
 * Fills q->dma, or leaves q->ndma at 0 with the reason in q->dma_why when a symbol is missing.
 */
static void dma_targets(struct elf_file *ef, uint32_t pid, const char *path, uint32_t rb_off,
			uint32_t host_off, struct qemu_targets *q)
{
	static const struct {
		const char *sym, *name;
		enum vfg_copy_kind kind;
	} probes[] = {
		{ "address_space_map", "address_space_map", VFG_COPY_KIND_DMA_MAP },
		{ "address_space_map", "address_space_map (return)", VFG_COPY_KIND_DMA_MAP_RET },
		{ "memory_region_ref", "memory_region_ref (in a DMA map)", VFG_COPY_KIND_DMA_REF },
		{ "address_space_unmap", "address_space_unmap", VFG_COPY_KIND_DMA_UNMAP },
	};
	struct copy_target *t = q->dma;

	for (size_t i = 0; i < 4; i++) {
		uint64_t vaddr;

		if (elf_file_symbol(ef, probes[i].sym, &vaddr, NULL, NULL) ||
		    elf_file_vaddr_to_offset(ef, vaddr, &t[i].offset)) {
			snprintf(q->dma_why, sizeof(q->dma_why),
				 "DMA maps not watched: the executable exports no %s", probes[i].sym);
			return;
		}
		t[i].pid = pid;
		snprintf(t[i].path, sizeof(t[i].path), "%s", path);
		snprintf(t[i].name, sizeof(t[i].name), "qemu %s", probes[i].name);
		t[i].t.kind = probes[i].kind;
		t[i].t.routine = VFG_ROUTINE_NONE;
		t[i].t.dst_arg = t[i].t.src_arg = t[i].t.len_arg = VFG_ARG_NONE;
		t[i].t.value_arg = VFG_ARG_NONE;
		t[i].t.mr_ram_block = rb_off;
		t[i].t.ram_block_host = host_off;
	}
	q->ndma = 4;
}

int vmm_qemu_targets(uint32_t pid, struct qemu_targets *q, char *why, size_t len)
{
	/* QEMU's memory core, which Debian's QEMU exports through .dynsym. */
	static const char dispatch_write[] = "memory_region_dispatch_write",
			  dispatch_read[] = "memory_region_dispatch_read";
	struct {
		const char *name;
		uint64_t vaddr;
		enum vfg_copy_kind kind;
		uint8_t len_arg, value_arg;
		uint32_t flags;
	} probes[2];
	char exe[64], path[PATH_MAX], fallback[256] = "";
	uint32_t rb_off, host_off;
	uint64_t rd, wr;
	struct elf_file ef;
	ssize_t plen;
	int err;

	memset(q, 0, sizeof(*q));
	snprintf(exe, sizeof(exe), "/proc/%u/exe", pid);
	err = elf_file_open(&ef, exe);
	if (err) {
		snprintf(why, len, "cannot read pid %u's executable: %s", pid, strerror(-err));
		return err;
	}
	if (elf_file_symbol(&ef, dispatch_write, &wr, NULL, NULL) ||
	    elf_file_symbol(&ef, dispatch_read, &rd, NULL, NULL)) {
		snprintf(why, len, "pid %u's executable matches no VMM profile (qemu: no %s)", pid,
			 dispatch_write);
		elf_file_close(&ef);
		return 0;
	}
	if (first_arg_load(&ef, exe, "memory_region_get_ram_addr", &rb_off) ||
	    first_arg_load(&ef, exe, "qemu_ram_get_host_addr", &host_off)) {
		snprintf(why, len, "pid %u looks like QEMU but memory_region_get_ram_addr and "
			 "qemu_ram_get_host_addr do not show where a region's host memory is", pid);
		elf_file_close(&ef);
		return -ENOENT;
	}
	/* A file, not /proc/PID/exe: one QEMU binary's probes are recognised across processes. */
	plen = readlink(exe, path, sizeof(path) - 1);
	if (plen < 0) {
		snprintf(why, len, "cannot read %s: %s", exe, strerror(errno));
		elf_file_close(&ef);
		return -errno;
	}
	path[plen] = 0;
	/*
	 * Only the accesses of RAM-device regions where QEMU's handlers for them can be found:
	 * the dispatch functions see every MMIO access of every emulated device too.
	 * (opaque = mr, addr, data, unsigned size) and (opaque = mr, addr, unsigned size)
	 */
	if (!ram_device_handlers(&ef, exe, &rd, &wr, fallback, sizeof(fallback))) {
		probes[0] = (typeof(probes[0])){ "memory_region_ram_device_write", wr,
						 VFG_COPY_KIND_MR_WRITE, 3, 2, 0 };
		probes[1] = (typeof(probes[1])){ "memory_region_ram_device_read", rd,
						 VFG_COPY_KIND_MR_READ, 2, VFG_ARG_NONE, 0 };
	} else {
		/* (mr, addr, data or *pval, MemOp op, attrs) */
		probes[0] = (typeof(probes[0])){ dispatch_write, wr, VFG_COPY_KIND_MR_WRITE, 3, 2,
						 VFG_TARGET_LEN_MEMOP };
		probes[1] = (typeof(probes[1])){ dispatch_read, rd, VFG_COPY_KIND_MR_READ, 3,
						 VFG_ARG_NONE, VFG_TARGET_LEN_MEMOP };
		snprintf(q->fallback, sizeof(q->fallback), "QEMU's RAM-device handlers not found "
			 "(%s): probing %s and %s, which every emulated device's MMIO passes too",
			 fallback, dispatch_write, dispatch_read);
	}
	for (size_t i = 0; i < 2; i++) {
		struct copy_target *t = &q->access[q->naccess];

		if (elf_file_vaddr_to_offset(&ef, probes[i].vaddr, &t->offset))
			continue;
		t->pid = pid;
		snprintf(t->path, sizeof(t->path), "%s", path);
		snprintf(t->name, sizeof(t->name), "qemu %s", probes[i].name);
		snprintf(t->function, sizeof(t->function), "%s", probes[i].name);
		t->t.kind = probes[i].kind;
		/* QEMU's RAM-device accessors do one access of the size asked (memory.c). */
		t->t.routine = VFG_ROUTINE_SINGLE;
		t->t.dst_arg = 0;
		t->t.src_arg = 1;
		t->t.value_arg = probes[i].value_arg;
		t->t.len_arg = probes[i].len_arg;
		t->t.flags = probes[i].flags;
		t->t.mr_ram_block = rb_off;
		t->t.ram_block_host = host_off;
		q->naccess++;
	}
	dma_targets(&ef, pid, path, rb_off, host_off, q);
	elf_file_close(&ef);
	return 1;
}
