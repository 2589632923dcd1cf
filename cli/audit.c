// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* vfioguard audit: one snapshot of every VFIO device mapping on the host. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "copies_view.h"
#include "output.h"
#include "../loader/model/run_state.h"
#include "../loader/probes/snapshot.h"

static const char audit_usage[] =
	"Usage: vfioguard audit [-j|-p] [-v]\n"
	"       vfioguard audit --copies --duration SECONDS [--pid PID] [--libc]\n"
	"                       [--probe BINARY:SYMBOL:dst=argN,src=argN,len=argN]\n"
	"                       [--usdt BINARY:PROVIDER:NAME:dst=argN,src=argN,len=argN] [-j|-p] [-v]\n"
	"Lists every VFIO device region that any process has mapped: process, device, region,\n"
	"range, offset into the region, cache mode (decoded and raw) and VMA flags.\n"
	"--copies then watches the processes that map them for SECONDS and reports their copies\n"
	"into and out of device memory per process, region and hazards (see monitor --copies).\n"
	"Exit 0 when clean, 1 when --copies found violations, 2 when the snapshot cannot be taken\n"
	"(nothing is printed then).\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static struct json_object *mapping_json(const struct mapping *m)
{
	struct json_object *o = json_object_new_object();

	json_add(o, "pid", json_object_new_int64(m->task.tgid));
	json_add(o, "start_time", json_object_new_uint64(m->task.start_time));
	json_add(o, "comm", json_name(m->task.comm));
	json_add(o, "cgroup_id", json_object_new_uint64(m->task.cgroup_id));
	json_add(o, "device", m->device[0] ? json_object_new_string(m->device) : NULL);
	json_mapping(o, &m->region, m->vma.start, m->vma.end, &m->cache, m->vma.pgprot);
	/* pgprot is what the pages carry; the VMA's own, and where pgprot came from. */
	json_add(o, "vm_page_prot", json_hex(m->vma.vm_page_prot));
	json_add(o, "pgprot_from",
		 json_object_new_string(m->vma.flags & VFG_VMA_FROM_PTE ? "pte" : "vma"));
	json_add(o, "vm_pgoff", json_hex(m->vma.pgoff));
	json_add(o, "vm_flags", json_hex(m->vma.vm_flags));
	json_add(o, "flags", vm_flags_json(m->vma.vm_flags));
	return o;
}

static void print_table(const struct snapshot *snap)
{
	char region[32], cache[40], size[32], flags[96], range[48], name[TERM_COMM_LEN];

	if (!snap->count) {
		printf("no VFIO device mappings%s\n",
		       snap->vfio.loaded ? "" : " (VFIO is not loaded in this kernel)");
		return;
	}
	printf("%-7s %-15s %-13s %-7s %-29s %6s %10s %-6s %-18s %s\n", "PID", "COMM", "DEVICE",
	       "REGION", "START-END", "SIZE", "OFFSET", "CACHE", "PGPROT", "FLAGS");
	for (size_t i = 0; i < snap->count; i++) {
		const struct mapping *m = &snap->mappings[i];

		snprintf(range, sizeof(range), "%" PRIx64 "-%" PRIx64, (uint64_t)m->vma.start,
			 (uint64_t)m->vma.end);
		printf("%-7u %-15s %-13s %-7s %-29s %6s %#10" PRIx64 " %-6s %#018" PRIx64 " %s\n",
		       m->task.tgid, term_name(m->task.comm, name, sizeof(name)),
		       m->device[0] ? m->device : "?",
		       region_name(m->region.index, region, sizeof(region)), range,
		       human_size(m->vma.end - m->vma.start, size, sizeof(size)), m->region.offset,
		       cache_mode_format(m->cache.mode, m->vma.pgprot, cache, sizeof(cache)),
		       (uint64_t)m->vma.pgprot, vm_flags_text(m->vma.vm_flags, flags, sizeof(flags)));
	}
}

/* Watches the processes of the snapshot for the copies they make; returns the exit code. */
static int watch_copies(const struct snapshot *snap, struct copy_view_opts *co,
			unsigned long long duration, struct json_object *doc)
{
	struct sigaction sa = { .sa_handler = on_signal };
	/* vfio found once, by the snapshot. */
	struct session_opts so = { .kernel = &snap->kernel, .vfio = &snap->vfio,
				   .policy_path = RUN_POLICY, .stacks = true };
	struct session_view cb;
	struct copy_view *v;
	struct session *s;
	uint64_t deadline;
	char why[640];
	int ret = EXIT_CLEAN;

	co->start_ns = monotonic_ns();
	v = copy_view_new(co, &cb);
	if (!v) {
		p_err("audit: out of memory");
		return EXIT_ERROR;
	}
	so.watch = co->watch;
	if (session_open(&s, &so, &cb, 1, why, sizeof(why)) ||
	    session_open_copies(s, why, sizeof(why))) {
		p_err("%s", why);
		session_close(s);
		copy_view_free(v);
		return EXIT_ERROR;
	}
	copy_view_bind(v, s);
	session_watch_snapshot(s, snap);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	deadline = co->start_ns + duration * 1000000000ULL;
	while (!stop && monotonic_ns() < deadline) {
		if (session_poll(s, 100) < 0) {
			p_err("audit: reading copies: %s", strerror(errno));
			ret = EXIT_ERROR;
			break;
		}
	}
	while (session_poll(s, 0) > 0)
		;
	session_drain(s);
	if (doc) {
		json_add(doc, "duration", json_object_new_double((monotonic_ns() - co->start_ns) / 1e9));
		copy_view_summary(v, doc);
	} else {
		copy_view_summary(v, NULL);
	}
	if (ret == EXIT_CLEAN && s->model.copy_violations)
		ret = EXIT_VIOLATIONS;
	session_close(s);
	copy_view_free(v);
	return ret;
}

