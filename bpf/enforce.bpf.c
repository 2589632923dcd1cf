// SPDX-License-Identifier: GPL-2.0
/*
 * Policy enforcement: lsm/mmap_file refuses (-EPERM) an mmap of a VFIO device region whose
 * verdict for the calling process is "trap" in enforce mode, and records every decision about a
 * VFIO device file. Other files are never touched.
 *
 * The LSM hook does not see the mmap offset, which says the region: vm_mmap_pgoff(), the one
 * path of mmap(2) into do_mmap(), is probed at entry for it, and the hook consumes what it saved
 * for that file. remap_file_pages(2) reaches do_mmap() with an offset of the caller's choosing
 * without vm_mmap_pgoff(), through the hook on some kernels and past it on others: it is judged
 * by the offset it asks for (below). A VFIO mmap that reaches the hook by any other path, with
 * no fresh offset, is judged by the strictest verdict of its device (compiled by user space
 * under the device's VFG_REGION_ANY key).
 *
 * After the driver's mmap handler the page protection it chose is recorded per region, so that
 * user space can compare the real cache mode with the one the verdict assumed.
 *
 * Everything is pinned by loader/probes/enforce.c: enforcement outlives the CLI.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"
#include "vfioguard.h"
#include "vfio_device.bpf.h"
#include "record.bpf.h"

#define EPERM 1
/* include/linux/err.h: the verifier of 6.x kernels wants an LSM program's R0 in [-MAX_ERRNO, 0]. */
#define MAX_ERRNO 4095
#define CGROUP_MAX_DEPTH 16

/* The compiled policy: a hash of verdicts, swapped whole by user space (atomic apply). */
struct verdicts {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(struct vfg_region_key));
	__uint(value_size, sizeof(struct vfg_verdict));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct verdicts);
} policy SEC(".maps");

/* [0]: generation of the policy in force (written after the swap, for decisions). */
VFG_MAP(generation, ARRAY, __u32, __u64, 1);

/*
 * [0]: checksum of the BPF object the pinned programs were loaded from, written by user space
 * before pinning. Not read here: another vfioguard build compares it with its own object to
 * decide whether it may swap verdicts into this state or must take the state over.
 */
VFG_MAP(build, ARRAY, __u32, __u32, 1);

VFG_RINGBUF(decisions, 256 * 1024);

/*
 * enum vfg_enforce_counter. With nobody reading the decisions ring buffer (serve does not: it
 * has one consumer), decisions are counted (here and in rule_counts) but not written, so a ring
 * nobody drains neither fills nor counts drops.
 */
VFG_MAP(counters, ARRAY, __u32, __u64, VFG_COUNTERS);

VFG_MAP(rule_counts, LRU_HASH, struct vfg_rule_count_key, __u64, 4096);

/*
 * The running kernel's page shift (12 for 4 KiB pages, 14 for 16 KiB, 16 for 64 KiB), set by
 * user space before loading: mmap offsets reach the kernel in pages.
 */
const volatile __u32 page_shift = 12;

/* The offset of the mmap a thread is making, and of which file, until the hook consumes it. */
struct pending_mmap {
	__u64 file;
	__u64 pgoff;
};

VFG_MAP(pending_pgoff, LRU_HASH, __u64, struct pending_mmap, 4096);

/* A remap_file_pages(2) of a VFIO file in progress, per thread (see remap_entry()). */
struct pending_remap {
	__u64 file;
	__u64 pgoff;
	char device[VFG_DEVICE_LEN];
};

VFG_MAP(pending_remaps, LRU_HASH, __u64, struct pending_remap, 4096);

VFG_MAP(observed, HASH, struct vfg_region_key, struct vfg_observed, 4096);

/* The assumption per thread between the LSM hook and the end of the driver's mmap. */
struct pending_assumption {
	struct vfg_region_key key;
	__u32 assumed_cache;
};

VFG_MAP(pending_assumed, LRU_HASH, __u64, struct pending_assumption, 4096);

