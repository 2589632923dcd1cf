// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Copy probes: targets, attaching, the hazard table; see copies.h. */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../host/disasm.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "copies.skel.h"
#include "copies.h"

#include "../host/elf_file.h"


const char *copy_routine_name(unsigned int routine)
{
	switch (routine) {
	case VFG_ROUTINE_SINGLE: return "single access";
	case VFG_ROUTINE_NONE: return "uncalibrated";
	default: return routine < CALIB_ROUTINES ? calib_routine_name(routine) : "?";
	}
}

static void load_cached_case(const struct calib_case *cc, uint64_t vaddr, uint32_t hazards,
			     void *ctx)
{
	struct copies *c = ctx;
	struct vfg_hazard_key k = { .len = cc->len, .routine = cc->routine, .align = cc->align,
				    .page_delta = cc->page_delta,
				    .distance = calib_case_distance(cc) };
	uint32_t v = hazards | VFG_HAZARDS_MEASURED;

	/* Only cases measured for the routines this libc picks on this CPU. */
	if (vaddr != c->routine_vaddr[cc->routine])
		return;
	if (!bpf_map_update_elem(bpf_map__fd(c->skel->maps.hazard_table), &k, &v, BPF_ANY))
		c->cases_loaded++;
}

static int on_ring(void *ctx, void *data, size_t size);
static int on_dma_ring(void *ctx, void *data, size_t size);

int copies_open(struct copies *c, copy_event_fn fn, void *ctx, const struct vfio_location *known,
		const char **step)
{
	struct vfio_location vfio;
	int err = 0;

	if (known)
		vfio = *known;
	else
		err = vfio_locate(&vfio, step);
	if (err)
		return err;
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->ctx = ctx;
	kernel_info_read(&c->kernel);
	libc_build_id(c->build_id, sizeof(c->build_id));
	for (int r = 0; r < CALIB_ROUTINES; r++)
		calib_routine_vaddr(r, &c->routine_vaddr[r]);
	/* No VFIO: nothing is device memory, but calls are still counted per target. */
	c->vfio_missing = !vfio.loaded;
	c->skel = copies_bpf__open();
	if (!c->skel) {
		*step = "open the copies BPF object";
		return -errno;
	}
	c->skel->rodata->vfio_device_fops_addr = vfio.fops;
	c->skel->rodata->vfio_match_module = vfio.match_module;
	c->skel->rodata->wakeup_bytes = bpf_map__max_entries(c->skel->maps.copy_events) / 4;
	err = copies_bpf__load(c->skel);
	if (err) {
		*step = "load the copies BPF program (uprobe with bpf_find_vma)";
		copies_close(c);
		return err;
	}
	/*
	 * The VFIO spans of watched processes stand in for VMA lookups only while every VFIO
	 * mmap is seen; without the probe every call is looked up (spans_reason says why).
	 */
	if (c->vfio_missing) {
		snprintf(c->spans_reason, sizeof(c->spans_reason), "vfio is not loaded");
	} else {
		c->spans_link = bpf_program__attach(c->skel->progs.track_vfio_mmap);
		if (c->spans_link)
			c->skel->bss->spans_on = 1;
		else
			snprintf(c->spans_reason, sizeof(c->spans_reason),
				 "kprobe on vfio_device_fops_mmap: %s", strerror(errno));
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.copy_events), on_ring, c, NULL);
	if (!c->rb || ring_buffer__add(c->rb, bpf_map__fd(c->skel->maps.dma_events), on_dma_ring,
				       c)) {
		*step = "open the copies ring buffers";
		err = -errno;
		copies_close(c);
		return err;
	}
	if (!calib_cache_path(c->cache_path, sizeof(c->cache_path))) {
		err = calib_cache_read(c->cache_path, load_cached_case, c);
		if (err < 0)
			c->cache_err = err;
	}
	return 0;
}

static void worker_stop(struct copies *c);

void copies_close(struct copies *c)
{
	for (unsigned int i = 0; i < c->n; i++)
		bpf_link__destroy(c->targets[i].link);
	free(c->retired);
	c->retired = NULL;
	c->nretired = 0;
	ring_buffer__free(c->rb);
	bpf_link__destroy(c->spans_link);
	c->spans_link = NULL;
	worker_stop(c);
	copies_bpf__destroy(c->skel);
	c->n = 0;
	c->rb = NULL;
	c->skel = NULL;
	c->cal_started = false;
}

int copies_ringbuf_fd(const struct copies *c)
{
	return bpf_map__fd(c->skel->maps.copy_events);
}

void copies_target_counts(const struct copies *c, unsigned int idx, struct vfg_copy_counts *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vfg_copy_counts *per;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0 || !(per = calloc(ncpu, sizeof(*per))))
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.copy_counts), &idx, per)) {
		for (int i = 0; i < ncpu; i++) {
			out->hits += per[i].hits;
			out->device += per[i].device;
			out->busy += per[i].busy;
			out->dropped += per[i].dropped;
			out->spanned += per[i].spanned;
		}
	}
	free(per);
}

#if defined(__x86_64__)
/*
 * Linux's x86 uprobes refuse VEX- and EVEX-encoded instructions (c4, c5 and 62 are "bad" in
 * arch/x86/kernel/uprobes.c's table), and glibc's AVX memset starts with one (vmovd). The probe
 * then goes on the first instruction uprobes take, provided nothing before it branches or
 * changes an argument register or the stack pointer: the call is still seen, with its
 * arguments. Returns the distance from the entry, or -ENOTSUP.
 */
