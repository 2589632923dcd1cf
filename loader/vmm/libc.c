// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A process's libc routines as targets; see targets.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../host/elf_file.h"
#include "targets.h"

int vmm_libc_targets(uint32_t pid, const char *build_id,
		     const uint64_t routine_vaddr[CALIB_ROUTINES], struct copy_target t[3],
		     char *why, size_t len)
{
	static const char *const names[] = { "memcpy", "memmove", "memset" };
	static const int routine[] = { VFG_ROUTINE_MEMCPY, VFG_ROUTINE_MEMMOVE,
				       VFG_ROUTINE_MEMSET };
	char path[PATH_MAX], id[96] = "";
	uint64_t base = 0, vaddr[3];
	struct elf_file ef;
	int err, n = 0;

	err = proc_find_libc(pid, path, sizeof(path), &base);
	if (err) {
		snprintf(why, len, "pid %u maps no libc", pid);
		return err == -ENOENT ? 0 : err;
	}
	err = elf_file_open(&ef, path);
	if (err) {
		snprintf(why, len, "cannot read %s: %s", path, strerror(-err));
		return err;
	}
	elf_file_build_id(&ef, id, sizeof(id));
	for (int i = 0; i < 3; i++) {
		err = proc_resolve_function(&ef, pid, base, names[i], &vaddr[i], why, len);
		/*
		 * aarch64's libc calls its string routines directly, so no IRELATIVE slot of its
		 * own holds the IFUNC's choice (the callers' GOT slots do). The same libc build on
		 * the same CPU chooses what vfioguard's own resolution chose.
		 */
		if (err && !strcmp(id, build_id) && routine_vaddr[routine[i]]) {
			vaddr[i] = routine_vaddr[routine[i]];
			err = 0;
		}
		if (err)
			goto out;
	}
	for (int i = 0; i < 3; i++) {
		struct copy_target *tt = &t[n];
		/* x86_64's memcpy is memmove: one probe serves both. */
		bool same = i == 0 && vaddr[0] == vaddr[1];

		if (i == 1 && vaddr[0] == vaddr[1])
			continue;
		memset(tt, 0, sizeof(*tt));
		tt->pid = pid;
		snprintf(tt->path, sizeof(tt->path), "%s", path);
		err = elf_file_vaddr_to_offset(&ef, vaddr[i], &tt->offset);
		if (err) {
			snprintf(why, len, "%s at %#" PRIx64 " is outside libc's code", names[i],
				 vaddr[i]);
			goto out;
		}
		snprintf(tt->name, sizeof(tt->name), "libc %s%s (+%#" PRIx64 ")", names[i],
			 same ? "/memmove" : "", vaddr[i]);
		tt->t.kind = i == 2 ? VFG_COPY_KIND_SET : VFG_COPY_KIND_COPY;
		tt->t.routine = same ? VFG_ROUTINE_MEMMOVE : routine[i];
		tt->t.dst_arg = 0;
		tt->t.src_arg = i == 2 ? VFG_ARG_NONE : 1;
		tt->t.len_arg = 2;
		/* The table is measured on vfioguard's own libc: only the same routine can use it. */
		if (strcmp(id, build_id))
			snprintf(tt->unmeasured, sizeof(tt->unmeasured),
				 "pid %u's libc (build-id %s) is not vfioguard's (%s)", pid,
				 id[0] ? id : "none", build_id);
		else if (vaddr[i] != routine_vaddr[tt->t.routine])
			snprintf(tt->unmeasured, sizeof(tt->unmeasured),
				 "pid %u's libc picks %s at +%#" PRIx64 ", vfioguard's at +%#" PRIx64
				 " (different CPU features or tunables)", pid, names[i], vaddr[i],
				 routine_vaddr[tt->t.routine]);
		if (tt->unmeasured[0])
			tt->t.routine = VFG_ROUTINE_NONE;
		n++;
	}
	err = n;
out:
	elf_file_close(&ef);
	return err;
}
