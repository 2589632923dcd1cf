// SPDX-License-Identifier: GPL-2.0
/*
 * vfioguard monitor: the VFIO mmap, fault and indirect-access paths and the end of mappings,
 * as struct vfg_event records in a ring buffer. Every hook has an fentry/fexit form and a
 * kprobe/kretprobe form; loader/probes/monitor.c loads one of the two and only the hooks the running
 * kernel has (vfio_pci_mmap_fault before 6.12, vfio_pci_mmap_huge_fault after; __vm_area_free
 * where per-VMA locks defer vm_area_free()).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"
#include "vfioguard.h"
#include "vfio_device.bpf.h"
#include "record.bpf.h"

/* Only this process (0: all). Filtering here keeps other processes out of the ring buffer. */
const volatile __u32 filter_tgid = 0;
/*
 * The kernel's page shift, set by user space: a page table holds 2^(page_shift - 3) entries, so
 * a PMD maps order page_shift - 3 (9 with 4 KiB pages, 11 with 16 KiB, 13 with 64 KiB), a PUD
 * twice that.
 */
const volatile __u32 page_shift = 12;
/* __vm_area_free() is probed too (kernels that have it): vm_area_free() marks what it reported. */
const volatile bool free_direct_probed = false;
/*
 * An event per fault and per read or write through the device fd (monitor --accesses). Either
 * way they are counted here (fault_stats, rw_stats), so the summary never misses one; without
 * events, fentry/fexit mode loads only the fexit programs of those paths.
 */
const volatile bool each_access = false;

VFG_MAP(fault_stats, HASH, struct vfg_fault_key, struct vfg_fault_stat, 65536);

/* A mapping's key in fault_stats: its address space and start. */
static __always_inline struct vfg_fault_key fault_key_of(struct vm_area_struct *vma)
{
	return (struct vfg_fault_key){ .mm = (__u64)BPF_CORE_READ(vma, vm_mm),
				       .start = BPF_CORE_READ(vma, vm_start) };
}

VFG_MAP(rw_stats, PERCPU_HASH, struct vfg_rw_key, struct vfg_rw_stat, 16384);

/* max_entries: user space may resize before load */
VFG_RINGBUF(events, 256 * 1024);

/*
 * User space is woken only when this much is waiting (it reads at least every 100 ms anyway):
 * a wakeup per event costs the watched process more than the event. 0: every event wakes it.
 */
const volatile __u64 wakeup_bytes = 0;

