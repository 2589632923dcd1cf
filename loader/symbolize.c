// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Symbolizing user stacks with libdw; see symbolize.h. */
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "symbolize.h"

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

static Dwfl *dwfl_of(struct symbolizer *s, uint32_t pid)
{
	Dwfl *d;
	unsigned int slot;

	for (unsigned int i = 0; i < s->n; i++)
		if (s->procs[i].pid == pid)
			return s->procs[i].dwfl;
	d = dwfl_begin(&callbacks);
	if (d && (dwfl_linux_proc_report(d, pid) || dwfl_report_end(d, NULL, NULL))) {
		dwfl_end(d);
		d = NULL;
	}
	/* Full: the oldest process makes room. */
	if (s->n < SYMBOLIZER_PROCS) {
		slot = s->n++;
	} else {
		slot = s->next;
		s->next = (s->next + 1) % SYMBOLIZER_PROCS;
		if (s->procs[slot].dwfl)
			dwfl_end(s->procs[slot].dwfl);
	}
	s->procs[slot].pid = pid;
	s->procs[slot].dwfl = d;
	return d;
}

void symbolizer_add(struct symbolizer *s, uint32_t pid)
{
	dwfl_of(s, pid);
}

const char *symbolize(struct symbolizer *s, uint32_t pid, uint64_t addr, char *buf, size_t len)
{
	Dwfl *d = dwfl_of(s, pid);
	Dwfl_Module *m = d ? dwfl_addrmodule(d, addr) : NULL;
	const char *mod, *sym, *slash;
	Dwarf_Addr start;
	GElf_Off off;
	GElf_Sym es;

	if (!m)
		return NULL;
	mod = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	slash = mod ? strrchr(mod, '/') : NULL;
	mod = slash ? slash + 1 : mod ? mod : "?";
	sym = dwfl_module_addrinfo(m, addr, &off, &es, NULL, NULL, NULL);
	/* A symbol that does not cover the address names something else (a static function). */
	if (sym && (!es.st_size || off < es.st_size))
		snprintf(buf, len, "%s+%#" PRIx64 " (%s)", sym, (uint64_t)off, mod);
	else
		snprintf(buf, len, "%s+%#" PRIx64, mod, (uint64_t)(addr - start));
	return buf;
}

void symbolizer_free(struct symbolizer *s)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->procs[i].dwfl)
			dwfl_end(s->procs[i].dwfl);
	memset(s, 0, sizeof(*s));
}
