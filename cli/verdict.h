/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The verdict of the policy in force (/run/vfioguard/policy.yaml, as `policy apply` left it) for
 * one process's region, as monitor and the copies view report it: read once, memoised per
 * (process, device, region). Without a policy in force every region is `direct`.
 */
#ifndef VFIOGUARD_VERDICT_H
#define VFIOGUARD_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/vfioguard.h"
#include "../loader/cache_mode.h"
#include "../policy/policy.h"

struct verdict {
	uint32_t pid;
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	enum access_class access;
	uint32_t forbidden; /* hazards that are violations */
	char rule[64];      /* "'name'", "#N", "default" or "no policy in force" */
};

struct verdicts {
	struct policy policy;
	bool tried, have;
	struct verdict **memo;
	size_t n;
};

/* NULL only when out of memory. The verdict stays where it is until verdicts_free. */
const struct verdict *verdict_of(struct verdicts *vs, enum host_arch arch, uint32_t pid,
				 const char *comm, const char *device, unsigned int region,
				 enum cache_mode cache);
/*
 * A long-running view asks for every process it ever sees, and a PID used again is another
 * process, with its own executable and cgroup. These drop the verdicts of pid, or of every
 * process alive says is gone; pointers to them are then freed.
 */
void verdicts_forget_pid(struct verdicts *vs, uint32_t pid);
void verdicts_forget_exited(struct verdicts *vs, bool (*alive)(uint32_t pid, void *ctx),
			    void *ctx);
void verdicts_free(struct verdicts *vs);

#endif /* VFIOGUARD_VERDICT_H */
