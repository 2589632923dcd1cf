// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Single-stepping copy routines under ptrace; see calibrate.h. */
#define _GNU_SOURCE
#include "../host/disasm.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <limits.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__aarch64__)
#include <asm/ptrace.h>
#include <linux/elf.h>
#endif

#include "calibrate.h"
#include "../host/elf_file.h"

/*
 * The job the child runs between its two breakpoint markers: int3 on x86_64 (the trap leaves
 * rip after it), brk #0 on aarch64 (the trap leaves pc on it: the tracer steps over it).
 */
#if defined(__x86_64__)
#define MARKER() __asm__ volatile("int3" ::: "memory")
#elif defined(__aarch64__)
#define MARKER() __asm__ volatile("brk #0" ::: "memory")
#else
#define MARKER() abort()
#endif

struct job {
	void *fn;
	unsigned char *dst;
	const unsigned char *src;
	size_t len;
	int kind; /* 0 copy, 1 set */
};

/* Room for the largest copy on either side of the destination, for overlapping memmoves. */
#define BUF_LEN (3 * CALIB_MAX_LEN + 3 * 8192)

static void __attribute__((noinline, noreturn)) child_loop(volatile struct job *j)
{
	for (;;) {
		MARKER();
		if (j->kind)
			((void *(*)(void *, int, size_t))j->fn)(j->dst, 0x5a, j->len);
		else
			((void *(*)(void *, const void *, size_t))j->fn)(j->dst, j->src, j->len);
		MARKER();
	}
}

int calibrator_start(struct calibrator *c, const char **step)
{
	csh handle;
	int status;

	memset(c, 0, sizeof(*c));
	/* Resolved the way this process's calls are: dlsym runs glibc's IFUNC resolvers. */
	c->fn[0] = dlsym(RTLD_DEFAULT, "memcpy");
	c->fn[1] = dlsym(RTLD_DEFAULT, "memmove");
	c->fn[2] = dlsym(RTLD_DEFAULT, "memset");
	if (!c->fn[0] || !c->fn[1] || !c->fn[2]) {
		*step = "resolve memcpy, memmove and memset";
		return -ENOENT;
	}
#if defined(__x86_64__)
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) {
#elif defined(__aarch64__)
	if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &handle) != CS_ERR_OK) {
#else
	if (1) {
#endif
		*step = "open the capstone disassembler for this architecture";
		return -ENOTSUP;
	}
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	c->csh = handle;
	c->shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	c->buf_len = BUF_LEN;
	c->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->shared == MAP_FAILED || c->buf == MAP_FAILED) {
		*step = "map the buffers shared with the child";
		return -ENOMEM;
	}
	c->child = fork();
	if (c->child < 0) {
		*step = "fork the child";
		return -errno;
	}
	if (c->child == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(127);
		child_loop(c->shared);
	}
	if (waitpid(c->child, &status, 0) != c->child || !WIFSTOPPED(status) ||
	    WSTOPSIG(status) != SIGTRAP) {
		*step = "stop the child under ptrace (is ptrace allowed here? yama ptrace_scope)";
		calibrator_stop(c);
		return -EPERM;
	}
	ptrace(PTRACE_SETOPTIONS, c->child, NULL, (void *)PTRACE_O_EXITKILL);
	return 0;
}

void calibrator_stop(struct calibrator *c)
{
	if (c->child > 0) {
		kill(c->child, SIGKILL);
		waitpid(c->child, NULL, 0);
	}
	if (c->csh) {
		csh h = c->csh;

		cs_close(&h);
	}
	if (c->shared && c->shared != MAP_FAILED)
		munmap(c->shared, 4096);
	if (c->buf && c->buf != MAP_FAILED)
		munmap(c->buf, c->buf_len);
	memset(c, 0, sizeof(*c));
}

#if defined(__x86_64__)
typedef struct user_regs_struct regs_t;

