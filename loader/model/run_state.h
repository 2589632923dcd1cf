/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What policy apply publishes under RUN_DIR, as typed records: the state of the apply
 * (state.json) and the verdicts for VMMs and management layers (regions.json), built from the
 * compiled policy and the host's devices, written as the JSON the files have always held, and
 * read back typed (policy show, advise, monitor and serve read them through this, not by member
 * names of their own).
 */
#ifndef VFIOGUARD_RUN_STATE_H
#define VFIOGUARD_RUN_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../policy/compile.h"

/* What policy apply publishes: the text it put in force, its state, the verdicts for VMMs. */
#define RUN_DIR "/run/vfioguard"
#define RUN_POLICY RUN_DIR "/policy.yaml"
#define RUN_STATE RUN_DIR "/state.json"
#define RUN_REGIONS RUN_DIR "/regions.json"

struct json_object;

/* state.json: which file is in force, since when, as which generation. */
struct run_state {
	char file[PATH_MAX];      /* the file applied, made absolute */
	uint32_t crc32;           /* of its text */
	char applied[32];         /* when, UTC, ISO 8601 */
	uint64_t generation;
	bool took_over;           /* another build's enforcement was replaced */
	enum policy_mode mode;
	enum access_class default_access;
	size_t rules, verdicts;
};

struct json_object *run_state_json(const struct run_state *s);
/* 0, or -EINVAL with the member at fault in why. */
int run_state_parse(const char *text, struct run_state *out, char *why, size_t len);

/*
 * What a verdict takes a region to hold and forbids, as published. Read back from a file of an
 * older version, a member it did not write is not known (has_*: false), never guessed.
 */
struct run_judged {
	bool has_semantics, has_violations;
	enum region_semantics semantics; /* the rule's, else the driver's default */
	uint32_t violations;             /* HAZARD_* that are violations */
};

/* A rule naming processes, decided before the region's verdict for every other process. */
struct run_process_rule {
	char *rule;               /* malloc'd */
	enum access_class access;
	struct run_judged judged;
};

struct run_region {
	unsigned int index;
	enum access_class access;
	bool enforce;             /* mode: enforce (else audit) */
	char *rule;               /* malloc'd; NULL for the policy's default */
	enum cache_mode cache;    /* the mode the verdict assumed (CACHE_UNKNOWN: none) */
	struct run_judged judged; /* for a process no process rule names */
	struct run_process_rule *process_rules;
	size_t nprocess_rules;
};

struct run_device {
	char device[VFG_DEVICE_LEN];
	char driver[64];
	int vendor, device_id;
	struct run_region *regions;
	size_t nregions;
};

struct run_regions {
	uint64_t generation;
	char policy[PATH_MAX]; /* the file applied */
	uint32_t crc32;        /* of its text */
	enum host_arch arch;
	struct run_device *devices; /* the devices bound to a VFIO driver */
	size_t ndevices;
};

/*
 * The record of a policy just compiled: for each device bound to a VFIO driver, each region it
 * has (present: a bit per region index) with a verdict. 0 or -ENOMEM.
 */
int run_regions_build(struct run_regions *out, const struct policy *p, const struct compiled *c,
		      const struct device_facts *devs, size_t ndevs, uint64_t (*present)(const char *dev),
		      enum host_arch arch, uint64_t generation, const char *file, uint32_t crc);
struct json_object *run_regions_json(const struct run_regions *r);
/* The published text (malloc'd), or NULL out of memory. */
char *run_regions_format(const struct run_regions *r);
/* Reads the published text back: 0, or -EINVAL with the member at fault in why. */
int run_regions_parse(const char *text, struct run_regions *out, char *why, size_t len);
void run_regions_free(struct run_regions *r);

/*
 * What is published now, read back: which of the files could be read (have_*; a missing file is
 * not an error: no policy was applied, or it was cleared), and the policy text in force parsed
 * (have_policy), for naming the rules the kernel reports by index. why says what was wrong with
 * a file that is there but cannot be read.
 */
struct run_published {
	bool have_state, have_regions, have_policy;
	struct run_state state;
	struct run_regions regions;
	struct policy policy;
	char why[PATH_MAX + 200];
};
enum {
	RUN_READ_STATE = 1,
	RUN_READ_REGIONS = 2,
	RUN_READ_POLICY = 4,
};
/* Reads the files asked for (RUN_READ_*) from dir (RUN_DIR but in tests). */
void run_published_read(const char *dir, unsigned int which, struct run_published *out);
void run_published_free(struct run_published *pub);

#endif /* VFIOGUARD_RUN_STATE_H */
