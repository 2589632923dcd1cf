/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The calibration worker: a thread that owns a calibrator and measures the cases asked of it
 * one after the other while its caller goes on (the copy probes keep reading events). A case
 * that failed is not measured again before its back-off ends.
 */
#ifndef VFIOGUARD_CALIB_WORKER_H
#define VFIOGUARD_CALIB_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bpf/vfioguard.h"
#include "calibrate.h"

struct calib_worker;

/* A case the worker measured, or failed to. */
struct calib_measured {
	struct calib_case cc;
	struct vfg_hazard_key key;
	int err;
	uint32_t packed; /* hazards, packed as CALIB_LOAD_SHIFT says */
	char step[128];  /* what failed, when starting the calibrator did */
};

/*
 * Asks for a case (one asked and not yet taken is not asked twice); the first ask starts the
 * worker in *w. 0 or -errno.
 */
int calib_worker_ask(struct calib_worker **w, const struct calib_case *cc,
		     const struct vfg_hazard_key *k);
/* Takes a case measured since: true with it in *m (a failure starts the case's back-off). */
bool calib_worker_take(struct calib_worker *w, struct calib_measured *m);
/* The failure of a case whose back-off has not ended, or NULL (w may be NULL). */
const struct calib_failure *calib_worker_failed(const struct calib_worker *w,
						const struct vfg_hazard_key *k);
/* Waits up to ms milliseconds for the worker to finish a case. */
void calib_worker_wait(struct calib_worker *w, int ms);
/* Stops the case being measured and the worker, and frees it (w may be NULL). */
void calib_worker_stop(struct calib_worker *w);

#endif /* VFIOGUARD_CALIB_WORKER_H */
