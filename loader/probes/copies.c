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
#include "ring.h"

#include "../calib/worker.h"
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
	c->devices.read = pci_resources_read;
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
	calib_worker_stop(c->worker);
	c->worker = NULL;
	device_cache_forget(&c->devices);
	free(c->parked);
	c->parked = NULL;
	c->nparked = 0;
	copies_bpf__destroy(c->skel);
	c->n = 0;
	c->rb = NULL;
	c->skel = NULL;
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
	return t->pid > 0 && !proc_same(t->pid, t->start_time);
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
		if (!proc_same(key, 0)) {
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

/* Attaches one target; an identical one already attached counts as done. */
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
	struct copy_target t[3];
	int n = vmm_libc_targets(pid, c->build_id, c->routine_vaddr, t, why, len), err;
	int attached = 0;

	/* A new process may map a device replaced since: the devices' resources are read again. */
	if (n > 0)
		device_cache_forget(&c->devices);

	for (int i = 0; i < n; i++) {
		err = attach(c, &t[i], why, len);
		if (err < 0)
			return err;
		attached += err;
	}
	return n < 0 ? n : attached;
}

/*
 * Attaches QEMU's DMA-map targets of pid, all or none: a map seen without its return would
 * never be sent. Returns the probes attached, or 0 with the reason in why.
 */
static int attach_dma(struct copies *c, const struct copy_target *t, size_t n, uint32_t pid,
		      char *why, size_t len)
{
	int err, attached = 0;

	for (size_t i = 0; i < n; i++) {
		err = attach(c, &t[i], why, len);
		if (err < 0) {
			char reason[256];

			snprintf(reason, sizeof(reason), "%s", why);
			snprintf(why, len, "DMA maps not watched: %.200s", reason);
			for (unsigned int k = 0; k < c->n; k++)
				if (c->targets[k].pid == (int32_t)pid &&
				    c->targets[k].t.kind >= VFG_COPY_KIND_DMA_MAP && c->targets[k].link) {
					bpf_link__destroy(c->targets[k].link);
					c->targets[k].link = NULL;
					c->targets[k].pid = 0;
				}
			return 0;
		}
		attached += err;
	}
	return attached;
}

int copies_watch_profile(struct copies *c, uint32_t pid, char *why, size_t len)
{
	struct qemu_targets q;
	int err = vmm_qemu_targets(pid, &q, why, len), attached = 0;

	if (err <= 0)
		return err;
	device_cache_forget(&c->devices); /* as for libc's targets */
	for (size_t i = 0; i < q.naccess; i++) {
		err = attach(c, &q.access[i], why, len);
		if (err < 0)
			return err;
		attached += err;
	}
	attached += attach_dma(c, q.dma, q.ndma, pid, q.dma_why, sizeof(q.dma_why));
	if (q.fallback[0] || q.dma_why[0])
		snprintf(why, len, "pid %u: %s%s%s", pid, q.fallback,
			 q.fallback[0] && q.dma_why[0] ? "; " : "", q.dma_why);
	return attached;
}

int copies_watch_probe(struct copies *c, const struct copy_probe_spec *p, uint32_t pid,
		       char *why, size_t len)
{
	struct copy_target t;
	int err = vmm_probe_target(p, pid, c->build_id[0] != 0, &t, why, len);

	return err ? err : attach(c, &t, why, len);
}

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

/*
 * A copy into device memory whose measured stores include a string instruction's: what the
 * destination's mode adds (fast strings on WB and WC).
 */
static void string_hazards(struct copy_event *ev, uint32_t packed)
{
	ev->string = ev->write && (packed & VFG_HAZARDS_STRING);
	if (ev->string)
		ev->hazards |= cache_mode_string_hazards(ev->cache.mode);
}

