// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The published regions record: built from a compiled policy, written, read back typed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include <json-c/json.h>
#include <limits.h>
#include <unistd.h>

#include "../../loader/model/run_state.h"

static int fake_exe(const char *path, uint64_t *dev, uint64_t *ino)
{
	*dev = (8ULL << 20) | 1;
	*ino = 4242;
	return 0;
}

static int fake_cgroup(const char *path, uint64_t *id)
{
	*id = 77;
	return 0;
}

static const struct resolver fake = { .exe = fake_exe, .cgroup = fake_cgroup };

static const struct device_facts devs[] = {
	{ .name = "0000:00:03.0", .driver = "vfio-pci", .vendor = 0x1234, .device_id = 0x11e8 },
	{ .name = "0000:00:04.0", .driver = "vfio-pci", .vendor = 0x1af4, .device_id = 0x1110 },
	{ .name = "0000:00:05.0", .driver = "e1000", .vendor = 0x8086, .device_id = 0x100e },
};

/* edu has BAR0, ivshmem BAR0 and BAR2; config space always. */
static uint64_t present(const char *dev)
{
	return (1ULL << 7) | 1 | (strcmp(dev, "0000:00:04.0") ? 0 : 1ULL << 2);
}

/*
 * The GH100: BAR0 registers in sysfs; its driver presents BAR2 (reserved memory) and BAR4 (usable
 * memory), which are none of its resources. ivshmem BAR2.
 */
static uint64_t present_gh(const char *dev)
{
	return strcmp(dev, "0009:01:00.0") ? 1ULL << 2 : 1;
}

static const char text[] =
	"mode: enforce\n"
	"default: fixed\n"
	"rules:\n"
	"  - name: edu-bar0-testvmm\n"
	"    match: {device: \"0000:00:03.0\", region: bar0, comm: \"vfg-*\"}\n"
	"    access: trap\n"
	"  - name: ivshmem-bar2\n"
	"    match: {device: \"0000:00:04.0\", region: bar2}\n"
	"    access: direct\n"
	"    hazards: [dup]\n"
	"    mode: audit\n";

static const struct run_region *region(const struct run_regions *r, const char *dev,
				       unsigned int index)
{
	for (size_t d = 0; d < r->ndevices; d++)
		for (size_t i = 0; !strcmp(r->devices[d].device, dev) && i < r->devices[d].nregions;
		     i++)
			if (r->devices[d].regions[i].index == index)
				return &r->devices[d].regions[i];
	return NULL;
}

static void built_written_and_read_back(void **state)
{
	struct policy_diags d = {};
	struct compiled c = {};
	struct run_regions r, back;
	const struct run_region *g;
	struct policy p;
	char why[160], *t1, *t2;

	assert_int_equal(policy_parse(text, strlen(text), &p, &d), 0);
	assert_int_equal(policy_compile(&p, ARCH_X86_64, devs, 3, &fake, &c, &d), 0);
	assert_int_equal(run_regions_build(&r, &p, &c, devs, 3, present, ARCH_X86_64, 7,
					   "/etc/vfioguard/policy.yaml", 0xdeadbeef), 0);
	/* Only the devices bound to a VFIO driver, only the regions they have. */
	assert_int_equal(r.ndevices, 2);
	g = region(&r, "0000:00:03.0", 0);
	assert_non_null(g);
	assert_int_equal(g->access, ACCESS_FIXED); /* the default for other processes */
	assert_null(g->rule);
	assert_int_equal(g->nprocess_rules, 1);
	assert_string_equal(g->process_rules[0].rule, "edu-bar0-testvmm");
	assert_int_equal(g->process_rules[0].access, ACCESS_TRAP);
	/* Registers (vfio-pci's BAR0); trap and fixed forbid everything. */
	assert_true(g->judged.has_semantics && g->judged.has_violations);
	assert_int_equal(g->judged.semantics, SEMANTICS_REGISTERS);
	assert_int_equal(g->judged.violations, HAZARD_ALL);
	assert_true(g->process_rules[0].judged.has_semantics);
	assert_int_equal(g->process_rules[0].judged.violations, HAZARD_ALL);
	assert_null(region(&r, "0000:00:03.0", 2));
	g = region(&r, "0000:00:04.0", 2);
	assert_non_null(g);
	assert_int_equal(g->access, ACCESS_DIRECT);
	assert_false(g->enforce);
	assert_string_equal(g->rule, "ivshmem-bar2");
	assert_int_equal(g->judged.violations, HAZARD_DUP);
	assert_int_equal(g->cache, CACHE_X86_UC_MINUS); /* vfio-pci's BARs: noncached */
	t1 = run_regions_format(&r);
	assert_non_null(t1);
	assert_int_equal(run_regions_parse(t1, &back, why, sizeof(why)), 0);
	assert_int_equal(back.generation, 7);
	assert_int_equal(back.crc32, 0xdeadbeef);
	assert_int_equal(back.arch, ARCH_X86_64);
	assert_string_equal(back.policy, "/etc/vfioguard/policy.yaml");
	g = region(&back, "0000:00:04.0", 2);
	assert_non_null(g);
	assert_int_equal(g->judged.violations, HAZARD_DUP);
	assert_int_equal(g->cache, CACHE_X86_UC_MINUS);
	assert_int_equal(back.devices[1].vendor, 0x1af4);
	g = region(&back, "0000:00:03.0", 0);
	assert_int_equal(g->judged.semantics, SEMANTICS_REGISTERS);
	assert_int_equal(g->process_rules[0].judged.violations, HAZARD_ALL);
	/* Read back and written again: the same text. */
	t2 = run_regions_format(&back);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	run_regions_free(&back);
	run_regions_free(&r);
	compiled_free(&c);
	policy_diags_free(&d);
	policy_free(&p);
}