static __always_inline void count(__u32 i)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &i);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline void save_offset(struct file *file, __u64 pgoff)
{
	struct pending_mmap pm = { .file = (__u64)file, .pgoff = pgoff };
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_update_elem(&pending_pgoff, &id, &pm, BPF_ANY);
}

/* The region of an mmap offset in pages (VFIO_PCI_OFFSET_SHIFT is in bytes). */
static __always_inline __u32 region_of_pgoff(__u64 pgoff)
{
	return pgoff >> (VFG_VFIO_PCI_OFFSET_SHIFT - page_shift);
}

static __always_inline int mmap_offset(struct file *file, __u64 pgoff)
{
	if (is_vfio_device_file(file))
		save_offset(file, pgoff);
	return 0;
}

SEC("fentry/vm_mmap_pgoff")
int BPF_PROG(fentry_vm_mmap_pgoff, struct file *file, unsigned long addr, unsigned long len,
	     unsigned long prot, unsigned long flag, unsigned long pgoff)
{
	return mmap_offset(file, pgoff);
}

/*
 * No kprobe fallback here: BPF-LSM needs the same BPF trampolines as fentry, so a kernel that
 * runs the LSM program runs this one.
 */

/*
 * -EPERM or 0 as a constant the verifier can bound. Written plainly ("deny ? -EPERM : 0"),
 * clang computes the value as the negation of deny, which the verifier of 6.12 sees as an
 * unknown scalar and refuses ("R0 has unknown scalar value"); the barrier keeps the constant.
 */
static __always_inline int lsm_verdict(bool deny)
{
	int rc = -EPERM;

	if (!deny)
		return 0;
	barrier_var(rc);
	return rc;
}

static __always_inline bool comm_matches(const struct vfg_cond *c, const char *comm)
{
	for (int i = 0; i < VFG_COMM_LEN; i++) {
		if (i >= c->comm_len)
			return (c->flags & VFG_COND_COMM_PREFIX) || !comm[i];
		if (comm[i] != c->comm[i])
			return false;
	}
	return true;
}

static __always_inline bool cgroup_matches(const struct vfg_cond *c, struct task_struct *task)
{
	struct cgroup *cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);

	if (!(c->flags & VFG_COND_CGROUP_BELOW))
		return BPF_CORE_READ(cg, kn, id) == c->cgroup_id;
	for (int i = 0; i < CGROUP_MAX_DEPTH; i++) {
		struct cgroup_subsys_state *parent = BPF_CORE_READ(cg, self.parent);

		if (!parent)
			return false;
		cg = container_of(parent, struct cgroup, self);
		if (BPF_CORE_READ(cg, kn, id) == c->cgroup_id)
			return true;
	}
	return false;
}

static __always_inline bool cond_holds(const struct vfg_cond *c, const char *comm,
				       struct task_struct *task)
{
	if ((c->flags & VFG_COND_COMM) && !comm_matches(c, comm))
		return false;
	if (c->flags & VFG_COND_EXE) {
		struct file *exe = BPF_CORE_READ(task, mm, exe_file);

		if (!exe || BPF_CORE_READ(exe, f_inode, i_ino) != c->exe_ino ||
		    BPF_CORE_READ(exe, f_inode, i_sb, s_dev) != c->exe_dev)
			return false;
	}
	if ((c->flags & VFG_COND_CGROUP) && !cgroup_matches(c, task))
		return false;
	return true;
}

/*
 * The condition of the verdict for key that holds for the current task, or NULL when no policy
 * is in force or nothing decides. Where the policy has no verdict for the key: a region of a
 * device that was not compiled has the device's verdict for its other regions, and a device
 * that was not known at the apply the verdict for any device.
 */
