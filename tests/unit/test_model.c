// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The model under monitor's views: mappings from events and the snapshot, and the regions table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "unit.h"

#include "../../loader/model/model.h"
#include "../../loader/probes/monitor.h"
#include "../../loader/probes/snapshot.h"
#include "../../policy/policy.h"

/* An event of QEMU as pid 42. */
static struct monitor_event event(uint32_t type, uint64_t mm, uint64_t start)
{
	return qemu_event(type, 42, mm, start, 0);
}

static void mmap_fault_unmap(void **state)
{
	struct model md;
	struct monitor_event ev = event(VFG_EV_MMAP, 0x1000, 0x7f0000000000);
	struct model_mapping *t, *f;

	model_init(&md, 12);
	t = model_mmap(&md, &ev);
	assert_non_null(t);
	assert_int_equal(t->region.index, 2);
	assert_int_equal(t->region.offset, 0x3000);
	assert_int_equal(t->cache.mode, CACHE_X86_UC_MINUS);
	assert_false(t->existing);

	ev = event(VFG_EV_FAULT, 0x1000, 0x7f0000000000);
	f = model_fault(&md, &ev);
	assert_ptr_equal(f, t);
	assert_int_equal(md.nall, 1);

	ev = event(VFG_EV_UNMAP, 0x1000, 0x7f0000000000);
	ev.raw.faults.faults[0] = 3;
	ev.raw.faults.faults[1] = 1;
	ev.raw.faults.fallbacks = 2;
	assert_ptr_equal(model_unmap(&md, &ev), t);
	assert_true(t->unmapped);
	assert_int_equal(t->faults[0], 3);
	assert_int_equal(t->faults[1], 1);
	assert_int_equal(t->fallbacks, 2);
	/* Gone from the mapped ones, kept for the summary; a second unmap is no mapping. */
	assert_null(model_find(&md, 0x1000, 0x7f0000000000));
	assert_null(model_unmap(&md, &ev));
	assert_int_equal(md.nall, 1);
	model_free(&md);
}

static void fault_learns_a_missed_mapping(void **state)
{
	struct model md;
	struct monitor_event ev = event(VFG_EV_FAULT, 0x2000, 0x7f0000100000);
	struct model_mapping *t;

	model_init(&md, 12);
	t = model_fault(&md, &ev);
	assert_non_null(t);
	assert_int_equal(t->region.index, 2);
	assert_int_equal(t->task.tgid, 42);
	assert_ptr_equal(model_find(&md, 0x2000, 0x7f0000100000), t);
	model_free(&md);
}

static void snapshot_then_probe_and_address_reuse(void **state)
{
	struct model md;
	struct mapping m = {.vma.mm = 0x3000,
			    .vma.start = 0x7f0000200000,
			    .vma.end = 0x7f0000300000,
			    .task.tgid = 7,
			    .task.comm = "vmm",
			    .device = "0000:00:03.0"};
	struct monitor_event ev = event(VFG_EV_MMAP, 0x3000, 0x7f0000200000);
	struct model_mapping *a, *b;

	model_init(&md, 12);
	/* Seen by the probes while the snapshot was taken: the snapshot's copy is dropped. */
	a = model_mmap(&md, &ev);
	assert_null(model_existing(&md, &m));
	assert_int_equal(md.nall, 1);
	/* Its unmap missed, a new mapping at the same address replaces it. */
	b = model_mmap(&md, &ev);
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(model_find(&md, 0x3000, 0x7f0000200000), b);
	assert_int_equal(md.nall, 2);
	/* Another address space: the snapshot's mapping is its own. */
	m.vma.mm = 0x4000;
	a = model_existing(&md, &m);
	assert_non_null(a);
	assert_true(a->existing);
	assert_int_equal(md.nall, 3);
	model_free(&md);
}

