// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One VFIO mapping decoded (region and cache mode), and the device cache behind the PFN form. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "../../bpf/vfioguard.h"
#include "../../loader/decode/vma.h"

/* ivshmem (BAR0 256 B, BAR2 16 MiB) as the x86_64 guest's sysfs lists it. */
static const struct pci_resource ivshmem[PCI_RESOURCES] = {
	{ 0xfeb41000, 0xfeb410ff, 0x40200 },
	{ 0, 0, 0 },
	{ 0xfd000000, 0xfdffffff, 0x14220c },
};

static unsigned int reads;

static int fake_read(const char *device, struct pci_resource res[PCI_RESOURCES])
{
	reads++;
	if (strcmp(device, "0000:00:03.0"))
		return -ENOENT;
	memcpy(res, ivshmem, sizeof(ivshmem));
	return 0;
}

static void decodes_both_forms_and_the_mode(void **state)
{
	/* x86_64 6.1: vm_pgoff is BAR2's PFN, 2 pages in; PCD set: UC- through Linux's PAT. */
	struct vma_kernel x86 = { ARCH_X86_64, 6, 1, 12 };
	struct vma_kernel arm = { ARCH_ARM64, 6, 12, 14 };
	struct vma_decoded d = vma_decode(&x86, 0xfd002, 0x8000000000000037ULL, 0, ivshmem);

	assert_int_equal(d.region.source, REGION_FROM_PFN);
	assert_int_equal(d.region.index, 2);
	assert_int_equal(d.region.offset, 0x2000);
	assert_int_equal(d.cache.mode, CACHE_X86_UC_MINUS);

	/* 6.12 keeps the mmap offset: BAR2 is region 2 whatever the resources say. */
	x86.minor = 12;
	d = vma_decode(&x86, (2ULL << 40) >> 12, 0x8000000000000037ULL, 0, NULL);
	assert_int_equal(d.region.source, REGION_FROM_OFFSET);
	assert_int_equal(d.region.index, 2);
	assert_int_equal(d.region.offset, 0);

	/* arm64 with 16 KiB pages: the offset counts 16 KiB pages; AttrIndx 3 is Device-nGnRnE. */
	d = vma_decode(&arm, ((2ULL << 40) + 0x8000) >> 14, 3 << 2, 0, NULL);
	assert_int_equal(d.region.index, 2);
	assert_int_equal(d.region.offset, 0x8000);
	assert_int_equal(d.cache.mode, CACHE_ARM64_DEVICE_nGnRnE);
}

/*
 * A variant driver that maps a region itself (nvgrace-gpu 6.8 to 6.12: vm_pgoff the PFN of
 * its device memory; the test driver: a PFN inside the BAR that backs both of its regions)
 * leaves vm_pgoff saying nothing of the region: unknown, never the BAR the PFN falls in.
 */
static void driver_mapped_region_is_unknown(void **state)
{
	struct vma_kernel arm = { ARCH_ARM64, 6, 12, 12 };
	/* BAR4 of the test driver: the second half of ivshmem's BAR2, Normal (AttrIndx 0). */
	struct vma_decoded d = vma_decode(&arm, 0xfd800, 0x68000000000cc3ULL,
					  VFG_VMA_DRIVER_MAPPED, ivshmem);
	char name[16];

	assert_int_equal(d.region.source, REGION_FROM_DRIVER);
	assert_int_equal(d.region.index, REGION_UNKNOWN);
	assert_string_equal(region_name(d.region.index, name, sizeof(name)), "?");
	assert_int_equal(d.cache.mode, CACHE_ARM64_NORMAL);
	/* An mdev (no PCI resources; GVT-g sets no vm_private_data either): the offset form. */
	d = vma_decode(&arm, (2ULL << 40) >> 12, 0x68000000000cc3ULL, VFG_VMA_DRIVER_MAPPED, NULL);
	assert_int_equal(d.region.source, REGION_FROM_OFFSET);
	assert_int_equal(d.region.index, 2);
	/* Without the flag the same bits say BAR2, 8 MiB in: what audit said before. */
	d = vma_decode(&arm, 0xfd800, 0x68000000000cc3ULL, 0, ivshmem);
	assert_int_equal(d.region.index, 2);
	assert_int_equal(d.region.offset, 0x800000);
}

static void device_cache_reads_each_device_once(void **state)
{
	struct device_cache c = { .read = fake_read };
	const struct pci_resource *r;
	char longname[80];

	reads = 0;
	r = device_cache_get(&c, "0000:00:03.0");
	assert_non_null(r);
	assert_int_equal(r[2].start, 0xfd000000);
	assert_ptr_equal(device_cache_get(&c, "0000:00:03.0"), r);
	assert_int_equal(reads, 1);
	/* A device that is not PCI: none, and not asked again. */
	assert_null(device_cache_get(&c, "mdev-1234"));
	assert_null(device_cache_get(&c, "mdev-1234"));
	assert_int_equal(reads, 2);
	/* Unknown devices and names no sysfs path has are not read. */
	assert_null(device_cache_get(&c, ""));
	assert_null(device_cache_get(&c, NULL));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_null(device_cache_get(&c, longname));
	assert_int_equal(reads, 2);
	assert_int_equal(c.reads, 2);
	/* Many devices (more than any fixed table held): each kept. */
	for (int i = 0; i < 100; i++) {
		char name[32];

		snprintf(name, sizeof(name), "0000:%02x:00.0", i + 1);
		device_cache_get(&c, name);
	}
	assert_int_equal(reads, 102);
	assert_non_null(device_cache_get(&c, "0000:00:03.0"));
	assert_int_equal(reads, 102);
	/* Forgotten: read again (a device can be replaced under the same name). */
	device_cache_forget(&c);
	assert_null(c.devices);
	assert_non_null(device_cache_get(&c, "0000:00:03.0"));
	assert_int_equal(reads, 103);
	device_cache_forget(&c);
}

UNIT_MAIN(cmocka_unit_test(decodes_both_forms_and_the_mode),
	  cmocka_unit_test(driver_mapped_region_is_unknown),
	  cmocka_unit_test(device_cache_reads_each_device_once))
