/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * vfioguard calibrate: runs the copy routines this process really calls (glibc's IFUNC choice
 * for this libc build and this CPU) in a child under ptrace, single-steps them, decodes every
 * instruction with capstone, and records each store's address and width from the registers.
 */
#ifndef VFIOGUARD_CALIBRATE_H
#define VFIOGUARD_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../../bpf/vfioguard.h"
#include "store_trace.h"

/* The hazard table's routines (enum vfg_routine). */
enum calib_routine {
	CALIB_MEMCPY = VFG_ROUTINE_MEMCPY,
	CALIB_MEMMOVE = VFG_ROUTINE_MEMMOVE,                   /* no overlap */
	CALIB_MEMMOVE_FORWARD = VFG_ROUTINE_MEMMOVE_FORWARD,   /* dst below src, overlapping */
	CALIB_MEMMOVE_BACKWARD = VFG_ROUTINE_MEMMOVE_BACKWARD, /* dst above src, overlapping */
	CALIB_MEMSET = VFG_ROUTINE_MEMSET,
	CALIB_ROUTINES,
};
_Static_assert(CALIB_ROUTINES == VFG_ROUTINE_MEMSET + 1, "a routine of the table is not calibrated");

/*
 * memcpy and memmove branch on where the source sits in its page relative to the destination
 * (4 KiB aliasing): a case is measured at one (dst - src) mod 4096 inside the routine's aliasing
 * window, or at CALIB_PAGE_FAR for every placement outside it (measured with the source at
 * page offset 2048). Copies out of device memory keep the source's alignment, which their
 * loads depend on: CALIB_PAGE_FAR + 1 + (dst - src) mod 64 (measured at 2048 plus that).
 * 0 for the other routines.
 */
#define CALIB_PAGE_FAR 4096u
_Static_assert(CALIB_PAGE_FAR == VFG_PAGE_FAR, "the hazard table's far placement");
#define CALIB_PAGE_FAR_LAST (CALIB_PAGE_FAR + 64)
/* A placement as the cache and the output write it: "N", "far" or "far/N". Returns buf. */
const char *calib_page_delta_format(unsigned int page_delta, char *buf, size_t len);

struct calib_case {
	enum calib_routine routine;
	size_t len;
	unsigned int align;      /* dst address modulo 64 */
	unsigned int page_delta; /* (dst - src) mod 4096, or CALIB_PAGE_FAR (memcpy, memmove) */
	size_t distance;         /* overlapping memmoves: |dst - src|; 0 for half the length */
};


/* The distance an overlapping memmove case is measured at (0 for the other routines). */
size_t calib_case_distance(const struct calib_case *cc);
/* The (dst - src) mod 4096 a case is measured at. */
unsigned int calib_case_placement(const struct calib_case *cc);

struct calib_result {
	struct store_trace trace;
	uint32_t hazards;
	/* The loads from the source (memcpy, memmove), offsets from the source's start, and their
	 * hazards: what a device sees of a copy out of it. Unknown (loads_ok false) when an
	 * instruction could not be decoded (SVE under capstone 4). */
	struct store_trace loads;
	uint32_t load_hazards;
	bool loads_ok;
	unsigned long steps; /* instructions single-stepped */
	unsigned long inferred; /* steps capstone could not decode (stores found by comparison) */
	bool replay_ok;      /* the traced stores, replayed, give what the routine produced */
	bool string;         /* a string instruction (x86 rep movs/stos) stored into the destination */
};

struct calibrator {
	pid_t child;
	void *shared;   /* job description, shared with the child */
	unsigned char *buf; /* the buffers, shared with the child */
	size_t buf_len;
	size_t csh;     /* capstone handle */
	void *fn[3];    /* memcpy, memmove, memset as this process resolved them */
	/* Set by another thread: the case being measured stops (-ECANCELED). May be NULL. */
	const bool *cancel;
	bool last_string; /* the instruction just decoded is a string instruction */
};

#define CALIB_MAX_LEN (64 * 1024)

/*
 * The hazards of a case as the cache and the BPF table keep them: the stores' in bits 0..4
 * (VFG_HAZARDS_STRING beside them), the loads' in bits 8..12 when CALIB_LOADS_MEASURED.
 */
#define CALIB_LOAD_SHIFT VFG_HAZARDS_LOAD_SHIFT
#define CALIB_LOADS_MEASURED VFG_HAZARDS_LOADS_MEASURED
_Static_assert((HAZARD_ALL << CALIB_LOAD_SHIFT) < CALIB_LOADS_MEASURED &&
		       !((HAZARD_ALL << CALIB_LOAD_SHIFT | CALIB_LOADS_MEASURED | HAZARD_ALL) &
			 VFG_HAZARDS_MEASURED),
	       "the stores', the loads' and the table's bits overlap");

_Static_assert(!((HAZARD_ALL << CALIB_LOAD_SHIFT | CALIB_LOADS_MEASURED | HAZARD_ALL |
		 VFG_HAZARDS_MEASURED) & VFG_HAZARDS_STRING),
	       "the string bit overlaps the hazards");