static __always_inline void event_submit(void *e)
{
	__u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(e, waiting >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* Events that found the ring buffer full: counted, never silently lost. */
VFG_MAP(dropped, PERCPU_ARRAY, __u32, __u64, 1);

/* What an entry probe saw, for the exit probe of the same thread. */
struct pending {
	__u64 ts;
	__u64 pgoff;
	__u64 pos;
	__u64 count;
	struct file *file;
	struct vm_area_struct *vma;
	__u32 order;
	__u32 write;
};

/* One map per path: a fault can happen while a thread is inside read() or write(). */
#define PENDING_MAP(name) VFG_MAP(name, HASH, __u64, struct pending, 8192)

PENDING_MAP(pending_mmap);
PENDING_MAP(pending_fault);
PENDING_MAP(pending_rw);

/*
 * A function's entry as two programs that return body: fentry_<name> (where BTF allows) and
 * kprobe_<name> (the fallback); the rest are the function's arguments, as far as body needs them.
 */
#define ON_ENTRY(func, name, body, ...)                                                            \
	SEC("fentry/" #func)                                                                       \
	int BPF_PROG(fentry_##name, ##__VA_ARGS__)                                                 \
	{                                                                                          \
		return body;                                                                       \
	}                                                                                          \
	SEC("kprobe/" #func)                                                                       \
	int BPF_KPROBE(kprobe_##name, ##__VA_ARGS__)                                               \
	{                                                                                          \
		return body;                                                                       \
	}

static __always_inline bool wanted(void)
{
	return !filter_tgid || (bpf_get_current_pid_tgid() >> 32) == filter_tgid;
}

static __always_inline struct vfg_event *event_new(__u32 type)
{
	struct vfg_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u32 zero = 0;

	if (!e) {
		__u64 *n = bpf_map_lookup_elem(&dropped, &zero);

		if (n)
			(*n)++;
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts = bpf_ktime_get_ns();
	task_current(&e->task);
	return e;
}

static __always_inline void event_vma(struct vfg_event *e, struct vm_area_struct *vma)
{
	struct file *file = BPF_CORE_READ(vma, vm_file);

	vma_read(&e->vma, vma);
	if (!file || read_device_name(file, e->device))
		e->flags |= VFG_EV_DEVICE_UNKNOWN;
}

/* mmap: vfio_device_fops_mmap(struct file *, struct vm_area_struct *), every VFIO driver. */

static __always_inline int mmap_entry(struct file *file, struct vm_area_struct *vma)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending p = {};

	if (!wanted() || !is_vfio_device_file(file))
		return 0;
	p.ts = bpf_ktime_get_ns();
	/* vfio-pci before 6.12 rewrites vm_pgoff to a PFN: keep the mmap offset from here. */
	p.pgoff = BPF_CORE_READ(vma, vm_pgoff);
	p.file = file;
	p.vma = vma;
	bpf_map_update_elem(&pending_mmap, &id, &p, BPF_ANY);
	return 0;
}

/* Ends the event of a call that was pending: its direction, result and latency; sends it. */
static __always_inline void event_end(struct vfg_event *e, const struct pending *p, long ret)
{
	if (p->write)
		e->flags |= VFG_EV_WRITE;
	e->ret = ret;
	e->latency_ns = e->ts - p->ts;
	event_submit(e);
}

static __always_inline int mmap_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending_mmap, &id);
	struct vfg_event *e;

	if (!p)
		return 0;
	if (ret == 0) {
		/* A mapping at the address of one whose end was not seen starts from zero. */
		struct vfg_fault_key k = fault_key_of(p->vma);

		bpf_map_delete_elem(&fault_stats, &k);
	}
	e = event_new(VFG_EV_MMAP);
	if (e) {
		/* On failure the VMA is still there: it is freed after the handler returns. */
		event_vma(e, p->vma);
		e->vma.pgoff = p->pgoff;
		event_end(e, p, ret);
	}
	bpf_map_delete_elem(&pending_mmap, &id);
	return 0;
}

ON_ENTRY(vfio_device_fops_mmap, mmap, mmap_entry(file, vma),
	 struct file *file, struct vm_area_struct *vma)

SEC("fexit/vfio_device_fops_mmap")
int BPF_PROG(fexit_mmap, struct file *file, struct vm_area_struct *vma, int ret)
{
	return mmap_exit(ret);
}

SEC("kretprobe/vfio_device_fops_mmap")
int BPF_KRETPROBE(kretprobe_mmap, int ret)
{
	return mmap_exit(ret);
}

/* Faults: vfio_pci_mmap_fault(struct vm_fault *) to 6.11, vfio_pci_mmap_huge_fault(vmf, order). */

/* include/linux/mm_types.h: FAULT_FLAG_WRITE */
#define VFG_FAULT_FLAG_WRITE 0x01

static __always_inline int fault_entry(struct vm_fault *vmf, unsigned int order)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending p = {};

	if (!wanted())
		return 0;
	p.ts = bpf_ktime_get_ns();
	p.vma = BPF_CORE_READ(vmf, vma);
	p.pos = BPF_CORE_READ(vmf, address);
	p.order = order;
	p.write = BPF_CORE_READ(vmf, flags) & VFG_FAULT_FLAG_WRITE;
	bpf_map_update_elem(&pending_fault, &id, &p, BPF_ANY);
	return 0;
}

/* include/linux/mm_types.h: VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV, FALLBACK */
#define VFG_VM_FAULT_FAILED 0x43
#define VFG_VM_FAULT_FALLBACK 0x800

/* Counts one return of the fault handler for the mapping it was in. */
static __always_inline void fault_account(struct vm_area_struct *vma, unsigned int order,
					  unsigned int ret)
{
	struct vfg_fault_key k = fault_key_of(vma);
	struct vfg_fault_stat zero = {}, *st;
	__u64 *c;

	st = bpf_map_lookup_elem(&fault_stats, &k);
	if (!st) {
		bpf_map_update_elem(&fault_stats, &k, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&fault_stats, &k);
		if (!st)
			return;
	}
	if (ret & VFG_VM_FAULT_FALLBACK)
		c = &st->fallbacks;
	else if (ret & VFG_VM_FAULT_FAILED)
		c = &st->errors;
	else if (order == 0)
		c = &st->faults[0];
	else if (order == page_shift - 3)
		c = &st->faults[1];
	else if (order == 2 * (page_shift - 3))
		c = &st->faults[2];
	else
		c = &st->faults[3];
	__sync_fetch_and_add(c, 1);
}

static __always_inline int fault_exit(unsigned int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending_fault, &id);
	struct vfg_event *e;

	if (!p)
		return 0;
	fault_account(p->vma, p->order, ret);
	e = each_access ? event_new(VFG_EV_FAULT) : NULL;
	if (e) {
		event_vma(e, p->vma);
		e->addr = p->pos;
		e->order = p->order;
		event_end(e, p, ret);
	}
	bpf_map_delete_elem(&pending_fault, &id);
	return 0;
}

/* fexit alone (no events): everything needed is in the arguments. */
static __always_inline int fault_counted(struct vm_fault *vmf, unsigned int order,
					 unsigned int ret)
{
	if (each_access)
		return fault_exit(ret);
	if (wanted())
		fault_account(BPF_CORE_READ(vmf, vma), order, ret);
	return 0;
}

ON_ENTRY(vfio_pci_mmap_fault, fault, fault_entry(vmf, 0), struct vm_fault *vmf)

SEC("fexit/vfio_pci_mmap_fault")
int BPF_PROG(fexit_fault, struct vm_fault *vmf, unsigned int ret)
{
	return fault_counted(vmf, 0, ret);
}

SEC("kretprobe/vfio_pci_mmap_fault")
int BPF_KRETPROBE(kretprobe_fault, unsigned int ret)
{
	return fault_exit(ret);
}

ON_ENTRY(vfio_pci_mmap_huge_fault, huge_fault, fault_entry(vmf, order),
	 struct vm_fault *vmf, unsigned int order)

SEC("fexit/vfio_pci_mmap_huge_fault")
int BPF_PROG(fexit_huge_fault, struct vm_fault *vmf, unsigned int order, unsigned int ret)
{
	return fault_counted(vmf, order, ret);
}

SEC("kretprobe/vfio_pci_mmap_huge_fault")
int BPF_KRETPROBE(kretprobe_huge_fault, unsigned int ret)
{
	return fault_exit(ret);
}

/*
 * Indirect access: vfio_device_fops_read/write(struct file *, char __user *, size_t,
 * loff_t *), the entry of every VFIO driver's read and write. The position at entry says which
 * region and where; drivers advance it by what they did.
 */

static __always_inline int rw_entry(struct file *file, size_t count, loff_t *ppos, bool write)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending p = {};
	loff_t pos = 0;

	if (!wanted() || !is_vfio_device_file(file))
		return 0;
	bpf_probe_read_kernel(&pos, sizeof(pos), ppos);
	p.ts = bpf_ktime_get_ns();
	p.file = file;
	p.pos = pos;
	p.count = count;
	p.write = write;
	bpf_map_update_elem(&pending_rw, &id, &p, BPF_ANY);
	return 0;
}

/* Counts one read or write through the device fd that started at pos. */
static __always_inline void rw_account(struct file *file, __u64 pos, __u64 count, bool write,
				       long ret)
{
	struct vfg_rw_key k = {
		.file = (__u64)file,
		.region_pos = pos & ~((1ULL << 40) - 1), /* VFIO_PCI_OFFSET_SHIFT */
		.size = count,
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.write = write,
	};
	struct vfg_rw_stat *st = bpf_map_lookup_elem(&rw_stats, &k);

	if (!st) {
		struct vfg_rw_stat init = {};

		bpf_get_current_comm(init.comm, sizeof(init.comm));
		init.device_unknown = read_device_name(file, init.device) != 0;
		bpf_map_update_elem(&rw_stats, &k, &init, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&rw_stats, &k);
		if (!st)
			return;
	}
	st->calls++; /* per CPU: no other writer */
	if (ret < 0)
		st->errors++;
	else
		st->bytes += ret;
}

static __always_inline int rw_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending *p = bpf_map_lookup_elem(&pending_rw, &id);
	struct vfg_event *e;

	if (!p)
		return 0;
	rw_account(p->file, p->pos, p->count, p->write, ret);
	e = each_access ? event_new(VFG_EV_RW) : NULL;
	if (e) {
		if (read_device_name(p->file, e->device))
			e->flags |= VFG_EV_DEVICE_UNKNOWN;
		e->pos = p->pos;
		e->count = p->count;
		event_end(e, p, ret);
	}
	bpf_map_delete_elem(&pending_rw, &id);
	return 0;
}

