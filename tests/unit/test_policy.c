// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Policy parsing, validation and matching (the corpus of bad files is a host test). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

#include "../../policy/policy.h"

static int parse(const char *text, struct policy *p, struct policy_diags *d)
{
	memset(d, 0, sizeof(*d));
	return policy_parse(text, strlen(text), p, d);
}

static const char full[] =
	"version: 1\n"
	"mode: audit\n"
	"default: fixed\n"
	"rules:\n"
	"  - name: gpu-memory\n"
	"    match:\n"
	"      device: \"0000:01:00.*\"\n"
	"      vendor: 0x10de\n"
	"      device_id: 8994\n"
	"      subsystem_vendor: 0x10de\n"
	"      subsystem_device: 0x16c1\n"
	"      driver: nvgrace-gpu*\n"
	"      region: [9, BAR0]\n"
	"      cache: [normal, Normal-NC]\n"
	"      arch: aarch64\n"
	"      comm: \"qemu-*\"\n"
	"      exe: /usr/bin/qemu-system-aarch64\n"
	"      cgroup: /machine.slice/*\n"
	"    access: direct\n"
	"    hazards: [dup, reorder]\n"
	"    mode: enforce\n"
	"  - name: trap-rest\n"
	"    match:\n"
	"      region: config\n"
	"    access: trap\n";

static void parses_every_field(void **state)
{
	struct policy_diags d;
	struct policy p;
	const struct rule *r;

	assert_int_equal(parse(full, &p, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(p.mode, POLICY_AUDIT);
	assert_int_equal(p.default_access, ACCESS_FIXED);
	assert_int_equal(p.nrules, 2);
	r = &p.rules[0];
	assert_string_equal(r->name, "gpu-memory");
	assert_int_equal(r->pos.line, 5);
	assert_int_equal(r->pos.col, 5);
	assert_string_equal(r->match.device, "0000:01:00.*");
	assert_int_equal(r->match.vendor, 0x10de);
	assert_int_equal(r->match.device_id, 8994);
	assert_int_equal(r->match.subsystem_device, 0x16c1);
	assert_string_equal(r->match.driver, "nvgrace-gpu*");
	assert_int_equal(r->match.regions, (1ULL << 9) | 1);
	assert_int_equal(r->match.caches,
			 (1u << CACHE_ARM64_NORMAL) | (1u << CACHE_ARM64_NORMAL_NC));
	assert_int_equal(r->match.arches, 1u << ARCH_ARM64);
	assert_string_equal(r->match.exe, "/usr/bin/qemu-system-aarch64");
	assert_int_equal(r->access, ACCESS_DIRECT);
	assert_true(r->has_hazards);
	assert_int_equal(r->hazards, HAZARD_DUP | HAZARD_REORDER);
	assert_true(r->has_mode);
	assert_int_equal(r->mode, POLICY_ENFORCE);
	assert_int_equal(p.rules[1].match.regions, 1ULL << 7);
	assert_int_equal(p.rules[1].match.vendor, -1);
	policy_free(&p);
	policy_diags_free(&d);
}

static void first_match_wins_and_default(void **state)
{
	struct policy_diags d;
	struct policy p;
	struct policy_subject s = {
		.device = "0000:01:00.0", .driver = "nvgrace_gpu_vfio_pci", .comm = "qemu-kvm",
		.exe = "/usr/bin/qemu-system-aarch64", .cgroup = "/machine.slice/vm1.scope",
		.vendor = 0x10de, .device_id = 8994, .subsystem_vendor = 0x10de,
		.subsystem_device = 0x16c1, .region = 9, .cache = CACHE_ARM64_NORMAL_NC,
		.arch = ARCH_ARM64,
	};

	assert_int_equal(parse(full, &p, &d), 0);
	assert_int_equal(policy_match(&p, &s), 0);
	/* Each matcher can refuse on its own. */
	s.cache = CACHE_ARM64_DEVICE_nGnRE;
	assert_int_equal(policy_match(&p, &s), -1);
	s.cache = CACHE_UNKNOWN; /* not known yet: a cache matcher does not match */
	assert_int_equal(policy_match(&p, &s), -1);
	s.cache = CACHE_ARM64_NORMAL;
	s.comm = "firecracker";
	assert_int_equal(policy_match(&p, &s), -1);
	s.comm = "qemu-kvm";
	s.exe = NULL; /* unknown executable */
	assert_int_equal(policy_match(&p, &s), -1);
	s.exe = "/usr/bin/qemu-system-aarch64";
	s.arch = ARCH_X86_64;
	assert_int_equal(policy_match(&p, &s), -1);
	s.arch = ARCH_ARM64;
	s.vendor = 0x8086;
	assert_int_equal(policy_match(&p, &s), -1);
	s.vendor = 0x10de;
	s.region = 7;
	assert_int_equal(policy_match(&p, &s), 1);
	s.region = 2;
	assert_int_equal(policy_match(&p, &s), -1);
	s.region = 0;
	assert_int_equal(policy_match(&p, &s), 0);
	policy_free(&p);
	policy_diags_free(&d);
}

static void collects_every_error(void **state)
{
	struct policy_diags d;
	struct policy p;

	assert_int_equal(parse("mode: x\nrules:\n  - name: a\n    access: y\n", &p, &d), -EINVAL);
	/* The bad mode, the bad access and the missing default: all three, in file order. */
	assert_int_equal(d.errors, 3);
	assert_int_equal(d.v[0].pos.line, 1);
	assert_int_equal(d.v[0].pos.col, 7);
	assert_non_null(strstr(d.v[0].message, "unknown mode 'x'"));
	assert_int_equal(d.v[1].pos.line, 4);
	assert_non_null(strstr(d.v[1].message, "unknown access class 'y'"));
	assert_non_null(strstr(d.v[2].message, "no 'default'"));
	/* Nothing half-parsed is left behind. */
	assert_int_equal(p.nrules, 0);
	assert_null(p.rules);
	policy_diags_free(&d);
}

static void shadowed_rules_warn(void **state)
{
	struct policy_diags d;
	struct policy p;

	assert_int_equal(parse("default: trap\n"
			       "rules:\n"
			       "  - name: all\n"
			       "    access: fixed\n"
			       "  - name: later\n"
			       "    match: {region: bar0}\n"
			       "    access: direct\n",
			       &p, &d),
			 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.n, 1);
	assert_true(d.v[0].warning);
	assert_int_equal(d.v[0].pos.line, 5);
	assert_non_null(strstr(d.v[0].message, "rule 'later' can never match: rule 'all'"));
	policy_free(&p);
	policy_diags_free(&d);

	/* A narrower rule first does not shadow a wider one. */
	assert_int_equal(parse("default: trap\n"
			       "rules:\n"
			       "  - name: bar0\n"
			       "    match: {region: bar0, comm: \"qemu*\"}\n"
			       "    access: fixed\n"
			       "  - name: bars\n"
			       "    match: {region: [bar0, bar2], comm: \"qemu*\"}\n"
			       "    access: direct\n",
			       &p, &d),
			 0);
	assert_int_equal(d.n, 0);
	policy_free(&p);
	policy_diags_free(&d);
}

/* A driver pattern matches the kernel's name for the driver written with '-' or with '_'. */
static void driver_names_either_spelling(void **state)
{
	static const struct {
		const char *pattern, *name;
		bool matches;
	} cases[] = {
		{ "nvgrace-gpu*", "nvgrace_gpu_vfio_pci", true },
		{ "nvgrace_gpu_vfio_pci", "nvgrace_gpu_vfio_pci", true },
		{ "nvgrace_gpu*", "nvgrace-gpu-vfio-pci", true },
		{ "vfio-pci", "vfio-pci", true },
		{ "vfio_pci", "vfio-pci", true },
		{ "vfio-pci", "vfio-pci-core", false },
		{ "nvgrace-gpu*", "vfio-pci", false },
		{ "nvgrace-gpu*", "", false },
		{ "nvgrace-gpu*", NULL, false },
		{ NULL, NULL, true },
	};

	struct policy_diags d;
	struct policy p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(driver_matches(cases[i].pattern, cases[i].name), cases[i].matches);
	/* The same driver in the other spelling, after it, can never match. */
	assert_int_equal(parse("default: trap\n"
			       "rules:\n"
			       "  - name: dashes\n"
			       "    match: {driver: vfio-pci}\n"
			       "    access: fixed\n"
			       "  - name: underscores\n"
			       "    match: {driver: vfio_pci}\n"
			       "    access: direct\n",
			       &p, &d),
			 0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].message, "rule 'underscores' can never match"));
	policy_free(&p);
	policy_diags_free(&d);
	(void)state;
}

