// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The session's wiring, without BPF: a monitor event reaches every view after the model took it,
 * and the tick forgets unmapped mappings (each handed to the views first), folds the mappings of
 * processes gone at two ticks in a row and forgets their verdicts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "unit.h"

#include "../../loader/model/session.h"


/* No process has this PID: pid_max is at most 2^22. */
#define GONE_PID 4194304

/* An event of QEMU as a PID no process has. */
static struct monitor_event event(uint32_t type, uint64_t start, int64_t ret)
{
	return qemu_event(type, GONE_PID, 0x1000, start, ret);
}

struct seen {
	struct session *s;
	unsigned int events, with_mapping, forgotten;
	size_t nall_at_event;       /* the model's mappings when the view was called */
	uint64_t forgotten_start;
};

static void on_event(const struct monitor_event *ev, const struct model_mapping *t, void *ctx)
{
	struct seen *v = ctx;

	v->events++;
	v->with_mapping += t != NULL;
	v->nall_at_event = v->s->model.nall;
}

static void on_forgotten(const struct model_mapping *t, void *ctx)
{
	struct seen *v = ctx;

	v->forgotten++;
	v->forgotten_start = t->start;
}

static struct session *open_with(struct seen v[2])
{
	const struct session_view views[2] = {
		{ .event = on_event, .forgotten = on_forgotten, .ctx = &v[0] },
		{ .event = on_event, .forgotten = on_forgotten, .ctx = &v[1] },
	};
	const struct session_opts o = { .kernel = &k612, .ticks = true };
	struct session *s;
	char why[256];

	assert_int_equal(session_open(&s, &o, views, 2, why, sizeof(why)), 0);
	assert_false(s->monitor_open || s->copies_open);
	v[0].s = v[1].s = s;
	return s;
}

static void events_reach_views_after_the_model(void **state)
{
	struct seen v[2] = {};
	struct session *s = open_with(v);
	struct monitor_event ev = event(VFG_EV_MMAP, 0x7f0000000000, 0);

	session_monitor_event(&ev, s);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(v[i].events, 1);
		assert_int_equal(v[i].with_mapping, 1);
		assert_int_equal(v[i].nall_at_event, 1); /* the model had it first */
	}
	/* A failed mmap is shown with a mapping built from the event, never tracked. */
	ev = event(VFG_EV_MMAP, 0x7f0000100000, -1);
	session_monitor_event(&ev, s);
	assert_int_equal(v[0].with_mapping, 2);
	assert_int_equal(s->model.nall, 1);
	/* An fd access is about no mapping. */
	ev = event(VFG_EV_RW, 0, 0);
	session_monitor_event(&ev, s);
	assert_int_equal(v[1].events, 3);
	assert_int_equal(v[1].with_mapping, 2);
	/* Unmapped: the views see it, and the tick hands it to each before forgetting it. */
	ev = event(VFG_EV_UNMAP, 0x7f0000000000, 0);
	session_monitor_event(&ev, s);
	assert_int_equal(v[0].with_mapping, 3);
	assert_int_equal(session_tick(s), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(v[i].forgotten, 1);
		assert_int_equal(v[i].forgotten_start, 0x7f0000000000);
	}
	assert_int_equal(s->model.nall, 0);
	session_close(s);
	(void)state;
}

struct copy_seen {
	unsigned int copies;
	struct region_loc region;
};

static void on_copy(const struct copy_event *ev, const struct verdict *v,
		    const struct copy_judgement *j, void *ctx)
{
	struct copy_seen *c = ctx;

	c->copies++;
	c->region = ev->region;
	(void)v, (void)j;
}

/*
 * A copy into a mapping a variant driver made itself carries no region (vm_pgoff says none):
 * the region of the mmap the model saw, at the copy's offset in it; unknown when it was not seen.
 */
