/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What uprobe targets need from an ELF file, through libelf: symbols (.dynsym, then .symtab),
 * the IRELATIVE relocation that holds an IFUNC's resolved address, virtual address to file
 * offset, and the GNU build-id.
 */
#ifndef VFIOGUARD_ELF_FILE_H
#define VFIOGUARD_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_FILE_MAX_LOADS 16

struct elf_file {
	int fd;
	void *elf; /* Elf * */
	unsigned int machine;
	struct {
		uint64_t vaddr, offset, filesz;
		bool exec;
	} loads[ELF_FILE_MAX_LOADS];
	size_t nloads;
	uint64_t min_vaddr; /* of the first PT_LOAD, page aligned: the load base's vaddr */
};

int elf_file_open(struct elf_file *f, const char *path);
void elf_file_close(struct elf_file *f);

/* A defined symbol: its value and STT_* type. -ENOENT when neither table has it. */
int elf_file_symbol(struct elf_file *f, const char *name, uint64_t *value, uint64_t *size,
		    int *type);
/*
 * Where the dynamic linker stores an IFUNC's resolved address: the r_offset of the IRELATIVE
 * relocation whose addend is the resolver (the IFUNC symbol's value).
 */
int elf_file_irelative_slot(struct elf_file *f, uint64_t resolver, uint64_t *slot);
/* File offset of an address in an executable PT_LOAD. -ERANGE when none holds it. */
int elf_file_vaddr_to_offset(const struct elf_file *f, uint64_t vaddr, uint64_t *offset);
/* The address lies in an executable PT_LOAD (code). */
bool elf_file_vaddr_is_exec(const struct elf_file *f, uint64_t vaddr);
/*
 * n 8-byte pointers stored at vaddr (any PT_LOAD), as a 64-bit process sees them before its
 * load base is added: the file's bytes, or the addend of a RELATIVE relocation of the slot.
 */
int elf_file_read_pointers(struct elf_file *f, uint64_t vaddr, uint64_t *values, size_t n);
/* Hex build-id into buf. -ENOENT when the file has none. */
int elf_file_build_id(struct elf_file *f, char *buf, size_t len);

/* In a live process (root, or the process's owner with ptrace access). */

/* The process's libc: "/proc/PID/root/..." (as the process sees it) and its load base. */
int proc_find_libc(uint32_t pid, char *path, size_t len, uint64_t *base);
/*
 * Where a function of ef, loaded at base in pid, really is (vaddr from the load base): for an
 * IFUNC, the choice read from the slot its IRELATIVE relocation filled in that process.
 */
int proc_resolve_function(struct elf_file *ef, uint32_t pid, uint64_t base, const char *name,
			  uint64_t *vaddr, char *why, size_t len);

#endif /* VFIOGUARD_ELF_FILE_H */
