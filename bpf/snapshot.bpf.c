// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot of every VFIO device mapping of every process: an iter/task_vma program that writes
 * one struct vma_record per VMA whose file is a VFIO device file. Read by loader/snapshot.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vfioguard.h"

#include "vfio_device.bpf.h"

SEC("iter/task_vma")
int snapshot_vfio_vmas(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct vma_record rec = {};
	struct file *file;

	if (!task || !vma)
		return 0;
	file = vma->vm_file;
	if (!file)
		return 0;
	if (vfio_device_fops_addr ? (__u64)BPF_CORE_READ(file, f_op) != vfio_device_fops_addr
				  : !vfio_match_module || !fops_owned_by_vfio(file))
		return 0;

	rec.tgid = task->tgid;
	rec.pid = task->pid;
	rec.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	rec.start = vma->vm_start;
	rec.end = vma->vm_end;
	rec.pgoff = vma->vm_pgoff;
	rec.pgprot = BPF_CORE_READ(vma, vm_page_prot.pgprot);
	rec.vm_flags = BPF_CORE_READ(vma, vm_flags);
	rec.mm = (__u64)BPF_CORE_READ(vma, vm_mm);
	rec.fops = (__u64)BPF_CORE_READ(file, f_op);
	bpf_probe_read_kernel_str(rec.comm, sizeof(rec.comm), task->comm);
	if (read_device_name(file, rec.device))
		rec.flags |= VFG_VMA_DEVICE_UNKNOWN;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
