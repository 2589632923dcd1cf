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
/*
 * VM_ALLOW_ANY_UNCACHED (6.9+, bit 39; no flag used that bit before): KVM may give a guest this
 * memory as Normal-NC at stage 2 on arm64. vfio-pci sets it on every BAR mapping (measured on
 * 6.12, x86_64 and arm64; absent on 6.1).
 */
#define VFG_VM_ALLOW_ANY_UNCACHED (1ULL << 39)

/* USER_HZ, the unit of /proc's clock ticks: 100 on x86_64 and arm64. */
#define VFG_NSEC_PER_TICK 10000000ULL

/*
 * Who: the task part of every record (bpf/record.bpf.h fills it). start_time is the process's
 * start, its thread group leader's start_boottime in clock ticks, as /proc/PID/stat's field 22
 * gives it to a reader in the initial time namespace: with tgid, it tells the process a record
 * is about from a later one that got its PID.
 */
struct vfg_task {
	__u32 tgid;
	__u32 pid; /* the thread */
	__u64 start_time;
	__u64 cgroup_id;
	char comm[VFG_COMM_LEN];
};

/*
 * A mapping: the VMA part of every record about one (bpf/record.bpf.h fills it). With mm and
 * start it names the VMA for as long as it lives.
 */
struct vfg_vma {
	__u64 mm; /* the address space (the kernel's pointer, as an id) */
	__u64 start;
	__u64 end;
	__u64 pgoff;	/* vm_pgoff as the kernel holds it (a PFN on older vfio-pci) */
	/*
	 * What the mapping's pages carry: vm_page_prot, raw, with the cache bits of the page
	 * table entry of its first page where one is present and they can differ (x86 PAT,
	 * VFG_VMA_FROM_PTE set).
	 */
	__u64 pgprot;
	__u64 vm_page_prot; /* raw */
	__u64 vm_flags;	    /* raw */
	__u32 flags;	    /* VFG_VMA_* */
	__u32 pad;
};

/* struct vfg_vma.flags */
#define VFG_VMA_FROM_PTE 0x1 /* pgprot's cache bits were read from the page table */
/*
 * The driver's own mmap handler mapped it, not vfio-pci's (which always sets vm_private_data):
 * for a PCI device, vm_pgoff is what that driver left there (nvgrace-gpu 6.8 to 6.12: the PFN
 * of its device memory, in no BAR), so it does not say the region. (mdev drivers such as GVT-g
 * set no vm_private_data either and keep the offset: user space applies this to PCI devices.)
 */
#define VFG_VMA_DRIVER_MAPPED 0x2

/* x86: the PTE bits that choose the memory type with the PAT (PWT, PCD, PAT). */
#define VFG_X86_CACHE_BITS 0x98ULL

/* struct vma_record.flags */
#define VFG_VMA_DEVICE_UNKNOWN 0x1 /* the file's vfio_device could not be read */

/* One VMA that maps a VFIO device file, as the snapshot iterator saw it. */
struct vma_record {
	struct vfg_task task;
	struct vfg_vma vma;
	__u32 flags;
	__u32 pad;
	__u64 fops; /* the file's f_op: vfio_device_fops */
	char device[VFG_DEVICE_LEN];
};

/* struct vfg_event.type */
enum vfg_event_type {
	VFG_EV_MMAP = 1, /* vfio_device_fops_mmap returned (ret: 0 or -errno) */
	VFG_EV_FAULT,    /* vfio-pci's fault handler returned (ret: vm_fault_t) */
	VFG_EV_RW,       /* a read or write through the device fd returned (ret: bytes or -errno) */
	VFG_EV_UNMAP,    /* a VMA of a VFIO device file was freed (munmap, exit, failed mmap) */
	VFG_EV_POLICY,   /* user space only: a decision of the enforcement program */
	VFG_EV_OPEN,     /* a VFIO group or device node was opened (before any mmap) */
};

/* struct vfg_event.flags */
#define VFG_EV_DEVICE_UNKNOWN 0x1 /* as VFG_VMA_DEVICE_UNKNOWN */
#define VFG_EV_WRITE 0x2          /* VFG_EV_RW: a write; VFG_EV_FAULT: a write fault */

