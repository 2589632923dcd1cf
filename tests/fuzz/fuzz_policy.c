// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the policy parser: any input is either a policy or a list of
 * diagnostics with positions inside the input, never a crash, leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_diags d = {};
	struct policy p;
	unsigned int lines = 1;
	int err;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n' || data[i] == '\r';
	err = policy_parse((const char *)data, size, &p, &d);
	if (err && !d.errors)
		abort(); /* rejected without saying why */
	if (!err && d.errors)
		abort(); /* accepted with errors */
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].pos.line || d.v[i].pos.line > lines + 1 || !d.v[i].pos.col ||
		    !memchr(d.v[i].message, 0, sizeof(d.v[i].message)))
			abort(); /* a position outside the input */
	if (!err) {
		struct policy_subject s = { .device = "0000:00:03.0", .vendor = 0x1234,
					    .device_id = 0x11e8, .subsystem_vendor = -1,
					    .subsystem_device = -1, .region = 0,
					    .cache = CACHE_X86_UC_MINUS, .arch = ARCH_X86_64 };

		if (policy_match(&p, &s) >= (int)p.nrules)
			abort();
		policy_free(&p);
	}
	policy_diags_free(&d);
	return 0;
}
