// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the hazard cache's lines (a file vfioguard reads back): any input is a
 * valid case within the table's bounds or refused, never a crash or undefined behaviour; a case
 * written back in the cache's format reads back the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../loader/calib/calibrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[300], again[300];
	struct calib_case cc, cc2;
	uint64_t va, va2;
	uint32_t hz, hz2;

	if (size >= sizeof(line))
		size = sizeof(line) - 1;
	memcpy(line, data, size);
	line[size] = '\0';
	if (calib_cache_parse_line(line, &cc, &va, &hz))
		return 0;
	if (cc.routine >= CALIB_ROUTINES || cc.len > CALIB_MAX_LEN || cc.align > 63 ||
	    (hz & ~(HAZARD_ALL | VFG_HAZARDS_STRING | HAZARD_ALL << CALIB_LOAD_SHIFT |
		    CALIB_LOADS_MEASURED)) ||
	    ((hz >> CALIB_LOAD_SHIFT & 0x1f) && !(hz & CALIB_LOADS_MEASURED)) ||
	    cc.distance > CALIB_MAX_LEN ||
	    cc.page_delta > CALIB_PAGE_FAR_LAST ||
	    (cc.routine > CALIB_MEMMOVE && cc.page_delta))
		abort(); /* accepted out of bounds */
	calib_cache_format_line(&cc, va, hz, again, sizeof(again));
	if (calib_cache_parse_line(again, &cc2, &va2, &hz2) || cc2.routine != cc.routine ||
	    cc2.len != cc.len || cc2.align != cc.align || va2 != va || hz2 != hz ||
	    cc2.page_delta != cc.page_delta || cc2.distance != cc.distance)
		abort(); /* does not read back */
	return 0;
}
