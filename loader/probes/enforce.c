// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Enforcement: loading, pinning, atomic policy swap, clearing; see enforce.h. */
#define _GNU_SOURCE /* renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "enforce.h"
#include "enforce.skel.h"
#include "../host/kernel.h"
#include "snapshot.h"

#define PIN(name) VFG_PIN_DIR "/" name

struct verdict_set {
	const struct vfg_region_verdict *v;
	size_t n;
};

/* The pinned objects: maps first, links last (a link pinned means enforcement is on). */
static const char *const map_pins[] = { "policy",   "generation",  "decisions", "counters",
					"observed", "rule_counts", "build" };
static const char *const link_pins[] = {
	"link_mmap_offset", "link_lsm", "link_observe", "link_remap_entry", "link_remap_exit",
	"link_unmapped_area", "link_lsm_addr",
#if defined(__x86_64__)
	"link_remap_entry32", "link_remap_exit32",
#endif
};
#define NMAPS (sizeof(map_pins) / sizeof(map_pins[0]))
#define NLINKS (sizeof(link_pins) / sizeof(link_pins[0]))

/* Where a takeover pins the new state before exchanging it with the old one. */
/* (bpffs refuses names with a dot) */
#define STAGING_DIR VFG_PIN_DIR "-next"

/*
 * Unpins everything under dir, whatever layout left it (another build may have pinned other
 * names): links first, so that its programs detach before their maps go, then the directory.
 */