static int first_probeable(const char *path, uint64_t offset)
{
	static const uint16_t kept[] = { X86_REG_RDI, X86_REG_RSI, X86_REG_RDX, X86_REG_RCX,
					 X86_REG_R8,  X86_REG_R9,  X86_REG_RSP, X86_REG_EDI,
					 X86_REG_ESI, X86_REG_EDX, X86_REG_ECX, X86_REG_ESP };
	unsigned char code[64];
	cs_insn *insn = NULL;
	int fd, ret = -ENOTSUP;
	size_t n;
	csh h;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, code, sizeof(code), offset);
	close(fd);
	if (n != sizeof(code) || cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOTSUP;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	n = cs_disasm(h, code, sizeof(code), 0, 8, &insn);
	for (size_t i = 0; i < n; i++) {
		cs_regs rd, wr;
		uint8_t nrd, nwr;
		bool vex;
		size_t p = 0;

		/* Legacy prefixes, then the VEX (c4, c5) or EVEX (62) escape. */
		while (p < insn[i].size && (insn[i].bytes[p] == 0x66 || insn[i].bytes[p] == 0x67 ||
					    insn[i].bytes[p] == 0xf2 || insn[i].bytes[p] == 0xf3))
			p++;
		vex = p < insn[i].size && (insn[i].bytes[p] == 0xc4 || insn[i].bytes[p] == 0xc5 ||
					   insn[i].bytes[p] == 0x62);
		if (!vex) {
			ret = insn[i].address;
			break;
		}
		if (cs_insn_group(h, &insn[i], CS_GRP_JUMP) || cs_insn_group(h, &insn[i], CS_GRP_CALL) ||
		    cs_insn_group(h, &insn[i], CS_GRP_RET) ||
		    cs_regs_access(h, &insn[i], rd, &nrd, wr, &nwr))
			break;
		for (uint8_t k = 0; k < nwr && ret == -ENOTSUP; k++)
			for (size_t j = 0; j < sizeof(kept) / sizeof(kept[0]); j++)
				if (wr[k] == kept[j])
					ret = -EBUSY;
		if (ret != -ENOTSUP) {
			ret = -ENOTSUP;
			break;
		}
	}
	cs_free(insn, n);
	cs_close(&h);
	return ret;
}
#endif

/* Whether the process a target was attached for is gone (exited, or its PID reused since). */
static bool target_gone(const struct copy_target *t)
{
	if (t->pid <= 0)
		return false;
	if (kill(t->pid, 0) && errno == ESRCH)
		return true;
	return t->start_time && proc_start_time(t->pid) != t->start_time;
}

/*
 * Retires slot i, whose process is gone: its counts are kept with the retired targets, its
 * probe is detached, its process's spans forgotten and the slot's counters start again from
 * zero. 0 or -ENOMEM.
 */
static int retire(struct copies *c, unsigned int i)
{
	struct copy_target *t = &c->targets[i], *grown;
	int ncpu = libbpf_num_possible_cpus();
	struct vfg_copy_counts *zero;

	grown = realloc(c->retired, (c->nretired + 1) * sizeof(*grown));
	zero = ncpu > 0 ? calloc(ncpu, sizeof(*zero)) : NULL;
	if (!grown || !zero) {
		free(zero);
		return -ENOMEM;
	}
	c->retired = grown;
	bpf_map_delete_elem(bpf_map__fd(c->skel->maps.span_seed), &t->pid);
	bpf_map_delete_elem(bpf_map__fd(c->skel->maps.span_grown), &t->pid);
	__atomic_fetch_add(&c->skel->bss->span_gen, 1, __ATOMIC_SEQ_CST);
	copies_target_counts(c, i, &t->final);
	bpf_link__destroy(t->link);
	t->link = NULL;
	c->retired[c->nretired++] = *t;
	copies_retired_fold(c->retired, &c->nretired, COPIES_RETIRED_KEPT);
	bpf_map_update_elem(bpf_map__fd(c->skel->maps.copy_counts), &i, zero, BPF_ANY);
	free(zero);
	return 0;
}

/* A slot free or whose process is gone (retired first), or -1 when every process still runs. */
static int reclaim(struct copies *c)
{
	for (unsigned int i = 0; i < c->n; i++) {
		if (!c->targets[i].link) /* left free by a failed attach */
			return i;
		if (target_gone(&c->targets[i]))
			return retire(c, i) ? -1 : (int)i;
	}
	return -1;
}

/*
 * Records where pid's VFIO mappings are now, so that its calls elsewhere need no VMA lookup;
 * the mmaps it makes from now on widen its span in the kernel (track_vfio_mmap). Done once per
 * process, before its first probe; on any error the process is simply looked up every call.
 */
static void seed_span(struct copies *c, uint32_t pid)
{
	int seed = bpf_map__fd(c->skel->maps.span_seed), grown = bpf_map__fd(c->skel->maps.span_grown);
	struct vfg_span span;
	uint64_t lo, hi;
	uint32_t key, next;

	if (!c->spans_link || !pid || !bpf_map_lookup_elem(seed, &pid, &span))
		return;
	/* Spans of processes that are gone (any process that mapped a VFIO device has one). */
	for (int more = !bpf_map_get_next_key(grown, NULL, &key); more; key = next) {
		more = !bpf_map_get_next_key(grown, &key, &next);
		if (kill(key, 0) && errno == ESRCH) {
			bpf_map_delete_elem(grown, &key);
			bpf_map_delete_elem(seed, &key);
		}
	}
	if (proc_vfio_span(pid, &lo, &hi))
		return;
	span.lo = lo;
	span.hi = hi;
	bpf_map_update_elem(seed, &pid, &span, BPF_NOEXIST);
	/* Probes' cached spans (of slots given to this process before) are computed again. */
	__atomic_fetch_add(&c->skel->bss->span_gen, 1, __ATOMIC_SEQ_CST);
}