static void regions_join_mappings_and_fd_accesses(void **state)
{
	struct model md;
	struct monitor_event ev = event(VFG_EV_MMAP, 0x1000, 0x7f0000000000);
	struct model_region *rows;
	size_t n;

	model_init(&md, 12);
	assert_non_null(model_mmap(&md, &ev));
	ev = event(VFG_EV_MMAP, 0x1000, 0x7f0000400000); /* a second mapping of BAR2 */
	assert_non_null(model_mmap(&md, &ev));
	/* Accesses through the fd: BAR2 of the same process, and config space. */
	md.acc = calloc(2, sizeof(*md.acc));
	assert_non_null(md.acc);
	md.nacc = 2;
	md.acc[0] = (struct model_access){ .pid = 42, .comm = "qemu", .device = "0000:00:04.0",
					   .region = 2 };
	md.acc[1] = (struct model_access){ .pid = 42, .comm = "qemu", .device = "0000:00:04.0",
					   .region = 7 };
	n = model_regions(&md, &rows);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].region, 2);
	assert_true(rows[0].mapped);
	assert_true(rows[0].fd);
	assert_int_equal(rows[0].cache, CACHE_X86_UC_MINUS);
	assert_int_equal(rows[1].region, 7);
	assert_false(rows[1].mapped);
	assert_true(rows[1].fd);
	free(rows);
	model_free(&md);
}

static void buckets(void **state)
{
	assert_int_equal(model_size_bucket(1), 0);
	assert_int_equal(model_size_bucket(8), 3);
	assert_int_equal(model_size_bucket(3), 4);
	assert_int_equal(model_order_bucket(0, 12), 0);
	assert_int_equal(model_order_bucket(9, 12), 1);
	assert_int_equal(model_order_bucket(18, 12), 2);
	assert_int_equal(model_order_bucket(4, 12), 3);
	/* 16 KiB pages: PMD order 11, PUD 22; 9 is no level there. */
	assert_int_equal(model_order_bucket(11, 14), 1);
	assert_int_equal(model_order_bucket(22, 14), 2);
	assert_int_equal(model_order_bucket(9, 14), 3);
}

static struct copy_event copy(uint32_t tgid, unsigned int region, uint32_t len, uint32_t hazards,
			       bool measured)
{
	struct copy_event ev = { .write = true, .hazards = hazards, .measured = measured };

	ev.raw.task.tgid = tgid;
	ev.raw.len = len;
	strcpy(ev.raw.task.comm, "qemu");
	strcpy(ev.raw.device, "0000:00:04.0");
	ev.region.index = region;
	return ev;
}

/* Copies: one row per (process, region, direction, hazards, verdict); totals by verdict. */
static void copies_by_process_region_and_hazards(void **state)
{
	struct model md;
	struct copy_event a = copy(42, 2, 8, HAZARD_DUP, true), b = copy(42, 0, 4, HAZARD_DUP, true),
			  u = copy(42, 2, 3, 0, false), other = copy(43, 2, 8, HAZARD_DUP, true);

	model_init(&md, 12);
	model_copy(&md, &a, false);
	model_copy(&md, &a, false);
	model_copy(&md, &b, true);
	model_copy(&md, &u, true); /* unmeasured: never a violation */
	model_copy(&md, &other, false);
	assert_int_equal(md.ncopies, 4);
	assert_int_equal(md.copies[0].count, 2);
	assert_int_equal(md.copies[0].bytes, 16);
	assert_false(md.copies[0].violation);
	assert_true(md.copies[1].violation);
	assert_int_equal(md.copies[1].region, 0);
	assert_false(md.copies[2].violation);
	assert_false(md.copies[2].measured);
	assert_int_equal(md.copies[3].pid, 43);
	assert_int_equal(md.copy_violations, 1);
	assert_int_equal(md.copy_clean, 3);
	assert_int_equal(md.copy_unmeasured, 1);
	/* The same copy judged again under another verdict (a new policy) is a row of its own. */
	model_copy(&md, &a, true);
	assert_int_equal(md.ncopies, 5);
	model_free(&md);
}