static void unpin_dir(const char *dir)
{
	for (int links = 1; links >= 0; links--) {
		DIR *d = opendir(dir);
		struct dirent *e;

		if (!d)
			return;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.' && (!strncmp(e->d_name, "link_", 5)) == links)
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

/* This build's enforcement object, as the pinned "build" map records it. */
static uint32_t object_checksum(void)
{
	size_t sz = 0;
	const void *elf = enforce_bpf__elf_bytes(&sz);

	return crc32(0, elf, sz);
}

static bool bpffs_mounted(void)
{
	struct statfs st;

	return !statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC;
}

/* A new verdict map holding every compiled verdict. Returns its fd or -errno. */
static int build_verdicts(const struct verdict_set *c)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	__u32 max = c->n + 16;
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "vfg_verdicts", sizeof(struct vfg_region_key),
				sizeof(struct vfg_verdict), max < 16384 ? 16384 : max, &opts);

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < c->n; i++) {
		if (bpf_map_update_elem(fd, &c->v[i].key, &c->v[i].v, BPF_NOEXIST)) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

static int swap_in(int outer_fd, int gen_fd, const struct verdict_set *c, uint64_t *generation,
		   const char **step)
{
	__u32 zero = 0;
	__u64 gen = 0;
	int inner, err = 0;

	inner = build_verdicts(c);
	if (inner < 0) {
		*step = "build the verdict map";
		return inner;
	}
	bpf_map_lookup_elem(gen_fd, &zero, &gen);
	gen++;
	/* The one update that puts the whole new policy in force. */
	if (bpf_map_update_elem(outer_fd, &zero, &inner, BPF_ANY)) {
		err = -errno;
		*step = "swap in the new verdict map";
	} else {
		bpf_map_update_elem(gen_fd, &zero, &gen, BPF_ANY);
		*generation = gen;
	}
	close(inner);
	return err;
}

static uint64_t read_u64(int fd, __u32 key)
{
	__u64 v = 0;

	bpf_map_lookup_elem(fd, &key, &v);
	return v;
}

/*
 * Loads and attaches this build's programs with the compiled verdicts already in their maps
 * (never an empty moment) and pins everything under dir. The first generation is after+1.
 * On failure nothing is left attached or pinned.
 */
static int load_and_pin(const struct verdict_set *c, const char *dir, uint64_t after,
			uint64_t *generation, const char **step)
{
	struct bpf_link *links[NLINKS] = {};
	struct enforce_bpf *skel;
	__u32 zero = 0, sum = object_checksum();
	struct bpf_program *unmapped_area;
	static char why[128];
	uint64_t fops;
	char path[256];
	int err;

	err = kallsyms_lookup("vfio_device_fops", &fops);
	if (err) {
		*step = err != -ENOENT ? "read vfio_device_fops from /proc/kallsyms"
			: !kernel_module_present("vfio")
				? "find vfio_device_fops (vfio is not loaded: load vfio-pci first; the "
				  "program recognises VFIO files by it)"
				: "find vfio_device_fops in /proc/kallsyms (vfio is loaded, but this "
				  "kernel lists no data symbols there: CONFIG_KALLSYMS_ALL is off, as in "
				  "Debian's arm64 6.1, which has no BPF trampolines for BPF-LSM either)";
		return err;
	}
	if (!kernel_lsm_active("bpf")) {
		*step = "use BPF-LSM (\"bpf\" is not in /sys/kernel/security/lsm: boot with "
			"lsm=...,bpf)";
		return -EOPNOTSUPP;
	}
	skel = enforce_bpf__open();
	if (!skel) {
		*step = "open the enforcement BPF object";
		return -errno;
	}
	skel->rodata->vfio_device_fops_addr = fops;
	skel->rodata->page_shift = kernel_page_shift(NULL);
	/* get_unmapped_area() became __get_unmapped_area() in 6.9: the one this kernel has. */
	{
		static const char *const names[] = { "__get_unmapped_area", "get_unmapped_area" };
		int errs[2] = { -ENOENT, -ENOENT };

		kernel_functions_find(names, (const char *const[]){ NULL, NULL }, errs, 2);
		unmapped_area = !errs[0] ? skel->progs.fentry_unmapped_area_new :
				!errs[1] ? skel->progs.fentry_unmapped_area : NULL;
		bpf_program__set_autoload(skel->progs.fentry_unmapped_area_new, !errs[0]);
		bpf_program__set_autoload(skel->progs.fentry_unmapped_area, errs[0] && !errs[1]);
		if (!unmapped_area) {
			*step = "find get_unmapped_area or __get_unmapped_area in the kernel's BTF "
				"(remap_file_pages(2) could not be judged)";
			err = -ENOENT;
			goto out;
		}
	}
	err = enforce_bpf__load(skel);
	if (err) {
		*step = "load the enforcement programs (lsm/mmap_file, lsm/mmap_addr, fentry, fexit)";
		goto out;
	}
	bpf_map_update_elem(bpf_map__fd(skel->maps.generation), &zero, &after, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(skel->maps.build), &zero, &sum, BPF_ANY);
	/* The policy is in the maps before the hook is attached: never an empty moment. */
	err = swap_in(bpf_map__fd(skel->maps.policy), bpf_map__fd(skel->maps.generation), c,
		      generation, step);
	if (err)
		goto out;
	{
		/*
		 * In link_pins' order, with what each is for. Without the remap ones,
		 * remap_file_pages(2) could map a refused region: no policy then.
		 */
		const struct {
			struct bpf_program *prog;
			const char *what;
		} attach[NLINKS] = {
			{ skel->progs.fentry_vm_mmap_pgoff, "fentry/vm_mmap_pgoff" },
			{ skel->progs.enforce_mmap_file, "lsm/mmap_file" },
			{ skel->progs.fexit_mmap_observe, "fexit/vfio_device_fops_mmap" },
			{ skel->progs.fentry_remap_native, "fentry on remap_file_pages(2)" },
			{ skel->progs.fexit_remap_native, "fexit on remap_file_pages(2)" },
			{ unmapped_area, "fentry on (__)get_unmapped_area" },
			{ skel->progs.enforce_mmap_addr, "lsm/mmap_addr" },
#if defined(__x86_64__)
			{ skel->progs.fentry_remap_compat, "fentry on the 32-bit remap_file_pages" },
			{ skel->progs.fexit_remap_compat, "fexit on the 32-bit remap_file_pages" },
#endif
		};

		for (size_t i = 0; i < NLINKS; i++) {
			links[i] = bpf_program__attach(attach[i].prog);
			if (links[i])
				continue;
			err = -errno;
			snprintf(why, sizeof(why), "attach %s", attach[i].what);
			*step = why;
			if (err == -524) /* ENOTSUPP */
				*step = "attach the enforcement programs (fentry, BPF-LSM): this "
					"kernel has no BPF trampolines on this architecture (as "
					"Debian's arm64 6.1; its 6.12 has them)";
			goto out;
		}
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		*step = "create the directory of the pinned state under /sys/fs/bpf";
		goto out;
	}
	{
		struct bpf_map *maps[NMAPS] = { skel->maps.policy,   skel->maps.generation,
						skel->maps.decisions, skel->maps.counters,
						skel->maps.observed, skel->maps.rule_counts,
						skel->maps.build };

		for (size_t i = 0; i < NMAPS && !err; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, map_pins[i]);
			err = bpf_map__pin(maps[i], path);
		}
	}
	for (size_t i = 0; i < NLINKS && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, link_pins[i]);
		err = bpf_link__pin(links[i], path);
	}
	if (err) {
		*step = "pin the enforcement state under /sys/fs/bpf";
		unpin_dir(dir);
	}
