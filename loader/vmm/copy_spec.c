// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --probe and --usdt specifications, retired targets; see copies.h. Pure: no BPF. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../probes/copies.h"

int copy_probe_parse(const char *spec, bool usdt, struct copy_probe_spec *p, char *why,
		     size_t len)
{
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *c3 = c2;
	const char *form = usdt ? "BINARY:PROVIDER:NAME:dst=argN,src=argN,len=argN"
				: "BINARY:SYMBOL:dst=argN,src=argN,len=argN";
	int max_arg = usdt ? 11 : 4;
	char args[256], *save = NULL;

	memset(p, 0, sizeof(*p));
	p->usdt = usdt;
	if (usdt && c2) {
		/* BINARY:PROVIDER:NAME:ARGS: PROVIDER is between c1 and c2, NAME up to c3. */
		c3 = strchr(c2 + 1, ':');
		if (c3 && c2 - c1 - 1 > 0 && (size_t)(c2 - c1 - 1) < sizeof(p->provider)) {
			memcpy(p->provider, c1 + 1, c2 - c1 - 1);
			c1 = c2;
			c2 = c3;
		} else {
			c2 = NULL;
		}
	}
	if (!c1 || !c2 || c1 == spec || c2 == c1 + 1 || !c2[1]) {
		snprintf(why, len, "'%s' is not %s", spec, form);
		return -EINVAL;
	}
	if ((size_t)(strchr(spec, ':') - spec) >= sizeof(p->binary) ||
	    (size_t)(c2 - c1 - 1) >= sizeof(p->symbol) || strlen(c2 + 1) >= sizeof(args)) {
		snprintf(why, len, "'%s' is too long", spec);
		return -EINVAL;
	}
	memcpy(p->binary, spec, strchr(spec, ':') - spec);
	memcpy(p->symbol, c1 + 1, c2 - c1 - 1);
	strcpy(args, c2 + 1);
	p->t.kind = VFG_COPY_KIND_COPY;
	p->t.routine = 0xfd; /* not given yet */
	p->t.dst_arg = p->t.src_arg = p->t.len_arg = VFG_ARG_NONE;
	for (char *a = strtok_r(args, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(a, '=');
		__u8 *slot = NULL;

		if (!eq) {
			snprintf(why, len, "'%s': expected KEY=VALUE", a);
			return -EINVAL;
		}
		*eq++ = '\0';
		if (!strcmp(a, "dst"))
			slot = &p->t.dst_arg;
		else if (!strcmp(a, "src"))
			slot = &p->t.src_arg;
		else if (!strcmp(a, "len"))
			slot = &p->t.len_arg;
		else if (!strcmp(a, "like")) {
			static const char *const likes[] = { "memcpy", "memmove", "memset", "single",
							     "none" };
			static const __u8 routines[] = { VFG_ROUTINE_MEMCPY, VFG_ROUTINE_MEMMOVE,
							 VFG_ROUTINE_MEMSET, VFG_ROUTINE_SINGLE,
							 VFG_ROUTINE_NONE };
			size_t k;

			for (k = 0; k < 5 && strcmp(eq, likes[k]); k++)
				;
			if (k == 5) {
				snprintf(why, len, "like=%s: expected memcpy, memmove, memset, single "
					 "or none", eq);
				return -EINVAL;
			}
			p->t.routine = routines[k];
			continue;
		} else {
			snprintf(why, len, "unknown key '%s' (dst, src, len, like)", a);
			return -EINVAL;
		}
		{
			char *end;
			long n = strncmp(eq, "arg", 3) ? -1 : strtol(eq + 3, &end, 10);

			if (n < 0 || n > max_arg || end == eq + 3 || *end) {
				snprintf(why, len, "%s=%s: expected arg0..arg%d", a, eq, max_arg);
				return -EINVAL;
			}
			*slot = n;
		}
	}
	if (p->t.dst_arg == VFG_ARG_NONE || p->t.len_arg == VFG_ARG_NONE) {
		snprintf(why, len, "'%s': dst= and len= are needed", spec);
		return -EINVAL;
	}
	if (p->t.routine == 0xfd)
		p->t.routine = p->t.src_arg == VFG_ARG_NONE ? VFG_ROUTINE_NONE : VFG_ROUTINE_MEMCPY;
	if (p->t.routine == VFG_ROUTINE_MEMSET) {
		p->t.kind = VFG_COPY_KIND_SET;
		p->t.src_arg = VFG_ARG_NONE;
	}
	return 0;
}

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
			old->pid = 0;
			old->start_time = 0;
			old->serial = 0;
			snprintf(old->path, sizeof(old->path), "%s", probe_path(old->path));
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
