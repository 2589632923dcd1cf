// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The live pipeline below the views; see session.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "session.h"

static void say(struct session *s, enum session_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct session *s, enum session_level level, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (unsigned int i = 0; i < s->nviews; i++)
		if (s->views[i].note)
			s->views[i].note(level, text, s->views[i].ctx);
}

/*
 * Takes up a process the first time it is seen, with the start time the record carries: read
 * at the event, it cannot be a later process's that got the PID since.
 */
static void seen(struct session *s, const struct vfg_task *task)
{
	/* Out of memory, it is told apart by kill(pid, 0) only. */
	if (task->tgid && s->o.ticks)
		procs_seen(&s->procs, task->tgid, task->start_time);
}

/*
 * A copy into a mapping whose driver rewrote vm_pgoff has no region of its own: the one the
 * mapping was made with, when the monitor saw its mmap. The mmap ended before the copy could
 * touch the mapping, so its record is in the monitor's ring if it is not in the model yet: the
 * rings are read one after the other.
 */
static void region_from_model(struct session *s, struct copy_event *ev)
{
	const struct model_mapping *t;

	if (ev->region.source != REGION_FROM_DRIVER)
		return;
	t = model_find(&s->model, ev->raw.vma.mm, ev->raw.vma.start);
	if (!t && s->monitor_open && monitor_poll(&s->m, 0) > 0)
		t = model_find(&s->model, ev->raw.vma.mm, ev->raw.vma.start);
	if (!t || t->region.index == REGION_UNKNOWN)
		return;
	ev->region = t->region;
	ev->region.offset += ev->device_addr - ev->raw.vma.start;
}

void session_copy_event(const struct copy_event *in, void *ctx)
{
	struct session *s = ctx;
	struct copy_event ev = *in;
	const struct verdict *v;
	struct copy_judgement j;

	region_from_model(s, &ev);
	v = verdict_of(&s->verdicts, ev.raw.task.tgid, ev.raw.task.comm, ev.raw.device,
		       ev.region.index, ev.cache.mode);
	j = verdict_judge_copy(v, ev.hazards, ev.measured);
	seen(s, &ev.raw.task);
	model_copy(&s->model, &ev, j.violation);
	for (unsigned int i = 0; i < s->nviews; i++)
		if (s->views[i].copy)
			s->views[i].copy(&ev, v, &j, s->views[i].ctx);
}

static void on_dma(const struct dma_event *ev, void *ctx)
{
	struct session *s = ctx;
	const struct dma_event *held_by;

	seen(s, &ev->raw.task);
	held_by = model_dma(&s->model, ev);

	for (unsigned int i = 0; i < s->nviews; i++)
		if (s->views[i].dma)
			s->views[i].dma(ev, held_by, s->views[i].ctx);
}

void session_monitor_event(const struct monitor_event *ev, void *ctx)
{
	struct session *s = ctx;
	const struct vfg_event *r = &ev->raw;
	struct model_mapping failed, *t = NULL;

	seen(s, &r->task);
	switch (r->type) {
	case VFG_EV_MMAP:
		if (r->ret == 0) {
			t = model_mmap(&s->model, ev);
			if (!t)
				return; /* out of memory: not tracked, not shown */
			session_watch(s, r->task.tgid, r->task.start_time, r->task.comm);
		} else {
			/* Shown, never tracked: there is no mapping. */
			model_mapping_from_event(&failed, ev);
			t = &failed;
		}
		break;
	case VFG_EV_FAULT:
		t = model_fault(&s->model, ev);
		break;
	case VFG_EV_UNMAP:
		t = model_unmap(&s->model, ev);
		break;
	case VFG_EV_OPEN:
		/* Probes in place before its first mapping, and so before its first copy. */
		session_watch(s, r->task.tgid, r->task.start_time, r->task.comm);
		break;
	}
	for (unsigned int i = 0; i < s->nviews; i++)
		if (s->views[i].event)
			s->views[i].event(ev, t, s->views[i].ctx);
}

