// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The host's facts for policies; see facts.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>

#include "facts.h"
#include "../host/kernel.h"
#include "../probes/snapshot.h"

static int read_hex(const char *dev, const char *file)
{
	char path[256];
	unsigned int v;
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, file);
	f = fopen(path, "re");
	if (f && fscanf(f, "%x", &v) == 1)
		ret = v;
	if (f)
		fclose(f);
	return ret;
}

void pci_device_facts(const char *dev, struct device_facts *f)
{
	char path[512], link[256];
	ssize_t len;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%.31s", dev);
	f->vendor = read_hex(dev, "vendor");
	f->device_id = read_hex(dev, "device");
	f->subsystem_vendor = read_hex(dev, "subsystem_vendor");
	f->subsystem_device = read_hex(dev, "subsystem_device");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", dev);
	len = readlink(path, link, sizeof(link) - 1);
	if (len > 0) {
		link[len] = 0;
		snprintf(f->driver, sizeof(f->driver), "%.63s",
			 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	}
}

int device_facts_read(struct device_facts **devs, size_t *n, const char **step)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct device_facts *v = NULL;
	struct snapshot snap;
	struct dirent *e;
	size_t count = 0;
	int err;

	*devs = NULL;
	*n = 0;
	if (!d) {
		*step = "list /sys/bus/pci/devices";
		return -errno;
	}
	while ((e = readdir(d))) {
		struct device_facts *grown;

		if (e->d_name[0] == '.')
			continue;
		grown = realloc(v, (count + 1) * sizeof(*v));
		if (!grown) {
			closedir(d);
			free(v);
			*step = "list the PCI devices";
			return -ENOMEM;
		}
		v = grown;
		pci_device_facts(e->d_name, &v[count++]);
	}
	closedir(d);
	/* The modes the devices' regions are mapped with right now, where they are mapped. */
	err = snapshot_take(&snap);
	if (err) {
		free(v);
		*step = snap.failed_step;
		return err;
	}
	for (size_t i = 0; i < snap.count; i++) {
		const struct mapping *m = &snap.mappings[i];

		if (m->region.index > POLICY_MAX_REGION || m->cache.mode == CACHE_UNKNOWN)
			continue;
		for (size_t j = 0; j < count; j++)
			if (!strcmp(v[j].name, m->device))
				v[j].observed[m->region.index] = m->cache.mode;
	}
	snapshot_free(&snap);
	*devs = v;
	*n = count;
	return 0;
}

static int exe_of(const char *path, uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* The kernel's s_dev is MKDEV(major, minor) = major << 20 | minor. */
	*dev = ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev);
	*ino = st.st_ino;
	return 0;
}

static int cgroup_of(const char *path, uint64_t *id)
{
	char full[600];
	struct statfs sf;
	struct stat st;

	if (statfs("/sys/fs/cgroup", &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)
		return -ENOTSUP;
	snprintf(full, sizeof(full), "/sys/fs/cgroup%s", path);
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* cgroup v2 ids are the inode numbers of the cgroup directories (kernfs). */
	*id = st.st_ino;
	return 0;
}

const struct resolver host_resolver = { .exe = exe_of, .cgroup = cgroup_of,
					 .process = proc_exe_cgroup, .device = pci_device_facts };
