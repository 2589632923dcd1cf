/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The policy file: which VFIO regions may be accessed directly, only with single aligned
 * fixed-width accesses, or not mapped at all. Parsing (YAML through libyaml) with
 * file:line:column diagnostics, validation and matching. Pure C: no BPF, no I/O but the file.
 *
 *   mode: enforce            # audit | enforce; rules may override it
 *   default: fixed           # required: the access class when no rule matches
 *   rules:                   # ordered, first match wins
 *     - name: gpu-memory     # required, unique
 *       match:               # every matcher given must match; none given matches everything
 *         device: "0000:01:00.*"   # kernel device name, glob
 *         vendor: 0x10de           # PCI IDs: vendor, device_id, subsystem_vendor,
 *         device_id: 0x2342        #   subsystem_device (0..0xffff)
 *         driver: nvgrace_gpu*     # bound driver, glob ('-' and '_' alike)
 *         region: [bar0, 9]        # index 0..63 or bar0..bar5, rom, config, vga; one or a list
 *         cache: [Normal, Normal-NC]   # cache mode name(s)
 *         arch: aarch64            # x86_64 | aarch64; one or a list
 *         comm: "qemu-system-*"    # process: comm, executable path, cgroup path (globs)
 *         exe: /usr/bin/qemu-system-x86_64
 *         cgroup: "/machine.slice/machine-*.scope"
 *       access: direct           # direct | fixed | trap
 *       semantics: memory        # optional: registers | memory (else the driver's default)
 *       hazards: [dup, reorder]  # optional: the hazards that are violations here
 *       mode: audit              # optional
 */
#ifndef VFIOGUARD_POLICY_H
#define VFIOGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/vfioguard.h"
#include "../loader/decode/cache_mode.h"

/* The kernel's maps hold the same values (struct vfg_cond.access). */
enum access_class {
	ACCESS_DIRECT = VFG_ACCESS_DIRECT,
	ACCESS_FIXED = VFG_ACCESS_FIXED,
	ACCESS_TRAP = VFG_ACCESS_TRAP,
};

enum policy_mode {
	POLICY_AUDIT,
	POLICY_ENFORCE,
};

/*
 * What a region holds (DESIGN.md, "hazard"): device registers, which a split, duplicated or
 * reordered store breaks whatever the cache mode, or memory (device RAM), which only the cache
 * mode's ISA rules constrain. A region nobody has said otherwise of is registers.
 */
enum region_semantics {
	SEMANTICS_REGISTERS,
	SEMANTICS_MEMORY,
};

#define POLICY_MAX_REGION 63 /* region indexes a policy can name: bits of a uint64_t */

struct policy_pos {
	unsigned int line, col; /* 1-based */
};

/* A matcher that was not given matches everything. */
struct rule_match {
	char *device, *driver, *comm, *exe, *cgroup; /* globs (fnmatch) */
	int vendor, device_id, subsystem_vendor, subsystem_device; /* -1: not given */
	uint64_t regions;     /* bit per region index; 0: not given */
	uint32_t caches;      /* bit per enum cache_mode; 0: not given */
	uint32_t arches;      /* bit per enum host_arch; 0: not given */
};

struct rule {
	char *name;
	struct policy_pos pos;
	struct rule_match match;
	enum access_class access;
	bool has_hazards;
	uint32_t hazards;
	bool has_semantics;
	enum region_semantics semantics;
	bool has_mode;
	enum policy_mode mode;
};

struct policy {
	enum policy_mode mode;
	enum access_class default_access;
	struct rule *rules;
	size_t nrules;
};

struct policy_diag {
	bool warning;
	struct policy_pos pos;
	char message[240];
};

struct policy_diags {
	struct policy_diag *v;
	size_t n, errors;
};

/*
 * Parses and validates. 0 when the policy is usable (warnings may be present), -EINVAL when any
 * error was found (then p is empty), another negative errno when the input could not be read.
 * Every problem found is in diags, errors and warnings, in file order.
 */
int policy_parse(const char *text, size_t len, struct policy *p, struct policy_diags *diags);
int policy_parse_file(const char *path, struct policy *p, struct policy_diags *diags);
/* The file's text (malloc'd, may be NULL when empty), for parsing and publishing the same bytes. */
int policy_read_file(const char *path, char **text, size_t *len);
void policy_free(struct policy *p);
void policy_diags_free(struct policy_diags *d);

/* What a rule is matched against. Unknown facts (NULL, -1) match only an absent matcher. */
struct policy_subject {
	const char *device, *driver, *comm, *exe, *cgroup;
	int vendor, device_id, subsystem_vendor, subsystem_device;
	int region;              /* -1: unknown */
	enum cache_mode cache;   /* CACHE_UNKNOWN: unknown */
	enum host_arch arch;
};

/* The first rule that matches, or -1 for the default. */
int policy_match(const struct policy *p, const struct policy_subject *s);
bool rule_matches(const struct rule *r, const struct policy_subject *s);
/*
 * Whether a bound driver's name matches a `driver:` pattern (NULL: any). The kernel names a
 * variant driver's PCI driver after its module, with '_' for '-' (nvgrace-gpu-vfio-pci.ko binds
 * as nvgrace_gpu_vfio_pci) and modprobe takes either spelling, so a pattern written with either
 * matches: the name is tried as it is, with every '_' read as '-', and with every '-' as '_' (a
 * pattern keeps to one spelling: nvgrace-gpu_vfio* matches neither).
 */
bool driver_matches(const char *pattern, const char *name);

const char *access_class_name(enum access_class a);
const char *region_semantics_name(enum region_semantics s);
/* "registers" or "memory": 0 or -EINVAL. */
int region_semantics_from_name(const char *s, enum region_semantics *out);
const char *policy_mode_name(enum policy_mode m);
/* "dup,reorder"; "none" for an empty set. Returns buf. */
const char *hazard_set_format(uint32_t set, char *buf, size_t len);
/* The inverse of hazard_set_format ("none", or names joined by commas): 0 or -EINVAL. */
int hazard_set_parse(const char *s, uint32_t *set);
/* "audit" or "enforce": 0 or -EINVAL. */
int policy_mode_from_name(const char *s, enum policy_mode *out);
/* "direct", "fixed" or "trap": 0 or -EINVAL. */
int access_class_from_name(const char *s, enum access_class *out);
/* Cache-mode names as the policy spells them, case-insensitive; CACHE_UNKNOWN if none. */
enum cache_mode cache_mode_from_name(const char *name);

#endif /* VFIOGUARD_POLICY_H */
