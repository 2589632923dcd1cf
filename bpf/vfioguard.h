/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records and constants shared by the BPF programs in bpf/ and user space in loader/.
 * Only fixed-width types: this header is included both with vmlinux.h and with libc.
 */
#ifndef VFIOGUARD_BPF_H
#define VFIOGUARD_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VFG_COMM_LEN 16
#define VFG_DEVICE_LEN 32

/* include/uapi/linux/vfio.h, drivers/vfio/pci/vfio_pci_priv.h: VFIO_PCI_OFFSET_SHIFT */
#define VFG_VFIO_PCI_OFFSET_SHIFT 40

/* Bits of vm_flags that matter for device mappings (include/linux/mm.h, stable since 2.6). */
#define VFG_VM_READ 0x00000001ULL
#define VFG_VM_WRITE 0x00000002ULL
#define VFG_VM_EXEC 0x00000004ULL
#define VFG_VM_SHARED 0x00000008ULL
#define VFG_VM_IO 0x00004000ULL
#define VFG_VM_DONTCOPY 0x00020000ULL
#define VFG_VM_DONTEXPAND 0x00040000ULL
#define VFG_VM_PFNMAP 0x00000400ULL

/* struct vma_record.flags */
#define VFG_VMA_DEVICE_UNKNOWN 0x1 /* the file's vfio_device could not be read */

/* One VMA that maps a VFIO device file, as the snapshot iterator saw it. */
struct vma_record {
	__u32 tgid;
	__u32 pid;
	__u64 cgroup_id;
	__u64 start;
	__u64 end;
	__u64 pgoff;    /* vma->vm_pgoff as the kernel holds it (a PFN on older vfio-pci) */
	__u64 pgprot;   /* vma->vm_page_prot, raw */
	__u64 vm_flags; /* vma->vm_flags, raw */
	__u32 flags;
	__u32 pad;
	__u64 mm; /* the address space, as in struct vfg_event */
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
};

/* struct vfg_event.type */
enum vfg_event_type {
	VFG_EV_MMAP = 1, /* vfio_device_fops_mmap returned (ret: 0 or -errno) */
	VFG_EV_FAULT,    /* vfio-pci's fault handler returned (ret: vm_fault_t) */
	VFG_EV_RW,       /* a read or write through the device fd returned (ret: bytes or -errno) */
	VFG_EV_UNMAP,    /* a VMA of a VFIO device file was freed (munmap, exit, failed mmap) */
};

/* struct vfg_event.flags */
#define VFG_EV_DEVICE_UNKNOWN 0x1 /* as VFG_VMA_DEVICE_UNKNOWN */
#define VFG_EV_WRITE 0x2          /* VFG_EV_RW: a write; VFG_EV_FAULT: a write fault */

/* One event from bpf/monitor.bpf.c, through the ring buffer. Unused fields are zero. */
struct vfg_event {
	__u32 type;
	__u32 tgid;
	__u32 pid;
	__u32 flags;
	__u64 ts;        /* CLOCK_MONOTONIC ns at exit */
	__u64 cgroup_id;
	__u64 start;     /* MMAP, FAULT, UNMAP: the VMA */
	__u64 end;
	__u64 pgoff;     /* MMAP: vm_pgoff at entry (the mmap offset); FAULT, UNMAP: vm_pgoff now */
	__u64 pgprot;    /* MMAP, FAULT, UNMAP: vm_page_prot */
	__u64 vm_flags;
	__u64 addr;      /* FAULT: the faulting address */
	__u64 pos;       /* RW: the file position at entry (region index and offset) */
	__u64 count;     /* RW: bytes asked for */
	__s64 ret;
	__u64 latency_ns; /* entry to exit */
	__u32 order;      /* FAULT: 0 PTE, 9 PMD, 18 PUD (x86 4K pages) */
	__u32 pad;
	__u64 mm;         /* MMAP, FAULT, UNMAP: the address space (kernel pointer as an id) */
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
};

#endif /* VFIOGUARD_BPF_H */
