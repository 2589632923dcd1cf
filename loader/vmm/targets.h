/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which functions of which VMM and libc to probe for copies into device memory: a process's
 * libc routines as its libc resolved them (IFUNC choices read from that process), QEMU's
 * RAM-device handlers, memory-core dispatch and DMA maps, and user-named functions and USDT
 * probes. Each becomes a copy target, which loader/probes/copies.c attaches. Reads ELF files
 * and /proc; attaches nothing.
 */
#ifndef VFIOGUARD_VMM_TARGETS_H
#define VFIOGUARD_VMM_TARGETS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/vfioguard.h"
#include "../calib/calibrate.h"

struct bpf_link;

/* A function or USDT probe to attach, and once attached, its probe and counts. */
struct copy_target {
	char name[96];        /* "libc memcpy/memmove", "qemu memory_region_dispatch_write", ... */
	char path[PATH_MAX];  /* the file probed */
	uint64_t offset;      /* of the probed instruction in that file */
	char usdt_provider[64]; /* a USDT probe ("" for a function) */
	char usdt_name[64];
	/* The probed function when no symbol table of the file names it (a static function). */
	char function[64];
	int32_t pid;          /* the process, or -1 for every process that runs the file */
	uint64_t start_time;  /* of that process (proc_start_time): a later one with its PID is another */
	struct vfg_copy_target t;
	/* Why the hazards of this target's copies are not measured ("" when they are). */
	char unmeasured[192];
	struct bpf_link *link;
	struct vfg_copy_counts final; /* retired targets: the counts when their process was gone */
	uint64_t serial; /* which attach this is (from 1): a slot given to another has another */
};

/*
 * A user-named probe: BINARY:SYMBOL:dst=argN,src=argN,len=argN[,like=ROUTINE] (a function,
 * arg0..arg4), or BINARY:PROVIDER:NAME:... (a USDT probe, arg0..arg11).
 */
struct copy_probe_spec {
	char binary[PATH_MAX];
	char provider[64]; /* USDT */
	char symbol[128];  /* the function, or the USDT probe's name */
	bool usdt;
	struct vfg_copy_target t;
};

/* Parses --probe's argument; 0 or -EINVAL with the reason in why. */
int copy_probe_parse(const char *spec, bool usdt, struct copy_probe_spec *p, char *why,
		     size_t len);


/*
 * pid's memcpy, memmove and memset as its libc resolved them, in t[0..2] (x86_64's memcpy is
 * its memmove: then one target serves both). The hazard table holds vfioguard's own libc's
 * routines (build_id, routine_vaddr): a target whose routine is not one of those is
 * unmeasured, with the reason. Returns the number of targets, 0 when pid maps no libc (why
 * says so), or -errno with the reason in why.
 */
int vmm_libc_targets(uint32_t pid, const char *build_id,
		     const uint64_t routine_vaddr[CALIB_ROUTINES], struct copy_target t[3],
		     char *why, size_t len);

/* The qemu profile's targets in one QEMU process. */
struct qemu_targets {
	/* Its RAM-device regions' write and read handlers, or its MMIO dispatch (see fallback). */
	struct copy_target access[2];
	size_t naccess;
	/* address_space_map, its return, memory_region_ref, address_space_unmap: all or none. */
	struct copy_target dma[4];
	size_t ndma;
	char fallback[448]; /* why the dispatch functions are probed ("" when the handlers are) */
	char dma_why[256];  /* why the DMA maps are not watched ("" when ndma is 4) */
};

/*
 * The qemu profile for pid's executable: 1 with the targets in q; 0 when the executable is no
 * QEMU (why says so); -errno with the reason in why when it is one that cannot be probed.
 */
int vmm_qemu_targets(uint32_t pid, struct qemu_targets *q, char *why, size_t len);

/*
 * A user-named probe's target for one process (pid), or every process (pid 0).
 * have_libc_build: the hazard table has a libc build to model like=ROUTINE copies with.
 * 0, or -errno with the reason in why.
 */
int vmm_probe_target(const struct copy_probe_spec *p, uint32_t pid, bool have_libc_build,
		     struct copy_target *t, char *why, size_t len);

#endif /* VFIOGUARD_VMM_TARGETS_H */
