/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the running kernel offers vfioguard, probed for real: each BPF program kind is loaded and
 * attached, and the answer is what the kernel said, never a guess from its version.
 */
#ifndef VFIOGUARD_FEATURES_H
#define VFIOGUARD_FEATURES_H

#include <stdbool.h>

enum feature_id {
	FEAT_BTF,
	FEAT_ITER_TASK_VMA,
	FEAT_FENTRY,
	FEAT_FEXIT,
	FEAT_KPROBE,
	FEAT_UPROBE,
	FEAT_FIND_VMA,   /* a uprobe program may call bpf_find_vma: the copy probes */
	FEAT_LSM_ACTIVE, /* "bpf" is in the kernel's list of active LSMs */
	FEAT_LSM_PROG,   /* an lsm/mmap_file program loads and attaches */
	FEAT_VFIO,
	FEAT_VFIO_PCI,
	FEAT_VFIO_BTF, /* the vfio module's BTF, needed to read device names */
	FEAT_COUNT,
};

struct feature {
	const char *name;
	bool ok;
	int err;            /* negative errno when !ok and the kernel said why, else 0 */
	char detail[160];   /* what was tried, or why it is missing */
};

/* Fills all FEAT_COUNT entries. Never fails as a whole: each entry says what it found. */
void features_probe(struct feature out[FEAT_COUNT]);

#endif /* VFIOGUARD_FEATURES_H */
