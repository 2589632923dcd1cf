/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of every record (struct vfg_task, struct vfg_vma), for every BPF program that
 * sends one. Include after vmlinux.h, the libbpf headers and vfioguard.h.
 */
#ifndef VFIOGUARD_RECORD_BPF_H
#define VFIOGUARD_RECORD_BPF_H

/* The process's start in clock ticks, as /proc/PID/stat says (see struct vfg_task). */
static __always_inline __u64 task_start_time(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime) / VFG_NSEC_PER_TICK;
}

/* The current task. */
static __always_inline void task_current(struct vfg_task *t)
{
	__u64 id = bpf_get_current_pid_tgid();

	t->tgid = id >> 32;
	t->pid = (__u32)id;
	t->start_time = task_start_time((struct task_struct *)bpf_get_current_task());
	t->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

/* Another task (an iterator's). */
static __always_inline void task_of(struct vfg_task *t, struct task_struct *task)
{
	t->tgid = BPF_CORE_READ(task, tgid);
	t->pid = BPF_CORE_READ(task, pid);
	t->start_time = task_start_time(task);
	t->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	bpf_probe_read_kernel_str(t->comm, sizeof(t->comm), task->comm);
}

#if defined(__TARGET_ARCH_x86)
/* The direct map's base (KASLR moves it): a page table's physical address plus this is where
 * the kernel reads it. Typeless: its address from kallsyms. */
extern const void page_offset_base __ksym __weak;
/* AMD memory encryption's C-bit, set in page table entries on SME hosts (not an address bit). */
extern const void sme_me_mask __ksym __weak;

#define X86_PRESENT 0x1ULL
#define X86_PSE 0x80ULL		       /* a PUD or PMD entry that maps a huge page */
#define X86_PAT_HUGE 0x1000ULL	       /* the PAT bit of such an entry */
#define X86_PFN_MASK 0x000ffffffffff000ULL /* physical address bits 12..51 */

/*
 * The cache bits (PWT, PCD, PAT as a 4 KiB PTE places them) of the page table entry that maps
 * addr, or -1 when none is present or the tables cannot be read (no page_offset_base in
 * kallsyms: the caller keeps vm_page_prot). x86 PAT can install another memory type than vm_page_prot
 * asks for: remap_pfn_range() and vmf_insert_pfn() take the type the kernel's memtype tracking
 * grants (a write-back request on a range whose MTRR says uncached becomes UC-), and only the
 * page tables say so. Four-level or five-level paging, by where the direct map starts.
 */
static __always_inline __s64 x86_pte_cache_bits(struct vm_area_struct *vma, __u64 addr)
{
	__u64 base = 0, cbit = 0, table, e = 0;
	int levels;

	if (!&page_offset_base ||
	    bpf_probe_read_kernel(&base, sizeof(base), &page_offset_base) || !base)
		return -1;
	if (&sme_me_mask && bpf_probe_read_kernel(&cbit, sizeof(cbit), &sme_me_mask))
		return -1;
	table = (__u64)BPF_CORE_READ(vma, vm_mm, pgd);
	if (!table)
		return -1;
	levels = base < 0xffff800000000000ULL ? 5 : 4;
#pragma unroll
	for (int l = 5; l >= 1; l--) {
		int shift = 12 + 9 * (l - 1);

		if (l > levels)
			continue;
		if (bpf_probe_read_kernel(&e, sizeof(e), (void *)(table + ((addr >> shift) & 511) * 8)))
			return -1;
		if (!(e & X86_PRESENT))
			return -1;
		if (l == 1)
			return e & VFG_X86_CACHE_BITS;
		if ((l == 2 || l == 3) && (e & X86_PSE))
			return (e & (VFG_X86_CACHE_BITS & ~X86_PSE)) | (e & X86_PAT_HUGE ? X86_PSE : 0);
		table = (e & X86_PFN_MASK & ~cbit) + base;
	}
	return -1;
}
#endif

/*
 * What the pages of a VMA carry: vm_page_prot, with the cache bits of the page table entry of
 * its first page where one is present and they can differ (x86; VFG_VMA_FROM_PTE in *flags).
 */
static __always_inline __u64 vma_pgprot(struct vm_area_struct *vma, __u64 vm_page_prot,
					__u64 vm_flags, __u32 *flags)
{
#if defined(__TARGET_ARCH_x86)
	if (vm_flags & VFG_VM_PFNMAP) {
		__s64 bits = x86_pte_cache_bits(vma, BPF_CORE_READ(vma, vm_start));

		if (bits >= 0) {
			*flags |= VFG_VMA_FROM_PTE;
			return (vm_page_prot & ~VFG_X86_CACHE_BITS) | bits;
		}
	}
#endif
	return vm_page_prot;
}

/* A VMA's part. */
static __always_inline void vma_read(struct vfg_vma *v, struct vm_area_struct *vma)
{
	v->mm = (__u64)BPF_CORE_READ(vma, vm_mm);
	v->start = BPF_CORE_READ(vma, vm_start);
	v->end = BPF_CORE_READ(vma, vm_end);
	v->pgoff = BPF_CORE_READ(vma, vm_pgoff);
	v->vm_page_prot = BPF_CORE_READ(vma, vm_page_prot.pgprot);
	v->vm_flags = BPF_CORE_READ(vma, vm_flags);
	v->flags = BPF_CORE_READ(vma, vm_private_data) ? 0 : VFG_VMA_DRIVER_MAPPED;
	v->pgprot = vma_pgprot(vma, v->vm_page_prot, v->vm_flags, &v->flags);
}

#endif /* VFIOGUARD_RECORD_BPF_H */
