// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * serve's metrics renderer against a golden file (tests/unit/golden/metrics.prom; run with
 * VFG_UPDATE_GOLDEN=1 to write it anew after a deliberate change, and read the diff), and the
 * exposition's rules: each family declared once, before its samples.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "../../cli/serve/metrics.h"
#include "../../loader/model/model.h"
#include "../../policy/policy.h"

#define GOLDEN "tests/unit/golden/metrics.prom"

static struct model_access acc[] = {
	{ .comm = "qemu-system-x86", .device = "0000:00:03.0", .region = 0,
	  .by_size = { { 3, 0, 5, 0, 1 }, { 0, 0, 7, 0, 0 } }, .bytes = { 29, 28 } },
};
static struct model_copy copies[] = {
	{ .comm = "qemu-system-x86", .device = "0000:00:04.0", .region = 2, .write = true,
	  .hazards = HAZARD_DUP | HAZARD_REORDER, .measured = true, .violation = true,
	  .count = 4, .bytes = 12 },
	{ .comm = "vfg-testvmm", .device = "0000:00:04.0", .region = 2, .write = false,
	  .measured = false, .count = 1, .bytes = 4096 },
	/* A process names itself: any bytes, escaped in the label. */
	{ .comm = "a\"b\\c\n\xff", .device = "", .region = 0, .write = true, .measured = true,
	  .count = 2, .bytes = 8 },
};
static struct model_dma dma[] = {
	{ .comm = "qemu-system-x86", .device = "0000:00:04.0", .region = 2, .direct = 5,
	  .bounced = 2, .short_maps = 1, .failed = 0, .bytes = 12288 },
	{ .comm = "qemu-system-x86", .device = "", .failed = 3 },
};
static const struct metrics_decision decisions[] = {
	{ false, "(default)", 4 },
	{ true, "edu-bar0-testvmm", 2 },
	{ false, "#7", 1 },
};
static const struct metrics_mapping mappings[] = {
	{ "0000:00:04.0", 2, "UC-", "direct", 2 },
	{ "0000:00:03.0", 0, "UC-", "trap", 1 },
};
static const struct metrics_observed observed[] = {
	{ "0000:00:04.0", 2, CACHE_X86_UC_MINUS, CACHE_X86_WC, 0x8, true },
	{ "0000:00:03.0", 0, CACHE_X86_UC_MINUS, CACHE_X86_UC_MINUS, 0x10, false },
};
static const struct metrics_fault faults[] = {
	{ "0000:00:04.0", 2, { 4096, 8, 0, 1 } },
};

static struct model byname;

static struct metrics example(void)
{
	byname = (struct model){ .acc = acc, .nacc = 1, .copies = copies, .ncopies = 3,
				 .dma = dma, .ndma = 2 };
	return (struct metrics){
		.version = "0.1.0", .kernel = "6.12.0-test", .enforcing = true, .active = true,
		.generation = 3, .allowed = 10, .denied = 2, .policy_dropped = 0,
		.applied_at = 1700000000.125, .apply_seconds = 0.0425, .now = 1700000100.5,
		.reloads_failed = 1, .decisions = decisions, .ndecisions = 3,
		.mappings = mappings, .nmappings = 2, .observed = observed, .nobserved = 2,
		.faults = faults, .nfaults = 1, .byname = &byname, .copies = true,
		.monitor_dropped = 5, .copies_dropped = 7, .heap_inuse = 1048576,
	};
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc(n + 1);
		if (buf && fread(buf, 1, n, f) == (size_t)n) {
			buf[n] = 0;
			*len = n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static void matches_the_golden_file(void **state)
{
	struct metrics m = example();
	char *text = NULL, *golden;
	size_t len = 0, glen = 0;

	assert_int_equal(metrics_render(&m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	if (getenv("VFG_UPDATE_GOLDEN")) {
		FILE *f = fopen(GOLDEN, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, len, f), len);
		fclose(f);
	}
	golden = read_file(GOLDEN, &glen);
	if (!golden)
		fail_msg("cannot read %s (run from the top of the tree)", GOLDEN);
	if (glen != len || memcmp(golden, text, len)) {
		size_t i = 0;

		while (i < len && i < glen && golden[i] == text[i])
			i++;
		fail_msg("the rendering differs from %s at byte %zu: \"%.60s\" (golden \"%.60s\")",
			 GOLDEN, i, text + i, golden + i);
	}
	free(golden);
	free(text);
}

/* Each family's HELP and TYPE once, and every sample after its family's TYPE. */
static void families_are_declared_once(void **state)
{
	struct metrics m = example();
	char *text = NULL, *line, *save = NULL, types[64][80];
	size_t len = 0, ntypes = 0;

	assert_int_equal(metrics_render(&m, &text, &len), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[80];

		if (sscanf(line, "# TYPE %79s", name) == 1) {
			for (size_t i = 0; i < ntypes; i++)
				assert_string_not_equal(types[i], name);
			assert_true(ntypes < 64);
			strcpy(types[ntypes++], name);
		} else if (line[0] != '#') {
			size_t n = strcspn(line, "{ ");

			assert_true(ntypes > 0);
			/* In the last family declared (a _total sample of a counter named so). */
			assert_int_equal(strncmp(line, types[ntypes - 1], n), 0);
			assert_int_equal(strlen(types[ntypes - 1]), n);
		}
	}
	free(text);
}

/* Without a policy in force and without the copy probes: their numbers and families go. */
static void without_policy_or_copies(void **state)
{
	struct metrics m = example();
	char *text = NULL;
	size_t len = 0;

	m.enforcing = false;
	m.copies = false;
	m.ndecisions = m.nobserved = 0;
	assert_int_equal(metrics_render(&m, &text, &len), 0);
	assert_non_null(strstr(text, "\nvfioguard_policy_enforced 0\n"));
	assert_non_null(strstr(text, "\nvfioguard_policy_generation 0\n"));
	assert_null(strstr(text, "vfioguard_copies_total"));
	assert_null(strstr(text, "vfioguard_dma_maps_total"));
	assert_null(strstr(text, "source=\"copies\""));
	assert_null(strstr(text, "vfioguard_mmap_decisions_total{"));
	/* What does not depend on either stays. */
	assert_non_null(strstr(text, "vfioguard_fd_accesses_total{"));
	assert_non_null(strstr(text, "vfioguard_mappings{"));
	free(text);
}

UNIT_MAIN(cmocka_unit_test(matches_the_golden_file), cmocka_unit_test(families_are_declared_once),
	  cmocka_unit_test(without_policy_or_copies))
