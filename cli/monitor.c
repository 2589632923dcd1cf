// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfioguard monitor: what VMMs do with VFIO regions as it happens. Existing mappings first (from
 * audit's snapshot), then one line per mmap, fault, read, write through the device fd and
 * unmap, and at the end a summary per mapping and per region accessed through the fd.
 */
#define _GNU_SOURCE /* tdestroy */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "copies_view.h"
#include "verdict.h"
#include "output.h"
#include "../loader/monitor.h"
#include "../loader/snapshot.h"
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

/* What is known about one mapping, from the snapshot or its mmap event. */
struct tracked {
	uint64_t mm, start, end;
	uint32_t pid;
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
	struct region_loc region;
	uint64_t pgprot;
	struct cache_decode cache;
	bool existing, unmapped;
	uint64_t faults[4]; /* PTE, PMD, PUD, other orders */
	uint64_t fault_errors;
	uint64_t fallbacks; /* huge-page attempts the kernel retried at a smaller order */
};

/* Accesses through the device fd, per process and region. */
struct indirect {
	uint32_t pid;
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	uint64_t by_size[2][5]; /* [read, write][1, 2, 4, 8, other] */
	uint64_t bytes[2];
	uint64_t errors;
};

struct state {
	uint64_t start_ns;
	const char *comm, *device;
	long region; /* -1: any */
	struct tracked **all;
	size_t nall;
	void *active; /* tsearch tree of struct tracked *, by (mm, start) */
	struct indirect *ind;
	size_t nind;
	uint64_t shown;
	struct kernel_info *kernel;
	uint32_t pid;
	/* The policy in force, for naming the rules in decisions (loaded at the first one). */
	struct policy policy;
	uint64_t policy_generation;
	bool policy_loaded;
	struct copy_view *copies; /* --copies */
	struct verdicts verdicts; /* of the policy in force, for the regions table */
};

/*
 * One row of the regions table: how a process reaches a region of a device (mapped, through
 * the device fd, or both), the kernel's cache mode of its mapping and the policy's verdict.
 */
