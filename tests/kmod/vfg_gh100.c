// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfg_gh100: a vfio-pci variant driver for the test guest, shaped like nvgrace-gpu
 * (drivers/vfio/pci/nvgrace-gpu): the device's BAR0 stays vfio-pci's (noncached registers), and
 * two regions that vfio-pci does not have are presented the way nvgrace-gpu presents GH100's
 * device memory: BAR2 ("resmem", write-combined, VM_ALLOW_ANY_UNCACHED where the kernel has it)
 * and BAR4 ("usemem", cacheable). Both are backed by ivshmem's BAR2, which is RAM behind a PCI
 * BAR, so every cache mode really works: the first half is BAR2, the second BAR4.
 *
 * Like nvgrace-gpu (6.8 to 6.12) the regions are mapped whole at mmap with remap_pfn_range()
 * and vm_pgoff is then rewritten to the first PFN, so the page tables carry what the kernel
 * really installs (x86 PAT memtype tracking included). Each mapping is logged with the pgprot
 * the driver asked for:
 *
 *   vfg_gh100 0000:00:04.0: mmap region 2 mode wc pgprot 0x... pfn 0x... pages N pgoff 0x...
 *
 * The cache mode of each region is a module parameter, writable at any time; it applies to the
 * next mmap: cached, wc, noncached (pgprot_noncached: x86 UC-, arm64 Device-nGnRnE), device
 * (pgprot_device: arm64 Device-nGnRE; on x86 the same as noncached) and uc (x86 only: strong
 * UC, as ioremap_uc gives). Binds only through driver_override (it is never matched by ID).
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
#include <linux/version.h>

static char bar2_mode[16] = "wc";
static char bar4_mode[16] = "cached";
module_param_string(bar2_mode, bar2_mode, sizeof(bar2_mode), 0644);
MODULE_PARM_DESC(bar2_mode, "cache mode of BAR2 (resmem): cached, wc, noncached, device, uc");
module_param_string(bar4_mode, bar4_mode, sizeof(bar4_mode), 0644);
MODULE_PARM_DESC(bar4_mode, "cache mode of BAR4 (usemem): cached, wc, noncached, device, uc");

/* ivshmem's BAR2 backs both regions: BAR2 its first half, BAR4 its second. */
#define BACKING_BAR 2

static resource_size_t region_size(struct pci_dev *pdev)
{
	return pci_resource_len(pdev, BACKING_BAR) / 2;
}

static bool is_memory_region(unsigned int index)
{
	return index == VFIO_PCI_BAR2_REGION_INDEX || index == VFIO_PCI_BAR4_REGION_INDEX;
}

static const char *const modes[] = { "cached", "wc", "noncached", "device", "uc" };

/* The mode's name as the module knows it (a parameter written with echo ends in a newline). */
static const char *mode_of(const char *param)
{
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (sysfs_streq(param, modes[i]))
			return modes[i];
	return NULL;
}

static int apply_mode(const char *mode, pgprot_t *prot)
{
	if (!strcmp(mode, "cached"))
		return 0;
	if (!strcmp(mode, "wc"))
		*prot = pgprot_writecombine(*prot);
	else if (!strcmp(mode, "noncached"))
		*prot = pgprot_noncached(*prot);
	else if (!strcmp(mode, "device"))
		*prot = pgprot_device(*prot);
#ifdef CONFIG_X86
	else if (!strcmp(mode, "uc"))
		*prot = __pgprot((pgprot_val(*prot) & ~_PAGE_CACHE_MASK) |
				 cachemode2protval(_PAGE_CACHE_MODE_UC));
#endif
	else
		return -EINVAL;
	return 0;
}

static int vfg_gh100_open_device(struct vfio_device *vdev)
{
	struct vfio_pci_core_device *core = container_of(vdev, struct vfio_pci_core_device, vdev);
	int ret = vfio_pci_core_enable(core);

	if (ret)
		return ret;
	vfio_pci_core_finish_enable(core);
	return 0;
}

static int vfg_gh100_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *core = container_of(vdev, struct vfio_pci_core_device, vdev);
	struct pci_dev *pdev = core->pdev;
	unsigned int index = vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	u64 pgoff = vma->vm_pgoff & ((1ULL << (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)) - 1);
	unsigned long len = vma->vm_end - vma->vm_start, start_pfn;
	const char *mode;
	int ret;

	if (!is_memory_region(index))
		return vfio_pci_core_mmap(vdev, vma);
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if ((pgoff << PAGE_SHIFT) + len > region_size(pdev))
		return -EINVAL;
	mode = mode_of(index == VFIO_PCI_BAR2_REGION_INDEX ? bar2_mode : bar4_mode);
	if (!mode)
		return -EINVAL;
	ret = apply_mode(mode, &vma->vm_page_prot);
	if (ret)
		return ret;
