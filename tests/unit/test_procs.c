// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The table of processes a session takes up (seen and watched), with real processes. */
#include <stdint.h>

#include "unit.h"
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../loader/host/kernel.h"
#include "../../loader/host/procs.h"

static pid_t child(void)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (!p) {
		pause();
		_exit(0);
	}
	return p;
}

static void reap(pid_t p)
{
	kill(p, SIGKILL);
	assert_int_equal(waitpid(p, NULL, 0), p);
}

struct rec {
	uint32_t *pids, *n;
};

static void record(uint32_t pid, void *ctx)
{
	struct rec *r = ctx;

	r->pids[(*r->n)++] = pid;
}

static void gone_processes_give_their_entries(void **state)
{
	struct procs t = { .cap = 2 };
	pid_t a = child(), b = child(), me = getpid();
	uint32_t gone = 99;

	assert_int_equal(procs_watch(&t, me, proc_start_time(me), &gone), 0);
	assert_int_equal(gone, 0);
	assert_int_equal(procs_watch(&t, a, proc_start_time(a), &gone), 0);
	assert_int_equal(procs_watch(&t, me, proc_start_time(me), &gone), 1);
	/* Full of processes that are alive. */
	assert_int_equal(procs_watch(&t, b, proc_start_time(b), &gone), -ENOSPC);
	assert_int_equal(t.nwatched, 2);
	/* a is gone: b gets its entry, and the caller is told whose it was. */
	reap(a);
	assert_int_equal(procs_watch(&t, b, proc_start_time(b), &gone), 0);
	assert_int_equal(gone, a);
	assert_int_equal(t.nwatched, 2);
	assert_int_equal(procs_watch(&t, b, proc_start_time(b), &gone), 1);
	assert_int_equal(procs_watch(&t, me, proc_start_time(me), &gone), 1);
	/* A later process with b's PID (a later start time) is another one. */
	assert_int_equal(procs_watch(&t, b, proc_start_time(b) + 1, &gone), 0);
	assert_int_equal(gone, b);
	assert_int_equal(t.nwatched, 2);
	/* A process that is gone already is not taken up. */
	assert_int_equal(procs_watch(&t, a, proc_start_time(a), &gone), -ESRCH);
	reap(b);
	procs_free(&t);
	(void)state;
}

/* Seen and watched in one entry; a tick lets go of what exited and takes a reused PID anew. */
static void seen_and_watched(void **state)
{
	struct procs t = { .cap = 1 };
	pid_t a = child(), b = child();
	uint32_t gone, reused[4], nreused = 0;
	struct proc *p;

	assert_true(procs_seen(&t, a, proc_start_time(a)));
	/* b seen as an earlier process with its PID: reused, then the later process's. */
	assert_true(procs_seen(&t, b, proc_start_time(b) - 1));
	assert_int_equal(procs_watch(&t, a, proc_start_time(a), &gone), 0);
	assert_int_equal(HASH_COUNT(t.by_pid), 2); /* one entry for a, seen and watched */
	p = procs_find(&t, a);
	assert_true(p->seen);
	assert_int_equal(p->watched, proc_start_time(a));
	reap(a);
	procs_tick_start(&t, record, &(struct rec){ reused, &nreused });
	assert_int_equal(nreused, 1);
	assert_int_equal(reused[0], b);
	assert_false(procs_alive(&t, a));
	assert_false(procs_alive(&t, b));
	procs_tick_end(&t);
	assert_true(procs_alive(&t, b));
	assert_int_equal(procs_find(&t, b)->start_time, proc_start_time(b));
	/* a exited: no longer seen, still watched (its place is given when needed). */
	p = procs_find(&t, a);
	assert_non_null(p);
	assert_false(p->seen);
	assert_int_equal(procs_watch(&t, b, proc_start_time(b), &gone), 0);
	assert_int_equal(gone, a);
	assert_null(procs_find(&t, a)); /* neither seen nor watched: let go */
	assert_int_equal(HASH_COUNT(t.by_pid), 1);
	reap(b);
	procs_tick_start(&t, record, &(struct rec){ reused, &nreused });
	procs_tick_end(&t);
	assert_false(procs_find(&t, b)->seen);
	procs_free(&t);
	assert_null(t.by_pid);
	(void)state;
}

struct self {
	char exe[PATH_MAX];
	int lines, found;
};

static int find_self(const struct maps_line *l, void *ctx)
{
	struct self *s = ctx;

	s->lines++;
	s->found = !strcmp(l->path, s->exe) && l->offset == 0 && l->end > l->start;
	return s->found;
}

/* This process's own mappings, read as every reader of /proc/PID/maps reads them. */
static void maps_lines(void **state)
{
	struct self me = {};
	ssize_t n = readlink("/proc/self/exe", me.exe, sizeof(me.exe) - 1);
	uint64_t lo = 1, hi = 1;

	assert_true(n > 0);
	/* fn's non-zero return ends the walk: the executable's first mapping, then no more. */
	assert_int_equal(proc_maps_foreach(getpid(), find_self, &me), 0);
	assert_int_equal(me.found, 1);
	assert_true(me.lines >= 1);
	assert_int_equal(proc_vfio_span(getpid(), &lo, &hi), 0);
	assert_int_equal(lo, 0); /* no VFIO device mapped here */
	assert_int_equal(hi, 0);
	assert_int_equal(proc_maps_foreach(0x7fffffff, find_self, &me), -ENOENT);
	(void)state;
}

UNIT_MAIN(cmocka_unit_test(gone_processes_give_their_entries), cmocka_unit_test(seen_and_watched),
	  cmocka_unit_test(maps_lines))