static void hazards_and_names(void **state)
{
	char buf[64];

	assert_string_equal(hazard_set_format(0, buf, sizeof(buf)), "none");
	assert_string_equal(hazard_set_format(HAZARD_ALL, buf, sizeof(buf)),
			    "split,dup,reorder,wide,unaligned");
	assert_string_equal(hazard_set_format(HAZARD_WIDE | HAZARD_SPLIT, buf, sizeof(buf)),
			    "split,wide");
	assert_int_equal(cache_mode_from_name("uc-"), CACHE_X86_UC_MINUS);
	assert_int_equal(cache_mode_from_name("Device-nGnRE"), CACHE_ARM64_DEVICE_nGnRE);
	assert_int_equal(cache_mode_from_name("UC--"), CACHE_UNKNOWN);
	assert_string_equal(access_class_name(ACCESS_TRAP), "trap");
	assert_string_equal(policy_mode_name(POLICY_AUDIT), "audit");
}

static void empty_hazard_list_means_none(void **state)
{
	struct policy_diags d;
	struct policy p;

	assert_int_equal(parse("default: fixed\nrules:\n  - name: a\n    access: fixed\n"
			       "    hazards: []\n",
			       &p, &d),
			 0);
	assert_true(p.rules[0].has_hazards);
	assert_int_equal(p.rules[0].hazards, 0);
	policy_free(&p);
	policy_diags_free(&d);
}

UNIT_MAIN(cmocka_unit_test(parses_every_field), cmocka_unit_test(first_match_wins_and_default),
	  cmocka_unit_test(collects_every_error), cmocka_unit_test(shadowed_rules_warn),
	  cmocka_unit_test(driver_names_either_spelling), cmocka_unit_test(hazards_and_names),
	  cmocka_unit_test(empty_hazard_list_means_none))
