// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Compiling policies into verdicts, and the hazard table. No file system: a fake resolver. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "../../policy/compile.h"
#include "../../policy/hazards.h"

static int fake_exe(const char *path, uint64_t *dev, uint64_t *ino)
{
	if (strcmp(path, "/usr/bin/qemu-system-x86_64"))
		return -ENOENT;
	*dev = (8ULL << 20) | 1;
	*ino = 4242;
	return 0;
}

static int fake_cgroup(const char *path, uint64_t *id)
{
	if (!strcmp(path, "/machine.slice"))
		*id = 77;
	else if (!strcmp(path, "/"))
		*id = 1;
	else
		return -ENOENT;
	return 0;
}

static const struct resolver fake = { .exe = fake_exe, .cgroup = fake_cgroup };

static struct device_facts edu = {
	.name = "0000:00:03.0", .driver = "vfio-pci", .vendor = 0x1234, .device_id = 0x11e8,
	.subsystem_vendor = 0x1af4, .subsystem_device = 0x1100,
};

/* A policy parsed and compiled for edu, with its diagnostics. */
struct built {
	struct policy p;
	struct compiled c;
	struct policy_diags d;
};

static int compile(const char *text, struct built *b, enum host_arch arch)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(policy_parse(text, strlen(text), &b->p, &b->d), 0);
	return policy_compile(&b->p, arch, &edu, 1, &fake, &b->c, &b->d);
}

static void built_free(struct built *b)
{
	compiled_free(&b->c);
	policy_free(&b->p);
	policy_diags_free(&b->d);
}

static const struct vfg_verdict *verdict(const struct compiled *c, const char *dev,
					 unsigned int region)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].key.region == region && !strcmp(c->v[i].key.device, dev))
			return &c->v[i].v;
	return NULL;
}

static void process_rules_then_unconditional(void **state)
{
	struct built b;
	const struct vfg_verdict *v;

	assert_int_equal(
	    compile(
		"mode: audit\n"
		"default: direct\n"
		"rules:\n"
		"  - name: qemu\n"
		"    match: {region: bar0, comm: \"qemu-*\", exe: /usr/bin/qemu-system-x86_64}\n"
		"    access: trap\n"
		"    mode: enforce\n"
		"  - name: vms\n"
		"    match: {region: bar0, cgroup: /machine.slice/*}\n"
		"    access: fixed\n"
		"  - name: bars\n"
		"    match: {region: [bar0, bar2]}\n"
		"    access: fixed\n"
		"  - name: never-reached\n"
		"    match: {comm: exact}\n"
		"    access: trap\n",
		&b, ARCH_X86_64),
	    0);
	v = verdict(&b.c, "0000:00:03.0", 0);
	assert_non_null(v);
	assert_int_equal(v->n, 3);
	assert_int_equal(v->assumed_cache, CACHE_X86_UC_MINUS);
	assert_int_equal(v->conds[0].flags, VFG_COND_COMM | VFG_COND_COMM_PREFIX | VFG_COND_EXE);
	assert_int_equal(v->conds[0].comm_len, 5);
	assert_memory_equal(v->conds[0].comm, "qemu-", 5);
	assert_int_equal(v->conds[0].exe_ino, 4242);
	assert_int_equal(v->conds[0].exe_dev, (8ULL << 20) | 1);
	assert_int_equal(v->conds[0].access, VFG_ACCESS_TRAP);
	assert_int_equal(v->conds[0].enforce, 1);
	assert_int_equal(v->conds[1].flags, VFG_COND_CGROUP | VFG_COND_CGROUP_BELOW);
	assert_int_equal(v->conds[1].cgroup_id, 77);
	assert_int_equal(v->conds[1].enforce, 0); /* the policy's mode */
	assert_int_equal(v->conds[2].flags, 0);
	assert_int_equal(v->conds[2].rule, 2);
	/* BAR1: no rule's device side matches but the process-only one; then the default. */
	v = verdict(&b.c, "0000:00:03.0", 1);
	assert_int_equal(v->n, 2);
	assert_int_equal(v->conds[0].rule, 3);
	assert_int_equal(v->conds[0].flags, VFG_COND_COMM);
	assert_int_equal(v->conds[1].rule, VFG_RULE_DEFAULT);
	assert_int_equal(v->conds[1].access, VFG_ACCESS_DIRECT);
	/* Unknown devices and regions: only the process-only rule, then the default. */
	v = verdict(&b.c, "", VFG_REGION_ANY);
	assert_non_null(v);
	assert_int_equal(v->n, 2);
	assert_int_equal(v->conds[0].rule, 3);
	/* Device-specific regions: only the rules without a region matcher, then the default. */
	v = verdict(&b.c, "0000:00:03.0", VFG_REGION_OTHER);
	assert_non_null(v);
	assert_int_equal(v->n, 2);
	assert_int_equal(v->conds[0].rule, 3);
	assert_int_equal(v->conds[1].rule, VFG_RULE_DEFAULT);
	/* Every BAR, the ROM, config and VGA of the device, its other regions, its region unseen. */
	assert_int_equal(b.c.n, 1 + 9 + 2);
	built_free(&b);
}