/* Attaches one target; an identical one already attached counts as done. */
static int calibrator_ready(struct copies *c)
{
	if (!c->cal_started && !c->cal_err) {
		c->cal_err = calibrator_start(&c->cal, &c->cal_step);
		c->cal_started = !c->cal_err;
	}
	return c->cal_err;
}

/*
 * The aliasing window of this process's memcpy or memmove, from the cache (calibrate --alias
 * measures it). Without one every placement is its own case: exact, with more cases to measure.
 */
static unsigned int routine_window(struct copies *c, enum calib_routine r)
{
	unsigned int w;

	if (r != CALIB_MEMCPY && r != CALIB_MEMMOVE)
		return 0;
	if (c->window_known[r])
		return c->alias_window[r];
	if (!c->cache_path[0] || calib_cache_window(c->cache_path, r, c->routine_vaddr[r], &w)) {
		w = 4096;
		snprintf(c->window_reason, sizeof(c->window_reason),
			 "%s's 4 KiB aliasing window is not in the hazard cache (vfioguard calibrate "
			 "--alias): each source placement is its own case", calib_routine_name(r));
	}
	c->alias_window[r] = w;
	c->window_known[r] = true;
	return w;
}

static int attach(struct copies *c, const struct copy_target *t, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_program *prog;
	struct copy_target *n;
	uint32_t idx = c->n;
	uint64_t start = t->pid > 0 ? proc_start_time(t->pid) : 0;
	int err;

	/*
	 * The targets of an earlier process that had this PID are retired: their probes watched
	 * that process only, and its spans are not this one's.
	 */
	for (unsigned int i = 0; start && i < c->n; i++)
		if (c->targets[i].pid == t->pid && c->targets[i].link &&
		    c->targets[i].start_time != start)
			retire(c, i);
	for (unsigned int i = 0; i < c->n; i++)
		if (c->targets[i].pid == t->pid && c->targets[i].offset == t->offset &&
		    c->targets[i].t.kind == t->t.kind && !strcmp(c->targets[i].path, t->path) &&
		    c->targets[i].link &&
		    !strcmp(c->targets[i].usdt_provider, t->usdt_provider) &&
		    !strcmp(c->targets[i].usdt_name, t->usdt_name))
			return 0;
	if (c->n == VFG_MAX_COPY_TARGETS) {
		int slot = reclaim(c);

		if (slot < 0) {
			snprintf(why, len, "%s: no room for more than %d probes of running "
				 "processes", t->name, VFG_MAX_COPY_TARGETS);
			return -ENOSPC;
		}
		idx = slot;
	}
	seed_span(c, t->pid);
	n = &c->targets[idx];
	*n = *t;
	n->start_time = start;
	n->serial = ++c->serials;
	if (n->t.kind == VFG_COPY_KIND_COPY && !n->unmeasured[0])
		n->t.alias_window = routine_window(c, n->t.routine);
	if (t->pid > 0) {
		n->t.flags |= VFG_TARGET_ONE_PROCESS;
		n->t.tgid = t->pid;
	}
	err = bpf_map_update_elem(bpf_map__fd(c->skel->maps.copy_targets), &idx, &n->t, BPF_ANY);
	if (err) {
		snprintf(why, len, "%s: cannot store the target: %s", t->name, strerror(errno));
		return -errno;
	}
	uo.bpf_cookie = idx;
	if (t->usdt_provider[0]) {
		LIBBPF_OPTS(bpf_usdt_opts, so, .usdt_cookie = idx);

		n->link = bpf_program__attach_usdt(c->skel->progs.copy_usdt, t->pid, t->path,
						   t->usdt_provider, t->usdt_name, &so);
		if (!n->link) {
			err = -errno;
			snprintf(why, len, "%s: cannot attach: %s", t->name,
				 err == -ENOENT ? "no such USDT probe in the file" : strerror(-err));
			if (idx < c->n)
				n->pid = 0;
			return err;
		}
		if (idx == c->n)
			c->n++;
		return 1;
	}
	uo.retprobe = t->t.kind == VFG_COPY_KIND_DMA_MAP_RET;
	prog = uo.retprobe ? c->skel->progs.dma_ret :
	       t->t.kind >= VFG_COPY_KIND_DMA_MAP ? c->skel->progs.dma_probe :
						    c->skel->progs.copy_probe;
	n->link = bpf_program__attach_uprobe_opts(prog, t->pid, t->path, t->offset, &uo);
#if defined(__x86_64__)
	/* A return probe only works at the entry, where the return address is on top. */
	if (!n->link && errno == 524 /* ENOTSUPP: an instruction uprobes cannot take */ &&
	    !uo.retprobe) {
		int skip = first_probeable(t->path, t->offset);

		if (skip > 0) {
			n->offset += skip;
			n->link = bpf_program__attach_uprobe_opts(prog, t->pid, t->path, n->offset,
								  &uo);
		}
		if (!n->link)
			errno = 524;
	}
#endif
	if (!n->link) {
		err = -errno;
		snprintf(why, len, "%s: cannot attach a uprobe at %s+%#" PRIx64 ": %s", t->name,
			 t->path, t->offset, err == -524 ? "the kernel's uprobes cannot take the "
			 "instruction there" : strerror(-err));
		if (idx < c->n) /* a reclaimed slot stays free */
			n->pid = 0;
		return err;
	}
	if (idx == c->n)
		c->n++;
	return 1;
}

