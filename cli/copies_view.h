/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The copies part of monitor and audit (cli/copies.c). */
#ifndef VFIOGUARD_COPIES_VIEW_H
#define VFIOGUARD_COPIES_VIEW_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../loader/copies.h"

struct copy_view_opts {
	bool libc;                             /* every libc copy of the watched processes */
	const struct copy_probe_spec *probes;  /* --probe */
	size_t nprobes;
	uint32_t pid;                          /* only this process (0: every VMM seen) */
	const char *comm;                      /* only processes of this name */
	const char *device;                    /* print only copies of this device */
	long region;                           /* and of this region (-1: any) */
	bool print;                            /* a line per flagged copy (per copy with -v) */
	uint64_t start_ns;                     /* CLOCK_MONOTONIC of the run's start */
	/* Where vfio is, as the caller found it; NULL: look it up. */
	const struct vfio_location *vfio;
	/* Where the counts go (the caller's model, read by its views); NULL: the view's own. */
	struct model *model;
};

struct copy_view;
struct model;

/* Loads the copies program and attaches --probe targets. -errno after printing why. */
int copy_view_open(struct copy_view **v, const struct copy_view_opts *o);
/*
 * A process that maps device memory: attach its VMM profile (and libc with --libc), once.
 * Returns the probes of that process attached now, -1 when it was watched already or is not
 * one the options select.
 */
int copy_view_watch(struct copy_view *v, uint32_t pid, const char *comm);
int copy_view_poll(struct copy_view *v, int timeout_ms);
/*
 * At the end of a run: waits for the cases still being measured (at most 10 minutes, saying
 * so on stderr) and delivers the copies that waited for them.
 */
void copy_view_drain(struct copy_view *v);
uint64_t copy_view_violations(const struct copy_view *v);
/* Counts per target and per (process, region, hazards): printed, or added to a JSON object. */
void copy_view_summary(struct copy_view *v, struct json_object *into);
void copy_view_close(struct copy_view *v);
/* The policy in force changed: verdicts are looked up again from now on. */
void copy_view_policy_changed(struct copy_view *v);
/* Copy and DMA events the kernel could not hand over (ring buffer full), over all targets. */
uint64_t copy_view_dropped(struct copy_view *v);

/* getopt values of the shared options. */
enum { OPT_COPIES = 0x1000, OPT_LIBC, OPT_PROBE, OPT_USDT };
#define COPY_VIEW_LONG_OPTIONS                                                                     \
	{ "copies", no_argument, NULL, OPT_COPIES }, { "libc", no_argument, NULL, OPT_LIBC },    \
		{ "probe", required_argument, NULL, OPT_PROBE },                                   \
		{ "usdt", required_argument, NULL, OPT_USDT }

/* --probe, --libc and --copies for monitor and audit: 1 when opt was one of them, -1 on error. */
int copy_view_option(struct copy_view_opts *o, int opt, const char *arg, bool *copies);

#endif /* VFIOGUARD_COPIES_VIEW_H */
