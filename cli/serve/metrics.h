/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * serve's metrics in the Prometheus text exposition format, rendered from what serve gathered
 * (the session's model, the kernel's policy counts): a pure function of its input, tested
 * against a golden file (tests/unit/golden/metrics.prom).
 */
#ifndef VFIOGUARD_SERVE_METRICS_H
#define VFIOGUARD_SERVE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/vfioguard.h"
#include "../../loader/decode/cache_mode.h"

struct model;

/* Live mappings by device, region, cache mode and the access the policy in force allows. */
struct metrics_mapping {
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	char cache[40], access[16];
	uint64_t n;
};

/* Faults per device, region and page size (pte, pmd, pud, other). */
struct metrics_fault {
	const char *device;
	unsigned int region;
	uint64_t faults[4];
};

/* The policy's decisions on mmap by outcome and rule name. */
struct metrics_decision {
	bool denied;
	const char *rule;
	uint64_t n;
};

/* The cache mode a region was last mapped with, against the one its verdict assumed. */
struct metrics_observed {
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	enum cache_mode assumed, mapped;
	uint64_t pgprot;
	bool mismatch;
};

struct metrics {
	const char *version, *kernel;
	bool enforcing; /* a policy is in force: the counts below are the kernel's */
	bool active;    /* its program is attached */
	uint64_t generation, allowed, denied, policy_dropped;
	double applied_at, apply_seconds, now; /* Unix time, seconds */
	uint64_t reloads_failed;
	const struct metrics_decision *decisions;
	size_t ndecisions;
	const struct metrics_mapping *mappings;
	size_t nmappings;
	const struct metrics_observed *observed;
	size_t nobserved;
	const struct metrics_fault *faults;
	size_t nfaults;
	/* fd accesses, copies and DMA maps per name, device and region (model_by_name). */
	const struct model *byname;
	bool copies; /* the copy probes are open: their families and drops are shown */
	uint64_t monitor_dropped, copies_dropped;
	uint64_t heap_inuse; /* bytes allocated and not freed (malloc's own count) */
};

/* The exposition text in *text (malloc'd, *len bytes, NUL-terminated). 0 or -ENOMEM. */
int metrics_render(const struct metrics *m, char **text, size_t *len);

#endif /* VFIOGUARD_SERVE_METRICS_H */