static void bad_text_says_where(void **state)
{
	struct run_regions r;
	char why[160];

	assert_int_equal(run_regions_parse("[]", &r, why, sizeof(why)), -EINVAL);
	assert_int_equal(run_regions_parse("{\"generation\": 1, \"policy\": \"p\", \"crc32\": "
					   "\"00000000\", \"arch\": \"x86_64\", \"devices\": [{"
					   "\"device\": \"d\", \"driver\": \"vfio-pci\", \"id\": "
					   "\"1234:11e8\", \"regions\": [{\"index\": 0, \"access\": "
					   "\"sometimes\"}]}]}", &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "devices[0].regions[0]: unknown access 'sometimes'");
	/* A fault after a device read well is still a fault. */
	assert_int_equal(run_regions_parse("{\"generation\": 1, \"policy\": \"p\", \"crc32\": "
					   "\"00000000\", \"arch\": \"x86_64\", \"devices\": [{"
					   "\"device\": \"d\", \"driver\": \"vfio-pci\", \"id\": "
					   "\"1234:11e8\", \"regions\": []}, {\"device\": \"e\"}]}",
					   &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "devices[1]: 'driver' missing or not a string");
	assert_int_equal(run_regions_parse("{\"generation\": 1, \"policy\": \"p\", \"crc32\": "
					   "\"zz\", \"arch\": \"x86_64\", \"devices\": []}",
					   &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "top: crc32 'zz' is not eight hex digits");
	/* Nothing the writer would not write is read as something else. */
	{
		static const char *const bad[][2] = {
			{ "\"mode\": \"loud\"", "devices[0].regions[0]: unknown mode 'loud'" },
			{ "\"mode\": \"audit\", \"rule\": 7",
			  "devices[0].regions[0]: 'rule' is neither a string nor null" },
			{ "\"mode\": \"audit\", \"rule\": null, \"cache\": \"XX\"",
			  "devices[0].regions[0]: unknown cache mode 'XX'" },
			{ "\"mode\": \"audit\", \"rule\": null, \"cache\": null, "
			  "\"violations\": \"dup,,split\"",
			  "devices[0].regions[0]: violations 'dup,,split' is no hazard set" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char doc[600];

			snprintf(doc, sizeof(doc),
				 "{\"generation\": 1, \"policy\": \"p\", \"crc32\": \"00000000\", "
				 "\"arch\": \"x86_64\", \"devices\": [{\"device\": \"d\", "
				 "\"driver\": \"vfio-pci\", \"id\": \"1234:11e8\", \"regions\": "
				 "[{\"index\": 0, \"access\": \"fixed\", %s}]}]}", bad[i][0]);
			assert_int_equal(run_regions_parse(doc, &r, why, sizeof(why)), -EINVAL);
			assert_string_equal(why, bad[i][1]);
		}
		assert_int_equal(run_regions_parse("{\"generation\": 1, \"policy\": \"p\", "
						   "\"crc32\": \"0000000g\", \"arch\": \"x86_64\", "
						   "\"devices\": []}", &r, why, sizeof(why)), -EINVAL);
		assert_int_equal(run_regions_parse("{\"generation\": 1, \"policy\": \"p\", "
						   "\"crc32\": \"00000000\", \"arch\": \"sparc\", "
						   "\"devices\": []}", &r, why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "top: unknown arch 'sparc'");
		assert_int_equal(run_regions_parse("{\"generation\": 1, \"policy\": \"p\", "
						   "\"crc32\": \"00000000\", \"arch\": \"x86_64\", "
						   "\"devices\": [{\"device\": \"d\", \"driver\": \"v\", "
						   "\"id\": \"1234:11e8x\", \"regions\": []}]}",
						   &r, why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "devices[0]: id '1234:11e8x' is not VENDOR:DEVICE");
	}
}

/*
 * What a region holds: nvgrace-gpu's device memory by default, a rule's word elsewhere, and a
 * process rule's own; a file of an older version (no semantics) is read back without guessing.
 */
static void semantics_published(void **state)
{
	static const struct device_facts gh[] = {
		{ .name = "0009:01:00.0", .driver = "nvgrace_gpu_vfio_pci", .vendor = 0x10de,
		  .device_id = 0x2342 },
		{ .name = "0000:00:04.0", .driver = "vfio-pci", .vendor = 0x1af4, .device_id = 0x1110 },
	};
	static const char gtext[] =
		"default: direct\n"
		"rules:\n"
		"  - name: strict-usemem\n"
		"    match: {driver: nvgrace_gpu*, region: bar4, comm: strict}\n"
		"    access: direct\n"
		"    semantics: registers\n"
		"  - name: ivshmem-ram\n"
		"    match: {device: \"0000:00:04.0\", region: bar2}\n"
		"    access: direct\n"
		"    semantics: memory\n";
	static const char old[] =
		"{\"generation\": 1, \"policy\": \"p\", \"crc32\": \"00000000\", "
		"\"arch\": \"aarch64\", \"devices\": [{\"device\": \"d\", \"driver\": "
		"\"vfio-pci\", \"id\": \"1234:11e8\", \"regions\": [{\"index\": 0, \"name\": "
		"\"BAR0\", \"access\": \"direct\", \"mode\": \"enforce\", \"rule\": null, "
		"\"cache\": null, \"violations\": \"split\", \"process_rules\": "
		"[{\"rule\": \"r\", \"access\": \"trap\"}]}]}]}";
	struct policy_diags d = {};
	struct compiled c = {};
	struct run_regions r, back;
	const struct run_region *g;
	struct policy p;
	char why[160], *t;

	(void)state;
	assert_int_equal(policy_parse(gtext, strlen(gtext), &p, &d), 0);
	assert_int_equal(policy_compile(&p, ARCH_ARM64, gh, 2, &fake, &c, &d), 0);
	assert_int_equal(run_regions_build(&r, &p, &c, gh, 2, present_gh, ARCH_ARM64, 1, "p", 0),
			 0);
	g = region(&r, "0009:01:00.0", 4); /* usemem: Normal, memory */
	assert_non_null(g);
	assert_int_equal(g->cache, CACHE_ARM64_NORMAL);
	assert_int_equal(g->judged.semantics, SEMANTICS_MEMORY);
	assert_int_equal(g->judged.violations, 0);
	assert_int_equal(g->nprocess_rules, 1);
	assert_int_equal(g->process_rules[0].judged.semantics, SEMANTICS_REGISTERS);
	assert_int_equal(g->process_rules[0].judged.violations,
			 HAZARD_SPLIT | HAZARD_DUP | HAZARD_REORDER);
	g = region(&r, "0009:01:00.0", 2); /* resmem: Normal-NC, memory */
	assert_non_null(g);
	assert_int_equal(g->cache, CACHE_ARM64_NORMAL_NC);
	assert_int_equal(g->judged.semantics, SEMANTICS_MEMORY);
	g = region(&r, "0009:01:00.0", 0); /* its registers: Device */
	assert_int_equal(g->judged.semantics, SEMANTICS_REGISTERS);
	assert_int_equal(g->judged.violations, HAZARD_ALL);
	g = region(&r, "0000:00:04.0", 2); /* RAM behind a Device BAR, as the rule says */
	assert_int_equal(g->judged.semantics, SEMANTICS_MEMORY);
	assert_int_equal(g->judged.violations, HAZARD_WIDE | HAZARD_UNALIGNED);
	t = run_regions_format(&r);
	assert_int_equal(run_regions_parse(t, &back, why, sizeof(why)), 0);
	g = region(&back, "0009:01:00.0", 4);
	assert_int_equal(g->judged.semantics, SEMANTICS_MEMORY);
	assert_int_equal(g->process_rules[0].judged.semantics, SEMANTICS_REGISTERS);
	free(t);
	run_regions_free(&back);
	run_regions_free(&r);
	compiled_free(&c);
	policy_free(&p);
	policy_diags_free(&d);

	/* An older version's file: its violations stand, what it did not say stays unsaid. */
	assert_int_equal(run_regions_parse(old, &back, why, sizeof(why)), 0);
	g = &back.devices[0].regions[0];
	assert_false(g->judged.has_semantics);
	assert_true(g->judged.has_violations);
	assert_int_equal(g->judged.violations, HAZARD_SPLIT);
	assert_false(g->process_rules[0].judged.has_semantics);
	assert_false(g->process_rules[0].judged.has_violations);
	t = run_regions_format(&back);
	assert_non_null(strstr(t, "\"semantics\":null"));
	free(t);
	run_regions_free(&back);
	/* A semantics nobody writes is refused. */
	{
		char bad[700];

		snprintf(bad, sizeof(bad), "%.*s\"semantics\": \"ram\", %s",
			 (int)(strstr(old, "\"violations\"") - old), old,
			 strstr(old, "\"violations\""));
		assert_int_equal(run_regions_parse(bad, &back, why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "devices[0].regions[0]: semantics \"ram\" is neither "
				    "registers nor memory");
	}
}

/* Every cache mode a verdict can assume is read back as itself. */
static void cache_modes_round_trip(void **state)
{
	char buf[40], name[40];

	for (int m = CACHE_UNKNOWN + 1; m <= CACHE_ARM64_DEVICE_GRE; m++) {
		cache_mode_format(m, 0, buf, sizeof(buf));
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(buf, " "), buf);
		assert_int_equal(cache_mode_from_name(name), m);
	}
	(void)state;
}

static void state_written_and_read_back(void **state)
{
	struct run_state s = { .file = "/etc/vfioguard/policy.yaml", .crc32 = 0x0badf00d,
			       .applied = "2026-12-07T01:02:03Z", .generation = 12,
			       .took_over = true, .mode = POLICY_AUDIT,
			       .default_access = ACCESS_TRAP, .rules = 3, .verdicts = 9 };
	struct json_object *o = run_state_json(&s);
	struct run_state back;
	char why[160];

	assert_int_equal(run_state_parse(json_object_to_json_string(o), &back, why, sizeof(why)),
			 0);
	json_object_put(o);
	assert_memory_equal(&s, &back, sizeof(s));
	assert_int_equal(run_state_parse("{\"file\": \"f\", \"crc32\": \"00000000\", "
					 "\"applied\": \"x\", \"mode\": \"loud\", "
					 "\"default\": \"fixed\"}", &back, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "top: unknown mode 'loud'");
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* What is published, read back: missing files are no error, a broken one is named. */
static void published_read_back(void **state)
{
	char dir[] = "/tmp/vfg-run-XXXXXX";
	struct run_state s = { .file = "/p.yaml", .generation = 5, .mode = POLICY_ENFORCE,
			       .default_access = ACCESS_FIXED };
	struct run_published pub;
	struct json_object *o;

	assert_non_null(mkdtemp(dir));
	run_published_read(dir, RUN_READ_STATE | RUN_READ_REGIONS | RUN_READ_POLICY, &pub);
	assert_false(pub.have_state || pub.have_regions || pub.have_policy);
	assert_string_equal(pub.why, "");
	run_published_free(&pub);

	o = run_state_json(&s);
	write_file(dir, "state.json", json_object_to_json_string(o));
	json_object_put(o);
	write_file(dir, "policy.yaml", text);
	write_file(dir, "regions.json", "{\"generation\": 5}");
	run_published_read(dir, RUN_READ_STATE | RUN_READ_REGIONS | RUN_READ_POLICY, &pub);
	assert_true(pub.have_state);
	assert_int_equal(pub.state.generation, 5);
	assert_true(pub.have_policy);
	assert_string_equal(policy_rule_name(&pub.policy, 1), "ivshmem-bar2");
	assert_string_equal(policy_rule_name(&pub.policy, VFG_RULE_DEFAULT), "(default)");
	assert_null(policy_rule_name(&pub.policy, 2));
	assert_false(pub.have_regions);
	assert_non_null(strstr(pub.why, "regions.json: top: 'policy' missing or not a string"));
	run_published_free(&pub);

	/* Only what was asked for. */
	run_published_read(dir, RUN_READ_STATE, &pub);
	assert_true(pub.have_state);
	assert_false(pub.have_policy || pub.have_regions);
	run_published_free(&pub);
	for (const char *const *n = (const char *const[]){ "state.json", "policy.yaml",
							   "regions.json", NULL }; *n; n++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	rmdir(dir);
}

UNIT_MAIN(cmocka_unit_test(built_written_and_read_back), cmocka_unit_test(bad_text_says_where),
	  cmocka_unit_test(cache_modes_round_trip), cmocka_unit_test(state_written_and_read_back),
	  cmocka_unit_test(published_read_back), cmocka_unit_test(semantics_published))