static int regs_get(pid_t pid, regs_t *r)
{
	return ptrace(PTRACE_GETREGS, pid, NULL, r) ? -errno : 0;
}

/* Steps over an int3 marker at rip (the trap leaves rip after it), without counting it. */
static int marker_skip(pid_t pid, regs_t *r)
{
	int status;

	if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) || waitpid(pid, &status, 0) != pid ||
	    !WIFSTOPPED(status))
		return -ECHILD;
	return 0;
}

static int reg_value(const struct user_regs_struct *r, unsigned int reg, uint64_t *v)
{
	switch (reg) {
	case X86_REG_INVALID: *v = 0; return 0;
	case X86_REG_RAX: *v = r->rax; return 0;
	case X86_REG_RBX: *v = r->rbx; return 0;
	case X86_REG_RCX: *v = r->rcx; return 0;
	case X86_REG_RDX: *v = r->rdx; return 0;
	case X86_REG_RSI: *v = r->rsi; return 0;
	case X86_REG_RDI: *v = r->rdi; return 0;
	case X86_REG_RBP: *v = r->rbp; return 0;
	case X86_REG_RSP: *v = r->rsp; return 0;
	case X86_REG_R8: *v = r->r8; return 0;
	case X86_REG_R9: *v = r->r9; return 0;
	case X86_REG_R10: *v = r->r10; return 0;
	case X86_REG_R11: *v = r->r11; return 0;
	case X86_REG_R12: *v = r->r12; return 0;
	case X86_REG_R13: *v = r->r13; return 0;
	case X86_REG_R14: *v = r->r14; return 0;
	case X86_REG_R15: *v = r->r15; return 0;
	case X86_REG_RIP: *v = r->rip; return 0;
	default: return -EINVAL;
	}
}

static bool store_mnemonic(const char *m)
{
	if (!strncmp(m, "rep ", 4))
		m += 4;
	return !strncmp(m, "mov", 3) || !strncmp(m, "vmov", 4) || !strncmp(m, "stos", 4);
}

/* Instructions with a memory operand that they do not load from. */
static bool no_load(const char *m)
{
	return !strcmp(m, "lea") || !strncmp(m, "nop", 3) || !strncmp(m, "prefetch", 8) ||
	       !strncmp(m, "clflush", 7) || !strncmp(m, "endbr", 5);
}

/*
 * The memory the instruction at rip writes (up to two (address, width) pairs) and reads (into
 * la/lw, *nl of them). *unknown: it could not be decoded, so what it reads is not known.
 */