/*
 * An mmap whose region the kernel did not see gets the device's strictest verdict: every trap
 * condition of its regions once, in order, then the default; trapped by any region, trapped.
 */
static void unseen_region_gets_the_strictest_verdict(void **state)
{
	struct built b;
	const struct vfg_verdict *v;

	assert_int_equal(compile("mode: enforce\n"
				 "default: direct\n"
				 "rules:\n"
				 "  - name: audit-everyone-first\n"
				 "    match: {region: bar5}\n"
				 "    access: trap\n"
				 "    mode: audit\n"
				 "  - name: bar0-ok-for-qemu\n"
				 "    match: {region: bar0, comm: qemu}\n"
				 "    access: direct\n"
				 "  - name: bars-trapped\n"
				 "    match: {region: [bar0, bar2], comm: \"vfg-*\"}\n"
				 "    access: trap\n"
				 "  - name: bar4-trapped-audit\n"
				 "    match: {region: bar4, cgroup: /machine.slice}\n"
				 "    access: trap\n"
				 "    mode: audit\n"
				 "  - name: rom-fixed\n"
				 "    match: {region: rom}\n"
				 "    access: fixed\n",
				 &b, ARCH_X86_64),
			 0);
	v = verdict(&b.c, "0000:00:03.0", VFG_REGION_ANY);
	assert_non_null(v);
	/*
	 * Enforced traps first: an unconditional trap in audit mode (rule 0, on BAR5) comes
	 * after them and ends the list, so it shadows none and the default is not reached.
	 */
	assert_int_equal(v->n, 3);
	assert_int_equal(v->conds[2].rule, 0);
	assert_int_equal(v->conds[2].enforce, 0);
	assert_int_equal(v->conds[2].flags, 0);
	assert_int_equal(v->conds[0].rule, 2); /* once, though BAR0 and BAR2 both have it */
	assert_int_equal(v->conds[0].access, VFG_ACCESS_TRAP);
	assert_int_equal(v->conds[0].enforce, 1);
	assert_int_equal(v->conds[0].flags, VFG_COND_COMM | VFG_COND_COMM_PREFIX);
	assert_int_equal(v->conds[1].rule, 3); /* the cgroup trap in audit mode */
	assert_int_equal(v->conds[1].enforce, 0);
	built_free(&b);

	/* A trapping default traps every unseen mmap. */
	assert_int_equal(
	    compile("default: trap\nrules:\n  - name: a\n    match: {region: bar0, comm: qemu}\n"
		    "    access: direct\n",
		    &b, ARCH_X86_64),
	    0);
	v = verdict(&b.c, "0000:00:03.0", VFG_REGION_ANY);
	assert_int_equal(v->n, 1);
	assert_int_equal(v->conds[0].rule, VFG_RULE_DEFAULT);
	assert_int_equal(v->conds[0].access, VFG_ACCESS_TRAP);
	assert_int_equal(v->conds[0].flags, 0);
	built_free(&b);

	/* More distinct trap rules than the kernel's list holds: everyone is trapped. */
	{
		char text[4096] = "mode: enforce\ndefault: direct\nrules:\n";

		for (int i = 0; i < 9; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
				 "  - name: t%d\n    match: {region: bar%d, comm: p%d}\n"
				 "    access: trap\n", i, i % 6, i);
		assert_int_equal(compile(text, &b, ARCH_X86_64), 0);
	}
	v = verdict(&b.c, "0000:00:03.0", VFG_REGION_ANY);
	assert_int_equal(v->n, 1);
	assert_int_equal(v->conds[0].access, VFG_ACCESS_TRAP);
	assert_int_equal(v->conds[0].flags, 0);
	assert_int_equal(v->conds[0].enforce, 1);
	built_free(&b);
}

