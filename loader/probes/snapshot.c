// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loads and runs the snapshot iterator and decodes its records; see snapshot.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "snapshot.h"
#include "snapshot.lskel.h"

void mapping_from_record(struct mapping *m, const struct vma_record *rec,
			 const struct kernel_info *ki, const struct pci_resource *res)
{
	struct vma_kernel vk = kernel_vma(ki);
	struct vma_decoded d = vma_decode(&vk, rec->vma.pgoff, rec->vma.pgprot, rec->vma.flags, res);

	memset(m, 0, sizeof(*m));
	m->task = rec->task;
	m->task.comm[sizeof(m->task.comm) - 1] = 0;
	if (!(rec->flags & VFG_VMA_DEVICE_UNKNOWN)) {
		memcpy(m->device, rec->device, sizeof(m->device));
		m->device[sizeof(m->device) - 1] = 0;
	}
	m->region = d.region;
	m->vma = rec->vma;
	m->cache = d.cache;
	m->cache.guest = cache_mode_guest(ki->arch, m->cache.mode, rec->vma.vm_flags);
}

static int read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb = realloc(b, cap * 2);

			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(b);
			return -errno;
		}
		if (r == 0)
			break;
		n += r;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int compare_mappings(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;

	if (x->task.tgid != y->task.tgid)
		return x->task.tgid < y->task.tgid ? -1 : 1;
	return x->vma.start < y->vma.start ? -1 : x->vma.start > y->vma.start;
}

int snapshot_take(struct snapshot *snap)
{
	/* A host has few VFIO devices and a VMM many mappings of each: each is read once. */
	struct device_cache devices = { .read = pci_resources_read };
	struct snapshot_bpf *skel = NULL;
	int link_fd = -1;
	size_t len = 0, n;
	char *buf = NULL;
	int err, iter_fd = -1;
	uint64_t t;

	memset(snap, 0, sizeof(*snap));
	err = kernel_info_read(&snap->kernel);
	if (err) {
		snap->failed_step = "read the kernel release";
		return err;
	}
	t = monotonic_ns();
	err = vfio_locate(&snap->vfio, &snap->failed_step);
	snap->lookup_ns = monotonic_ns() - t;
	if (err)
		return err;
	/* No VFIO in this kernel right now: no process can have a VFIO mapping. */
	if (!snap->vfio.loaded)
		return 0;

	t = monotonic_ns();
	skel = snapshot_bpf__open();
	if (!skel) {
		snap->failed_step = "open the snapshot BPF object";
		return -errno;
	}
	skel->rodata->vfio_device_fops_addr = snap->vfio.fops;
	skel->rodata->vfio_match_module = snap->vfio.match_module;
	err = snapshot_bpf__load(skel);
	if (err) {
		snap->failed_step = "load the snapshot program (iter/task_vma)";
		goto out;
	}
	link_fd = snapshot_bpf__snapshot_vfio_vmas__attach(skel);
	if (link_fd < 0) {
		err = -errno;
		snap->failed_step = "attach the snapshot program (iter/task_vma)";
		goto out;
	}
	snap->load_ns = monotonic_ns() - t;
	t = monotonic_ns();
	iter_fd = bpf_iter_create(link_fd);
	if (iter_fd < 0) {
		err = -errno;
		snap->failed_step = "create the task_vma iterator";
		goto out;
	}
	err = read_all(iter_fd, &buf, &len);
	if (err) {
		snap->failed_step = "read the task_vma iterator";
		goto out;
	}
	if (len % sizeof(struct vma_record)) {
		err = -EPROTO;
		snap->failed_step = "read the task_vma iterator (truncated record)";
		goto out;
	}
	snap->iter_ns = monotonic_ns() - t;
	t = monotonic_ns();
	n = len / sizeof(struct vma_record);
	snap->mappings = calloc(n ? n : 1, sizeof(*snap->mappings));
	if (!snap->mappings) {
		err = -ENOMEM;
		snap->failed_step = "allocate the snapshot";
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct vma_record rec;
		char dev[VFG_DEVICE_LEN] = "";

		memcpy(&rec, buf + i * sizeof(rec), sizeof(rec));
		if (!(rec.flags & VFG_VMA_DEVICE_UNKNOWN))
			snprintf(dev, sizeof(dev), "%.*s", (int)sizeof(dev) - 1, rec.device);
		/* By the owner of f_op, the address comes back with each record. */
		if (!snap->vfio.fops)
			snap->vfio.fops = rec.fops;
		mapping_from_record(&snap->mappings[i], &rec, &snap->kernel,
				    device_cache_get(&devices, dev));
	}
	qsort(snap->mappings, n, sizeof(*snap->mappings), compare_mappings);
	/* Threads that share an mm show the same VMAs; keep each of the process's once. */
	for (size_t i = 0; i < n; i++) {
		struct mapping *prev = snap->count ? &snap->mappings[snap->count - 1] : NULL;

		if (prev && prev->task.tgid == snap->mappings[i].task.tgid &&
		    prev->vma.start == snap->mappings[i].vma.start)
			continue;
		snap->mappings[snap->count++] = snap->mappings[i];
	}
	snap->decode_ns = monotonic_ns() - t;
out:
	free(buf);
	device_cache_forget(&devices);
	if (iter_fd >= 0)
		close(iter_fd);
	snapshot_bpf__destroy(skel); /* closes the link too */
	if (err) {
		free(snap->mappings);
		snap->mappings = NULL;
		snap->count = 0;
	}
	return err;
}

void snapshot_free(struct snapshot *snap)
{
	free(snap->mappings);
	snap->mappings = NULL;
	snap->count = 0;
}
