/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * User-space addresses of a live process to "function+0x12 (file)", through elfutils' libdw
 * (the process's maps, each file's .symtab or .dynsym, debug files where installed).
 */
#ifndef VFIOGUARD_SYMBOLIZE_H
#define VFIOGUARD_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#define SYMBOLIZER_PROCS 64
/*
 * Names kept per process, by address: a stack's call sites repeat, and libdw finds a symbol by
 * a walk over all of a file's symbols (0.7 ms in QEMU's binary on an x86_64 host, tens of
 * milliseconds under emulation, for every frame of every event).
 */
#define SYMBOLIZER_NAMES 128
#define SYMBOLIZER_NAME 256

struct symbolizer_name {
	uint64_t addr; /* 0: empty */
	char name[SYMBOLIZER_NAME];
};

struct symbolizer {
	struct {
		uint32_t pid;
		void *dwfl; /* Dwfl *, NULL when the process could not be read */
		struct symbolizer_name *names; /* SYMBOLIZER_NAMES, allocated at the first name */
	} procs[SYMBOLIZER_PROCS];
	unsigned int n, next;
};

/*
 * Names addr in pid: "memory_region_dispatch_write+0x0 (qemu-system-x86_64)", or
 * "libc.so.6+0x16d800" when no symbol covers it. NULL when no file of the process maps addr
 * (not code, or the process is gone). A name found is kept (SYMBOLIZER_NAMES a process, the
 * latest of each slot) until the process is forgotten.
 */
const char *symbolize(struct symbolizer *s, uint32_t pid, uint64_t addr, char *buf, size_t len);
/* Reads pid's maps now (before it can exit), so later lookups work for its lifetime's files. */
void symbolizer_add(struct symbolizer *s, uint32_t pid);
/* The process with this PID is another one now (the PID was reused): its files are read again. */
void symbolizer_forget(struct symbolizer *s, uint32_t pid);
void symbolizer_free(struct symbolizer *s);

#endif /* VFIOGUARD_SYMBOLIZE_H */