static void unenforceable_patterns_are_errors_at_the_rule(void **state)
{
	static const char *const bad[] = {
		"default: fixed\nrules:\n  - name: a\n    match: {comm: \"q?emu\"}\n    access: trap\n",
		"default: fixed\nrules:\n  - name: a\n    match: {comm: \"*qemu\"}\n    access: trap\n",
		"default: fixed\nrules:\n  - name: a\n    match: {exe: /usr/bin/*}\n    access: trap\n",
		"default: fixed\nrules:\n  - name: a\n    match: {exe: /usr/bin/missing}\n    access: trap\n",
		"default: fixed\nrules:\n  - name: a\n    match: {cgroup: /machine.slice/*/x}\n    access: trap\n",
		"default: fixed\nrules:\n  - name: a\n    match: {cgroup: /nope}\n    access: trap\n",
		"default: fixed\nrules:\n  - name: a\n    match: {comm: a-very-long-process-name}\n    access: trap\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct built b;

		assert_int_equal(compile(bad[i], &b, ARCH_X86_64), -EINVAL);
		assert_int_equal(b.d.errors, 1);
		assert_int_equal(b.d.v[0].pos.line, 3);
		assert_int_equal(b.d.v[0].pos.col, 5);
		assert_null(b.c.v);
		built_free(&b);
	}
}

static void too_many_process_rules(void **state)
{
	char text[4096] = "default: fixed\nrules:\n";
	struct built b;

	for (int i = 0; i < VFG_MAX_CONDS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "  - name: r%d\n    match: {comm: p%d}\n    access: trap\n", i, i);
	assert_int_equal(compile(text, &b, ARCH_X86_64), -EINVAL);
	assert_non_null(strstr(b.d.v[0].message, "the default needs a place"));
	built_free(&b);
}

static void cache_matchers_use_the_assumption(void **state)
{
	struct built b;
	const char *text = "default: trap\n"
			   "rules:\n"
			   "  - name: uc\n"
			   "    match: {cache: UC-}\n"
			   "    access: fixed\n";

	/* vfio-pci BARs: UC- by the driver's known behaviour; config space: unknown. */
	assert_int_equal(compile(text, &b, ARCH_X86_64), 0);
	assert_int_equal(verdict(&b.c, "0000:00:03.0", 0)->conds[0].access, VFG_ACCESS_FIXED);
	assert_int_equal(verdict(&b.c, "0000:00:03.0", 7)->conds[0].access, VFG_ACCESS_TRAP);
	built_free(&b);
	/* A mode seen in a real mapping wins over the driver's known behaviour. */
	edu.observed[0] = CACHE_X86_WC;
	assert_int_equal(compile(text, &b, ARCH_X86_64), 0);
	assert_int_equal(verdict(&b.c, "0000:00:03.0", 0)->conds[0].access, VFG_ACCESS_TRAP);
	assert_int_equal(verdict(&b.c, "0000:00:03.0", 0)->assumed_cache, CACHE_X86_WC);
	edu.observed[0] = CACHE_UNKNOWN;
	built_free(&b);
}

/*
 * A driver pattern matches the kernel's name with '-' or '_' (a variant driver's PCI driver is
 * named after its module: nvgrace_gpu_vfio_pci), and so does the driver's known cache mode.
 */
