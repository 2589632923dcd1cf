// SPDX-License-Identifier: GPL-2.0
/*
 * Copies into and out of device memory: one uprobe program, attached to every copy routine
 * user space resolved (libc memcpy/memmove/memset as the process calls them, QEMU's memory core,
 * user-named functions), with the target's index as the attach cookie.
 *
 * Per call: read the arguments the target says, ask the kernel which VMA holds the destination
 * (then the source) with bpf_find_vma, so a munmapped range is never answered from a stale copy,
 * and when the VMA maps a VFIO device file, look the call's (routine, length, alignment, overlap)
 * up in the hazard table user space filled from calibration and send the call with the user
 * stack. Calls that touch no device memory only count.
 *
 * Most calls touch no device memory, and a VMA lookup costs more than the trap's own work: a
 * process whose VFIO mappings are known (span_seed, filled by user space from /proc/PID/maps
 * when it starts watching it, after track_vfio_mmap is attached; span_grown, by track_vfio_mmap
 * for every VFIO mmap since) has calls outside the address span of those mappings answered
 * without a lookup. The spans only grow: a call inside them is still confirmed by bpf_find_vma,
 * so a munmapped range is never taken for device memory.
 *
 * QEMU's DMA maps (dma_probe, dma_ret): a device model's address_space_map() of guest memory
 * that is a VFIO region is handed QEMU's bounce buffer (a RAM-device region is never direct in
 * QEMU 7.2), and a map while that buffer is held fails. Per thread, the map in flight
 * (dma_inflight) takes its region from the first memory_region_ref() inside it (both the direct
 * and the bounced path take a reference; a failed map takes none) and, for a bounced read, its
 * first device address from the RAM-device read handler that fills the buffer; on return it is
 * sent when the region is device memory or the map failed. Per process, the bounced map that
 * holds the buffer (dma_bounce) is sent again when address_space_unmap() gives it back.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "maps.bpf.h"
#include "vfioguard.h"
#include "vfio_device.bpf.h"
#include "record.bpf.h"

char LICENSE[] SEC("license") = "GPL";

VFG_MAP(copy_targets, ARRAY, __u32, struct vfg_copy_target, VFG_MAX_COPY_TARGETS);

VFG_MAP(copy_counts, PERCPU_ARRAY, __u32, struct vfg_copy_counts, VFG_MAX_COPY_TARGETS);

VFG_MAP(hazard_table, HASH, struct vfg_hazard_key, __u32, 65536);

VFG_RINGBUF(copy_events, 1 << 20);

/* Keyed by tgid. */
VFG_MAP(span_seed, HASH, __u32, struct vfg_span, 4096);

/*
 * A plain hash, not an LRU one: an evicted span would hide mappings; a full map is seen by
 * track_vfio_mmap, which then drops the process's seed (its calls are all looked up).
 * Keyed by tgid.
 */
VFG_MAP(span_grown, HASH, __u32, struct vfg_span, 4096);

VFG_RINGBUF(dma_events, 1 << 18);

/* Per thread: the address_space_map() call in flight, keyed by tid. */
VFG_MAP(dma_inflight, HASH, __u32, struct vfg_dma_event, 4096);

/* Per process: the bounced map of device memory that holds QEMU's (one) bounce buffer. */
VFG_MAP(dma_bounce, HASH, __u32, struct vfg_dma_event, 4096);

/* Where a map's state is built before it goes into dma_inflight (too large for the stack). */
VFG_MAP(dma_scratch, PERCPU_ARRAY, __u32, struct vfg_dma_event, 1);

/* Set by user space once track_vfio_mmap is attached: only then are the spans complete. */
volatile __u32 spans_on = 0;
/*
 * Bumped after every change of a span (track_vfio_mmap; user space when it seeds or forgets a
 * process): a probe's cached span (span_cache) is used only while this has not moved since it
 * was computed, so a call of a process that maps nothing new costs no map lookup by pid.
 */
volatile __u64 span_gen = 0;

/* Per CPU and probe: the span of the probe's process as of generation gen - 1 (0: none). */
struct span_cached {
	__u64 lo, hi;
	__u64 gen;
	__u32 known; /* the process was seeded: outside [lo, hi) is not device memory */
	__u32 pad;
};