out:
	for (size_t i = 0; i < NLINKS; i++)
		bpf_link__destroy(links[i]); /* pinned links stay attached */
	enforce_bpf__destroy(skel);
	return err;
}

/*
 * Whether the state pinned under VFG_PIN_DIR is this build's, complete: then a new policy is
 * one swap. Anything else there (another build's programs or maps, an older layout without the
 * "build" record, a state missing a pin) is taken over whole.
 */
bool enforce_pinned_is_ours(uint32_t *recorded)
{
	struct stat st;
	char path[256];
	__u32 zero = 0, sum = 0;
	int fd;

	*recorded = 0;
	fd = bpf_obj_get(PIN("build"));
	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &zero, &sum);
		close(fd);
		*recorded = sum;
	}
	for (size_t i = 0; i < NMAPS + NLINKS; i++) {
		snprintf(path, sizeof(path), VFG_PIN_DIR "/%s",
			 i < NMAPS ? map_pins[i] : link_pins[i - NMAPS]);
		if (stat(path, &st))
			return false;
	}
	return sum == object_checksum();
}

/*
 * Replaces whatever is pinned under VFG_PIN_DIR by this build's programs, with no moment
 * without enforcement: the new programs are attached and pinned beside the old ones first (for
 * that moment an mmap must pass both), the two directories are exchanged in one rename, and
 * only then are the old programs unpinned. The generation continues from the old one.
 */
static int take_over(const struct verdict_set *c, uint64_t *generation, const char **step)
{
	uint64_t after = 0;
	int fd, err;

	fd = bpf_obj_get(PIN("generation"));
	if (fd >= 0) {
		after = read_u64(fd, 0);
		close(fd);
	}
	unpin_dir(STAGING_DIR); /* left by a takeover that was cut short */
	err = load_and_pin(c, STAGING_DIR, after, generation, step);
	if (err)
		return err;
	if (renameat2(AT_FDCWD, STAGING_DIR, AT_FDCWD, VFG_PIN_DIR, RENAME_EXCHANGE)) {
		err = -errno;
		*step = "exchange " STAGING_DIR " with " VFG_PIN_DIR " (the old state is untouched)";
		unpin_dir(STAGING_DIR);
		return err;
	}
	/*
	 * Now the old state. Its programs detach late after the unpin (see enforce_clear): with its
	 * policy slot emptied first they allow everything meanwhile, and the new ones enforce.
	 */
	fd = bpf_obj_get(STAGING_DIR "/policy");
	if (fd >= 0) {
		__u32 zero = 0;

		bpf_map_delete_elem(fd, &zero);
		close(fd);
	}
	unpin_dir(STAGING_DIR);
	return 0;
}

int enforce_apply(const struct vfg_region_verdict *v, size_t n, struct enforce_applied *out,
		  const char **step)
{
	const struct verdict_set verdicts = { v, n }, *c = &verdicts;

	struct stat st;
	int outer, gen, err;

	/*
	 * Pinned objects are root's alone without a umask: their directories are made 0700 and
	 * the kernel pins 0600. (A umask set here for the whole process made the files published
	 * after an apply 0600 too.)
	 */
	memset(out, 0, sizeof(*out));
	if (!bpffs_mounted()) {
		*step = "find the BPF file system at /sys/fs/bpf";
		return -ENOENT;
	}
	if (stat(VFG_PIN_DIR, &st))
		return load_and_pin(c, VFG_PIN_DIR, 0, &out->generation, step);
	if (!enforce_pinned_is_ours(&out->previous_build)) {
		out->took_over = !stat(PIN("link_lsm"), &st);
		err = take_over(c, &out->generation, step);
		if (err)
			out->took_over = false;
		return err;
	}
	outer = bpf_obj_get(PIN("policy"));
	gen = bpf_obj_get(PIN("generation"));
	if (outer < 0 || gen < 0) {
		err = -errno;
		*step = "open the pinned policy maps";
	} else {
		err = swap_in(outer, gen, c, &out->generation, step);
	}
	if (outer >= 0)
		close(outer);
	if (gen >= 0)
		close(gen);
	return err;
}