static int decode_stores(struct calibrator *c, const struct user_regs_struct *regs,
			 uint64_t addr[2], uint32_t width[2], bool *is_marker, bool *masked,
			 uint64_t la[2], uint32_t lw[2], int *nl, bool *unknown)
{
	csh handle = c->csh;
	const uint8_t *code = (const uint8_t *)regs->rip; /* same mapping as the child's (fork) */
	size_t size = 16;
	uint64_t at = regs->rip;
	cs_insn *insn = cs_malloc(handle);
	int n = 0;

	*is_marker = code[0] == 0xcc;
	*masked = false;
	*nl = 0;
	*unknown = false;
	if (!insn)
		return -ENOMEM;
	c->last_string = false;
	if (!cs_disasm_iter(handle, &code, &size, &at, insn)) {
		cs_free(insn, 1);
		*unknown = true;
		return -EILSEQ;
	}
	/* rep movsb, rep stosq: one element per single step (see VFG_HAZARDS_STRING). */
	c->last_string = !strncmp(insn->mnemonic, "rep", 3) &&
			 (strstr(insn->mnemonic, "movs") || strstr(insn->mnemonic, "stos"));
	/*
	 * An AVX-512 store under an opmask ("vmovdqu8 [rdi] {k1}, zmm16") writes only the bytes
	 * the mask selects, and the mask registers are not in the ptrace register set: the
	 * caller finds those bytes by comparison instead.
	 */
	if (strstr(insn->op_str, "{k")) {
		bool store = false;

		for (int i = 0; i < insn->detail->x86.op_count; i++)
			store |= i == 0 && insn->detail->x86.operands[i].type == X86_OP_MEM;
		if (store) {
			*masked = true;
			cs_free(insn, 1);
			return -EILSEQ;
		}
	}
	for (int i = 0; i < insn->detail->x86.op_count; i++) {
		const cs_x86_op *op = &insn->detail->x86.operands[i];
		uint64_t base, index;
		bool store;

		if (op->type != X86_OP_MEM)
			continue;
		/*
		 * capstone 4 marks the memory destination of (v)mov stores of vector registers as
		 * read (vmovdqu xmmword ptr [rdi], xmm0: access 1): for the move family the first
		 * operand, the destination in Intel syntax, is a store whatever the flag says.
		 * Any other memory operand is read (rep movsb's [rsi] included).
		 */
		store = (op->access & CS_AC_WRITE) || (i == 0 && store_mnemonic(insn->mnemonic));
		if (store ? n == 2 : *nl == 2 || no_load(insn->mnemonic))
			continue;
		if (op->mem.segment != X86_REG_INVALID)
			continue; /* fs/gs: thread-local, never the destination */
		if (reg_value(regs, op->mem.base, &base) || reg_value(regs, op->mem.index, &index)) {
			cs_free(insn, 1);
			return -EINVAL;
		}
		if (op->mem.base == X86_REG_RIP)
			base += insn->size;
		if (store) {
			addr[n] = base + index * op->mem.scale + op->mem.disp;
			width[n++] = op->size;
		} else {
			la[*nl] = base + index * op->mem.scale + op->mem.disp;
			lw[(*nl)++] = op->size;
		}
	}
	cs_free(insn, 1);
	return n;
}
#elif defined(__aarch64__)
typedef struct user_pt_regs regs_t;

static int regs_get(pid_t pid, regs_t *r)
{
	struct iovec iov = { r, sizeof(*r) };

	return ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) ? -errno : 0;
}

/* A brk leaves pc on itself: move past it (4 bytes, every A64 instruction). */
static int marker_skip(pid_t pid, regs_t *r)
{
	struct iovec iov = { r, sizeof(*r) };

	r->pc += 4;
	return ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov) ? -errno : 0;
}

static int reg_value(const regs_t *r, unsigned int reg, uint64_t *v)
{
	if (reg == ARM64_REG_INVALID)
		*v = 0;
	else if (reg >= ARM64_REG_X0 && reg <= ARM64_REG_X28)
		*v = r->regs[reg - ARM64_REG_X0];
	else if (reg >= ARM64_REG_W0 && reg <= ARM64_REG_W30)
		*v = (uint32_t)r->regs[reg - ARM64_REG_W0];
	else if (reg == ARM64_REG_X29)
		*v = r->regs[29];
	else if (reg == ARM64_REG_X30)
		*v = r->regs[30];
	else if (reg == ARM64_REG_SP)
		*v = r->sp;
	else if (reg == ARM64_REG_XZR || reg == ARM64_REG_WZR)
		*v = 0;
	else
		return -EINVAL;
	return 0;
}

