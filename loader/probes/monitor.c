// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loading, attaching and reading bpf/monitor.bpf.c; see monitor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "enforce.h"
#include "monitor.h"
#include "ring.h"
#include "monitor.skel.h"

/* The candidate kernel functions of each hook, in order of preference. */
struct hook_def {
	enum monitor_hook hook;
	const char *name;
	const char *function;
	const char *module; /* where the function lives when that is a loadable module */
	bool needs_vfio;    /* the function (or the file check) lives in the vfio modules */
};

static const struct hook_def hook_defs[] = {
	{ HOOK_MMAP, "mmap", "vfio_device_fops_mmap", "vfio", true },
	{ HOOK_FAULT, "fault", "vfio_pci_mmap_huge_fault", "vfio_pci_core", true }, /* 6.12+ */
	{ HOOK_FAULT, "fault", "vfio_pci_mmap_fault", "vfio_pci_core", true },      /* to 6.11 */
	{ HOOK_READ, "read", "vfio_device_fops_read", "vfio", true },
	{ HOOK_WRITE, "write", "vfio_device_fops_write", "vfio", true },
	{ HOOK_UNMAP, "unmap", "vm_area_free", NULL, false },
	{ HOOK_EXIT, "exit", "__vm_area_free", NULL, false }, /* kernels with per-VMA locks (6.4+) */
	{ HOOK_OPEN_GROUP, "open-group", "vfio_group_fops_open", "vfio", true },
	{ HOOK_OPEN_CDEV, "open-cdev", "vfio_device_fops_cdev_open", "vfio", true }, /* 6.6+ */
};
#define NDEFS (sizeof(hook_defs) / sizeof(hook_defs[0]))

/* The entry and exit programs of a function in one attach mode (exit may be NULL). */
static void programs_of(struct monitor_bpf *skel, const char *function, bool kprobes,
			struct bpf_program **entry, struct bpf_program **exit)
{
	static const struct {
		const char *function;
		size_t fentry, fexit, kprobe, kretprobe; /* offsets into skel->progs */
	} table[] = {
#define P(f) offsetof(struct monitor_bpf, progs.f) - offsetof(struct monitor_bpf, progs)
		{ "vfio_device_fops_mmap", P(fentry_mmap), P(fexit_mmap), P(kprobe_mmap),
		  P(kretprobe_mmap) },
		{ "vfio_pci_mmap_fault", P(fentry_fault), P(fexit_fault), P(kprobe_fault),
		  P(kretprobe_fault) },
		{ "vfio_pci_mmap_huge_fault", P(fentry_huge_fault), P(fexit_huge_fault),
		  P(kprobe_huge_fault), P(kretprobe_huge_fault) },
		{ "vfio_device_fops_read", P(fentry_read), P(fexit_read), P(kprobe_read),
		  P(kretprobe_read) },
		{ "vfio_device_fops_write", P(fentry_write), P(fexit_write), P(kprobe_write),
		  P(kretprobe_write) },
		{ "vm_area_free", P(fentry_unmap), (size_t)-1, P(kprobe_unmap), (size_t)-1 },
		{ "__vm_area_free", P(fentry_free), (size_t)-1, P(kprobe_free), (size_t)-1 },
		{ "vfio_group_fops_open", P(fentry_open), (size_t)-1, P(kprobe_open), (size_t)-1 },
		{ "vfio_device_fops_cdev_open", P(fentry_open_cdev), (size_t)-1, P(kprobe_open_cdev),
		  (size_t)-1 },
#undef P
	};
	char *base = (char *)&skel->progs;

	*entry = *exit = NULL;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t e, x;

		if (strcmp(table[i].function, function))
			continue;
		e = kprobes ? table[i].kprobe : table[i].fentry;
		x = kprobes ? table[i].kretprobe : table[i].fexit;
		*entry = *(struct bpf_program **)(base + e);
		*exit = x == (size_t)-1 ? NULL : *(struct bpf_program **)(base + x);
	}
}

static void hook_fail(struct hook_status *h, int err, const char *fmt, const char *arg)
{
	h->attached = false;
	h->err = err;
	snprintf(h->reason, sizeof(h->reason), fmt, arg, kernel_strerror(err));
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct monitor *m = ctx;
	struct monitor_event ev;

	if (size < sizeof(struct vfg_event))
		return 0;
	monitor_event_decode(&ev, data, &m->kernel);
	m->events++;
	m->fn(&ev, m->ctx);
	return 0;
}