int do_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'D' }, { "pid", required_argument, NULL, 'P' },
		COMMON_LONG_OPTIONS, COPY_VIEW_LONG_OPTIONS, { NULL, 0, NULL, 0 },
	};
	struct copy_view_opts co = { .region = -1 };
	bool copies = false;
	unsigned long long duration = 0, v;
	struct snapshot snap;
	struct cmd_options o = { .cmd = "audit", .usage = audit_usage, .shortopts = "jpvh",
				 .longopts = opts };
	int c, err, ret = EXIT_CLEAN;

	while ((c = next_option(&o, argc, argv)) > 0) {
		int cv = copy_view_option(&co, c, optarg, &copies);

		if (cv < 0)
			goto usage_error;
		if (cv)
			continue;
		switch (c) {
		case 'D':
			if (!parse_u64(optarg, &duration) || !duration) {
				p_err("audit: --duration: '%s' is not a number of seconds", optarg);
				goto usage_error;
			}
			break;
		case 'P':
			if (!parse_u64(optarg, &v) || !v || v > UINT32_MAX) {
				p_err("audit: --pid: '%s' is not a process id", optarg);
				goto usage_error;
			}
			co.watch.pid = v;
			break;
		}
	}
	if (c < 0) {
		free((void *)co.watch.probes);
		return o.rc;
	}
	if (copies != !!duration) {
		p_err(copies ? "audit: --copies needs --duration SECONDS (how long to watch)"
			     : "audit: --duration only goes with --copies");
		goto usage_error;
	}
	if (co.watch.pid && !copies) {
		p_err("audit: --pid only goes with --copies");
		goto usage_error;
	}
	err = snapshot_take(&snap);
	if (err) {
		if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
			p_err("audit: cannot %s: %s (run as root: needs CAP_BPF, CAP_PERFMON and "
			      "CAP_SYSLOG)",
			      snap.failed_step, strerror(-err));
		else
			p_err("audit: cannot %s: %s%s", snap.failed_step, strerror(-err),
			      verbose ? "" : " (-v shows libbpf's messages)");
		free((void *)co.watch.probes);
		return EXIT_ERROR;
	}
	if (verbose)
		fprintf(stderr,
			"vfioguard: snapshot of %zu mappings: finding vfio %.1f ms, BPF load %.1f ms, "
			"iterator %.1f ms, decode %.1f ms\n",
			snap.count, snap.lookup_ns / 1e6, snap.load_ns / 1e6, snap.iter_ns / 1e6,
			snap.decode_ns / 1e6);
	if (copies) {
		struct json_object *doc = NULL, *ms;

		if (json_output) {
			doc = json_object_new_object();
			ms = json_object_new_array();
			json_add(doc, "kernel", json_object_new_string(snap.kernel.release));
			json_add(doc, "arch", json_object_new_string(snap.kernel.machine));
			json_add(doc, "vfio_loaded", json_object_new_boolean(snap.vfio.loaded));
			for (size_t i = 0; i < snap.count; i++)
				if (!co.watch.pid || snap.mappings[i].task.tgid == co.watch.pid)
					json_object_array_add(ms, mapping_json(&snap.mappings[i]));
			json_add(doc, "mappings", ms);
		} else {
			print_table(&snap);
		}
		ret = watch_copies(&snap, &co, duration, doc);
		if (doc && ret != EXIT_ERROR)
			json_emit(doc);
		else
			json_object_put(doc);
	} else if (json_output) {
		struct json_object *doc = json_object_new_object();

		json_add(doc, "kernel", json_object_new_string(snap.kernel.release));
		json_add(doc, "arch", json_object_new_string(snap.kernel.machine));
		json_add(doc, "vfio_loaded", json_object_new_boolean(snap.vfio.loaded));
		json_stream_begin(doc, "mappings");
		for (size_t i = 0; i < snap.count; i++)
			json_stream_item(mapping_json(&snap.mappings[i]));
		json_stream_end();
	} else {
		print_table(&snap);
	}
	snapshot_free(&snap);
	free((void *)co.watch.probes);
	return ret;
usage_error:
	free((void *)co.watch.probes);
	return EXIT_ERROR;
}