/*
 * Faults of one mapping, counted in the kernel (monitor.bpf.c, fault_stats, by address space
 * and start) and handed over with its unmap event. Buckets as the summary shows them.
 */
#define VFG_FAULT_BUCKETS 4 /* order 0 (PTE), 9 (PMD), 18 (PUD), any other */
struct vfg_fault_stat {
	__u64 faults[VFG_FAULT_BUCKETS];
	__u64 errors;    /* VM_FAULT_OOM, SIGBUS or SIGSEGV */
	__u64 fallbacks; /* VM_FAULT_FALLBACK: a huge-page order tried and given up */
};

struct vfg_fault_key {
	__u64 mm;
	__u64 start;
};

/*
 * Reads and writes through a device fd, counted in the kernel per open file, process, region,
 * direction and size; the device and the process's name are read once, when the entry is made.
 */
struct vfg_rw_key {
	__u64 file;       /* the struct file, as an id */
	__u64 region_pos; /* the file position of the region's start (index << 40 on vfio-pci) */
	__u64 size;       /* bytes asked for */
	__u32 tgid;
	__u32 write;
};

struct vfg_rw_stat {
	__u64 calls;
	__u64 bytes;  /* transferred */
	__u64 errors; /* calls that returned an error */
	__u32 device_unknown;
	__u32 pad;
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
};

/* One event from bpf/monitor.bpf.c, through the ring buffer. Unused fields are zero. */
struct vfg_event {
	__u32 type;
	__u32 flags;
	__u64 ts;        /* CLOCK_MONOTONIC ns at exit */
	struct vfg_task task;
	/* MMAP, FAULT, UNMAP: the VMA; its pgoff at MMAP is the one at entry (the mmap offset) */
	struct vfg_vma vma;
	__u64 addr;      /* FAULT: the faulting address */
	__u64 pos;       /* RW: the file position at entry (region index and offset) */
	__u64 count;     /* RW: bytes asked for */
	__s64 ret;
	__u64 latency_ns; /* entry to exit */
	__u32 order;      /* FAULT: 0 PTE, 9 PMD, 18 PUD (x86 4K pages) */
	__u32 pad;
	struct vfg_fault_stat faults; /* UNMAP: the mapping's faults while watched */
	char device[VFG_DEVICE_LEN];
};

/*
 * Enforcement (bpf/enforce.bpf.c). The policy is compiled in user space into one verdict per
 * (device, region): an ordered list of process conditions, the last one unconditional.
 */
#define VFG_MAX_CONDS 8
/*
 * Region of the key of the verdict for devices or regions not compiled (device ""), and of the
 * strictest verdict of one device, for an mmap whose region the kernel side did not see.
 */
#define VFG_REGION_ANY 0xffffffffu
/*
 * The enforcement program's counters (pinned map "counters"): decisions dropped (ring buffer
 * full), allowed, denied, and the PID of the process reading the decisions ring buffer (0:
 * nobody; decisions are written there only while somebody reads).
 */
enum vfg_enforce_counter {
	VFG_COUNTER_DROPPED,
	VFG_COUNTER_ALLOWED,
	VFG_COUNTER_DENIED,
	VFG_COUNTER_READER,
	VFG_COUNTERS,
};
/* Region of the key of a device's verdict for its regions no rule names (device-specific). */
#define VFG_REGION_OTHER 0xfffffffeu
#define VFG_RULE_DEFAULT 0xffff    /* the policy's default decided */

/* struct vfg_cond.flags: which conditions apply; all that apply must hold. */
#define VFG_COND_COMM 0x01          /* comm equals */
#define VFG_COND_COMM_PREFIX 0x02   /* comm starts with (with VFG_COND_COMM) */
#define VFG_COND_EXE 0x04           /* the executable is this inode */
#define VFG_COND_CGROUP 0x08        /* the process is in this cgroup */
#define VFG_COND_CGROUP_BELOW 0x10  /* in a cgroup below it (with VFG_COND_CGROUP) */

