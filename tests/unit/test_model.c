// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The model under monitor's views: mappings from events and the snapshot, and the regions table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../loader/model.h"
#include "../../loader/monitor.h"
#include "../../loader/snapshot.h"

static const struct kernel_info k612 = {
	.arch = ARCH_X86_64, .major = 6, .minor = 12, .page_size = 4096,
};

/* An event as the kernel would send it, decoded. pgoff: BAR2, 0x3000 in (6.12's form). */
static struct monitor_event event(uint32_t type, uint64_t mm, uint64_t start)
{
	struct vfg_event raw = {
		.type = type, .mm = mm, .start = start, .end = start + 0x10000, .tgid = 42,
		.pgoff = ((2ULL << 40) + 0x3000) >> 12, .pgprot = 0x8000000000000037ULL,
		.comm = "qemu", .device = "0000:00:04.0",
	};
	struct monitor_event ev;

	monitor_event_decode(&ev, &raw, &k612);
	return ev;
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
	assert_int_equal(t->pid, 42);
	assert_ptr_equal(model_find(&md, 0x2000, 0x7f0000100000), t);
	model_free(&md);
}

static void snapshot_then_probe_and_address_reuse(void **state)
{
	struct model md;
	struct mapping m = { .mm = 0x3000, .start = 0x7f0000200000, .end = 0x7f0000300000,
			     .pid = 7, .comm = "vmm", .device = "0000:00:03.0" };
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
	m.mm = 0x4000;
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
	assert_int_equal(model_order_bucket(0), 0);
	assert_int_equal(model_order_bucket(9), 1);
	assert_int_equal(model_order_bucket(18), 2);
	assert_int_equal(model_order_bucket(4), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mmap_fault_unmap),
		cmocka_unit_test(fault_learns_a_missed_mapping),
		cmocka_unit_test(snapshot_then_probe_and_address_reuse),
		cmocka_unit_test(regions_join_mappings_and_fd_accesses),
		cmocka_unit_test(buckets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