static int open_copies(struct session *s, char *why, size_t len)
{
	const char *step = NULL;
	int err;

	err = copies_open(&s->c, session_copy_event, s, s->o.vfio, &step);
	if (err) {
		snprintf(why, len, "copies: cannot %s: %s", step, kernel_strerror(err));
		return err;
	}
	s->copies_open = true;
	s->c.dma_fn = on_dma;
	if (s->c.vfio_missing)
		say(s, SESSION_NOTICE, "vfio is not loaded: no copy can touch device memory (calls "
		    "are only counted)");
	for (size_t i = 0; i < s->o.watch.nprobes; i++) {
		char probe[512];

		err = copies_watch_probe(&s->c, &s->o.watch.probes[i], s->o.watch.pid, probe, sizeof(probe));
		if (err < 0) {
			snprintf(why, len, "copies: %s", probe);
			return err;
		}
	}
	return 0;
}

static void close_copies(struct session *s)
{
	if (s->copies_open)
		copies_close(&s->c);
	s->copies_open = false;
}

/* Every probe detached, the monitor's and the copies'. */
static void detach(struct session *s)
{
	close_copies(s);
	if (s->monitor_open)
		monitor_close(&s->m);
	s->monitor_open = false;
}

int session_open(struct session **out, const struct session_opts *o,
		 const struct session_view *views, unsigned int nviews, char *why, size_t len)
{
	struct session *s = calloc(1, sizeof(*s));
	const struct vfio_location *vfio = o->vfio;
	const char *step = NULL;
	int err;

	*out = s;
	if (!s) {
		snprintf(why, len, "session: out of memory");
		return -ENOMEM;
	}
	s->o = *o;
	s->nviews = nviews < SESSION_MAX_VIEWS ? nviews : SESSION_MAX_VIEWS;
	for (unsigned int i = 0; i < s->nviews; i++)
		s->views[i] = views[i];
	s->procs.cap = SESSION_MAX_WATCHED;
	if (o->monitor) {
		err = monitor_open(&s->m, o->monitor, session_monitor_event, s, &step);
		if (err) {
			monitor_close(&s->m);
			s->monitor_failed = true;
			snprintf(why, len, "cannot %s: %s", step, strerror(-err));
			return err;
		}
		s->monitor_open = true;
		s->kernel = s->m.kernel;
		vfio = &s->m.vfio; /* found once, by monitor_open */
	} else if (o->kernel) {
		s->kernel = *o->kernel;
	} else {
		kernel_info_read(&s->kernel);
	}
	s->o.vfio = vfio;
	model_init(&s->model, kernel_page_shift(&s->kernel));
	verdicts_init(&s->verdicts, s->kernel.arch, &host_resolver, o->policy_path);
	return 0;
}

int session_open_copies(struct session *s, char *why, size_t len)
{
	uint64_t t0 = monotonic_ns();
	int err;

	err = open_copies(s, why, len);
	if (err) {
		close_copies(s);
		return err;
	}
	if (s->o.watch.pid)
		session_watch(s, s->o.watch.pid, proc_start_time(s->o.watch.pid), NULL);
	s->copies_ns = monotonic_ns() - t0;
	return 0;
}

