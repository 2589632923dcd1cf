// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The copies part of `monitor --copies` and `audit --copies`: which processes get probes, one
 * line per flagged copy with its user stack, and counts per (process, region, hazards).
 *
 * A copy is a violation when its hazards include one that the region's verdict forbids
 * (policy/hazards.c, or the matching rule's `hazards:`), or when the verdict is trap (the
 * region should not be mapped at all). Without a policy in force every region is `direct`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "copies_view.h"
#include "output.h"
#include "../loader/model/session.h"
#include "../policy/hazards.h"

struct copy_view {
	struct copy_view_opts o;
	struct session *s; /* the pipeline whose copies this view shows */
	uint64_t shown;
};

static double seconds(const struct copy_view *v, uint64_t ts)
{
	return ts > v->o.start_ns ? (ts - v->o.start_ns) / 1e9 : 0;
}

/*
 * A frame of a probe's stack. The first is the probed function's entry: named by the target when
 * the file's symbols do not name it (QEMU's static RAM-device handlers).
 */
static const char *frame_name(struct copy_view *v, const struct copy_target *t, uint32_t tgid,
			      const __u64 *stack, unsigned int i, char *buf, size_t len)
{
	const char *file;

	if (i == 0 && t && t->function[0]) {
		file = strrchr(t->path, '/');
		snprintf(buf, len, "%s+0 (%.150s)", t->function, file ? file + 1 : t->path);
		return buf;
	}
	return symbolize(&v->s->sym, tgid, stack[i], buf, len);
}

/* The frames of a stack, until the frame-pointer walk ends in what is not code of the process. */
static struct json_object *stack_json(struct copy_view *v, const struct copy_target *t,
				      uint32_t tgid, const __u64 *stack, unsigned int n)
{
	struct json_object *st = json_object_new_array();
	char frame[256];

	for (unsigned int i = 0; i < n && i < VFG_COPY_STACK; i++) {
		const char *name = frame_name(v, t, tgid, stack, i, frame, sizeof(frame));
		struct json_object *f;

		if (!name && i >= 2)
			break;
		f = json_object_new_object();
		json_add(f, "address", json_hex(stack[i]));
		json_add(f, "symbol", name ? json_object_new_string(name) : NULL);
		json_object_array_add(st, f);
	}
	return st;
}

static void stack_print(struct copy_view *v, const struct copy_target *t, uint32_t tgid,
			const __u64 *stack, unsigned int n)
{
	char frame[256], shown[4 * sizeof(frame)];

	for (unsigned int i = 0; i < n && i < VFG_COPY_STACK; i++) {
		const char *name = frame_name(v, t, tgid, stack, i, frame, sizeof(frame));

		if (!name && i >= 2)
			break;
		printf("%10s    #%u %#" PRIx64 " %s\n", "", i, (uint64_t)stack[i],
		       name ? term_name(name, shown, sizeof(shown)) : "?");
	}
	fflush(stdout);
}

static void put_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	fflush(stdout);
}