/* DESIGN.md, "hazard". Bits of a hazard set (the hazard table's values, a copy event's). */
enum hazard {
	HAZARD_SPLIT = 1 << 0,
	HAZARD_DUP = 1 << 1,
	HAZARD_REORDER = 1 << 2,
	HAZARD_WIDE = 1 << 3,
	HAZARD_UNALIGNED = 1 << 4,
};
#define HAZARD_ALL 0x1f

/* Access classes of a policy (enum access_class of policy/policy.h takes these values). */
enum vfg_access {
	VFG_ACCESS_DIRECT,
	VFG_ACCESS_FIXED,
	VFG_ACCESS_TRAP,
};

struct vfg_cond {
	__u8 flags;
	__u8 comm_len;
	__u8 access; /* enum vfg_access */
	__u8 enforce; /* 1: enforce, 0: audit */
	__u16 rule;   /* rule index, or VFG_RULE_DEFAULT */
	__u16 pad;
	char comm[VFG_COMM_LEN];
	__u64 exe_ino;
	__u64 exe_dev;   /* the kernel's dev_t of the executable's file system (s_dev) */
	__u64 cgroup_id; /* cgroup v2 id (the cgroup directory's inode number) */
};

struct vfg_verdict {
	__u32 n;
	__u32 assumed_cache; /* enum cache_mode the verdict assumed (user space decodes) */
	struct vfg_cond conds[VFG_MAX_CONDS];
};

struct vfg_region_key {
	char device[VFG_DEVICE_LEN];
	__u32 region;
	__u32 pad;
};

/* A (device, region) with its verdict: an entry of the policy map. */
struct vfg_region_verdict {
	struct vfg_region_key key;
	struct vfg_verdict v;
};

/*
 * The enforcement program's decisions counted per generation, rule and outcome (pinned map
 * "rule_counts"): exact whoever reads the decisions ring buffer, which has one consumer.
 */
struct vfg_rule_count_key {
	__u64 generation;
	__u32 rule; /* VFG_RULE_DEFAULT for the policy's default */
	__u32 denied;
};

/* One decision of the enforcement program, in the pinned decisions ring buffer. */
struct vfg_decision {
	__u64 ts;
	struct vfg_task task;
	__u32 region;  /* VFG_REGION_ANY when the mmap offset was not seen */
	__u16 rule;
	__u8 access;
	__u8 denied;   /* 1: the mmap was refused with -EPERM */
	__u64 pgoff;
	__u64 generation; /* of the policy in force */
	char device[VFG_DEVICE_LEN];
};

/* What a mapping really got, per region, for comparing with the verdict's assumption. */
struct vfg_observed {
	__u64 pgprot;
	__u64 ts;
	__u32 tgid;
	__u32 assumed_cache;
	__u64 generation;
};

/*
 * Copies (bpf/copies.bpf.c): uprobes on routines that copy into or out of memory. Each attached
 * probe carries the index of its target as the attach cookie.
 */
#define VFG_MAX_COPY_TARGETS 64
#define VFG_COPY_STACK 16
#define VFG_ARG_NONE 0xff
#define VFG_HAZARD_MAX_LEN 65536 /* longer copies use the table entry of this length */

/* struct vfg_copy_target.kind */
enum vfg_copy_kind {
	VFG_COPY_KIND_COPY = 1, /* copy(dst, src, len): memcpy, memmove and alike */
	VFG_COPY_KIND_SET,      /* set(dst, value, len): memset */
	VFG_COPY_KIND_MR_WRITE, /* QEMU memory_region_dispatch_write(mr, addr, data, op, attrs) */
	VFG_COPY_KIND_MR_READ,  /* QEMU memory_region_dispatch_read(mr, addr, *pval, op, attrs) */
	/* QEMU's DMA maps (struct vfg_dma_event), not copies: */
	VFG_COPY_KIND_DMA_MAP,      /* address_space_map(as, addr, *plen, is_write, attrs), entry */
	VFG_COPY_KIND_DMA_MAP_RET,  /* its return (a uretprobe) */
	VFG_COPY_KIND_DMA_REF,      /* memory_region_ref(mr): the map's region, when inside one */
	VFG_COPY_KIND_DMA_UNMAP,    /* address_space_unmap(as, buffer, len, is_write, access_len) */
};

