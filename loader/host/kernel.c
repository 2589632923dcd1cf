// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reads the running kernel's release, arch, kallsyms and PCI resources; see kernel.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "kernel.h"

unsigned int kernel_page_shift(const struct kernel_info *ki)
{
	long size = ki ? ki->page_size : sysconf(_SC_PAGESIZE);

	return size > 0 ? (unsigned int)__builtin_ctzl(size) : 12;
}

struct vma_kernel kernel_vma(const struct kernel_info *ki)
{
	return (struct vma_kernel){ .arch = ki->arch, .major = ki->major, .minor = ki->minor,
				    .page_shift = kernel_page_shift(ki) };
}

int kernel_info_read(struct kernel_info *ki)
{
	struct utsname u;

	if (uname(&u))
		return -errno;
	memset(ki, 0, sizeof(*ki));
	snprintf(ki->release, sizeof(ki->release), "%s", u.release);
	snprintf(ki->machine, sizeof(ki->machine), "%s", u.machine);
	ki->arch = host_arch_from_name(u.machine);
	if (sscanf(u.release, "%u.%u", &ki->major, &ki->minor) != 2)
		return -EINVAL;
	ki->page_size = sysconf(_SC_PAGESIZE);
	return 0;
}

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int kallsyms_lookup_many(const char *const *names, uint64_t *addrs, int *errs, size_t n)
{
	size_t left = n;
	char line[512];
	FILE *f;

	for (size_t i = 0; i < n; i++) {
		addrs[i] = 0;
		errs[i] = -ENOENT;
	}
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -errno;
	/* The file is large (about 200k lines): big reads, and only matching names are parsed. */
	setvbuf(f, NULL, _IOFBF, 1 << 18);
	while (left && fgets(line, sizeof(line), f)) {
		/* "ADDRESS TYPE NAME[\t[MODULE]]\n" */
		char *sym = strchr(line, ' ');
		size_t len;

		if (!sym || !(sym = strchr(sym + 1, ' ')))
			continue;
		sym++;
		len = strcspn(sym, "\t\n");
		for (size_t i = 0; i < n; i++) {
			if (errs[i] != -ENOENT || strlen(names[i]) != len || strncmp(sym, names[i], len))
				continue;
			addrs[i] = strtoull(line, NULL, 16);
			/* Without privilege the kernel prints every address as zero. */
			errs[i] = addrs[i] ? 0 : -EACCES;
			left--;
		}
	}
	fclose(f);
	return 0;
}

int kallsyms_lookup(const char *name, uint64_t *addr)
{
	int err, ret = kallsyms_lookup_many(&name, addr, &err, 1);

	return ret ? ret : err;
}

int vfio_locate(struct vfio_location *loc, const char **step)
{
	int err;

	memset(loc, 0, sizeof(*loc));
	if (!access("/sys/module/vfio/initstate", F_OK)) {
		/* A loaded module (only modules have initstate). */
		loc->loaded = loc->match_module = true;
		return 0;
	}
	/* Neither a module nor built in (a built-in vfio has its parameters listed there). */
	if (access("/sys/module/vfio", F_OK) && access("/dev/vfio", F_OK))
		return 0;
	err = kallsyms_lookup("vfio_device_fops", &loc->fops);
	if (err == -ENOENT)
		return 0; /* no VFIO in this kernel right now */
	if (err) {
		*step = "read the address of vfio_device_fops from /proc/kallsyms";
		return err;
	}
	loc->loaded = true;
	return 0;
}

int kernel_functions_find(const char *const *names, const char *const *modules, int *errs,
			  size_t n)
{
	struct {
		const char *name;
		struct btf *btf;
	} mods[8];
	size_t nmods = 0;
	struct btf *vmlinux = btf__load_vmlinux_btf();

	if (!vmlinux)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		struct btf *btf = vmlinux;

		if (modules[i]) {
			size_t m = 0;

			while (m < nmods && strcmp(mods[m].name, modules[i]))
				m++;
			if (m == nmods && nmods < sizeof(mods) / sizeof(mods[0])) {
				mods[nmods].name = modules[i];
				mods[nmods++].btf = btf__load_module_btf(modules[i], vmlinux);
			}
			if (m < nmods && mods[m].btf)
				btf = mods[m].btf;
		}
		errs[i] = btf__find_by_name_kind(btf, names[i], BTF_KIND_FUNC) > 0 ? 0 : -ENOENT;
	}
	for (size_t m = 0; m < nmods; m++)
		btf__free(mods[m].btf);
	btf__free(vmlinux);
	return 0;
}