static void on_copy(const struct copy_event *ev, const struct verdict *vm,
		    const struct copy_judgement *j, void *ctx)
{
	struct copy_view *v = ctx;
	const struct vfg_copy_event *r = &ev->raw;
	uint32_t bad = j->bad;
	bool trap = j->trap;
	char region[24], cache[40], hz[64], badhz[64], detail[512], delta[32] = "", offset[24];
	char name[TERM_COMM_LEN];

	if (!v->o.print || (!j->report && !verbose))
		return;
	if ((v->o.watch.comm && strcmp(v->o.watch.comm, r->task.comm)) ||
	    (v->o.device && strcmp(v->o.device, r->device)) ||
	    (v->o.region >= 0 && v->o.region != (long)ev->region.index))
		return;
	region_name(ev->region.index, region, sizeof(region));
	cache_mode_format(ev->cache.mode, r->vma.pgprot, cache, sizeof(cache));
	hazard_set_format(ev->hazards, hz, sizeof(hz));
	hazard_set_format(bad, badhz, sizeof(badhz));
	v->shown++;
	if (json_output) {
		struct json_object *o = json_object_new_object(),
				   *hs = json_object_new_array(), *vs = json_object_new_array();

		json_add(o, "event", json_object_new_string("copy"));
		json_add(o, "time", json_object_new_double(seconds(v, r->ts)));
		json_task(o, &r->task);
		json_add(o, "device", r->device[0] ? json_object_new_string(r->device) : NULL);
		json_add(o, "region", json_object_new_string(region));
		json_add(o, "region_offset", json_region_offset(&ev->region, ev->region.offset));
		json_add(o, "direction", json_object_new_string(ev->write ? "write" : "read"));
		json_add(o, "length", json_object_new_uint64(r->len));
		{
			/* memset's second argument and QEMU's write data are values, not addresses. */
			uint32_t kind = ev->target ? ev->target->t.kind : VFG_COPY_KIND_COPY;
			bool value = kind == VFG_COPY_KIND_SET || kind == VFG_COPY_KIND_MR_WRITE;

			json_add(o, "dst", r->dst ? json_hex(r->dst) : NULL);
			json_add(o, "src", value || !r->src ? NULL : json_hex(r->src));
			json_add(o, "value", value ? json_hex(r->src) : NULL);
		}
		json_add(o, "target", ev->target ? json_object_new_string(ev->target->name) : NULL);
		json_add(o, "routine", json_object_new_string(copy_routine_name(r->routine)));
		json_add(o, "dst_align", json_object_new_int(r->align));
		{
			bool placed = r->routine == VFG_ROUTINE_MEMCPY ||
				      r->routine == VFG_ROUTINE_MEMMOVE;
			char far[16];

			/* Where the source sits in its page against the destination, and the
			 * case that decides: that placement inside the routine's aliasing
			 * window, or "far" (every placement outside it; a copy out of device
			 * memory keeps (dst - src) mod 64: "far/N"). */
			json_add(o, "page_delta", placed ? json_object_new_int(r->page_delta) : NULL);
			json_add(o, "case_page_delta",
				 !placed ? NULL :
				 r->case_delta >= VFG_PAGE_FAR ?
					 json_object_new_string(calib_page_delta_format(
						 r->case_delta, far, sizeof(far))) :
					 json_object_new_int(r->case_delta));
		}
		json_add(o, "distance", r->distance ? json_object_new_uint64(r->distance) : NULL);
		for (int h = 0; h < 5; h++) {
			char one[16];

			if (ev->hazards & (1u << h))
				json_object_array_add(hs, json_object_new_string(
							  hazard_set_format(1u << h, one, sizeof(one))));
			if (bad & (1u << h))
				json_object_array_add(vs, json_object_new_string(
							  hazard_set_format(1u << h, one, sizeof(one))));
		}
		if (trap)
			json_object_array_add(vs, json_object_new_string("trap"));
		json_add(o, "hazards", ev->measured ? hs : NULL);
		if (!ev->measured)
			json_object_put(hs);
		json_add(o, "measured", json_object_new_boolean(ev->measured));
		/* Stores of a string instruction: the hazards include what the mode adds. */
		json_add(o, "string", json_object_new_boolean(ev->string));
		json_add(o, "unmeasured_reason",
			 ev->measured ? NULL :
			 ev->target && ev->target->unmeasured[0] ?
				 json_object_new_string(ev->target->unmeasured) :
			 ev->unmeasured[0] ? json_object_new_string(ev->unmeasured) : NULL);
		json_add(o, "capped", json_object_new_boolean(r->flags & VFG_COPY_CAPPED));
		json_add(o, "cache", json_object_new_string(cache));
		json_add(o, "access", vm ? json_object_new_string(access_class_name(vm->access))
					 : NULL);
		json_add(o, "rule", vm ? json_object_new_string(vm->rule) : NULL);
		json_add(o, "semantics", vm ? json_object_new_string(region_semantics_name(
						      vm->semantics)) : NULL);
		json_add(o, "violations", vs);
		json_add(o, "stack", stack_json(v, ev->target, r->task.tgid, r->stack, r->nstack));
		put_json(o);
		return;
	}
	if ((r->routine == VFG_ROUTINE_MEMCPY || r->routine == VFG_ROUTINE_MEMMOVE) &&
	    r->case_delta < VFG_PAGE_FAR)
		snprintf(delta, sizeof(delta), ", (dst-src)%%4096=%u", r->case_delta);
	region_offset_format(&ev->region, ev->region.offset, offset, sizeof(offset));
	snprintf(detail, sizeof(detail), "%s +%s %" PRIu64 " B %s (%s, dst%%64=%u%s) "
		 "hazards %s %s %s%s%s", ev->write ? "write" : "read", offset,
		 (uint64_t)r->len, ev->target ? ev->target->name : "?", copy_routine_name(r->routine),
		 r->align, delta,
		 ev->measured ? hz : "unmeasured", cache, vm ? access_class_name(vm->access) : "?",
		 trap ? ": VIOLATION (trap region mapped)" : bad ? ": VIOLATION " : "",
		 !trap && bad ? badhz : "");
	printf("%-10.6f %-8s %-7u %-15s %-13s %-7s %s\n", seconds(v, r->ts), "copy", r->task.tgid,
	       term_name(r->task.comm, name, sizeof(name)), r->device[0] ? r->device : "?", region,
	       detail);
	stack_print(v, ev->target, r->task.tgid, r->stack, r->nstack);
}

