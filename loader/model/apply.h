/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Putting a policy in force and taking it out: parse, compile against the host's devices,
 * enforce (probes/enforce.c), and publish under RUN_DIR (run_state.h), one apply or clear at a
 * time whoever runs it (policy apply, serve's reloads and hot-plug).
 */
#ifndef VFIOGUARD_APPLY_H
#define VFIOGUARD_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "run_state.h"

struct apply_hooks {
	/* Another apply or clear holds the lock; this one waits for it (may be NULL). */
	void (*waiting)(void *ctx);
	/*
	 * After a successful apply, still under its lock: what it reads of RUN_DIR is this
	 * apply's (may be NULL). p is the policy now in force; the hook may keep it (moving it
	 * out, leaving *p zeroed).
	 */
	void (*applied)(struct policy *p, const struct run_state *st, void *ctx);
	void *ctx;
};

struct apply_report {
	/* Every diagnostic of the parse and the compile, warnings too, in file order. */
	struct policy_diags diags;
	/* Why it failed, a sentence that says what is in force now ("...; nothing was applied"). */
	char why[PATH_MAX + 200];
	/* A successful apply's state as published, and the devices it compiled verdicts for. */
	struct run_state state;
	size_t ndevices;
	uint32_t previous_build; /* when state.took_over: the build record it found (0: none) */
};

/*
 * Applies the text read from text_from, published as file's (the same path for the command;
 * serve re-resolves the text in force, RUN_POLICY, when a device appears). 0, or a negative errno
 * with report->why (and report->diags for a policy that does not parse or compile).
 * apply_report_free() either way.
 */
int policy_apply(const char *file, const char *text_from, const struct apply_hooks *hooks,
		 struct apply_report *report);
void apply_report_free(struct apply_report *report);

/* Takes the policy out of force and unpublishes it: 0, -ENOENT when none was in force, or
 * another negative errno with why. */
int policy_clear(const struct apply_hooks *hooks, char *why, size_t len);

#endif /* VFIOGUARD_APPLY_H */
