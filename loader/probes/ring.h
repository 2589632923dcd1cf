/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading a libbpf ring buffer set the way every probe set here does. */
#ifndef VFIOGUARD_RING_H
#define VFIOGUARD_RING_H

struct ring_buffer;

/*
 * Waits up to timeout_ms for records and reads them, then reads those submitted without a
 * wakeup (BPF_RB_NO_WAKEUP), once per call. The records read (a signal that ended the wait
 * early is no error), or a negative errno.
 */
int ring_poll(struct ring_buffer *rb, int timeout_ms);

#endif /* VFIOGUARD_RING_H */