/* "0000:00:04.0 BAR2 +0x1000" for a map's region, "0000:00:04.0 BAR2" without its offset. */
static const char *dma_where(const struct dma_event *ev, char *buf, size_t len)
{
	char region[24];

	if (!ev->device) {
		snprintf(buf, len, "?");
		return buf;
	}
	region_name(ev->region.index, region, sizeof(region));
	if (ev->offset_known)
		snprintf(buf, len, "%s %s +%#" PRIx64, ev->raw.device[0] ? ev->raw.device : "?",
			 region, ev->region.offset);
	else
		snprintf(buf, len, "%s %s", ev->raw.device[0] ? ev->raw.device : "?", region);
	return buf;
}

/* What a map means for the guest, or NULL when it means nothing worth a word. */
static const char *dma_meaning(const struct dma_event *ev, const struct dma_event *held_by,
			       char *buf, size_t len)
{
	char where[96];

	if (ev->failed && held_by)
		snprintf(buf, len, "FAILED: QEMU's one bounce buffer is held by the map of gpa %#"
			 PRIx64 " (%s) until the device model unmaps it. virtio reports \"bogus "
			 "descriptor or out of resources\" and stops the device: the guest's request "
			 "does not complete until the guest resets the device",
			 (uint64_t)held_by->raw.gpa, dma_where(held_by, where, sizeof(where)));
	else if (ev->failed)
		snprintf(buf, len, "FAILED: nothing mapped (QEMU's bounce buffer is busy with a map "
			 "of memory that is no VFIO region, or the address is not mapped). virtio "
			 "reports \"bogus descriptor or out of resources\" and stops the device");
	else if (ev->unmap)
		snprintf(buf, len, "the bounce buffer is free again (%" PRIu64 " of %" PRIu64
			 " B used%s)", (uint64_t)ev->raw.granted, (uint64_t)ev->raw.asked,
			 ev->write ? ", written back to the region now" : "");
	else if (ev->short_map)
		snprintf(buf, len, "bounced and SHORT: %" PRIu64 " of %" PRIu64 " B granted (the "
			 "bounce buffer holds at most a page); mapping the rest while this map holds "
			 "the buffer fails", (uint64_t)ev->raw.granted, (uint64_t)ev->raw.asked);
	else if (ev->bounced)
		snprintf(buf, len, "bounced: copied through QEMU's one bounce buffer (the region is "
			 "a RAM device, not direct memory to QEMU); any other DMA map of this process "
			 "fails until this one is unmapped");
	else
		return NULL;
	return buf;
}