/*
 * fexit alone (no events): the position at exit has been advanced by what was transferred
 * (vfio-pci's read and write add it to *ppos), so the position at entry is recovered from it.
 */
static __always_inline int rw_counted(struct file *file, size_t count, loff_t *ppos, bool write,
				      long ret)
{
	loff_t pos = 0;

	if (each_access)
		return rw_exit(ret);
	/* The function is vfio_device_fops' own read or write: the file is a device's. */
	if (!wanted())
		return 0;
	bpf_probe_read_kernel(&pos, sizeof(pos), ppos);
	rw_account(file, ret > 0 ? pos - ret : pos, count, write, ret);
	return 0;
}

ON_ENTRY(vfio_device_fops_read, read, rw_entry(file, count, ppos, false),
	 struct file *file, char *buf, size_t count, loff_t *ppos)

SEC("fexit/vfio_device_fops_read")
int BPF_PROG(fexit_read, struct file *file, char *buf, size_t count, loff_t *ppos, long ret)
{
	return rw_counted(file, count, ppos, false, ret);
}

ON_ENTRY(vfio_device_fops_write, write, rw_entry(file, count, ppos, true),
	 struct file *file, const char *buf, size_t count, loff_t *ppos)

SEC("fexit/vfio_device_fops_write")
int BPF_PROG(fexit_write, struct file *file, const char *buf, size_t count, loff_t *ppos,
	     long ret)
{
	return rw_counted(file, count, ppos, true, ret);
}