/* Bytes one register of a store moves: w/x general registers, b/h/s/d/q and v SIMD registers. */
static uint32_t reg_width(const cs_arm64_op *op)
{
	unsigned int reg = op->reg;

	if ((reg >= ARM64_REG_W0 && reg <= ARM64_REG_W30) || reg == ARM64_REG_WZR)
		return 4;
	if ((reg >= ARM64_REG_X0 && reg <= ARM64_REG_X28) || reg == ARM64_REG_X29 ||
	    reg == ARM64_REG_X30 || reg == ARM64_REG_XZR)
		return 8;
	if (reg >= ARM64_REG_B0 && reg <= ARM64_REG_B31)
		return 1;
	if (reg >= ARM64_REG_H0 && reg <= ARM64_REG_H31)
		return 2;
	if (reg >= ARM64_REG_S0 && reg <= ARM64_REG_S31)
		return 4;
	if (reg >= ARM64_REG_D0 && reg <= ARM64_REG_D31)
		return 8;
	if (reg >= ARM64_REG_Q0 && reg <= ARM64_REG_Q31)
		return 16;
	if (reg >= ARM64_REG_V0 && reg <= ARM64_REG_V31) /* st1 {v0.16b}: the arrangement says */
		return op->vas == ARM64_VAS_8B || op->vas == ARM64_VAS_4H || op->vas == ARM64_VAS_2S ||
		       op->vas == ARM64_VAS_1D ? 8 : 16;
	return 0;
}

/*
 * The memory the A64 instruction at pc writes, as one (address, width) pair: the st* family
 * (str/strb/strh, stur*, stp/stnp, st1..st4) stores its register operands, in order, from the
 * address of its memory operand; strb and strh narrow a w register. Pre- and post-index
 * writeback changes the base after the access, so the address is read before the step. What
 * capstone 4 does not decode (SVE stores) is found by comparing memory, as on x86.
 */
static int decode_stores(struct calibrator *c, const regs_t *regs, uint64_t addr[2],
			 uint32_t width[2], bool *is_marker, bool *masked, uint64_t la[2],
			 uint32_t lw[2], int *nl, bool *unknown)
{
	csh handle = c->csh;
	const uint8_t *code = (const uint8_t *)(uintptr_t)regs->pc; /* the child's mapping (fork) */
	size_t size = 4;
	uint64_t at = regs->pc, base, index;
	cs_insn *insn;
	const cs_arm64 *a;
	uint32_t w = 0, word;
	int mem = -1;

	bool load;

	memcpy(&word, code, sizeof(word));
	*is_marker = word == 0xd4200000; /* brk #0 */
	*masked = false;
	*nl = 0;
	*unknown = false;
	if (*is_marker)
		return 0;
	insn = cs_malloc(handle);
	if (!insn)
		return -ENOMEM;
	if (!cs_disasm_iter(handle, &code, &size, &at, insn)) {
		/*
		 * capstone 4 decodes every A64 and Advanced SIMD instruction but no SVE one: what
		 * such an instruction writes is a (predicated) vector store.
		 */
		*masked = true;
		/*
		 * What it reads is not known if it may read: an SVE instruction (bits 28..25 are
		 * 0010) loads only in the memory classes 100, 101 and 110 of bits 31..29 (111 is
		 * the stores, the rest data processing: whilelo, cntb, ...).
		 */
		*unknown = ((word >> 25) & 0xf) != 0x2 ||
			   ((word >> 29) >= 4 && (word >> 29) <= 6);
		cs_free(insn, 1);
		return -EILSEQ;
	}
	/* The ld* family loads its register operands the same way. */
	load = !strncmp(insn->mnemonic, "ld", 2);
	if (strncmp(insn->mnemonic, "st", 2) && !load) {
		cs_free(insn, 1);
		return 0;
	}
	a = &insn->detail->arm64;
	for (int i = 0; i < a->op_count; i++) {
		if (a->operands[i].type == ARM64_OP_MEM) {
			mem = i;
			break;
		}
		if (a->operands[i].type == ARM64_OP_REG)
			w += reg_width(&a->operands[i]);
	}
	/* stxr/stlxr name a status register first; it is not stored. */
	if (!strncmp(insn->mnemonic, "stx", 3) || !strncmp(insn->mnemonic, "stlx", 4))
		w -= 4;
	if (!strcmp(insn->mnemonic, "strb") || !strcmp(insn->mnemonic, "sturb") ||
	    !strcmp(insn->mnemonic, "stlrb") || !strcmp(insn->mnemonic, "ldrb") ||
	    !strcmp(insn->mnemonic, "ldurb") || !strcmp(insn->mnemonic, "ldrsb") ||
	    !strcmp(insn->mnemonic, "ldursb"))
		w = 1;
	else if (!strcmp(insn->mnemonic, "strh") || !strcmp(insn->mnemonic, "sturh") ||
		 !strcmp(insn->mnemonic, "stlrh") || !strcmp(insn->mnemonic, "ldrh") ||
		 !strcmp(insn->mnemonic, "ldurh") || !strcmp(insn->mnemonic, "ldrsh") ||
		 !strcmp(insn->mnemonic, "ldursh"))
		w = 2;
	else if (!strcmp(insn->mnemonic, "ldrsw") || !strcmp(insn->mnemonic, "ldursw"))
		w = 4;
	if (mem < 0 || !w) {
		cs_free(insn, 1);
		*unknown = load;
		return load ? 0 : -EILSEQ;
	}
	if (reg_value(regs, a->operands[mem].mem.base, &base) ||
	    reg_value(regs, a->operands[mem].mem.index, &index)) {
		cs_free(insn, 1);
		return -EINVAL;
	}
	/*
	 * A register index may be extended and scaled ("str s0, [x0, x3, lsl #2]",
	 * "[x0, w3, sxtw #2]"): capstone gives both on the memory operand. Post-index
	 * ("str x1, [x0], #8") keeps the displacement out of it.
	 */
	if (a->operands[mem].ext == ARM64_EXT_SXTW)
		index = (uint64_t)(int64_t)(int32_t)index;
	if (a->operands[mem].shift.type == ARM64_SFT_LSL)
		index <<= a->operands[mem].shift.value;
	cs_free(insn, 1);
	if (load) {
		la[0] = base + index + a->operands[mem].mem.disp;
		lw[0] = w;
		*nl = 1;
		return 0;
	}
	addr[0] = base + index + a->operands[mem].mem.disp;
	width[0] = w;
	return 1;
}
#endif