int copies_watch_libc(struct copies *c, uint32_t pid, char *why, size_t len)
{
	static const char *const names[] = { "memcpy", "memmove", "memset" };
	static const int routine[] = { VFG_ROUTINE_MEMCPY, VFG_ROUTINE_MEMMOVE,
				       VFG_ROUTINE_MEMSET };
	char path[PATH_MAX], id[96] = "";
	uint64_t base = 0, vaddr[3];
	struct elf_file ef;
	int err, attached = 0;

	err = proc_find_libc(pid, path, sizeof(path), &base);
	if (err) {
		snprintf(why, len, "pid %u maps no libc", pid);
		return err == -ENOENT ? 0 : err;
	}
	err = elf_file_open(&ef, path);
	if (err) {
		snprintf(why, len, "cannot read %s: %s", path, strerror(-err));
		return err;
	}
	elf_file_build_id(&ef, id, sizeof(id));
	for (int i = 0; i < 3; i++) {
		err = proc_resolve_function(&ef, pid, base, names[i], &vaddr[i], why, len);
		/*
		 * aarch64's libc calls its string routines directly, so no IRELATIVE slot of its
		 * own holds the IFUNC's choice (the callers' GOT slots do). The same libc build on
		 * the same CPU chooses what vfioguard's own resolution chose.
		 */
		if (err && !strcmp(id, c->build_id) && c->routine_vaddr[routine[i]]) {
			vaddr[i] = c->routine_vaddr[routine[i]];
			err = 0;
		}
		if (err)
			goto out;
	}
	for (int i = 0; i < 3; i++) {
		struct copy_target t = { .pid = pid };
		/* x86_64's memcpy is memmove: one probe serves both. */
		bool same = i == 0 && vaddr[0] == vaddr[1];

		if (i == 1 && vaddr[0] == vaddr[1])
			continue;
		snprintf(t.path, sizeof(t.path), "%s", path);
		err = elf_file_vaddr_to_offset(&ef, vaddr[i], &t.offset);
		if (err) {
			snprintf(why, len, "%s at %#" PRIx64 " is outside libc's code", names[i],
				 vaddr[i]);
			goto out;
		}
		snprintf(t.name, sizeof(t.name), "libc %s%s (+%#" PRIx64 ")", names[i],
			 same ? "/memmove" : "", vaddr[i]);
		t.t.kind = i == 2 ? VFG_COPY_KIND_SET : VFG_COPY_KIND_COPY;
		t.t.routine = same ? VFG_ROUTINE_MEMMOVE : routine[i];
		t.t.dst_arg = 0;
		t.t.src_arg = i == 2 ? VFG_ARG_NONE : 1;
		t.t.len_arg = 2;
		/* The table is measured on vfioguard's own libc: only the same routine can use it. */
		if (strcmp(id, c->build_id))
			snprintf(t.unmeasured, sizeof(t.unmeasured),
				 "pid %u's libc (build-id %s) is not vfioguard's (%s)", pid,
				 id[0] ? id : "none", c->build_id);
		else if (vaddr[i] != c->routine_vaddr[t.t.routine])
			snprintf(t.unmeasured, sizeof(t.unmeasured),
				 "pid %u's libc picks %s at +%#" PRIx64 ", vfioguard's at +%#" PRIx64
				 " (different CPU features or tunables)", pid, names[i], vaddr[i],
				 c->routine_vaddr[t.t.routine]);
		if (t.unmeasured[0])
			t.t.routine = VFG_ROUTINE_NONE;
		err = attach(c, &t, why, len);
		if (err < 0)
			goto out;
		attached += err;
	}
	err = attached;
out:
	elf_file_close(&ef);
	return err;
}

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
#if defined(__x86_64__)
	if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK) {
#else
	if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, h) != CS_ERR_OK) {
#endif
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
#if defined(__x86_64__)
		cs_x86 *x = &insn[i].detail->x86;

		for (int k = 0; k < x->op_count; k++)
			if (x->operands[k].type == X86_OP_MEM && x->operands[k].mem.base == X86_REG_RDI &&
			    x->operands[k].mem.index == X86_REG_INVALID &&
			    x->operands[k].mem.disp >= 0 && x->operands[k].mem.disp < 4096) {
				*disp = x->operands[k].mem.disp;
				err = 0;
				break;
			}
#else
		cs_arm64 *a = &insn[i].detail->arm64;

		for (int k = 0; k < a->op_count; k++)
			if (a->operands[k].type == ARM64_OP_MEM && a->operands[k].mem.base == ARM64_REG_X0 &&
			    a->operands[k].mem.index == ARM64_REG_INVALID &&
			    a->operands[k].mem.disp >= 0 && a->operands[k].mem.disp < 4096) {
				*disp = a->operands[k].mem.disp;
				err = 0;
				break;
			}
#endif
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
 * Returns the probes attached, or 0 with why set when the DMA maps are not watched (a symbol is
 * missing, or a probe did not attach: then none stays attached).
 */
static int watch_dma(struct copies *c, struct elf_file *ef, uint32_t pid, const char *path,
		     uint32_t rb_off, uint32_t host_off, char *why, size_t len)
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
	struct copy_target t[4] = {};
	int err, n = 0;

	for (size_t i = 0; i < 4; i++) {
		uint64_t vaddr;

		if (elf_file_symbol(ef, probes[i].sym, &vaddr, NULL, NULL) ||
		    elf_file_vaddr_to_offset(ef, vaddr, &t[i].offset)) {
			snprintf(why, len, "DMA maps not watched: the executable exports no %s",
				 probes[i].sym);
			return 0;
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
	for (size_t i = 0; i < 4; i++) {
		err = attach(c, &t[i], why, len);
		if (err < 0) {
			char reason[192];

			snprintf(reason, sizeof(reason), "%s", why);
			snprintf(why, len, "DMA maps not watched: %s", reason);
			/* All or none: a map seen without its return would never be sent. */
			for (unsigned int k = 0; k < c->n; k++)
				if (c->targets[k].pid == (int32_t)pid &&
				    c->targets[k].t.kind >= VFG_COPY_KIND_DMA_MAP && c->targets[k].link) {
					bpf_link__destroy(c->targets[k].link);
					c->targets[k].link = NULL;
					c->targets[k].pid = 0;
				}
			return 0;
		}
		n += err;
	}
	return n;
}

int copies_watch_profile(struct copies *c, uint32_t pid, char *why, size_t len)
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
	char exe[64], path[PATH_MAX], fallback[256] = "", dma_why[256] = "";
	uint32_t rb_off, host_off;
	uint64_t rd, wr;
	struct elf_file ef;
	ssize_t plen;
	int err = 0, attached = 0;

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
	}
	for (size_t i = 0; i < 2; i++) {
		struct copy_target t = { .pid = pid };

		if (elf_file_vaddr_to_offset(&ef, probes[i].vaddr, &t.offset))
			continue;
		snprintf(t.path, sizeof(t.path), "%s", path);
		snprintf(t.name, sizeof(t.name), "qemu %s", probes[i].name);
		snprintf(t.function, sizeof(t.function), "%s", probes[i].name);
		t.t.kind = probes[i].kind;
		/* QEMU's RAM-device accessors do one access of the size asked (memory.c). */
		t.t.routine = VFG_ROUTINE_SINGLE;
		t.t.dst_arg = 0;
		t.t.src_arg = 1;
		t.t.value_arg = probes[i].value_arg;
		t.t.len_arg = probes[i].len_arg;
		t.t.flags = probes[i].flags;
		t.t.mr_ram_block = rb_off;
		t.t.ram_block_host = host_off;
		err = attach(c, &t, why, len);
		if (err < 0)
			break;
		attached += err;
	}
	if (err >= 0) {
		err = watch_dma(c, &ef, pid, path, rb_off, host_off, dma_why, sizeof(dma_why));
		attached += err > 0 ? err : 0;
	}
	elf_file_close(&ef);
	if (err < 0 && !dma_why[0])
		return err;
	if (fallback[0])
		snprintf(why, len, "pid %u: QEMU's RAM-device handlers not found (%s): probing "
			 "%s and %s, which every emulated device's MMIO passes too%s%s", pid,
			 fallback, dispatch_write, dispatch_read, dma_why[0] ? "; " : "", dma_why);
	else if (dma_why[0])
		snprintf(why, len, "pid %u: %s", pid, dma_why);
	return attached;
}

