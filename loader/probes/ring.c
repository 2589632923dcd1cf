// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* See ring.h. */
#include <errno.h>
#include <bpf/libbpf.h>

#include "ring.h"

int ring_poll(struct ring_buffer *rb, int timeout_ms)
{
	int n = ring_buffer__poll(rb, timeout_ms);

	if (n >= 0 || n == -EINTR) {
		int more = ring_buffer__consume(rb);

		return more < 0 ? more : (n > 0 ? n : 0) + more;
	}
	return n;
}
