// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Cache-mode decoding for x86 PAT and arm64 MAIR; see cache_mode.h. */
#include <stdio.h>
#include <string.h>

#include "cache_mode.h"
#include "../../bpf/vfioguard.h"

/* arch/x86/include/asm/pgtable_types.h: _PAGE_BIT_PWT 3, _PAGE_BIT_PCD 4, _PAGE_BIT_PAT 7 (4K). */
#define X86_PTE_PWT (1ULL << 3)
#define X86_PTE_PCD (1ULL << 4)
#define X86_PTE_PAT (1ULL << 7)

/* Intel SDM vol. 3, "PAT memory types": the encodings of one PAT MSR entry. */
static enum cache_mode x86_memory_type(unsigned int encoding)
{
	switch (encoding) {
	case 0x00: return CACHE_X86_UC;
	case 0x01: return CACHE_X86_WC;
	case 0x04: return CACHE_X86_WT;
	case 0x05: return CACHE_X86_WP;
	case 0x06: return CACHE_X86_WB;
	case 0x07: return CACHE_X86_UC_MINUS;
	default: return CACHE_UNKNOWN; /* 2, 3 and 8..255 are reserved */
	}
}

struct cache_decode cache_mode_from_pgprot_x86(uint64_t pgprot, uint64_t pat_msr)
{
	struct cache_decode d;

	d.index = (pgprot & X86_PTE_PAT ? 4 : 0) | (pgprot & X86_PTE_PCD ? 2 : 0) |
		  (pgprot & X86_PTE_PWT ? 1 : 0);
	d.mode = x86_memory_type((pat_msr >> (8 * d.index)) & 0xff);
	return d;
}

/* arch/arm64/include/asm/pgtable-hwdef.h: PTE_ATTRINDX(t) is t << 2, three bits. */
#define ARM64_PTE_ATTRINDX(pte) (((pte) >> 2) & 7)

static const enum cache_mode mair_current[8] = {
	CACHE_ARM64_NORMAL, CACHE_ARM64_NORMAL_TAGGED, CACHE_ARM64_NORMAL_NC,
	CACHE_ARM64_DEVICE_nGnRnE, CACHE_ARM64_DEVICE_nGnRE, CACHE_UNKNOWN, CACHE_UNKNOWN,
	CACHE_UNKNOWN,
};

static const enum cache_mode mair_pre_5_10[8] = {
	CACHE_ARM64_DEVICE_nGnRnE, CACHE_ARM64_DEVICE_nGnRE, CACHE_ARM64_DEVICE_GRE,
	CACHE_ARM64_NORMAL_NC, CACHE_ARM64_NORMAL, CACHE_ARM64_NORMAL_WT,
	CACHE_ARM64_NORMAL_TAGGED, CACHE_UNKNOWN,
};

struct cache_decode cache_mode_from_pgprot_arm64(uint64_t pgprot, enum arm64_mair_layout layout)
{
	struct cache_decode d;

	d.index = ARM64_PTE_ATTRINDX(pgprot);
	switch (layout) {
	case MAIR_LAYOUT_CURRENT:
		d.mode = mair_current[d.index];
		break;
	case MAIR_LAYOUT_PRE_5_10:
		d.mode = mair_pre_5_10[d.index];
		break;
	default:
		d.mode = CACHE_UNKNOWN;
	}
	return d;
}

/* The MT_* indexes were reordered (Normal to index 0) in Linux 5.10. */
enum arm64_mair_layout arm64_mair_layout_for(unsigned int major, unsigned int minor)
{
	if (major > 5 || (major == 5 && minor >= 10))
		return MAIR_LAYOUT_CURRENT;
	return MAIR_LAYOUT_PRE_5_10;
}

struct cache_decode cache_mode_decode(enum host_arch arch, uint64_t pgprot, unsigned int kmajor,
				      unsigned int kminor)
{
	struct cache_decode none = { CACHE_UNKNOWN, 0 };

	switch (arch) {
	case ARCH_X86_64:
		return cache_mode_from_pgprot_x86(pgprot, LINUX_PAT_MSR);
	case ARCH_ARM64:
		return cache_mode_from_pgprot_arm64(pgprot, arm64_mair_layout_for(kmajor, kminor));
	default:
		return none;
	}
}

enum cache_mode cache_mode_guest(enum host_arch arch, enum cache_mode host, uint64_t vm_flags)
{
	if (arch != ARCH_ARM64 || !(vm_flags & VFG_VM_PFNMAP))
		return CACHE_UNKNOWN;
	switch (host) {
	case CACHE_ARM64_NORMAL_NC:
	case CACHE_ARM64_DEVICE_nGnRnE:
	case CACHE_ARM64_DEVICE_nGnRE:
	case CACHE_ARM64_DEVICE_GRE:
		break;
	default:
		return CACHE_UNKNOWN;
	}
	/* arch/arm64/kvm/mmu.c, user_mem_abort(): KVM_PGTABLE_PROT_NORMAL_NC or _DEVICE */
	return vm_flags & VFG_VM_ALLOW_ANY_UNCACHED ? CACHE_ARM64_NORMAL_NC
						    : CACHE_ARM64_DEVICE_nGnRE;
}

static const char *const cache_mode_names[] = {
	[CACHE_UNKNOWN] = NULL,
	[CACHE_X86_WB] = "WB",
	[CACHE_X86_WC] = "WC",
	[CACHE_X86_UC_MINUS] = "UC-",
	[CACHE_X86_UC] = "UC",
	[CACHE_X86_WT] = "WT",
	[CACHE_X86_WP] = "WP",
	[CACHE_ARM64_NORMAL] = "Normal",
	[CACHE_ARM64_NORMAL_TAGGED] = "Normal-Tagged",
	[CACHE_ARM64_NORMAL_NC] = "Normal-NC",
	[CACHE_ARM64_NORMAL_WT] = "Normal-WT",
	[CACHE_ARM64_DEVICE_nGnRnE] = "Device-nGnRnE",
	[CACHE_ARM64_DEVICE_nGnRE] = "Device-nGnRE",
	[CACHE_ARM64_DEVICE_GRE] = "Device-GRE",
};

uint32_t cache_mode_string_hazards(enum cache_mode mode)
{
	return mode == CACHE_X86_WB || mode == CACHE_X86_WC || mode == CACHE_UNKNOWN
		       ? HAZARD_WIDE | HAZARD_REORDER : 0;
}

const char *cache_mode_name(enum cache_mode mode)
{
	if ((unsigned int)mode >= sizeof(cache_mode_names) / sizeof(cache_mode_names[0]))
		return NULL;
	return cache_mode_names[mode];
}

const char *cache_mode_format(enum cache_mode mode, uint64_t raw, char *buf, size_t len)
{
	const char *name = cache_mode_name(mode);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "unknown(0x%llx)", (unsigned long long)raw);
	return buf;
}

enum host_arch host_arch_from_name(const char *machine)
{
	if (!strcmp(machine, "x86_64"))
		return ARCH_X86_64;
	if (!strcmp(machine, "aarch64") || !strcmp(machine, "arm64"))
		return ARCH_ARM64;
	return ARCH_UNKNOWN;
}

const char *host_arch_name(enum host_arch arch)
{
	switch (arch) {
	case ARCH_X86_64: return "x86_64";
	case ARCH_ARM64: return "aarch64";
	default: return "unknown";
	}
}