int copies_watch_probe(struct copies *c, const struct copy_probe_spec *p, uint32_t pid,
		       char *why, size_t len)
{
	struct copy_target t = { .pid = pid ? (int32_t)pid : -1, .t = p->t };
	struct elf_file ef;
	uint64_t value;
	int err;

	t.t.value_arg = VFG_ARG_NONE;
	if (p->usdt) {
		/* libbpf finds the probe sites and argument locations in .note.stapsdt. */
		snprintf(t.path, sizeof(t.path), "%s", p->binary);
		snprintf(t.usdt_provider, sizeof(t.usdt_provider), "%s", p->provider);
		snprintf(t.usdt_name, sizeof(t.usdt_name), "%.63s", p->symbol);
		snprintf(t.name, sizeof(t.name), "usdt %.40s:%.24s:%.24s", p->binary, p->provider,
			 p->symbol);
		if (t.t.routine == VFG_ROUTINE_NONE)
			snprintf(t.unmeasured, sizeof(t.unmeasured), "like=none (or no src=): "
				 "hazards are not modelled");
		return attach(c, &t, why, len);
	}
	err = elf_file_open(&ef, p->binary);
	if (err) {
		snprintf(why, len, "--probe %s: %s", p->binary, strerror(-err));
		return err;
	}
	err = elf_file_symbol(&ef, p->symbol, &value, NULL, NULL);
	if (!err)
		err = elf_file_vaddr_to_offset(&ef, value, &t.offset);
	elf_file_close(&ef);
	if (err) {
		snprintf(why, len, "--probe: %s has no function %s", p->binary, p->symbol);
		return err;
	}
	snprintf(t.path, sizeof(t.path), "%s", p->binary);
	snprintf(t.name, sizeof(t.name), "probe %.40s:%.48s", p->binary, p->symbol);
	/* Its copies are taken to behave as this process's libc routine of that name. */
	if (t.t.routine <= VFG_ROUTINE_MEMSET && !c->build_id[0])
		snprintf(t.unmeasured, sizeof(t.unmeasured), "no libc build-id to calibrate");
	if (t.t.routine == VFG_ROUTINE_NONE)
		snprintf(t.unmeasured, sizeof(t.unmeasured), "like=none (or no src=): hazards "
			 "are not modelled");
	return attach(c, &t, why, len);
}