/* The event's hazards from its case's measure (err: the measure's error). */
static void copy_finish(struct copy_event *ev, const struct calib_case *cc, int err,
			uint32_t packed, const char *step)
{
	/* A copy out of device memory: what the device sees are the loads. */
	if (!err && ev->write) {
		ev->hazards = packed & 0x1f;
		ev->measured = true;
		string_hazards(ev, packed);
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
	struct calib_measured m;
	int delivered = 0;

	while (calib_worker_take(c->worker, &m)) {
		if (!m.err) {
			uint32_t v = m.packed | VFG_HAZARDS_MEASURED;

			bpf_map_update_elem(bpf_map__fd(c->skel->maps.hazard_table), &m.key, &v,
					    BPF_ANY);
			c->cases_measured++;
			if (c->cache_path[0] && !c->cache_err)
				c->cache_err = calib_cache_append(c->cache_path, &m.cc, m.packed);
		}
		for (size_t i = 0, k = 0, n = c->nparked; i < n; i++) {
			struct parked_copy *p = &c->parked[i];

			if (memcmp(&p->key, &m.key, sizeof(m.key))) {
				c->parked[k++] = *p;
				continue;
			}
			p->ev.target = parked_target(c, p);
			copy_finish(&p->ev, &p->cc, m.err, m.packed, m.step);
			p->ev.calibrated_now = !m.err && !delivered;
			c->events++;
			c->fn(&p->ev, c->ctx);
			delivered++;
			c->nparked--;
		}
	}
	return delivered;
}

size_t copies_drain(struct copies *c, int timeout_ms)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)timeout_ms * 1000000;

	copies_poll(c, 0);
	while (c->nparked && c->worker && monotonic_ns() < deadline) {
		calib_worker_wait(c->worker, 100);
		copies_poll(c, 0);
	}
	return c->nparked;
}

/*
 * A mapping of an event: device as the kernel sent it (NUL-terminated or not), NULL when the
 * kernel could not read it (no device resources: the offset form).
 */
static struct vma_decoded decode(struct copies *c, const char *device, const struct vfg_vma *v)
{
	struct vma_kernel k = kernel_vma(&c->kernel);
	char dev[VFG_DEVICE_LEN] = "";

	if (device)
		snprintf(dev, sizeof(dev), "%.*s", (int)sizeof(dev) - 1, device);
	return vma_decode(&k, v->pgoff, v->pgprot, v->flags, device_cache_get(&c->devices, dev));
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
	struct vma_decoded d;

	if (size < sizeof(*r))
		return 0;
	ev.raw = *r;
	ev.target = target_of(c, r->target, r->task.tgid);
	ev.write = r->flags & VFG_COPY_DST_DEVICE;
	ev.device_addr = ev.write ? r->dst : r->src;
	if (ev.device_addr < r->vma.start) /* the copy starts before the mapping */
		ev.device_addr = r->vma.start;
	d = decode(c, r->flags & VFG_COPY_DEVICE_UNKNOWN ? NULL : r->device, &r->vma);
	ev.region = d.region;
	ev.region.offset = d.region.offset + (ev.device_addr - r->vma.start);
	ev.cache = d.cache;
	ev.hazards = r->hazards;
	ev.measured = r->flags & VFG_COPY_MEASURED;
	string_hazards(&ev, r->flags & VFG_COPY_STRING ? VFG_HAZARDS_STRING : 0);
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
		} else if ((f = calib_worker_failed(c->worker, &k))) {
			/* Failed lately: not measured again before its back-off ends. */
			copy_finish(&ev, &cc, f->err, 0, f->step);
		} else if (c->nparked >= COPIES_PARKED_MAX) {
			copy_finish(&ev, &cc, -ENOBUFS, 0, "wait for a measurement (too many waiting)");
		} else if (!(err = calib_worker_ask(&c->worker, &cc, &k))) {
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
	ev.target = target_of(c, r->target, r->task.tgid);
	ev.device = r->flags & VFG_DMA_DEVICE;
	ev.bounced = r->flags & VFG_DMA_BOUNCED;
	ev.failed = r->flags & VFG_DMA_FAILED;
	ev.write = r->flags & VFG_DMA_WRITE;
	ev.unmap = r->kind == VFG_DMA_UNMAP;
	ev.short_map = !ev.failed && !ev.unmap && r->granted < r->asked;
	if (ev.device) {
		struct vma_decoded d =
		    decode(c, r->flags & VFG_DMA_DEVICE_UNKNOWN ? NULL : r->device, &r->vma);

		ev.region = d.region;
		ev.offset_known = (r->flags & VFG_DMA_OFFSET_KNOWN) &&
				  d.region.index != REGION_UNKNOWN && r->dev_addr >= r->vma.start &&
				  r->dev_addr < r->vma.end;
		ev.region.offset =
		    ev.offset_known ? d.region.offset + (r->dev_addr - r->vma.start) : 0;
		ev.cache = d.cache;
	}
	c->dma_fn(&ev, c->ctx);
	return 0;
}

int copies_poll(struct copies *c, int timeout_ms)
{
	int n = ring_poll(c->rb, timeout_ms);

	return n < 0 ? n : n + deliver_measured(c);
}
