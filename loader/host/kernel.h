/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Facts about the running kernel that user space reads: release, arch, kernel symbols, sysfs. */
#ifndef VFIOGUARD_KERNEL_H
#define VFIOGUARD_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/utsname.h>

#include "../decode/cache_mode.h"
#include "../decode/region.h"
#include "../decode/vma.h"

struct kernel_info {
	char release[sizeof(((struct utsname *)0)->release)];
	char machine[sizeof(((struct utsname *)0)->machine)];
	enum host_arch arch;
	unsigned int major, minor;
	long page_size;
};

int kernel_info_read(struct kernel_info *ki);

/*
 * log2 of the page size (12, 14, 16): mmap offsets and vm_pgoff count pages of it. Of ki's page
 * size, or of this host's when ki is NULL; 12 when ki has none (a decoder fed recorded bits).
 */
unsigned int kernel_page_shift(const struct kernel_info *ki);
/* What decoding a mapping's bits needs of ki (vma.h). */
struct vma_kernel kernel_vma(const struct kernel_info *ki);

/* CLOCK_MONOTONIC in ns: the time base of BPF events (bpf_ktime_get_ns). */
uint64_t monotonic_ns(void);

/*
 * Address of a data or text symbol in /proc/kallsyms (a module's symbols included).
 * -ENOENT when it is absent, -EACCES when the addresses are hidden (kptr_restrict, not root).
 */
int kallsyms_lookup(const char *name, uint64_t *addr);
/* The same for n names in one pass: errs[i] is 0, -ENOENT or -EACCES. Returns 0 or -errno. */
int kallsyms_lookup_many(const char *const *names, uint64_t *addrs, int *errs, size_t n);

/*
 * Where vfio is, and how BPF programs recognise its device files (bpf/vfio_device.bpf.h):
 * a loadable module's by the owner of their f_op, with no /proc/kallsyms scan (it costs more
 * than the rest of an audit, and seconds under emulation); a built-in vfio's by the address of
 * vfio_device_fops from /proc/kallsyms.
 */
struct vfio_location {
	bool loaded;       /* false: no process can have a VFIO device file */
	bool match_module; /* by the owner of f_op */
	uint64_t fops;     /* vfio_device_fops, when built in */
};
/* 0, or -errno with step set (kallsyms unreadable, addresses hidden). */
int vfio_locate(struct vfio_location *loc, const char **step);

/*
 * Whether each kernel function is in the kernel's BTF: modules[i] names the module that
 * defines names[i] when it is a loadable one (NULL: vmlinux; a module without BTF in
 * /sys/kernel/btf is looked for in vmlinux, as a built-in one would be). errs[i] is 0 or
 * -ENOENT. Returns 0, or -errno when vmlinux BTF cannot be read.
 */
int kernel_functions_find(const char *const *names, const char *const *modules, int *errs,
			  size_t n);

/*
 * strerror(-err), with a text for the kernel-internal errors BPF calls return: 524 (ENOTSUPP,
 * "Unknown error 524" to strerror) is what attaching a trampoline program says on a kernel
 * that has no BPF trampolines for the architecture (Debian's arm64 6.1).
 */
const char *kernel_strerror(int err);

/* Whether NAME is in the kernel's list of active LSMs (/sys/kernel/security/lsm). */
bool kernel_lsm_active(const char *name);

/* Whether the module is loaded (or built in): /sys/module/NAME exists. */
bool kernel_module_present(const char *name);

/* A line of /proc/PID/maps. */
struct maps_line {
	uint64_t start, end, offset;
	unsigned int major;  /* of the file's device (0 for anonymous memory) */
	const char *path;    /* "" when none */
};
/*
 * Calls fn for each mapping of PID until it returns non-zero. 0, fn's negative return, or
 * -errno (-ENOENT: no such process).
 */
int proc_maps_foreach(uint32_t pid, int (*fn)(const struct maps_line *l, void *ctx), void *ctx);

/*
 * The address span [lo, hi) of the VFIO device mappings a process has now, from
 * /proc/PID/maps: the anon-inode device fds ("anon_inode:[vfio-device]") and the device nodes
 * of the char region "vfio-dev" (/dev/vfio/devices/vfioN), recognised by their device number.
 * lo = hi = 0 when it has none. 0 or -errno (-ENOENT: no such process).
 */
int proc_vfio_span(uint32_t pid, uint64_t *lo, uint64_t *hi);

/*
 * When the process PID started, in clock ticks since boot (/proc/PID/stat, field 22): what tells
 * a process from a later one that got its PID. 0 when there is no such process.
 */
uint64_t proc_start_time(uint32_t pid);
/*
 * Whether PID is still the process that started at start_time (a later process with its PID is
 * another one); with start_time 0 (not known), whether any process has PID.
 */
bool proc_same(uint32_t pid, uint64_t start_time);

/*
 * The executable's path and the cgroup v2 path ("/machine.slice/...") of a running process; ""
 * for what cannot be read (the process is gone, or the caller may not look).
 */
void proc_exe_cgroup(uint32_t pid, char *exe, size_t exe_len, char *cgroup, size_t cgroup_len);

/*
 * The first PCI_RESOURCES lines of /sys/bus/pci/devices/DEV/resource.
 * -ENOENT when the device is not a PCI device (or is gone).
 */
int pci_resources_read(const char *device, struct pci_resource res[PCI_RESOURCES]);

#endif /* VFIOGUARD_KERNEL_H */