static void on_dma(const struct dma_event *ev, const struct dma_event *held_by, void *ctx)
{
	struct copy_view *v = ctx;
	const struct vfg_dma_event *r = &ev->raw;
	const char *meaning, *result;
	char what[1024], where[96], region[24], cache[40], name[TERM_COMM_LEN];
	bool show;

	meaning = dma_meaning(ev, held_by, what, sizeof(what));
	show = v->o.print && (verbose || (!ev->unmap && meaning));
	if (show && ((v->o.watch.comm && strcmp(v->o.watch.comm, r->task.comm)) ||
		     (v->o.device && (!ev->device || strcmp(v->o.device, r->device))) ||
		     (v->o.region >= 0 && (!ev->device || v->o.region != (long)ev->region.index))))
		show = false;
	if (!show)
		return;
	result = ev->unmap ? "unmapped" : ev->failed ? "failed" : ev->bounced ? "bounced" : "direct";
	region_name(ev->region.index, region, sizeof(region));
	if (ev->device)
		cache_mode_format(ev->cache.mode, r->vma.pgprot, cache, sizeof(cache));
	v->shown++;
	if (json_output) {
		struct json_object *o = json_object_new_object();

		json_add(o, "event", json_object_new_string("dma"));
		json_add(o, "time", json_object_new_double(seconds(v, r->ts)));
		json_task(o, &r->task);
		json_add(o, "op", json_object_new_string(ev->unmap ? "unmap" : "map"));
		/* is_write: the device model writes guest memory, here the region. */
		json_add(o, "direction", json_object_new_string(ev->write ? "write" : "read"));
		json_add(o, "gpa", json_hex(r->gpa));
		json_add(o, "asked", json_object_new_uint64(r->asked));
		json_add(o, "granted", json_object_new_uint64(r->granted));
		json_add(o, "result", json_object_new_string(result));
		json_add(o, "short", json_object_new_boolean(ev->short_map));
		json_add(o, "device", ev->device && r->device[0] ? json_object_new_string(r->device)
								 : NULL);
		json_add(o, "region", ev->device ? json_object_new_string(region) : NULL);
		json_add(o, "region_offset", ev->offset_known ?
			 json_object_new_uint64(ev->region.offset) : NULL);
		json_add(o, "cache", ev->device ? json_object_new_string(cache) : NULL);
		if (ev->failed && held_by) {
			struct json_object *x = json_object_new_object();

			region_name(held_by->region.index, region, sizeof(region));
			json_add(x, "gpa", json_hex(held_by->raw.gpa));
			json_add(x, "tid", json_object_new_int64(held_by->raw.task.pid));
			json_add(x, "device", json_object_new_string(held_by->raw.device));
			json_add(x, "region", json_object_new_string(region));
			json_add(x, "region_offset", held_by->offset_known ?
				 json_object_new_uint64(held_by->region.offset) : NULL);
			json_add(o, "bounce_held_by", x);
		}
		json_add(o, "meaning", meaning ? json_object_new_string(meaning) : NULL);
		json_add(o, "target", ev->target ? json_object_new_string(ev->target->name) : NULL);
		json_add(o, "stack", stack_json(v, ev->target, r->task.tgid, r->stack, r->nstack));
		put_json(o);
		return;
	}
	printf("%-10.6f %-8s %-7u %-15s %-13s %-7s %s %s gpa %#" PRIx64 " %" PRIu64 "/%" PRIu64
	       " B %s%s%s\n",
	       seconds(v, r->ts), "dma", r->task.tgid, term_name(r->task.comm, name, sizeof(name)),
	       ev->device && r->device[0] ? r->device : "?", ev->device ? region : "?",
	       ev->unmap ? "unmap" : "map", ev->write ? "write" : "read", (uint64_t)r->gpa,
	       (uint64_t)r->granted, (uint64_t)r->asked, result, ev->offset_known ? " at " : "",
	       ev->offset_known ? dma_where(ev, where, sizeof(where)) : "");
	if (meaning)
		printf("%10s    %s\n", "", meaning);
	stack_print(v, ev->target, r->task.tgid, r->stack, r->nstack);
}

/* What the session says, on stderr. */
static void on_note(enum session_level level, const char *text, void *ctx)
{
	fprintf(stderr, "vfioguard: copies: %s\n", text);
}

/* A process watched: with -v, how many probes it got. */
static void on_watched(uint32_t pid, const char *comm, int probes, void *ctx)
{
	if (verbose)
		fprintf(stderr, "vfioguard: copies: pid %u: %d probes attached\n", pid, probes);
}

struct copy_view *copy_view_new(const struct copy_view_opts *o, struct session_view *cb)
{
	struct copy_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->o = *o;
	*cb = (struct session_view){ .copy = on_copy, .dma = on_dma, .note = on_note,
				     .watched = on_watched, .ctx = v };
	return v;
}

void copy_view_bind(struct copy_view *v, struct session *s)
{
	v->s = s;
}

static struct json_object *target_json(const struct copy_target *tg,
				       const struct vfg_copy_counts *cnt, bool exited)
{
	struct json_object *x = json_object_new_object();

	json_add(x, "target", json_object_new_string(tg->name));
	json_add(x, "pid", tg->pid > 0 ? json_object_new_int64(tg->pid) : NULL);
	json_add(x, "exited", json_object_new_boolean(exited));
	json_add(x, "file", json_object_new_string(tg->path));
	json_add(x, "offset", json_hex(tg->offset));
	json_add(x, "hits", json_object_new_uint64(cnt->hits));
	json_add(x, "device", json_object_new_uint64(cnt->device));
	json_add(x, "busy", json_object_new_uint64(cnt->busy));
	json_add(x, "dropped", json_object_new_uint64(cnt->dropped));
	json_add(x, "outside_spans", json_object_new_uint64(cnt->spanned));
	json_add(x, "unmeasured_reason", tg->unmeasured[0] ?
		 json_object_new_string(tg->unmeasured) : NULL);
	return x;
}

