/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live pipeline below the views: the session owns the monitor's probes, the snapshot that
 * bootstraps the model, the model, the verdicts of the policy in force, the copy probes and the
 * processes they watch, and the periodic upkeep of a long-running view (one tick). An event goes
 * probes -> session -> model -> the view's callback, which only shows it: a mapping's event
 * after the model took it, a copy with its verdict and judgement, a DMA map with the map that
 * held the bounce buffer. monitor, serve and audit each open one session with their callbacks.
 */
#ifndef VFIOGUARD_SESSION_H
#define VFIOGUARD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../probes/copies.h"
#include "../host/kernel.h"
#include "../host/procs.h"
#include "model.h"
#include "../probes/monitor.h"
#include "../probes/snapshot.h"
#include "../host/symbolize.h"
#include "../../policy/verdict.h"

/* How much a note matters, as syslog priorities (a daemon's journal reads them). */
enum session_level { SESSION_WARNING = 4, SESSION_NOTICE = 5 };

struct session_view {
	/*
	 * A monitor event after the model took it. t: the mapping it is about (the new one for a
	 * successful mmap, an untracked one built from the event for a failed mmap, the mapping
	 * faulted or unmapped), NULL when it is about none (fd accesses, decisions, opens) or
	 * about a VMA that never was one.
	 */
	void (*event)(const struct monitor_event *ev, const struct model_mapping *t, void *ctx);
	/* A mapping made before the probes, from the snapshot (session_bootstrap). */
	void (*existing)(const struct model_mapping *t, const struct mapping *m, void *ctx);
	/* A process whose copies are watched from now on, with the probes attached for it. */
	void (*watched)(uint32_t pid, const char *comm, int probes, void *ctx);
	/* An unmapped mapping the tick forgets, with its final faults. */
	void (*forgotten)(const struct model_mapping *t, void *ctx);
	/* A copy into or out of device memory, counted in the model; v NULL when out of memory. */
	void (*copy)(const struct copy_event *ev, const struct verdict *v,
		     const struct copy_judgement *j, void *ctx);
	/* A DMA map or unmap, counted; held_by: the map that held the bounce buffer (model_dma). */
	void (*dma)(const struct dma_event *ev, const struct dma_event *held_by, void *ctx);
	/* What the session has to say: a process not watched, hazards not measured, ... */
	void (*note)(enum session_level level, const char *text, void *ctx);
	void *ctx;
};

/* Whose copies are watched, and with which probes (--libc, --probe, --usdt, --pid, --comm). */
struct session_watch {
	bool libc;                            /* every libc copy of the watched processes */
	const struct copy_probe_spec *probes; /* --probe and --usdt */
	size_t nprobes;
	uint32_t pid;                         /* only this process (0: every VMM seen) */
	const char *comm;                     /* only processes of this name */
};

struct session_opts {
	/* The running kernel as the caller read it (monitor_open); NULL: read it here. */
	const struct kernel_info *kernel;
	const char *policy_path;              /* the policy in force; NULL: none */
	const struct monitor_opts *monitor;   /* open the monitor's probes; NULL: none (audit) */
	struct session_watch watch;
	const struct vfio_location *vfio;     /* where vfio is; NULL: look it up */
	/*
	 * The view calls session_tick (a long-running view): each process is taken up with its
	 * start time, so that a later process with its PID is not taken for it.
	 */
	bool ticks;
	/*
	 * A view names the frames of copies' stacks: each watched process's files are read (and
	 * held open, for the last SYMBOLIZER_PROCS processes) when it is watched, so that they can
	 * be named after it exits. serve names none.
	 */
	bool stacks;
};

#define SESSION_MAX_WATCHED 1024
#define SESSION_MAX_VIEWS 4

struct session {
	struct session_opts o;
	struct session_view views[SESSION_MAX_VIEWS]; /* each called in turn */
	unsigned int nviews;
	struct kernel_info kernel;
	bool monitor_open;
	bool monitor_failed; /* session_open failed there: m.hooks says why for each hook */
	struct monitor m;
	uint64_t copies_ns;  /* how long opening the copy probes took */
	struct model model;
	struct verdicts verdicts;
	bool copies_open;
	struct copies c;
	struct symbolizer sym;
	bool full_said;
	/*
	 * The processes watched (a later process with the same PID is watched again) and, for a
	 * view that ticks, every process the session has had an event of: at each tick, one whose
	 * PID is gone or now another process's has its rows folded and its verdicts forgotten.
	 */
	struct procs procs;
};

