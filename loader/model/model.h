/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What vfioguard knows about the host's VFIO regions, built from the monitor's events and the
 * kernel's counts, below any view: the mappings (from the snapshot or their mmap, with their
 * faults at unmap or as counted so far), the accesses through device fds per process and
 * region, and the regions table that joins both. monitor prints from it; serve and the metrics
 * are meant to read the same. Nothing here prints or filters: views filter what they show.
 */
#ifndef VFIOGUARD_MODEL_H
#define VFIOGUARD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "../../bpf/vfioguard.h"
#include "../decode/cache_mode.h"
#include "../probes/copies.h"
#include "../decode/region.h"

struct monitor;
struct monitor_event;
struct mapping;

/* One mapping of a device region, from the snapshot or its mmap event. */
struct model_mapping {
	uint64_t mm, start, end;
	struct vfg_task task; /* the process that made it (an unmap may run in another) */
	char device[VFG_DEVICE_LEN];
	struct region_loc region;
	uint64_t pgprot;
	struct cache_decode cache;
	bool existing, unmapped;
	bool gone_once; /* its process was gone at the last model_fold_exited */
	uint64_t faults[4]; /* PTE, PMD, PUD, other orders */
	uint64_t fault_errors;
	uint64_t fallbacks; /* huge-page attempts the kernel retried at a smaller order */
};

/* Accesses through the device fd, per process and region. */
struct model_access {
	uint32_t pid;
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	uint64_t by_size[2][5]; /* [read, write][1, 2, 4, 8, other] */
	uint64_t bytes[2];
	uint64_t errors;
};

/* Faults of the mappings forgotten (model_forget_unmapped), per device and region. */
struct model_fault_total {
	char device[VFG_DEVICE_LEN]; /* with region and pad, the key: zeroed past the name */
	uint32_t region;
	uint32_t pad;
	uint64_t faults[4];
	UT_hash_handle hh;
};

/* How one process reaches one region of a device: mapped, through the fd, or both. */
struct model_region {
	uint32_t pid;
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	bool mapped, fd;
	enum cache_mode cache; /* of its (last) mapping */
	uint64_t pgprot;
};

/* Copies into or out of device memory per process, region, direction and hazards. */
struct model_copy {
	uint32_t pid;
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	bool write;
	uint32_t hazards;  /* HAZARD_*, when measured */
	bool measured;
	bool violation;    /* the region's verdict forbids one of the hazards, or is trap */
	uint64_t count, bytes;
};

/*
 * QEMU's DMA maps of device memory per process and region. A failed map counts against the
 * region whose bounced map held the bounce buffer then (device "" when no such map was seen).
 */
struct model_dma {
	uint32_t pid;
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	uint64_t direct, bounced, short_maps, failed, bytes;
};

/* Per process: the bounced map that holds QEMU's one bounce buffer until it is unmapped. */
struct model_dma_holder {
	uint32_t pid;
	bool held;
	struct dma_event ev;
};

struct model {
	unsigned int page_shift;
	struct model_mapping **all; /* every mapping seen, in the order seen */
	size_t nall;
	void *active;               /* tsearch tree of the mapped ones, by (mm, start) */
	struct model_access *acc;
	size_t nacc;
	struct model_copy *copies;
	size_t ncopies;
	uint64_t copy_violations, copy_clean, copy_unmeasured;
	struct model_dma *dma;
	size_t ndma;
	struct model_dma_holder *holders;
	size_t nholders;
	struct model_fault_total *fault_totals; /* a uthash table, in the order first seen */
};

void model_init(struct model *md, unsigned int page_shift);
void model_free(struct model *md);

/* A successful mmap. NULL only when out of memory. */
struct model_mapping *model_mmap(struct model *md, const struct monitor_event *ev);
/* A mapping of the snapshot; NULL when its mmap was seen already (or out of memory). */
struct model_mapping *model_existing(struct model *md, const struct mapping *m);
/*
 * The mapping a fault or fallback is in; one mapped before the probes and missed by the
 * snapshot is learned from the event (its region from the fault's page offset).
 */
