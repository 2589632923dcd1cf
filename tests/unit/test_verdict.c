// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The memoised verdicts: a verdict once given stays where it is while more are asked for, and
 * the policy's rules are matched on the facts the resolver gives for the process and device.
 */
#include <stdint.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../policy/verdict.h"

static bool odd_alive(uint32_t pid, void *ctx)
{
	return pid % 2;
}

/* Processes 1..99 run /usr/bin/qemu in /machine.slice/vm1, the others /usr/bin/other. */
static unsigned int process_calls;

static void fake_process(uint32_t pid, char *exe, size_t exe_len, char *cgroup, size_t cgroup_len)
{
	process_calls++;
	snprintf(exe, exe_len, "%s", pid < 100 ? "/usr/bin/qemu" : "/usr/bin/other");
	snprintf(cgroup, cgroup_len, "%s", pid < 100 ? "/machine.slice/vm1" : "/system.slice");
}

/* DEV is a 1af4:1110 bound to vfio-pci, GH100 a GH100 bound to nvgrace-gpu; others unknown. */
#define DEV "0000:00:03.0"
#define GH100 "0009:01:00.0"
static void fake_device(const char *name, struct device_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->vendor = f->device_id = f->subsystem_vendor = f->subsystem_device = -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (!strcmp(name, GH100)) {
		f->vendor = 0x10de;
		f->device_id = 0x2342;
		snprintf(f->driver, sizeof(f->driver), "nvgrace_gpu_vfio_pci");
	}
	if (strcmp(name, DEV))
		return;
	f->vendor = 0x1af4;
	f->device_id = 0x1110;
	snprintf(f->driver, sizeof(f->driver), "vfio-pci");
}

static const struct resolver fake = { .process = fake_process, .device = fake_device };

/*
 * monitor's region table asks for one verdict per row and keeps each pointer: with 34 processes
 * the memo grew under the first rows, and the summary printed freed memory as their rule.
 */
static void verdicts_stay(void **state)
{
	struct verdicts vs;
	const struct verdict *first, *v;
	char rule[sizeof(first->rule)];
	void *between[200] = {};
	size_t n = 0;

	verdicts_init(&vs, ARCH_X86_64, &fake, NULL);
	first = verdict_of(&vs, 1, "vmm", DEV, 0, CACHE_X86_UC_MINUS);
	assert_non_null(first);
	assert_string_equal(first->rule, "no policy in force");
	assert_int_equal(first->access, ACCESS_DIRECT);
	snprintf(rule, sizeof(rule), "%s", first->rule);
	for (uint32_t pid = 2; pid < 200; pid++) {
		v = verdict_of(&vs, pid, "vmm", "0000:00:04.0", 2, CACHE_X86_UC_MINUS);
		assert_non_null(v);
		assert_int_equal(v->pid, pid);
		/* As monitor does between two rows: the memo cannot grow where it is. */
		between[pid] = malloc(64);
	}
	assert_int_equal(first->pid, 1);
	assert_string_equal(first->device, DEV);
	assert_int_equal(first->region, 0);
	assert_string_equal(first->rule, rule);
	/* Asked again: the same verdict, not a second one. */
	assert_ptr_equal(verdict_of(&vs, 1, "vmm", DEV, 0, CACHE_X86_UC_MINUS), first);
	assert_int_equal(verdicts_count(&vs), 199);
	/* Another region or device of the same process is another verdict. */
	assert_ptr_not_equal(verdict_of(&vs, 1, "vmm", DEV, 2, CACHE_X86_UC_MINUS), first);
	assert_ptr_not_equal(verdict_of(&vs, 1, "vmm", "0000:00:04.0", 0, CACHE_X86_UC_MINUS), first);
	assert_int_equal(verdicts_count(&vs), 201);
	/* A PID used again is another process: its verdicts are asked for again. */
	verdicts_forget_pid(&vs, 7);
	assert_int_equal(verdicts_count(&vs), 200);
	assert_ptr_equal(verdict_of(&vs, 1, "vmm", DEV, 0, CACHE_X86_UC_MINUS), first);
	verdicts_forget_exited(&vs, odd_alive, NULL);
	assert_int_equal(verdicts_count(&vs), 101); /* 1 (three), 3, ..., 199 less 7 */
	for (uint32_t pid = 0; pid < 200; pid++)
		if (pid % 2 == 0 || pid == 7)
			for (unsigned int r = 0; r < 3; r++)
				n += verdict_of(&vs, pid, "vmm", DEV, r,
						CACHE_X86_UC_MINUS) != NULL;
	assert_int_equal(verdicts_count(&vs), 101 + n);
	verdicts_free(&vs);
	for (size_t i = 0; i < 200; i++)
		free(between[i]);
	(void)state;
}