struct region_row {
	uint32_t pid;
	char comm[VFG_COMM_LEN];
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	bool mapped, fd;
	enum cache_mode cache;
	uint64_t pgprot;
	const struct verdict *verdict;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int tracked_cmp(const void *a, const void *b)
{
	const struct tracked *x = a, *y = b;

	if (x->mm != y->mm)
		return x->mm < y->mm ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static bool passes(const struct state *st, const char *comm, const char *device, long region)
{
	if (st->comm && strcmp(st->comm, comm))
		return false;
	if (st->device && strcmp(st->device, device))
		return false;
	return st->region < 0 || st->region == region;
}

static struct tracked *track(struct state *st, const struct tracked *t)
{
	struct tracked *n = malloc(sizeof(*n)), **slot, **grown;

	if (!n)
		return NULL;
	*n = *t;
	grown = realloc(st->all, (st->nall + 1) * sizeof(*st->all));
	if (!grown) {
		free(n);
		return NULL;
	}
	st->all = grown;
	st->all[st->nall++] = n;
	/* A new mapping at the address of one we missed the end of replaces it. */
	slot = tsearch(n, &st->active, tracked_cmp);
	if (slot && *slot != n)
		*slot = n;
	return n;
}

static struct tracked *find_active(struct state *st, uint64_t mm, uint64_t start)
{
	struct tracked key = { .mm = mm, .start = start }, **slot;

	slot = tfind(&key, &st->active, tracked_cmp);
	return slot ? *slot : NULL;
}

static double seconds(const struct state *st, uint64_t ts)
{
	return ts > st->start_ns ? (ts - st->start_ns) / 1e9 : 0;
}

/* The kernel's fault counts of a mapping (at its unmap, or at the summary if still mapped). */
static void set_faults(struct tracked *t, const struct vfg_fault_stat *f)
{
	for (int b = 0; b < VFG_FAULT_BUCKETS; b++)
		t->faults[b] = f->faults[b];
	t->fault_errors = f->errors;
	t->fallbacks = f->fallbacks;
}

/* The common members of every event line. */
static struct json_object *event_json(const struct state *st, const char *what, uint64_t ts,
				      uint32_t pid, uint32_t tid, const char *comm,
				      const char *device)
{
	struct json_object *o = json_object_new_object();

	json_add(o, "event", json_object_new_string(what));
	json_add(o, "time", json_object_new_double(seconds(st, ts)));
	json_add(o, "pid", json_object_new_int64(pid));
	json_add(o, "tid", json_object_new_int64(tid));
	json_add(o, "comm", json_object_new_string(comm));
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
	st->shown++;
	printf("%-10.6f %-8s %-7u %-15s %-13s %-7s %s\n", t, what, pid, comm,
	       device[0] ? device : "?", region, detail);
	fflush(stdout);
}

static void show_mapping(struct state *st, const char *what, const struct tracked *t,
			 uint64_t ts, uint32_t tid, int64_t ret, uint64_t latency_ns,
			 uint64_t vm_flags)
{
	char region[24], cache[40], size[24], detail[256], flags[96];

	region_name(t->region.index, region, sizeof(region));
	cache_mode_format(t->cache.mode, t->pgprot, cache, sizeof(cache));
	if (json_output) {
		struct json_object *o = event_json(st, what, ts, t->pid, tid, t->comm, t->device);

		json_add(o, "region", json_object_new_string(region));
		json_add(o, "region_index", json_object_new_int64(t->region.index));
		json_add(o, "region_offset", json_object_new_uint64(t->region.offset));
		json_add(o, "start", json_hex(t->start));
		json_add(o, "end", json_hex(t->end));
		json_add(o, "size", json_object_new_uint64(t->end - t->start));
		if (ret == 0) {
			json_add(o, "cache", json_object_new_string(cache));
			json_add(o, "pgprot", json_hex(t->pgprot));
			json_add(o, "flags", vm_flags_json(vm_flags));
		}
		if (!strcmp(what, "mmap")) {
			json_add(o, "result", json_object_new_int64(ret));
			json_add(o, "error", ret < 0 ? json_object_new_string(strerror(-ret)) : NULL);
			json_add(o, "latency_ns", json_object_new_uint64(latency_ns));
		}
		emit(st, o);
		return;
	}
	human_size(t->end - t->start, size, sizeof(size));
	if (ret < 0)
		snprintf(detail, sizeof(detail), "%" PRIx64 "-%" PRIx64 " %s off %#" PRIx64
			 " failed: %s", t->start, t->end, size, t->region.offset, strerror(-ret));
	else
		snprintf(detail, sizeof(detail), "%" PRIx64 "-%" PRIx64 " %s off %#" PRIx64
			 " %s %#" PRIx64 " %s", t->start, t->end, size, t->region.offset, cache,
			 t->pgprot, vm_flags_text(vm_flags, flags, sizeof(flags)));
	print_line(st, seconds(st, ts), what, t->pid, t->comm, t->device, region, detail);
}

static void tracked_from_event(struct tracked *t, const struct monitor_event *ev)
{
	memset(t, 0, sizeof(*t));
	t->mm = ev->raw.mm;
	t->start = ev->raw.start;
	t->end = ev->raw.end;
	t->pid = ev->raw.tgid;
	memcpy(t->comm, ev->raw.comm, sizeof(t->comm));
	memcpy(t->device, ev->raw.device, sizeof(t->device));
	t->region = ev->region;
	t->pgprot = ev->raw.pgprot;
	t->cache = ev->cache;
}

static unsigned int order_bucket(unsigned int order)
{
	/* x86_64 and arm64 with 4 KiB pages: PMD is order 9, PUD order 18. */
	return order == 0 ? 0 : order == 9 ? 1 : order == 18 ? 2 : 3;
}

static void on_fault(struct state *st, const struct monitor_event *ev)
{
	static const char *const pages[] = { "PTE", "PMD", "PUD", "other" };
	const struct vfg_event *r = &ev->raw;
	struct tracked *t = find_active(st, r->mm, r->start), fresh;
	char region[24], result[96], detail[256];
	bool failed = r->ret & 0x43; /* VM_FAULT_OOM | SIGBUS | SIGSEGV */
	/*
	 * VM_FAULT_FALLBACK: 6.12's vfio_pci_mmap_huge_fault is called once per page order the
	 * kernel tries; an order it cannot map falls back and the same touch is tried again at a
	 * smaller order. That attempt is not a fault the process took: it is shown as "fallback".
	 */
	bool fallback = r->ret & 0x800;
	const char *what = fallback ? "fallback" : "fault";
	unsigned int bucket = order_bucket(r->order);

	if (!t) {
		/* Mapped before we could see it and not in the snapshot: learn it now. */
		struct pci_resource res[PCI_RESOURCES];
		bool have = r->device[0] && !pci_resources_read(r->device, res);

		tracked_from_event(&fresh, ev);
		fresh.region = region_locate(r->pgoff, __builtin_ctzl(st->kernel->page_size),
					     have ? res : NULL, PCI_RESOURCES);
		t = track(st, &fresh);
		if (!t)
			return;
	}
	(void)failed; /* counted in the kernel (fault_stats), shown in vm_fault_format's words */
	if (!passes(st, t->comm, t->device, t->region.index))
		return;
	region_name(t->region.index, region, sizeof(region));
	vm_fault_format(r->ret, result, sizeof(result));
	if (json_output) {
		struct json_object *o = event_json(st, what, r->ts, r->tgid, r->pid, r->comm,
						   t->device);

		json_add(o, "region", json_object_new_string(region));
		json_add(o, "address", json_hex(r->addr));
		json_add(o, "start", json_hex(r->start));
		json_add(o, "region_offset",
			 json_object_new_uint64(t->region.offset + (r->addr - r->start)));
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
		 (uint64_t)r->addr, (uint64_t)(r->addr - r->start), pages[bucket], r->flags & VFG_EV_WRITE ? "write" : "read",
		 result, r->latency_ns / 1e3);
	print_line(st, seconds(st, r->ts), what, r->tgid, r->comm, t->device, region, detail);
}

static struct indirect *indirect_of(struct state *st, uint32_t pid, unsigned int region,
				    const char *comm, const char *device)
{
	struct indirect *grown;

	for (size_t i = 0; i < st->nind; i++)
		if (st->ind[i].pid == pid && st->ind[i].region == region &&
		    !strcmp(st->ind[i].device, device))
			return &st->ind[i];
	grown = realloc(st->ind, (st->nind + 1) * sizeof(*st->ind));
	if (!grown)
		return NULL;
	st->ind = grown;
	memset(&grown[st->nind], 0, sizeof(*grown));
	grown[st->nind].pid = pid;
	grown[st->nind].region = region;
	snprintf(grown[st->nind].comm, VFG_COMM_LEN, "%s", comm);
	snprintf(grown[st->nind].device, VFG_DEVICE_LEN, "%s", device);
	return &grown[st->nind++];
}

static unsigned int size_bucket(uint64_t n)
{
	return n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : n == 8 ? 3 : 4;
}

static void on_rw(struct state *st, const struct monitor_event *ev)
{
	const struct vfg_event *r = &ev->raw;
	bool write = r->flags & VFG_EV_WRITE;
	const char *what = write ? "write" : "read";
	char region[24], detail[200];

	/* Counted in the kernel (rw_stats): the summary reads them from there. */
	if (!passes(st, r->comm, r->device, ev->region.index))
		return;
	region_name(ev->region.index, region, sizeof(region));
	if (json_output) {
		struct json_object *o = event_json(st, what, r->ts, r->tgid, r->pid, r->comm,
						   r->device);

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
	print_line(st, seconds(st, r->ts), what, r->tgid, r->comm, r->device, region, detail);
}

static void load_policy_names(struct state *st)
{
	struct json_object *state = json_object_from_file("/run/vfioguard/state.json");
	struct policy_diags d = {};

	st->policy_loaded = true;
	if (!state)
		return;
	st->policy_generation = json_object_get_uint64(json_object_object_get(state, "generation"));
	json_object_put(state);
	if (policy_parse_file("/run/vfioguard/policy.yaml", &st->policy, &d))
		st->policy_generation = 0;
	policy_diags_free(&d);
}

static void on_decision(struct state *st, const struct monitor_event *ev)
{
	const struct vfg_decision *dc = &ev->decision;
	const char *rule = NULL, *what = dc->denied ? "denied" : "allowed";
	char region[24], detail[200];

	if (st->pid && dc->tgid != st->pid)
		return;
	if (!passes(st, dc->comm, dc->device,
		    dc->region == VFG_REGION_ANY ? -1L : (long)dc->region))
		return;
	if (!st->policy_loaded)
		load_policy_names(st);
	if (dc->rule != VFG_RULE_DEFAULT && dc->generation == st->policy_generation &&
	    dc->rule < st->policy.nrules)
		rule = st->policy.rules[dc->rule].name;
	if (dc->region == VFG_REGION_ANY)
		snprintf(region, sizeof(region), "?");
	else
		region_name(dc->region, region, sizeof(region));
	if (json_output) {
		struct json_object *o = event_json(st, "policy", dc->ts, dc->tgid, dc->pid, dc->comm,
						   dc->device);

		json_add(o, "decision", json_object_new_string(what));
		json_add(o, "region", json_object_new_string(region));
		json_add(o, "access",
			 json_object_new_string(access_class_name((enum access_class)dc->access)));
		json_add(o, "rule", dc->rule == VFG_RULE_DEFAULT ? json_object_new_string("(default)")
				    : rule ? json_object_new_string(rule) : NULL);
		json_add(o, "rule_index", dc->rule == VFG_RULE_DEFAULT ? NULL :
					  json_object_new_int(dc->rule));
		json_add(o, "generation", json_object_new_uint64(dc->generation));
		emit(st, o);
		return;
	}
	snprintf(detail, sizeof(detail), "mmap %s: %s by rule %s%s%s (generation %" PRIu64 ")",
		 what, access_class_name((enum access_class)dc->access),
		 dc->rule == VFG_RULE_DEFAULT ? "(default)" : rule ? "'" : "#",
		 dc->rule == VFG_RULE_DEFAULT ? "" : rule ? rule : "",
		 dc->rule == VFG_RULE_DEFAULT || !rule ? "" : "'", (uint64_t)dc->generation);
	print_line(st, seconds(st, dc->ts), "policy", dc->tgid, dc->comm, dc->device, region,
		   detail);
}

static void on_event(const struct monitor_event *ev, void *ctx)
{
	struct state *st = ctx;
	const struct vfg_event *r = &ev->raw;
	struct tracked t, *known;

	switch (r->type) {
	case VFG_EV_MMAP:
		tracked_from_event(&t, ev);
		if (r->ret == 0 && !track(st, &t))
			return;
		if (r->ret == 0 && st->copies)
			copy_view_watch(st->copies, r->tgid, r->comm);
		if (passes(st, t.comm, t.device, t.region.index))
			show_mapping(st, "mmap", &t, r->ts, r->pid, r->ret, r->latency_ns,
				     r->vm_flags);
		break;
	case VFG_EV_FAULT:
		on_fault(st, ev);
		break;
	case VFG_EV_RW:
		on_rw(st, ev);
		break;
	case VFG_EV_POLICY:
		on_decision(st, ev);
		break;
	case VFG_EV_UNMAP:
		/* Only mappings we know: a failed mmap's VMA is freed too, and never was one. */
		known = find_active(st, r->mm, r->start);
		if (!known)
			return;
		known->unmapped = true;
		set_faults(known, &r->faults);
		tdelete(known, &st->active, tracked_cmp);
		if (passes(st, known->comm, known->device, known->region.index))
			show_mapping(st, "unmap", known, r->ts, r->pid, 0, 0, r->vm_flags);
		break;
	}
}

static int show_existing(struct state *st, const struct monitor_opts *opts)
{
	struct snapshot snap;
	int err = snapshot_take(&snap);

	if (err) {
		p_err("monitor: cannot list the existing mappings: cannot %s: %s", snap.failed_step,
		      strerror(-err));
		return err;
	}
	for (size_t i = 0; i < snap.count; i++) {
		const struct mapping *m = &snap.mappings[i];
		struct tracked t = {}, *n;

		if (opts->pid && m->pid != opts->pid)
			continue;
		t.mm = m->mm;
		t.start = m->start;
		t.end = m->end;
		t.pid = m->pid;
		memcpy(t.comm, m->comm, sizeof(t.comm));
		memcpy(t.device, m->device, sizeof(t.device));
		t.region = m->region;
		t.pgprot = m->pgprot;
		t.cache = m->cache;
		t.existing = true;
		/* Seen through the probes already (mapped while we started): keep that one. */
		if (find_active(st, t.mm, t.start))
			continue;
		n = track(st, &t);
		if (n && st->copies)
			copy_view_watch(st->copies, n->pid, n->comm);
		if (n && passes(st, n->comm, n->device, n->region.index))
			show_mapping(st, "existing", n, st->start_ns, m->tid, 0, 0, m->vm_flags);
	}
	snapshot_free(&snap);
	return 0;
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
		put_line(o);
		return;
	}
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

static void fault_counted(const struct vfg_fault_key *k, const struct vfg_fault_stat *f,
			  void *ctx)
{
	struct tracked *t = find_active(ctx, k->mm, k->start);

	if (t)
		set_faults(t, f);
}

static void rw_counted(const struct vfg_rw_key *k, const struct vfg_rw_stat *s, void *ctx)
{
	struct state *st = ctx;
	unsigned int page_shift = __builtin_ctzl(st->kernel->page_size);
	struct region_loc loc = region_locate(k->region_pos >> page_shift, page_shift, NULL, 0);
	struct indirect *in;

	if (!passes(st, s->comm, s->device, loc.index))
		return;
	in = indirect_of(st, k->tgid, loc.index, s->comm, s->device);
	if (!in)
		return;
	in->errors += s->errors;
	in->by_size[!!k->write][size_bucket(k->size)] += s->calls - s->errors;
	in->bytes[!!k->write] += s->bytes;
}

/* What the kernel counted, into the mappings and the per-region accesses. */
static void read_counts(struct state *st, struct monitor *m)
{
	int err = monitor_fault_stats(m, fault_counted, st);

	if (!err)
		err = monitor_rw_stats(m, rw_counted, st);
	if (err)
		p_err("monitor: reading the kernel's counts: %s", strerror(-err));
}

static struct region_row *row_for(struct region_row **rows, size_t *n, uint32_t pid,
				  const char *comm, const char *device, unsigned int region)
{
	struct region_row *grown;

	for (size_t i = 0; i < *n; i++)
		if ((*rows)[i].pid == pid && (*rows)[i].region == region &&
		    !strcmp((*rows)[i].device, device))
			return &(*rows)[i];
	grown = realloc(*rows, (*n + 1) * sizeof(**rows));
	if (!grown)
		return NULL;
	*rows = grown;
	memset(&grown[*n], 0, sizeof(grown[*n]));
	grown[*n].pid = pid;
	snprintf(grown[*n].comm, sizeof(grown[*n].comm), "%s", comm);
	snprintf(grown[*n].device, sizeof(grown[*n].device), "%s", device);
	grown[*n].region = region;
	return &grown[(*n)++];
}

/* The regions table's rows: every region a process mapped or reached through the fd. */
static size_t region_rows(struct state *st, struct region_row **rows)
{
	struct region_row *r;
	size_t n = 0;

	*rows = NULL;
	for (size_t i = 0; i < st->nall; i++) {
		const struct tracked *t = st->all[i];

		if (!t->device[0] || !passes(st, t->comm, t->device, t->region.index))
			continue;
		r = row_for(rows, &n, t->pid, t->comm, t->device, t->region.index);
		if (!r)
			break;
		r->mapped = true;
		r->cache = t->cache.mode;
		r->pgprot = t->pgprot;
	}
	for (size_t i = 0; i < st->nind; i++) {
		const struct indirect *in = &st->ind[i];

		if (!in->device[0] || !passes(st, in->comm, in->device, in->region))
			continue;
		r = row_for(rows, &n, in->pid, in->comm, in->device, in->region);
		if (!r)
			break;
		r->fd = true;
	}
	for (size_t i = 0; i < n; i++) {
		r = &(*rows)[i];
		r->verdict = verdict_of(&st->verdicts, st->kernel->arch, r->pid, r->comm, r->device,
					r->region, r->cache);
	}
	return n;
}

static const char *reached(const struct region_row *r)
{
	return r->mapped && r->fd ? "mapped+fd" : r->mapped ? "mapped" : "fd";
}

static struct json_object *regions_json(const struct region_row *rows, size_t n)
{
	struct json_object *a = json_object_new_array();
	char region[24], cache[40];

	for (size_t i = 0; i < n; i++) {
		const struct region_row *r = &rows[i];
		struct json_object *x = json_object_new_object();

		json_add(x, "pid", json_object_new_int64(r->pid));
		json_add(x, "comm", json_object_new_string(r->comm));
		json_add(x, "device", json_object_new_string(r->device));
		json_add(x, "region", json_object_new_string(region_name(r->region, region,
									   sizeof(region))));
		json_add(x, "mapped", json_object_new_boolean(r->mapped));
		json_add(x, "fd", json_object_new_boolean(r->fd));
		json_add(x, "cache", r->mapped ? json_object_new_string(cache_mode_format(
						 r->cache, r->pgprot, cache, sizeof(cache))) : NULL);
		json_add(x, "access", r->verdict ? json_object_new_string(
						   access_class_name(r->verdict->access)) : NULL);
		json_add(x, "rule", r->verdict ? json_object_new_string(r->verdict->rule) : NULL);
		json_object_array_add(a, x);
	}
	return a;
}

/*
 * Per process and region: mapped (for QEMU, a RAM-device region its memory core reaches through
 * the mapping, never as direct memory: DMA into it is bounced), through the fd only (trapped:
 * x-no-mmap, or a part the driver does not let map), the cache mode, the policy's verdict.
 */
static void regions_table(const struct region_row *rows, size_t n)
{
	char region[24], cache[40];

	if (!n)
		return;
	printf("\n%-7s %-15s %-13s %-7s %-13s %-6s %-8s %s\n", "PID", "COMM", "DEVICE", "REGION",
	       "REACHED", "CACHE", "VERDICT", "RULE");
	for (size_t i = 0; i < n; i++) {
		const struct region_row *r = &rows[i];

		printf("%-7u %-15s %-13s %-7s %-13s %-6s %-8s %s\n", r->pid, r->comm, r->device,
		       region_name(r->region, region, sizeof(region)), reached(r),
		       r->mapped ? cache_mode_format(r->cache, r->pgprot, cache, sizeof(cache)) : "-",
		       r->verdict ? access_class_name(r->verdict->access) : "?",
		       r->verdict ? r->verdict->rule : "?");
	}
}

static void summary(struct state *st, struct monitor *m, uint64_t dropped)
{
	struct region_row *rows = NULL;
	size_t nrows;
	static const char *const sizes[] = { "1", "2", "4", "8", "other" };
	char region[24], cache[40];

	read_counts(st, m);
	nrows = region_rows(st, &rows);

	if (json_output) {
		struct json_object *o = json_object_new_object(), *ms = json_object_new_array(),
				   *is = json_object_new_array();

		json_add(o, "event", json_object_new_string("summary"));
		json_add(o, "duration", json_object_new_double((monotonic_ns() - st->start_ns) / 1e9));
		json_add(o, "events", json_object_new_uint64(m->events));
		json_add(o, "shown", json_object_new_uint64(st->shown));
		json_add(o, "dropped", json_object_new_uint64(dropped));
		for (size_t i = 0; i < st->nall; i++) {
			const struct tracked *t = st->all[i];
			struct json_object *x, *f = json_object_new_object();

			if (!passes(st, t->comm, t->device, t->region.index)) {
				json_object_put(f);
				continue;
			}
			x = json_object_new_object();
			json_add(x, "pid", json_object_new_int64(t->pid));
			json_add(x, "comm", json_object_new_string(t->comm));
			json_add(x, "device", t->device[0] ? json_object_new_string(t->device) : NULL);
			json_add(x, "region", json_object_new_string(region_name(
						      t->region.index, region, sizeof(region))));
			json_add(x, "start", json_hex(t->start));
			json_add(x, "end", json_hex(t->end));
			json_add(x, "cache", json_object_new_string(cache_mode_format(
						     t->cache.mode, t->pgprot, cache, sizeof(cache))));
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
		for (size_t i = 0; i < st->nind; i++) {
			const struct indirect *in = &st->ind[i];
			struct json_object *x = json_object_new_object();

			json_add(x, "pid", json_object_new_int64(in->pid));
			json_add(x, "comm", json_object_new_string(in->comm));
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
	for (size_t i = 0; i < st->nall; i++) {
		const struct tracked *t = st->all[i];
		char range[48];

		if (!passes(st, t->comm, t->device, t->region.index))
			continue;
		snprintf(range, sizeof(range), "%" PRIx64 "-%" PRIx64, t->start, t->end);
		printf("%-7u %-15s %-13s %-7s %-29s %-6s %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		       " %6" PRIu64 " %6" PRIu64 " %s\n",
		       t->pid, t->comm, t->device[0] ? t->device : "?",
		       region_name(t->region.index, region, sizeof(region)), range,
		       cache_mode_format(t->cache.mode, t->pgprot, cache, sizeof(cache)),
		       t->faults[0], t->faults[1], t->faults[2], t->fault_errors, t->fallbacks,
		       t->unmapped ? "unmapped" : t->existing ? "existing" : "mapped");
	}
	regions_table(rows, nrows);
	free(rows);
	if (!st->nind)
		return;
	printf("\n%-7s %-15s %-13s %-7s %-34s %-34s %s\n", "PID", "COMM", "DEVICE", "REGION",
	       "READS 1/2/4/8/other (bytes)", "WRITES 1/2/4/8/other (bytes)", "ERR");
	for (size_t i = 0; i < st->nind; i++) {
		const struct indirect *in = &st->ind[i];
		char rd[64], wr[64];

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

/* The tree only points at mappings that st.all owns. */
static void keep_node(void *node)
{
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
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		COPY_VIEW_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct copy_view_opts co = { .print = true };
	bool copies = false;
	struct monitor_opts mo = {};
	struct state st = { .region = -1 };
	struct monitor m;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long v, duration = 0;
	uint64_t deadline = 0, t;
	const char *step = NULL;
	int c, err, ret = EXIT_CLEAN;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jpvh", opts, NULL)) != -1) {
		int cv = copy_view_option(&co, c, optarg, &copies);

		if (cv < 0) {
			free((void *)co.probes);
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
		case 'j': json_output = true; break;
		case 'p': json_output = pretty_output = true; break;
		case 'v': verbose++; break;
		case 'h': printf("%s", monitor_usage); return EXIT_CLEAN;
		default: fprintf(stderr, "%s", monitor_usage); return EXIT_ERROR;
		}
	}
	if (optind < argc) {
		p_err("monitor: unexpected argument '%s'", argv[optind]);
		return EXIT_ERROR;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	st.pid = mo.pid;
	st.start_ns = monotonic_ns();
	err = monitor_open(&m, &mo, on_event, &st, &step);
	st.kernel = &m.kernel;
	report_attach(&m, mo.ringbuf_bytes ? mo.ringbuf_bytes : 256 * 1024);
	if (err) {
		if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
			p_err("monitor: cannot %s: %s (run as root: needs CAP_BPF, CAP_PERFMON and "
			      "CAP_SYSLOG)", step, strerror(-err));
		else
			p_err("monitor: cannot %s: %s", step, strerror(-err));
		monitor_close(&m);
		return EXIT_ERROR;
	}
	if (verbose)
		fprintf(stderr, "vfioguard: monitor: finding vfio and hooks %.1f ms, BPF load %.1f ms, "
			"attach %.1f ms\n", m.lookup_ns / 1e6, m.load_ns / 1e6, m.attach_ns / 1e6);
	t = monotonic_ns();
	if (copies) {
		co.pid = mo.pid;
		co.comm = st.comm;
		co.device = st.device;
		co.region = st.region;
		co.start_ns = st.start_ns;
		co.vfio = &m.vfio; /* found once, by monitor_open */
		err = copy_view_open(&st.copies, &co);
		if (err) {
			monitor_close(&m);
			free((void *)co.probes);
			return EXIT_ERROR;
		}
	}
	if (verbose && copies)
		fprintf(stderr, "vfioguard: monitor: copy probes %.1f ms\n", (monotonic_ns() - t) / 1e6);
	t = monotonic_ns();
	if (!json_output)
		print_header();
	if (show_existing(&st, &mo)) {
		copy_view_close(st.copies);
		monitor_close(&m);
		free((void *)co.probes);
		return EXIT_ERROR;
	}
	if (verbose)
		fprintf(stderr, "vfioguard: monitor: existing mappings %.1f ms\n",
			(monotonic_ns() - t) / 1e6);
	if (json_output) {
		/* Everything that existed is listed; what follows happens from now on. */
		struct json_object *o = json_object_new_object();
		size_t existing = 0;

		for (size_t i = 0; i < st.nall; i++)
			existing += st.all[i]->existing;
		json_add(o, "event", json_object_new_string("ready"));
		json_add(o, "time", json_object_new_double(seconds(&st, monotonic_ns())));
		json_add(o, "existing", json_object_new_uint64(existing));
		put_line(o); /* not an event of the host: not counted */
	}
	if (duration)
		deadline = st.start_ns + duration * 1000000000ULL;
	while (!stop && (!deadline || monotonic_ns() < deadline)) {
		err = monitor_poll(&m, st.copies ? 50 : 100);
		if (err >= 0 && st.copies)
			err = copy_view_poll(st.copies, 50);
		if (err < 0) {
			p_err("monitor: reading events: %s", strerror(-err));
			ret = EXIT_ERROR;
			break;
		}
	}
	/* What is already in the ring buffers belongs to the run. */
	while (monitor_poll(&m, 0) > 0)
		;
	while (st.copies && copy_view_poll(st.copies, 0) > 0)
		;
	summary(&st, &m, monitor_dropped(&m));
	if (st.copies && !json_output)
		copy_view_summary(st.copies, NULL);
	if (st.copies && copy_view_violations(st.copies) && ret == EXIT_CLEAN)
		ret = EXIT_VIOLATIONS;
	copy_view_close(st.copies);
	free((void *)co.probes);
	monitor_close(&m);
	tdestroy(st.active, keep_node);
	for (size_t i = 0; i < st.nall; i++)
		free(st.all[i]);
	free(st.all);
	free(st.ind);
	policy_free(&st.policy);
	verdicts_free(&st.verdicts);
	return ret;
}
