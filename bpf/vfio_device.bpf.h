/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Recognising a VFIO device file and naming its device, for every BPF program that needs it.
 * Include after vmlinux.h and the libbpf headers.
 */
#ifndef VFIOGUARD_VFIO_DEVICE_BPF_H
#define VFIOGUARD_VFIO_DEVICE_BPF_H

/*
 * Address of vfio_device_fops (drivers/vfio/vfio_main.c), from /proc/kallsyms. It is the f_op
 * of the anon-inode device fd ("[vfio-device]") and of the cdev /dev/vfio/devices/vfioN of newer
 * kernels, for every VFIO driver. Comparing f_op identifies the file without trusting names.
 */
const volatile __u64 vfio_device_fops_addr = 0;

/*
 * Without the address (reading /proc/kallsyms costs more than the rest of an audit, and
 * seconds under emulation), a file is taken for a VFIO device file when its f_op belongs to the
 * loadable module "vfio" (user space sets this when vfio is one): of that module's file
 * operations only the device's can have a VMA (the container's mmap, where a kernel still has
 * one, is passed to an IOMMU backend, and none implements it), and the hooks that use this see
 * VMAs or vfio's own device functions.
 */
const volatile bool vfio_match_module = false;

/* A module's name (at least 5 readable bytes) is "vfio". */
static __always_inline bool module_name_is_vfio(const char *n)
{
	return n[0] == 'v' && n[1] == 'f' && n[2] == 'i' && n[3] == 'o' && !n[4];
}

/* drivers/vfio/vfio.h and include/linux/vfio.h; these types live in the vfio module's BTF. */
struct vfio_device___vfg {
	struct device *dev;
} __attribute__((preserve_access_index));

/* Since 6.5 the device fd's private_data is a vfio_device_file that points at the device. */
struct vfio_device_file___vfg {
	struct vfio_device___vfg *device;
} __attribute__((preserve_access_index));

static __always_inline int read_device_name(struct file *file, char *buf)
{
	struct vfio_device___vfg *vdev = NULL;
	struct device *dev;
	const char *name;
	void *priv;

	if (!bpf_core_type_exists(struct vfio_device___vfg))
		return -1;
	priv = BPF_CORE_READ(file, private_data);
	if (bpf_core_type_exists(struct vfio_device_file___vfg)) {
		struct vfio_device_file___vfg *df = priv;

		vdev = BPF_CORE_READ(df, device);
	} else {
		vdev = priv;
	}
	if (!vdev)
		return -1;
	dev = BPF_CORE_READ(vdev, dev);
	if (!dev)
		return -1;
	name = BPF_CORE_READ(dev, init_name);
	if (!name)
		name = BPF_CORE_READ(dev, kobj.name);
	if (!name)
		return -1;
	return bpf_probe_read_kernel_str(buf, VFG_DEVICE_LEN, name) > 0 ? 0 : -1;
}

static __always_inline bool is_vfio_device_file(struct file *file)
{
	struct module *owner;
	char name[8];

	if (!file)
		return false;
	if (vfio_device_fops_addr)
		return (__u64)BPF_CORE_READ(file, f_op) == vfio_device_fops_addr;
	if (!vfio_match_module)
		return false;
	owner = BPF_CORE_READ(file, f_op, owner);
	return owner && !bpf_probe_read_kernel(name, sizeof(name), &owner->name) &&
	       module_name_is_vfio(name);
}

#endif /* VFIOGUARD_VFIO_DEVICE_BPF_H */
