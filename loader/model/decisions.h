/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The policy's decisions on mmap by outcome and rule name, from the kernel's counts per
 * (generation, rule index, outcome). Rules are named by the policies this process applied,
 * each kept while the kernel still counts its generation or it is in force; a rule of a
 * generation this process did not apply is "#index", the default "(default)".
 */
#ifndef VFIOGUARD_DECISIONS_H
#define VFIOGUARD_DECISIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "../../policy/policy.h"

#define DECISIONS_APPLIED_KEPT 64

struct vfg_rule_count_key;

struct decision_key {
	bool denied;
	char rule[72];
};

struct decision_row {
	struct decision_key key; /* zeroed past the name: hashed whole */
	uint64_t n;
	UT_hash_handle hh;
};

struct decisions_applied {
	uint64_t generation;
	struct policy policy;
	bool counted; /* the kernel had counts of its generation at the last read */
};

struct decisions {
	struct decisions_applied *applied; /* oldest first; at most DECISIONS_APPLIED_KEPT */
	size_t napplied;
	uint64_t last;             /* the generation this process applied last */
	struct decision_row *rows; /* in the order first counted (decisions_foreach) */
};

/* A policy this process put in force as generation: d takes it (and frees it in time). */
void decisions_applied(struct decisions *d, uint64_t generation, struct policy *p);
/* Adds the kernel's count of one (generation, rule, outcome) to its row. */
void decisions_count(struct decisions *d, const struct vfg_rule_count_key *k, uint64_t n);
/*
 * The rows summed anew from the kernel's counts (none when no policy is enforced); every rule
 * of the policy in force (generation in_force), and its default, then has a row, at 0 until
 * counted.
 * Policies whose generation the kernel counts no more and that are not in force are
 * forgotten. 0, or -errno reading the kernel's counts (the rows then hold what was read
 * before the error, and no policy is forgotten).
 */
int decisions_read(struct decisions *d, bool enforcing, uint64_t in_force);
/* The same from counts given (tests): count(d, ctx) calls decisions_count for each. */
int decisions_sum(struct decisions *d, uint64_t in_force,
		  int (*count)(struct decisions *d, void *ctx), void *ctx);
void decisions_foreach(const struct decisions *d,
		       void (*fn)(const struct decision_row *r, void *ctx), void *ctx);
void decisions_free(struct decisions *d);

#endif /* VFIOGUARD_DECISIONS_H */