static __always_inline const struct vfg_cond *
verdict_cond(const struct vfg_region_key *key, struct task_struct *task, const char *comm,
	     __u32 *assumed_cache)
{
	struct vfg_region_key other = *key, any = { .region = VFG_REGION_ANY };
	struct vfg_verdict *v;
	__u32 zero = 0;
	void *verdicts;

	verdicts = bpf_map_lookup_elem(&policy, &zero);
	if (!verdicts)
		return NULL; /* no policy in force */
	v = bpf_map_lookup_elem(verdicts, key);
	if (!v && key->region != VFG_REGION_ANY) {
		other.region = VFG_REGION_OTHER;
		v = bpf_map_lookup_elem(verdicts, &other);
	}
	if (!v)
		v = bpf_map_lookup_elem(verdicts, &any);
	if (!v)
		return NULL;
	*assumed_cache = v->assumed_cache;
	for (int i = 0; i < VFG_MAX_CONDS; i++) {
		if (i >= v->n)
			break;
		if (cond_holds(&v->conds[i], comm, task))
			return &v->conds[i];
	}
	return NULL;
}

/* Counts one decision and sends it to user space. */
static __always_inline void record(const struct vfg_region_key *key, const struct vfg_cond *c,
				   bool deny, __u64 pgoff)
{
	__u64 *gen, *reader;
	__u32 zero = 0, reader_key = VFG_COUNTER_READER;
	struct vfg_decision *d;

	count(deny ? VFG_COUNTER_DENIED : VFG_COUNTER_ALLOWED);
	gen = bpf_map_lookup_elem(&generation, &zero);
	{
		struct vfg_rule_count_key rk = { .generation = gen ? *gen : 0, .rule = c->rule,
						 .denied = deny };
		__u64 one = 1, *n = bpf_map_lookup_elem(&rule_counts, &rk);

		if (n)
			__sync_fetch_and_add(n, 1);
		else if (bpf_map_update_elem(&rule_counts, &rk, &one, BPF_NOEXIST))
			/* another CPU made it first */
			if ((n = bpf_map_lookup_elem(&rule_counts, &rk)))
				__sync_fetch_and_add(n, 1);
	}
	reader = bpf_map_lookup_elem(&counters, &reader_key);
	if (!reader || !*reader)
		return;
	d = bpf_ringbuf_reserve(&decisions, sizeof(*d), 0);
	if (!d) {
		count(VFG_COUNTER_DROPPED);
		return;
	}
	d->ts = bpf_ktime_get_ns();
	task_current(&d->task);
	d->region = key->region;
	d->rule = c->rule;
	d->access = c->access;
	d->denied = deny;
	d->pgoff = pgoff;
	d->generation = gen ? *gen : 0;
	__builtin_memcpy(d->device, key->device, sizeof(d->device));
	bpf_ringbuf_submit(d, 0);
}

SEC("lsm/mmap_file")
int BPF_PROG(enforce_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pending_assumption pa = {};
	__u64 id = bpf_get_current_pid_tgid(), pgoff = 0;
	struct vfg_region_key key = { .region = VFG_REGION_ANY };
	struct pending_mmap *pm;
	const struct vfg_cond *c;
	char comm[VFG_COMM_LEN] = {};
	__u32 assumed = 0;
	bool deny;

	/*
	 * An earlier program on this hook decided already: keep its answer. Newer verifiers bound
	 * the return value, so an errno outside [-MAX_ERRNO, -1] becomes -EPERM.
	 */
	/* What an earlier mmap of this thread left is never this one's. */
	bpf_map_delete_elem(&pending_assumed, &id);
	if (ret) {
		bpf_map_delete_elem(&pending_pgoff, &id);
		return ret >= -MAX_ERRNO && ret < 0 ? ret : lsm_verdict(true);
	}
	if (!is_vfio_device_file(file))
		return 0;
	/*
	 * The offset saved for this very file by this thread, consumed: a saved offset never
	 * judges a later mmap. Without one the region is unknown (VFG_REGION_ANY under the
	 * device's name: the strictest verdict of the device).
	 */
	pm = bpf_map_lookup_elem(&pending_pgoff, &id);
	if (pm) {
		if (pm->file == (__u64)file) {
			pgoff = pm->pgoff;
			key.region = region_of_pgoff(pgoff);
		}
		bpf_map_delete_elem(&pending_pgoff, &id);
	}
	/* A remap_file_pages(2) judged here is not judged again at mmap_addr. */
	bpf_map_delete_elem(&pending_remaps, &id);
	read_device_name(file, key.device);
	bpf_get_current_comm(comm, sizeof(comm));
	c = verdict_cond(&key, task, comm, &assumed);
	if (!c)
		return 0;
	deny = c->access == VFG_ACCESS_TRAP && c->enforce;
	if (!deny && key.region != VFG_REGION_ANY) {
		pa.key = key;
		pa.assumed_cache = assumed;
		bpf_map_update_elem(&pending_assumed, &id, &pa, BPF_ANY);
	}
	record(&key, c, deny, pgoff);
	return lsm_verdict(deny);
}

