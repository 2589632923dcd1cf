/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Libraries loaded when first needed rather than linked (capstone, libdw, libmicrohttpd,
 * libudev): every vfioguard command would otherwise pay for loading them and what they pull in
 * at each start, and a host without one loses only what needs it.
 */
#ifndef VFIOGUARD_DYNLIB_H
#define VFIOGUARD_DYNLIB_H

#include <stddef.h>

struct dynlib_fn {
	const char *name;
	void **slot; /* receives the function's address */
};
/* The entry for function sym, whose address goes to the pointer ptr. */
#define DYNLIB_FN(sym, ptr) { #sym, (void **)&(ptr) }
/*
 * A library's functions are listed once, as an X-macro of F(sym, field) entries: DYNLIB_SLOT
 * declares the struct's pointers from it, each with its function's own type, and the same list
 * with an F that expands to DYNLIB_FN(sym, var.field) gives dynlib_load's table.
 */
#define DYNLIB_SLOT(sym, field) __typeof__(sym) *field;

/*
 * Loads soname and resolves every function into its slot. Returns 0, or -ENOENT with why
 * saying what is missing (the library, or a function of it); then nothing stays loaded.
 */
int dynlib_load(const char *soname, const struct dynlib_fn *fns, size_t n, char *why,
		size_t len);

#endif /* VFIOGUARD_DYNLIB_H */
