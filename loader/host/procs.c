// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The processes a session has taken up; see procs.h. */
#include <errno.h>
#include <stdlib.h>

#include "kernel.h"
#include "procs.h"

struct proc *procs_find(struct procs *t, uint32_t pid)
{
	struct proc *p;

	HASH_FIND(hh, t->by_pid, &pid, sizeof(pid), p);
	return p;
}

static struct proc *add(struct procs *t, uint32_t pid)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	HASH_ADD(hh, t->by_pid, pid, sizeof(p->pid), p);
	if (!p->hh.tbl) { /* the table could not grow */
		free(p);
		return NULL;
	}
	return p;
}

/* Lets go of an entry neither seen nor watched any more. */
static void drop_if_unused(struct procs *t, struct proc *p)
{
	if (p->seen || p->watched)
		return;
	HASH_DEL(t->by_pid, p);
	free(p);
}

bool procs_seen(struct procs *t, uint32_t pid, uint64_t start_time)
{
	struct proc *p = procs_find(t, pid);

	if (p && p->seen)
		return true;
	if (!p && !(p = add(t, pid)))
		return false;
	p->seen = true;
	p->start_time = start_time;
	return true;
}

int procs_watch(struct procs *t, uint32_t pid, uint64_t start_time, uint32_t *gone)
{
	struct proc *p = procs_find(t, pid), *q, *next;

	*gone = 0;
	if (!start_time)
		return -ESRCH;
	if (p && p->watched) {
		if (p->watched == start_time)
			return 1;
		/* The PID of a process that is gone, used again: its place is the new one's. */
		*gone = pid;
		p->watched = start_time;
		return 0;
	}
	/* Its entry first: out of memory, no other process has lost its place. */
	if (!p && !(p = add(t, pid)))
		return -ENOMEM;
	if (t->nwatched >= t->cap) {
		struct proc *victim = NULL;

		HASH_ITER(hh, t->by_pid, q, next)
			if (q->watched && proc_start_time(q->pid) != q->watched) {
				victim = q;
				break;
			}
		if (!victim) {
			drop_if_unused(t, p);
			return -ENOSPC;
		}
		*gone = victim->pid;
		victim->watched = 0;
		t->nwatched--;
		drop_if_unused(t, victim);
	}
	p->watched = start_time;
	t->nwatched++;
	return 0;
}

void procs_tick_start(struct procs *t, void (*reused)(uint32_t pid, void *ctx), void *ctx)
{
	struct proc *p, *next;

	HASH_ITER(hh, t->by_pid, p, next) {
		if (!p->seen)
			continue;
		p->now = proc_start_time(p->pid);
		/* A start time that cannot be read (out of descriptors) is no proof of exit. */
		p->gone = p->start_time && p->now ? p->now != p->start_time : !proc_same(p->pid, 0);
		if (p->gone && p->start_time && p->now && reused)
			reused(p->pid, ctx);
	}
}

bool procs_alive(struct procs *t, uint32_t pid)
{
	struct proc *p = procs_find(t, pid);

	return p && p->seen ? !p->gone : proc_same(pid, 0);
}

void procs_tick_end(struct procs *t)
{
	struct proc *p, *next;

	HASH_ITER(hh, t->by_pid, p, next) {
		if (!p->seen || !p->gone)
			continue;
		p->gone = false;
		if (p->start_time && p->now) {
			p->start_time = p->now; /* the PID is the later process's from now on */
			continue;
		}
		p->seen = false;
		drop_if_unused(t, p);
	}
}

void procs_free(struct procs *t)
{
	struct proc *p, *next;

	HASH_ITER(hh, t->by_pid, p, next) {
		HASH_DEL(t->by_pid, p);
		free(p);
	}
	t->nwatched = 0;
}