static struct dma_event dma(uint32_t tgid, unsigned int region, uint64_t gpa, bool bounced,
			    bool failed, bool unmap)
{
	struct dma_event ev = { .device = region != 0, .bounced = bounced, .failed = failed,
				.unmap = unmap };

	ev.raw.task.tgid = tgid;
	ev.raw.gpa = gpa;
	ev.raw.granted = failed ? 0 : 4096;
	ev.raw.asked = 8192;
	ev.short_map = bounced && !failed && !unmap;
	strcpy(ev.raw.task.comm, "qemu");
	if (ev.device)
		strcpy(ev.raw.device, "0000:00:04.0");
	ev.region.index = region;
	return ev;
}

/* DMA: a failure while a bounced map holds the buffer counts against the holder's region. */
static void dma_failures_go_to_the_holder(void **state)
{
	struct model md;
	struct dma_event m1 = dma(42, 2, 0x1000, true, false, false),
			 f = dma(42, 0, 0x9000, false, true, false),
			 um = dma(42, 2, 0x1000, true, false, true), d = dma(42, 4, 0x2000, false, false, false);
	const struct dma_event *held;

	model_init(&md, 12);
	assert_null(model_dma(&md, &f)); /* nothing held yet: a failure of its own, device unknown */
	assert_null(model_dma(&md, &m1));
	held = model_dma(&md, &f);
	assert_non_null(held);
	assert_int_equal(held->raw.gpa, 0x1000);
	assert_null(model_dma(&md, &um));
	assert_null(model_dma(&md, &f)); /* released */
	assert_null(model_dma(&md, &d));
	assert_int_equal(md.ndma, 3);
	assert_string_equal(md.dma[0].device, "");
	assert_int_equal(md.dma[0].failed, 2);
	assert_int_equal(md.dma[1].region, 2);
	assert_int_equal(md.dma[1].bounced, 1);
	assert_int_equal(md.dma[1].short_maps, 1);
	assert_int_equal(md.dma[1].failed, 1);
	assert_int_equal(md.dma[1].bytes, 4096);
	assert_int_equal(md.dma[2].region, 4);
	assert_int_equal(md.dma[2].direct, 1);
	model_free(&md);
}

static bool alive_43(uint32_t pid, void *ctx)
{
	return pid == 43;
}

static bool none_alive_here(uint32_t pid, void *ctx)
{
	return false;
}

static void count_forgotten(const struct model_mapping *t, void *ctx)
{
	++*(size_t *)ctx;
}

/* Rows of exited processes fold into pid 0 rows: the sums by name never go down. */
static void exited_processes_fold(void **state)
{
	struct model md;
	struct copy_event a = copy(42, 2, 8, HAZARD_DUP, true), b = copy(44, 2, 8, HAZARD_DUP, true),
			  c = copy(43, 2, 8, HAZARD_DUP, true), d = copy(45, 0, 4, 0, true);
	struct dma_event m1 = dma(42, 2, 0x1000, true, false, false),
			 m2 = dma(44, 2, 0x1000, false, false, false);

	model_init(&md, 12);
	model_copy(&md, &a, false);
	model_copy(&md, &c, false);
	model_copy(&md, &b, false);
	model_copy(&md, &b, false);
	model_dma(&md, &m1);
	model_dma(&md, &m2);
	model_fold_exited(&md, alive_43, NULL);
	assert_int_equal(md.ncopies, 2);
	assert_int_equal(md.copies[0].pid, 0);
	assert_int_equal(md.copies[0].count, 3);
	assert_int_equal(md.copies[0].bytes, 24);
	assert_int_equal(md.copies[1].pid, 43);
	assert_int_equal(md.ndma, 1);
	assert_int_equal(md.dma[0].bounced, 1);
	assert_int_equal(md.dma[0].direct, 1);
	assert_int_equal(md.nholders, 0);
	/* A later process of the same name exits: its rows join the folded ones. */
	model_copy(&md, &a, false);
	model_copy(&md, &d, true);
	model_fold_exited(&md, alive_43, NULL);
	assert_int_equal(md.ncopies, 3);
	assert_int_equal(md.copies[0].count, 4);
	assert_int_equal(md.copies[2].pid, 0);
	assert_true(md.copies[2].violation);
	assert_int_equal(md.copy_violations, 1);
	model_free(&md);
}