VFG_MAP(span_cache, PERCPU_ARRAY, __u32, struct span_cached, VFG_MAX_COPY_TARGETS);

/* Widens a span to cover [lo, hi); races with other CPUs are settled by compare-and-swap. */
static __always_inline void span_widen(struct vfg_span *s, __u64 lo, __u64 hi)
{
	for (int i = 0; i < 8; i++) {
		__u64 cur = s->lo;

		if (cur <= lo || __sync_val_compare_and_swap(&s->lo, cur, lo) == cur)
			break;
	}
	for (int i = 0; i < 8; i++) {
		__u64 cur = s->hi;

		if (cur >= hi || __sync_val_compare_and_swap(&s->hi, cur, hi) == cur)
			break;
	}
}

/* On entry the VMA's range is set; a failed mmap only widens the span (still correct). */
SEC("kprobe/vfio_device_fops_mmap")
int BPF_KPROBE(track_vfio_mmap, struct file *file, struct vm_area_struct *vma)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 lo = BPF_CORE_READ(vma, vm_start), hi = BPF_CORE_READ(vma, vm_end);
	struct vfg_span init = { .lo = lo, .hi = hi }, *s;

	s = bpf_map_lookup_elem(&span_grown, &tgid);
	if (!s && bpf_map_update_elem(&span_grown, &tgid, &init, BPF_NOEXIST)) {
		/* Another CPU made it meanwhile, or there is no room. */
		s = bpf_map_lookup_elem(&span_grown, &tgid);
		if (!s) {
			/* No room: the process's spans are incomplete, so look it up every call. */
			bpf_map_delete_elem(&span_seed, &tgid);
		}
	}
	if (s)
		span_widen(s, lo, hi);
	/* After the change: a probe that read the span before it computes it again. */
	__sync_fetch_and_add(&span_gen, 1);
	return 0;
}

/* The span of the calling process (seed and growth), from this CPU's cache when still valid. */
static __always_inline struct span_cached *span_of(__u32 idx)
{
	struct span_cached *sc = bpf_map_lookup_elem(&span_cache, &idx);
	struct vfg_span *seed, *grown;
	__u32 tgid;
	__u64 gen;

	if (!sc)
		return NULL;
	gen = span_gen; /* before the maps: a change after this invalidates what is read */
	if (sc->gen == gen + 1)
		return sc;
	tgid = bpf_get_current_pid_tgid() >> 32;
	seed = bpf_map_lookup_elem(&span_seed, &tgid);
	grown = seed ? bpf_map_lookup_elem(&span_grown, &tgid) : NULL;
	sc->known = seed != NULL;
	sc->lo = seed ? seed->lo : 0;
	sc->hi = seed ? seed->hi : 0;
	if (grown && grown->hi) {
		if (sc->hi == 0 || grown->lo < sc->lo)
			sc->lo = grown->lo;
		if (grown->hi > sc->hi)
			sc->hi = grown->hi;
	}
	sc->gen = gen + 1;
	return sc;
}

/*
 * 0: [addr, addr + len) is outside every VFIO mapping this process has had; 1: it may be inside
 * one (or the process's mappings are not known): look it up.
 */
static __always_inline int may_touch_device(const struct span_cached *sc, __u64 addr, __u64 len)
{
	return !sc || !sc->known || (addr < sc->hi && addr + len > sc->lo);
}

/* As in monitor.bpf.c: user space is woken when this much is waiting, and reads every 50 ms. */
const volatile __u64 wakeup_bytes = 0;

/* What the VMA lookup found. */
struct vma_found {
	struct vfg_vma vma;
	__u32 device_unknown;
	__u32 found;
	char device[VFG_DEVICE_LEN];
};

static long vma_check(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_found *f = data;
	struct file *file = BPF_CORE_READ(vma, vm_file);

	/* The end of any VMA: a copy that ends inside it needs no second lookup. */
	f->vma.end = BPF_CORE_READ(vma, vm_end);
	if (!is_vfio_device_file(file))
		return 0;
	f->found = 1;
	vma_read(&f->vma, vma);
	f->device_unknown = read_device_name(file, f->device) != 0;
	return 0;
}