struct calib_job {
	struct calib_case cc;
	struct vfg_hazard_key key;
	bool done, delivered;
	int err;
	uint32_t packed;    /* hazards, packed as CALIB_LOAD_SHIFT says */
	char step[128];     /* what failed, when starting the calibrator did */
};

_Static_assert(sizeof(struct vfg_hazard_key) <= CALIB_FAILURE_KEY,
	       "a hazard key fits the failure table's keys");

struct copies_worker {
	bool cancel; /* the case being measured stops (the calibrator reads it) */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t todo, done;
	struct calib_job *jobs; /* in the order asked; jobs[next..] wait for the worker */
	size_t njobs, next;
	bool busy; /* jobs[next - 1] is being measured */
	bool stop;
	/* Cases that failed, asked again only after a back-off (main thread only). */
	struct calib_failures failed;
};

/*
 * A copy whose case is being measured: delivered when it is. Its target's slot may have gone to
 * another process by then: the target is found again by its serial.
 */
struct parked_copy {
	struct copy_event ev;
	struct calib_case cc;
	struct vfg_hazard_key key;
	uint32_t slot;
	uint64_t serial; /* 0: no target */
};

/* A parked copy's target, in its slot still or retired since; NULL when it had none. */
static const struct copy_target *parked_target(const struct copies *c, const struct parked_copy *p)
{
	if (!p->serial)
		return NULL;
	if (p->slot < c->n && c->targets[p->slot].serial == p->serial)
		return &c->targets[p->slot];
	for (size_t i = 0; i < c->nretired; i++)
		if (c->retired[i].serial == p->serial)
			return &c->retired[i];
	return NULL;
}

static struct vfg_hazard_key hazard_key(const struct calib_case *cc)
{
	return (struct vfg_hazard_key){ .len = cc->len, .routine = cc->routine, .align = cc->align,
					.page_delta = cc->page_delta,
					.distance = calib_case_distance(cc) };
}

/* Measures one case in the worker thread (the calibrator's tracer). 0 or -errno. */
static int measure_case(struct copies *c, const struct calib_case *cc, uint32_t *packed,
			char *step, size_t len)
{
	struct calib_result res = {};
	int err = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (calibrator_ready(c)) {
			snprintf(step, len, "%s", c->cal_step ? c->cal_step : "");
			return c->cal_err;
		}
		c->cal.cancel = &c->worker->cancel;
		err = calibrate_case(&c->cal, cc, &res);
		if (!err && (res.trace.truncated || !res.replay_ok))
			err = -EPROTO;
		if (!err || err == -E2BIG || err == -ECANCELED)
			break;
		/*
		 * A case that ends in an error may leave the child wherever its stepping stopped,
		 * where the next case would start: measure again, once, in a fresh child.
		 */
		calibrator_stop(&c->cal);
		c->cal_started = false;
		calib_result_free(&res);
		memset(&res, 0, sizeof(res));
	}
	if (!err) {
		*packed = res.hazards;
		if (res.loads_ok)
			*packed |= res.load_hazards << CALIB_LOAD_SHIFT | CALIB_LOADS_MEASURED;
	}
	calib_result_free(&res);
	return err;
}

static void *worker_main(void *arg)
{
	struct copies *c = arg;
	struct copies_worker *w = c->worker;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct calib_case cc;
		char step[128] = "";
		uint32_t packed = 0;
		size_t i;
		int err;

		while (!w->stop && w->next == w->njobs)
			pthread_cond_wait(&w->todo, &w->mu);
		if (w->stop)
			break;
		i = w->next++;
		cc = w->jobs[i].cc;
		w->busy = true;
		pthread_mutex_unlock(&w->mu);
		err = measure_case(c, &cc, &packed, step, sizeof(step));
		pthread_mutex_lock(&w->mu);
		w->busy = false;
		w->jobs[i].err = err;
		w->jobs[i].packed = packed;
		memcpy(w->jobs[i].step, step, sizeof(step));
		w->jobs[i].done = true;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	/* The tracer of the calibrator's child is this thread: it ends the child too. */
	if (c->cal_started)
		calibrator_stop(&c->cal);
	c->cal_started = false;
	return NULL;
}

static int worker_start(struct copies *c)
{
	struct copies_worker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	/* capstone is loaded here, not raced for by both threads. */
	disasm_load();
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->todo, NULL);
	pthread_cond_init(&w->done, NULL);
	c->worker = w;
	err = pthread_create(&w->thread, NULL, worker_main, c);
	if (err) {
		c->worker = NULL;
		free(w);
		return -err;
	}
	return 0;
}

static void worker_stop(struct copies *c)
{
	struct copies_worker *w = c->worker;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->todo);
	pthread_mutex_unlock(&w->mu);
	/* A case being measured stops at its next step. */
	__atomic_store_n(&w->cancel, true, __ATOMIC_RELAXED);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->todo);
	pthread_cond_destroy(&w->done);
	free(w->jobs);
	free(w);
	c->worker = NULL;
	free(c->parked);
	c->parked = NULL;
	c->nparked = 0;
}

/*
 * Frees the jobs delivered, while the worker measures none (it holds an index into the list
 * then): the list holds only what waits or was not delivered yet, not every case ever asked.
 * Under the worker's lock.
 */
