/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The copies part of monitor and audit (cli/copies.c). */
#ifndef VFIOGUARD_COPIES_VIEW_H
#define VFIOGUARD_COPIES_VIEW_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../loader/probes/copies.h"
#include "../loader/model/session.h"

/* What the copies part shows; the session (loader/model/session.h) watches and judges. */
struct copy_view_opts {
	struct session_watch watch;            /* the session's (its pid and comm filter too) */
	const char *device;                    /* print only copies of this device */
	long region;                           /* and of this region (-1: any) */
	bool print;                            /* a line per flagged copy (per copy with -v) */
	uint64_t start_ns;                     /* CLOCK_MONOTONIC of the run's start */
};

struct copy_view;

/* The view, and in cb the callbacks to open its session with; NULL when out of memory. */
struct copy_view *copy_view_new(const struct copy_view_opts *o, struct session_view *cb);
/* The session the view's callbacks come from, once it is open. */
void copy_view_bind(struct copy_view *v, struct session *s);
/* Counts per target and per (process, region, hazards): printed, or added to a JSON object. */
void copy_view_summary(struct copy_view *v, struct json_object *into);
void copy_view_free(struct copy_view *v);

/* getopt values of the shared options. */
enum { OPT_COPIES = 0x1000, OPT_LIBC, OPT_PROBE, OPT_USDT };
#define COPY_VIEW_LONG_OPTIONS                                                                     \
	{ "copies", no_argument, NULL, OPT_COPIES }, { "libc", no_argument, NULL, OPT_LIBC },    \
		{ "probe", required_argument, NULL, OPT_PROBE },                                   \
		{ "usdt", required_argument, NULL, OPT_USDT }

/* --probe, --libc and --copies for monitor and audit: 1 when opt was one of them, -1 on error. */
int copy_view_option(struct copy_view_opts *o, int opt, const char *arg, bool *copies);

#endif /* VFIOGUARD_COPIES_VIEW_H */
