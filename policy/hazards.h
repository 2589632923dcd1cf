/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which hazards of a copy are violations, per (arch, cache mode, access class, region semantics):
 * the one table.
 */
#ifndef VFIOGUARD_POLICY_HAZARDS_H
#define VFIOGUARD_POLICY_HAZARDS_H

#include "policy.h"

/* The hazard set that counts as a violation, before any rule's override. */
uint32_t hazard_violations(enum host_arch arch, enum cache_mode cache, enum access_class access,
			   enum region_semantics semantics);
/*
 * The same under a rule (NULL: the policy's default): its `hazards` where it names them, else the
 * table's for its access class and the region's semantics.
 */
uint32_t rule_violations(const struct rule *r, enum host_arch arch, enum cache_mode cache,
			 enum access_class access, enum region_semantics semantics);

#endif /* VFIOGUARD_POLICY_HAZARDS_H */