#if defined(VM_ALLOW_ANY_UNCACHED_BIT)
	/* nvgrace-gpu lets KVM give a guest Normal-NC for its write-combined region. */
	if (!strcmp(mode, "wc"))
		vm_flags_set(vma, VM_ALLOW_ANY_UNCACHED);
#endif
	start_pfn = PHYS_PFN(pci_resource_start(pdev, BACKING_BAR) +
			     (index == VFIO_PCI_BAR4_REGION_INDEX ? region_size(pdev) : 0)) + pgoff;
	pci_info(pdev, "mmap region %u mode %s pgprot %#llx pfn %#lx pages %lu pgoff %#llx\n", index,
		 mode, (unsigned long long)pgprot_val(vma->vm_page_prot), start_pfn,
		 len >> PAGE_SHIFT, (unsigned long long)pgoff);
	ret = remap_pfn_range(vma, vma->vm_start, start_pfn, len, vma->vm_page_prot);
	if (ret)
		return ret;
	vma->vm_pgoff = start_pfn; /* as nvgrace-gpu does */
	return 0;
}

static long vfg_gh100_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct vfio_pci_core_device *core = container_of(vdev, struct vfio_pci_core_device, vdev);
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;

	if (cmd != VFIO_DEVICE_GET_REGION_INFO)
		return vfio_pci_core_ioctl(vdev, cmd, arg);
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (!is_memory_region(info.index))
		return vfio_pci_core_ioctl(vdev, cmd, arg);
	info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
	info.size = region_size(core->pdev);
	info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		     VFIO_REGION_INFO_FLAG_MMAP;
	info.cap_offset = 0;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static const struct vfio_device_ops vfg_gh100_ops = {
	.name = "vfg-gh100",
	.init = vfio_pci_core_init_dev,
	.release = vfio_pci_core_release_dev,
	.open_device = vfg_gh100_open_device,
	.close_device = vfio_pci_core_close_device,
	.ioctl = vfg_gh100_ioctl,
	.device_feature = vfio_pci_core_ioctl_feature,
	.read = vfio_pci_core_read,
	.write = vfio_pci_core_write,
	.mmap = vfg_gh100_mmap,
	.request = vfio_pci_core_request,
	.match = vfio_pci_core_match,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	.bind_iommufd = vfio_iommufd_physical_bind,
	.unbind_iommufd = vfio_iommufd_physical_unbind,
	.attach_ioas = vfio_iommufd_physical_attach_ioas,
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	.detach_ioas = vfio_iommufd_physical_detach_ioas,
#endif
};

static int vfg_gh100_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vfio_pci_core_device *core;
	int ret;

	if (pci_resource_len(pdev, BACKING_BAR) < 2 * PAGE_SIZE)
		return -ENODEV;
	core = vfio_alloc_device(vfio_pci_core_device, vdev, &pdev->dev, &vfg_gh100_ops);
	if (IS_ERR(core))
		return PTR_ERR(core);
	dev_set_drvdata(&pdev->dev, core);
	ret = vfio_pci_core_register_device(core);
	if (ret)
		vfio_put_device(&core->vdev);
	return ret;
}

static void vfg_gh100_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	vfio_pci_core_unregister_device(core);
	vfio_put_device(&core->vdev);
}

static const struct pci_device_id vfg_gh100_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) }, /* ivshmem */
	{}
};

static struct pci_driver vfg_gh100_driver = {
	/*
	 * nvgrace-gpu's name (its module's, nvgrace_gpu_vfio_pci) with a suffix: vfioguard's
	 * nvgrace-gpu defaults apply to it, and it is a VFIO driver by name as the others are.
	 */
	.name = "nvgrace_gpu_vfio_pci_test",
	.id_table = vfg_gh100_table,
	.probe = vfg_gh100_probe,
	.remove = vfg_gh100_remove,
	.err_handler = &vfio_pci_core_err_handlers,
	.driver_managed_dma = true,
};
module_pci_driver(vfg_gh100_driver);

MODULE_LICENSE("Dual BSD/GPL");
MODULE_DESCRIPTION("vfioguard test driver: nvgrace-gpu's region layout on ivshmem");
