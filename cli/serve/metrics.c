// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* serve's metrics rendered; see metrics.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../loader/decode/region.h"
#include "../../loader/model/model.h"
#include "../../policy/policy.h"
#include "../output.h"
#include "metrics.h"

/* A growing text buffer for the exposition. */
struct text {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if (t->s && t->len + n < t->cap) {
			t->len += n;
			return;
		}
		char *grown = realloc(t->s, t->cap * 2 + n + 4096);

		if (!grown) {
			t->oom = true;
			return;
		}
		t->s = grown;
		t->cap = t->cap * 2 + n + 4096;
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Label values here are device names, region names, cache modes, rule names and process names,
 * which a process sets to any bytes: valid UTF-8 and escaped.
 */
static const char *label(const char *s, char *buf, size_t len)
{
	return prom_label_value(s, buf, len);
}

static void put_policy(struct text *t, const struct metrics *m)
{
	char a[160];

	family(t, "vfioguard_policy_enforced", "gauge",
	       "1 when a policy is in force (BPF-LSM program attached), else 0.");
	put(t, "vfioguard_policy_enforced %d\n", m->enforcing && m->active);
	family(t, "vfioguard_policy_generation", "gauge",
	       "Generation of the verdicts in force (0: none).");
	put(t, "vfioguard_policy_generation %" PRIu64 "\n", m->enforcing ? m->generation : 0);
	family(t, "vfioguard_policy_applied_timestamp_seconds", "gauge",
	       "When this process last put the policy in force (Unix time).");
	put(t, "vfioguard_policy_applied_timestamp_seconds %.3f\n", m->applied_at);
	family(t, "vfioguard_policy_apply_duration_seconds", "gauge",
	       "How long the last apply took, from reading the file to the verdicts in force.");
	put(t, "vfioguard_policy_apply_duration_seconds %.6f\n", m->apply_seconds);
	family(t, "vfioguard_policy_reload_failures_total", "counter",
	       "SIGHUP reloads refused (the file has errors or cannot be enforced).");
	put(t, "vfioguard_policy_reload_failures_total %" PRIu64 "\n", m->reloads_failed);

	family(t, "vfioguard_mmaps_total", "counter",
	       "mmaps of VFIO device regions the policy decided on, as counted in the kernel.");
	put(t, "vfioguard_mmaps_total{decision=\"allowed\"} %" PRIu64 "\n", m->allowed);
	put(t, "vfioguard_mmaps_total{decision=\"denied\"} %" PRIu64 "\n", m->denied);
	family(t, "vfioguard_mmap_decisions_total", "counter",
	       "The policy's decisions on mmap by rule (the kernel's count; a rule of a policy "
	       "this process did not apply is #index).");
	for (size_t i = 0; i < m->ndecisions; i++)
		put(t, "vfioguard_mmap_decisions_total{decision=\"%s\",rule=\"%s\"} %" PRIu64 "\n",
		    m->decisions[i].denied ? "denied" : "allowed",
		    label(m->decisions[i].rule, a, sizeof(a)), m->decisions[i].n);
}

static void put_mappings(struct text *t, const struct metrics *m)
{
	static const char *const pages[] = { "pte", "pmd", "pud", "other" };
	char a[160], b[160], region[24];

	family(t, "vfioguard_mappings", "gauge",
	       "VFIO device regions mapped now, by the cache mode the kernel gave the mapping and "
	       "the access the policy in force allows.");
	for (size_t k = 0; k < m->nmappings; k++) {
		const struct metrics_mapping *r = &m->mappings[k];

		put(t, "vfioguard_mappings{device=\"%s\",region=\"%s\",cache=\"%s\",access=\"%s\"} "
		       "%" PRIu64 "\n", label(r->device, a, sizeof(a)),
		    region_name(r->region, region, sizeof(region)), label(r->cache, b, sizeof(b)),
		    r->access, r->n);
	}

	family(t, "vfioguard_region_cache_mode_mismatch", "gauge",
	       "1 when the cache mode a region was last mapped with is not the one its verdict "
	       "assumed (its hazards were judged for another mode), else 0; per region mapped "
	       "since the policy was first applied.");
	for (size_t k = 0; k < m->nobserved; k++) {
		const struct metrics_observed *o = &m->observed[k];
		char assumed[40], mapped[40];

		cache_mode_format(o->assumed, 0, assumed, sizeof(assumed));
		cache_mode_format(o->mapped, o->pgprot, mapped, sizeof(mapped));
		put(t, "vfioguard_region_cache_mode_mismatch{device=\"%s\",region=\"%s\","
		       "assumed=\"%s\",mapped=\"%s\"} %d\n",
		    label(o->device, a, sizeof(a)), region_name(o->region, region, sizeof(region)),
		    assumed, mapped, o->mismatch);
	}

	family(t, "vfioguard_faults_total", "counter",
	       "Page faults on VFIO device mappings, by the page size the kernel mapped.");
	for (size_t k = 0; k < m->nfaults; k++)
		for (int p = 0; p < 4; p++)
			put(t, "vfioguard_faults_total{device=\"%s\",region=\"%s\",page=\"%s\"} %" PRIu64
			       "\n", label(m->faults[k].device, a, sizeof(a)),
			    region_name(m->faults[k].region, region, sizeof(region)), pages[p],
			    m->faults[k].faults[p]);
}

static void put_fd_accesses(struct text *t, const struct model *byname)
{
	char a[160], b[160], region[24];

	family(t, "vfioguard_fd_accesses_total", "counter",
	       "Reads and writes of VFIO device regions through the device fd.");
	for (size_t i = 0; i < byname->nacc; i++) {
		const struct model_access *x = &byname->acc[i];

		for (int w = 0; w < 2; w++) {
			uint64_t n = 0;

			for (int k = 0; k < 5; k++)
				n += x->by_size[w][k];
			put(t, "vfioguard_fd_accesses_total{device=\"%s\",region=\"%s\",comm=\"%s\","
			       "direction=\"%s\"} %" PRIu64 "\n", label(x->device, a, sizeof(a)),
			    region_name(x->region, region, sizeof(region)),
			    label(x->comm, b, sizeof(b)), w ? "write" : "read", n);
		}
	}
	family(t, "vfioguard_fd_access_bytes_total", "counter",
	       "Bytes moved through the device fd by those reads and writes.");
	for (size_t i = 0; i < byname->nacc; i++) {
		const struct model_access *x = &byname->acc[i];

		for (int w = 0; w < 2; w++)
			put(t, "vfioguard_fd_access_bytes_total{device=\"%s\",region=\"%s\",comm=\"%s\","
			       "direction=\"%s\"} %" PRIu64 "\n", label(x->device, a, sizeof(a)),
			    region_name(x->region, region, sizeof(region)),
			    label(x->comm, b, sizeof(b)), w ? "write" : "read", x->bytes[w]);
	}
}

/*
 * Copies and DMA maps by the labels they are exported under: the model keeps them per
 * process, the metrics per command name (a VMM's PID is not a label worth a series).
 */
static void put_copies(struct text *t, const struct model *byname)
{
	static const char *const dma_families[][3] = {
		{ "vfioguard_dma_maps_total", "counter",
		  "QEMU's DMA maps (address_space_map) of device memory: direct, or bounced through "
		  "its one bounce buffer (a RAM-device region)." },
		{ "vfioguard_dma_short_maps_total", "counter",
		  "Bounced DMA maps granted less than asked (the bounce buffer holds at most a "
		  "page)." },
		{ "vfioguard_dma_map_failures_total", "counter",
		  "QEMU's DMA maps that failed (virtio then stops the device), by the region whose "
		  "bounced map held the bounce buffer (device and region \"unknown\" when none was "
		  "seen)." },
		{ "vfioguard_dma_map_bytes_total", "counter",
		  "Bytes granted by those DMA maps." },
	};
	char a[160], b[64], region[24], hz[64];

	for (int f = 0; f < 2; f++) {
		family(t, f ? "vfioguard_copy_bytes_total" : "vfioguard_copies_total", "counter",
		       f ? "Bytes those copies moved, by the same labels."
			 : "Copies into (write) and out of (read) device memory by the watched "
			   "routines of processes that map it, by their hazards (as calibrated for "
			   "the case) and the verdict of the region's policy: violation (a hazard "
			   "the verdict forbids, or a trap region), ok, or unmeasured (hazards not "
			   "known).");
		for (size_t i = 0; i < byname->ncopies; i++) {
			const struct model_copy *c = &byname->copies[i];

			put(t, "%s{device=\"%s\",region=\"%s\",comm=\"%s\",direction=\"%s\","
			       "hazards=\"%s\",verdict=\"%s\"} %" PRIu64 "\n",
			    f ? "vfioguard_copy_bytes_total" : "vfioguard_copies_total",
			    label(c->device[0] ? c->device : "unknown", a, sizeof(a)),
			    region_name(c->region, region, sizeof(region)),
			    label(c->comm, b, sizeof(b)), c->write ? "write" : "read",
			    c->measured ? hazard_set_format(c->hazards, hz, sizeof(hz)) : "unmeasured",
			    !c->measured ? "unmeasured" : c->violation ? "violation" : "ok",
			    f ? c->bytes : c->count);
		}
	}

	for (int f = 0; f < 4; f++) {
		family(t, dma_families[f][0], dma_families[f][1], dma_families[f][2]);
		for (size_t i = 0; i < byname->ndma; i++) {
			const struct model_dma *d = &byname->dma[i];
			const char *device = d->device[0] ? label(d->device, a, sizeof(a)) : "unknown";
			const char *reg = d->device[0] ? region_name(d->region, region, sizeof(region))
						       : "unknown";

			label(d->comm, b, sizeof(b));
			if (f == 0 && d->device[0]) {
				put(t, "%s{device=\"%s\",region=\"%s\",comm=\"%s\",result=\"direct\"} "
				       "%" PRIu64 "\n", dma_families[f][0], device, reg, b, d->direct);
				put(t, "%s{device=\"%s\",region=\"%s\",comm=\"%s\",result=\"bounced\"} "
				       "%" PRIu64 "\n", dma_families[f][0], device, reg, b, d->bounced);
			} else if (f == 2 || d->device[0]) {
				put(t, "%s{device=\"%s\",region=\"%s\",comm=\"%s\"} %" PRIu64 "\n",
				    dma_families[f][0], device, reg, b,
				    f == 1 ? d->short_maps : f == 2 ? d->failed : d->bytes);
			}
		}
	}
}

int metrics_render(const struct metrics *m, char **text, size_t *len)
{
	struct text t = {};
	char a[160];

	family(&t, "vfioguard_build_info", "gauge", "vfioguard's version and the kernel it runs on.");
	put(&t, "vfioguard_build_info{version=\"%s\",kernel=\"%s\"} 1\n", m->version,
	    label(m->kernel, a, sizeof(a)));
	put_policy(&t, m);
	put_mappings(&t, m);
	put_fd_accesses(&t, m->byname);
	if (m->copies)
		put_copies(&t, m->byname);
	family(&t, "vfioguard_events_dropped_total", "counter",
	       "Events the kernel could not hand to vfioguard (ring buffer full): counts above "
	       "stay exact, per-event detail is lost.");
	put(&t, "vfioguard_events_dropped_total{source=\"monitor\"} %" PRIu64 "\n",
	    m->monitor_dropped);
	put(&t, "vfioguard_events_dropped_total{source=\"policy\"} %" PRIu64 "\n", m->policy_dropped);
	if (m->copies)
		put(&t, "vfioguard_events_dropped_total{source=\"copies\"} %" PRIu64 "\n",
		    m->copies_dropped);
	family(&t, "vfioguard_heap_inuse_bytes", "gauge",
	       "Bytes vfioguard has allocated and not freed (the allocator's count): what a leak "
	       "grows. Resident memory also holds what the allocator keeps free for reuse.");
	put(&t, "vfioguard_heap_inuse_bytes %" PRIu64 "\n", m->heap_inuse);
	family(&t, "vfioguard_last_update_timestamp_seconds", "gauge",
	       "When these metrics were brought up to date (Unix time).");
	put(&t, "vfioguard_last_update_timestamp_seconds %.3f\n", m->now);
	if (t.oom || !t.s) {
		free(t.s);
		return -ENOMEM;
	}
	*text = t.s;
	*len = t.len;
	return 0;
}
