// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfg-testvmm: a small VMM for the guest tests. It opens VFIO devices the standard way (container,
 * group, device fd), maps chosen regions and performs chosen accesses, so that a test can create
 * exactly the mappings and accesses it needs. Actions run in the order given:
 *
 *   open BDF                        open the device (memory decoding is enabled in COMMAND)
 *   regions BDF                     print every region: index, size, offset, flags
 *   map BDF REGION [OFF [LEN]]      mmap LEN bytes (default: to the end) at OFF; prints slot
 *   mapn COUNT BDF REGION [OFF [LEN]]  the same COUNT times
 *   unmap SLOT                      munmap a slot
 *   remap SLOT REGION [OFF]         remap_file_pages: the slot's first page maps the page at OFF
 *                                   (default 0) of REGION of the same device instead
 *   map32 BDF REGION                x86_64: map the region's first page below 4 GiB (MAP_32BIT)
 *   remap32 SLOT REGION             x86_64: remap as remap does, through the 32-bit system call
 *                                   (int $0x80), which a 64-bit process may make too
 *   write SLOT OFF WIDTH VALUE HOW  store WIDTH (1,2,4,8) bytes; HOW: volatile|memcpy|memmove
 *   read SLOT OFF WIDTH HOW         load and print WIDTH bytes; HOW: volatile|memcpy
 *   store SLOT OFF KIND             one store instruction of KIND at OFF, its outcome printed:
 *                                   "store KIND 0xOFF ok" and whether the bytes read back as
 *                                   stored, or the signal and its si_code. KIND: s1 s2 s4 s8 (a
 *                                   scalar store of that width), dup4 (the same 4 bytes stored
 *                                   twice), v16 (a 16-byte vector store), p16 (arm64: a pair of
 *                                   8-byte registers, stp), zva (arm64: dc zva, which zeroes the
 *                                   block holding OFF). For RAM behind a BAR only: the 4 KiB
 *                                   around OFF are first filled with 0xff, byte by byte
 *   copy SLOT OFF LEN HOW           copy LEN pattern bytes in; HOW: memcpy|memmove|memset
 *   copyfrom SLOT OFF LEN SRCOFF    memcpy LEN pattern bytes in from ordinary memory that starts
 *                                   at offset SRCOFF (0..4095) in its page
 *   move SLOT DST SRC LEN           memmove LEN bytes inside the mapping (overlapping or not)
 *   copyout SLOT OFF LEN            memcpy LEN bytes out of the mapping into ordinary memory
 *   ramcopy LEN                     memcpy, memmove and memset of LEN bytes in ordinary memory
 *   loop SLOT|ram COUNT LEN         COUNT memcpys of LEN bytes into the slot (or ordinary
 *                                   memory); prints the mean time per call in ns (benchmarks)
 *   touch SLOT OFF LEN              read 4 aligned bytes in every page of [OFF, OFF+LEN); prints the
 *                                   page faults the process took meanwhile (getrusage minflt)
 *   mmaploop COUNT BDF REGION       COUNT times: map the region's first page, read it, unmap
 *   trymap BDF REGION STOPFILE      map and unmap the first page until STOPFILE exists; prints
 *                                   how many mmaps succeeded and how many were refused (EPERM)
 *   pread BDF REGION OFF WIDTH      read through the device fd and print
 *   pwrite BDF REGION OFF WIDTH VALUE  write through the device fd
 *   preadn COUNT BDF REGION OFF WIDTH  COUNT reads through the device fd, printing nothing
 *   anon COUNT                      map COUNT one-page anonymous mappings that do not merge
 *                                   (an ordinary process's VMAs, for benchmarks)
 *   name HEX                        set the process name (comm) to these bytes, any bytes
 *   fork COUNT                      COUNT-1 children run the remaining actions too
 *   ready FILE                      write "PID\n" to FILE (appending), to tell a test we are set
 *   waitfile FILE                   wait until FILE exists, for a test to say go
 *   sleep SECONDS | wait            pause; wait returns on SIGTERM or SIGINT
 *
 * REGION is an index or a name: bar0..bar5, rom, config, vga. Exit status 0 on success, 1 when an
 * action failed (the message names it), 2 for bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <time.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>

#define MAX_DEVICES 8
#define MAX_SLOTS 4096

struct device {
	char name[64];
	int group_fd;
	int fd;
	struct vfio_region_info regions[VFIO_PCI_NUM_REGIONS];
	unsigned int num_regions;
};

struct slot {
	struct device *dev;
	unsigned int region;
	void *addr;
	size_t len;
};

static int container_fd = -1;
static struct device devices[MAX_DEVICES];
static unsigned int num_devices;
static struct slot slots[MAX_SLOTS];
static unsigned int num_slots;
static volatile sig_atomic_t stop;
static pid_t children[1024];
static unsigned int num_children;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vfg-testvmm: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage(const char *why)
{
	fprintf(stderr, "vfg-testvmm: %s (see the comment at the top of tests/testvmm.c)\n", why);
	exit(2);
}

static unsigned long long number(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "vfg-testvmm: %s: '%s' is not a number\n", what, s);
		exit(2);
	}
	return v;
}