static int on_decision(void *ctx, void *data, size_t size)
{
	struct monitor *m = ctx;
	struct monitor_event ev;

	if (size < sizeof(struct vfg_decision))
		return 0;
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev.decision, data, sizeof(ev.decision));
	ev.decision.task.comm[VFG_COMM_LEN - 1] = 0;
	ev.decision.device[VFG_DEVICE_LEN - 1] = 0;
	ev.raw.type = VFG_EV_POLICY;
	ev.raw.ts = ev.decision.ts;
	ev.raw.task = ev.decision.task;
	memcpy(ev.raw.device, ev.decision.device, sizeof(ev.raw.device));
	ev.region.index = ev.decision.region;
	ev.region_known = ev.decision.region != VFG_REGION_ANY;
	m->events++;
	m->fn(&ev, m->ctx);
	return 0;
}

/* Counted accesses with fexit read everything from the arguments: no entry program. */
static bool exit_only(int h, bool kprobes, const struct monitor_opts *opts)
{
	return !kprobes && !opts->each_access &&
	       (h == HOOK_FAULT || h == HOOK_READ || h == HOOK_WRITE);
}

/* One attempt in one mode: open, choose programs, load. */
static int load(struct monitor *m, const struct monitor_opts *opts, const char **functions,
		bool kprobes)
{
	struct bpf_program *prog, *entry, *exit;
	int err;

	m->skel = monitor_bpf__open();
	if (!m->skel)
		return -errno;
	m->skel->rodata->vfio_device_fops_addr = m->vfio.fops;
	m->skel->rodata->vfio_match_module = m->vfio.match_module;
	m->skel->rodata->filter_tgid = opts->pid;
	m->skel->rodata->page_shift = kernel_page_shift(NULL);
	m->skel->rodata->free_direct_probed = functions[HOOK_EXIT] != NULL;
	m->skel->rodata->each_access = opts->each_access;
	/* Woken when a quarter of the ring waits; otherwise read at the next poll. */
	m->skel->rodata->wakeup_bytes = (opts->ringbuf_bytes ? opts->ringbuf_bytes : 256 * 1024) / 4;
	if (opts->ringbuf_bytes) {
		err = bpf_map__set_max_entries(m->skel->maps.events, opts->ringbuf_bytes);
		if (err)
			return err;
	}
	bpf_object__for_each_program(prog, m->skel->obj)
		bpf_program__set_autoload(prog, false);
	for (int h = 0; h < HOOK_COUNT; h++) {
		if (!functions[h])
			continue;
		programs_of(m->skel, functions[h], kprobes, &entry, &exit);
		if (!exit_only(h, kprobes, opts))
			bpf_program__set_autoload(entry, true);
		if (exit)
			bpf_program__set_autoload(exit, true);
	}
	return monitor_bpf__load(m->skel);
}

/*
 * Attaches the loaded programs, hook by hook; a hook that fails keeps its reason. Returns
 * whether one on the VFIO paths is attached; *first_err receives the first attach error.
 */
static bool attach_hooks(struct monitor *m, const struct monitor_opts *opts,
			 const char *const *functions, bool kprobes, int *first_err)
{
	bool useful = false;

	*first_err = 0;
	for (int h = 0; h < HOOK_COUNT; h++) {
		struct bpf_program *entry, *exit;
		struct bpf_link *le = NULL, *lx = NULL;
		bool only_exit = exit_only(h, kprobes, opts);

		if (!functions[h])
			continue;
		programs_of(m->skel, functions[h], kprobes, &entry, &exit);
		if (!only_exit && !(le = bpf_program__attach(entry))) {
			if (!*first_err)
				*first_err = -errno;
			hook_fail(&m->hooks[h], -errno, "%s: attach failed: %s", functions[h]);
			continue;
		}
		if (exit && !(lx = bpf_program__attach(exit))) {
			if (!*first_err)
				*first_err = -errno;
			hook_fail(&m->hooks[h], -errno, only_exit ? "%s: attach failed: %s" :
				  "%s: attach of the exit probe failed: %s", functions[h]);
			bpf_link__destroy(le);
			continue;
		}
		m->links[2 * h] = le;
		m->links[2 * h + 1] = lx;
		m->hooks[h].attached = true;
		m->hooks[h].err = 0;
		m->hooks[h].reason[0] = 0;
		if (only_exit)
			m->hooks[h].how = "fexit";
		else if (exit)
			m->hooks[h].how = kprobes ? "kprobe/kretprobe" : "fentry/fexit";
		else
			m->hooks[h].how = kprobes ? "kprobe" : "fentry";
		if (h != HOOK_UNMAP && h != HOOK_EXIT && h != HOOK_OPEN_GROUP && h != HOOK_OPEN_CDEV)
			useful = true;
	}
	return useful;
}