struct model_mapping *model_fault(struct model *md, const struct monitor_event *ev);
/* Marks the mapping unmapped with its final faults; NULL for a VMA that never was one. */
struct model_mapping *model_unmap(struct model *md, const struct monitor_event *ev);
struct model_mapping *model_find(struct model *md, uint64_t mm, uint64_t start);
/* A mapping as an mmap event describes it (also for a failed mmap, which is not tracked). */
void model_mapping_from_event(struct model_mapping *t, const struct monitor_event *ev);

/*
 * Takes the kernel's counts as they are now: faults of the mappings still mapped, and every
 * access through device fds (the kernel's totals replace what was read before). With alive (a
 * long-running view), the fd accesses of processes that have exited are moved into rows with
 * pid 0, one per name (comm, device, region), and deleted from the kernel's table: that table
 * then holds live processes' files only, and sums by name never go down. Without, every
 * process keeps its row (a summary).
 */
int model_read_counts(struct model *md, struct monitor *m,
		      bool (*alive)(uint32_t pid, void *ctx), void *ctx);
/* Adds one kernel entry of fd accesses to its process's row, or with exited to its name's. */
void model_rw_add(struct model *md, const struct vfg_rw_key *k, const struct vfg_rw_stat *s,
		  bool exited);

/*
 * For a long-running view: hands every unmapped mapping to fn (its final faults are in it;
 * fn may be NULL), adds its faults to its region's total, then forgets it. The mapped ones
 * stay.
 */
void model_forget_unmapped(struct model *md,
			   void (*fn)(const struct model_mapping *t, void *ctx), void *ctx);

/*
 * A copy that touched device memory, and whether the region's verdict makes it a violation
 * (a copy whose hazards are not measured is counted as unmeasured, whatever violation says).
 */
void model_copy(struct model *md, const struct copy_event *ev, bool violation);
/*
 * A DMA map or unmap. Returns the map that held the bounce buffer when this one failed because
 * of it (the copy in the model, valid until the next call), else NULL.
 */
const struct dma_event *model_dma(struct model *md, const struct dma_event *ev);

/*
 * Marks every mapping of pid unmapped (the process is known gone: its PID is another
 * process's now); model_forget_unmapped then forgets them.
 */
void model_unmap_process(struct model *md, uint32_t pid);
/*
 * Rows of exited processes are kept by name, MODEL_EXITED_ROWS of them per table at most: a
 * process names itself, and a long-running view must not grow with every name one chose. The
 * counts of names past that bound go to rows named MODEL_OTHER_NAME (one per device, region
 * and kind), so totals never go down.
 */
#define MODEL_EXITED_ROWS 256
#define MODEL_OTHER_NAME "(other)"

/*
 * For a long-running view: the copy and DMA rows of processes that are gone (alive says which
 * are not) are folded into rows of pid 0 with the same other keys, so totals by name, device
 * and region never go down while rows stop growing with every process that ever ran (fd
 * access rows: model_read_counts with alive). Mappings of a process found gone at two calls
 * in a row are marked unmapped (their unmap event was lost, a ring overflowed): the next
 * model_forget_unmapped forgets them.
 */
void model_fold_exited(struct model *md, bool (*alive)(uint32_t pid, void *ctx), void *ctx);
/*
 * The copy, DMA and fd access rows of md summed over processes (pid 0), one per name, device
 * and region (and for copies direction, hazards and verdict): the labels of exported metrics.
 * out is a model of its own (model_free). 0 or -ENOMEM.
 */
int model_by_name(const struct model *md, struct model *out);

/*
 * Faults per device and region: the forgotten mappings' totals with the mapped ones' counts so
 * far, one call of fn per region ever mapped, in the order first seen. 0 or -ENOMEM.
 */
int model_faults_by_region(struct model *md,
			   void (*fn)(const char *device, unsigned int region,
				      const uint64_t faults[4], void *ctx),
			   void *ctx);
/* The regions table: one row per process, device and region mapped or reached by fd. */
size_t model_regions(const struct model *md, struct model_region **rows);

/* The size bucket of an access: 1, 2, 4, 8 or other. */
unsigned int model_size_bucket(uint64_t n);
/* The bucket of a fault's page order: PTE, PMD, PUD or other (4 KiB pages). */
unsigned int model_order_bucket(unsigned int order, unsigned int page_shift);

#endif /* VFIOGUARD_MODEL_H */