/* Routine of the hazard table (enum calib_routine of loader/calib/calibrate.h takes these values). */
enum vfg_routine {
	VFG_ROUTINE_MEMCPY,
	VFG_ROUTINE_MEMMOVE,
	VFG_ROUTINE_MEMMOVE_FORWARD,  /* dst below src, overlapping */
	VFG_ROUTINE_MEMMOVE_BACKWARD, /* dst above src, overlapping */
	VFG_ROUTINE_MEMSET,
	VFG_ROUTINE_SINGLE = 0xfe,    /* one access of len bytes (QEMU's RAM-device accessors) */
	VFG_ROUTINE_NONE = 0xff,      /* not calibrated: hazards unknown */
};

/* struct vfg_copy_target.flags */
#define VFG_TARGET_LEN_MEMOP 0x1 /* len_arg is a QEMU MemOp (size 1 << (op & 3)) */
#define VFG_TARGET_ONE_PROCESS 0x2 /* attached for one process only (its span can be cached) */

struct vfg_copy_target {
	__u32 kind;     /* enum vfg_copy_kind */
	__u8 routine;   /* enum vfg_routine of a COPY target (memmove-like overlap handled) */
	/* Argument indexes, 0-based, or VFG_ARG_NONE. */
	__u8 dst_arg;   /* COPY, SET: the destination; MR_*: the MemoryRegion */
	__u8 src_arg;   /* COPY: the source; SET: the value; MR_*: the address in the region */
	__u8 len_arg;   /* the length; MR_*: the size, or a MemOp with VFG_TARGET_LEN_MEMOP */
	__u8 value_arg; /* MR_WRITE: the value written */
	__u8 flags;
	/* COPY: the routine's 4 KiB aliasing window (calibrate --alias); 4096 without one */
	__u16 alias_window;
	/* MR_WRITE, MR_READ: offsetof(MemoryRegion, ram_block), offsetof(RAMBlock, host) */
	__u32 mr_ram_block;
	__u32 ram_block_host;
	/*
	 * With VFG_TARGET_ONE_PROCESS: the process. A return probe runs for every return of the
	 * probed function in every process that has one attached (the kernel filters only entries).
	 */
	__u32 tgid;
};

/* Per target and CPU. */
struct vfg_copy_counts {
	__u64 hits;      /* every call */
	__u64 device;    /* calls that touched a VFIO mapping */
	__u64 busy;      /* calls whose address could not be looked up (mmap lock busy) */
	__u64 dropped;   /* device calls the ring buffer had no room for */
	__u64 spanned;   /* calls of processes whose VFIO spans were known, found outside them */
};

/* The address span [lo, hi) of a process's VFIO mappings (copies.bpf.c). */
struct vfg_span {
	__u64 lo, hi;
};

/* Key of the hazard table that user space fills from calibration. */
struct vfg_hazard_key {
	__u32 len;      /* capped at VFG_HAZARD_MAX_LEN */
	__u8 routine;   /* enum vfg_routine */
	__u8 align;     /* destination address modulo 64 */
	/* memcpy, memmove: (dst - src) mod 4096 inside the target's aliasing window, VFG_PAGE_FAR
	 * outside it (every such placement stores alike), VFG_PAGE_FAR + 1 + (dst - src) mod 64
	 * outside it for a copy out of device memory (its loads follow the source's alignment);
	 * 0 for the other routines (as struct calib_case.page_delta) */
	__u16 page_delta;
	__u32 distance; /* overlapping memmoves: |dst - src| (capped as len); else 0 */
};

#define VFG_HAZARDS_MEASURED 0x80000000u /* value bit: the entry was measured */
/*
 * Value bit: some of the stores were a string instruction's (x86 rep movs, rep stos), measured
 * single-stepped, one element per step, as they run on UC memory. On WB and WC memory the CPU's
 * fast-string operation may store wider and in another order, so the hazards then depend on the
 * destination's mode (cache_mode_string_hazards).
 */