int monitor_open(struct monitor *m, const struct monitor_opts *opts, monitor_event_fn fn,
		 void *ctx, const char **step)
{
	const char *names[NDEFS], *modules[NDEFS];
	int errs[NDEFS], err;
	uint64_t t;
	const char *functions[HOOK_COUNT] = {};
	bool kprobes = opts->force_kprobes, useful = false;

	memset(m, 0, sizeof(*m));
	m->fn = fn;
	m->ctx = ctx;
	for (size_t i = 0; i < NDEFS; i++) {
		m->hooks[hook_defs[i].hook].name = hook_defs[i].name;
		names[i] = hook_defs[i].function;
		modules[i] = hook_defs[i].module;
	}
	t = monotonic_ns();
	err = kernel_info_read(&m->kernel);
	if (err) {
		*step = "read the kernel release";
		return err;
	}
	err = vfio_locate(&m->vfio, step);
	if (err)
		return err;
	/* Which functions this kernel has, from its BTF (fentry needs it anyway). */
	err = kernel_functions_find(names, modules, errs, NDEFS);
	m->lookup_ns = monotonic_ns() - t;
	if (err) {
		*step = "read the kernel's BTF (/sys/kernel/btf/vmlinux)";
		return err;
	}
	for (size_t i = 0; i < NDEFS; i++) {
		struct hook_status *h = &m->hooks[hook_defs[i].hook];

		if (functions[hook_defs[i].hook])
			continue;
		if (hook_defs[i].needs_vfio && !m->vfio.loaded) {
			h->err = -ENOENT;
			snprintf(h->reason, sizeof(h->reason), "vfio is not loaded");
		} else if (errs[i]) {
			if (!h->function) {
				h->err = errs[i];
				snprintf(h->reason, sizeof(h->reason), "%s: not in this kernel",
					 hook_defs[i].function);
			}
		} else {
			functions[hook_defs[i].hook] = hook_defs[i].function;
			h->function = hook_defs[i].function;
			h->err = 0;
			h->reason[0] = 0;
		}
	}
	if (m->vfio.loaded && !functions[HOOK_OPEN_CDEV])
		snprintf(m->hooks[HOOK_OPEN_CDEV].reason, sizeof(m->hooks[HOOK_OPEN_CDEV].reason),
			 "vfio_device_fops_cdev_open: not in this kernel (no VFIO device nodes; "
			 "VMMs open groups)");
	if (!functions[HOOK_EXIT] && functions[HOOK_UNMAP])
		snprintf(m->hooks[HOOK_EXIT].reason, sizeof(m->hooks[HOOK_EXIT].reason),
			 "__vm_area_free: not in this kernel (vm_area_free sees every VMA end)");
	if (m->vfio.loaded && !functions[HOOK_FAULT])
		snprintf(m->hooks[HOOK_FAULT].reason, sizeof(m->hooks[HOOK_FAULT].reason),
			 "neither vfio_pci_mmap_huge_fault nor vfio_pci_mmap_fault is in this "
			 "kernel (vfio_pci_core not loaded, or another driver)");
	/* Every hook the kernel lacks keeps its reason; try to load the rest. */
	if (kprobes)
		snprintf(m->fentry_reason, sizeof(m->fentry_reason), "fentry/fexit not tried (--kprobes)");
	t = monotonic_ns();
	err = load(m, opts, functions, kprobes);
	if (err && !kprobes) {
		snprintf(m->fentry_reason, sizeof(m->fentry_reason), "fentry/fexit: load failed: %s",
			 strerror(-err));
		monitor_bpf__destroy(m->skel);
		kprobes = true;
		err = load(m, opts, functions, kprobes);
	}
	if (err) {
		*step = kprobes ? "load the monitor programs (kprobe)" :
				  "load the monitor programs (fentry)";
		for (int h = 0; h < HOOK_COUNT; h++)
			if (functions[h])
				hook_fail(&m->hooks[h], err, "%s: load failed: %s", functions[h]);
		return err;
	}
	m->load_ns = monotonic_ns() - t;
	t = monotonic_ns();
	useful = attach_hooks(m, opts, functions, kprobes, &err);
	if (!useful && !kprobes && err == -524) {
		/*
		 * Loaded but not attachable: a kernel without BPF trampolines on this architecture
		 * (ENOTSUPP; Debian's arm64 6.1). The same hooks as kprobes.
		 */
		snprintf(m->fentry_reason, sizeof(m->fentry_reason), "fentry/fexit: attach failed: %s",
			 kernel_strerror(err));
		for (int h = 0; h < HOOK_COUNT; h++) {
			bpf_link__destroy(m->links[2 * h]);
			bpf_link__destroy(m->links[2 * h + 1]);
			m->links[2 * h] = m->links[2 * h + 1] = NULL;
			m->hooks[h].attached = false;
		}
		monitor_bpf__destroy(m->skel);
		kprobes = true;
		err = load(m, opts, functions, kprobes);
		if (err) {
			*step = "load the monitor programs (kprobe)";
			return err;
		}
		useful = attach_hooks(m, opts, functions, kprobes, &err);
	}
	m->attach_ns = monotonic_ns() - t;
	if (!useful) {
		*step = m->vfio.loaded ? "attach any probe on the VFIO paths" :
					 "attach any probe on the VFIO paths (vfio is not loaded)";
		return -ENOENT;
	}
	m->rb = ring_buffer__new(bpf_map__fd(m->skel->maps.events), on_sample, m, NULL);
	if (!m->rb) {
		*step = "open the ring buffer";
		return -errno;
	}
	/* A policy in force records its decisions in a pinned ring buffer: show them too. */
	if (!opts->no_decisions) {
		int fd = bpf_obj_get("/sys/fs/bpf/vfioguard/decisions");
		uint32_t recorded;

		if (fd < 0)
			return 0; /* no policy in force */
		if (!enforce_pinned_is_ours(&recorded)) {
			/* Its records may have another layout: not read rather than misread. */
			m->decisions_why =
			    "the policy in force was put in force by another build of "
			    "vfioguard, whose decisions this one does not read (apply "
			    "it again to see them)";
			close(fd);
		} else if (ring_buffer__add(m->rb, fd, on_decision, m)) {
			close(fd);
		} else {
			m->decisions = !enforce_decisions_reader(true);
		}
	}
	return 0;
}