int calibrator_start(struct calibrator *c, const char **step);
/* A result as the cache and the BPF table keep it (stores', loads' hazards, the string bit). */
uint32_t calib_result_pack(const struct calib_result *r);
int calibrate_case(struct calibrator *c, const struct calib_case *cc, struct calib_result *r);
void calib_result_free(struct calib_result *r);
/* The case with the source placed so that (dst - src) mod 4096 is page_delta (memcpy, memmove). */
int calibrate_case_at(struct calibrator *c, const struct calib_case *cc, unsigned int page_delta,
		      struct calib_result *r);
/*
 * The 4 KiB aliasing window of memcpy or memmove at one length: the smallest W such that every
 * placement with (dst - src) mod 4096 >= W gives the stores of the source at page offset 2048
 * (below W they may differ, and may differ among themselves). 0 when no placement matters at
 * this length. -EDOM when the placements from W on do not all store alike.
 */
int calib_alias_window(struct calibrator *c, enum calib_routine routine, size_t len,
		       unsigned int *window);
void calibrator_stop(struct calibrator *c);

const char *calib_routine_name(enum calib_routine r);
/* Where a routine lives: "libc.so.6+0x1a2b30" and the file. */
int calib_routine_where(const struct calibrator *c, enum calib_routine r, char *buf, size_t len);
/* The GNU build-id of the libc that holds memcpy, in hex. */
int libc_build_id(char *buf, size_t len);
/* Where this process's routine is, from the load base of its libc (the IFUNC choice). */
int calib_routine_vaddr(enum calib_routine r, uint64_t *vaddr);

/*
 * Measured cases are kept per libc build: $VFIOGUARD_CACHE_DIR (default /var/cache/vfioguard)
 * /hazards-BUILDID.v3.tsv, one line per case: routine, the routine's address from libc's load
 * base (the IFUNC choice it was measured for), length, alignment, page delta (a number, or
 * "far"), the stores' hazards in hex (with VFG_HAZARDS_STRING), distance, the loads' hazards
 * in hex ("-": not measured);
 * and one line per routine's aliasing window: "window", routine, address, window. The hazards
 * the functions take and give are packed as CALIB_LOAD_SHIFT says.
 */
int calib_cache_path(char *buf, size_t len);
typedef void (*calib_cache_fn)(const struct calib_case *cc, uint64_t vaddr, uint32_t hazards,
			       void *ctx);
/* Calls fn for every case in the file. Returns how many, 0 when there is no file, or -errno. */
int calib_cache_read(const char *path, calib_cache_fn fn, void *ctx);
int calib_cache_append(const char *path, const struct calib_case *cc, uint32_t hazards);
int calib_cache_append_window(const char *path, enum calib_routine routine, uint64_t vaddr,
			      unsigned int window);
/* A window line: 0, or -EINVAL. */
int calib_cache_parse_window(const char *line, enum calib_routine *routine, uint64_t *vaddr,
			     unsigned int *window);
/* The routine's window from the cache: 0, or -ENOENT when it has none. */
int calib_cache_window(const char *path, enum calib_routine routine, uint64_t vaddr,
		       unsigned int *window);
/* One line of the cache for a case, newline included; returns its length. */
int calib_cache_format_line(const struct calib_case *cc, uint64_t vaddr, uint32_t hazards,
			    char *buf, size_t len);
/* One line of the cache: 0, or -EINVAL for a comment or a line that is not a valid case. */
int calib_cache_parse_line(const char *line, struct calib_case *cc, uint64_t *vaddr,
			   uint32_t *hazards);

/*
 * Cases whose measurement failed (no capstone, a routine that cannot be traced...), remembered
 * so that a case is measured again only after a back-off: 1 minute after its first failure,
 * doubling with each, at most 1 hour. The table is bounded: when full, the entry that failed
 * longest ago makes room. Keys are the caller's fixed-size bytes (at most CALIB_FAILURE_KEY).
 */
#define CALIB_FAILURES_MAX 256
#define CALIB_FAILURE_KEY 64
#define CALIB_BACKOFF_FIRST_NS (60ULL * 1000000000)
#define CALIB_BACKOFF_MAX_NS (3600ULL * 1000000000)
struct calib_failure {
	unsigned char key[CALIB_FAILURE_KEY];
	int err;
	char step[128];
	unsigned int failures;
	uint64_t failed_ns, retry_ns;
};
struct calib_failures {
	struct calib_failure v[CALIB_FAILURES_MAX];
	size_t n;
};
void calib_failure_record(struct calib_failures *t, const void *key, size_t len, int err,
			  const char *step, uint64_t now_ns);
/* The failure of key whose back-off has not ended at now_ns, or NULL. */
const struct calib_failure *calib_failure_find(const struct calib_failures *t, const void *key,
					       size_t len, uint64_t now_ns);

#endif /* VFIOGUARD_CALIBRATE_H */