int enforce_clear(const char **step)
{
	struct stat st;
	__u32 zero = 0;
	int outer;

	/* A takeover cut short between pinning and the exchange left programs attached there. */
	unpin_dir(STAGING_DIR);
	if (stat(VFG_PIN_DIR, &st)) {
		*step = "find a policy in force";
		return -ENOENT;
	}
	/*
	 * Lift enforcement first, with one map update: the LSM program allows everything once
	 * the policy slot is empty. Unpinning alone is not enough: the kernel drops a pinned
	 * link's reference late (bpffs frees the inode after an RCU grace period, then the link
	 * is released from a work item), and measured on 6.12 an mmap right after the unpin was
	 * still refused.
	 */
	outer = bpf_obj_get(PIN("policy"));
	if (outer >= 0) {
		int err = bpf_map_delete_elem(outer, &zero);

		close(outer);
		if (err && errno != ENOENT) {
			*step = "empty the policy in force";
			return -errno;
		}
	}
	unpin_dir(VFG_PIN_DIR);
	if (!stat(VFG_PIN_DIR, &st)) {
		*step = "remove " VFG_PIN_DIR;
		return -EBUSY;
	}
	return 0;
}

int enforce_status_read(struct enforce_status *st)
{
	struct stat sb;
	int fd;

	memset(st, 0, sizeof(*st));
	if (stat(PIN("link_lsm"), &sb))
		return -ENOENT;
	st->active = true;
	fd = bpf_obj_get(PIN("generation"));
	if (fd >= 0) {
		st->generation = read_u64(fd, 0);
		close(fd);
	}
	fd = bpf_obj_get(PIN("counters"));
	if (fd >= 0) {
		st->dropped = read_u64(fd, VFG_COUNTER_DROPPED);
		st->allowed = read_u64(fd, VFG_COUNTER_ALLOWED);
		st->denied = read_u64(fd, VFG_COUNTER_DENIED);
		close(fd);
	}
	return 0;
}

int enforce_decisions_reader(bool reading)
{
	__u32 key = VFG_COUNTER_READER;
	__u64 me = getpid(), now = 0;
	int fd = bpf_obj_get(PIN("counters")), err = 0;

	if (fd < 0)
		return -errno;
	if (!reading) {
		/* Only our own mark: another reader may have come since. */
		if (bpf_map_lookup_elem(fd, &key, &now) || now != me) {
			close(fd);
			return 0;
		}
		me = 0;
	}
	if (bpf_map_update_elem(fd, &key, &me, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

void enforce_decisions_reader_check(void)
{
	__u32 key = VFG_COUNTER_READER;
	__u64 pid = 0, none = 0;
	int fd = bpf_obj_get(PIN("counters"));

	if (fd < 0)
		return;
	/* A reader that died without saying so (killed): nobody reads any more. */
	if (!bpf_map_lookup_elem(fd, &key, &pid) && pid && kill((pid_t)pid, 0) && errno == ESRCH)
		bpf_map_update_elem(fd, &key, &none, BPF_ANY);
	close(fd);
}

int enforce_rule_counts_foreach(void (*fn)(const struct vfg_rule_count_key *k, uint64_t n,
					   void *ctx),
				void *ctx)
{
	struct vfg_rule_count_key key, next;
	__u64 n;
	int fd = bpf_obj_get(PIN("rule_counts"));
	void *prev = NULL;

	if (fd < 0)
		return -errno;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &n))
			fn(&next, n, ctx);
		key = next;
		prev = &key;
	}
	close(fd);
	return 0;
}

int enforce_observed_foreach(void (*fn)(const struct observed_mode *m, void *ctx), void *ctx)
{
	struct vfg_region_key key, next;
	struct vfg_observed o;
	struct kernel_info ki;
	int fd = bpf_obj_get(PIN("observed"));
	void *prev = NULL;

	if (fd < 0)
		return -errno;
	if (kernel_info_read(&ki))
		memset(&ki, 0, sizeof(ki)); /* an unknown arch decodes nothing: "unknown(0x...)" */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &o)) {
			struct observed_mode m = {
				.key = &next,
				.assumed = o.assumed_cache,
				.mapped = cache_mode_decode(ki.arch, o.pgprot, ki.major, ki.minor).mode,
				.pgprot = o.pgprot,
				.tgid = o.tgid,
				.generation = o.generation,
			};

			/* An unknown mapped mode is a mismatch too: nothing says it is the assumed one. */
			m.mismatch = m.assumed != CACHE_UNKNOWN && m.mapped != m.assumed;
			fn(&m, ctx);
		}
		key = next;
		prev = &key;
	}
	close(fd);
	return 0;
}