static unsigned int region_index(const char *s)
{
	static const char *const names[] = { "bar0", "bar1", "bar2", "bar3", "bar4",
					     "bar5", "rom",  "config", "vga" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return number(s, "region");
}

static struct device *find_device(const char *name)
{
	for (unsigned int i = 0; i < num_devices; i++)
		if (!strcmp(devices[i].name, name))
			return &devices[i];
	die("%s: device not opened (use 'open %s' first)", name, name);
}

static void enable_memory(struct device *d)
{
	struct vfio_region_info *cfg = &d->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	uint16_t cmd;

	/* PCI_COMMAND (offset 4), bit 1 PCI_COMMAND_MEMORY: without it vfio-pci refuses access. */
	if (pread(d->fd, &cmd, 2, cfg->offset + 4) != 2)
		die("%s: read of PCI COMMAND failed: %s", d->name, strerror(errno));
	cmd |= 0x2;
	if (pwrite(d->fd, &cmd, 2, cfg->offset + 4) != 2)
		die("%s: write of PCI COMMAND failed: %s", d->name, strerror(errno));
}

static void open_device(const char *name)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char path[PATH_MAX], link[PATH_MAX];
	struct device *d;
	ssize_t n;
	char *group;

	if (num_devices == MAX_DEVICES)
		die("too many devices");
	d = &devices[num_devices];
	snprintf(d->name, sizeof(d->name), "%s", name);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("%s: no IOMMU group (%s: %s)", name, path, strerror(errno));
	link[n] = 0;
	group = strrchr(link, '/') + 1;

	if (container_fd < 0) {
		container_fd = open("/dev/vfio/vfio", O_RDWR);
		if (container_fd < 0)
			die("/dev/vfio/vfio: %s", strerror(errno));
		if (ioctl(container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
			die("/dev/vfio/vfio: unknown API version");
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	d->group_fd = open(path, O_RDWR);
	if (d->group_fd < 0)
		die("%s: %s: %s", name, path, strerror(errno));
	if (ioctl(d->group_fd, VFIO_GROUP_GET_STATUS, &status))
		die("%s: VFIO_GROUP_GET_STATUS: %s", name, strerror(errno));
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		die("%s: group %s is not viable (bind all its devices to vfio-pci)", name, group);
	if (ioctl(d->group_fd, VFIO_GROUP_SET_CONTAINER, &container_fd))
		die("%s: VFIO_GROUP_SET_CONTAINER: %s", name, strerror(errno));
	if (num_devices == 0 && ioctl(container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("VFIO_SET_IOMMU type1v2: %s", strerror(errno));
	d->fd = ioctl(d->group_fd, VFIO_GROUP_GET_DEVICE_FD, name);
	if (d->fd < 0)
		die("%s: VFIO_GROUP_GET_DEVICE_FD: %s", name, strerror(errno));
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info))
		die("%s: VFIO_DEVICE_GET_INFO: %s", name, strerror(errno));
	d->num_regions = info.num_regions < VFIO_PCI_NUM_REGIONS ? info.num_regions
								  : VFIO_PCI_NUM_REGIONS;
	for (unsigned int i = 0; i < d->num_regions; i++) {
		d->regions[i].argsz = sizeof(d->regions[i]);
		d->regions[i].index = i;
		if (!ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &d->regions[i]))
			continue;
		/* vfio-pci answers EINVAL for the VGA region of a device without VGA. */
		if (errno != EINVAL)
			die("%s: VFIO_DEVICE_GET_REGION_INFO %u: %s", name, i, strerror(errno));
		d->regions[i].size = 0;
	}
	num_devices++;
	enable_memory(d);
}

static struct vfio_region_info *region_of(struct device *d, unsigned int index)
{
	if (index >= d->num_regions || !d->regions[index].size)
		die("%s: region %u does not exist", d->name, index);
	return &d->regions[index];
}

/* The operands DEVICE REGION at argv[i], argv[i + 1]. */
static struct vfio_region_info *device_region(char **argv, int i, struct device **d)
{
	*d = find_device(argv[i]);
	return region_of(*d, region_index(argv[i + 1]));
}

static void map_region(struct device *d, unsigned int index, unsigned long long off,
		       unsigned long long len)
{
	struct vfio_region_info *r = region_of(d, index);
	struct slot *s;
	void *addr;

	if (!len)
		len = r->size - off;
	if (num_slots == MAX_SLOTS)
		die("too many mappings");
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, r->offset + off);
	if (addr == MAP_FAILED)
		die("%s: mmap of region %u offset 0x%llx length 0x%llx: %s", d->name, index, off,
		    len, strerror(errno));
	s = &slots[num_slots];
	*s = (struct slot){ .dev = d, .region = index, .addr = addr, .len = len };
	printf("map %u %s %u %p 0x%llx\n", num_slots, d->name, index, addr, len);
	num_slots++;
}

static struct slot *slot_of(const char *arg, unsigned long long off, unsigned long long len)
{
	unsigned long long i = number(arg, "slot");

	if (i >= num_slots || !slots[i].addr)
		die("slot %llu is not mapped", i);
	if (off + len > slots[i].len)
		die("slot %llu: [0x%llx, 0x%llx) is outside the mapping", i, off, off + len);
	return &slots[i];
}

/* The operands SLOT OFFSET LENGTH at argv[i + 1..3]: the slot, checked to hold the range. */
static struct slot *slot_range(char **argv, int i, const char *len_name, unsigned long long *off,
			       unsigned long long *len)
{
	*off = number(argv[i + 2], "offset");
	*len = number(argv[i + 3], len_name);
	return slot_of(argv[i + 1], *off, *len);
}

static void store(void *p, unsigned int width, uint64_t v, const char *how)
{
	if (!strcmp(how, "volatile")) {
		switch (width) {
		case 1: *(volatile uint8_t *)p = v; break;
		case 2: *(volatile uint16_t *)p = v; break;
		case 4: *(volatile uint32_t *)p = v; break;
		case 8: *(volatile uint64_t *)p = v; break;
		default: usage("volatile width must be 1, 2, 4 or 8");
		}
	} else if (!strcmp(how, "memcpy")) {
		memcpy(p, &v, width);
	} else if (!strcmp(how, "memmove")) {
		memmove(p, &v, width);
	} else {
		usage("write: HOW is volatile, memcpy or memmove");
	}
}

static uint64_t load(const void *p, unsigned int width, const char *how)
{
	uint64_t v = 0;

	if (!strcmp(how, "volatile")) {
		switch (width) {
		case 1: return *(const volatile uint8_t *)p;
		case 2: return *(const volatile uint16_t *)p;
		case 4: return *(const volatile uint32_t *)p;
		case 8: return *(const volatile uint64_t *)p;
		default: usage("volatile width must be 1, 2, 4 or 8");
		}
	} else if (!strcmp(how, "memcpy")) {
		memcpy(&v, p, width);
		return v;
	}
	usage("read: HOW is volatile or memcpy");
	return 0;
}

/*
 * One store instruction of a chosen kind, in assembly so that the compiler can neither widen,
 * split nor vectorise it; a fault is caught and reported, not fatal (the store-kind measurements
 * of the cache-modes test).
 */
static sigjmp_buf store_jmp;
static volatile sig_atomic_t store_sig, store_code;

static void on_store_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	store_sig = sig;
	store_code = si->si_code;
	siglongjmp(store_jmp, 1);
}