/* 1: in a VFIO mapping, 0: not, -1: the lookup could not run (busy). */
static __always_inline int lookup(struct task_struct *task, __u64 addr, struct vma_found *f)
{
	long err = bpf_find_vma(task, addr, vma_check, f, 0);

	if (err == -16 /* EBUSY */)
		return -1;
	return f->found;
}

/* Whether [addr, addr + len) touches a VFIO mapping: its first byte's VMA, then its last's. */
static __always_inline int classify(struct task_struct *task, __u64 addr, __u64 len,
				    struct vma_found *f)
{
	int in;

	f->vma.end = 0;
	in = lookup(task, addr, f);
	if (in == 0 && len > 1 && addr + len - 1 >= f->vma.end)
		in = lookup(task, addr + len - 1, f);
	return in;
}

/*
 * The first five arguments, read from the context at constant offsets (no helper call: this runs
 * on every call of the routine); the barriers keep the compiler from turning the choice into one
 * load at a computed offset, which the verifier refuses.
 */
struct args5 {
	__u64 v[5];
};

static __always_inline void read_args(struct pt_regs *ctx, struct args5 *a)
{
	__u64 a0 = PT_REGS_PARM1(ctx), a1 = PT_REGS_PARM2(ctx), a2 = PT_REGS_PARM3(ctx),
	      a3 = PT_REGS_PARM4(ctx), a4 = PT_REGS_PARM5(ctx);

	barrier_var(a0);
	barrier_var(a1);
	barrier_var(a2);
	barrier_var(a3);
	barrier_var(a4);
	a->v[0] = a0;
	a->v[1] = a1;
	a->v[2] = a2;
	a->v[3] = a3;
	a->v[4] = a4;
}

static __always_inline __u64 arg(const struct args5 *a, __u8 i)
{
	switch (i) {
	case 0: return a->v[0];
	case 1: return a->v[1];
	case 2: return a->v[2];
	case 3: return a->v[3];
	case 4: return a->v[4];
	default: return 0;
	}
}

static __always_inline __u64 return_address(struct pt_regs *ctx)
{
#if defined(bpf_target_x86)
	__u64 ra = 0;

	/* At a function's first instruction the return address is at the stack pointer. */
	bpf_probe_read_user(&ra, sizeof(ra), (void *)PT_REGS_SP(ctx));
	return ra;
#else
	return PT_REGS_RET(ctx); /* the link register */
#endif
}

/* A function's argument, or a USDT probe's (libbpf decodes its location from the ELF note). */
static __always_inline __u64 get_arg(struct pt_regs *ctx, const struct args5 *a, __u8 i,
				     bool usdt)
{
	long v = 0;

	if (!usdt)
		return arg(a, i);
	bpf_usdt_arg(ctx, i, &v);
	return v;
}

/* The user stack of a probe at a function's entry: [0] the function, [1] its caller. */
static __always_inline __u32 entry_stack(struct pt_regs *ctx, __u64 *stack)
{
	long n = bpf_get_stack(ctx, &stack[1], (VFG_COPY_STACK - 1) * sizeof(__u64),
			       BPF_F_USER_STACK);

	stack[0] = PT_REGS_IP(ctx);
	stack[1] = return_address(ctx);
	return n > 0 ? n / sizeof(__u64) + 1 : 2;
}

/* QEMU: the host address of a MemoryRegion's RAM (mr->ram_block->host), 0 when it has none. */
static __always_inline __u64 region_host(const struct vfg_copy_target *t, __u64 mr)
{
	__u64 rb = 0, host = 0;

	if (bpf_probe_read_user(&rb, sizeof(rb), (void *)(mr + t->mr_ram_block)) || !rb ||
	    bpf_probe_read_user(&host, sizeof(host), (void *)(rb + t->ram_block_host)))
		return 0;
	return host;
}

