// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfioguard monitor: what VMMs do with VFIO regions as it happens. Existing mappings first (from
 * audit's snapshot), then one line per mmap, fault, read, write through the device fd and
 * unmap, and at the end a summary per mapping and per region accessed through the fd.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "copies_view.h"
#include "../loader/model/run_state.h"
#include "../loader/model/session.h"
#include "output.h"
#include "../loader/model/model.h"
#include "../loader/probes/monitor.h"
#include "../loader/probes/snapshot.h"
#include "../policy/policy.h"

static const char monitor_usage[] =
	"Usage: vfioguard monitor [--pid PID] [--comm NAME] [--device DEV] [--region R]\n"
	"                         [--duration SECONDS] [--accesses] [--kprobes]\n"
	"                         [--ringbuf-size BYTES]\n"
	"                         [--copies] [--libc] [--probe BINARY:SYMBOL:dst=argN,src=argN,len=argN]\n"
	"                         [--usdt BINARY:PROVIDER:NAME:dst=argN,src=argN,len=argN]\n"
	"                         [-j] [-v]\n"
	"Shows VFIO device mappings as they are made, faulted in, accessed through the device fd\n"
	"and unmapped; existing mappings first. SIGINT or SIGTERM (or --duration) ends it with a\n"
	"summary per mapping and per region. R is an index or bar0..bar5, rom, config, vga.\n"
	"Faults and reads and writes through the device fd are counted in the kernel and shown\n"
	"in the summary; --accesses also shows each one as it happens (an event per access).\n"
	"--kprobes uses kprobes even where fentry/fexit work. -j prints JSON lines.\n"
	"--copies also flags copies into and out of device memory that are hazardous for the\n"
	"region (uprobes on the VMM's memory core: the qemu profile); --libc adds every libc\n"
	"memcpy/memmove/memset of those processes; --probe adds a function of another VMM,\n"
	"--usdt a USDT probe (,like=memcpy|memmove|memset|single|none: how it copies).\n"
	"Clean copies are counted, and printed with -v.\n"
	"Exit 0, or 2 when nothing useful could be attached (each probe says why).\n";

