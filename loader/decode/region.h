/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which VFIO region a mapping covers, from the VMA's vm_pgoff. Pure functions.
 *
 * The mmap offset of a VFIO region is its index shifted by VFIO_PCI_OFFSET_SHIFT, and newer
 * kernels keep that in vm_pgoff. vfio-pci before Linux 6.12 rewrites vm_pgoff to the BAR's PFN
 * plus the page offset inside its mmap handler, so for those the region is recovered by finding
 * the BAR (or ROM) whose physical range holds that PFN.
 */
#ifndef VFIOGUARD_REGION_H
#define VFIOGUARD_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_RESOURCES 7 /* BAR0..BAR5 and the ROM, as VFIO_PCI_*_REGION_INDEX 0..6 */
#define REGION_CONFIG 7 /* config space: VFIO_PCI_CONFIG_REGION_INDEX */

struct pci_resource {
	uint64_t start, end, flags;
};

enum region_source {
	REGION_FROM_OFFSET, /* vm_pgoff held the region offset */
	REGION_FROM_PFN,    /* vm_pgoff held a PFN inside a PCI resource */
	REGION_FROM_DRIVER, /* a variant driver mapped it itself: vm_pgoff does not say */
};

/* The index of a region that cannot be known (REGION_FROM_DRIVER); no rule names it. */
#define REGION_UNKNOWN UINT32_MAX

struct region_loc {
	unsigned int index;
	uint64_t offset; /* bytes into the region */
	enum region_source source;
};

/* res may be NULL (not a PCI device): only the offset form is possible then. */
struct region_loc region_locate(uint64_t pgoff, unsigned int page_shift,
				const struct pci_resource *res, size_t nres);

/* A mapping whose vm_pgoff its driver rewrote: region unknown. */
struct region_loc region_driver_mapped(void);

/*
 * The region of a VMA from its vm_pgoff, or unknown where its driver mapped it itself
 * (driver_mapped: struct vfg_vma's VFG_VMA_DRIVER_MAPPED) on a PCI device (res given: an mdev such
 * as GVT-g maps without vm_private_data too, and keeps the offset in vm_pgoff).
 */
struct region_loc region_of_vma(uint64_t pgoff, unsigned int page_shift, bool driver_mapped,
				const struct pci_resource *res, size_t nres);

/* A region offset as text: hexadecimal, "?" in a region that is not known. */
const char *region_offset_format(const struct region_loc *region, uint64_t offset, char *buf,
				 size_t len);

/* "BAR0".."BAR5", "ROM", "CONFIG", "VGA", "REGION<n>" for device-specific ones, "?" unknown. */
const char *region_name(unsigned int index, char *buf, size_t len);

/*
 * A region as a user writes it: bar0..bar5, rom, config, vga (any case) or a number (strtol
 * base 0, so possibly negative or large: callers check the range they accept). 0, or -EINVAL
 * when s is neither.
 */
int region_parse(const char *s, long *index);

#endif /* VFIOGUARD_REGION_H */