static __always_inline int on_call(struct pt_regs *ctx, __u32 idx, bool usdt)
{
	struct vfg_copy_target *t = bpf_map_lookup_elem(&copy_targets, &idx);
	struct vfg_copy_counts *cnt = bpf_map_lookup_elem(&copy_counts, &idx);
	struct task_struct *task = NULL;
	struct span_cached *sc = NULL;
	struct args5 args = {};
	struct vma_found f = {};
	struct vfg_copy_event *ev;
	__u64 dst = 0, src = 0, len = 0;
	__u32 flags = 0;
	__u8 routine;
	int in;

	if (!t || !cnt)
		return 0;
	cnt->hits++;
	if (!usdt)
		read_args(ctx, &args);
	routine = t->routine;
	if (t->kind == VFG_COPY_KIND_MR_WRITE || t->kind == VFG_COPY_KIND_MR_READ) {
		/* Only RAM-backed regions have a host address; MMIO emulation has no ram_block. */
		__u64 host = region_host(t, get_arg(ctx, &args, t->dst_arg, usdt));

		if (!host)
			return 0;
		len = get_arg(ctx, &args, t->len_arg, usdt);
		if (t->flags & VFG_TARGET_LEN_MEMOP)
			len = 1ULL << (len & 3); /* MemOp: MO_SIZE is the low two bits */
		if (t->kind == VFG_COPY_KIND_MR_WRITE) {
			dst = host + get_arg(ctx, &args, t->src_arg, usdt);
			src = t->value_arg != VFG_ARG_NONE ? get_arg(ctx, &args, t->value_arg, usdt) : 0;
		} else {
			src = host + get_arg(ctx, &args, t->src_arg, usdt);
		}
	} else {
		if (t->dst_arg != VFG_ARG_NONE)
			dst = get_arg(ctx, &args, t->dst_arg, usdt);
		if (t->src_arg != VFG_ARG_NONE)
			src = get_arg(ctx, &args, t->src_arg, usdt);
		if (t->len_arg != VFG_ARG_NONE)
			len = get_arg(ctx, &args, t->len_arg, usdt);
	}
	if (!len)
		return 0;
	if (spans_on && (t->flags & VFG_TARGET_ONE_PROCESS))
		sc = span_of(idx);
	/* The device side: the destination first, then (for copies) the source. */
	in = 0;
	if (dst && may_touch_device(sc, dst, len)) {
		task = bpf_get_current_task_btf();
		in = classify(task, dst, len, &f);
	}
	if (in > 0)
		flags |= VFG_COPY_DST_DEVICE;
	if (in == 0 && src && t->kind != VFG_COPY_KIND_SET && t->kind != VFG_COPY_KIND_MR_WRITE &&
	    may_touch_device(sc, src, len)) {
		task = bpf_get_current_task_btf();
		in = classify(task, src, len, &f);
		if (in > 0)
			flags |= VFG_COPY_SRC_DEVICE;
	}
	if (in < 0) {
		cnt->busy++;
		return 0;
	}
	if (!in) {
		if (sc && sc->known)
			cnt->spanned++;
		return 0;
	}
	cnt->device++;
	if (t->kind == VFG_COPY_KIND_MR_READ) {
		/* Filling the bounce buffer of a DMA map in flight: where in the region it reads. */
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		struct vfg_dma_event *d = bpf_map_lookup_elem(&dma_inflight, &tid);

		if (d && !(d->flags & VFG_DMA_OFFSET_KNOWN)) {
			d->dev_addr = src;
			d->flags |= VFG_DMA_OFFSET_KNOWN;
		}
	}

	ev = bpf_ringbuf_reserve(&copy_events, sizeof(*ev), 0);
	if (!ev) {
		cnt->dropped++;
		return 0;
	}
	ev->ts = bpf_ktime_get_ns();
	task_current(&ev->task);
	ev->target = idx;
	ev->dst = dst;
	ev->src = src;
	ev->len = len;
	ev->vma = f.vma;
	__builtin_memcpy(ev->device, f.device, sizeof(ev->device));
	if (f.device_unknown)
		flags |= VFG_COPY_DEVICE_UNKNOWN;

	/* Which calibrated case this call is. */
	if (t->kind == VFG_COPY_KIND_COPY && routine <= VFG_ROUTINE_MEMMOVE && dst != src &&
	    dst < src + len && src < dst + len)
		routine = dst < src ? VFG_ROUTINE_MEMMOVE_FORWARD : VFG_ROUTINE_MEMMOVE_BACKWARD;
	ev->routine = routine;
	ev->align = dst & 63;
	ev->page_delta = t->kind == VFG_COPY_KIND_COPY ? (dst - src) & 4095 : 0;
	ev->case_delta = 0;
	if ((routine == VFG_ROUTINE_MEMCPY || routine == VFG_ROUTINE_MEMMOVE) &&
	    ev->page_delta < t->alias_window)
		ev->case_delta = ev->page_delta;
	else if (routine == VFG_ROUTINE_MEMCPY || routine == VFG_ROUTINE_MEMMOVE)
		ev->case_delta = flags & VFG_COPY_DST_DEVICE ? VFG_PAGE_FAR :
			VFG_PAGE_FAR + 1 + (ev->page_delta & 63);
	ev->distance = 0;
	if (routine == VFG_ROUTINE_MEMMOVE_FORWARD || routine == VFG_ROUTINE_MEMMOVE_BACKWARD) {
		__u64 d = dst < src ? src - dst : dst - src;

		ev->distance = d > VFG_HAZARD_MAX_LEN ? VFG_HAZARD_MAX_LEN : d;
	}
	ev->hazards = 0;
	if (routine == VFG_ROUTINE_SINGLE) {
		/* One access of len bytes: only its alignment can be wrong. */
		__u64 at = flags & VFG_COPY_DST_DEVICE ? dst : src;

		ev->hazards = at & (len - 1) ? HAZARD_UNALIGNED : 0;
		flags |= VFG_COPY_MEASURED;
	} else if (routine != VFG_ROUTINE_NONE) {
		struct vfg_hazard_key k = {
			.len = len > VFG_HAZARD_MAX_LEN ? VFG_HAZARD_MAX_LEN : len,
			.routine = routine,
			.align = ev->align,
			.page_delta = ev->case_delta,
			.distance = ev->distance,
		};
		__u32 *h = bpf_map_lookup_elem(&hazard_table, &k);

		if (len > VFG_HAZARD_MAX_LEN)
			flags |= VFG_COPY_CAPPED;
		/* A copy into device memory: its stores; out of it: its loads. */
		if (h && (*h & VFG_HAZARDS_MEASURED) && (flags & VFG_COPY_DST_DEVICE)) {
			ev->hazards = *h & HAZARD_ALL;
			flags |= VFG_COPY_MEASURED | (*h & VFG_HAZARDS_STRING ? VFG_COPY_STRING : 0);
		} else if (h && (*h & VFG_HAZARDS_MEASURED) && (*h & VFG_HAZARDS_LOADS_MEASURED)) {
			ev->hazards = (*h >> 8) & 0x1f;
			flags |= VFG_COPY_MEASURED;
		}
	}
	ev->flags = flags;

	if (usdt) {
		/* Inside a function: the stack pointer holds no return address here. */
		long n = bpf_get_stack(ctx, ev->stack, sizeof(ev->stack), BPF_F_USER_STACK);

		ev->nstack = n > 0 ? n / sizeof(__u64) : 0;
	} else {
		ev->nstack = entry_stack(ctx, ev->stack);
	}
	bpf_ringbuf_submit(ev, bpf_ringbuf_query(&copy_events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
				  BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("uprobe")
int copy_probe(struct pt_regs *ctx)
{
	return on_call(ctx, (__u32)bpf_get_attach_cookie(ctx), false);
}

SEC("usdt")
int copy_usdt(struct pt_regs *ctx)
{
	return on_call(ctx, (__u32)bpf_usdt_cookie(ctx), true);
}

/* The entries of address_space_map, memory_region_ref and address_space_unmap. */
SEC("uprobe")
int dma_probe(struct pt_regs *ctx)
{
	__u32 idx = (__u32)bpf_get_attach_cookie(ctx), zero = 0;
	struct vfg_copy_target *t = bpf_map_lookup_elem(&copy_targets, &idx);
	struct vfg_copy_counts *cnt = bpf_map_lookup_elem(&copy_counts, &idx);
	__u64 id = bpf_get_current_pid_tgid(), host;
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct vfg_dma_event *e;
	struct args5 a = {};
	struct vma_found f = {};

	if (!t || !cnt)
		return 0;
	cnt->hits++;
	read_args(ctx, &a);
	if (t->kind == VFG_COPY_KIND_DMA_MAP) {
		/* (as, addr, hwaddr *plen, bool is_write, attrs) */
		e = bpf_map_lookup_elem(&dma_scratch, &zero);
		if (!e)
			return 0;
		__builtin_memset(e, 0, sizeof(*e));
		e->ts = bpf_ktime_get_ns();
		task_current(&e->task);
		e->kind = VFG_DMA_MAP;
		e->target = idx;
		e->gpa = a.v[1];
		e->plen = a.v[2];
		bpf_probe_read_user(&e->asked, sizeof(e->asked), (void *)a.v[2]);
		if (a.v[3] & 1)
			e->flags |= VFG_DMA_WRITE;
		e->nstack = entry_stack(ctx, e->stack);
		/* A map whose return was never seen is replaced. */
		bpf_map_update_elem(&dma_inflight, &tid, e, BPF_ANY);
		return 0;
	}
	if (t->kind == VFG_COPY_KIND_DMA_REF) {
		/* (mr): only the first reference inside a map is the mapped region. */
		e = bpf_map_lookup_elem(&dma_inflight, &tid);
		if (!e || e->mr)
			return 0;
		e->mr = a.v[0];
		host = region_host(t, a.v[0]);
		if (!host)
			return 0;
		/* Guest RAM, outside the process's VFIO spans, needs no VMA lookup. */
		if (!may_touch_device(spans_on ? span_of(idx) : NULL, host, 1) ||
		    classify(bpf_get_current_task_btf(), host, 1, &f) <= 0)
			return 0;
		cnt->device++;
		e->flags |= VFG_DMA_DEVICE | (f.device_unknown ? VFG_DMA_DEVICE_UNKNOWN : 0);
		e->vma = f.vma;
		__builtin_memcpy(e->device, f.device, sizeof(e->device));
		return 0;
	}
	if (t->kind == VFG_COPY_KIND_DMA_UNMAP) {
		/* (as, buffer, len, bool is_write, access_len): the bounce buffer given back? */
		e = bpf_map_lookup_elem(&dma_bounce, &tgid);
		if (!e || e->ptr != a.v[1])
			return 0;
		cnt->device++;
		e->ts = bpf_ktime_get_ns();
		task_current(&e->task); /* the thread that gives the buffer back */
		e->kind = VFG_DMA_UNMAP;
		e->target = idx;
		e->asked = a.v[2];
		e->granted = a.v[4];
		e->nstack = entry_stack(ctx, e->stack);
		if (bpf_ringbuf_output(&dma_events, e, sizeof(*e), 0))
			cnt->dropped++;
		bpf_map_delete_elem(&dma_bounce, &tgid);
	}
	return 0;
}

/* The return of address_space_map: send the map if it is device memory's or failed. */
SEC("uretprobe")
int dma_ret(struct pt_regs *ctx)
{
	__u32 idx = (__u32)bpf_get_attach_cookie(ctx);
	struct vfg_copy_target *t = bpf_map_lookup_elem(&copy_targets, &idx);
	struct vfg_copy_counts *cnt = bpf_map_lookup_elem(&copy_counts, &idx);
	__u64 id = bpf_get_current_pid_tgid(), ptr = PT_REGS_RC(ctx);
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct vfg_dma_event *e;

	/* Another process's return (see vfg_copy_target.tgid). */
	if (!t || !cnt || ((t->flags & VFG_TARGET_ONE_PROCESS) && t->tgid != tgid))
		return 0;
	cnt->hits++;
	e = bpf_map_lookup_elem(&dma_inflight, &tid);
	if (!e)
		return 0;
	e->ptr = ptr;
	bpf_probe_read_user(&e->granted, sizeof(e->granted), (void *)e->plen);
	if (!ptr) {
		e->flags |= VFG_DMA_FAILED;
	} else if (e->flags & VFG_DMA_DEVICE) {
		if (ptr >= e->vma.start && ptr < e->vma.end) {
			e->dev_addr = ptr;
			e->flags |= VFG_DMA_OFFSET_KNOWN;
		} else {
			e->flags |= VFG_DMA_BOUNCED;
		}
	}
	if (e->flags & (VFG_DMA_DEVICE | VFG_DMA_FAILED)) {
		cnt->device++;
		if (bpf_ringbuf_output(&dma_events, e, sizeof(*e), 0))
			cnt->dropped++;
		if (e->flags & VFG_DMA_BOUNCED)
			bpf_map_update_elem(&dma_bounce, &tgid, e, BPF_ANY);
	}
	bpf_map_delete_elem(&dma_inflight, &tid);
	return 0;
}