/* Verdicts of the policy text, written to a new file made from the template path. */
static void verdicts_of_text(struct verdicts *vs, char *path, const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	verdicts_init(vs, ARCH_X86_64, &fake, path);
}

/* The verdict for the region is rule's, with access (where access >= 0). */
static void expect(struct verdicts *vs, uint32_t pid, const char *comm,
				    const char *device, unsigned int region, enum cache_mode mode,
				    const char *rule, int access)
{
	const struct verdict *v = verdict_of(vs, pid, comm, device, region, mode);

	assert_string_equal(v->rule, rule);
	if (access >= 0)
		assert_int_equal(v->access, access);
}

/* The rules match on the resolver's executable, cgroup, driver and IDs; the file is read once. */
static void verdicts_match_the_facts(void **state)
{
	char path[] = "/tmp/vfg-verdict-XXXXXX";
	static const char text[] =
		"version: 1\n"
		"default: trap\n"
		"rules:\n"
		"  - name: qemu-bar0\n"
		"    match: { exe: /usr/bin/qemu, cgroup: /machine.slice/*, vendor: 0x1af4, region: bar0 }\n"
		"    access: fixed\n"
		"  - name: bar2\n"
		"    match: { driver: vfio-pci, region: bar2 }\n"
		"    access: direct\n";
	struct verdicts vs;

	verdicts_of_text(&vs, path, text);
	process_calls = 0;
	expect(&vs, 5, "qemu", DEV, 0, CACHE_X86_UC_MINUS, "'qemu-bar0'", ACCESS_FIXED);
	/* Another executable: the first rule does not match, and BAR0 falls to the default. */
	expect(&vs, 105, "qemu", DEV, 0, CACHE_X86_UC_MINUS, "default", ACCESS_TRAP);
	expect(&vs, 105, "qemu", DEV, 2, CACHE_X86_UC_MINUS, "'bar2'", ACCESS_DIRECT);
	/* Another device: not bound to vfio-pci as the resolver says, so no rule matches. */
	expect(&vs, 5, "qemu", "0000:00:04.0", 2, CACHE_X86_UC_MINUS, "default", -1);
	assert_int_equal(process_calls, 4);
	/* Memoised: the facts are not read again. */
	verdict_of(&vs, 5, "qemu", DEV, 0, CACHE_X86_UC_MINUS);
	assert_int_equal(process_calls, 4);
	/* The policy changed: read again (gone now, so no policy is in force). */
	unlink(path);
	verdicts_reset(&vs);
	expect(&vs, 5, "qemu", DEV, 0, CACHE_X86_UC_MINUS, "no policy in force", ACCESS_DIRECT);
	verdicts_free(&vs);
	(void)state;
}

/* A process that renamed itself, or a region mapped with another mode, is judged again. */
static void verdicts_follow_name_and_mode(void **state)
{
	char path[] = "/tmp/vfg-verdict-XXXXXX";
	static const char text[] =
		"version: 1\n"
		"default: direct\n"
		"rules:\n"
		"  - name: vmm-bar2\n"
		"    match: { comm: \"vfg-*\", region: bar2 }\n"
		"    access: trap\n"
		"  - name: wc\n"
		"    match: { cache: WC }\n"
		"    access: fixed\n";
	struct verdicts vs;

	verdicts_of_text(&vs, path, text);
	expect(&vs, 5, "qemu", DEV, 2, CACHE_X86_UC_MINUS, "default", -1);
	expect(&vs, 5, "vfg-testvmm", DEV, 2, CACHE_X86_UC_MINUS, "'vmm-bar2'", ACCESS_TRAP);
	expect(&vs, 6, "qemu", DEV, 0, CACHE_X86_UC_MINUS, "default", -1);
	expect(&vs, 6, "qemu", DEV, 0, CACHE_X86_WC, "'wc'", ACCESS_FIXED);
	unlink(path);
	verdicts_free(&vs);
	(void)state;
}

/* The hazards forbidden in one region, and what the verdict took it to hold. */
static void expect_forbidden(struct verdicts *vs, const char *device, unsigned int region,
			     enum cache_mode mode, enum region_semantics semantics, uint32_t forbidden)
{
	const struct verdict *v = verdict_of(vs, 5, "qemu", device, region, mode);

	assert_int_equal(v->semantics, semantics);
	assert_int_equal(v->forbidden, forbidden);
}

