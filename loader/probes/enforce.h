/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The enforcement program and its pinned state under /sys/fs/bpf/vfioguard/: loading and
 * pinning on the first apply, swapping the whole verdict map on later ones (atomic), clearing,
 * and reading what is in force. Also the facts about the host's devices a policy compiles from.
 */
#ifndef VFIOGUARD_ENFORCE_H
#define VFIOGUARD_ENFORCE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bpf/vfioguard.h"
#include "../decode/cache_mode.h"

#define VFG_PIN_DIR "/sys/fs/bpf/vfioguard"

struct enforce_status {
	bool active;         /* the enforcement program is attached (pinned links present) */
	uint64_t generation; /* of the verdicts in force */
	uint64_t allowed, denied, dropped;
	uint64_t fops;       /* vfio_device_fops the program compares with */
};

struct enforce_applied {
	uint64_t generation;      /* of the verdicts now in force */
	bool took_over;           /* another build's programs were enforcing and were replaced */
	uint32_t previous_build;  /* the checksum that state recorded (0: none, an older layout) */
};

/*
 * Puts the compiled verdicts in force. The first apply loads, attaches and pins the programs;
 * later ones build a new verdict map and swap it in with one map update, so an mmap sees either
 * the old policy or the new one, never a mix. A state pinned by another build of vfioguard (its
 * programs or map layout may differ: the pinned "build" record is a checksum of the BPF object)
 * is taken over: this build's programs are attached beside the old ones, the pinned directories
 * are exchanged, then the old programs detach; enforcement never lapses and the generation
 * continues. On failure the previous state is left as it was and step says what failed.
 */
int enforce_apply(const struct vfg_region_verdict *v, size_t n, struct enforce_applied *out,
		  const char **step);
/* Detaches and unpins everything. -ENOENT when nothing was in force. */
int enforce_clear(const char **step);
/* -ENOENT when no policy is in force. */
int enforce_status_read(struct enforce_status *st);

struct vfg_rule_count_key;
/* Calls fn for every (generation, rule, outcome) the enforcement program counted. */
/*
 * Marks this process as the reader of the pinned decisions ring buffer (reading), or removes
 * its mark; without a reader the enforcement program writes no decisions there (and counts no
 * drops). 0 or -errno (-ENOENT: no policy in force).
 */
int enforce_decisions_reader(bool reading);
/*
 * Whether the state pinned under VFG_PIN_DIR is this build's and complete (its records have this
 * build's layout). *recorded: the build checksum pinned there, 0 when none.
 */
bool enforce_pinned_is_ours(uint32_t *recorded);
/* Removes the mark of a reader that exited without removing it. */
void enforce_decisions_reader_check(void);
int enforce_rule_counts_foreach(void (*fn)(const struct vfg_rule_count_key *k, uint64_t n,
					   void *ctx),
				void *ctx);

/*
 * The cache mode a region was really mapped with at the last allowed mmap the program saw, against
 * the mode its verdict assumed (decoded for the running kernel).
 */
struct observed_mode {
	const struct vfg_region_key *key;
	enum cache_mode assumed; /* CACHE_UNKNOWN: the verdict assumed none */
	enum cache_mode mapped;  /* CACHE_UNKNOWN: bits this kernel's decoding does not know */
	uint64_t pgprot;
	uint32_t tgid;
	uint64_t generation;
	bool mismatch; /* the verdict assumed a mode and the driver chose another (or an unknown) */
};
/* Calls fn for every (device, region) whose page protection the program recorded. */
int enforce_observed_foreach(void (*fn)(const struct observed_mode *m, void *ctx), void *ctx);

#endif /* VFIOGUARD_ENFORCE_H */