/*
 * remap_file_pages(start, size, prot, pgoff, flags) maps pgoff of the file already mapped at
 * start through do_mmap(), without vm_mmap_pgoff(). Kernels with the fix (6.12, patched stable
 * ones) call the mmap_file hook first, others do not; neither can be refused at the system call
 * (Debian's kernels have no CONFIG_FUNCTION_ERROR_INJECTION, which fmod_ret on it needs).
 * - The call's entry (every entry: the 64-bit one, and on x86 the 32-bit one) marks the thread
 *   as remapping and saves, for the mmap_file hook, the offset of the file mapped at start.
 * - The mmap_file hook, where the kernel calls it, judges the remap by that offset (or, if the
 *   file it is given is another, by the device's strictest verdict) and ends the mark.
 * - Where it does not, do_mmap() reaches get_unmapped_area() with the file and offset really
 *   mapped (under the mmap lock the remap holds): probed, they replace what the entry saw (a
 *   lookup that could not take the lock, another thread's mapping put there since); then the
 *   mmap_addr hook, which get_unmapped_area() calls, judges them.
 * - The call's exit forgets both, so an early error leaves nothing to judge a later mmap by.
 */
static long remap_vma(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct pending_remap *r = ctx;
	struct file *file = BPF_CORE_READ(vma, vm_file);

	if (!is_vfio_device_file(file))
		return 0;
	r->file = (__u64)file;
	read_device_name(file, r->device);
	return 0;
}

static __always_inline int remap_entry(__u64 start, __u64 pgoff)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_remap r = {};
	__u32 zero = 0;

	bpf_map_delete_elem(&pending_pgoff, &id);
	if (!bpf_map_lookup_elem(&policy, &zero))
		return 0; /* no policy in force */
	r.pgoff = pgoff;
	/* The callback of bpf_find_vma() runs under the mmap lock; -EBUSY when it is taken. */
	if (!bpf_find_vma(task, start, remap_vma, &r, 0) && r.file)
		save_offset((struct file *)r.file, r.pgoff);
	bpf_map_update_elem(&pending_remaps, &id, &r, BPF_ANY);
	return 0;
}

static __always_inline int remap_exit(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&pending_remaps, &id);
	bpf_map_delete_elem(&pending_pgoff, &id);
	return 0;
}