/* fd accesses: an exited process's entries go to the row of its name, and only there. */
static void exited_fd_accesses_by_name(void **state)
{
	struct model md;
	struct vfg_rw_key k = { .region_pos = 2ULL << 40, .size = 4, .tgid = 42 };
	struct vfg_rw_stat s = { .calls = 10, .bytes = 40, .comm = "qemu", .device = "0000:00:04.0" };

	model_init(&md, 12);
	model_rw_add(&md, &k, &s, false);
	k.tgid = 43;
	model_rw_add(&md, &k, &s, true);
	k.tgid = 44;
	k.write = 1;
	model_rw_add(&md, &k, &s, true);
	snprintf(s.comm, sizeof(s.comm), "other");
	model_rw_add(&md, &k, &s, true);
	assert_int_equal(md.nacc, 3);
	assert_int_equal(md.acc[0].pid, 42);
	assert_int_equal(md.acc[0].region, 2);
	assert_int_equal(md.acc[0].by_size[0][2], 10);
	/* 43 and 44, both "qemu", in one row with pid 0: reads and writes. */
	assert_int_equal(md.acc[1].pid, 0);
	assert_int_equal(md.acc[1].by_size[0][2], 10);
	assert_int_equal(md.acc[1].by_size[1][2], 10);
	assert_int_equal(md.acc[1].bytes[0] + md.acc[1].bytes[1], 80);
	assert_string_equal(md.acc[2].comm, "other");
	assert_int_equal(md.acc[2].pid, 0);
	model_free(&md);
}

/*
 * Processes name themselves: exited rows are kept for MODEL_EXITED_ROWS names per table, the
 * rest counted under MODEL_OTHER_NAME, and no count is lost.
 */
static void exited_names_bounded(void **state)
{
	const unsigned int n = 3 * MODEL_EXITED_ROWS;
	struct vfg_rw_key k = { .region_pos = 2ULL << 40, .size = 4 };
	struct vfg_rw_stat s = { .calls = 1, .bytes = 4, .device = "0000:00:04.0" };
	uint64_t copies = 0, maps = 0, reads = 0;
	size_t named = 0, other = 0;
	struct model md;

	model_init(&md, 12);
	for (unsigned int i = 0; i < n; i++) {
		struct copy_event c = copy(100 + i, 2, 8, HAZARD_DUP, true);
		struct dma_event d = dma(100 + i, 2, 0x1000, false, false, false);

		snprintf(c.raw.task.comm, sizeof(c.raw.task.comm), "v%u", i);
		snprintf(d.raw.task.comm, sizeof(d.raw.task.comm), "v%u", i);
		snprintf(s.comm, sizeof(s.comm), "v%u", i);
		k.tgid = 100 + i;
		model_copy(&md, &c, false);
		model_dma(&md, &d);
		model_rw_add(&md, &k, &s, true);
		if (i % 10 == 9) /* as serve renders, now and then */
			model_fold_exited(&md, alive_43, NULL);
	}
	model_fold_exited(&md, alive_43, NULL);
	/* A name kept before the bound keeps its own row. */
	{
		struct copy_event c = copy(99, 2, 8, HAZARD_DUP, true);

		snprintf(c.raw.task.comm, sizeof(c.raw.task.comm), "v0");
		model_copy(&md, &c, false);
		model_fold_exited(&md, alive_43, NULL);
	}
	assert_int_equal(md.ncopies, MODEL_EXITED_ROWS + 1);
	assert_int_equal(md.ndma, MODEL_EXITED_ROWS + 1);
	assert_int_equal(md.nacc, MODEL_EXITED_ROWS + 1);
	for (size_t i = 0; i < md.ncopies; i++) {
		copies += md.copies[i].count;
		maps += md.dma[i].direct;
		reads += md.acc[i].by_size[0][2];
		if (!strcmp(md.copies[i].comm, MODEL_OTHER_NAME))
			other++;
		else
			named++;
		assert_int_equal(md.copies[i].pid, 0);
	}
	assert_int_equal(copies, n + 1);
	assert_int_equal(maps, n);
	assert_int_equal(reads, n);
	assert_int_equal(other, 1);
	assert_string_equal(md.copies[0].comm, "v0");
	assert_int_equal(md.copies[0].count, 2);
	model_free(&md);

	/*
	 * A live process's row before the exited ones: when it exits past the bound it goes to
	 * MODEL_OTHER_NAME, and no name kept before is renamed.
	 */
	model_init(&md, 12);
	{
		struct copy_event live = copy(43, 2, 8, HAZARD_DUP, true);

		snprintf(live.raw.task.comm, sizeof(live.raw.task.comm), "long-lived");
		model_copy(&md, &live, false);
	}
	for (unsigned int i = 0; i < MODEL_EXITED_ROWS; i++) {
		struct copy_event c = copy(100 + i, 2, 8, HAZARD_DUP, true);

		snprintf(c.raw.task.comm, sizeof(c.raw.task.comm), "v%u", i);
		model_copy(&md, &c, false);
	}
	model_fold_exited(&md, alive_43, NULL);
	assert_int_equal(md.ncopies, MODEL_EXITED_ROWS + 1);
	model_fold_exited(&md, none_alive_here, NULL);
	assert_int_equal(md.ncopies, MODEL_EXITED_ROWS + 1);
	assert_string_equal(md.copies[0].comm, MODEL_OTHER_NAME);
	for (size_t i = 1; i < md.ncopies; i++)
		assert_string_not_equal(md.copies[i].comm, MODEL_OTHER_NAME);
	assert_string_equal(md.copies[1].comm, "v0");
	model_free(&md);
}