static struct json_object *dma_json(const struct model *md)
{
	struct json_object *a = json_object_new_array();
	char region[24];

	for (size_t i = 0; i < md->ndma; i++) {
		const struct model_dma *d = &md->dma[i];
		struct json_object *x = json_object_new_object();

		json_add(x, "pid", json_object_new_int64(d->pid));
		json_add(x, "comm", json_name(d->comm));
		json_add(x, "device", d->device[0] ? json_object_new_string(d->device) : NULL);
		json_add(x, "region", d->device[0] ? json_object_new_string(region_name(
							     d->region, region, sizeof(region))) : NULL);
		json_add(x, "direct", json_object_new_uint64(d->direct));
		json_add(x, "bounced", json_object_new_uint64(d->bounced));
		json_add(x, "short", json_object_new_uint64(d->short_maps));
		json_add(x, "failed", json_object_new_uint64(d->failed));
		json_add(x, "bytes", json_object_new_uint64(d->bytes));
		json_object_array_add(a, x);
	}
	return a;
}

static void dma_table(const struct model *md)
{
	char region[24];

	if (!md->ndma)
		return;
	printf("\nDMA maps of device memory by QEMU (failed: while that region's map held the "
	       "bounce buffer)\n%-7s %-15s %-13s %-7s %8s %8s %8s %8s %10s\n", "PID", "COMM",
	       "DEVICE", "REGION", "DIRECT", "BOUNCED", "SHORT", "FAILED", "BYTES");
	for (size_t i = 0; i < md->ndma; i++) {
		const struct model_dma *d = &md->dma[i];

		printf("%-7u %-15s %-13s %-7s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		       " %10" PRIu64 "\n", d->pid, d->comm, d->device[0] ? d->device : "?",
		       d->device[0] ? region_name(d->region, region, sizeof(region)) : "?",
		       d->direct, d->bounced, d->short_maps, d->failed, d->bytes);
	}
}