struct state {
	uint64_t start_ns;
	const char *comm, *device;
	long region; /* -1: any */
	struct session *s; /* the model, the verdicts of the policy in force, the copies */
	uint64_t shown;
	uint32_t pid;
	/* The policy in force, for naming the rules in decisions (loaded at the first one). */
	struct policy policy;
	uint64_t policy_generation;
	bool policy_loaded;
	struct copy_view *copies; /* --copies */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static bool passes(const struct state *st, const char *comm, const char *device, long region)
{
	if (st->comm && strcmp(st->comm, comm))
		return false;
	if (st->device && strcmp(st->device, device))
		return false;
	return st->region < 0 || st->region == region;
}

static double seconds(const struct state *st, uint64_t ts)
{
	return ts > st->start_ns ? (ts - st->start_ns) / 1e9 : 0;
}

/* The common members of every event line. */
static struct json_object *event_json(const struct state *st, const char *what, uint64_t ts,
				      const struct vfg_task *task, const char *device)
{
	struct json_object *o = json_object_new_object();

	json_add(o, "event", json_object_new_string(what));
	json_add(o, "time", json_object_new_double(seconds(st, ts)));
	json_task(o, task);
	json_add(o, "device", device[0] ? json_object_new_string(device) : NULL);
	return o;
}

/* One JSON line of the stream, freed. */
static void put_line(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	fflush(stdout);
}

/* An event of the host: counted as shown. */
static void emit(struct state *st, struct json_object *o)
{
	st->shown++;
	put_line(o);
}

static void print_header(void)
{
	printf("%-10s %-8s %-7s %-15s %-13s %-7s %s\n", "TIME", "EVENT", "PID", "COMM", "DEVICE",
	       "REGION", "DETAIL");
}

static void print_line(struct state *st, double t, const char *what, uint32_t pid,
		       const char *comm, const char *device, const char *region, const char *detail)
{
	char name[TERM_COMM_LEN];

	st->shown++;
	printf("%-10.6f %-8s %-7u %-15s %-13s %-7s %s\n", t, what, pid,
	       term_name(comm, name, sizeof(name)), device[0] ? device : "?", region, detail);
	fflush(stdout);
}

/* A line about a mapping, which names the process that made it (t->task). */
static void show_mapping(struct state *st, const char *what, const struct model_mapping *t,
			 uint64_t ts, int64_t ret, uint64_t latency_ns, uint64_t vm_flags)
{
	char region[24], cache[40], size[24], detail[256], flags[96], offset[24];

	region_name(t->region.index, region, sizeof(region));
	cache_mode_format(t->cache.mode, t->pgprot, cache, sizeof(cache));
	if (json_output) {
		struct json_object *o = event_json(st, what, ts, &t->task, t->device);

		json_mapping(o, &t->region, t->start, t->end, ret == 0 ? &t->cache : NULL,
			     t->pgprot);
		if (ret == 0)
			json_add(o, "flags", vm_flags_json(vm_flags));
		if (!strcmp(what, "mmap")) {
			json_add(o, "result", json_object_new_int64(ret));
			json_add(o, "error", ret < 0 ? json_object_new_string(strerror(-ret)) : NULL);
			json_add(o, "latency_ns", json_object_new_uint64(latency_ns));
		}
		emit(st, o);
		return;
	}
	human_size(t->end - t->start, size, sizeof(size));
	region_offset_format(&t->region, t->region.offset, offset, sizeof(offset));
	if (ret < 0)
		snprintf(detail, sizeof(detail), "%" PRIx64 "-%" PRIx64 " %s off %s failed: %s",
			 t->start, t->end, size, offset, strerror(-ret));
	else
		snprintf(detail, sizeof(detail), "%" PRIx64 "-%" PRIx64 " %s off %s %s %#" PRIx64
			 " %s", t->start, t->end, size, offset, cache, t->pgprot,
			 vm_flags_text(vm_flags, flags, sizeof(flags)));
	print_line(st, seconds(st, ts), what, t->task.tgid, t->task.comm, t->device, region,
		   detail);
}

static void on_fault(struct state *st, const struct monitor_event *ev,
		     const struct model_mapping *t)
{
	static const char *const pages[] = { "PTE", "PMD", "PUD", "other" };
	const struct vfg_event *r = &ev->raw;
	char region[24], result[96], detail[256];
	/*
	 * VM_FAULT_FALLBACK: 6.12's vfio_pci_mmap_huge_fault is called once per page order the
	 * kernel tries; an order it cannot map falls back and the same touch is tried again at a
	 * smaller order. That attempt is not a fault the process took: it is shown as "fallback".
	 */
	bool fallback = r->ret & 0x800;
	const char *what = fallback ? "fallback" : "fault";
	unsigned int bucket = model_order_bucket(r->order, st->s->model.page_shift);

	if (!t)
		return;
	/* Errors (OOM, SIGBUS, SIGSEGV) are counted in the kernel; vm_fault_format names them. */
	if (!passes(st, t->task.comm, t->device, t->region.index))
		return;
	region_name(t->region.index, region, sizeof(region));
	vm_fault_format(r->ret, result, sizeof(result));
	if (json_output) {
		struct json_object *o = event_json(st, what, r->ts, &r->task, t->device);

		json_add(o, "region", json_object_new_string(region));
		json_add(o, "address", json_hex(r->addr));
		json_add(o, "start", json_hex(r->vma.start));
		json_add(o, "region_offset",
			 json_region_offset(&t->region, t->region.offset + (r->addr - r->vma.start)));
		json_add(o, "order", json_object_new_int64(r->order));
		json_add(o, "page", json_object_new_string(pages[bucket]));
		json_add(o, "write", json_object_new_boolean(r->flags & VFG_EV_WRITE));
		json_add(o, "result", json_object_new_string(result));
		json_add(o, "result_raw", json_object_new_int64(r->ret));
		json_add(o, "latency_ns", json_object_new_uint64(r->latency_ns));
		emit(st, o);
		return;
	}
	snprintf(detail, sizeof(detail), "%" PRIx64 " (+%#" PRIx64 ") %s %s %s %.1fus",
		 (uint64_t)r->addr, (uint64_t)(r->addr - r->vma.start), pages[bucket],
		 r->flags & VFG_EV_WRITE ? "write" : "read", result, r->latency_ns / 1e3);
	print_line(st, seconds(st, r->ts), what, r->task.tgid, r->task.comm, t->device, region,
		   detail);
}

static void on_rw(struct state *st, const struct monitor_event *ev)
{
	const struct vfg_event *r = &ev->raw;
	bool write = r->flags & VFG_EV_WRITE;
	const char *what = write ? "write" : "read";
	char region[24], detail[200];

	/* Counted in the kernel (rw_stats): the summary reads them from there. */
	if (!passes(st, r->task.comm, r->device, ev->region.index))
		return;
	region_name(ev->region.index, region, sizeof(region));
	if (json_output) {
		struct json_object *o = event_json(st, what, r->ts, &r->task, r->device);

		json_add(o, "region", json_object_new_string(region));
		json_add(o, "region_index", json_object_new_int64(ev->region.index));
		json_add(o, "offset", json_object_new_uint64(ev->region.offset));
		json_add(o, "size", json_object_new_uint64(r->count));
		json_add(o, "result", json_object_new_int64(r->ret));
		json_add(o, "error", r->ret < 0 ? json_object_new_string(strerror(-r->ret)) : NULL);
		json_add(o, "latency_ns", json_object_new_uint64(r->latency_ns));
		emit(st, o);
		return;
	}
	if (r->ret < 0)
		snprintf(detail, sizeof(detail), "%" PRIu64 " bytes at %#" PRIx64 " failed: %s",
			 (uint64_t)r->count, ev->region.offset, strerror(-r->ret));
	else
		snprintf(detail, sizeof(detail), "%" PRIu64 " bytes at %#" PRIx64 " -> %" PRId64
			 " %.1fus", (uint64_t)r->count, ev->region.offset, (int64_t)r->ret,
			 r->latency_ns / 1e3);
	print_line(st, seconds(st, r->ts), what, r->task.tgid, r->task.comm, r->device, region,
		   detail);
}

static void load_policy_names(struct state *st)
{
	struct run_published pub;

	st->policy_loaded = true;
	run_published_read(RUN_DIR, RUN_READ_STATE | RUN_READ_POLICY, &pub);
	if (pub.have_state && pub.have_policy) {
		st->policy_generation = pub.state.generation;
		st->policy = pub.policy; /* kept: pub.policy is not freed */
		pub.have_policy = false;
	}
	run_published_free(&pub);
}

static void on_decision(struct state *st, const struct monitor_event *ev)
{
	const struct vfg_decision *dc = &ev->decision;
	const char *rule = NULL, *what = dc->denied ? "denied" : "allowed";
	char region[24], detail[320], by[200];

	if (st->pid && dc->task.tgid != st->pid)
		return;
	if (!passes(st, dc->task.comm, dc->device,
		    dc->region == VFG_REGION_ANY ? -1L : (long)dc->region))
		return;
	if (!st->policy_loaded)
		load_policy_names(st);
	rule = policy_rule_name(dc->generation == st->policy_generation ? &st->policy : NULL,
				dc->rule);
	if (dc->region == VFG_REGION_ANY)
		snprintf(region, sizeof(region), "?");
	else
		region_name(dc->region, region, sizeof(region));
	if (json_output) {
		struct json_object *o = event_json(st, "policy", dc->ts, &dc->task, dc->device);

		json_add(o, "decision", json_object_new_string(what));
		json_add(o, "region", json_object_new_string(region));
		json_add(o, "access",
			 json_object_new_string(access_class_name((enum access_class)dc->access)));
		json_add(o, "rule", rule ? json_object_new_string(rule) : NULL);
		json_add(o, "rule_index", dc->rule == VFG_RULE_DEFAULT ? NULL :
					  json_object_new_int(dc->rule));
		json_add(o, "generation", json_object_new_uint64(dc->generation));
		emit(st, o);
		return;
	}
	if (dc->rule == VFG_RULE_DEFAULT)
		snprintf(by, sizeof(by), "%s", rule);
	else if (rule)
		snprintf(by, sizeof(by), "'%s'", rule);
	else
		snprintf(by, sizeof(by), "#%u", dc->rule);
	snprintf(detail, sizeof(detail), "mmap %s: %s by rule %s (generation %" PRIu64 ")", what,
		 access_class_name((enum access_class)dc->access), by, (uint64_t)dc->generation);
	print_line(st, seconds(st, dc->ts), "policy", dc->task.tgid, dc->task.comm, dc->device,
		   region, detail);
}

/* A monitor event, after the session's model took it (t: the mapping it is about). */
static void on_event(const struct monitor_event *ev, const struct model_mapping *t, void *ctx)
{
	struct state *st = ctx;
	const struct vfg_event *r = &ev->raw;

	switch (r->type) {
	case VFG_EV_MMAP:
		if (t && passes(st, t->task.comm, t->device, t->region.index))
			show_mapping(st, "mmap", t, r->ts, r->ret, r->latency_ns, r->vma.vm_flags);
		break;
	case VFG_EV_FAULT:
		on_fault(st, ev, t);
		break;
	case VFG_EV_RW:
		on_rw(st, ev);
		break;
	case VFG_EV_POLICY:
		on_decision(st, ev);
		break;
	case VFG_EV_UNMAP:
		if (t && passes(st, t->task.comm, t->device, t->region.index))
			show_mapping(st, "unmap", t, r->ts, 0, 0, r->vma.vm_flags);
		break;
	}
}

/* A mapping made before the probes. */
static void on_existing(const struct model_mapping *t, const struct mapping *m, void *ctx)
{
	struct state *st = ctx;

	if (passes(st, t->task.comm, t->device, t->region.index))
		show_mapping(st, "existing", t, st->start_ns, 0, 0, m->vma.vm_flags);
}

static void report_attach(const struct monitor *m, size_t ringbuf)
{
	if (json_output) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();

		json_add(o, "event", json_object_new_string("attach"));
		json_add(o, "kernel", json_object_new_string(m->kernel.release));
		json_add(o, "vfio_loaded", json_object_new_boolean(m->vfio.loaded));
		json_add(o, "fentry", m->fentry_reason[0] ?
					      json_object_new_string(m->fentry_reason) : NULL);
		for (int h = 0; h < HOOK_COUNT; h++) {
			const struct hook_status *s = &m->hooks[h];
			struct json_object *x = json_object_new_object();

			json_add(x, "hook", json_object_new_string(s->name));
			json_add(x, "function", s->function ? json_object_new_string(s->function)
							    : NULL);
			json_add(x, "attached", json_object_new_boolean(s->attached));
			json_add(x, "how", s->how ? json_object_new_string(s->how) : NULL);
			json_add(x, "error", s->attached ? NULL : json_object_new_string(s->reason));
			json_object_array_add(a, x);
		}
		json_add(o, "hooks", a);
		json_add(o, "ringbuf_bytes", json_object_new_uint64(ringbuf));
		json_add(o, "policy_decisions", json_object_new_boolean(m->decisions));
		json_add(o, "policy_decisions_error",
			 m->decisions_why ? json_object_new_string(m->decisions_why) : NULL);
		put_line(o);
		return;
	}
	if (m->decisions_why)
		fprintf(stderr, "vfioguard: monitor: policy decisions not shown: %s\n",
			m->decisions_why);
	if (m->fentry_reason[0])
		fprintf(stderr, "vfioguard: monitor: using kprobes: %s\n", m->fentry_reason);
	for (int h = 0; h < HOOK_COUNT; h++) {
		const struct hook_status *s = &m->hooks[h];

		if (s->attached)
			fprintf(stderr, "vfioguard: monitor: %-5s %s (%s)\n", s->name, s->function,
				s->how);
		else
			fprintf(stderr, "vfioguard: monitor: %-5s not attached: %s\n", s->name,
				s->reason);
	}
	fflush(stderr);
}

