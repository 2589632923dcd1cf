// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Region index and offset from vm_pgoff in both forms, region names, and raw records. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

#include "../../loader/decode/region.h"
#include "../../loader/probes/snapshot.h"

/* The guest's edu (BAR0 1 MiB) and ivshmem (BAR0 256 B, BAR2 16 MiB) as sysfs lists them. */
static const struct pci_resource edu[PCI_RESOURCES] = {
	{ 0xfea00000, 0xfeafffff, 0x40200 },
};
static const struct pci_resource ivshmem[PCI_RESOURCES] = {
	{ 0xfeb41000, 0xfeb410ff, 0x40200 },
	{ 0, 0, 0 },
	{ 0xfd000000, 0xfdffffff, 0x14220c },
};

static void expect_loc(struct region_loc l, enum region_source source, unsigned int index,
		       uint64_t offset)
{
	assert_int_equal(l.source, source);
	assert_int_equal(l.index, index);
	assert_int_equal(l.offset, offset);
}

static void pfn_form_finds_the_bar(void **state)
{
	struct region_loc l = region_locate(0xfea00, 12, edu, PCI_RESOURCES);

	expect_loc(l, REGION_FROM_PFN, 0, 0);

	/* A mapping that starts 3 pages into ivshmem's BAR2. */
	l = region_locate(0xfd003, 12, ivshmem, PCI_RESOURCES);
	expect_loc(l, REGION_FROM_PFN, 2, 0x3000);
}

static void offset_form_gives_index_and_offset(void **state)
{
	/* 6.12+: vm_pgoff is (index << 40 | offset) >> PAGE_SHIFT. */
	uint64_t off = (2ULL << 40) | 0x5000;
	struct region_loc l = region_locate(off >> 12, 12, ivshmem, PCI_RESOURCES);

	expect_loc(l, REGION_FROM_OFFSET, 2, 0x5000);

	l = region_locate(0, 12, edu, PCI_RESOURCES);
	expect_loc(l, REGION_FROM_OFFSET, 0, 0);

	/* A device-specific region (nvgrace-gpu's device memory is index 9 and up). */
	l = region_locate((9ULL << 40) >> 16, 16, NULL, 0);
	assert_int_equal(l.index, 9);
	assert_int_equal(l.offset, 0);
}

static void empty_resources_are_skipped(void **state)
{
	/* BAR1 of ivshmem is absent (all zero): a PFN of 0 must not match it. */
	struct region_loc l = region_locate(0, 12, ivshmem, PCI_RESOURCES);

	assert_int_equal(l.source, REGION_FROM_OFFSET);
	assert_int_equal(l.index, 0);
}

static void region_names(void **state)
{
	static const char *const want[] = { "BAR0", "BAR1", "BAR2",   "BAR3", "BAR4",
					    "BAR5", "ROM",  "CONFIG", "VGA",  "REGION9" };
	char buf[24];

	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(region_name(i, buf, sizeof(buf)), want[i]);
	assert_string_equal(region_name(4000000000u, buf, sizeof(buf)), "REGION4000000000");
}

static void region_names_parsed(void **state)
{
	long v;

	assert_int_equal(region_parse("bar0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(region_parse("BAR5", &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(region_parse("Config", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(region_parse("vga", &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(region_parse("0x9", &v), 0);
	assert_int_equal(v, 9);
	/* Numbers out of any range are parsed; the caller says what it accepts. */
	assert_int_equal(region_parse("-1", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(region_parse("bar6", &v), -EINVAL);
	assert_int_equal(region_parse("", &v), -EINVAL);
	assert_int_equal(region_parse("9x", &v), -EINVAL);
	assert_int_equal(region_parse("99999999999999999999999", &v), -EINVAL);
}

static void record_to_mapping(void **state)
{
	struct kernel_info ki = { .arch = ARCH_X86_64, .major = 6, .minor = 1, .page_size = 4096 };
	struct vma_record rec = {
	    .task = {.tgid = 129,
		     .pid = 130,
		     .start_time = 4242,
		     .cgroup_id = 1,
		     .comm = "vfg-testvmm"},
	    .vma.start = 0x7f278cfc1000,
	    .vma.end = 0x7f278d0c1000,
	    .vma.pgoff = 0x12340,
	    .vma.pgprot = 0x8000000000000037ULL,
	    .vma.vm_flags = 0xd0444fb,
	    .device = "not-a-pci-device",
	};
	struct mapping m;

	mapping_from_record(&m, &rec, &ki, NULL);
	assert_int_equal(m.task.tgid, 129);
	assert_int_equal(m.task.pid, 130);
	assert_int_equal(m.task.start_time, 4242);
	assert_int_equal(m.task.cgroup_id, 1);
	assert_string_equal(m.task.comm, "vfg-testvmm");
	assert_string_equal(m.device, "not-a-pci-device");
	assert_int_equal(m.cache.mode, CACHE_X86_UC_MINUS);
	/* No resources to match: the offset form. */
	assert_int_equal(m.region.source, REGION_FROM_OFFSET);
	assert_int_equal(m.region.offset, 0x12340000);

	/* The kernel could not name the device: the name stays empty. */
	rec.flags = VFG_VMA_DEVICE_UNKNOWN;
	mapping_from_record(&m, &rec, &ki, NULL);
	assert_string_equal(m.device, "");

	/* An unterminated comm from the kernel is cut, not overrun. */
	memset(rec.task.comm, 'x', sizeof(rec.task.comm));
	mapping_from_record(&m, &rec, &ki, NULL);
	assert_int_equal(strlen(m.task.comm), VFG_COMM_LEN - 1);

	/* 6.1 form with the device's resources: the PFN of edu's BAR0, one page in. */
	rec.vma.pgoff = 0xfea01;
	mapping_from_record(&m, &rec, &ki, edu);
	assert_int_equal(m.region.source, REGION_FROM_PFN);
	assert_int_equal(m.region.index, 0);
	assert_int_equal(m.region.offset, 0x1000);
}

UNIT_MAIN(cmocka_unit_test(pfn_form_finds_the_bar),
	  cmocka_unit_test(offset_form_gives_index_and_offset),
	  cmocka_unit_test(empty_resources_are_skipped), cmocka_unit_test(region_names),
	  cmocka_unit_test(region_names_parsed), cmocka_unit_test(record_to_mapping))