int monitor_poll(struct monitor *m, int timeout_ms)
{
	return ring_poll(m->rb, timeout_ms);
}

uint64_t monitor_dropped(struct monitor *m)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t total = 0, *v;
	uint32_t zero = 0;

	if (ncpu <= 0 || !m->skel)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.dropped), &zero, v))
		for (int i = 0; i < ncpu; i++)
			total += v[i];
	free(v);
	return total;
}

int monitor_fault_stats(struct monitor *m, monitor_fault_fn fn, void *ctx)
{
	int fd = bpf_map__fd(m->skel->maps.fault_stats);
	struct vfg_fault_key key, next;
	struct vfg_fault_stat st;
	int more = !bpf_map_get_next_key(fd, NULL, &key);

	for (; more; key = next) {
		more = !bpf_map_get_next_key(fd, &key, &next);
		if (!bpf_map_lookup_elem(fd, &key, &st))
			fn(&key, &st, ctx);
	}
	return 0;
}

int monitor_rw_stats(struct monitor *m, monitor_rw_fn fn, void *ctx)
{
	int fd = bpf_map__fd(m->skel->maps.rw_stats), ncpu = libbpf_num_possible_cpus();
	struct vfg_rw_key key, next;
	struct vfg_rw_stat *per, sum;
	int more = !bpf_map_get_next_key(fd, NULL, &key);

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	for (; more; key = next) {
		more = !bpf_map_get_next_key(fd, &key, &next);
		if (bpf_map_lookup_elem(fd, &key, per))
			continue;
		memset(&sum, 0, sizeof(sum));
		for (int i = 0; i < ncpu; i++) {
			sum.calls += per[i].calls;
			sum.bytes += per[i].bytes;
			sum.errors += per[i].errors;
			/* Named on the CPU that made the entry. */
			if ((per[i].comm[0] || per[i].device[0]) && !sum.comm[0]) {
				memcpy(sum.comm, per[i].comm, sizeof(sum.comm));
				memcpy(sum.device, per[i].device, sizeof(sum.device));
				sum.device_unknown = per[i].device_unknown;
			}
		}
		sum.comm[sizeof(sum.comm) - 1] = 0;
		sum.device[sizeof(sum.device) - 1] = 0;
		if (sum.device_unknown)
			sum.device[0] = 0;
		fn(&key, &sum, ctx);
	}
	free(per);
	return 0;
}

