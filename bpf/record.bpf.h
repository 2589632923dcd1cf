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

/* A VMA's part. */
static __always_inline void vma_read(struct vfg_vma *v, struct vm_area_struct *vma)
{
	v->mm = (__u64)BPF_CORE_READ(vma, vm_mm);
	v->start = BPF_CORE_READ(vma, vm_start);
	v->end = BPF_CORE_READ(vma, vm_end);
	v->pgoff = BPF_CORE_READ(vma, vm_pgoff);
	v->pgprot = BPF_CORE_READ(vma, vm_page_prot.pgprot);
	v->vm_flags = BPF_CORE_READ(vma, vm_flags);
}

#endif /* VFIOGUARD_RECORD_BPF_H */