void calib_result_free(struct calib_result *r)
{
	store_trace_free(&r->trace);
	store_trace_free(&r->loads);
}

int calibrate_case(struct calibrator *c, const struct calib_case *cc, struct calib_result *r)
{
	return calibrate_case_at(c, cc, calib_case_placement(cc), r);
}

int calibrate_case_at(struct calibrator *c, const struct calib_case *cc, unsigned int page_delta,
		      struct calib_result *r)
{
#if defined(__x86_64__) || defined(__aarch64__)
	volatile struct job *j = c->shared;
	unsigned char *dst, *src, *expect, *before = NULL;
	int status, err = 0;
	bool diff = false, masked = false;

	store_trace_reset(&r->trace);
	store_trace_reset(&r->loads);
	r->load_hazards = 0;
	r->loads_ok = true;
	r->steps = 0;
	r->inferred = 0;
	r->hazards = 0;
	r->replay_ok = false;
	r->string = false;
	if (cc->len > CALIB_MAX_LEN)
		return -E2BIG;
	/* dst at a page boundary plus the alignment; src where the case wants it. */
	dst = c->buf + CALIB_MAX_LEN + 4096 + cc->align;
	if (calib_case_distance(cc) > CALIB_MAX_LEN)
		return -E2BIG;
	switch (cc->routine) {
	case CALIB_MEMMOVE_FORWARD:
		src = dst + calib_case_distance(cc);
		break;
	case CALIB_MEMMOVE_BACKWARD:
		src = dst - calib_case_distance(cc);
		break;
	default:
		/* Far away, at the page offset that makes (dst - src) mod 4096 the delta asked for. */
		src = c->buf + 2 * CALIB_MAX_LEN + 2 * 4096 + ((cc->align - page_delta) & 4095);
		break;
	}
	for (size_t i = 0; i < c->buf_len; i++)
		c->buf[i] = (unsigned char)(i * 7 + 3);
	memset(dst, 0, cc->len);
	if (cc->routine >= CALIB_MEMMOVE_FORWARD && cc->routine <= CALIB_MEMMOVE_BACKWARD)
		for (size_t i = 0; i < 2 * cc->len + 2; i++) /* the overlap must have content */
			(dst < src ? dst : src)[i] = (unsigned char)(i * 13 + 1);
	j->fn = cc->routine == CALIB_MEMSET ? c->fn[2] :
		cc->routine == CALIB_MEMCPY ? c->fn[0] : c->fn[1];
	j->dst = dst;
	j->src = src;
	j->len = cc->len;
	j->kind = cc->routine == CALIB_MEMSET;
	/* What the routine must produce, computed here with a plain loop. */
	expect = malloc(cc->len ? cc->len : 1);
	if (!expect)
		return -ENOMEM;
	for (size_t i = 0; i < cc->len; i++)
		expect[i] = j->kind ? 0x5a : src[i];

