// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Symbolizing user stacks with libdw; see symbolize.h. libdw (with the compression libraries it
 * needs) is loaded the first time a stack is symbolized: only the copy probes have stacks, and
 * loading it at start cost every command, audit's one-shot runs above all.
 */
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize.h"
#include "dynlib.h"

#define DW_FUNCTIONS(F)                                                                            \
	F(dwfl_begin, begin) F(dwfl_end, end) F(dwfl_linux_proc_report, proc_report)               \
	F(dwfl_report_end, report_end) F(dwfl_addrmodule, addrmodule)                              \
	F(dwfl_module_info, module_info) F(dwfl_module_addrinfo, module_addrinfo)                  \
	F(dwfl_getmodules, getmodules) F(dwfl_module_getelf, module_getelf)
static struct {
	int loaded; /* 0 not tried, 1 loaded, -1 failed */
	DW_FUNCTIONS(DYNLIB_SLOT)
	Dwfl_Callbacks callbacks;
} dw;
#define DW_FN(sym, field) DYNLIB_FN(sym, dw.field),

static bool dw_load(void)
{
	const struct dynlib_fn fns[] = {
		DW_FUNCTIONS(DW_FN) DYNLIB_FN(dwfl_linux_proc_find_elf, dw.callbacks.find_elf),
		DYNLIB_FN(dwfl_standard_find_debuginfo, dw.callbacks.find_debuginfo),
	};
	char why[256];

	if (dw.loaded)
		return dw.loaded > 0;
	dw.loaded = -1;
	if (dynlib_load("libdw.so.1", fns, sizeof(fns) / sizeof(fns[0]), why, sizeof(why))) {
		fprintf(stderr, "vfioguard: stacks are not symbolized: %s\n", why);
		return false;
	}
	dw.loaded = 1;
	return true;
}

/* Opens a module's file now: found through the process, which may be gone when a stack of it
 * is named (a copy reported once its case is measured). */
static int open_module(Dwfl_Module *m, void **userdata, const char *name, Dwarf_Addr start,
		       void *arg)
{
	GElf_Addr bias;

	dw.module_getelf(m, &bias);
	return DWARF_CB_OK;
}

/* A process's files and names, gone. */
static void proc_end(struct symbolizer *s, unsigned int i)
{
	if (s->procs[i].dwfl)
		dw.end(s->procs[i].dwfl);
	free(s->procs[i].names);
	s->procs[i].dwfl = NULL;
	s->procs[i].names = NULL;
	s->procs[i].pid = 0;
}

/* The slot of pid, its files read when it had none (the oldest process making room). */
static unsigned int slot_of(struct symbolizer *s, uint32_t pid)
{
	Dwfl *d;
	unsigned int slot;

	for (unsigned int i = 0; i < s->n; i++)
		if (s->procs[i].pid == pid)
			return i;
	d = dw_load() ? dw.begin(&dw.callbacks) : NULL;
	if (d && (dw.proc_report(d, pid) || dw.report_end(d, NULL, NULL))) {
		dw.end(d);
		d = NULL;
	}
	if (d)
		dw.getmodules(d, open_module, NULL, 0);
	/* Full: the oldest process makes room. */
	if (s->n < SYMBOLIZER_PROCS) {
		slot = s->n++;
	} else {
		slot = s->next;
		s->next = (s->next + 1) % SYMBOLIZER_PROCS;
		proc_end(s, slot);
	}
	s->procs[slot].pid = pid;
	s->procs[slot].dwfl = d;
	return slot;
}

void symbolizer_forget(struct symbolizer *s, uint32_t pid)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->procs[i].pid == pid)
			proc_end(s, i);
}

void symbolizer_add(struct symbolizer *s, uint32_t pid)
{
	slot_of(s, pid);
}

/* libdw's name of addr in d, into buf. */
static const char *lookup(Dwfl *d, uint64_t addr, char *buf, size_t len)
{
	Dwfl_Module *m = d ? dw.addrmodule(d, addr) : NULL;
	const char *mod, *sym, *slash;
	Dwarf_Addr start;
	GElf_Off off;
	GElf_Sym es;

	if (!m)
		return NULL;
	mod = dw.module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	slash = mod ? strrchr(mod, '/') : NULL;
	mod = slash ? slash + 1 : mod ? mod : "?";
	sym = dw.module_addrinfo(m, addr, &off, &es, NULL, NULL, NULL);
	/* A symbol that does not cover the address names something else (a static function). */
	if (sym && (!es.st_size || off < es.st_size))
		snprintf(buf, len, "%s+%#" PRIx64 " (%s)", sym, (uint64_t)off, mod);
	else
		snprintf(buf, len, "%s+%#" PRIx64, mod, (uint64_t)(addr - start));
	return buf;
}

const char *symbolize(struct symbolizer *s, uint32_t pid, uint64_t addr, char *buf, size_t len)
{
	unsigned int i = slot_of(s, pid);
	struct symbolizer_name *n;

	if (!s->procs[i].dwfl)
		return NULL;
	if (!s->procs[i].names) /* without room for names, every one is looked up */
		s->procs[i].names = calloc(SYMBOLIZER_NAMES, sizeof(*s->procs[i].names));
	/* A name is kept cut to SYMBOLIZER_NAME: a longer buffer gets libdw's whole name. */
	if (!s->procs[i].names || !addr || len > sizeof(s->procs[i].names->name))
		return lookup(s->procs[i].dwfl, addr, buf, len);
	/* Fibonacci hashing: code addresses share their low bits (alignment). */
	n = &s->procs[i].names[((addr * 0x9e3779b97f4a7c15ull) >> 32) % SYMBOLIZER_NAMES];
	if (n->addr != addr) {
		/* An address no file of the process maps has no name to keep. */
		if (!lookup(s->procs[i].dwfl, addr, n->name, sizeof(n->name)))
			return NULL;
		n->addr = addr;
	}
	snprintf(buf, len, "%s", n->name);
	return buf;
}

void symbolizer_free(struct symbolizer *s)
{
	for (unsigned int i = 0; i < s->n; i++)
		proc_end(s, i);
	memset(s, 0, sizeof(*s));
}
