/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The monitor's kernel side: chooses fentry/fexit or, where those are refused, kprobes, attaches
 * every hook the running kernel has, and hands decoded events to a callback.
 */
#ifndef VFIOGUARD_MONITOR_H
#define VFIOGUARD_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/vfioguard.h"
#include "../decode/cache_mode.h"
#include "../host/kernel.h"
#include "../decode/region.h"

enum monitor_hook {
	HOOK_MMAP,
	HOOK_FAULT,
	HOOK_READ,
	HOOK_WRITE,
	HOOK_UNMAP,
	HOOK_EXIT, /* __vm_area_free: VMAs freed at process exit where vm_area_free defers */
	HOOK_OPEN_GROUP, /* a VFIO group opened: a VMM about to get device fds */
	HOOK_OPEN_CDEV,  /* a VFIO device node opened (the cdev interface, 6.6+) */
	HOOK_COUNT,
};

struct hook_status {
	const char *name;     /* "mmap", "fault", ... */
	const char *function; /* the kernel function, or NULL when the kernel has none */
	const char *how;      /* "fentry/fexit" or "kprobe/kretprobe" when attached */
	bool attached;
	int err;              /* negative errno when not attached */
	char reason[160];
};

struct monitor_opts {
	uint32_t pid;          /* only this process (0: all) */
	size_t ringbuf_bytes;  /* 0: the default; else a power of two, at least one page */
	bool force_kprobes;    /* skip fentry/fexit even where they work */
	bool each_access;      /* an event per fault and per fd read or write (else counted only) */
	/*
	 * Leave the policy's decisions ring buffer alone: it has one consumer, and a monitor the
	 * user runs alongside (serve counts decisions from the kernel's rule_counts instead).
	 */
	bool no_decisions;
};

/* One event, decoded. The raw record is kept as it came. */
struct monitor_event {
	struct vfg_event raw;
	struct region_loc region; /* MMAP: from the mmap offset; RW: from the file position */
	bool region_known;        /* FAULT and UNMAP: the caller knows from the mapping */
	struct cache_decode cache;
	struct vfg_decision decision; /* VFG_EV_POLICY */
};

typedef void (*monitor_event_fn)(const struct monitor_event *ev, void *ctx);

struct monitor_bpf;
struct ring_buffer;

struct monitor {
	struct kernel_info kernel;
	struct hook_status hooks[HOOK_COUNT];
	/* Why fentry/fexit are not used, when they are not ("" otherwise). */
	char fentry_reason[160];
	struct vfio_location vfio; /* whether vfio is loaded, how its device files are recognised */
	struct monitor_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[2 * HOOK_COUNT];
	monitor_event_fn fn;
	void *ctx;
	uint64_t events; /* delivered to fn */
	bool decisions;  /* the pinned decisions of a policy in force are read too */
	const char *decisions_why; /* why not, when a policy is in force */
	/* Where monitor_open spent its time (-v): finding vfio and the hooks, BPF load, attach. */
	uint64_t lookup_ns, load_ns, attach_ns;
};

/*
 * Loads and attaches. 0 when at least one hook that shows device activity (mmap, fault, read,
 * write) is attached; else a negative errno, with every hook's reason in m->hooks and step set.
 */
int monitor_open(struct monitor *m, const struct monitor_opts *opts, monitor_event_fn fn,
		 void *ctx, const char **step);
/* Waits up to timeout_ms and delivers what came. Returns events delivered or -errno. */
int monitor_poll(struct monitor *m, int timeout_ms);
/*
 * What the kernel counted: faults of the mappings whose unmap it has not reported (by address
 * space and start), and reads and writes through device fds (summed over CPUs). 0 or -errno.
 */
typedef void (*monitor_fault_fn)(const struct vfg_fault_key *k, const struct vfg_fault_stat *s,
				 void *ctx);
typedef void (*monitor_rw_fn)(const struct vfg_rw_key *k, const struct vfg_rw_stat *s, void *ctx);
int monitor_fault_stats(struct monitor *m, monitor_fault_fn fn, void *ctx);
int monitor_rw_stats(struct monitor *m, monitor_rw_fn fn, void *ctx);
/* Deletes one entry of the fd access counts (all CPUs). 0 or -errno. */
int monitor_rw_forget(struct monitor *m, const struct vfg_rw_key *k);
/* Events the kernel could not put in the ring buffer since the start. */
uint64_t monitor_dropped(struct monitor *m);
void monitor_close(struct monitor *m);

/* Pure, for tests: a raw record to a decoded event. */
void monitor_event_decode(struct monitor_event *ev, const struct vfg_event *raw,
			  const struct kernel_info *ki);
/* "NOPAGE", "SIGBUS|HWPOISON", "0"...: a vm_fault_t as names. Returns buf. */
const char *vm_fault_format(unsigned int ret, char *buf, size_t len);

#endif /* VFIOGUARD_MONITOR_H */