	for (;;) {
		regs_t regs;
		uint64_t addr[2] = {}, laddr[2] = {};
		uint32_t width[2] = {}, lwidth[2] = {};
		bool marker, unknown;
		int n, nl;

		err = regs_get(c->child, &regs);
		if (err)
			break;
		n = decode_stores(c, &regs, addr, width, &marker, &masked, laddr, lwidth, &nl,
				  &unknown);
		if (unknown && r->steps)
			r->loads_ok = false;
		/* Loads from the source (memset has none; its "source" is a value). */
		for (int i = 0; i < nl && !j->kind; i++) {
			int64_t off = (int64_t)(laddr[i] - (uint64_t)(uintptr_t)src);

			if (off + (int64_t)lwidth[i] > 0 && off < (int64_t)cc->len)
				store_trace_add(&r->loads, off, lwidth[i],
						(const uint8_t *)(uintptr_t)laddr[i]);
		}
		if (marker && r->steps) { /* the end marker: the call has returned */
			err = marker_skip(c->child, &regs);
			break;
		}
		if (marker) { /* the start marker, where a brk leaves pc */
			err = marker_skip(c->child, &regs);
			if (err)
				break;
			continue;
		}
		/*
		 * An instruction capstone cannot decode (capstone 4 lacks some AVX-512 forms): what
		 * it changed in the destination is found by comparing before and after. A store of
		 * the bytes already there goes unseen, so the trace says it was inferred.
		 */
		if (n == -EILSEQ) {
			if (!before)
				before = malloc(cc->len ? cc->len : 1);
			if (!before) {
				err = -ENOMEM;
				break;
			}
			memcpy(before, dst, cc->len);
			r->inferred++;
			n = 0;
			diff = true;
		} else if (n < 0) {
			err = n;
			break;
		} else {
			diff = false;
		}
		if (c->cancel && __atomic_load_n(c->cancel, __ATOMIC_RELAXED)) {
			err = -ECANCELED;
			break;
		}
		if (ptrace(PTRACE_SINGLESTEP, c->child, NULL, NULL) ||
		    waitpid(c->child, &status, 0) != c->child || !WIFSTOPPED(status)) {
			err = -ECHILD;
			break;
		}
		r->steps++;
		if (diff) {
			size_t lo = cc->len, hi = 0;

			for (size_t b = 0; b < cc->len; b++) {
				if (before[b] != dst[b]) {
					lo = b < lo ? b : lo;
					hi = b + 1;
				}
			}
			if (hi > lo) {
				store_trace_add(&r->trace, lo, hi - lo, dst + lo);
				if (masked)
					store_trace_flag_last(&r->trace, STORE_VECTOR);
			}
		}
		for (int i = 0; i < n; i++) {
			int64_t off = (int64_t)(addr[i] - (uint64_t)(uintptr_t)dst);

			if (off + (int64_t)width[i] <= 0 || off >= (int64_t)cc->len)
				continue; /* the stack, not the destination */
			store_trace_add(&r->trace, off, width[i], (const uint8_t *)(uintptr_t)addr[i]);
			r->string |= c->last_string;
		}
	}
	if (!err) {
		/* Past the end marker, back to the start marker for the next case. */
		if (ptrace(PTRACE_CONT, c->child, NULL, NULL) ||
		    waitpid(c->child, &status, 0) != c->child || !WIFSTOPPED(status))
			err = -ECHILD;
	}
	if (!err) {
		unsigned char *replay = calloc(cc->len ? cc->len : 1, 1);

		if (replay) {
			r->replay_ok = !store_trace_replay(&r->trace, replay, cc->len) &&
				       !memcmp(replay, expect, cc->len) && !memcmp(dst, expect, cc->len);
			free(replay);
		}
		r->hazards = store_trace_hazards(&r->trace, cc->len, (uintptr_t)dst);
		r->loads_ok &= !j->kind && !r->loads.truncated;
		if (r->loads_ok)
			r->load_hazards = store_trace_hazards(&r->loads, cc->len, (uintptr_t)src);
	}
	free(expect);
	free(before);
	return err;
#else
	return -ENOTSUP;
#endif
}

