/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The processes a session has taken up, by PID, each with its start time: a later process with
 * the PID is another one (kill(pid, 0) alone would take it for the first). A process is in the
 * table for two reasons, each with the start time of the process it was taken up as:
 * - seen (a view that ticks: the model has rows of it): at each tick, one whose PID is gone or
 *   now another process's is found out (procs_tick_start) and let go (procs_tick_end);
 * - watched (its copy probes are attached): at most cap of them; when that many are watched,
 *   one that is gone gives its place to the new one.
 */
#ifndef VFIOGUARD_PROCS_H
#define VFIOGUARD_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

struct proc {
	uint32_t pid;
	bool seen;
	uint64_t start_time;   /* seen as this process (0: its start time could not be read) */
	uint64_t watched;      /* the start time of the process watched, 0: not watched */
	bool gone;             /* seen, and gone at this tick */
	uint64_t now;          /* the start time of the process with the PID at this tick */
	UT_hash_handle hh;
};

struct procs {
	struct proc *by_pid;
	size_t nwatched, cap; /* cap: the most watched at once (the caller sets it) */
};

/*
 * Takes up PID as seen the first time, as the process that started at start_time (clock ticks,
 * from the record that showed it: struct vfg_task). false out of memory.
 */
bool procs_seen(struct procs *t, uint32_t pid, uint64_t start_time);
struct proc *procs_find(struct procs *t, uint32_t pid);

/*
 * Watches the process PID that started at start_time. 1 when it is watched already; 0 when it
 * is now, with *gone the PID of the process whose place it got (0 for a new place: the caller
 * lets go of what it kept for *gone, which may be PID itself); -ENOSPC when cap processes that
 * are all alive are watched; -ESRCH when start_time is 0 (the process is gone); -ENOMEM.
 */
int procs_watch(struct procs *t, uint32_t pid, uint64_t start_time, uint32_t *gone);

/*
 * The tick: which processes seen are gone (reused called for each one whose PID is now another
 * process's); procs_alive answers from that until procs_tick_end, which forgets those that
 * exited and takes a reused PID as the later process's from then on.
 */
void procs_tick_start(struct procs *t, void (*reused)(uint32_t pid, void *ctx), void *ctx);
/* Alive as the tick found it; a process not seen: whether any process has the PID. */
bool procs_alive(struct procs *t, uint32_t pid);
void procs_tick_end(struct procs *t);

void procs_free(struct procs *t);

#endif /* VFIOGUARD_PROCS_H */