int session_watch(struct session *s, uint32_t pid, uint64_t start_time, const char *comm)
{
	struct proc *p = procs_find(&s->procs, pid);
	char why[512] = "";
	uint32_t gone;
	int n, total = 0;

	if (!s->copies_open || (s->o.watch.pid && pid != s->o.watch.pid))
		return -1;
	if (comm && s->o.watch.comm && strcmp(comm, s->o.watch.comm))
		return -1;
	/* Watched already as this process (each of its mmaps says so): no /proc read. */
	if (p && start_time && p->watched == start_time)
		return -1;
	/* Gone, or its PID another process's, since the record that named it: nothing to watch. */
	if (!proc_same(pid, start_time))
		return -1;
	n = procs_watch(&s->procs, pid, start_time, &gone);
	if (n == -ENOSPC && !s->full_said)
		say(s, SESSION_WARNING, "pid %u (%s): its copies are not watched: %zu processes "
		    "are watched already, and all of them are alive", pid, comm ? comm : "?",
		    s->procs.cap);
	else if (n == -ENOMEM)
		say(s, SESSION_WARNING, "pid %u: its copies are not watched: out of memory", pid);
	if (n == -ENOSPC)
		s->full_said = true; /* said once until one is watched again */
	if (n)
		return -1;
	s->full_said = false;
	if (gone) {
		symbolizer_forget(&s->sym, gone);
		verdicts_forget_pid(&s->verdicts, gone);
	}
	if (s->o.stacks)
		symbolizer_add(&s->sym, pid);
	n = copies_watch_profile(&s->c, pid, why, sizeof(why));
	if (n < 0)
		say(s, SESSION_WARNING, "%s", why);
	else if (n == 0 && !s->o.watch.libc)
		say(s, SESSION_NOTICE, "%s; its libc copies are not watched (--libc watches them)",
		    why);
	else if (n > 0 && why[0])
		say(s, SESSION_NOTICE, "%s", why);
	if (s->o.watch.libc) {
		n = copies_watch_libc(&s->c, pid, why, sizeof(why));
		if (n < 0)
			say(s, SESSION_WARNING, "%s", why);
	}
	for (unsigned int i = 0; i < s->c.n; i++)
		if (s->c.targets[i].pid == (int32_t)pid && s->c.targets[i].unmeasured[0])
			say(s, SESSION_NOTICE, "%s: hazards not measured: %s", s->c.targets[i].name,
			    s->c.targets[i].unmeasured);
	/* With the --probe and --usdt targets of this process attached before. */
	for (unsigned int i = 0; i < s->c.n; i++)
		if (s->c.targets[i].pid == (int32_t)pid && s->c.targets[i].link)
			total++;
	for (unsigned int i = 0; i < s->nviews; i++)
		if (s->views[i].watched)
			s->views[i].watched(pid, comm, total, s->views[i].ctx);
	return total;
}

int session_bootstrap(struct session *s, char *why, size_t len)
{
	struct snapshot snap;
	int err = snapshot_take(&snap);

	if (err) {
		snprintf(why, len, "cannot list the existing mappings: cannot %s: %s",
			 snap.failed_step, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < snap.count; i++) {
		const struct mapping *m = &snap.mappings[i];
		struct model_mapping *t;

		if (s->o.watch.pid && m->task.tgid != s->o.watch.pid)
			continue;
		t = model_existing(&s->model, m);
		if (!t)
			continue; /* its mmap was seen already */
		seen(s, &m->task);
		session_watch(s, m->task.tgid, m->task.start_time, m->task.comm);
		for (unsigned int v = 0; v < s->nviews; v++)
			if (s->views[v].existing)
				s->views[v].existing(t, m, s->views[v].ctx);
	}
	snapshot_free(&snap);
	return 0;
}

int session_poll(struct session *s, int timeout_ms)
{
	bool both = s->monitor_open && s->copies_open;
	int n = 0, err = 0, got;

	/* Both rings are read whatever the other said: a run's last drain loses neither. */
	if (s->monitor_open) {
		got = monitor_poll(&s->m, both ? timeout_ms / 2 : timeout_ms);
		if (got < 0)
			err = got;
		else
			n += got;
	}
	if (s->copies_open) {
		got = copies_poll(&s->c, both ? timeout_ms - timeout_ms / 2 : timeout_ms);
		if (got < 0 && !err)
			err = got;
		else if (got > 0)
			n += got;
	}
	return err ? err : n;
}

/* Whether a process is alive, as the tick found it. */
static bool pid_alive(uint32_t pid, void *ctx)
{
	struct session *s = ctx;

	return procs_alive(&s->procs, pid);
}

/*
 * The mappings of a process whose PID is now another process's are unmapped at once: it exited
 * long ago (its unmap events, unless lost, came long ago too), and from the next tick on its PID
 * is the later process's.
 */
static void reused(uint32_t pid, void *ctx)
{
	struct session *s = ctx;

	model_unmap_process(&s->model, pid);
}

static void forgotten(const struct model_mapping *t, void *ctx)
{
	struct session *s = ctx;

	for (unsigned int i = 0; i < s->nviews; i++)
		if (s->views[i].forgotten)
			s->views[i].forgotten(t, s->views[i].ctx);
}

int session_tick(struct session *s)
{
	int err;

	/* Which processes are gone, once per tick: all of a process's rows are judged alike. */
	procs_tick_start(&s->procs, reused, s);
	err = s->monitor_open ? model_read_counts(&s->model, &s->m, pid_alive, s) : 0;
	model_forget_unmapped(&s->model, forgotten, s);
	model_fold_exited(&s->model, pid_alive, s);
	verdicts_forget_exited(&s->verdicts, pid_alive, s);
	procs_tick_end(&s->procs);
	return err;
}

int session_read_counts(struct session *s)
{
	return s->monitor_open ? model_read_counts(&s->model, &s->m, NULL, NULL) : 0;
}

void session_drain(struct session *s)
{
	size_t left;

	if (!s->copies_open || !s->c.nparked)
		return;
	say(s, SESSION_NOTICE, "waiting for the hazards of %zu copies whose case is being measured",
	    s->c.nparked);
	left = copies_drain(&s->c, 600 * 1000);
	if (left)
		say(s, SESSION_WARNING, "%zu copies not reported: their case was still being "
		    "measured after 10 minutes", left);
}

void session_watch_snapshot(struct session *s, const struct snapshot *snap)
{
	for (size_t i = 0; i < snap->count; i++)
		session_watch(s, snap->mappings[i].task.tgid, snap->mappings[i].task.start_time,
			      snap->mappings[i].task.comm);
}

void session_policy_changed(struct session *s)
{
	verdicts_reset(&s->verdicts);
}

size_t session_regions(struct session *s, struct session_region **rows)
{
	struct model_region *all;
	size_t n = model_regions(&s->model, &all);

	*rows = all ? calloc(n ? n : 1, sizeof(**rows)) : NULL;
	for (size_t i = 0; *rows && i < n; i++)
		(*rows)[i] = (struct session_region){
			.r = all[i],
			.verdict = verdict_of(&s->verdicts, all[i].pid, all[i].comm, all[i].device,
					      all[i].region, all[i].cache),
		};
	free(all);
	return *rows ? n : 0;
}

bool session_target_at(struct session *s, unsigned int i, const struct copy_target **t,
		       struct vfg_copy_counts *cnt)
{
	if (!s->copies_open)
		return false;
	if (i < s->c.n) {
		*t = &s->c.targets[i];
		if (!(*t)->link)
			return false;
		copies_target_counts(&s->c, i, cnt);
	} else {
		*t = &s->c.retired[i - s->c.n];
		*cnt = (*t)->final;
	}
	return true;
}

uint64_t session_copies_dropped(struct session *s)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < s->c.n + s->c.nretired; i++) {
		const struct copy_target *tg;
		struct vfg_copy_counts cnt;

		if (session_target_at(s, i, &tg, &cnt))
			n += cnt.dropped;
	}
	return n;
}