static void a_driver_mapped_copy_takes_the_mmaps_region(void **state)
{
	struct copy_seen c = {};
	const struct session_view view = { .copy = on_copy, .ctx = &c };
	const struct session_opts o = { .kernel = &k612, .ticks = true };
	struct monitor_event mmap = event(VFG_EV_MMAP, 0x7f0000000000, 0);
	struct copy_event copy = { .device_addr = 0x7f0000000040 };
	struct session *s;
	char why[256];

	assert_int_equal(session_open(&s, &o, &view, 1, why, sizeof(why)), 0);
	session_monitor_event(&mmap, s);
	copy.raw.task = mmap.raw.task;
	copy.raw.vma = mmap.raw.vma;
	copy.raw.vma.flags = VFG_VMA_DRIVER_MAPPED;
	copy.region = region_driver_mapped();
	session_copy_event(&copy, s);
	assert_int_equal(c.copies, 1);
	assert_int_equal(c.region.index, 2);
	assert_int_equal(c.region.offset, 0x3040); /* the mapping starts 0x3000 into BAR2 */
	/* A mapping the model never saw: still unknown. */
	copy.raw.vma.start = copy.device_addr = 0x7f0000200000;
	session_copy_event(&copy, s);
	assert_int_equal(c.region.index, REGION_UNKNOWN);
	assert_int_equal(c.region.source, REGION_FROM_DRIVER);
	session_close(s);
	(void)state;
}

static void tick_folds_what_is_gone(void **state)
{
	struct seen v[2] = {};
	struct session *s = open_with(v);
	struct monitor_event ev = event(VFG_EV_MMAP, 0x7f0000000000, 0);

	session_monitor_event(&ev, s);
	assert_non_null(verdict_of(&s->verdicts, GONE_PID, "qemu", "0000:00:04.0", 2,
				   CACHE_X86_UC_MINUS));
	assert_int_equal(verdicts_count(&s->verdicts), 1);
	/* Its unmap was lost (a full ring): gone at one tick, then at the next: forgotten after. */
	session_tick(s);
	assert_int_equal(verdicts_count(&s->verdicts), 0);
	assert_int_equal(v[0].forgotten, 0);
	session_tick(s);
	assert_int_equal(v[0].forgotten, 0);
	session_tick(s);
	assert_int_equal(v[0].forgotten, 1);
	assert_int_equal(v[1].forgotten, 1);
	assert_int_equal(s->model.nall, 0);
	session_close(s);
	(void)state;
}

/*
 * A process is told from a later one with its PID by its start time: this test's own process,
 * taken up with another start time (as if its PID had been reused since), has its rows folded
 * and its verdicts forgotten at the tick; with its own, it stays.
 */
static void a_reused_pid_is_another_process(void **state)
{
	struct seen v[2] = {};
	struct session *s = open_with(v);
	struct monitor_event ev = event(VFG_EV_MMAP, 0x7f0000000000, 0);
	uint32_t me = getpid();
	struct proc *p;

	ev.raw.task.tgid = me;
	ev.raw.task.start_time = proc_start_time(me);
	session_monitor_event(&ev, s);
	p = procs_find(&s->procs, me);
	assert_non_null(p);
	assert_int_equal(p->start_time, proc_start_time(me)); /* the event's */
	assert_non_null(verdict_of(&s->verdicts, me, "qemu", "0000:00:04.0", 2, CACHE_X86_UC_MINUS));
	session_tick(s);
	assert_int_equal(verdicts_count(&s->verdicts), 1); /* alive: kept */
	assert_false(s->model.all[0]->gone_once);
	p->start_time += 1; /* the process taken up was an earlier one with this PID */
	session_tick(s);
	/* Its verdicts forgotten, its mapping unmapped and handed to the views at once. */
	assert_int_equal(verdicts_count(&s->verdicts), 0);
	assert_int_equal(v[0].forgotten, 1);
	assert_int_equal(s->model.nall, 0);
	/* The PID is the later process's from now on: its mappings stay. */
	p = procs_find(&s->procs, me);
	assert_non_null(p);
	assert_int_equal(p->start_time, proc_start_time(me));
	ev = event(VFG_EV_MMAP, 0x7f0000100000, 0);
	ev.raw.task.tgid = me;
	session_monitor_event(&ev, s);
	session_tick(s);
	session_tick(s);
	assert_int_equal(s->model.nall, 1);
	assert_false(s->model.all[0]->unmapped);
	session_close(s);
	(void)state;
}

UNIT_MAIN(cmocka_unit_test(events_reach_views_after_the_model),
	  cmocka_unit_test(a_driver_mapped_copy_takes_the_mmaps_region),
	  cmocka_unit_test(tick_folds_what_is_gone),
	  cmocka_unit_test(a_reused_pid_is_another_process))