static const char *si_code_name(int sig, int code)
{
	if (sig == SIGBUS)
		switch (code) {
		case BUS_ADRALN: return "BUS_ADRALN";
		case BUS_ADRERR: return "BUS_ADRERR";
		case BUS_OBJERR: return "BUS_OBJERR";
		}
	if (sig == SIGSEGV)
		switch (code) {
		case SEGV_MAPERR: return "SEGV_MAPERR";
		case SEGV_ACCERR: return "SEGV_ACCERR";
		}
	return "other";
}

/* The bytes KIND stores at p (filled with 0xff first): *len of them from *first on. */
static void store_insn(volatile unsigned char *p, const char *kind, const unsigned char *src,
		       size_t *first, size_t *len)
{
	uint16_t v2;
	uint32_t v4;
	uint64_t v8[2];

	memcpy(&v2, src, sizeof(v2));
	memcpy(&v4, src, sizeof(v4));
	memcpy(v8, src, sizeof(v8));
	*first = 0;
#if defined(__x86_64__)
	if (!strcmp(kind, "s1")) {
		__asm__ volatile("movb %b1, (%0)" : : "r"(p), "q"(src[0]) : "memory");
		*len = 1;
	} else if (!strcmp(kind, "s2")) {
		__asm__ volatile("movw %w1, (%0)" : : "r"(p), "r"(v2) : "memory");
		*len = 2;
	} else if (!strcmp(kind, "s4") || !strcmp(kind, "dup4")) {
		__asm__ volatile("movl %k1, (%0)" : : "r"(p), "r"(v4) : "memory");
		if (kind[0] == 'd')
			__asm__ volatile("movl %k1, (%0)" : : "r"(p), "r"(v4) : "memory");
		*len = 4;
	} else if (!strcmp(kind, "s8")) {
		__asm__ volatile("movq %1, (%0)" : : "r"(p), "r"(v8[0]) : "memory");
		*len = 8;
	} else if (!strcmp(kind, "v16")) {
		__asm__ volatile("movdqu (%1), %%xmm0\n\tmovdqu %%xmm0, (%0)"
				 : : "r"(p), "r"(src) : "memory", "xmm0");
		*len = 16;
	} else {
		usage("store: KIND on x86_64 is s1, s2, s4, s8, dup4 or v16");
	}
#elif defined(__aarch64__)
	if (!strcmp(kind, "s1")) {
		__asm__ volatile("strb %w1, [%0]" : : "r"(p), "r"(src[0]) : "memory");
		*len = 1;
	} else if (!strcmp(kind, "s2")) {
		__asm__ volatile("strh %w1, [%0]" : : "r"(p), "r"(v2) : "memory");
		*len = 2;
	} else if (!strcmp(kind, "s4") || !strcmp(kind, "dup4")) {
		__asm__ volatile("str %w1, [%0]" : : "r"(p), "r"(v4) : "memory");
		if (kind[0] == 'd')
			__asm__ volatile("str %w1, [%0]" : : "r"(p), "r"(v4) : "memory");
		*len = 4;
	} else if (!strcmp(kind, "s8")) {
		__asm__ volatile("str %1, [%0]" : : "r"(p), "r"(v8[0]) : "memory");
		*len = 8;
	} else if (!strcmp(kind, "p16")) {
		__asm__ volatile("stp %1, %2, [%0]"
				 : : "r"(p), "r"(v8[0]), "r"(v8[1])
				 : "memory");
		*len = 16;
	} else if (!strcmp(kind, "v16")) {
		__asm__ volatile("ldr q0, [%1]\n\tstr q0, [%0]" : : "r"(p), "r"(src) : "memory", "v0");
		*len = 16;
	} else if (!strcmp(kind, "zva")) {
		uint64_t dczid;

		__asm__ volatile("mrs %0, dczid_el0" : "=r"(dczid));
		if (dczid & 16)
			die("store zva: dc zva is prohibited here (DCZID_EL0 0x%llx)",
			    (unsigned long long)dczid);
		*len = 4u << (dczid & 15);
		*first = (uintptr_t)p & (*len - 1);
		__asm__ volatile("dc zva, %0" : : "r"(p) : "memory");
	} else {
		usage("store: KIND on aarch64 is s1, s2, s4, s8, dup4, p16, v16 or zva");
	}
#else
	(void)p, (void)src, (void)kind, (void)len, (void)v2, (void)v4, (void)v8;
	usage("store: not built for this architecture");
#endif
}