void session_close(struct session *s)
{
	if (!s)
		return;
	detach(s);
	symbolizer_free(&s->sym);
	verdicts_free(&s->verdicts);
	procs_free(&s->procs);
	model_free(&s->model);
	free(s);
}

int session_mapping_classes(struct session *s,
			    void (*fn)(const struct session_mapping_class *c, void *ctx), void *ctx)
{
	const size_t keylen = offsetof(struct session_mapping_class, n);
	struct session_mapping_class *classes = NULL, *c, *next, k;
	int err = 0;

	for (size_t i = 0; i < s->model.nall; i++) {
		const struct model_mapping *m = s->model.all[i];
		const struct verdict *v = verdict_of(&s->verdicts, m->task.tgid, m->task.comm,
						     m->device, m->region.index, m->cache.mode);

		memset(&k, 0, keylen);
		snprintf(k.device, sizeof(k.device), "%s", m->device);
		k.region = m->region.index;
		cache_mode_format(m->cache.mode, 0, k.cache, sizeof(k.cache));
		snprintf(k.access, sizeof(k.access), "%s", v ? access_class_name(v->access) : "unknown");
		HASH_FIND(hh, classes, &k, keylen, c);
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (c) {
				memcpy(c, &k, keylen);
				HASH_ADD(hh, classes, device, keylen, c);
			}
			if (!c || !c->hh.tbl) {
				free(c);
				err = -ENOMEM;
				break;
			}
		}
		c->n++;
	}
	for (c = classes; !err && c; c = c->hh.next)
		fn(c, ctx);
	HASH_ITER(hh, classes, c, next) {
		HASH_DEL(classes, c);
		free(c);
	}
	return err;
}