static void driver_spelled_either_way(void **state)
{
	struct built b;

	assert_int_equal(compile("default: trap\n"
				 "rules:\n"
				 "  - name: vfio\n"
				 "    match: {driver: vfio_pci}\n"
				 "    access: direct\n",
				 &b, ARCH_X86_64),
			 0);
	assert_int_equal(verdict(&b.c, "0000:00:03.0", 0)->conds[0].access, VFG_ACCESS_DIRECT);
	built_free(&b);
	snprintf(edu.driver, sizeof(edu.driver), "%s", "nvgrace_gpu_vfio_pci");
	assert_int_equal(compile("default: trap\n"
				 "rules:\n"
				 "  - name: usemem\n"
				 "    match: {driver: nvgrace-gpu*, cache: Normal}\n"
				 "    access: direct\n",
				 &b, ARCH_ARM64),
			 0);
	assert_int_equal(verdict(&b.c, "0000:00:03.0", 4)->conds[0].access, VFG_ACCESS_DIRECT);
	assert_int_equal(verdict(&b.c, "0000:00:03.0", 4)->assumed_cache, CACHE_ARM64_NORMAL);
	assert_int_equal(verdict(&b.c, "0000:00:03.0", 0)->conds[0].access, VFG_ACCESS_TRAP);
	snprintf(edu.driver, sizeof(edu.driver), "%s", "vfio-pci");
	built_free(&b);
	(void)state;
}