/* What the kernel counted, into the model. */
static void read_counts(struct state *st)
{
	int err = session_read_counts(st->s);

	if (err)
		p_err("monitor: reading the kernel's counts: %s", strerror(-err));
}

/* The regions table's rows that pass the filters, each with the policy's verdict. */
static size_t region_rows(struct state *st, struct session_region **rows)
{
	size_t n = session_regions(st->s, rows), k = 0;

	for (size_t i = 0; i < n; i++)
		if (passes(st, (*rows)[i].r.comm, (*rows)[i].r.device, (*rows)[i].r.region))
			(*rows)[k++] = (*rows)[i];
	return k;
}

static const char *reached(const struct model_region *r)
{
	return r->mapped && r->fd ? "mapped+fd" : r->mapped ? "mapped" : "fd";
}

static struct json_object *regions_json(const struct session_region *rows, size_t n)
{
	struct json_object *a = json_object_new_array();
	char region[24], cache[40];

	for (size_t i = 0; i < n; i++) {
		const struct model_region *r = &rows[i].r;
		const struct verdict *v = rows[i].verdict;
		struct json_object *x = json_object_new_object();

		json_add(x, "pid", json_object_new_int64(r->pid));
		json_add(x, "comm", json_name(r->comm));
		json_add(x, "device", json_object_new_string(r->device));
		json_add(x, "region", json_object_new_string(region_name(r->region, region,
									   sizeof(region))));
		json_add(x, "mapped", json_object_new_boolean(r->mapped));
		json_add(x, "fd", json_object_new_boolean(r->fd));
		json_add(x, "cache", r->mapped ? json_object_new_string(cache_mode_format(
						 r->cache, r->pgprot, cache, sizeof(cache))) : NULL);
		json_add(x, "access",
			 v ? json_object_new_string(access_class_name(v->access)) : NULL);
		json_add(x, "rule", v ? json_object_new_string(v->rule) : NULL);
		json_object_array_add(a, x);
	}
	return a;
}

