// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ELF facts for uprobe targets; see elf_file.h. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elf_file.h"

#ifndef R_AARCH64_IRELATIVE
#define R_AARCH64_IRELATIVE 1032
#endif

int elf_file_open(struct elf_file *f, const char *path)
{
	GElf_Ehdr eh;
	size_t n;

	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &eh) ||
	    elf_getphdrnum(f->elf, &n)) {
		elf_file_close(f);
		return -ENOEXEC;
	}
	f->machine = eh.e_machine;
	f->min_vaddr = UINT64_MAX;
	for (size_t i = 0; i < n && f->nloads < ELF_FILE_MAX_LOADS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(f->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		f->loads[f->nloads].vaddr = ph.p_vaddr;
		f->loads[f->nloads].offset = ph.p_offset;
		f->loads[f->nloads].filesz = ph.p_filesz;
		f->loads[f->nloads].exec = ph.p_flags & PF_X;
		f->nloads++;
		if (ph.p_vaddr < f->min_vaddr)
			f->min_vaddr = ph.p_vaddr & ~(uint64_t)(ph.p_align ? ph.p_align - 1 : 0);
	}
	if (!f->nloads) {
		elf_file_close(f);
		return -ENOEXEC;
	}
	return 0;
}

void elf_file_close(struct elf_file *f)
{
	if (f->elf)
		elf_end(f->elf);
	if (f->fd > 0)
		close(f->fd);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

static Elf_Scn *section_of_type(struct elf_file *f, Elf_Scn *from, unsigned int type,
				GElf_Shdr *sh)
{
	while ((from = elf_nextscn(f->elf, from)))
		if (gelf_getshdr(from, sh) && sh->sh_type == type)
			return from;
	return NULL;
}

int elf_file_symbol(struct elf_file *f, const char *name, uint64_t *value, uint64_t *size,
		    int *type)
{
	static const unsigned int tables[] = { SHT_DYNSYM, SHT_SYMTAB };

	GElf_Shdr vsh;
	Elf_Scn *vscn = section_of_type(f, NULL, SHT_GNU_versym, &vsh);
	Elf_Data *versyms = vscn ? elf_getdata(vscn, NULL) : NULL;

	for (size_t t = 0; t < 2; t++) {
		GElf_Shdr sh;
		Elf_Scn *scn = section_of_type(f, NULL, tables[t], &sh);
		Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;

		if (!d || !sh.sh_entsize)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Versym vs;
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value)
				continue;
			/*
			 * Only the default version of a versioned symbol is what a program links
			 * to now (glibc's memcpy@GLIBC_2.2.5 is an older, hidden one).
			 */
			if (tables[t] == SHT_DYNSYM && versyms && gelf_getversym(versyms, i, &vs) &&
			    (vs & 0x8000))
				continue;
			n = elf_strptr(f->elf, sh.sh_link, s.st_name);
			if (!n || strcmp(n, name))
				continue;
			*value = s.st_value;
			if (size)
				*size = s.st_size;
			if (type)
				*type = GELF_ST_TYPE(s.st_info);
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The file's RELA relocations of one type (x86_64's or aarch64's number for it), in turn, until
 * fn returns true: 0 then, -ENOENT when it never did, -ENOTSUP for another machine.
 */
static int rela_find(struct elf_file *f, unsigned int x86_64_type, unsigned int aarch64_type,
		     bool (*fn)(const GElf_Rela *r, void *ctx), void *ctx)
{
	unsigned int type = f->machine == EM_X86_64 ? x86_64_type
			    : f->machine == EM_AARCH64 ? aarch64_type : 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (!type)
		return -ENOTSUP;
	while ((scn = section_of_type(f, scn, SHT_RELA, &sh))) {
		Elf_Data *d = elf_getdata(scn, NULL);

		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;

			if (gelf_getrela(d, i, &r) && GELF_R_TYPE(r.r_info) == type && fn(&r, ctx))
				return 0;
		}
	}
	return -ENOENT;
}

struct irelative_find {
	uint64_t resolver, slot;
};

static bool irelative_of(const GElf_Rela *r, void *ctx)
{
	struct irelative_find *q = ctx;

	if ((uint64_t)r->r_addend != q->resolver)
		return false;
	q->slot = r->r_offset;
	return true;
}

int elf_file_irelative_slot(struct elf_file *f, uint64_t resolver, uint64_t *slot)
{
	struct irelative_find q = { .resolver = resolver };
	int err = rela_find(f, R_X86_64_IRELATIVE, R_AARCH64_IRELATIVE, irelative_of, &q);

	if (!err)
		*slot = q.slot;
	return err;
}

int elf_file_vaddr_to_offset(const struct elf_file *f, uint64_t vaddr, uint64_t *offset)
{
	for (size_t i = 0; i < f->nloads; i++) {
		if (f->loads[i].exec && vaddr >= f->loads[i].vaddr &&
		    vaddr < f->loads[i].vaddr + f->loads[i].filesz) {
			*offset = vaddr - f->loads[i].vaddr + f->loads[i].offset;
			return 0;
		}
	}
	return -ERANGE;
}

bool elf_file_vaddr_is_exec(const struct elf_file *f, uint64_t vaddr)
{
	uint64_t off;

	return !elf_file_vaddr_to_offset(f, vaddr, &off);
}

struct pointers_read {
	uint64_t vaddr, *values;
	size_t n;
};

/* Never "found": every RELATIVE relocation of the range is applied. */
static bool relative_into(const GElf_Rela *r, void *ctx)
{
	struct pointers_read *q = ctx;

	if (r->r_offset >= q->vaddr && r->r_offset < q->vaddr + q->n * 8 && !(r->r_offset & 7))
		q->values[(r->r_offset - q->vaddr) / 8] = r->r_addend;
	return false;
}

int elf_file_read_pointers(struct elf_file *f, uint64_t vaddr, uint64_t *values, size_t n)
{
	struct pointers_read q = { .vaddr = vaddr, .values = values, .n = n };
	bool found = false;
	int err;

	if (f->machine != EM_X86_64 && f->machine != EM_AARCH64)
		return -ENOTSUP;
	for (size_t i = 0; i < f->nloads; i++) {
		uint64_t off = vaddr - f->loads[i].vaddr;

		if (vaddr < f->loads[i].vaddr || off > f->loads[i].filesz ||
		    n * 8 > f->loads[i].filesz - off)
			continue;
		if (pread(f->fd, values, n * 8, f->loads[i].offset + off) != (ssize_t)(n * 8))
			return -EIO;
		found = true;
		break;
	}
	if (!found)
		return -ERANGE;
	/* Position-independent code: what the dynamic linker stores is the relocation's. */
	err = rela_find(f, R_X86_64_RELATIVE, R_AARCH64_RELATIVE, relative_into, &q);
	return err == -ENOENT ? 0 : err;
}

int elf_file_build_id(struct elf_file *f, char *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = section_of_type(f, scn, SHT_NOTE, &sh))) {
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t off = 0, noff, nameoff, doff;
		GElf_Nhdr nh;

		while (d && (noff = gelf_getnote(d, off, &nh, &nameoff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + nameoff, "GNU", 4)) {
				size_t w = 0;

				for (size_t i = 0; i < nh.n_descsz && w + 3 <= len; i++)
					w += snprintf(buf + w, len - w, "%02x",
						      ((unsigned char *)d->d_buf)[doff + i]);
				return 0;
			}
			off = noff;
		}
	}
	return -ENOENT;
}
