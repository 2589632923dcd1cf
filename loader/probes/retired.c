// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The retired targets of exited processes, folded; see copies.h. Pure: no BPF. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "copies.h"

/* A path without the /proc/PID/root a process's own files are reached through. */
static const char *probe_path(const char *p)
{
	const char *q;

	if (strncmp(p, "/proc/", 6))
		return p;
	q = p + 6;
	while (*q >= '0' && *q <= '9')
		q++;
	return q > p + 6 && !strncmp(q, "/root/", 6) ? q + 5 : p;
}

/* The same probe of another process: same file (as the processes see it), place and kind. */
static bool same_probe(const struct copy_target *a, const struct copy_target *b)
{
	return a->offset == b->offset && !strcmp(a->name, b->name) &&
	       !strcmp(probe_path(a->path), probe_path(b->path)) &&
	       !strcmp(a->usdt_provider, b->usdt_provider) && !strcmp(a->usdt_name, b->usdt_name) &&
	       !strcmp(a->function, b->function);
}

void copies_retired_fold(struct copy_target *r, size_t *n, size_t kept)
{
	size_t f = 0;

	while (f < *n && !r[f].serial)
		f++;
	while (*n - f > kept) {
		struct copy_target *old = &r[f];
		size_t j;

		for (j = 0; j < f && !same_probe(&r[j], old); j++)
			;
		if (j == f) { /* the first of this probe: it becomes the sum */
			const char *path = probe_path(old->path);

			old->pid = 0;
			old->start_time = 0;
			old->serial = 0;
			/* The path within itself: moved, not printed over itself. */
			memmove(old->path, path, strlen(path) + 1);
			f++;
			continue;
		}
		r[j].final.hits += old->final.hits;
		r[j].final.device += old->final.device;
		r[j].final.busy += old->final.busy;
		r[j].final.dropped += old->final.dropped;
		r[j].final.spanned += old->final.spanned;
		memmove(old, old + 1, (--*n - f) * sizeof(*old));
	}
}