/*
 * Per process and region: mapped (for QEMU, a RAM-device region its memory core reaches through
 * the mapping, never as direct memory: DMA into it is bounced), through the fd only (trapped:
 * x-no-mmap, or a part the driver does not let map), the cache mode, the policy's verdict.
 */
static void regions_table(const struct session_region *rows, size_t n)
{
	char region[24], cache[40], name[TERM_COMM_LEN];

	if (!n)
		return;
	printf("\n%-7s %-15s %-13s %-7s %-13s %-6s %-8s %s\n", "PID", "COMM", "DEVICE", "REGION",
	       "REACHED", "CACHE", "VERDICT", "RULE");
	for (size_t i = 0; i < n; i++) {
		const struct model_region *r = &rows[i].r;
		const struct verdict *v = rows[i].verdict;

		printf("%-7u %-15s %-13s %-7s %-13s %-6s %-8s %s\n", r->pid,
		       term_name(r->comm, name, sizeof(name)), r->device,
		       region_name(r->region, region, sizeof(region)), reached(r),
		       r->mapped ? cache_mode_format(r->cache, r->pgprot, cache, sizeof(cache)) : "-",
		       v ? access_class_name(v->access) : "?", v ? v->rule : "?");
	}
}

static void summary(struct state *st, struct monitor *m, uint64_t dropped)
{
	struct session_region *rows = NULL;
	size_t nrows, i;
	static const char *const sizes[] = { "1", "2", "4", "8", "other" };
	char region[24], cache[40];

	read_counts(st);
	/* The regions table is judged by the policy in force now, which may be newer than the
	 * one the copies were judged by when they were made. */
	session_policy_changed(st->s);
	nrows = region_rows(st, &rows);

	if (json_output) {
		struct json_object *o = json_object_new_object(), *ms = json_object_new_array(),
				   *is = json_object_new_array();

		json_add(o, "event", json_object_new_string("summary"));
		json_add(o, "duration", json_object_new_double((monotonic_ns() - st->start_ns) / 1e9));
		json_add(o, "events", json_object_new_uint64(m->events));
		json_add(o, "shown", json_object_new_uint64(st->shown));
		json_add(o, "dropped", json_object_new_uint64(dropped));
		for (size_t i = 0; i < st->s->model.nall; i++) {
			const struct model_mapping *t = st->s->model.all[i];
			struct json_object *x, *f = json_object_new_object();

			if (!passes(st, t->task.comm, t->device, t->region.index)) {
				json_object_put(f);
				continue;
			}
			x = json_object_new_object();
			json_add(x, "pid", json_object_new_int64(t->task.tgid));
			json_add(x, "comm", json_name(t->task.comm));
			json_add(x, "device", t->device[0] ? json_object_new_string(t->device) : NULL);
			json_mapping(x, &t->region, t->start, t->end, &t->cache, t->pgprot);
			json_add(x, "existing", json_object_new_boolean(t->existing));
			json_add(x, "unmapped", json_object_new_boolean(t->unmapped));
			json_add(f, "pte", json_object_new_uint64(t->faults[0]));
			json_add(f, "pmd", json_object_new_uint64(t->faults[1]));
			json_add(f, "pud", json_object_new_uint64(t->faults[2]));
			json_add(f, "other", json_object_new_uint64(t->faults[3]));
			json_add(x, "faults", f);
			json_add(x, "fault_errors", json_object_new_uint64(t->fault_errors));
			json_add(x, "fallbacks", json_object_new_uint64(t->fallbacks));
			json_object_array_add(ms, x);
		}
		for (size_t i = 0; i < st->s->model.nacc; i++) {
			const struct model_access *in = &st->s->model.acc[i];
			struct json_object *x;

			if (!passes(st, in->comm, in->device, in->region))
				continue;
			x = json_object_new_object();

			json_add(x, "pid", json_object_new_int64(in->pid));
			json_add(x, "comm", json_name(in->comm));
			json_add(x, "device", in->device[0] ? json_object_new_string(in->device)
							    : NULL);
			json_add(x, "region", json_object_new_string(
						      region_name(in->region, region, sizeof(region))));
			for (int w = 0; w < 2; w++) {
				struct json_object *b = json_object_new_object();

				for (int k = 0; k < 5; k++)
					json_object_object_add(b, sizes[k],
							       json_object_new_uint64(in->by_size[w][k]));
				json_add(x, w ? "writes" : "reads", b);
			}
			json_add(x, "read_bytes", json_object_new_uint64(in->bytes[0]));
			json_add(x, "write_bytes", json_object_new_uint64(in->bytes[1]));
			json_add(x, "errors", json_object_new_uint64(in->errors));
			json_object_array_add(is, x);
		}
		json_add(o, "mappings", ms);
		json_add(o, "indirect", is);
		json_add(o, "regions", regions_json(rows, nrows));
		if (st->copies)
			copy_view_summary(st->copies, o);
		put_line(o);
		free(rows);
		return;
	}
	printf("\n%" PRIu64 " events, %" PRIu64 " dropped (ring buffer full)\n", m->events, dropped);
	printf("%-7s %-15s %-13s %-7s %-29s %-6s %6s %6s %6s %6s %6s %s\n", "PID", "COMM",
	       "DEVICE", "REGION", "START-END", "CACHE", "PTE", "PMD", "PUD", "ERR", "FALLBK",
	       "STATE");
	for (size_t i = 0; i < st->s->model.nall; i++) {
		const struct model_mapping *t = st->s->model.all[i];
		char range[48];

		if (!passes(st, t->task.comm, t->device, t->region.index))
			continue;
		snprintf(range, sizeof(range), "%" PRIx64 "-%" PRIx64, t->start, t->end);
		printf("%-7u %-15s %-13s %-7s %-29s %-6s %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		       " %6" PRIu64 " %6" PRIu64 " %s\n",
		       t->task.tgid, t->task.comm, t->device[0] ? t->device : "?",
		       region_name(t->region.index, region, sizeof(region)), range,
		       cache_mode_format(t->cache.mode, t->pgprot, cache, sizeof(cache)),
		       t->faults[0], t->faults[1], t->faults[2], t->fault_errors, t->fallbacks,
		       t->unmapped   ? "unmapped"
		       : t->existing ? "existing"
				     : "mapped");
	}
	regions_table(rows, nrows);
	free(rows);
	for (i = 0; i < st->s->model.nacc; i++)
		if (passes(st, st->s->model.acc[i].comm, st->s->model.acc[i].device,
			   st->s->model.acc[i].region))
			break;
	if (i == st->s->model.nacc)
		return;
	printf("\n%-7s %-15s %-13s %-7s %-34s %-34s %s\n", "PID", "COMM", "DEVICE", "REGION",
	       "READS 1/2/4/8/other (bytes)", "WRITES 1/2/4/8/other (bytes)", "ERR");
	for (i = 0; i < st->s->model.nacc; i++) {
		const struct model_access *in = &st->s->model.acc[i];
		char rd[64], wr[64];

		if (!passes(st, in->comm, in->device, in->region))
			continue;
		for (int w = 0; w < 2; w++)
			snprintf(w ? wr : rd, 64, "%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64
				 "/%" PRIu64 " (%" PRIu64 ")", in->by_size[w][0], in->by_size[w][1],
				 in->by_size[w][2], in->by_size[w][3], in->by_size[w][4],
				 in->bytes[w]);
		printf("%-7u %-15s %-13s %-7s %-34s %-34s %" PRIu64 "\n", in->pid, in->comm,
		       in->device[0] ? in->device : "?",
		       region_name(in->region, region, sizeof(region)), rd, wr, in->errors);
	}
}

