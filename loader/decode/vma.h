/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A VFIO mapping's raw bits decoded: which region of its device it covers and the cache mode
 * the kernel mapped it with. The one decoder of the snapshot's records and the copy probes'
 * events, and the one cache of each device's PCI resources (the BARs' physical ranges that
 * the PFN form of vm_pgoff needs; region.h), read through an injected function. Pure.
 */
#ifndef VFIOGUARD_VMA_H
#define VFIOGUARD_VMA_H

#include <stdint.h>

#include "cache_mode.h"
#include "region.h"

/* What decoding depends on of the kernel that made the bits. */
struct vma_kernel {
	enum host_arch arch;
	unsigned int major, minor;
	unsigned int page_shift;
};

struct vma_decoded {
	struct region_loc region; /* .offset: of the mapping's start in the region */
	struct cache_decode cache;
};

/*
 * res: the device's PCI resources, or NULL (not a PCI device, unknown): the offset form only.
 * vma_flags: struct vfg_vma's (VFG_VMA_DRIVER_MAPPED on a PCI device: the region is unknown; an
 * mdev such as GVT-g maps without vm_private_data too, and keeps the offset in vm_pgoff).
 */
struct vma_decoded vma_decode(const struct vma_kernel *k, uint64_t pgoff, uint64_t pgprot,
			      uint32_t vma_flags, const struct pci_resource *res);

/* Reads a device's resources: 0, or -errno (-ENOENT: not a PCI device, or gone). */
typedef int (*pci_resources_fn)(const char *device, struct pci_resource res[PCI_RESOURCES]);

struct device_entry;

/* Each device's resources, read once until forgotten. Zero it, then set read. */
struct device_cache {
	pci_resources_fn read;
	struct device_entry *devices; /* a uthash table by name */
	uint64_t reads;               /* calls of read */
};

/* The resources of device ("" or NULL: none), read the first time it is asked for. */
const struct pci_resource *device_cache_get(struct device_cache *c, const char *device);
/* Forgets every device (read again when next asked for: a device can be replaced). */
void device_cache_forget(struct device_cache *c);

#endif /* VFIOGUARD_VMA_H */