/* A KIND store_insn knows on this architecture (checked before any byte is touched). */
static bool store_kind_known(const char *kind)
{
#if defined(__x86_64__)
	static const char *const kinds[] = { "s1", "s2", "s4", "s8", "dup4", "v16" };
#elif defined(__aarch64__)
	static const char *const kinds[] = { "s1", "s2", "s4", "s8", "dup4", "p16", "v16", "zva" };
#else
	static const char *const kinds[] = { "" };
#endif

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

static void store_kind(struct slot *s, unsigned long long off, const char *kind)
{
	static const unsigned char src[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
					       0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };
	struct sigaction sa = { .sa_sigaction = on_store_fault, .sa_flags = SA_SIGINFO }, obus, osegv;
	volatile unsigned char *p = (unsigned char *)s->addr + off, *area;
	static size_t first, len; /* static: the fault handler jumps back over this frame */
	size_t area_len = 4096;
	unsigned long long area_off = off & ~4095ULL;
	int bad;

	if (!store_kind_known(kind))
		usage("store: KIND is s1, s2, s4, s8, dup4, v16 (x86_64), p16, zva (aarch64)");
	/* The 4 KiB around it (holding any dc zva block), which the store must not leave. */
	if (area_off + area_len > s->len || (off & 4095) > 4096 - 16)
		die("store: slot %u: 0x%llx is not 16 bytes inside a 4 KiB block of the mapping",
		    (unsigned int)(s - slots), off);
	/* Byte stores and loads only around it: legal in every mode. */
	area = (unsigned char *)s->addr + area_off;
	for (size_t k = 0; k < area_len; k++)
		area[k] = 0xff;
	store_sig = 0;
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	if (!sigsetjmp(store_jmp, 1))
		store_insn(p, kind, src, &first, &len);
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	if (store_sig) {
		printf("store %s 0x%llx %s %s\n", kind, off, store_sig == SIGBUS ? "SIGBUS" : "SIGSEGV",
		       si_code_name(store_sig, store_code));
		return;
	}
	/* Every byte of the area: the stored ones (zero for zva), 0xff elsewhere. */
	bad = 0;
	for (size_t k = 0; k < area_len; k++) {
		unsigned long long a = area_off + k, lo = off - first;
		unsigned char want = 0xff;

		if (a >= lo && a < lo + len)
			want = !strcmp(kind, "zva") ? 0 : src[a - lo];
		bad += area[k] != want;
	}
	printf("store %s 0x%llx ok %s\n", kind, off, bad ? "wrong" : "exact");
}

static void copy_in(struct slot *s, unsigned long long off, unsigned long long len, const char *how)
{
	unsigned char *src = malloc(len ? len : 1);

	if (!src)
		die("out of memory");
	for (unsigned long long i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 7 + 1);
	/* A USDT probe, as a VMM built with them has: vfgtest:copy(dst, src, len). */
	DTRACE_PROBE3(vfgtest, copy, (char *)s->addr + off, src, len);
	if (!strcmp(how, "memcpy"))
		memcpy((char *)s->addr + off, src, len);
	else if (!strcmp(how, "memmove"))
		memmove((char *)s->addr + off, src, len);
	else if (!strcmp(how, "memset"))
		memset((char *)s->addr + off, 0x5a, len);
	else
		usage("copy: HOW is memcpy, memmove or memset");
	free(src);
}

/* The source placed in its page, for the 4 KiB aliasing cases. */
static void copy_from(struct slot *s, unsigned long long off, unsigned long long len,
		      unsigned long long src_off)
{
	unsigned char *buf = aligned_alloc(4096, (len + 8191) / 4096 * 4096 + 4096), *src;

	if (!buf)
		die("out of memory");
	src = buf + src_off;
	for (unsigned long long i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 7 + 1);
	memcpy((char *)s->addr + off, src, len);
	free(buf);
}

/* Keeps the compiler from proving the copies dead. */
static volatile unsigned char sink;

static void copy_out(struct slot *s, unsigned long long off, unsigned long long len)
{
	unsigned char *dst = malloc(len ? len : 1);

	if (!dst)
		die("out of memory");
	memcpy(dst, (char *)s->addr + off, len);
	sink = len ? dst[len - 1] : 0;
	free(dst);
}

static void ram_copy(unsigned long long len)
{
	unsigned char *a = calloc(1, len + 64), *b = calloc(1, len + 64);

	if (!a || !b)
		die("out of memory");
	memcpy(a, b, len);
	memmove(a + 1, a, len);
	memset(b, 0x5a, len);
	sink = a[len / 2] ^ b[len / 2];
	free(a);
	free(b);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void write_ready(const char *path)
{
	FILE *f = fopen(path, "a");

	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "%d\n", getpid());
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

static void do_fork(unsigned long long count)
{
	for (unsigned long long i = 1; i < count; i++) {
		pid_t pid;

		if (num_children == sizeof(children) / sizeof(children[0]))
			die("fork: at most %zu processes", sizeof(children) / sizeof(children[0]));
		pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			num_children = 0;
			return;
		}
		children[num_children++] = pid;
	}
}

#define NEED(n)                                                                                   \
	do {                                                                                      \
		if (i + (n) >= argc)                                                              \
			usage("missing arguments");                                               \
	} while (0)

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int status = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (argc < 2)
		usage("no actions given");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		unsigned long long off, len; /* the range of a command on a slot */
		struct slot *s;

		if (!strcmp(a, "open")) {
			NEED(1);
			open_device(argv[++i]);
		} else if (!strcmp(a, "regions")) {
			struct device *d;

			NEED(1);
			d = find_device(argv[++i]);
			for (unsigned int r = 0; r < d->num_regions; r++)
				printf("region %s %u size 0x%llx offset 0x%llx flags 0x%x\n", d->name,
				       r, (unsigned long long)d->regions[r].size,
				       (unsigned long long)d->regions[r].offset,
				       d->regions[r].flags);
		} else if (!strcmp(a, "map") || !strcmp(a, "mapn")) {
			unsigned long long count = 1;
			struct device *d;
			unsigned int r;

			off = 0;
			len = 0;

			if (!strcmp(a, "mapn")) {
				NEED(1);
				count = number(argv[++i], "count");
			}
			NEED(2);
			d = find_device(argv[++i]);
			r = region_index(argv[++i]);
			if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9') {
				off = number(argv[++i], "offset");
				if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
					len = number(argv[++i], "length");
			}
			while (count--)
				map_region(d, r, off, len);
		} else if (!strcmp(a, "name")) {
			char comm[16] = "";
			const char *h;
			size_t n = 0;

			NEED(1);
			h = argv[++i];
			for (; h[0] && h[1] && n < sizeof(comm) - 1; h += 2) {
				unsigned int byte;

				if (sscanf(h, "%2x", &byte) != 1)
					usage("name: HEX is pairs of hex digits");
				comm[n++] = byte;
			}
			if (h[0] || !n)
				usage("name: HEX is 1 to 15 pairs of hex digits");
			if (prctl(PR_SET_NAME, comm))
				die("prctl(PR_SET_NAME): %s", strerror(errno));
#if defined(__x86_64__)
		} else if (!strcmp(a, "map32")) {
			struct vfio_region_info *r;
			struct device *d;
			unsigned int index;
			void *addr;

			NEED(2);
			d = find_device(argv[++i]);
			index = region_index(argv[++i]);
			r = region_of(d, index);
			if (num_slots == MAX_SLOTS)
				die("too many mappings");
			addr = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_32BIT, d->fd, r->offset);
			if (addr == MAP_FAILED)
				die("%s: mmap below 4 GiB of region %u: %s", d->name, index,
				    strerror(errno));
			slots[num_slots] = (struct slot){ .dev = d, .region = index, .addr = addr,
							  .len = sysconf(_SC_PAGESIZE) };
			printf("map %u %s %u %p 0x%lx\n", num_slots, d->name, index, addr,
			       sysconf(_SC_PAGESIZE));
			num_slots++;
		} else if (!strcmp(a, "remap32")) {
			unsigned long long n;
			unsigned int index;
			long ret;

			NEED(2);
			n = number(argv[++i], "slot");
			index = region_index(argv[++i]);
			if (n >= num_slots || !slots[n].addr)
				die("slot %llu is not mapped", n);
			if ((uintptr_t)slots[n].addr >> 32)
				die("slot %llu is above 4 GiB (map32 maps below)", n);
			/* arch/x86/entry/syscalls/syscall_32.tbl: 257 remap_file_pages */
			__asm__ volatile("int $0x80"
					 : "=a"(ret)
					 : "a"(257), "b"((uint32_t)(uintptr_t)slots[n].addr),
					   "c"((uint32_t)sysconf(_SC_PAGESIZE)), "d"(0),
					   "S"((uint32_t)(region_of(slots[n].dev, index)->offset /
							  sysconf(_SC_PAGESIZE))),
					   "D"(0)
					 : "memory", "r8", "r9", "r10", "r11");
			if (ret < 0)
				die("%s: 32-bit remap_file_pages of slot %llu onto region %u: %s",
				    slots[n].dev->name, n, index, strerror(-ret));
			slots[n].region = index;
			printf("remap %llu %s %u\n", n, slots[n].dev->name, index);
#endif
		} else if (!strcmp(a, "remap")) {
			unsigned long long n;
			long page = sysconf(_SC_PAGESIZE);
			struct vfio_region_info *r;
			unsigned int index;

			NEED(2);
			n = number(argv[++i], "slot");
			index = region_index(argv[++i]);
			off = 0;
			if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
				off = number(argv[++i], "offset");
			if (n >= num_slots || !slots[n].addr)
				die("slot %llu is not mapped", n);
			r = region_of(slots[n].dev, index);
			if (remap_file_pages(slots[n].addr, page, 0, (r->offset + off) / page, 0))
				die("%s: remap_file_pages of slot %llu onto region %u offset 0x%llx: %s",
				    slots[n].dev->name, n, index, off, strerror(errno));
			slots[n].region = index;
			printf("remap %llu %s %u\n", n, slots[n].dev->name, index);
		} else if (!strcmp(a, "unmap")) {
			unsigned long long n;

			NEED(1);
			n = number(argv[++i], "slot");
			if (n >= num_slots || !slots[n].addr)
				die("slot %llu is not mapped", n);
			if (munmap(slots[n].addr, slots[n].len))
				die("munmap slot %llu: %s", n, strerror(errno));
			slots[n].addr = NULL;
			printf("unmap %llu\n", n);
		} else if (!strcmp(a, "write")) {
			NEED(5);
			s = slot_range(argv, i, "width", &off, &len);
			if (len > 8)
				usage("write: width is at most 8");
			store((char *)s->addr + off, len, number(argv[i + 4], "value"),
			      argv[i + 5]);
			i += 5;
		} else if (!strcmp(a, "read")) {
			NEED(4);
			s = slot_range(argv, i, "width", &off, &len);
			if (len > 8)
				usage("read: width is at most 8");
			printf("read %s 0x%llx = 0x%llx\n", argv[i + 1], off,
			       (unsigned long long)load((char *)s->addr + off, len, argv[i + 4]));
			i += 4;
		} else if (!strcmp(a, "store")) {
			NEED(3);
			off = number(argv[i + 2], "offset");
			store_kind(slot_of(argv[i + 1], off, 16), off, argv[i + 3]);
			i += 3;
		} else if (!strcmp(a, "copy")) {
			NEED(4);
			s = slot_range(argv, i, "length", &off, &len);
			copy_in(s, off, len, argv[i + 4]);
			i += 4;
		} else if (!strcmp(a, "copyfrom")) {
			unsigned long long src_off;

			NEED(4);
			s = slot_range(argv, i, "length", &off, &len);
			src_off = number(argv[i + 4], "source page offset");
			if (src_off > 4095)
				usage("copyfrom: SRCOFF is 0..4095");
			copy_from(s, off, len, src_off);
			i += 4;
		} else if (!strcmp(a, "move")) {
			unsigned long long dst, src;

			NEED(4);
			dst = number(argv[i + 2], "offset");
			src = number(argv[i + 3], "offset");
			len = number(argv[i + 4], "length");
			s = slot_of(argv[i + 1], dst > src ? dst : src, len);
			memmove((char *)s->addr + dst, (char *)s->addr + src, len);
			i += 4;
		} else if (!strcmp(a, "copyout")) {
			NEED(3);
			s = slot_range(argv, i, "length", &off, &len);
			copy_out(s, off, len);
			i += 3;
		} else if (!strcmp(a, "loop")) {
			unsigned long long count, i2;
			struct timespec t0, t1;
			unsigned char *src, *dst;

			NEED(3);
			count = number(argv[i + 2], "count");
			len = number(argv[i + 3], "length");
			src = calloc(1, len + 1);
			if (!src)
				die("out of memory");
			dst = !strcmp(argv[i + 1], "ram") ? calloc(1, len + 1)
							  : (unsigned char *)slot_of(argv[i + 1], 0, len)->addr;
			if (!dst)
				die("out of memory");
			clock_gettime(CLOCK_MONOTONIC, &t0);
			for (i2 = 0; i2 < count; i2++) {
				src[0] = (unsigned char)i2;
				memcpy(dst, src, len);
			}
			clock_gettime(CLOCK_MONOTONIC, &t1);
			printf("loop %s %llu %llu %.1f\n", argv[i + 1], count, len,
			       count ? ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / count
				     : 0.0);
			fflush(stdout);
			if (!strcmp(argv[i + 1], "ram"))
				free(dst);
			free(src);
			i += 3;
		} else if (!strcmp(a, "ramcopy")) {
			NEED(1);
			ram_copy(number(argv[i + 1], "length"));
			i += 1;
		} else if (!strcmp(a, "touch")) {
			unsigned long long page = sysconf(_SC_PAGESIZE);
			struct rusage before, after;

			NEED(3);
			s = slot_range(argv, i, "length", &off, &len);
			getrusage(RUSAGE_SELF, &before);
			/*
			 * One aligned 4-byte read per page: devices such as edu take only 4- and
			 * 8-byte accesses, and on arm64 a narrower one is a bus error (SIGBUS).
			 */
			for (unsigned long long p = off & ~3ULL; p < off + len; p += page)
				(void)*(volatile uint32_t *)((char *)s->addr + p);
			getrusage(RUSAGE_SELF, &after);
			printf("touch %s 0x%llx 0x%llx faults %ld\n", argv[i + 1], off, len,
			       after.ru_minflt - before.ru_minflt);
			i += 3;
		} else if (!strcmp(a, "mmaploop")) {
			unsigned long long count, page = sysconf(_SC_PAGESIZE);
			struct vfio_region_info *r;
			struct device *d;

			NEED(3);
			count = number(argv[i + 1], "count");
			r = device_region(argv, i + 2, &d);
			for (unsigned long long n = 0; n < count; n++) {
				void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
					       r->offset);

				if (p == MAP_FAILED)
					die("mmaploop: mmap %s region %u: %s", d->name, r->index,
					    strerror(errno));
				(void)*(volatile uint32_t *)p; /* 4 bytes: see touch */
				munmap(p, page);
			}
			i += 3;
		} else if (!strcmp(a, "trymap")) {
			unsigned long long ok = 0, denied = 0, page = sysconf(_SC_PAGESIZE);
			struct vfio_region_info *r;
			struct device *d;

			NEED(3);
			r = device_region(argv, i + 1, &d);
			while (access(argv[i + 3], F_OK) && !stop) {
				void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
					       r->offset);

				if (p != MAP_FAILED) {
					ok++;
					munmap(p, page);
				} else if (errno == EPERM) {
					denied++;
				} else {
					die("trymap: mmap %s region %u: %s", d->name, r->index,
					    strerror(errno));
				}
			}
			printf("trymap ok %llu denied %llu\n", ok, denied);
			i += 3;
		} else if (!strcmp(a, "preadn")) {
			unsigned long long count, width, v = 0;
			struct vfio_region_info *r;
			struct device *d;

			NEED(5);
			count = number(argv[i + 1], "count");
			r = device_region(argv, i + 2, &d);
			off = number(argv[i + 4], "offset");
			width = number(argv[i + 5], "width");
			if (width > 8)
				usage("preadn: width is at most 8");
			for (unsigned long long n = 0; n < count; n++)
				if (pread(d->fd, &v, width, r->offset + off) != (ssize_t)width)
					die("preadn %s region %u offset 0x%llx: %s", d->name, r->index,
					    off, strerror(errno));
			i += 5;
		} else if (!strcmp(a, "waitfile")) {
			NEED(1);
			while (access(argv[i + 1], F_OK) && !stop)
				usleep(10000);
			i += 1;
		} else if (!strcmp(a, "pread") || !strcmp(a, "pwrite")) {
			int is_write = !strcmp(a, "pwrite");
			unsigned long long width, v = 0;
			struct vfio_region_info *r;
			struct device *d;
			ssize_t n;

			NEED(is_write ? 5 : 4);
			r = device_region(argv, i + 1, &d);
			off = number(argv[i + 3], "offset");
			width = number(argv[i + 4], "width");
			if (width > 8)
				usage("pread/pwrite: width is at most 8");
			if (is_write) {
				v = number(argv[i + 5], "value");
				n = pwrite(d->fd, &v, width, r->offset + off);
			} else {
				n = pread(d->fd, &v, width, r->offset + off);
			}
			if (n != (ssize_t)width)
				die("%s %s region %u offset 0x%llx: %s", a, d->name, r->index, off,
				    n < 0 ? strerror(errno) : "short transfer");
			if (!is_write)
				printf("pread %s %u 0x%llx = 0x%llx\n", d->name, r->index, off, v);
			i += is_write ? 5 : 4;
		} else if (!strcmp(a, "anon")) {
			unsigned long long count, page = sysconf(_SC_PAGESIZE);
			char *p;

			NEED(1);
			count = number(argv[++i], "count");
			/* One reservation with a guard page between mappings, so that none merge. */
			p = mmap(NULL, 2 * count * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				die("anon: mmap: %s", strerror(errno));
			for (unsigned long long n = 0; n < count; n++)
				if (mprotect(p + 2 * n * page, page, PROT_READ | PROT_WRITE))
					die("anon: mprotect: %s", strerror(errno));
		} else if (!strcmp(a, "fork")) {
			NEED(1);
			do_fork(number(argv[++i], "count"));
		} else if (!strcmp(a, "ready")) {
			NEED(1);
			write_ready(argv[++i]);
		} else if (!strcmp(a, "sleep")) {
			NEED(1);
			sleep(number(argv[++i], "seconds"));
		} else if (!strcmp(a, "wait")) {
			while (!stop)
				pause();
		} else {
			fprintf(stderr, "vfg-testvmm: unknown action '%s'\n", a);
			exit(2);
		}
	}
	for (unsigned int c = 0; c < num_children; c++) {
		int st;

		if (stop)
			kill(children[c], SIGTERM);
		if (waitpid(children[c], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			status = 1;
	}
	return status;
}
