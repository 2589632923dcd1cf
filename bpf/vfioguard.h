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
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
};

#endif /* VFIOGUARD_BPF_H */
