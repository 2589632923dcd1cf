// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot of every VFIO device mapping of every process: an iter/task_vma program that writes
 * one struct vma_record per VMA whose file is a VFIO device file. Read by loader/probes/snapshot.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vfioguard.h"

#include "vfio_device.bpf.h"
#include "record.bpf.h"

SEC("iter/task_vma")
int snapshot_vfio_vmas(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	const struct file_operations *fop;
	struct vma_record rec = {};
	struct module *owner;
	struct file *file;

	if (!task || !vma)
		return 0;
	/*
	 * Most of a host's VMAs are not VFIO's: they are turned away with direct loads through the
	 * iterator's trusted pointers (no helper call per VMA).
	 */
	file = vma->vm_file;
	if (!file)
		return 0;
	fop = file->f_op;
	if (vfio_device_fops_addr) {
		if ((__u64)fop != vfio_device_fops_addr)
			return 0;
	} else {
		owner = fop ? fop->owner : NULL;
		if (!vfio_match_module || !owner || !module_name_is_vfio(owner->name))
			return 0;
	}

	task_of(&rec.task, task);
	vma_read(&rec.vma, vma);
	rec.fops = (__u64)fop;
	if (read_device_name(file, rec.device))
		rec.flags |= VFG_VMA_DEVICE_UNKNOWN;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
