/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One consistent snapshot of every VFIO device mapping on the host, from the iter/task_vma
 * program in bpf/snapshot.bpf.c, turned into typed records.
 */
#ifndef VFIOGUARD_SNAPSHOT_H
#define VFIOGUARD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/vfioguard.h"
#include "../decode/cache_mode.h"
#include "../host/kernel.h"
#include "../decode/region.h"

struct mapping {
	struct vfg_task task; /* pid: the thread the iterator visited; VMAs belong to the process */
	char device[VFG_DEVICE_LEN]; /* empty when the kernel's vfio_device could not be read */
	struct vfg_vma vma;	     /* raw */
	struct region_loc region;    /* decoded from the raw parts */
	struct cache_decode cache;
};

struct snapshot {
	struct kernel_info kernel;
	/*
	 * Where vfio is (vfio.loaded false: nothing can be mapped, and the snapshot is empty);
	 * vfio.fops is vfio_device_fops when built in or when a mapping showed it.
	 */
	struct vfio_location vfio;
	struct mapping *mappings;
	size_t count;
	/* Where the time went (-v): kernel symbol lookup, BPF load, iterator read, decoding. */
	uint64_t lookup_ns, load_ns, iter_ns, decode_ns;
	/* On failure: the step that failed, for the caller's message. */
	const char *failed_step;
};

/* 0, or a negative errno with failed_step set. Never returns a partial snapshot. */
int snapshot_take(struct snapshot *snap);
void snapshot_free(struct snapshot *snap);

/*
 * Pure part, exposed for tests: one raw record to a typed mapping. res: the PCI resources of
 * the record's device (PCI_RESOURCES entries), or NULL when it has none.
 */
void mapping_from_record(struct mapping *m, const struct vma_record *rec,
			 const struct kernel_info *ki, const struct pci_resource *res);

#endif /* VFIOGUARD_SNAPSHOT_H */