bool kernel_module_present(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

int pci_resources_read(const char *device, struct pci_resource res[PCI_RESOURCES])
{
	unsigned long long s, e, fl;
	char path[256];
	int i = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", device);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(res, 0, sizeof(*res) * PCI_RESOURCES);
	while (i < PCI_RESOURCES && fscanf(f, "%llx %llx %llx", &s, &e, &fl) == 3) {
		res[i].start = s;
		res[i].end = e;
		res[i].flags = fl;
		i++;
	}
	fclose(f);
	return i ? 0 : -EINVAL;
}

bool kernel_lsm_active(const char *name)
{
	char buf[512], *tok, *save;
	FILE *f = fopen("/sys/kernel/security/lsm", "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, name))
			return true;
	return false;
}

/* The major number of a char device region in /proc/devices, or -1. */
static int char_major(const char *name)
{
	char line[128], n[64];
	bool chars = false;
	int major = -1, m;
	FILE *f = fopen("/proc/devices", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Character devices:", 18)) {
			chars = true;
		} else if (!strncmp(line, "Block devices:", 14)) {
			chars = false;
		} else if (chars && sscanf(line, "%d %63s", &m, n) == 2 && !strcmp(n, name)) {
			major = m;
			break;
		}
	}
	fclose(f);
	return major;
}

int proc_maps_foreach(uint32_t pid, int (*fn)(const struct maps_line *l, void *ctx), void *ctx)
{
	char maps[64], line[PATH_MAX + 128];
	int ret = 0;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%u/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, offset;
		struct maps_line l = {};
		int path = 0;

		if (sscanf(line, "%llx-%llx %*s %llx %x:%*x %*u %n", &start, &end, &offset, &l.major,
			   &path) < 4)
			continue;
		line[strcspn(line, "\n")] = '\0';
		l.start = start;
		l.end = end;
		l.offset = offset;
		l.path = path ? line + path : "";
		ret = fn(&l, ctx);
	}
	fclose(f);
	return ret < 0 ? ret : 0;
}

struct vfio_span {
	int cdev_major;
	uint64_t *lo, *hi;
};

static int span_line(const struct maps_line *l, void *ctx)
{
	struct vfio_span *s = ctx;

	if (strcmp(l->path, "anon_inode:[vfio-device]") &&
	    (s->cdev_major < 0 || l->major != (unsigned int)s->cdev_major))
		return 0;
	if (!*s->hi || l->start < *s->lo)
		*s->lo = l->start;
	if (l->end > *s->hi)
		*s->hi = l->end;
	return 0;
}

int proc_vfio_span(uint32_t pid, uint64_t *lo, uint64_t *hi)
{
	struct vfio_span s = { char_major("vfio-dev"), lo, hi };

	*lo = *hi = 0;
	return proc_maps_foreach(pid, span_line, &s);
}

bool proc_same(uint32_t pid, uint64_t start_time)
{
	if (start_time)
		return proc_start_time(pid) == start_time;
	return !kill(pid, 0) || errno != ESRCH;
}

uint64_t proc_start_time(uint32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* The command name (field 2) may hold spaces and parentheses: fields 3.. follow the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

void proc_exe_cgroup(uint32_t pid, char *exe, size_t exe_len, char *cgroup, size_t cgroup_len)
{
	char path[64], line[PATH_MAX];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = exe_len ? readlink(path, exe, exe_len - 1) : -1;
	if (exe_len)
		exe[n > 0 ? n : 0] = '\0';
	if (cgroup_len)
		cgroup[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3) && cgroup_len) { /* the cgroup v2 hierarchy */
			line[strcspn(line, "\n")] = '\0';
			snprintf(cgroup, cgroup_len, "%s", line + 3);
		}
	if (f)
		fclose(f);
}

const char *kernel_strerror(int err)
{
	if (err == -524)
		return "not supported by this kernel (ENOTSUPP)";
	return strerror(-err);
}
