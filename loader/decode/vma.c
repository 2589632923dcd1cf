// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* VFIO mappings decoded; see vma.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "../../bpf/vfioguard.h"
#include "vma.h"

struct vma_decoded vma_decode(const struct vma_kernel *k, uint64_t pgoff, uint64_t pgprot,
			      uint32_t vma_flags, const struct pci_resource *res)
{
	return (struct vma_decoded){
		.region = region_of_vma(pgoff, k->page_shift, vma_flags & VFG_VMA_DRIVER_MAPPED, res,
					res ? PCI_RESOURCES : 0),
		.cache = cache_mode_decode(k->arch, pgprot, k->major, k->minor),
	};
}

struct device_entry {
	char name[64];
	bool present;
	struct pci_resource res[PCI_RESOURCES];
	UT_hash_handle hh;
};

const struct pci_resource *device_cache_get(struct device_cache *c, const char *device)
{
	struct device_entry *e;
	size_t len = device ? strlen(device) : 0;

	if (!len || len >= sizeof(e->name))
		return NULL;
	HASH_FIND(hh, c->devices, device, len, e);
	if (e)
		return e->present ? e->res : NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e->name, device, len);
	c->reads++;
	e->present = c->read && c->read(e->name, e->res) == 0;
	HASH_ADD(hh, c->devices, name[0], len, e);
	if (!e->hh.tbl) { /* the table could not grow */
		free(e);
		return NULL;
	}
	return e->present ? e->res : NULL;
}

void device_cache_forget(struct device_cache *c)
{
	struct device_entry *e, *next;

	HASH_ITER(hh, c->devices, e, next) {
		HASH_DEL(c->devices, e);
		free(e);
	}
}
