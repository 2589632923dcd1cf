/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Cache-mode decoding: pure functions from the raw page-protection bits of a mapping to the
 * memory type the hardware will use. No BPF and no I/O; tested from recorded values.
 */
#ifndef VFIOGUARD_CACHE_MODE_H
#define VFIOGUARD_CACHE_MODE_H

#include <stddef.h>
#include <stdint.h>

enum cache_mode {
	CACHE_UNKNOWN = 0,
	/* x86 PAT memory types */
	CACHE_X86_WB,
	CACHE_X86_WC,
	CACHE_X86_UC_MINUS,
	CACHE_X86_UC,
	CACHE_X86_WT,
	CACHE_X86_WP,
	/* arm64 MAIR attributes as Linux programs them */
	CACHE_ARM64_NORMAL,
	CACHE_ARM64_NORMAL_TAGGED,
	CACHE_ARM64_NORMAL_NC,
	CACHE_ARM64_NORMAL_WT,
	CACHE_ARM64_DEVICE_nGnRnE,
	CACHE_ARM64_DEVICE_nGnRE,
	CACHE_ARM64_DEVICE_GRE,
};

enum host_arch {
	ARCH_UNKNOWN = 0,
	ARCH_X86_64,
	ARCH_ARM64,
};

/*
 * The PAT MSR (IA32_PAT, 0x277) as Linux programs it in pat_bp_init() when PAT is enabled:
 * entries 0..7 = WB, WC, UC-, UC, WB, WP, UC-, WT. Each byte is an x86 memory type encoding.
 */
#define LINUX_PAT_MSR 0x0407050600070106ULL

/* Which MAIR index layout the kernel uses (arch/arm64/include/asm/memory.h, MT_*). */
enum arm64_mair_layout {
	MAIR_LAYOUT_CURRENT, /* 5.10+: Normal 0, Tagged 1, NC 2, nGnRnE 3, nGnRE 4 */
	MAIR_LAYOUT_PRE_5_10, /* nGnRnE 0, nGnRE 1, GRE 2, NC 3, Normal 4, WT 5, (Tagged 6) */
};

struct cache_decode {
	enum cache_mode mode;
	unsigned int index; /* PAT entry or MAIR index the bits select */
	enum cache_mode guest; /* what KVM lets a guest use of it (cache_mode_guest) */
};

/* Decodes a 4 KiB x86_64 PTE's PWT/PCD/PAT bits through the given PAT MSR value. */
struct cache_decode cache_mode_from_pgprot_x86(uint64_t pgprot, uint64_t pat_msr);
/* Decodes an arm64 PTE's AttrIndx through the given index layout. */
struct cache_decode cache_mode_from_pgprot_arm64(uint64_t pgprot, enum arm64_mair_layout layout);
/* The layout a kernel of this version uses. */
enum arm64_mair_layout arm64_mair_layout_for(unsigned int major, unsigned int minor);
/* Dispatch on arch, with Linux's default PAT and the layout of the given kernel version. */
struct cache_decode cache_mode_decode(enum host_arch arch, uint64_t pgprot, unsigned int kmajor,
				      unsigned int kminor);

/*
 * The least strict mode KVM lets a guest use of a VMM's VFIO mapping that backs guest memory,
 * from the VMA's flags (stage 2): on arm64 a PFN mapping is Device-nGnRE at stage 2, or
 * Normal-NC where the VMA carries VM_ALLOW_ANY_UNCACHED (vfio-pci since 6.9), and then the
 * guest's own page tables may choose Normal-NC: unaligned and vector accesses the VMM's Device
 * mapping does not allow. CACHE_UNKNOWN elsewhere: on x86 (not measured) and for a cacheable
 * VMM mapping (nvgrace-gpu's device memory), which newer kernels may map cacheable for a guest.
 */
enum cache_mode cache_mode_guest(enum host_arch arch, enum cache_mode host, uint64_t vm_flags);

/*
 * The hazards (HAZARD_* bits) that a string instruction (x86 rep movs, rep stos) adds in this
 * mode to the ones its single-stepped trace shows (one element per step, in order: how it runs
 * on UC, UC-, WT and WP memory). On WB and WC memory the CPU may run it as a fast-string
 * operation (Intel SDM vol. 1, "Fast-String Operation"), whose stores may be wider than an
 * element and appear in another order: `wide` and `reorder`; the same for a mode that could not
 * be decoded (it may be either). 0 elsewhere. The PAT type alone is decoded: UC- under an MTRR
 * that says WC is WC to the CPU, which this cannot see.
 */
uint32_t cache_mode_string_hazards(enum cache_mode mode);

/* "WB", "UC-", "Device-nGnRE"...; NULL for CACHE_UNKNOWN. */
const char *cache_mode_name(enum cache_mode mode);
/* Name, or "unknown(0x<raw>)" for a mode that could not be decoded. Returns buf. */
const char *cache_mode_format(enum cache_mode mode, uint64_t raw, char *buf, size_t len);

enum host_arch host_arch_from_name(const char *machine);
const char *host_arch_name(enum host_arch arch);

#endif /* VFIOGUARD_CACHE_MODE_H */
