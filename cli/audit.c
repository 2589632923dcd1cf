// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* vfioguard audit: one snapshot of every VFIO device mapping on the host. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"
#include "../loader/snapshot.h"

static const char audit_usage[] =
	"Usage: vfioguard audit [-j|-p] [-v]\n"
	"Lists every VFIO device region that any process has mapped: process, device, region,\n"
	"range, offset into the region, cache mode (decoded and raw) and VMA flags.\n"
	"Exit 0 when the snapshot is complete, 2 when it cannot be taken (nothing is printed then).\n";

static struct json_object *mapping_json(const struct mapping *m)
{
	struct json_object *o = json_object_new_object();
	char region[32], cache[40];

	json_add(o, "pid", json_object_new_int64(m->pid));
	json_add(o, "comm", json_object_new_string(m->comm));
	json_add(o, "cgroup_id", json_object_new_uint64(m->cgroup_id));
	json_add(o, "device", m->device[0] ? json_object_new_string(m->device) : NULL);
	json_add(o, "region",
		 json_object_new_string(region_name(m->region.index, region, sizeof(region))));
	json_add(o, "region_index", json_object_new_int64(m->region.index));
	json_add(o, "region_offset", json_object_new_uint64(m->region.offset));
	json_add(o, "region_from",
		 json_object_new_string(m->region.source == REGION_FROM_PFN ? "pfn" : "offset"));
	json_add(o, "start", json_hex(m->start));
	json_add(o, "end", json_hex(m->end));
	json_add(o, "size", json_object_new_uint64(m->end - m->start));
	json_add(o, "cache", json_object_new_string(cache_mode_format(m->cache.mode, m->pgprot,
								      cache, sizeof(cache))));
	json_add(o, "cache_index", json_object_new_int64(m->cache.index));
	json_add(o, "pgprot", json_hex(m->pgprot));
	json_add(o, "vm_pgoff", json_hex(m->pgoff));
	json_add(o, "vm_flags", json_hex(m->vm_flags));
	json_add(o, "flags", vm_flags_json(m->vm_flags));
	return o;
}

static void print_table(const struct snapshot *snap)
{
	char region[32], cache[40], size[32], flags[96], range[48];

	if (!snap->count) {
		printf("no VFIO device mappings%s\n",
		       snap->vfio_loaded ? "" : " (VFIO is not loaded in this kernel)");
		return;
	}
	printf("%-7s %-15s %-13s %-7s %-29s %6s %10s %-6s %-18s %s\n", "PID", "COMM", "DEVICE",
	       "REGION", "START-END", "SIZE", "OFFSET", "CACHE", "PGPROT", "FLAGS");
	for (size_t i = 0; i < snap->count; i++) {
		const struct mapping *m = &snap->mappings[i];

		snprintf(range, sizeof(range), "%" PRIx64 "-%" PRIx64, m->start, m->end);
		printf("%-7u %-15s %-13s %-7s %-29s %6s %#10" PRIx64 " %-6s %#018" PRIx64 " %s\n",
		       m->pid, m->comm, m->device[0] ? m->device : "?",
		       region_name(m->region.index, region, sizeof(region)), range,
		       human_size(m->end - m->start, size, sizeof(size)), m->region.offset,
		       cache_mode_format(m->cache.mode, m->pgprot, cache, sizeof(cache)), m->pgprot,
		       vm_flags_text(m->vm_flags, flags, sizeof(flags)));
	}
}

int do_audit(int argc, char **argv)
{
	struct snapshot snap;
	int idx = parse_common_options(argc, argv, audit_usage);
	int err;

	if (idx < 0)
		return idx == -1 ? EXIT_CLEAN : EXIT_ERROR;
	if (idx < argc) {
		p_err("audit: unexpected argument '%s'", argv[idx]);
		return EXIT_ERROR;
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
		return EXIT_ERROR;
	}
	if (verbose)
		fprintf(stderr,
			"vfioguard: snapshot of %zu mappings: kallsyms %.1f ms, BPF load %.1f ms, "
			"iterator %.1f ms, decode %.1f ms\n",
			snap.count, snap.lookup_ns / 1e6, snap.load_ns / 1e6, snap.iter_ns / 1e6,
			snap.decode_ns / 1e6);
	if (json_output) {
		struct json_object *doc = json_object_new_object();

		json_add(doc, "kernel", json_object_new_string(snap.kernel.release));
		json_add(doc, "arch", json_object_new_string(snap.kernel.machine));
		json_add(doc, "vfio_loaded", json_object_new_boolean(snap.vfio_loaded));
		json_stream_begin(doc, "mappings");
		for (size_t i = 0; i < snap.count; i++)
			json_stream_item(mapping_json(&snap.mappings[i]));
		json_stream_end();
	} else {
		print_table(&snap);
	}
	snapshot_free(&snap);
	return EXIT_CLEAN;
}