static long parse_region(const char *s)
{
	long v;

	return region_parse(s, &v) || v < 0 ? -1 : v;
}

int do_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'P' },
		{ "comm", required_argument, NULL, 'c' },
		{ "device", required_argument, NULL, 'd' },
		{ "region", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'D' },
		{ "kprobes", no_argument, NULL, 'k' },
		{ "accesses", no_argument, NULL, 'a' },
		{ "ringbuf-size", required_argument, NULL, 'R' },
		COMMON_LONG_OPTIONS,
		COPY_VIEW_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct copy_view_opts co = { .print = true };
	bool copies = false;
	struct monitor_opts mo = {};
	struct state st = { .region = -1 };
	struct session_opts so = { .monitor = &mo, .policy_path = RUN_POLICY, .stacks = true };
	struct session_view views[2] = { { .event = on_event, .existing = on_existing,
					   .ctx = &st } };
	struct monitor *m;
	char why[640];
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long v, duration = 0;
	uint64_t deadline = 0, t;
	struct cmd_options o = { .cmd = "monitor", .usage = monitor_usage, .shortopts = "jpvh",
				 .longopts = opts };
	int c, err, ret = EXIT_CLEAN;

	while ((c = next_option(&o, argc, argv)) > 0) {
		int cv = copy_view_option(&co, c, optarg, &copies);

		if (cv < 0) {
			free((void *)co.watch.probes);
			return EXIT_ERROR;
		}
		if (cv)
			continue;
		switch (c) {
		case 'P':
			if (!parse_u64(optarg, &v) || !v || v > UINT32_MAX) {
				p_err("monitor: --pid: '%s' is not a process id", optarg);
				return EXIT_ERROR;
			}
			mo.pid = v;
			break;
		case 'c': st.comm = optarg; break;
		case 'd': st.device = optarg; break;
		case 'r':
			st.region = parse_region(optarg);
			if (st.region < 0) {
				p_err("monitor: --region: '%s' is not a region index or name "
				      "(bar0..bar5, rom, config, vga)", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'D':
			if (!parse_u64(optarg, &duration) || !duration) {
				p_err("monitor: --duration: '%s' is not a number of seconds", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'k': mo.force_kprobes = true; break;
		case 'a': mo.each_access = true; break;
		case 'R': {
			long page = sysconf(_SC_PAGESIZE);

			if (!parse_u64(optarg, &v) || v < (unsigned long long)page || (v & (v - 1))) {
				p_err("monitor: --ringbuf-size: '%s' must be a power of two of at "
				      "least %ld bytes", optarg, page);
				return EXIT_ERROR;
			}
			mo.ringbuf_bytes = v;
			break;
		}
		}
	}
	if (c < 0) {
		free((void *)co.watch.probes);
		return o.rc;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	st.pid = mo.pid;
	st.start_ns = monotonic_ns();
	co.watch.pid = mo.pid;
	co.watch.comm = st.comm;
	co.device = st.device;
	co.region = st.region;
	co.start_ns = st.start_ns;
	so.watch = co.watch;
	if (copies && !(st.copies = copy_view_new(&co, &views[1]))) {
		p_err("monitor: out of memory");
		free((void *)co.watch.probes);
		return EXIT_ERROR;
	}
	err = session_open(&st.s, &so, views, copies ? 2 : 1, why, sizeof(why));
	if (!st.s) {
		p_err("monitor: %s", why);
		copy_view_free(st.copies);
		free((void *)co.watch.probes);
		return EXIT_ERROR;
	}
	m = &st.s->m;
	report_attach(m, mo.ringbuf_bytes ? mo.ringbuf_bytes : 256 * 1024);
	if (err) {
		if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
			p_err("monitor: %s (run as root: needs CAP_BPF, CAP_PERFMON and CAP_SYSLOG)",
			      why);
		else
			p_err("monitor: %s", why);
		ret = EXIT_ERROR;
		goto out;
	}
	if (verbose)
		fprintf(stderr, "vfioguard: monitor: finding vfio and hooks %.1f ms, BPF load %.1f ms, "
			"attach %.1f ms\n", m->lookup_ns / 1e6, m->load_ns / 1e6, m->attach_ns / 1e6);
	if (copies && session_open_copies(st.s, why, sizeof(why))) {
		p_err("%s", why);
		ret = EXIT_ERROR;
		goto out;
	}
	if (st.copies)
		copy_view_bind(st.copies, st.s);
	if (verbose && copies)
		fprintf(stderr, "vfioguard: monitor: copy probes %.1f ms\n", st.s->copies_ns / 1e6);
	t = monotonic_ns();
	if (!json_output)
		print_header();
	if (session_bootstrap(st.s, why, sizeof(why))) {
		p_err("monitor: %s", why);
		ret = EXIT_ERROR;
		goto out;
	}
	if (verbose)
		fprintf(stderr, "vfioguard: monitor: existing mappings %.1f ms\n",
			(monotonic_ns() - t) / 1e6);
	if (json_output) {
		/* Everything that existed is listed; what follows happens from now on. */
		struct json_object *o = json_object_new_object();
		size_t existing = 0;

		for (size_t i = 0; i < st.s->model.nall; i++)
			existing += st.s->model.all[i]->existing;
		json_add(o, "event", json_object_new_string("ready"));
		json_add(o, "time", json_object_new_double(seconds(&st, monotonic_ns())));
		json_add(o, "existing", json_object_new_uint64(existing));
		put_line(o); /* not an event of the host: not counted */
	}
	if (duration)
		deadline = st.start_ns + duration * 1000000000ULL;
	while (!stop && (!deadline || monotonic_ns() < deadline)) {
		err = session_poll(st.s, 100);
		if (err < 0) {
			p_err("monitor: reading events: %s", strerror(-err));
			ret = EXIT_ERROR;
			break;
		}
	}
	/* What is already in the ring buffers belongs to the run. */
	while (session_poll(st.s, 0) > 0)
		;
	session_drain(st.s);
	summary(&st, m, monitor_dropped(m));
	if (st.copies && !json_output)
		copy_view_summary(st.copies, NULL);
	if (st.copies && st.s->model.copy_violations && ret == EXIT_CLEAN)
		ret = EXIT_VIOLATIONS;
out:
	session_close(st.s);
	copy_view_free(st.copies);
	free((void *)co.watch.probes);
	policy_free(&st.policy);
	return ret;
}
