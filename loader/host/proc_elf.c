// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ELF files as a live process has them mapped; see elf_file.h. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elf_file.h"
#include "kernel.h"

struct mapped {
	uint32_t pid;
	bool (*match)(const char *base);
	char *path;
	size_t len;
	uint64_t *base;
};

static int mapped_line(const struct maps_line *l, void *ctx)
{
	struct mapped *m = ctx;

	if (l->path[0] != '/' || l->offset || !m->match(strrchr(l->path, '/') + 1))
		return 0;
	/* Through the process's root, so a VMM in a container is read as it sees it. */
	snprintf(m->path, m->len, "/proc/%u/root%s", m->pid, l->path);
	*m->base = l->start;
	return 1;
}

/* A file the process has mapped whose name satisfies match: its path and load base. */
static int find_mapped(uint32_t pid, bool (*match)(const char *base), char *path, size_t len,
		       uint64_t *base)
{
	struct mapped m = { pid, match, path, len, base };
	int err;

	*base = 0;
	path[0] = '\0';
	err = proc_maps_foreach(pid, mapped_line, &m);
	if (err)
		return err;
	return path[0] ? 0 : -ENOENT;
}

static bool is_libc(const char *name)
{
	return !strncmp(name, "libc.so", 7) || (!strncmp(name, "libc-", 5) && strstr(name, ".so"));
}

static int read_process(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	char mem[64];
	int fd;
	ssize_t n;

	snprintf(mem, sizeof(mem), "/proc/%u/mem", pid);
	fd = open(mem, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, addr);
	close(fd);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/*
 * Where a libc function the process calls really is (vaddr from the load base): an IFUNC's
 * choice is read from the slot its IRELATIVE relocation filled in that process.
 */
int proc_resolve_function(struct elf_file *ef, uint32_t pid, uint64_t base, const char *name,
			uint64_t *vaddr, char *why, size_t len)
{
	uint64_t value, slot, resolved;
	int type, err;

	err = elf_file_symbol(ef, name, &value, NULL, &type);
	if (err) {
		snprintf(why, len, "libc has no %s", name);
		return err;
	}
	if (type != STT_GNU_IFUNC) {
		*vaddr = value;
		return 0;
	}
	err = elf_file_irelative_slot(ef, value, &slot);
	if (err) {
		snprintf(why, len, "no IRELATIVE relocation holds %s's choice in libc", name);
		return err;
	}
	err = read_process(pid, base - ef->min_vaddr + slot, &resolved, sizeof(resolved));
	if (err) {
		snprintf(why, len, "cannot read pid %u's %s slot: %s", pid, name, strerror(-err));
		return err;
	}
	*vaddr = resolved - (base - ef->min_vaddr);
	return 0;
}

int proc_find_libc(uint32_t pid, char *path, size_t len, uint64_t *base)
{
	return find_mapped(pid, is_libc, path, len, base);
}
