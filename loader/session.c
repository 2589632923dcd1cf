// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The live pipeline below the views; see session.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforce.h"
#include "session.h"

static void say(struct session *s, enum session_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct session *s, enum session_level level, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (!s->view.note)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	s->view.note(level, text, s->view.ctx);
}

static void on_copy(const struct copy_event *ev, void *ctx)
{
	struct session *s = ctx;
	const struct verdict *v = verdict_of(&s->verdicts, ev->raw.tgid, ev->raw.comm,
					     ev->raw.device, ev->region.index, ev->cache.mode);
	const struct copy_judgement j = verdict_judge_copy(v, ev->hazards, ev->measured);

	model_copy(&s->model, ev, j.violation);
	if (s->view.copy)
		s->view.copy(ev, v, &j, s->view.ctx);
}

static void on_dma(const struct dma_event *ev, void *ctx)
{
	struct session *s = ctx;
	const struct dma_event *held_by = model_dma(&s->model, ev);

	if (s->view.dma)
		s->view.dma(ev, held_by, s->view.ctx);
}

static int open_copies(struct session *s, char *why, size_t len)
{
	const char *step = NULL;
	int err;

	err = copies_open(&s->c, on_copy, s, s->o.vfio, &step);
	if (err) {
		snprintf(why, len, "copies: cannot %s: %s", step, kernel_strerror(-err));
		return err;
	}
	s->copies_open = true;
	s->c.dma_fn = on_dma;
	if (s->c.vfio_missing)
		say(s, SESSION_NOTICE, "vfio is not loaded: no copy can touch device memory (calls "
		    "are only counted)");
	for (size_t i = 0; i < s->o.nprobes; i++) {
		char probe[512];

		err = copies_watch_probe(&s->c, &s->o.probes[i], s->o.pid, probe, sizeof(probe));
		if (err < 0) {
			snprintf(why, len, "copies: %s", probe);
			return err;
		}
	}
	return 0;
}

int session_open(struct session **out, const struct session_opts *o, const struct session_view *v,
		 char *why, size_t len)
{
	struct session *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s) {
		snprintf(why, len, "session: out of memory");
		return -ENOMEM;
	}
	s->o = *o;
	if (v)
		s->view = *v;
	s->watched.cap = SESSION_MAX_WATCHED;
	if (o->kernel)
		s->kernel = *o->kernel;
	else
		kernel_info_read(&s->kernel);
	model_init(&s->model, kernel_page_shift(&s->kernel));
	verdicts_init(&s->verdicts, s->kernel.arch, &host_resolver, o->policy_path);
	if (o->copies) {
		err = open_copies(s, why, len);
		if (err) {
			session_close(s);
			return err;
		}
	}
	*out = s;
	if (o->pid)
		session_watch(s, o->pid, NULL);
	return 0;
}

int session_watch(struct session *s, uint32_t pid, const char *comm)
{
	char why[512] = "";
	uint32_t gone;
	int n, total = 0;

	if (!s->copies_open || (s->o.pid && pid != s->o.pid))
		return -1;
	if (comm && s->o.comm && strcmp(comm, s->o.comm))
		return -1;
	n = proc_table_add(&s->watched, pid, proc_start_time(pid), &gone);
	if (n == -ENOSPC && !s->full_said)
		say(s, SESSION_WARNING, "pid %u (%s): its copies are not watched: %zu processes "
		    "are watched already, and all of them are alive", pid, comm ? comm : "?",
		    s->watched.cap);
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
	symbolizer_add(&s->sym, pid);
	n = copies_watch_profile(&s->c, pid, why, sizeof(why));
	if (n < 0)
		say(s, SESSION_WARNING, "%s", why);
	else if (n == 0 && !s->o.libc)
		say(s, SESSION_NOTICE, "%s; its libc copies are not watched (--libc watches them)",
		    why);
	else if (n > 0 && why[0])
		say(s, SESSION_NOTICE, "%s", why);
	if (s->o.libc) {
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
	say(s, SESSION_INFO, "pid %u: %d probes attached", pid, total);
	return total;
}

int session_poll(struct session *s, int timeout_ms)
{
	return s->copies_open ? copies_poll(&s->c, timeout_ms) : 0;
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

void session_policy_changed(struct session *s)
{
	verdicts_reset(&s->verdicts);
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

	for (unsigned int i = 0; s->copies_open && i < s->c.n + s->c.nretired; i++) {
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
	if (s->copies_open)
		copies_close(&s->c);
	s->copies_open = false;
	symbolizer_free(&s->sym);
	verdicts_free(&s->verdicts);
	proc_table_free(&s->watched);
	model_free(&s->model);
	free(s);
}
