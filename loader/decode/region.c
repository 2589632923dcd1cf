// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Region index and offset of a VFIO mapping; see region.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "../../bpf/vfioguard.h"
#include "region.h"

struct region_loc region_locate(uint64_t pgoff, unsigned int page_shift,
				const struct pci_resource *res, size_t nres)
{
	uint64_t addr = pgoff << page_shift;
	struct region_loc loc;

	for (size_t i = 0; res && i < nres; i++) {
		if (!res[i].flags || res[i].end <= res[i].start)
			continue;
		if (addr >= res[i].start && addr <= res[i].end) {
			loc.index = i;
			loc.offset = addr - res[i].start;
			loc.source = REGION_FROM_PFN;
			return loc;
		}
	}
	loc.index = addr >> VFG_VFIO_PCI_OFFSET_SHIFT;
	loc.offset = addr & ((1ULL << VFG_VFIO_PCI_OFFSET_SHIFT) - 1);
	loc.source = REGION_FROM_OFFSET;
	return loc;
}

struct region_loc region_driver_mapped(void)
{
	return (struct region_loc){ .index = REGION_UNKNOWN, .source = REGION_FROM_DRIVER };
}

struct region_loc region_of_vma(uint64_t pgoff, unsigned int page_shift, bool driver_mapped,
				const struct pci_resource *res, size_t nres)
{
	return driver_mapped && res ? region_driver_mapped() :
				      region_locate(pgoff, page_shift, res, nres);
}

const char *region_offset_format(const struct region_loc *region, uint64_t offset, char *buf,
				 size_t len)
{
	if (region->index == REGION_UNKNOWN)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%#" PRIx64, offset);
	return buf;
}

/* include/uapi/linux/vfio.h: VFIO_PCI_BAR0_REGION_INDEX .. VFIO_PCI_VGA_REGION_INDEX */
static const char *const names[] = { "BAR0", "BAR1", "BAR2",   "BAR3", "BAR4",
				     "BAR5", "ROM",  "CONFIG", "VGA" };

const char *region_name(unsigned int index, char *buf, size_t len)
{
	if (index == REGION_UNKNOWN)
		snprintf(buf, len, "?");
	else if (index < sizeof(names) / sizeof(names[0]))
		snprintf(buf, len, "%s", names[index]);
	else
		snprintf(buf, len, "REGION%u", index);
	return buf;
}

int region_parse(const char *s, long *index)
{
	char *end;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(s, names[i])) {
			*index = i;
			return 0;
		}
	}
	errno = 0;
	*index = strtol(s, &end, 0);
	return errno || end == s || *end ? -EINVAL : 0;
}
