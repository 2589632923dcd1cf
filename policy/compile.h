/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Compiling a policy into the verdicts the enforcement program reads: one per (device, region)
 * of the devices present, an ordered list of process conditions ending in an unconditional one.
 * Pure: the file system is reached only through the resolver, so tests can supply their own.
 */
#ifndef VFIOGUARD_POLICY_COMPILE_H
#define VFIOGUARD_POLICY_COMPILE_H

#include "../bpf/vfioguard.h"
#include "policy.h"

struct device_facts {
	char name[VFG_DEVICE_LEN];
	char driver[64]; /* "" when unbound */
	int vendor, device_id, subsystem_vendor, subsystem_device; /* -1: unknown */
	/* The cache mode seen in a current or earlier mapping, per region (CACHE_UNKNOWN: none). */
	enum cache_mode observed[POLICY_MAX_REGION + 1];
};

struct resolver {
	/* The kernel's (s_dev, i_ino) of an executable; negative errno when it cannot. */
	int (*exe)(const char *path, uint64_t *dev, uint64_t *ino);
	/* The cgroup v2 id of a cgroup path (relative to the cgroup2 root). */
	int (*cgroup)(const char *path, uint64_t *id);
	/*
	 * For the verdict of a running process (verdict.h): its executable's path and its cgroup v2
	 * path as the cgroup: matcher spells it ("/machine.slice/..."), "" for what cannot be read.
	 */
	void (*process)(uint32_t pid, char *exe, size_t exe_len, char *cgroup, size_t cgroup_len);
	/* A device's driver and IDs ("" and -1 for what is unknown). */
	void (*device)(const char *name, struct device_facts *f);
};

struct compiled {
	struct vfg_region_verdict *v;
	size_t n;
};

/*
 * The cache mode a verdict assumes before the driver's mmap has run: the mode seen before for
 * that region, else what the driver is known to choose (vfio-pci maps BARs and the ROM with
 * pgprot_noncached: UC- on x86, Device-nGnRnE on arm64; nvgrace-gpu maps its device memory,
 * presented as BAR4, cacheable (Normal) and its reserved memory, BAR2, write-combining
 * (Normal-NC)), else CACHE_UNKNOWN, which no cache matcher matches.
 */
enum cache_mode assumed_cache_mode(enum host_arch arch, const char *driver, unsigned int region,
				   enum cache_mode observed);

/*
 * The regions a driver is known to present that are none of the device's own PCI resources (a
 * bit per region index): nvgrace-gpu's BAR2 and BAR4, its device memory, which it emulates.
 */
uint64_t driver_regions(const char *driver);

/*
 * What a region holds when no rule says: memory for the device RAM a driver is known to present
 * (nvgrace-gpu's reserved memory, BAR2, and usable memory, BAR4), registers for everything else.
 */
enum region_semantics region_semantics_default(const char *driver, unsigned int region);
/* A rule's semantics where it names them (r NULL: the policy's default), else the default's. */
enum region_semantics region_semantics_of(const struct rule *r, const char *driver,
					  unsigned int region);

/*
 * 0, or -EINVAL with errors in diags (at the rule that cannot be compiled: a process pattern
 * the kernel side cannot evaluate, an executable or cgroup that does not exist, too many
 * process-specific rules for one region). Nothing is returned half-compiled.
 */
int policy_compile(const struct policy *p, enum host_arch arch, const struct device_facts *devs,
		   size_t ndevs, const struct resolver *res, struct compiled *out,
		   struct policy_diags *diags);
void compiled_free(struct compiled *c);

/*
 * The name of the rule at index rule of p, as the kernel reports it: "(default)" for
 * VFG_RULE_DEFAULT, NULL for an index p does not have (p may be NULL: a generation whose policy
 * is not known here).
 */
const char *policy_rule_name(const struct policy *p, unsigned int rule);
/* The same, with "#N" (written into buf) for an index p does not have. Returns the name. */
const char *policy_rule_label(const struct policy *p, unsigned int rule, char *buf, size_t len);

#endif /* VFIOGUARD_POLICY_COMPILE_H */
