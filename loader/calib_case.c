// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Calibration cases: names, distances and the hazard cache's line format. Pure. */
#include <errno.h>
#include <stdio.h>
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

int calib_cache_parse_line(const char *line, struct calib_case *cc, uint64_t *vaddr,
			   uint32_t *hazards)
{
	char name[32];
	unsigned long long va;
	unsigned int len, align, same, hz, distance = 0;
	int r, fields;

	memset(cc, 0, sizeof(*cc));
	if (line[0] == '#')
		return -EINVAL;
	fields = sscanf(line, "%31s %llx %u %u %u %x %u", name, &va, &len, &align, &same, &hz,
			&distance);
	if (fields < 6)
		return -EINVAL;
	for (r = 0; r < CALIB_ROUTINES; r++)
		if (!strcmp(name, calib_routine_name(r)))
			break;
	if (r == CALIB_ROUTINES || len > CALIB_MAX_LEN || align > 63 || same > 1 || hz > 0x1f ||
	    distance > CALIB_MAX_LEN)
		return -EINVAL;
	cc->routine = r;
	cc->len = len;
	cc->align = align;
	cc->same_page_offset = same;
	cc->distance = distance;
	/* Lines without a distance were measured at the default one. */
	cc->distance = calib_case_distance(cc);
	*vaddr = va;
	*hazards = hz;
	return 0;
}