static void forget_delivered(struct copies_worker *w)
{
	size_t k = 0, taken = 0;

	if (w->busy)
		return;
	for (size_t i = 0; i < w->njobs; i++) {
		if (w->jobs[i].delivered)
			continue;
		taken += i < w->next;
		w->jobs[k++] = w->jobs[i];
	}
	w->njobs = k;
	w->next = taken;
	if (!k) {
		free(w->jobs);
		w->jobs = NULL;
	}
}

/* Asks the worker for a case, once. 0 or -errno. */
static int worker_ask(struct copies *c, const struct calib_case *cc,
		      const struct vfg_hazard_key *k)
{
	struct copies_worker *w;
	struct calib_job *grown;
	int err = 0;

	if (!c->worker && (err = worker_start(c)))
		return err;
	w = c->worker;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->njobs; i++)
		if (!w->jobs[i].delivered && !memcmp(&w->jobs[i].key, k, sizeof(*k)))
			goto out;
	grown = realloc(w->jobs, (w->njobs + 1) * sizeof(*grown));
	if (!grown) {
		err = -ENOMEM;
		goto out;
	}
	w->jobs = grown;
	memset(&grown[w->njobs], 0, sizeof(*grown));
	grown[w->njobs].cc = *cc;
	grown[w->njobs].key = *k;
	w->njobs++;
	pthread_cond_signal(&w->todo);
out:
	pthread_mutex_unlock(&w->mu);
	return err;
}

/* The event's hazards from its case's measure (err: the measure's error). */
static void copy_finish(struct copy_event *ev, const struct calib_case *cc, int err,
			uint32_t packed, const char *step)
{
	/* A copy out of device memory: what the device sees are the loads. */
	if (!err && ev->write) {
		ev->hazards = packed & 0x1f;
		ev->measured = true;
	} else if (!err && (packed & CALIB_LOADS_MEASURED)) {
		ev->hazards = packed >> CALIB_LOAD_SHIFT & 0x1f;
		ev->measured = true;
	} else if (!err) {
		snprintf(ev->unmeasured, sizeof(ev->unmeasured),
			 "the loads of %zu bytes at dst%%64=%u are not known: an instruction "
			 "of the routine could not be decoded", (size_t)cc->len, cc->align);
	} else {
		snprintf(ev->unmeasured, sizeof(ev->unmeasured),
			 "calibrating %zu bytes at dst%%64=%u failed: %s%s%s", (size_t)cc->len,
			 cc->align, step && step[0] ? step : "", step && step[0] ? ": " : "",
			 err == -EPROTO ? "the traced stores do not replay to the routine's result"
					: strerror(-err));
	}
}

/*
 * The cases the worker has measured: into the table (and the cache), and the copies that
 * waited for them to the callback. Returns the copies delivered.
 */
static int deliver_measured(struct copies *c)
{
	struct copies_worker *w = c->worker;
	int delivered = 0;

	if (!w)
		return 0;
	for (;;) {
		struct calib_job job;
		bool found = false;

		pthread_mutex_lock(&w->mu);
		for (size_t i = 0; i < w->njobs && !found; i++)
			if (w->jobs[i].done && !w->jobs[i].delivered) {
				w->jobs[i].delivered = true;
				job = w->jobs[i];
				found = true;
			}
		if (!found)
			forget_delivered(w);
		pthread_mutex_unlock(&w->mu);
		if (!found)
			return delivered;
		if (job.err)
			calib_failure_record(&w->failed, &job.key, sizeof(job.key), job.err, job.step,
					     monotonic_ns());
		if (!job.err) {
			uint32_t v = job.packed | VFG_HAZARDS_MEASURED;

			bpf_map_update_elem(bpf_map__fd(c->skel->maps.hazard_table), &job.key, &v,
					    BPF_ANY);
			c->cases_measured++;
			if (c->cache_path[0] && !c->cache_err)
				c->cache_err = calib_cache_append(c->cache_path, &job.cc, job.packed);
		}
		for (size_t i = 0, k = 0, n = c->nparked; i < n; i++) {
			struct parked_copy *p = &c->parked[i];

			if (memcmp(&p->key, &job.key, sizeof(job.key))) {
				c->parked[k++] = *p;
				continue;
			}
			p->ev.target = parked_target(c, p);
			copy_finish(&p->ev, &p->cc, job.err, job.packed, job.step);
			p->ev.calibrated_now = !job.err && !delivered;
			c->events++;
			c->fn(&p->ev, c->ctx);
			delivered++;
			c->nparked--;
		}
	}
}

size_t copies_drain(struct copies *c, int timeout_ms)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)timeout_ms * 1000000;

	copies_poll(c, 0);
	while (c->nparked && c->worker && monotonic_ns() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&c->worker->mu);
		pthread_cond_timedwait(&c->worker->done, &c->worker->mu, &ts);
		pthread_mutex_unlock(&c->worker->mu);
		copies_poll(c, 0);
	}
	return c->nparked;
}

static struct pci_resource *resources_of(struct copies *c, const char *device)
{
	unsigned int i;

	for (i = 0; i < c->ndevices; i++)
		if (!strcmp(c->devices[i].device, device))
			return c->devices[i].have ? c->devices[i].res : NULL;
	if (i == sizeof(c->devices) / sizeof(c->devices[0]))
		return NULL;
	snprintf(c->devices[i].device, sizeof(c->devices[i].device), "%s", device);
	c->devices[i].have = device[0] && !pci_resources_read(device, c->devices[i].res);
	c->ndevices++;
	return c->devices[i].have ? c->devices[i].res : NULL;
}

