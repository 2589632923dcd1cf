/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live pipeline below the views: the session owns the model, the verdicts of the policy in
 * force, the copy probes and the processes they watch. A copy event goes probes -> session
 * (verdict and judgement) -> model -> the view's callback, which only shows it; a DMA map goes
 * the same way. monitor, serve and audit each open one session and give it their callbacks.
 */
#ifndef VFIOGUARD_SESSION_H
#define VFIOGUARD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copies.h"
#include "kernel.h"
#include "model.h"
#include "symbolize.h"
#include "../policy/verdict.h"

/* How much a note matters, as syslog priorities (a daemon's journal reads them). */
enum session_level { SESSION_WARNING = 4, SESSION_NOTICE = 5, SESSION_INFO = 6 };

struct session_view {
	/* A copy into or out of device memory, counted in the model; v NULL when out of memory. */
	void (*copy)(const struct copy_event *ev, const struct verdict *v,
		     const struct copy_judgement *j, void *ctx);
	/* A DMA map or unmap, counted; held_by: the map that held the bounce buffer (model_dma). */
	void (*dma)(const struct dma_event *ev, const struct dma_event *held_by, void *ctx);
	/* What the session has to say: a process not watched, hazards not measured, ... */
	void (*note)(enum session_level level, const char *text, void *ctx);
	void *ctx;
};

struct session_opts {
	/* The running kernel as the caller read it (monitor_open); NULL: read it here. */
	const struct kernel_info *kernel;
	const char *policy_path;              /* the policy in force; NULL: none */
	bool copies;                          /* watch copies into device memory */
	bool libc;                            /* every libc copy of the watched processes */
	const struct copy_probe_spec *probes; /* --probe and --usdt */
	size_t nprobes;
	uint32_t pid;                         /* only this process (0: every VMM seen) */
	const char *comm;                     /* only processes of this name */
	const struct vfio_location *vfio;     /* where vfio is; NULL: look it up */
};

#define SESSION_MAX_WATCHED 1024

struct session {
	struct session_opts o;
	struct session_view view;
	struct kernel_info kernel;
	struct model model;
	struct verdicts verdicts;
	bool copies_open;
	struct copies c;
	struct symbolizer sym;
	struct proc_table watched; /* a later process with the same PID is watched again */
	bool full_said;
};

/*
 * Opens the pipeline the options ask for: 0, or a negative errno with why saying what failed
 * (nothing is left open). The session is freed by session_close.
 */
int session_open(struct session **s, const struct session_opts *o, const struct session_view *v,
		 char *why, size_t len);
/*
 * A process that maps or opens device memory: its VMM profile's probes (and libc's with libc)
 * are attached, once per process. Returns the probes of that process attached now, -1 when it
 * was watched already, is not one the options select, or copies are not watched.
 */
int session_watch(struct session *s, uint32_t pid, const char *comm);
/* Waits up to timeout_ms for copy events and delivers them. Events delivered or -errno. */
int session_poll(struct session *s, int timeout_ms);
/*
 * At the end of a run: waits for the cases still being measured (at most 10 minutes, saying
 * so) and delivers the copies that waited for them.
 */
void session_drain(struct session *s);
/* The policy in force changed: verdicts are looked up again from now on. */
void session_policy_changed(struct session *s);
/* Live copy targets first, then those of exited processes; false for a free slot. */
bool session_target_at(struct session *s, unsigned int i, const struct copy_target **t,
		       struct vfg_copy_counts *cnt);
/* Copy and DMA events the kernel could not hand over (ring buffer full), over all targets. */
uint64_t session_copies_dropped(struct session *s);
/* Frees the session; NULL is nothing. */
void session_close(struct session *s);

#endif /* VFIOGUARD_SESSION_H */