SEC("kretprobe/vfio_device_fops_read")
int BPF_KRETPROBE(kretprobe_read, long ret)
{
	return rw_exit(ret);
}

SEC("kretprobe/vfio_device_fops_write")
int BPF_KRETPROBE(kretprobe_write, long ret)
{
	return rw_exit(ret);
}

/*
 * End of a mapping. vm_area_free() ends every VMA on munmap and after a failed mmap, in every
 * kernel version; vm_file still points at the file there (remove_vma drops its reference first,
 * but the final fput is deferred). Kernels with per-VMA locks (6.4+) also have
 * __vm_area_free(): process exit (exit_mmap -> remove_vma(vma, true)) calls it directly and
 * vm_area_free() only queues it through RCU, after which vm_start and vm_end are overwritten by
 * the rcu_head. So both are probed: vm_area_free() reports and marks the VMA, and
 * __vm_area_free() reports only what nobody marked (the exit path).
 */
VFG_MAP(unmap_reported, LRU_HASH, __u64, __u8, 8192);

static __always_inline int unmap(struct vm_area_struct *vma)
{
	struct vfg_event *e;

	/*
	 * Not filtered by process: the last reference to an address space can be dropped by
	 * another task, and a filtered-out unmap would leave a stale mapping behind.
	 */
	if (!is_vfio_device_file(BPF_CORE_READ(vma, vm_file)))
		return 0;
	e = event_new(VFG_EV_UNMAP);
	if (!e)
		return 0; /* its faults stay in fault_stats, for the summary */
	event_vma(e, vma);
	{
		struct vfg_fault_key k = {.mm = e->vma.mm, .start = e->vma.start};
		struct vfg_fault_stat *st = bpf_map_lookup_elem(&fault_stats, &k);

		if (st) {
			e->faults = *st;
			bpf_map_delete_elem(&fault_stats, &k);
		}
	}
	event_submit(e);
	return 1;
}

static __always_inline int unmap_queued(struct vm_area_struct *vma)
{
	__u64 key = (__u64)vma;
	__u8 one = 1;

	if (unmap(vma) && free_direct_probed)
		bpf_map_update_elem(&unmap_reported, &key, &one, BPF_ANY);
	return 0;
}

static __always_inline int unmap_direct(struct vm_area_struct *vma)
{
	__u64 key = (__u64)vma;

	/* Marked: reported by vm_area_free() while the VMA was whole. Read nothing else. */
	if (bpf_map_lookup_elem(&unmap_reported, &key)) {
		bpf_map_delete_elem(&unmap_reported, &key);
		return 0;
	}
	unmap(vma);
	return 0;
}

ON_ENTRY(vm_area_free, unmap, unmap_queued(vma), struct vm_area_struct *vma)

ON_ENTRY(__vm_area_free, free, unmap_direct(vma), struct vm_area_struct *vma)

/*
 * A VMM opening a VFIO group (/dev/vfio/N) or device node (/dev/vfio/devices/vfioN): it gets
 * device fds next and maps regions after that, so the copy probes can be in place before its
 * first copy into device memory.
 */
static __always_inline int opened(void)
{
	struct vfg_event *e;

	if (!wanted())
		return 0;
	e = event_new(VFG_EV_OPEN);
	if (e)
		event_submit(e);
	return 0;
}

ON_ENTRY(vfio_group_fops_open, open, opened())

ON_ENTRY(vfio_device_fops_cdev_open, open_cdev, opened())

char LICENSE[] SEC("license") = "GPL";
