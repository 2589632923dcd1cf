// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Monitor events from recorded raw records: regions, offsets, cache modes, fault results. */
#include <stdint.h>
#include <string.h>

#include "unit.h"

#include "../../loader/probes/monitor.h"

static const struct kernel_info k61 = {
	.arch = ARCH_X86_64, .major = 6, .minor = 1, .page_size = 4096,
};

static void mmap_region_from_entry_offset(void **state)
{
	/* edu BAR0 as the 6.1 guest showed it: entry pgoff 0, vm_pgoff rewritten later. */
	struct vfg_event raw = {
	    .type = VFG_EV_MMAP,
	    .vma.pgoff = 0,
	    .vma.pgprot = 0x8000000000000037ULL,
	    .task.comm = "vfg-testvmm",
	    .device = "0000:00:03.0",
	};
	struct monitor_event ev;

	monitor_event_decode(&ev, &raw, &k61);
	assert_true(ev.region_known);
	assert_int_equal(ev.region.index, 0);
	assert_int_equal(ev.region.offset, 0);
	assert_int_equal(ev.cache.mode, CACHE_X86_UC_MINUS);
	assert_string_equal(ev.raw.device, "0000:00:03.0");

	/* ivshmem BAR2, 0x3000 in. */
	raw.vma.pgoff = ((2ULL << 40) + 0x3000) >> 12;
	monitor_event_decode(&ev, &raw, &k61);
	assert_int_equal(ev.region.index, 2);
	assert_int_equal(ev.region.offset, 0x3000);
}

static void rw_region_and_unaligned_offset(void **state)
{
	/* A 2-byte config read at offset 4 (QEMU's PCI COMMAND), and a BAR0 read at 0x8. */
	struct vfg_event raw = { .type = VFG_EV_RW, .pos = (7ULL << 40) | 4, .count = 2, .ret = 2 };
	struct monitor_event ev;

	monitor_event_decode(&ev, &raw, &k61);
	assert_int_equal(ev.region.index, 7);
	assert_int_equal(ev.region.offset, 4);
	raw.pos = 0x1008;
	monitor_event_decode(&ev, &raw, &k61);
	assert_int_equal(ev.region.index, 0);
	assert_int_equal(ev.region.offset, 0x1008);
	/* No page protection on fd accesses: no cache mode is made up. */
	assert_int_equal(ev.cache.mode, CACHE_UNKNOWN);
}

static void unknown_device_and_unterminated_strings(void **state)
{
	struct vfg_event raw = { .type = VFG_EV_UNMAP, .flags = VFG_EV_DEVICE_UNKNOWN };
	struct monitor_event ev;

	memset(raw.task.comm, 'c', sizeof(raw.task.comm));
	memset(raw.device, 'd', sizeof(raw.device));
	monitor_event_decode(&ev, &raw, &k61);
	assert_string_equal(ev.raw.device, "");
	assert_int_equal(strlen(ev.raw.task.comm), VFG_COMM_LEN - 1);
	assert_false(ev.region_known);
}

static void fault_results(void **state)
{
	char buf[96];

	assert_string_equal(vm_fault_format(0, buf, sizeof(buf)), "0");
	assert_string_equal(vm_fault_format(0x100, buf, sizeof(buf)), "NOPAGE");
	assert_string_equal(vm_fault_format(0x2, buf, sizeof(buf)), "SIGBUS");
	assert_string_equal(vm_fault_format(0x800, buf, sizeof(buf)), "FALLBACK");
	assert_string_equal(vm_fault_format(0x102, buf, sizeof(buf)), "SIGBUS|NOPAGE");
	/* The huge page index bits are not a result; unknown bits are shown, not dropped. */
	assert_string_equal(vm_fault_format(0x30100, buf, sizeof(buf)), "NOPAGE");
	assert_string_equal(vm_fault_format(0x8000, buf, sizeof(buf)), "0x8000");
	assert_string_equal(vm_fault_format(0x8001, buf, sizeof(buf)), "OOM|0x8000");
	/* A short buffer is cut, never overrun. */
	assert_string_equal(vm_fault_format(0x102, buf, 7), "SIGBUS");
}

UNIT_MAIN(cmocka_unit_test(mmap_region_from_entry_offset),
	  cmocka_unit_test(rw_region_and_unaligned_offset),
	  cmocka_unit_test(unknown_device_and_unterminated_strings),
	  cmocka_unit_test(fault_results))