/*
 * A mapping whose unmap event was lost (a full ring) goes once its process has been gone at
 * two folds in a row: not at the first (its unmap may still be queued).
 */
static void mappings_of_gone_processes_forgotten(void **state)
{
	struct model md;
	struct monitor_event ev = event(VFG_EV_MMAP, 0x1000, 0x7f0000000000);
	size_t forgotten = 0;

	model_init(&md, 12);
	assert_non_null(model_mmap(&md, &ev)); /* pid 42 */
	ev = event(VFG_EV_MMAP, 0x2000, 0x7f0000000000);
	ev.raw.task.tgid = 43;
	assert_non_null(model_mmap(&md, &ev));
	model_fold_exited(&md, alive_43, NULL);
	assert_false(md.all[0]->unmapped);
	assert_non_null(model_find(&md, 0x1000, 0x7f0000000000));
	model_fold_exited(&md, alive_43, NULL);
	assert_true(md.all[0]->unmapped);
	assert_null(model_find(&md, 0x1000, 0x7f0000000000));
	assert_false(md.all[1]->unmapped);
	model_forget_unmapped(&md, count_forgotten, &forgotten);
	assert_int_equal(forgotten, 1);
	assert_int_equal(md.nall, 1);
	assert_int_equal(md.all[0]->task.tgid, 43);
	model_free(&md);
}

static void add_faults(const char *device, unsigned int region, const uint64_t faults[4],
		       void *ctx)
{
	uint64_t *sum = ctx;

	assert_string_equal(device, "0000:00:04.0");
	assert_int_equal(region, 2);
	for (int b = 0; b < 4; b++)
		sum[b] += faults[b];
	sum[4]++; /* rows */
}