/*
 * Opens the session: the monitor's probes when the options ask for them, the model and the
 * verdicts. 0, or a negative errno with why ("cannot STEP: REASON", monitor_failed set, m.hooks
 * saying why for each hook). *s is the session either way, unless out of memory (NULL), for the
 * caller to report what was tried and then session_close.
 */
int session_open(struct session **s, const struct session_opts *o,
		 const struct session_view *views, unsigned int nviews, char *why, size_t len);
/*
 * Loads the copy probes and attaches the --probe and --usdt targets (and watches opts.pid):
 * apart, so that a view reports the monitor's hooks before the copies speak. 0, or a negative
 * errno with why ("copies: ..."); the monitor stays open.
 */
int session_open_copies(struct session *s, char *why, size_t len);
/*
 * A process that maps or opens device memory, the one that started at start_time (clock ticks,
 * struct vfg_task): its VMM profile's probes (and libc's with libc) are attached, once per
 * process. Returns the probes of that process attached now, -1 when it was watched already, is
 * gone, is not one the options select, or copies are not watched.
 */
int session_watch(struct session *s, uint32_t pid, uint64_t start_time, const char *comm);
/*
 * The mappings made before the probes, from the snapshot (only the process of opts.pid, when
 * set): into the model, their processes watched, each handed to the view. 0, or -errno with why.
 */
int session_bootstrap(struct session *s, char *why, size_t len);
/*
 * Waits up to timeout_ms for events (split between the monitor's and the copies' when both are
 * open) and delivers them. Events delivered, or the first -errno of a poll.
 */
int session_poll(struct session *s, int timeout_ms);
/*
 * A long-running view's upkeep: takes the kernel's counts (fd accesses of exited processes
 * folded by name), hands unmapped mappings to view.forgotten and forgets them, folds the rows
 * of exited processes and forgets their verdicts. 0, or -errno reading the counts (the rest is
 * done anyway).
 */
int session_tick(struct session *s);
/* For a summary: the kernel's counts as they are, every process keeping its rows. 0 or -errno. */
int session_read_counts(struct session *s);
/*
 * At the end of a run: waits for the cases still being measured (at most 10 minutes, saying
 * so) and delivers the copies that waited for them.
 */
void session_drain(struct session *s);
/*
 * Watches the processes of a snapshot's mappings (taken by the caller, without the monitor's
 * probes): what session_watch does for each.
 */
void session_watch_snapshot(struct session *s, const struct snapshot *snap);
/* The policy in force changed: verdicts are looked up again from now on. */
void session_policy_changed(struct session *s);
/* A region the model knows, with the verdict of the policy in force (NULL: none). */
struct session_region {
	struct model_region r;
	const struct verdict *verdict;
};
/* Every region of the model with its verdict: their count, with *rows to free() (NULL: OOM). */
size_t session_regions(struct session *s, struct session_region **rows);
/* Live copy targets first, then those of exited processes; false for a free slot. */
bool session_target_at(struct session *s, unsigned int i, const struct copy_target **t,
		       struct vfg_copy_counts *cnt);
/* Copy and DMA events the kernel could not hand over (ring buffer full), over all targets. */
uint64_t session_copies_dropped(struct session *s);

/* The mappings of now by device, region, cache mode and the access the policy in force allows. */
struct session_mapping_class {
	char device[VFG_DEVICE_LEN]; /* with region, cache, access and pad, the key */
	uint32_t region;
	char cache[40];
	char access[16]; /* "direct", "fixed", "trap", or "unknown" (no verdict) */
	uint32_t pad;    /* of the key: zero */
	uint64_t n;
	UT_hash_handle hh;
};
/* Calls fn for each class with mappings, in the order first seen. 0 or -ENOMEM. */
int session_mapping_classes(struct session *s,
			    void (*fn)(const struct session_mapping_class *c, void *ctx), void *ctx);
/*
 * The monitor's callback (ctx: the session): the event into the model, its process watched on
 * mmap and open, then to the views. Public so that tests feed it recorded events.
 */
void session_monitor_event(const struct monitor_event *ev, void *ctx);
/*
 * The copy probes' callback (ctx: the session): a copy into a mapping whose driver rewrote
 * vm_pgoff gets the region of the mmap the model saw; judged, into the model, to the views.
 */
void session_copy_event(const struct copy_event *ev, void *ctx);
/* Frees the session; NULL is nothing. */
void session_close(struct session *s);

#endif /* VFIOGUARD_SESSION_H */
