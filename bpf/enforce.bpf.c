// SPDX-License-Identifier: GPL-2.0
/*
 * Policy enforcement: lsm/mmap_file refuses (-EPERM) an mmap of a VFIO device region whose
 * verdict for the calling process is "trap" in enforce mode, and records every decision about a
 * VFIO device file. Other files are never touched.
 *
 * The LSM hook does not see the mmap offset, which says the region: vm_mmap_pgoff(), the one
 * path of mmap(2) into do_mmap(), is probed at entry for it. After the driver's mmap handler the
 * page protection it chose is recorded per region, so that user space can compare the real
 * cache mode with the one the verdict assumed.
 *
 * Everything is pinned by loader/enforce.c: enforcement outlives the CLI.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vfioguard.h"
#include "vfio_device.bpf.h"

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
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} generation SEC(".maps");

/*
 * [0]: checksum of the BPF object the pinned programs were loaded from, written by user space
 * before pinning. Not read here: another vfioguard build compares it with its own object to
 * decide whether it may swap verdicts into this state or must take the state over.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} build SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} decisions SEC(".maps");

/* [0] decisions dropped (ring buffer full), [1] allowed, [2] denied. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vfg_rule_count_key);
	__type(value, __u64);
} rule_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} pending_pgoff SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vfg_region_key);
	__type(value, struct vfg_observed);
} observed SEC(".maps");

/* The assumption per thread between the LSM hook and the end of the driver's mmap. */
struct pending_assumption {
	struct vfg_region_key key;
	__u32 assumed_cache;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct pending_assumption);
} pending_assumed SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &i);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline int mmap_offset(struct file *file, __u64 pgoff)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (is_vfio_device_file(file))
		bpf_map_update_elem(&pending_pgoff, &id, &pgoff, BPF_ANY);
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

SEC("lsm/mmap_file")
int BPF_PROG(enforce_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pending_assumption pa = {};
	__u64 id = bpf_get_current_pid_tgid(), *pgoff, *gen;
	struct vfg_region_key key = {}, any = { .region = VFG_REGION_ANY };
	struct vfg_verdict *v;
	struct vfg_decision *d;
	const struct vfg_cond *c = NULL;
	char comm[VFG_COMM_LEN] = {};
	__u32 zero = 0;
	void *verdicts;
	bool deny;

	/*
	 * An earlier program on this hook decided already: keep its answer. Newer verifiers bound
	 * the return value, so an errno outside [-MAX_ERRNO, -1] becomes -EPERM.
	 */
	if (ret)
		return ret >= -MAX_ERRNO && ret < 0 ? ret : lsm_verdict(true);
	if (!is_vfio_device_file(file))
		return 0;
	pgoff = bpf_map_lookup_elem(&pending_pgoff, &id);
	key.region = pgoff ? *pgoff >> (VFG_VFIO_PCI_OFFSET_SHIFT - 12) : VFG_REGION_ANY;
	read_device_name(file, key.device);
	verdicts = bpf_map_lookup_elem(&policy, &zero);
	if (!verdicts)
		return 0; /* no policy in force */
	v = bpf_map_lookup_elem(verdicts, &key);
	if (!v)
		v = bpf_map_lookup_elem(verdicts, &any);
	if (!v)
		return 0;
	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < VFG_MAX_CONDS; i++) {
		if (i >= v->n)
			break;
		if (cond_holds(&v->conds[i], comm, task)) {
			c = &v->conds[i];
			break;
		}
	}
	if (!c)
		return 0;
	deny = c->access == VFG_ACCESS_TRAP && c->enforce;
	count(deny ? 2 : 1);
	pa.key = key;
	pa.assumed_cache = v->assumed_cache;
	if (!deny)
		bpf_map_update_elem(&pending_assumed, &id, &pa, BPF_ANY);
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
	d = bpf_ringbuf_reserve(&decisions, sizeof(*d), 0);
	if (d) {
		d->ts = bpf_ktime_get_ns();
		d->tgid = id >> 32;
		d->pid = (__u32)id;
		d->region = key.region;
		d->rule = c->rule;
		d->access = c->access;
		d->denied = deny;
		d->pgoff = pgoff ? *pgoff : 0;
		d->generation = gen ? *gen : 0;
		__builtin_memcpy(d->comm, comm, sizeof(d->comm));
		__builtin_memcpy(d->device, key.device, sizeof(d->device));
		bpf_ringbuf_submit(d, 0);
	} else {
		count(0);
	}
	return lsm_verdict(deny);
}

/* What the driver's mmap handler really chose, for the region the verdict was about. */
SEC("fexit/vfio_device_fops_mmap")
int BPF_PROG(fexit_mmap_observe, struct file *file, struct vm_area_struct *vma, int ret)
{
	__u64 id = bpf_get_current_pid_tgid(), *gen;
	struct pending_assumption *pa = bpf_map_lookup_elem(&pending_assumed, &id);
	struct vfg_observed o = {};
	__u32 zero = 0;

	if (!pa)
		return 0;
	if (!ret) {
		gen = bpf_map_lookup_elem(&generation, &zero);
		o.pgprot = BPF_CORE_READ(vma, vm_page_prot.pgprot);
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