#define VFG_HAZARDS_STRING 0x20u
/* The value: the stores' hazards in bits 0..4 (bit 5: VFG_HAZARDS_STRING), the loads' in bits
 * 8..12 when this bit is set. */
#define VFG_HAZARDS_LOAD_SHIFT 8
#define VFG_HAZARDS_LOADS_MEASURED 0x10000u
#define VFG_PAGE_FAR 4096                /* struct vfg_hazard_key.page_delta */

/* struct vfg_copy_event.flags */
#define VFG_COPY_DST_DEVICE 0x1 /* the destination is in a VFIO mapping */
#define VFG_COPY_SRC_DEVICE 0x2 /* the source is (the mapping fields describe the destination's when both) */
#define VFG_COPY_MEASURED 0x4   /* hazards came from the table */
#define VFG_COPY_CAPPED 0x8     /* longer than VFG_HAZARD_MAX_LEN */
#define VFG_COPY_DEVICE_UNKNOWN 0x10
#define VFG_COPY_STRING 0x20    /* the measured stores include a string instruction's */

struct vfg_copy_event {
	__u64 ts;
	struct vfg_task task;
	__u32 target;   /* index into the targets */
	__u32 flags;
	__u32 hazards;  /* HAZARD_* bits when VFG_COPY_MEASURED */
	__u8 routine;   /* enum vfg_routine this call was classified as */
	__u8 align;
	__u8 pad0;
	__u8 nstack;
	__u64 dst;
	__u64 src;      /* SET: the value */
	__u64 len;
	struct vfg_vma vma; /* the VFIO mapping that holds the device side */
	__u32 distance; /* as in struct vfg_hazard_key */
	__u16 page_delta; /* COPY: (dst - src) mod 4096 */
	__u16 case_delta; /* struct vfg_hazard_key.page_delta of the call */
	char device[VFG_DEVICE_LEN];
	/* [0] the probed address, [1] the return address, then the frame-pointer walk */
	__u64 stack[VFG_COPY_STACK];
};

/*
 * A DMA map of QEMU's memory core (copies.bpf.c): address_space_map() of guest-physical memory
 * that is a VFIO region, or that failed; and the unmap of a bounced one.
 */
enum vfg_dma_kind {
	VFG_DMA_MAP = 1,
	VFG_DMA_UNMAP, /* of a bounced map of device memory: the bounce buffer is free again */
};

/* struct vfg_dma_event.flags */
#define VFG_DMA_DEVICE 0x1         /* the region is a VFIO mapping (the mapping fields are set) */
#define VFG_DMA_BOUNCED 0x2        /* QEMU handed out its bounce buffer, not the region */
#define VFG_DMA_FAILED 0x4         /* NULL: nothing mapped */
#define VFG_DMA_WRITE 0x8          /* is_write: the device model writes guest memory */
#define VFG_DMA_OFFSET_KNOWN 0x10  /* dev_addr holds the first device address touched */
#define VFG_DMA_DEVICE_UNKNOWN 0x20

struct vfg_dma_event {
	__u64 ts;
	struct vfg_task task;
	__u32 kind;     /* enum vfg_dma_kind */
	__u32 flags;
	__u64 gpa;      /* the guest-physical address mapped */
	__u64 asked;    /* MAP: *plen on entry; UNMAP: len */
	__u64 granted;  /* MAP: *plen on return; UNMAP: access_len (bytes the device model used) */
	__u64 ptr;      /* MAP: what address_space_map returned; UNMAP: the buffer */
	__u64 plen;     /* MAP, while in flight: where *plen is */
	__u64 mr;       /* the MemoryRegion (0 when the map failed before taking it) */
	__u64 dev_addr; /* with VFG_DMA_OFFSET_KNOWN: the address in the VFIO mapping */
	struct vfg_vma vma; /* the VFIO mapping of the region (with VFG_DMA_DEVICE) */
	__u32 target;   /* the DMA_MAP target */
	__u32 nstack;
	char device[VFG_DEVICE_LEN];
	/* [0] address_space_map, [1] its caller, then the frame-pointer walk */
	__u64 stack[VFG_COPY_STACK];
};

#endif /* VFIOGUARD_BPF_H */
