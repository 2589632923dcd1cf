// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Libraries loaded when first needed; see dynlib.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "dynlib.h"

int dynlib_load(const char *soname, const struct dynlib_fn *fns, size_t n, char *why,
		size_t len)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		snprintf(why, len, "%s", dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		*fns[i].slot = dlsym(lib, fns[i].name);
		if (!*fns[i].slot) {
			snprintf(why, len, "%s has no %s", soname, fns[i].name);
			dlclose(lib);
			return -ENOENT;
		}
	}
	return 0;
}