int monitor_rw_forget(struct monitor *m, const struct vfg_rw_key *k)
{
	return bpf_map_delete_elem(bpf_map__fd(m->skel->maps.rw_stats), k) ? -errno : 0;
}

void monitor_close(struct monitor *m)
{
	if (m->decisions)
		enforce_decisions_reader(false);
	m->decisions = false;
	ring_buffer__free(m->rb);
	for (size_t i = 0; i < sizeof(m->links) / sizeof(m->links[0]); i++)
		bpf_link__destroy(m->links[i]);
	monitor_bpf__destroy(m->skel);
	m->rb = NULL;
	m->skel = NULL;
}

void monitor_event_decode(struct monitor_event *ev, const struct vfg_event *raw,
			  const struct kernel_info *ki)
{
	unsigned int page_shift = kernel_page_shift(ki);

	memset(ev, 0, sizeof(*ev));
	ev->raw = *raw;
	ev->raw.task.comm[sizeof(ev->raw.task.comm) - 1] = 0;
	ev->raw.device[sizeof(ev->raw.device) - 1] = 0;
	if (raw->flags & VFG_EV_DEVICE_UNKNOWN)
		ev->raw.device[0] = 0;
	switch (raw->type) {
	case VFG_EV_MMAP:
		/* Taken at entry, before any driver rewrote it: always the mmap offset. */
		ev->region = region_locate(raw->vma.pgoff, page_shift, NULL, 0);
		ev->region_known = true;
		break;
	case VFG_EV_RW:
		ev->region = region_locate(raw->pos >> page_shift, page_shift, NULL, 0);
		ev->region.offset |= raw->pos & (ki->page_size - 1);
		ev->region_known = true;
		break;
	default:
		break;
	}
	if (raw->type != VFG_EV_RW) {
		ev->cache = cache_mode_decode(ki->arch, raw->vma.pgprot, ki->major, ki->minor);
		ev->cache.guest = cache_mode_guest(ki->arch, ev->cache.mode, raw->vma.vm_flags);
	}
}

const char *vm_fault_format(unsigned int ret, char *buf, size_t len)
{
	/* include/linux/mm_types.h, enum vm_fault_reason (values stable since 5.x). */
	static const struct {
		unsigned int bit;
		const char *name;
	} bits[] = {
		{ 0x0001, "OOM" },	    { 0x0002, "SIGBUS" },    { 0x0004, "MAJOR" },
		{ 0x0010, "HWPOISON" },	    { 0x0020, "HWPOISON_LARGE" },
		{ 0x0040, "SIGSEGV" },	    { 0x0100, "NOPAGE" },    { 0x0200, "LOCKED" },
		{ 0x0400, "RETRY" },	    { 0x0800, "FALLBACK" },  { 0x1000, "DONE_COW" },
		{ 0x2000, "NEEDDSYNC" },    { 0x4000, "COMPLETED" },
	};
	unsigned int rest = ret & ~0xf0000u; /* VM_FAULT_HINDEX_MASK: a huge page index */
	size_t n = 0;

	buf[0] = 0;
	if (!ret) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(rest & bits[i].bit))
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", bits[i].name);
		rest &= ~bits[i].bit;
	}
	if (rest)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? "|" : "", rest);
	return buf;
}
