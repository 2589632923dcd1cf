/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Monitor events as the kernel sends them, decoded, for the unit tests of what consumes them. */
#ifndef VFIOGUARD_UNIT_EVENTS_H
#define VFIOGUARD_UNIT_EVENTS_H

#include <stdint.h>

#include "../../loader/probes/monitor.h"

static const struct kernel_info k612 = {
	.arch = ARCH_X86_64, .major = 6, .minor = 12, .page_size = 4096,
};

/*
 * An event of QEMU (pid tgid, address space mm) about the 64 KiB VMA at start, which maps
 * ivshmem's BAR2 from 0x3000 (6.12's vm_pgoff form), uncached; ret: the hook's return.
 */
static inline struct monitor_event qemu_event(uint32_t type, uint32_t tgid, uint64_t mm,
					      uint64_t start, int64_t ret)
{
	struct vfg_event raw = {
		.type = type,
		.task = { .tgid = tgid, .comm = "qemu" },
		.vma = { .mm = mm, .start = start, .end = start + 0x10000,
			 .pgoff = ((2ULL << 40) + 0x3000) >> 12, .pgprot = 0x8000000000000037ULL },
		.ret = ret,
		.device = "0000:00:04.0",
	};
	struct monitor_event ev;

	monitor_event_decode(&ev, &raw, &k612);
	return ev;
}

#endif /* VFIOGUARD_UNIT_EVENTS_H */
