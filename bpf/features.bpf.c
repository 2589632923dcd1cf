// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal programs of each kind vfioguard relies on. loader/probes/features.c loads and attaches them
 * one at a time to learn what the running kernel really allows; none of them does any work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("iter/task_vma")
int probe_iter(struct bpf_iter__task_vma *ctx)
{
	return 0;
}

/* vfs_read exists on every kernel and is never inlined (it is exported). */
SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("fexit/vfs_read")
int BPF_PROG(probe_fexit)
{
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(probe_kprobe)
{
	return 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(probe_lsm, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	return ret;
}

SEC("uprobe")
int BPF_KPROBE(probe_uprobe)
{
	return 0;
}

static long vma_seen(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	return 0;
}

/* What monitor --copies needs: a uprobe that asks which VMA holds an address (5.17+). */
SEC("uprobe")
int BPF_KPROBE(probe_find_vma)
{
	bpf_find_vma(bpf_get_current_task_btf(), 0, vma_seen, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