/* An event's target; NULL for a call of an exited process whose slot went to another one. */
static const struct copy_target *target_of(const struct copies *c, uint32_t idx, uint32_t tgid)
{
	const struct copy_target *t = idx < c->n ? &c->targets[idx] : NULL;

	return t && t->pid > 0 && t->pid != (int32_t)tgid ? NULL : t;
}

static int on_ring(void *ctx, void *data, size_t size)
{
	struct copies *c = ctx;
	struct copy_event ev = {};
	const struct vfg_copy_event *r = data;
	struct region_loc at;

	if (size < sizeof(*r))
		return 0;
	ev.raw = *r;
	ev.target = target_of(c, r->target, r->tgid);
	ev.write = r->flags & VFG_COPY_DST_DEVICE;
	ev.device_addr = ev.write ? r->dst : r->src;
	if (ev.device_addr < r->start) /* the copy starts before the mapping */
		ev.device_addr = r->start;
	at = region_locate(r->pgoff, kernel_page_shift(&c->kernel),
			   resources_of(c, r->device), PCI_RESOURCES);
	ev.region = at;
	ev.region.offset = at.offset + (ev.device_addr - r->start);
	ev.cache = cache_mode_decode(c->kernel.arch, r->pgprot, c->kernel.major, c->kernel.minor);
	ev.hazards = r->hazards;
	ev.measured = r->flags & VFG_COPY_MEASURED;
	if (!ev.measured && r->routine < CALIB_ROUTINES) {
		struct calib_case cc = {
			.routine = r->routine,
			.len = r->len > CALIB_MAX_LEN ? CALIB_MAX_LEN : r->len,
			.align = r->align,
			.page_delta = r->case_delta,
			.distance = r->distance,
		};
		struct vfg_hazard_key k = hazard_key(&cc);
		const struct calib_failure *f;
		uint32_t v;
		int err;

		if (!bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.hazard_table), &k, &v) &&
		    (v & VFG_HAZARDS_MEASURED)) {
			/* Measured since the kernel looked (or only its loads were missing). */
			copy_finish(&ev, &cc, 0, v & ~VFG_HAZARDS_MEASURED, NULL);
		} else if (c->worker && (f = calib_failure_find(&c->worker->failed, &k, sizeof(k),
								 monotonic_ns()))) {
			/* Failed lately: not measured again before its back-off ends. */
			copy_finish(&ev, &cc, f->err, 0, f->step);
		} else if (c->nparked >= COPIES_PARKED_MAX) {
			copy_finish(&ev, &cc, -ENOBUFS, 0, "wait for a measurement (too many waiting)");
		} else if (!(err = worker_ask(c, &cc, &k))) {
			struct parked_copy *grown = realloc(c->parked, (c->nparked + 1) *
							    sizeof(*grown));

			if (grown) {
				c->parked = grown;
				grown[c->nparked++] = (struct parked_copy){
					.ev = ev, .cc = cc, .key = k, .slot = r->target,
					.serial = ev.target ? ev.target->serial : 0 };
				return 0;
			}
			copy_finish(&ev, &cc, -ENOMEM, 0, NULL);
		} else {
			copy_finish(&ev, &cc, err, 0, "start the calibration worker");
		}
	}
	c->events++;
	c->fn(&ev, c->ctx);
	return 0;
}

static int on_dma_ring(void *ctx, void *data, size_t size)
{
	struct copies *c = ctx;
	const struct vfg_dma_event *r = data;
	struct dma_event ev = {};

	if (size < sizeof(*r) || !c->dma_fn)
		return 0;
	ev.raw = *r;
	ev.target = target_of(c, r->target, r->tgid);
	ev.device = r->flags & VFG_DMA_DEVICE;
	ev.bounced = r->flags & VFG_DMA_BOUNCED;
	ev.failed = r->flags & VFG_DMA_FAILED;
	ev.write = r->flags & VFG_DMA_WRITE;
	ev.unmap = r->kind == VFG_DMA_UNMAP;
	ev.short_map = !ev.failed && !ev.unmap && r->granted < r->asked;
	if (ev.device) {
		struct region_loc at = region_locate(r->pgoff, kernel_page_shift(&c->kernel),
						     resources_of(c, r->device), PCI_RESOURCES);

		ev.region = at;
		ev.offset_known = (r->flags & VFG_DMA_OFFSET_KNOWN) && r->dev_addr >= r->start &&
				  r->dev_addr < r->end;
		ev.region.offset = ev.offset_known ? at.offset + (r->dev_addr - r->start) : 0;
		ev.cache = cache_mode_decode(c->kernel.arch, r->pgprot, c->kernel.major,
					     c->kernel.minor);
	}
	c->dma_fn(&ev, c->ctx);
	return 0;
}

int copies_poll(struct copies *c, int timeout_ms)
{
	int n = ring_buffer__poll(c->rb, timeout_ms);

	/* Events submitted without a wakeup are read here, once per call. */
	if (n >= 0 || n == -EINTR) {
		int more = ring_buffer__consume(c->rb);

		n = more < 0 ? more : (n > 0 ? n : 0) + more;
	}
	if (n >= 0 || n == -EINTR)
		n = (n > 0 ? n : 0) + deliver_measured(c);
	return n;
}
