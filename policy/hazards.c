// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The (arch, cache mode, access class, region semantics) -> violating hazards table.
 *
 * - trap: the region must not be mapped at all, so any access through a mapping is a
 *   violation, whatever its shape: every hazard, and the access itself (callers flag that).
 * - fixed: only single, naturally aligned 1/2/4/8-byte accesses in ascending order are allowed,
 *   so every hazard is a violation.
 * - direct: any copy routine may touch the region, and what still matters is, first, what the
 *   region holds:
 *   - registers (a BAR of device registers, and any region nobody has said otherwise of): a
 *     register stored twice (dup), stores out of address order (reorder) and a 2/4/8-byte access
 *     done as narrower ones (split) change what the device sees, whatever the cache mode: a WC
 *     or Normal mapping of registers makes the device act twice or wrongly all the same;
 *   - memory (device RAM, such as GH100's usable memory): those are harmless, as in RAM;
 *   and then what the cache mode allows at the ISA level, for either:
 *   - x86, every memory type: vector (wide) and unaligned accesses are legal, UC included;
 *   - arm64 Normal, Normal-Tagged, Normal-WT and Normal-NC: the same;
 *   - arm64 Device memory: unaligned and vector accesses fault;
 *   - an unknown mode, or one of the other architecture: every hazard, since nothing can be
 *     assumed.
 */
#include "hazards.h"

/* What the cache mode forbids on arch, whatever the region holds. */
static uint32_t isa_violations(enum host_arch arch, enum cache_mode cache)
{
	switch (cache) {
	case CACHE_X86_WB:
	case CACHE_X86_WT:
	case CACHE_X86_WP:
	case CACHE_X86_WC:
	case CACHE_X86_UC:
	case CACHE_X86_UC_MINUS:
		return arch == ARCH_X86_64 ? 0 : HAZARD_ALL;
	case CACHE_ARM64_NORMAL:
	case CACHE_ARM64_NORMAL_TAGGED:
	case CACHE_ARM64_NORMAL_WT:
	case CACHE_ARM64_NORMAL_NC:
		return arch == ARCH_ARM64 ? 0 : HAZARD_ALL;
	case CACHE_ARM64_DEVICE_nGnRnE:
	case CACHE_ARM64_DEVICE_nGnRE:
	case CACHE_ARM64_DEVICE_GRE:
		return arch == ARCH_ARM64 ? HAZARD_WIDE | HAZARD_UNALIGNED : HAZARD_ALL;
	default:
		return HAZARD_ALL;
	}
}

uint32_t hazard_violations(enum host_arch arch, enum cache_mode cache, enum access_class access,
			   enum region_semantics semantics)
{
	const uint32_t registers = HAZARD_SPLIT | HAZARD_DUP | HAZARD_REORDER;

	if (access != ACCESS_DIRECT)
		return HAZARD_ALL;
	return isa_violations(arch, cache) | (semantics == SEMANTICS_MEMORY ? 0 : registers);
}

uint32_t rule_violations(const struct rule *r, enum host_arch arch, enum cache_mode cache,
			 enum access_class access, enum region_semantics semantics)
{
	return r && r->has_hazards ? r->hazards : hazard_violations(arch, cache, access, semantics);
}
