/* SPDX-License-Identifier: GPL-2.0 */
/* How vfioguard's BPF programs declare their maps. Include after the libbpf headers. */
#ifndef VFIOGUARD_MAPS_BPF_H
#define VFIOGUARD_MAPS_BPF_H

/* A map of BPF_MAP_TYPE_<kind> from key_type to value_type, with room for entries. */
#define VFG_MAP(name, kind, key_type, value_type, entries)                                         \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_##kind);                                                 \
		__uint(max_entries, entries);                                                      \
		__type(key, key_type);                                                             \
		__type(value, value_type);                                                         \
	} name SEC(".maps")

/* A ring buffer of bytes (a power of two, a multiple of the page size). */
#define VFG_RINGBUF(name, bytes)                                                                   \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                                                \
		__uint(max_entries, bytes);                                                        \
	} name SEC(".maps")

#endif