uint32_t calib_result_pack(const struct calib_result *r)
{
	return r->hazards | (r->string ? VFG_HAZARDS_STRING : 0) |
	       (r->loads_ok ? r->load_hazards << CALIB_LOAD_SHIFT | CALIB_LOADS_MEASURED : 0);
}

static bool same_stores(const struct store_trace *a, const struct store_trace *b)
{
	if (a->n != b->n || a->truncated || b->truncated)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].off != b->v[i].off || a->v[i].width != b->v[i].width)
			return false;
	return true;
}

/* Whether the stores at page_delta are those of ref. */
static int like_ref(struct calibrator *c, const struct calib_case *cc, unsigned int page_delta,
		    const struct store_trace *ref, bool *like)
{
	struct calib_result r = {};
	int err = calibrate_case_at(c, cc, page_delta, &r);

	if (!err)
		*like = same_stores(&r.trace, ref);
	calib_result_free(&r);
	return err;
}

int calib_alias_window(struct calibrator *c, enum calib_routine routine, size_t len,
		       unsigned int *window)
{
	struct calib_case cc = { .routine = routine, .len = len, .page_delta = CALIB_PAGE_FAR };
	struct calib_result far = {};
	unsigned int lo = 0, hi = 2048; /* unlike the far placement at lo, like it at hi */
	bool like;
	int err;

	if (routine != CALIB_MEMCPY && routine != CALIB_MEMMOVE)
		return -EINVAL;
	err = calibrate_case(c, &cc, &far); /* at 2048 */
	if (!err)
		err = like_ref(c, &cc, 0, &far.trace, &like);
	if (!err && like) {
		hi = 0;
	} else {
		while (!err && hi - lo > 1) {
			unsigned int mid = lo + (hi - lo) / 2;

			err = like_ref(c, &cc, mid, &far.trace, &like);
			if (!err)
				*(like ? &hi : &lo) = mid;
		}
	}
	if (err)
		goto out;
	*window = hi;
	/* From the window on, every placement stores alike (some of them, spread over the page). */
	for (unsigned int d = hi + 1; d < 4096 && !err; d += d < hi + 64 ? 21 : 509) {
		err = like_ref(c, &cc, d, &far.trace, &like);
		if (!err && !like)
			err = -EDOM;
	}
	if (!err)
		err = like_ref(c, &cc, 4095, &far.trace, &like);
	if (!err && !like)
		err = -EDOM;
out:
	calib_result_free(&far);
	return err;
}

