/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Copies into and out of device memory: attaches bpf/copies.bpf.c to the targets loader/vmm/
 * finds in a process (libc's routines as that process resolved them, QEMU's memory core,
 * user-named functions), keeps the hazard table the BPF program reads filled from calibration
 * (cached per libc build, measured on demand by loader/calib/worker.h for cases not yet in
 * it) and hands decoded events to a callback.
 */
#ifndef VFIOGUARD_COPIES_H
#define VFIOGUARD_COPIES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/vfioguard.h"
#include "../decode/cache_mode.h"
#include "../calib/calibrate.h"
#include "../host/kernel.h"
#include "../vmm/targets.h"
#include "../decode/region.h"

/* One copy that touched device memory, decoded. */
struct copy_event {
	struct vfg_copy_event raw;
	const struct copy_target *target;
	bool write;               /* the device side is the destination */
	uint64_t device_addr;     /* the device-side address */
	struct region_loc region; /* with .offset of device_addr in the region */
	struct cache_decode cache;
	uint32_t hazards;         /* HAZARD_*, the destination's mode's string hazards included */
	bool measured;            /* hazards known (table, calibration or the access model) */
	bool string;              /* measured stores include a string instruction's */
	bool calibrated_now;      /* this event's case was measured just now */
	char unmeasured[160];     /* why this case could not be measured, when it was tried */
};

typedef void (*copy_event_fn)(const struct copy_event *ev, void *ctx);

/* A DMA map of QEMU's memory core into device memory, or one that failed; see vfioguard.h. */
struct dma_event {
	struct vfg_dma_event raw;
	const struct copy_target *target;
	bool device;              /* the region is a VFIO mapping: region and cache are set */
	bool bounced, failed, write, unmap;
	bool short_map;           /* granted less than asked (a failed map is not short) */
	bool offset_known;        /* region.offset is where the map starts in the region */
	struct region_loc region;
	struct cache_decode cache;
};

typedef void (*dma_event_fn)(const struct dma_event *ev, void *ctx);

struct copies_bpf;
struct ring_buffer;

#define COPIES_RETIRED_KEPT 128
/* Copies waiting for their case to be measured, at most (later ones: unmeasured). */
#define COPIES_PARKED_MAX 4096

struct copies {
	struct kernel_info kernel;
	struct copies_bpf *skel;
	struct ring_buffer *rb;
	struct copy_target targets[VFG_MAX_COPY_TARGETS];
	unsigned int n;
	/* Targets of processes that exited, whose slots were given to new ones: see
	 * copies_retired_fold. */
	struct copy_target *retired;
	size_t nretired;
	copy_event_fn fn;
	dma_event_fn dma_fn; /* set by the caller after copies_open; NULL: DMA maps not delivered */
	void *ctx;
	uint64_t events;
	bool vfio_missing; /* vfio is not loaded: no mapping can be a device's */
	struct bpf_link *spans_link; /* track_vfio_mmap: NULL when spans are not used */
	char spans_reason[128];      /* why not */
	/* Calibration of this process's libc routines, for the targets that use the same ones. */
	char build_id[96];
	uint64_t routine_vaddr[CALIB_ROUTINES];
	char cache_path[PATH_MAX];
	int cache_err;            /* the first error writing the cache (it is then only in memory) */
	/*
	 * A worker thread (loader/calib/worker.h) measures the cases missing from the table one
	 * after the other, while events keep being read; a copy of such a case waits (parked)
	 * until its case is measured, then is delivered with its hazards.
	 */
	struct calib_worker *worker; /* started with the first case to measure */
	struct parked_copy *parked;
	size_t nparked;
	uint64_t serials;         /* the last target's serial */
	uint64_t cases_loaded, cases_measured;
	/*
	 * memcpy's and memmove's 4 KiB aliasing windows from the cache (calibrate --alias), read
	 * when a target first needs one; 4096 (every placement its own case) when the cache has
	 * none, and window_reason says so.
	 */
	unsigned int alias_window[2];
	bool window_known[2];
	char window_reason[128];
	struct device_cache devices; /* the devices' PCI resources, for their regions */
};

/* vfio: where vfio is, as the caller already found it (vfio_locate), or NULL to find it here. */
int copies_open(struct copies *c, copy_event_fn fn, void *ctx, const struct vfio_location *vfio,
		const char **step);
void copies_close(struct copies *c);

/*
 * Attach to the copy routines of one process. Each returns the number of targets attached (0
 * when the process has none of that kind, with the reason in why) or -errno with the reason.
 *   libc:    memcpy, memmove, memset as the process's libc resolved them
 *   profile: the built-in VMM profiles that match the process's executable (qemu: the
 *            handlers of its RAM-device regions; where they cannot be found, its MMIO dispatch,
 *            with the reason in why and a positive return; and its DMA maps,
 *            address_space_map/unmap, where it exports them, else the reason in why)
 */
int copies_watch_libc(struct copies *c, uint32_t pid, char *why, size_t len);
int copies_watch_profile(struct copies *c, uint32_t pid, char *why, size_t len);
/* A user-named probe for one process, or every process (pid 0). */
int copies_watch_probe(struct copies *c, const struct copy_probe_spec *p, uint32_t pid,
		       char *why, size_t len);
/*
 * The retired targets r[0, *n) are the folded ones first (pid 0, serial 0: the exited
 * processes' counts of one probe, summed; its path without /proc/PID/root), then one per
 * retired process, oldest first. Folds the oldest of those until kept are left, so a
 * long-running view stays bounded and totals never go down. Pure.
 */
void copies_retired_fold(struct copy_target *r, size_t *n, size_t kept);

int copies_ringbuf_fd(const struct copies *c);
/* Waits up to timeout_ms and delivers what came. Returns events delivered or -errno. */
int copies_poll(struct copies *c, int timeout_ms);
/*
 * Delivers what is in the ring buffers, then waits up to timeout_ms for the cases being
 * measured and delivers their copies. Returns the copies still waiting for their case (0: none).
 */
size_t copies_drain(struct copies *c, int timeout_ms);
/* Calls, device calls, busy lookups and drops of one target, over all CPUs. */
void copies_target_counts(const struct copies *c, unsigned int idx, struct vfg_copy_counts *out);

/* "memcpy", "memmove-backward", "single access"...: how an event's call was classified. */
const char *copy_routine_name(unsigned int routine);

#endif /* VFIOGUARD_COPIES_H */
