// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The (arch, cache mode, access class) -> violating hazards table.
 *
 * - trap: the region must not be mapped at all, so any access through a mapping is a
 *   violation, whatever its shape: every hazard, and the access itself (callers flag that).
 * - fixed: only single, naturally aligned 1/2/4/8-byte accesses in ascending order are allowed,
 *   so every hazard is a violation.
 * - direct: any copy routine may touch the region, and what still matters is what the memory
 *   type makes of a copy:
 *   - cacheable memory (x86 WB/WT/WP, arm64 Normal, Normal-Tagged, Normal-WT) and
 *     write-combining memory (x86 WC, arm64 Normal-NC) behave like RAM: nothing is a violation;
 *   - x86 UC and UC-: each store reaches the device as it is issued, so a byte stored twice
 *     (dup), stores out of address order (reorder) and a 2/4/8-byte access done as narrower ones
 *     (split) change what the device sees; vector (wide) and unaligned accesses to UC are legal
 *     on x86;
 *   - arm64 Device memory: the same, and in addition unaligned and vector accesses fault;
 *   - an unknown mode: every hazard, since nothing can be assumed.
 */
#include "hazards.h"

uint32_t hazard_violations(enum host_arch arch, enum cache_mode cache, enum access_class access)
{
	const uint32_t device_semantics = HAZARD_SPLIT | HAZARD_DUP | HAZARD_REORDER;

	if (access != ACCESS_DIRECT)
		return HAZARD_ALL;
	switch (cache) {
	case CACHE_X86_WB:
	case CACHE_X86_WT:
	case CACHE_X86_WP:
	case CACHE_X86_WC:
		return arch == ARCH_X86_64 ? 0 : HAZARD_ALL;
	case CACHE_ARM64_NORMAL:
	case CACHE_ARM64_NORMAL_TAGGED:
	case CACHE_ARM64_NORMAL_WT:
	case CACHE_ARM64_NORMAL_NC:
		return arch == ARCH_ARM64 ? 0 : HAZARD_ALL;
	case CACHE_X86_UC:
	case CACHE_X86_UC_MINUS:
		return arch == ARCH_X86_64 ? device_semantics : HAZARD_ALL;
	case CACHE_ARM64_DEVICE_nGnRnE:
	case CACHE_ARM64_DEVICE_nGnRE:
	case CACHE_ARM64_DEVICE_GRE:
		return arch == ARCH_ARM64 ? device_semantics | HAZARD_WIDE | HAZARD_UNALIGNED
					  : HAZARD_ALL;
	default:
		return HAZARD_ALL;
	}
}