/* remap_file_pages(start, size, prot, pgoff, flags): the arguments by each entry's ABI. */
#define REMAP_PROGRAMS(abi, fn, start, pgoff)                                                     \
	SEC("fentry/" #fn)                                                                        \
	int BPF_PROG(fentry_remap_##abi, const struct pt_regs *regs)                              \
	{                                                                                         \
		return remap_entry(start, pgoff);                                                 \
	}                                                                                         \
	SEC("fexit/" #fn)                                                                         \
	int BPF_PROG(fexit_remap_##abi, const struct pt_regs *regs, long ret)                     \
	{                                                                                         \
		return remap_exit();                                                              \
	}
#if defined(__TARGET_ARCH_x86)
REMAP_PROGRAMS(native, __x64_sys_remap_file_pages, PT_REGS_PARM1_CORE_SYSCALL(regs),
	       PT_REGS_PARM4_CORE_SYSCALL(regs))
/*
 * int $0x80 from any process (IA32 emulation): the same call through another entry, its
 * arguments in ebx, ecx, edx, esi, edi.
 */
REMAP_PROGRAMS(compat, __ia32_sys_remap_file_pages, (__u32)BPF_CORE_READ(regs, bx),
	       (__u32)BPF_CORE_READ(regs, si))
#elif defined(__TARGET_ARCH_arm64)
/* 32-bit tasks enter remap_file_pages through the same function. */
REMAP_PROGRAMS(native, __arm64_sys_remap_file_pages, PT_REGS_PARM1_CORE_SYSCALL(regs),
	       PT_REGS_PARM4_CORE_SYSCALL(regs))
#endif

/* What do_mmap() of a remap in progress really maps. */
static __always_inline int remap_unmapped_area(struct file *file, __u64 pgoff)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_remap *r = bpf_map_lookup_elem(&pending_remaps, &id);

	if (!r)
		return 0;
	if (!is_vfio_device_file(file)) {
		bpf_map_delete_elem(&pending_remaps, &id);
		return 0;
	}
	r->file = (__u64)file;
	r->pgoff = pgoff;
	read_device_name(file, r->device);
	return 0;
}

/* get_unmapped_area() to 6.8, __get_unmapped_area() since: user space loads the one there is. */
SEC("fentry/get_unmapped_area")
int BPF_PROG(fentry_unmapped_area, struct file *file, unsigned long addr, unsigned long len,
	     unsigned long pgoff)
{
	return remap_unmapped_area(file, pgoff);
}

SEC("fentry/__get_unmapped_area")
int BPF_PROG(fentry_unmapped_area_new, struct file *file, unsigned long addr, unsigned long len,
	     unsigned long pgoff)
{
	return remap_unmapped_area(file, pgoff);
}

/* A remap_file_pages(2) that the mmap_file hook did not judge, judged on its way to do_mmap(). */
SEC("lsm/mmap_addr")
int BPF_PROG(enforce_mmap_addr, unsigned long addr, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vfg_region_key key = {};
	__u64 id = bpf_get_current_pid_tgid(), pgoff;
	char comm[VFG_COMM_LEN] = {};
	struct pending_remap *r;
	const struct vfg_cond *c;
	__u32 assumed = 0;
	bool deny, known;

	if (ret)
		return ret >= -MAX_ERRNO && ret < 0 ? ret : lsm_verdict(true);
	r = bpf_map_lookup_elem(&pending_remaps, &id);
	if (!r)
		return 0;
	/* Copied before the entry is deleted: an LRU map gives a deleted slot to others. */
	known = r->file;
	pgoff = r->pgoff;
	__builtin_memcpy(key.device, r->device, sizeof(key.device));
	bpf_map_delete_elem(&pending_remaps, &id);
	bpf_map_delete_elem(&pending_pgoff, &id);
	if (!known)
		return 0; /* not a VFIO file (get_unmapped_area() saw it) */
	key.region = region_of_pgoff(pgoff);
	bpf_get_current_comm(comm, sizeof(comm));
	c = verdict_cond(&key, task, comm, &assumed);
	if (!c)
		return 0;
	deny = c->access == VFG_ACCESS_TRAP && c->enforce;
	record(&key, c, deny, pgoff);
	return lsm_verdict(deny);
}

/* What the driver's mmap handler really chose, for the region the verdict was about. */
SEC("fexit/vfio_device_fops_mmap")
int BPF_PROG(fexit_mmap_observe, struct file *file, struct vm_area_struct *vma, int ret)
{
	__u64 id = bpf_get_current_pid_tgid(), *gen;
	struct pending_assumption *pa = bpf_map_lookup_elem(&pending_assumed, &id);
	struct vfg_observed o = {};
	__u32 zero = 0, flags = 0;

	if (!pa)
		return 0;
	if (!ret) {
		/* What the pages carry: x86 PAT may have granted another type than was asked. */
		gen = bpf_map_lookup_elem(&generation, &zero);
		o.pgprot = vma_pgprot(vma, BPF_CORE_READ(vma, vm_page_prot.pgprot),
				      BPF_CORE_READ(vma, vm_flags), &flags);
		o.ts = bpf_ktime_get_ns();
		o.tgid = id >> 32;
		o.assumed_cache = pa->assumed_cache;
		o.generation = gen ? *gen : 0;
		bpf_map_update_elem(&observed, &pa->key, &o, BPF_ANY);
	}
	bpf_map_delete_elem(&pending_assumed, &id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