void copy_view_summary(struct copy_view *v, struct json_object *into)
{
	const struct model *md = &v->s->model;
	const struct copies *cp = &v->s->c;
	char region[24], hz[64];

	if (into) {
		struct json_object *t = json_object_new_array(), *s = json_object_new_array(),
				   *o = json_object_new_object();

		for (unsigned int i = 0; i < cp->n + cp->nretired; i++) {
			const struct copy_target *tg;
			struct vfg_copy_counts cnt;

			if (!session_target_at(v->s, i, &tg, &cnt))
				continue;
			json_object_array_add(t, target_json(tg, &cnt, i >= cp->n));
		}
		for (size_t i = 0; i < md->ncopies; i++) {
			const struct model_copy *c = &md->copies[i];
			struct json_object *x = json_object_new_object();

			json_add(x, "pid", json_object_new_int64(c->pid));
			json_add(x, "comm", json_name(c->comm));
			json_add(x, "device", json_object_new_string(c->device));
			json_add(x, "region", json_object_new_string(
						      region_name(c->region, region, sizeof(region))));
			json_add(x, "direction", json_object_new_string(c->write ? "write" : "read"));
			json_add(x, "hazards", c->measured ? json_object_new_string(hazard_set_format(
							     c->hazards, hz, sizeof(hz))) : NULL);
			json_add(x, "violation", json_object_new_boolean(c->violation));
			json_add(x, "copies", json_object_new_uint64(c->count));
			json_add(x, "bytes", json_object_new_uint64(c->bytes));
			json_object_array_add(s, x);
		}
		json_add(o, "targets", t);
		json_add(o, "by_region", s);
		json_add(o, "dma", dma_json(md));
		json_add(o, "violations", json_object_new_uint64(md->copy_violations));
		json_add(o, "clean", json_object_new_uint64(md->copy_clean));
		json_add(o, "unmeasured", json_object_new_uint64(md->copy_unmeasured));
		json_add(o, "cases_cached", json_object_new_uint64(cp->cases_loaded));
		json_add(o, "cases_measured", json_object_new_uint64(cp->cases_measured));
		json_add(o, "cache", cp->cache_path[0] ? json_object_new_string(cp->cache_path)
							: NULL);
		json_add(o, "spans", json_object_new_boolean(cp->spans_link != NULL));
		json_add(o, "spans_reason", cp->spans_link ? NULL
					    : json_object_new_string(cp->spans_reason));
		{
			struct json_object *w = json_object_new_object();

			for (int r = CALIB_MEMCPY; r <= CALIB_MEMMOVE; r++)
				if (cp->window_known[r])
					json_add(w, calib_routine_name(r),
						 json_object_new_int(cp->alias_window[r]));
			json_add(o, "alias_windows", w);
			json_add(o, "alias_windows_reason", cp->window_reason[0] ?
				 json_object_new_string(cp->window_reason) : NULL);
		}
		json_add(into, "copies", o);
		return;
	}
	printf("\ncopies into or out of device memory: %" PRIu64 " violations, %" PRIu64
	       " clean, %" PRIu64 " unmeasured\n", md->copy_violations, md->copy_clean,
	       md->copy_unmeasured);
	if (!cp->spans_link)
		printf("every call looked up (VFIO spans not tracked: %s)\n", cp->spans_reason);
	if (cp->window_reason[0])
		printf("%s\n", cp->window_reason);
	printf("%-8s %-9s %-9s %-7s %s\n", "HITS", "DEVICE", "DROPPED", "PID", "TARGET");
	for (unsigned int i = 0; i < cp->n + cp->nretired; i++) {
		const struct copy_target *tg;
		struct vfg_copy_counts cnt;
		char pidbuf[24] = "all";

		if (!session_target_at(v->s, i, &tg, &cnt))
			continue;
		if (tg->pid > 0)
			snprintf(pidbuf, sizeof(pidbuf), "%d%s", tg->pid, i >= cp->n ? " (exited)" : "");
		else if (i >= cp->n) /* the sum of earlier exited processes' probes */
			snprintf(pidbuf, sizeof(pidbuf), "(exited)");
		printf("%-8" PRIu64 " %-9" PRIu64 " %-9" PRIu64 " %-7s %s\n", (uint64_t)cnt.hits,
		       (uint64_t)cnt.device, (uint64_t)cnt.dropped, pidbuf, tg->name);
	}
	dma_table(md);
	if (!md->ncopies)
		return;
	printf("\n%-7s %-15s %-13s %-7s %-6s %-26s %-9s %8s %10s\n", "PID", "COMM", "DEVICE",
	       "REGION", "DIR", "HAZARDS", "VERDICT", "COPIES", "BYTES");
	for (size_t i = 0; i < md->ncopies; i++) {
		const struct model_copy *c = &md->copies[i];

		printf("%-7u %-15s %-13s %-7s %-6s %-26s %-9s %8" PRIu64 " %10" PRIu64 "\n", c->pid,
		       c->comm, c->device[0] ? c->device : "?",
		       region_name(c->region, region, sizeof(region)), c->write ? "write" : "read",
		       c->measured ? hazard_set_format(c->hazards, hz, sizeof(hz)) : "unmeasured",
		       c->violation ? "VIOLATION" : c->measured ? "ok" : "?", c->count, c->bytes);
	}
	if (cp->cache_err)
		fprintf(stderr, "vfioguard: copies: the measured cases could not be cached in %s: "
			"%s\n", cp->cache_path, strerror(-cp->cache_err));
}

void copy_view_free(struct copy_view *v)
{
	free(v);
}

int copy_view_option(struct copy_view_opts *o, int opt, const char *arg, bool *copies)
{
	struct copy_probe_spec *grown;
	char why[256];

	switch (opt) {
	case OPT_COPIES:
		*copies = true;
		return 1;
	case OPT_LIBC:
		o->watch.libc = *copies = true;
		return 1;
	case OPT_PROBE:
	case OPT_USDT:
		grown = realloc((void *)o->watch.probes, (o->watch.nprobes + 1) * sizeof(*grown));
		if (!grown)
			return -1;
		o->watch.probes = grown;
		if (copy_probe_parse(arg, opt == OPT_USDT, &grown[o->watch.nprobes], why, sizeof(why))) {
			p_err("%s: %s", opt == OPT_USDT ? "--usdt" : "--probe", why);
			return -1;
		}
		o->watch.nprobes++;
		*copies = true;
		return 1;
	}
	return 0;
}
