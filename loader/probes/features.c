// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probes kernel features by loading and attaching the programs of bpf/features.bpf.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "features.h"
#include "features.skel.h"
#include "../host/kernel.h"

/* The uprobe probe attaches here, in our own binary. */
__attribute__((noinline, used)) int features_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static void set(struct feature *f, const char *name, bool ok, int err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void set(struct feature *f, const char *name, bool ok, int err, const char *fmt, ...)
{
	va_list ap;

	f->name = name;
	f->ok = ok;
	f->err = err;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

static struct bpf_program *only_program(struct features_bpf *skel, const char *name)
{
	struct bpf_program *prog, *want = NULL;

	bpf_object__for_each_program(prog, skel->obj) {
		bool match = !strcmp(bpf_program__name(prog), name);

		bpf_program__set_autoload(prog, match);
		if (match)
			want = prog;
	}
	return want;
}

/* Loads one program of bpf/features.bpf.c on its own and attaches it. 0 or -errno. */
static int try_program(const char *name, const char **step)
{
	char exe[PATH_MAX];
	struct features_bpf *skel;
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	int err;

	skel = features_bpf__open();
	if (!skel) {
		*step = "open";
		return -errno;
	}
	prog = only_program(skel, name);
	err = features_bpf__load(skel);
	if (err) {
		*step = "load";
		goto out;
	}
	if (!strcmp(name, "probe_uprobe") || !strcmp(name, "probe_find_vma")) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = "features_uprobe_target");
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (n < 0) {
			err = -errno;
			*step = "find own executable";
			goto out;
		}
		exe[n] = 0;
		link = bpf_program__attach_uprobe_opts(prog, getpid(), exe, 0, &opts);
	} else if (!strcmp(name, "probe_iter")) {
		link = bpf_program__attach_iter(prog, NULL);
	} else {
		link = bpf_program__attach(prog);
	}
	if (!link) {
		err = -errno;
		*step = "attach";
	}
out:
	bpf_link__destroy(link);
	features_bpf__destroy(skel);
	return err;
}

static void probe_program(struct feature *f, const char *name, const char *prog, const char *what)
{
	const char *step = "";
	int err = try_program(prog, &step);

	if (err)
		set(f, name, false, err, "%s: %s failed: %s", what, step, kernel_strerror(err));
	else
		set(f, name, true, 0, "%s: loaded and attached", what);
}

void features_probe(struct feature out[FEAT_COUNT])
{
	struct stat st;
	struct vfio_location vfio;
	const char *step = NULL;
	int err;

	memset(out, 0, sizeof(*out) * FEAT_COUNT);
	if (stat("/sys/kernel/btf/vmlinux", &st) == 0)
		set(&out[FEAT_BTF], "btf", true, 0, "/sys/kernel/btf/vmlinux present");
	else
		set(&out[FEAT_BTF], "btf", false, -errno, "/sys/kernel/btf/vmlinux: %s",
		    strerror(errno));

	probe_program(&out[FEAT_ITER_TASK_VMA], "iter_task_vma", "probe_iter", "iter/task_vma");
	probe_program(&out[FEAT_FENTRY], "fentry", "probe_fentry", "fentry/vfs_read");
	probe_program(&out[FEAT_FEXIT], "fexit", "probe_fexit", "fexit/vfs_read");
	probe_program(&out[FEAT_KPROBE], "kprobe", "probe_kprobe", "kprobe/vfs_read");
	probe_program(&out[FEAT_UPROBE], "uprobe", "probe_uprobe", "uprobe on own binary");
	probe_program(&out[FEAT_FIND_VMA], "uprobe_find_vma", "probe_find_vma",
		      "uprobe calling bpf_find_vma (monitor --copies)");

	if (access("/sys/kernel/security/lsm", R_OK))
		set(&out[FEAT_LSM_ACTIVE], "bpf_lsm_active", false, -errno,
		    "/sys/kernel/security/lsm: %s (securityfs not mounted?)", strerror(errno));
	else if (kernel_lsm_active("bpf"))
		set(&out[FEAT_LSM_ACTIVE], "bpf_lsm_active", true, 0,
		    "\"bpf\" is in /sys/kernel/security/lsm");
	else
		set(&out[FEAT_LSM_ACTIVE], "bpf_lsm_active", false, 0,
		    "\"bpf\" is not in /sys/kernel/security/lsm (boot with lsm=...,bpf)");
	probe_program(&out[FEAT_LSM_PROG], "lsm_program", "probe_lsm", "lsm/mmap_file");

	if (kernel_module_present("vfio"))
		set(&out[FEAT_VFIO], "vfio", true, 0, "vfio loaded");
	else
		set(&out[FEAT_VFIO], "vfio", false, 0, "vfio is not loaded (/sys/module/vfio)");
	if (kernel_module_present("vfio_pci"))
		set(&out[FEAT_VFIO_PCI], "vfio_pci", true, 0, "vfio_pci loaded");
	else
		set(&out[FEAT_VFIO_PCI], "vfio_pci", false, 0,
		    "vfio_pci is not loaded (/sys/module/vfio_pci)");
	err = vfio_locate(&vfio, &step);
	if (err)
		set(&out[FEAT_VFIO_BTF], "vfio_btf", false, err, "cannot %s: %s", step, strerror(-err));
	else if (!vfio.loaded)
		set(&out[FEAT_VFIO_BTF], "vfio_btf", false, -ENOENT, "vfio is not loaded");
	else if (stat("/sys/kernel/btf/vfio", &st) == 0)
		set(&out[FEAT_VFIO_BTF], "vfio_btf", true, 0, "/sys/kernel/btf/vfio present");
	else
		set(&out[FEAT_VFIO_BTF], "vfio_btf", false, -errno,
		    "/sys/kernel/btf/vfio: %s (device names cannot be read)", strerror(errno));
}
