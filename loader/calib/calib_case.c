// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Calibration cases: names, distances and the hazard cache's line format. Pure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"

size_t calib_case_distance(const struct calib_case *cc)
{
	if (cc->routine != CALIB_MEMMOVE_FORWARD && cc->routine != CALIB_MEMMOVE_BACKWARD)
		return 0;
	if (cc->distance)
		return cc->distance;
	return cc->len / 2 ? cc->len / 2 : 1;
}

const char *calib_routine_name(enum calib_routine r)
{
	static const char *const names[] = { "memcpy", "memmove", "memmove-forward",
					     "memmove-backward", "memset" };

	return r < CALIB_ROUTINES ? names[r] : "?";
}

unsigned int calib_case_placement(const struct calib_case *cc)
{
	/* Outside the aliasing window: the source at page offset 2048, or that far with the
	 * relative alignment asked for. */
	if (cc->page_delta == CALIB_PAGE_FAR)
		return (cc->align + 2048) & 4095;
	if (cc->page_delta > CALIB_PAGE_FAR)
		return 2048 + (cc->page_delta - CALIB_PAGE_FAR - 1);
	return cc->page_delta;
}

const char *calib_page_delta_format(unsigned int page_delta, char *buf, size_t len)
{
	if (page_delta < CALIB_PAGE_FAR)
		snprintf(buf, len, "%u", page_delta);
	else if (page_delta > CALIB_PAGE_FAR)
		snprintf(buf, len, "far/%u", page_delta - CALIB_PAGE_FAR - 1);
	else
		snprintf(buf, len, "far");
	return buf;
}

static int routine_of(const char *name)
{
	int r;

	for (r = 0; r < CALIB_ROUTINES; r++)
		if (!strcmp(name, calib_routine_name(r)))
			break;
	return r;
}

int calib_cache_format_line(const struct calib_case *cc, uint64_t vaddr, uint32_t hazards,
			    char *buf, size_t len)
{
	char delta[16], loads[16] = "-";

	calib_page_delta_format(cc->page_delta, delta, sizeof(delta));
	if (hazards & CALIB_LOADS_MEASURED)
		snprintf(loads, sizeof(loads), "%#x", (hazards >> CALIB_LOAD_SHIFT) & 0x1f);
	return snprintf(buf, len, "%s %#llx %zu %u %s %#x %zu %s\n",
			calib_routine_name(cc->routine), (unsigned long long)vaddr, cc->len,
			cc->align, delta, hazards & (HAZARD_ALL | VFG_HAZARDS_STRING),
			calib_case_distance(cc), loads);
}

int calib_cache_parse_line(const char *line, struct calib_case *cc, uint64_t *vaddr,
			   uint32_t *hazards)
{
	char name[32], delta[8], loads[12] = "-";
	unsigned long long va;
	unsigned int len, align, hz, distance = 0, d = CALIB_PAGE_FAR, lhz = 0;
	int r, fields;

	memset(cc, 0, sizeof(*cc));
	if (line[0] == '#')
		return -EINVAL;
	fields = sscanf(line, "%31s %llx %u %u %7s %x %u %11s", name, &va, &len, &align, delta, &hz,
			&distance, loads);
	if (fields < 6)
		return -EINVAL;
	if (strcmp(loads, "-")) {
		char *end;

		lhz = strtoul(loads, &end, 16);
		if (end == loads || *end || lhz > 0x1f || loads[0] == '-' || loads[0] == '+')
			return -EINVAL;
		lhz = lhz << CALIB_LOAD_SHIFT | CALIB_LOADS_MEASURED;
	}
	if (!strncmp(delta, "far/", 4)) {
		char *end;

		d = strtoul(delta + 4, &end, 10);
		if (end == delta + 4 || *end || d > 63 || delta[4] == '-' || delta[4] == '+')
			return -EINVAL;
		d += CALIB_PAGE_FAR + 1;
	} else if (strcmp(delta, "far")) {
		char *end;

		d = strtoul(delta, &end, 10);
		if (end == delta || *end || d > 4095 || delta[0] == '-' || delta[0] == '+')
			return -EINVAL;
	}
	r = routine_of(name);
	if (r == CALIB_ROUTINES || len > CALIB_MAX_LEN || align > 63 ||
	    (hz & ~(HAZARD_ALL | VFG_HAZARDS_STRING)) ||
	    distance > CALIB_MAX_LEN)
		return -EINVAL;
	/* Only memcpy and memmove have a placement; the others are 0. */
	if (r > CALIB_MEMMOVE && d != 0)
		return -EINVAL;
	cc->routine = r;
	cc->len = len;
	cc->align = align;
	cc->page_delta = d;
	cc->distance = distance;
	/* Lines without a distance were measured at the default one. */
	cc->distance = calib_case_distance(cc);
	*vaddr = va;
	*hazards = hz | lhz;
	return 0;
}

int calib_cache_parse_window(const char *line, enum calib_routine *routine, uint64_t *vaddr,
			     unsigned int *window)
{
	char name[32];
	unsigned long long va;
	unsigned int w;
	int r;

	if (sscanf(line, "window %31s %llx %u", name, &va, &w) != 3)
		return -EINVAL;
	r = routine_of(name);
	if ((r != CALIB_MEMCPY && r != CALIB_MEMMOVE) || w > 4096)
		return -EINVAL;
	*routine = r;
	*vaddr = va;
	*window = w;
	return 0;
}

static struct calib_failure *failure_of(struct calib_failures *t, const void *key, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (!memcmp(t->v[i].key, key, len))
			return &t->v[i];
	return NULL;
}

void calib_failure_record(struct calib_failures *t, const void *key, size_t len, int err,
			  const char *step, uint64_t now_ns)
{
	struct calib_failure *f;
	uint64_t wait = CALIB_BACKOFF_FIRST_NS;

	if (len > CALIB_FAILURE_KEY)
		return;
	f = failure_of(t, key, len);
	if (!f && t->n < CALIB_FAILURES_MAX) {
		f = &t->v[t->n++];
		memset(f, 0, sizeof(*f));
	} else if (!f) {
		f = &t->v[0];
		for (size_t i = 1; i < t->n; i++)
			if (t->v[i].failed_ns < f->failed_ns)
				f = &t->v[i];
		memset(f, 0, sizeof(*f));
	}
	memcpy(f->key, key, len);
	f->err = err;
	snprintf(f->step, sizeof(f->step), "%s", step ? step : "");
	for (unsigned int i = 0; i < f->failures && wait < CALIB_BACKOFF_MAX_NS; i++)
		wait *= 2;
	f->failures++;
	f->failed_ns = now_ns;
	f->retry_ns = now_ns + (wait < CALIB_BACKOFF_MAX_NS ? wait : CALIB_BACKOFF_MAX_NS);
}

const struct calib_failure *calib_failure_find(const struct calib_failures *t, const void *key,
					       size_t len, uint64_t now_ns)
{
	const struct calib_failure *f = len <= CALIB_FAILURE_KEY ?
		failure_of((struct calib_failures *)t, key, len) : NULL;

	return f && now_ns < f->retry_ns ? f : NULL;
}