/* A forgotten mapping's faults stay in its region's total, with the mapped ones' added. */
static void faults_outlive_their_mappings(void **state)
{
	struct model md;
	struct monitor_event ev = event(VFG_EV_MMAP, 0x1000, 0x7f0000000000);
	struct model_mapping *a, *b;
	uint64_t sum[5] = {};

	model_init(&md, 12);
	a = model_mmap(&md, &ev);
	ev = event(VFG_EV_MMAP, 0x2000, 0x7f0000000000);
	b = model_mmap(&md, &ev);
	assert_non_null(a);
	assert_non_null(b);
	a->faults[0] = 10;
	a->faults[1] = 1;
	b->faults[0] = 5;
	assert_int_equal(model_faults_by_region(&md, add_faults, sum), 0);
	assert_int_equal(sum[0], 15);
	assert_int_equal(sum[4], 1); /* one region: one row */
	a->unmapped = true;
	model_forget_unmapped(&md, NULL, NULL);
	assert_int_equal(md.nall, 1);
	b->faults[0] = 7; /* counted further */
	memset(sum, 0, sizeof(sum));
	assert_int_equal(model_faults_by_region(&md, add_faults, sum), 0);
	assert_int_equal(sum[0], 17);
	assert_int_equal(sum[1], 1);
	assert_int_equal(sum[4], 1);
	/* No mapping left: the total stays. */
	md.all[0]->unmapped = true;
	model_forget_unmapped(&md, NULL, NULL);
	memset(sum, 0, sizeof(sum));
	assert_int_equal(model_faults_by_region(&md, add_faults, sum), 0);
	assert_int_equal(sum[0], 17);
	assert_int_equal(sum[4], 1);
	model_free(&md);
}

/* Rows as metrics label them: live processes of one name are one row, as are exited ones. */
static void rows_by_name(void **state)
{
	struct model md, by;
	struct copy_event a = copy(42, 2, 8, HAZARD_DUP, true), b = copy(44, 2, 8, HAZARD_DUP, true),
			  c = copy(44, 0, 4, 0, true);
	struct dma_event m1 = dma(42, 2, 0x1000, true, false, false),
			 m2 = dma(44, 2, 0x1000, false, false, false);
	struct vfg_rw_key k = { .region_pos = 2ULL << 40, .size = 4, .tgid = 42 };
	struct vfg_rw_stat s = { .calls = 3, .bytes = 12, .comm = "qemu", .device = "0000:00:04.0" };

	model_init(&md, 12);
	model_copy(&md, &a, false);
	model_copy(&md, &b, false);
	model_copy(&md, &c, false);
	model_dma(&md, &m1);
	model_dma(&md, &m2);
	model_rw_add(&md, &k, &s, false);
	k.tgid = 44;
	model_rw_add(&md, &k, &s, false);
	k.tgid = 45;
	model_rw_add(&md, &k, &s, true);
	assert_int_equal(md.nacc, 3);
	assert_int_equal(model_by_name(&md, &by), 0);
	assert_int_equal(by.ncopies, 2);
	assert_int_equal(by.copies[0].pid, 0);
	assert_int_equal(by.copies[0].count, 2);
	assert_int_equal(by.copies[1].region, 0);
	assert_int_equal(by.ndma, 1);
	assert_int_equal(by.dma[0].direct + by.dma[0].bounced, 2);
	assert_int_equal(by.nacc, 1);
	assert_int_equal(by.acc[0].by_size[0][2], 9);
	assert_int_equal(by.acc[0].bytes[0], 36);
	/* The model itself keeps its rows per process. */
	assert_int_equal(md.ncopies, 3);
	assert_int_equal(md.nacc, 3);
	model_free(&by);
	model_free(&md);
}

UNIT_MAIN(cmocka_unit_test(mmap_fault_unmap), cmocka_unit_test(fault_learns_a_missed_mapping),
	  cmocka_unit_test(snapshot_then_probe_and_address_reuse),
	  cmocka_unit_test(regions_join_mappings_and_fd_accesses), cmocka_unit_test(buckets),
	  cmocka_unit_test(copies_by_process_region_and_hazards),
	  cmocka_unit_test(dma_failures_go_to_the_holder), cmocka_unit_test(exited_processes_fold),
	  cmocka_unit_test(exited_fd_accesses_by_name), cmocka_unit_test(exited_names_bounded),
	  cmocka_unit_test(mappings_of_gone_processes_forgotten),
	  cmocka_unit_test(faults_outlive_their_mappings), cmocka_unit_test(rows_by_name))
