/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The verdict of a policy for one process's region, as monitor, the copies view and serve report
 * it: the policy read once from a file (the one `policy apply` left in force), each verdict
 * memoised per (process, device, region, cache mode, and the thread's name where a rule matches
 * names). The facts a rule matches on (the process's executable
 * and cgroup, the device's driver and IDs) come from the resolver, so tests supply their own.
 * Without a policy in force every region is `direct`.
 */
#ifndef VFIOGUARD_VERDICT_H
#define VFIOGUARD_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/vfioguard.h"
#include "compile.h"
#include "policy.h"

struct verdict_entry;

struct verdict {
	uint32_t pid;
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	enum access_class access;
	enum region_semantics semantics; /* the rule's, else the driver's default */
	uint32_t forbidden; /* hazards that are violations */
	char rule[64];      /* "'name'", "#N", "default" or "no policy in force" */
};

struct verdicts {
	enum host_arch arch;
	const struct resolver *res; /* .process and .device */
	const char *policy_path;    /* NULL: no policy in force */
	struct policy policy;
	bool tried, have;
	bool by_comm; /* a rule matches the process's name: it is part of the memo's key */
	struct verdict_entry *memo; /* a uthash table */
};

/* The verdicts remembered. */
size_t verdicts_count(const struct verdicts *vs);
/* policy_path is read at the first verdict asked for, and again after verdicts_reset. */
void verdicts_init(struct verdicts *vs, enum host_arch arch, const struct resolver *res,
		   const char *policy_path);
/* NULL only when out of memory. The verdict stays where it is until it is forgotten. */
const struct verdict *verdict_of(struct verdicts *vs, uint32_t pid, const char *comm,
				 const char *device, unsigned int region, enum cache_mode cache);
/*
 * What a copy with these hazards is under a verdict (NULL: none could be had, out of memory):
 * the hazards that are violations; trap when the region should not be mapped at all; a
 * violation when either, and worth reporting when its hazards were not measured (neither clean
 * nor known bad: counted apart).
 */
struct copy_judgement {
	uint32_t bad;
	bool trap, violation, report;
};
struct copy_judgement verdict_judge_copy(const struct verdict *v, uint32_t hazards,
					 bool measured);

/*
 * A long-running view asks for every process it ever sees, and a PID used again is another
 * process, with its own executable and cgroup. These drop the verdicts of pid, or of every
 * process alive says is gone; pointers to them are then freed.
 */
void verdicts_forget_pid(struct verdicts *vs, uint32_t pid);
void verdicts_forget_exited(struct verdicts *vs, bool (*alive)(uint32_t pid, void *ctx),
			    void *ctx);
/* The policy in force changed: every verdict is dropped and the file read again when asked. */
void verdicts_reset(struct verdicts *vs);
void verdicts_free(struct verdicts *vs);

#endif /* VFIOGUARD_VERDICT_H */