/*
 * What a region holds decides what a direct copy may do: registers are broken by split, dup and
 * reorder whatever the mode (a WC-mapped BAR too), memory only by its mode's ISA rules. GH100's
 * device memory under nvgrace-gpu is memory unless a rule says otherwise.
 */
static void verdicts_follow_semantics(void **state)
{
	const uint32_t reg = HAZARD_SPLIT | HAZARD_DUP | HAZARD_REORDER;
	const uint32_t dev_isa = HAZARD_WIDE | HAZARD_UNALIGNED;
	char path[] = "/tmp/vfg-verdict-XXXXXX";
	static const char text[] =
		"version: 1\n"
		"default: direct\n"
		"rules:\n"
		"  - name: bar2-is-ram\n"
		"    match: { device: \"" DEV "\", region: bar2 }\n"
		"    access: direct\n"
		"    semantics: memory\n"
		"  - name: usemem-as-registers\n"
		"    match: { device: \"" GH100 "\", region: bar4, comm: strict }\n"
		"    access: direct\n"
		"    semantics: registers\n";
	struct verdicts vs;
	int fd;

	/* No policy in force: every region direct, judged by its driver's semantics. */
	verdicts_init(&vs, ARCH_ARM64, &fake, NULL);
	expect_forbidden(&vs, GH100, 4, CACHE_ARM64_NORMAL, SEMANTICS_MEMORY, 0);
	expect_forbidden(&vs, GH100, 2, CACHE_ARM64_NORMAL_NC, SEMANTICS_MEMORY, 0);
	expect_forbidden(&vs, GH100, 0, CACHE_ARM64_DEVICE_nGnRnE, SEMANTICS_REGISTERS,
			 reg | dev_isa);
	expect_forbidden(&vs, DEV, 2, CACHE_ARM64_NORMAL_NC, SEMANTICS_REGISTERS, reg);
	verdicts_free(&vs);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	verdicts_init(&vs, ARCH_X86_64, &fake, path);
	/* A WC mapping of a register BAR, and of one the policy says is RAM. */
	expect_forbidden(&vs, DEV, 0, CACHE_X86_WC, SEMANTICS_REGISTERS, reg);
	expect_forbidden(&vs, DEV, 2, CACHE_X86_WC, SEMANTICS_MEMORY, 0);
	expect_forbidden(&vs, DEV, 2, CACHE_X86_UC_MINUS, SEMANTICS_MEMORY, 0);
	verdicts_free(&vs);
	verdicts_init(&vs, ARCH_ARM64, &fake, path);
	expect_forbidden(&vs, GH100, 4, CACHE_ARM64_NORMAL, SEMANTICS_MEMORY, 0);
	{
		const struct verdict *v = verdict_of(&vs, 7, "strict", GH100, 4, CACHE_ARM64_NORMAL);

		assert_string_equal(v->rule, "'usemem-as-registers'");
		assert_int_equal(v->semantics, SEMANTICS_REGISTERS);
		assert_int_equal(v->forbidden, reg);
	}
	unlink(path);
	verdicts_free(&vs);
	(void)state;
}

/* A copy's judgement: forbidden hazards and trap are violations; unmeasured is reported only. */
static void copies_judged(void **state)
{
	struct verdict fixed = { .access = ACCESS_FIXED, .forbidden = HAZARD_SPLIT | HAZARD_DUP };
	struct verdict trap = { .access = ACCESS_TRAP };
	struct copy_judgement j;

	j = verdict_judge_copy(&fixed, HAZARD_DUP | HAZARD_REORDER, true);
	assert_int_equal(j.bad, HAZARD_DUP);
	assert_true(j.violation && j.report && !j.trap);
	j = verdict_judge_copy(&fixed, HAZARD_REORDER, true);
	assert_int_equal(j.bad, 0);
	assert_false(j.violation || j.report);
	j = verdict_judge_copy(&fixed, 0, false);
	assert_false(j.violation);
	assert_true(j.report);
	j = verdict_judge_copy(&trap, 0, true);
	assert_true(j.trap && j.violation && j.report);
	j = verdict_judge_copy(NULL, HAZARD_DUP, true);
	assert_false(j.violation || j.report || j.trap);
	(void)state;
}

UNIT_MAIN(cmocka_unit_test(verdicts_stay), cmocka_unit_test(verdicts_match_the_facts),
	  cmocka_unit_test(verdicts_follow_name_and_mode),
	  cmocka_unit_test(verdicts_follow_semantics), cmocka_unit_test(copies_judged))
