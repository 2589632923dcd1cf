// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --probe and --usdt specifications and their targets; see targets.h. No BPF. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/elf_file.h"
#include "targets.h"

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

int vmm_probe_target(const struct copy_probe_spec *p, uint32_t pid, bool have_libc_build,
		     struct copy_target *t, char *why, size_t len)
{
	struct elf_file ef;
	uint64_t value;
	int err;

	memset(t, 0, sizeof(*t));
	t->pid = pid ? (int32_t)pid : -1;
	t->t = p->t;
	t->t.value_arg = VFG_ARG_NONE;
	if (p->usdt) {
		/* libbpf finds the probe sites and argument locations in .note.stapsdt. */
		snprintf(t->path, sizeof(t->path), "%s", p->binary);
		snprintf(t->usdt_provider, sizeof(t->usdt_provider), "%s", p->provider);
		snprintf(t->usdt_name, sizeof(t->usdt_name), "%.63s", p->symbol);
		snprintf(t->name, sizeof(t->name), "usdt %.40s:%.24s:%.24s", p->binary, p->provider,
			 p->symbol);
		if (t->t.routine == VFG_ROUTINE_NONE)
			snprintf(t->unmeasured, sizeof(t->unmeasured), "like=none (or no src=): "
				 "hazards are not modelled");
		return 0;
	}
	err = elf_file_open(&ef, p->binary);
	if (err) {
		snprintf(why, len, "--probe %s: %s", p->binary, strerror(-err));
		return err;
	}
	err = elf_file_symbol(&ef, p->symbol, &value, NULL, NULL);
	if (!err)
		err = elf_file_vaddr_to_offset(&ef, value, &t->offset);
	elf_file_close(&ef);
	if (err) {
		snprintf(why, len, "--probe: %s has no function %s", p->binary, p->symbol);
		return err;
	}
	snprintf(t->path, sizeof(t->path), "%s", p->binary);
	snprintf(t->name, sizeof(t->name), "probe %.40s:%.48s", p->binary, p->symbol);
	/* Its copies are taken to behave as this process's libc routine of that name. */
	if (t->t.routine <= VFG_ROUTINE_MEMSET && !have_libc_build)
		snprintf(t->unmeasured, sizeof(t->unmeasured), "no libc build-id to calibrate");
	if (t->t.routine == VFG_ROUTINE_NONE)
		snprintf(t->unmeasured, sizeof(t->unmeasured), "like=none (or no src=): hazards "
			 "are not modelled");
	return 0;
}
