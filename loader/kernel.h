/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Facts about the running kernel that user space reads: release, arch, kernel symbols, sysfs. */
#ifndef VFIOGUARD_KERNEL_H
#define VFIOGUARD_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/utsname.h>

#include "cache_mode.h"

struct kernel_info {
	char release[sizeof(((struct utsname *)0)->release)];
	char machine[sizeof(((struct utsname *)0)->machine)];
	enum host_arch arch;
	unsigned int major, minor;
	long page_size;
};

int kernel_info_read(struct kernel_info *ki);

/*
 * Address of a data or text symbol in /proc/kallsyms (a module's symbols included).
 * -ENOENT when it is absent, -EACCES when the addresses are hidden (kptr_restrict, not root).
 */
int kallsyms_lookup(const char *name, uint64_t *addr);
/* The same for n names in one pass: errs[i] is 0, -ENOENT or -EACCES. Returns 0 or -errno. */
int kallsyms_lookup_many(const char *const *names, uint64_t *addrs, int *errs, size_t n);

/* Whether NAME is in the kernel's list of active LSMs (/sys/kernel/security/lsm). */
bool kernel_lsm_active(const char *name);

/* Whether the module is loaded (or built in): /sys/module/NAME exists. */
bool kernel_module_present(const char *name);

/*
 * The address span [lo, hi) of the VFIO device mappings a process has now, from
 * /proc/PID/maps: the anon-inode device fds ("anon_inode:[vfio-device]") and the device nodes
 * of the char region "vfio-dev" (/dev/vfio/devices/vfioN), recognised by their device number.
 * lo = hi = 0 when it has none. 0 or -errno (-ENOENT: no such process).
 */
int proc_vfio_span(uint32_t pid, uint64_t *lo, uint64_t *hi);

#define PCI_RESOURCES 7 /* BAR0..BAR5 and the ROM, as VFIO_PCI_*_REGION_INDEX 0..6 */

struct pci_resource {
	uint64_t start, end, flags;
};

/*
 * The first PCI_RESOURCES lines of /sys/bus/pci/devices/DEV/resource.
 * -ENOENT when the device is not a PCI device (or is gone).
 */
int pci_resources_read(const char *device, struct pci_resource res[PCI_RESOURCES]);

#endif /* VFIOGUARD_KERNEL_H */