static void assumed_modes(void **state)
{
	static const struct {
		enum host_arch arch;
		const char *driver;
		unsigned int region;
		enum cache_mode observed, assumed;
	} cases[] = {
		{ ARCH_X86_64, "vfio-pci", 0, CACHE_UNKNOWN, CACHE_X86_UC_MINUS },
		{ ARCH_ARM64, "vfio-pci", 6, CACHE_UNKNOWN, CACHE_ARM64_DEVICE_nGnRnE },
		/* The driver's name as the kernel gives it (after its module), and as written. */
		{ ARCH_ARM64, "nvgrace_gpu_vfio_pci", 4, CACHE_UNKNOWN, CACHE_ARM64_NORMAL },
		{ ARCH_ARM64, "nvgrace-gpu-vfio-pci", 2, CACHE_UNKNOWN, CACHE_ARM64_NORMAL_NC },
		{ ARCH_X86_64, "vfio-pci", 7, CACHE_UNKNOWN, CACHE_UNKNOWN },
		{ ARCH_X86_64, "vfio-pci", 9, CACHE_UNKNOWN, CACHE_UNKNOWN },
		{ ARCH_X86_64, "vfio-pci", 0, CACHE_X86_WB, CACHE_X86_WB },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(assumed_cache_mode(cases[i].arch, cases[i].driver, cases[i].region,
						    cases[i].observed),
				 cases[i].assumed);
}

/*
 * Every cell of the table: each cache mode on each architecture, for a register region and for
 * a memory region, under direct access; fixed and trap forbid everything whatever the rest.
 */
static void hazard_table(void **state)
{
	enum { S = HAZARD_SPLIT | HAZARD_DUP | HAZARD_REORDER, I = HAZARD_WIDE | HAZARD_UNALIGNED,
	       ALL = HAZARD_ALL };
	static const struct {
		enum cache_mode cache;
		/* x86_64 registers, memory; arm64 registers, memory */
		uint32_t x86_reg, x86_mem, arm_reg, arm_mem;
	} cells[] = {
		{ CACHE_X86_WB, S, 0, ALL, ALL },
		{ CACHE_X86_WC, S, 0, ALL, ALL },
		{ CACHE_X86_UC_MINUS, S, 0, ALL, ALL },
		{ CACHE_X86_UC, S, 0, ALL, ALL },
		{ CACHE_X86_WT, S, 0, ALL, ALL },
		{ CACHE_X86_WP, S, 0, ALL, ALL },
		{ CACHE_ARM64_NORMAL, ALL, ALL, S, 0 },
		{ CACHE_ARM64_NORMAL_TAGGED, ALL, ALL, S, 0 },
		{ CACHE_ARM64_NORMAL_NC, ALL, ALL, S, 0 },
		{ CACHE_ARM64_NORMAL_WT, ALL, ALL, S, 0 },
		{ CACHE_ARM64_DEVICE_nGnRnE, ALL, ALL, S | I, I },
		{ CACHE_ARM64_DEVICE_nGnRE, ALL, ALL, S | I, I },
		{ CACHE_ARM64_DEVICE_GRE, ALL, ALL, S | I, I },
		{ CACHE_UNKNOWN, ALL, ALL, ALL, ALL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		enum cache_mode c = cells[i].cache;

		assert_int_equal(hazard_violations(ARCH_X86_64, c, ACCESS_DIRECT, SEMANTICS_REGISTERS),
				 cells[i].x86_reg);
		assert_int_equal(hazard_violations(ARCH_X86_64, c, ACCESS_DIRECT, SEMANTICS_MEMORY),
				 cells[i].x86_mem);
		assert_int_equal(hazard_violations(ARCH_ARM64, c, ACCESS_DIRECT, SEMANTICS_REGISTERS),
				 cells[i].arm_reg);
		assert_int_equal(hazard_violations(ARCH_ARM64, c, ACCESS_DIRECT, SEMANTICS_MEMORY),
				 cells[i].arm_mem);
		for (enum region_semantics m = SEMANTICS_REGISTERS; m <= SEMANTICS_MEMORY; m++) {
			assert_int_equal(hazard_violations(ARCH_X86_64, c, ACCESS_FIXED, m), ALL);
			assert_int_equal(hazard_violations(ARCH_ARM64, c, ACCESS_TRAP, m), ALL);
		}
	}
}

/* A rule's semantics win over the driver's; nvgrace-gpu's device memory is memory by default. */
static void region_semantics(void **state)
{
	struct rule mem = { .has_semantics = true, .semantics = SEMANTICS_MEMORY };
	struct rule reg = { .has_semantics = true, .semantics = SEMANTICS_REGISTERS };
	struct rule none = { .access = ACCESS_DIRECT };
	struct rule named = { .access = ACCESS_DIRECT, .has_hazards = true,
			      .hazards = HAZARD_WIDE };

	(void)state;
	assert_int_equal(region_semantics_default("vfio-pci", 2), SEMANTICS_REGISTERS);
	assert_int_equal(region_semantics_default(NULL, 4), SEMANTICS_REGISTERS);
	assert_int_equal(region_semantics_default("nvgrace_gpu_vfio_pci", 0), SEMANTICS_REGISTERS);
	assert_int_equal(region_semantics_default("nvgrace_gpu_vfio_pci", 2), SEMANTICS_MEMORY);
	assert_int_equal(region_semantics_default("nvgrace-gpu-vfio-pci", 4), SEMANTICS_MEMORY);
	assert_int_equal(region_semantics_of(&reg, "nvgrace_gpu_vfio_pci", 4), SEMANTICS_REGISTERS);
	assert_int_equal(region_semantics_of(&mem, "vfio-pci", 0), SEMANTICS_MEMORY);
	assert_int_equal(region_semantics_of(&none, "nvgrace_gpu_vfio_pci", 4), SEMANTICS_MEMORY);
	assert_int_equal(region_semantics_of(NULL, "vfio-pci", 0), SEMANTICS_REGISTERS);
	/* A rule's hazards are the violations, whatever the semantics and the mode. */
	assert_int_equal(rule_violations(&named, ARCH_X86_64, CACHE_X86_WC, ACCESS_DIRECT,
					 SEMANTICS_REGISTERS), HAZARD_WIDE);
	assert_int_equal(rule_violations(&none, ARCH_X86_64, CACHE_X86_WC, ACCESS_DIRECT,
					 SEMANTICS_MEMORY), 0);
	assert_int_equal(rule_violations(NULL, ARCH_X86_64, CACHE_X86_WC, ACCESS_DIRECT,
					 SEMANTICS_REGISTERS), HAZARD_SPLIT | HAZARD_DUP | HAZARD_REORDER);
}

UNIT_MAIN(cmocka_unit_test(process_rules_then_unconditional),
	  cmocka_unit_test(unseen_region_gets_the_strictest_verdict),
	  cmocka_unit_test(unenforceable_patterns_are_errors_at_the_rule),
	  cmocka_unit_test(too_many_process_rules),
	  cmocka_unit_test(cache_matchers_use_the_assumption),
	  cmocka_unit_test(driver_spelled_either_way), cmocka_unit_test(assumed_modes),
	  cmocka_unit_test(hazard_table), cmocka_unit_test(region_semantics))