int calib_routine_where(const struct calibrator *c, enum calib_routine r, char *buf, size_t len)
{
	void *fn = r == CALIB_MEMSET ? c->fn[2] : r == CALIB_MEMCPY ? c->fn[0] : c->fn[1];
	Dl_info info;

	if (!dladdr(fn, &info) || !info.dli_fname) {
		snprintf(buf, len, "%p", fn);
		return -ENOENT;
	}
	snprintf(buf, len, "%s+%#lx", strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1
								 : info.dli_fname,
		 (unsigned long)((uintptr_t)fn - (uintptr_t)info.dli_fbase));
	return 0;
}

int libc_build_id(char *buf, size_t len)
{
	struct elf_file f;
	Dl_info info;
	int err;

	if (!dladdr(dlsym(RTLD_DEFAULT, "memcpy"), &info) || !info.dli_fname)
		return -ENOENT;
	err = elf_file_open(&f, info.dli_fname);
	if (err)
		return err;
	err = elf_file_build_id(&f, buf, len);
	elf_file_close(&f);
	return err;
}

int calib_routine_vaddr(enum calib_routine r, uint64_t *vaddr)
{
	void *fn = dlsym(RTLD_DEFAULT, r == CALIB_MEMSET ? "memset" :
				       r == CALIB_MEMCPY ? "memcpy" : "memmove");
	Dl_info info;

	if (!fn || !dladdr(fn, &info) || !info.dli_fbase)
		return -ENOENT;
	*vaddr = (uintptr_t)fn - (uintptr_t)info.dli_fbase;
	return 0;
}

int calib_cache_path(char *buf, size_t len)
{
	const char *dir = getenv("VFIOGUARD_CACHE_DIR");
	char id[96];
	int err = libc_build_id(id, sizeof(id));

	if (err)
		return err;
	if (!dir || !*dir)
		dir = "/var/cache/vfioguard";
	/* v2: cases keyed by page delta (v1 had a same-page-offset flag); v3: the string bit. */
	if ((size_t)snprintf(buf, len, "%s/hazards-%s.v3.tsv", dir, id) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int calib_cache_read(const char *path, calib_cache_fn fn, void *ctx)
{
	FILE *f = fopen(path, "re");
	char line[256];
	int n = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct calib_case cc;
		uint64_t vaddr;
		uint32_t hazards;

		/* Comments, and lines of another version or damaged ones, are skipped. */
		if (calib_cache_parse_line(line, &cc, &vaddr, &hazards))
			continue;
		fn(&cc, vaddr, hazards, ctx);
		n++;
	}
	fclose(f);
	return n;
}

/* Appends one line in one write, so that concurrent writers interleave whole lines; the first
 * line makes the directory. */
static int cache_append_line(const char *path, const char *line, int n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644), err = 0;

	if (fd < 0) {
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (errno != ENOENT || !slash)
			return -errno;
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	}
	if (write(fd, line, n) != n)
		err = -EIO;
	close(fd);
	return err;
}

int calib_cache_append(const char *path, const struct calib_case *cc, uint32_t hazards)
{
	uint64_t vaddr = 0;
	char line[128];

	calib_routine_vaddr(cc->routine, &vaddr);
	return cache_append_line(path, line, calib_cache_format_line(cc, vaddr, hazards, line,
								     sizeof(line)));
}

int calib_cache_append_window(const char *path, enum calib_routine routine, uint64_t vaddr,
			      unsigned int window)
{
	char line[128];

	return cache_append_line(path, line, snprintf(line, sizeof(line), "window %s %#llx %u\n",
						       calib_routine_name(routine),
						       (unsigned long long)vaddr, window));
}

int calib_cache_window(const char *path, enum calib_routine routine, uint64_t vaddr,
		       unsigned int *window)
{
	FILE *f = fopen(path, "re");
	char line[256];
	int err = -ENOENT;

	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		enum calib_routine r;
		uint64_t va;
		unsigned int w;

		if (!calib_cache_parse_window(line, &r, &va, &w) && r == routine && va == vaddr) {
			*window = w;
			err = 0;
		}
	}
	fclose(f);
	return err;
}
