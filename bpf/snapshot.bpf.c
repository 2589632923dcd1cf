// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot of every VFIO device mapping of every process: an iter/task_vma program that writes
 * one struct vma_record per VMA whose file is a VFIO device file. Read by loader/snapshot.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vfioguard.h"

/*
 * Address of vfio_device_fops (drivers/vfio/vfio_main.c), from /proc/kallsyms. It is the f_op
 * of the anon-inode device fd ("[vfio-device]") and of the cdev /dev/vfio/devices/vfioN of newer
 * kernels, for every VFIO driver. Comparing f_op identifies the file without trusting names.
 */
const volatile __u64 vfio_device_fops_addr = 0;

/* drivers/vfio/vfio.h and include/linux/vfio.h; these types live in the vfio module's BTF. */
struct vfio_device___vfg {
	struct device *dev;
} __attribute__((preserve_access_index));

/* Since 6.5 the device fd's private_data is a vfio_device_file that points at the device. */
struct vfio_device_file___vfg {
	struct vfio_device___vfg *device;
} __attribute__((preserve_access_index));

static __always_inline int read_device_name(struct file *file, char *buf)
{
	struct vfio_device___vfg *vdev = NULL;
	struct device *dev;
	const char *name;
	void *priv;

	if (!bpf_core_type_exists(struct vfio_device___vfg))
		return -1;
	priv = BPF_CORE_READ(file, private_data);
	if (bpf_core_type_exists(struct vfio_device_file___vfg)) {
		struct vfio_device_file___vfg *df = priv;

		vdev = BPF_CORE_READ(df, device);
	} else {
		vdev = priv;
	}
	if (!vdev)
		return -1;
	dev = BPF_CORE_READ(vdev, dev);
	if (!dev)
		return -1;
	name = BPF_CORE_READ(dev, init_name);
	if (!name)
		name = BPF_CORE_READ(dev, kobj.name);
	if (!name)
		return -1;
	return bpf_probe_read_kernel_str(buf, VFG_DEVICE_LEN, name) > 0 ? 0 : -1;
}

SEC("iter/task_vma")
int snapshot_vfio_vmas(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct task_struct *task = ctx->task;
	struct vma_record rec = {};
	struct file *file;

	if (!task || !vma || !vfio_device_fops_addr)
		return 0;
	file = vma->vm_file;
	if (!file || (__u64)BPF_CORE_READ(file, f_op) != vfio_device_fops_addr)
		return 0;

	rec.tgid = task->tgid;
	rec.pid = task->pid;
	rec.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	rec.start = vma->vm_start;
	rec.end = vma->vm_end;
	rec.pgoff = vma->vm_pgoff;
	rec.pgprot = BPF_CORE_READ(vma, vm_page_prot.pgprot);
	rec.vm_flags = BPF_CORE_READ(vma, vm_flags);
	bpf_probe_read_kernel_str(rec.comm, sizeof(rec.comm), task->comm);
	if (read_device_name(file, rec.device))
		rec.flags |= VFG_VMA_DEVICE_UNKNOWN;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
