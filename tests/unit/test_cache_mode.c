// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Cache-mode decoding from recorded page-protection bits, every branch, both arches. */
#include <stdint.h>
#include <string.h>

#include "unit.h"

#include "../../bpf/vfioguard.h"
#include "../../loader/decode/cache_mode.h"

#define PWT (1ULL << 3)
#define PCD (1ULL << 4)
#define PAT (1ULL << 7)

/* What the Debian 6.1 guest showed for a vfio-pci BAR mapped shared read-write: PCD set. */
#define GUEST_61_BAR_PGPROT 0x8000000000000037ULL

static void x86_every_pat_index_through_linux_table(void **state)
{
	/* Linux's PAT: WB, WC, UC-, UC, WB, WP, UC-, WT for indexes 0..7. */
	static const struct {
		uint64_t bits;
		unsigned int index;
		enum cache_mode mode;
		const char *name;
	} cases[] = {
		{ 0, 0, CACHE_X86_WB, "WB" },
		{ PWT, 1, CACHE_X86_WC, "WC" },
		{ PCD, 2, CACHE_X86_UC_MINUS, "UC-" },
		{ PCD | PWT, 3, CACHE_X86_UC, "UC" },
		{ PAT, 4, CACHE_X86_WB, "WB" },
		{ PAT | PWT, 5, CACHE_X86_WP, "WP" },
		{ PAT | PCD, 6, CACHE_X86_UC_MINUS, "UC-" },
		{ PAT | PCD | PWT, 7, CACHE_X86_WT, "WT" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Present, RW, user, accessed, NX around the cache bits must not matter. */
		uint64_t pte = 0x8000000000000027ULL | cases[i].bits;
		struct cache_decode d = cache_mode_from_pgprot_x86(pte, LINUX_PAT_MSR);

		assert_int_equal(d.index, cases[i].index);
		assert_int_equal(d.mode, cases[i].mode);
		assert_string_equal(cache_mode_format(d.mode, pte, buf, sizeof(buf)), cases[i].name);
	}
}

static void x86_guest_bar_mapping_is_uc_minus(void **state)
{
	struct cache_decode d = cache_mode_decode(ARCH_X86_64, GUEST_61_BAR_PGPROT, 6, 1);

	assert_int_equal(d.mode, CACHE_X86_UC_MINUS);
	assert_int_equal(d.index, 2);
}

static void x86_reserved_pat_encodings_are_unknown(void **state)
{
	/* Encodings 2 and 3 are reserved, as is everything from 8 up. */
	static const unsigned int reserved[] = { 2, 3, 8, 0x10, 0xff };
	char buf[32];

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		uint64_t msr = (LINUX_PAT_MSR & ~(0xffULL << 16)) | ((uint64_t)reserved[i] << 16);
		struct cache_decode d = cache_mode_from_pgprot_x86(PCD, msr);

		assert_int_equal(d.index, 2);
		assert_int_equal(d.mode, CACHE_UNKNOWN);
		assert_string_equal(cache_mode_format(d.mode, PCD, buf, sizeof(buf)),
				    "unknown(0x10)");
	}
}

static void x86_other_pat_programming_is_followed(void **state)
{
	/* All-UC PAT (what a kernel with nopat leaves in index 0 is irrelevant: use the MSR given). */
	struct cache_decode d = cache_mode_from_pgprot_x86(0, 0x0000000000000000ULL);

	assert_int_equal(d.mode, CACHE_X86_UC);
	d = cache_mode_from_pgprot_x86(PWT, 0x0000000000000400ULL);
	assert_int_equal(d.mode, CACHE_X86_WT);
	d = cache_mode_from_pgprot_x86(PWT, 0x0000000000000500ULL);
	assert_int_equal(d.mode, CACHE_X86_WP);
}

#define ATTR(i) ((uint64_t)(i) << 2)

static void arm64_current_layout(void **state)
{
	static const enum cache_mode want[8] = {
		CACHE_ARM64_NORMAL,	   CACHE_ARM64_NORMAL_TAGGED, CACHE_ARM64_NORMAL_NC,
		CACHE_ARM64_DEVICE_nGnRnE, CACHE_ARM64_DEVICE_nGnRE,  CACHE_UNKNOWN,
		CACHE_UNKNOWN,		   CACHE_UNKNOWN,
	};
	static const char *const names[8] = {
		"Normal",	"Normal-Tagged", "Normal-NC",	  "Device-nGnRnE",
		"Device-nGnRE", "unknown(0x717)", "unknown(0x71b)", "unknown(0x71f)",
	};
	char buf[32];

	for (unsigned int i = 0; i < 8; i++) {
		/* AF, SH and the valid bits around AttrIndx must not matter. */
		uint64_t pte = 0x703 | ATTR(i);
		struct cache_decode d = cache_mode_from_pgprot_arm64(pte, MAIR_LAYOUT_CURRENT);

		assert_int_equal(d.index, i);
		assert_int_equal(d.mode, want[i]);
		assert_string_equal(cache_mode_format(d.mode, pte, buf, sizeof(buf)), names[i]);
	}
}

static void arm64_pre_5_10_layout(void **state)
{
	static const enum cache_mode want[8] = {
		CACHE_ARM64_DEVICE_nGnRnE, CACHE_ARM64_DEVICE_nGnRE, CACHE_ARM64_DEVICE_GRE,
		CACHE_ARM64_NORMAL_NC,	   CACHE_ARM64_NORMAL,	     CACHE_ARM64_NORMAL_WT,
		CACHE_ARM64_NORMAL_TAGGED, CACHE_UNKNOWN,
	};

	for (unsigned int i = 0; i < 8; i++) {
		struct cache_decode d = cache_mode_from_pgprot_arm64(ATTR(i), MAIR_LAYOUT_PRE_5_10);

		assert_int_equal(d.index, i);
		assert_int_equal(d.mode, want[i]);
	}
}

static void arm64_unknown_layout_is_unknown(void **state)
{
	struct cache_decode d = cache_mode_from_pgprot_arm64(ATTR(0), (enum arm64_mair_layout)7);

	assert_int_equal(d.mode, CACHE_UNKNOWN);
}

static void arm64_layout_follows_kernel_version(void **state)
{
	assert_int_equal(arm64_mair_layout_for(4, 19), MAIR_LAYOUT_PRE_5_10);
	assert_int_equal(arm64_mair_layout_for(5, 9), MAIR_LAYOUT_PRE_5_10);
	assert_int_equal(arm64_mair_layout_for(5, 10), MAIR_LAYOUT_CURRENT);
	assert_int_equal(arm64_mair_layout_for(6, 1), MAIR_LAYOUT_CURRENT);
	/* Device-nGnRE, as pgprot_device() gives, on either side of the change. */
	assert_int_equal(cache_mode_decode(ARCH_ARM64, ATTR(4), 6, 1).mode,
			 CACHE_ARM64_DEVICE_nGnRE);
	assert_int_equal(cache_mode_decode(ARCH_ARM64, ATTR(1), 5, 4).mode,
			 CACHE_ARM64_DEVICE_nGnRE);
	/* Recorded in the arm64 6.12 guest: a vfio-pci BAR (pgprot_noncached), Device-nGnRnE. */
	assert_int_equal(cache_mode_decode(ARCH_ARM64, 0x0068000000000ccfull, 6, 12).mode,
			 CACHE_ARM64_DEVICE_nGnRnE);
	assert_int_equal(cache_mode_decode(ARCH_ARM64, 0x0068000000000ccfull, 6, 12).index, 3);
}

static void unknown_arch_is_unknown(void **state)
{
	char buf[32];
	struct cache_decode d = cache_mode_decode(ARCH_UNKNOWN, 0x37, 6, 1);

	assert_int_equal(d.mode, CACHE_UNKNOWN);
	assert_string_equal(cache_mode_format(d.mode, 0x37, buf, sizeof(buf)), "unknown(0x37)");
	assert_null(cache_mode_name((enum cache_mode)1000));
	assert_null(cache_mode_name(CACHE_UNKNOWN));
}

static void arch_names(void **state)
{
	assert_int_equal(host_arch_from_name("x86_64"), ARCH_X86_64);
	assert_int_equal(host_arch_from_name("aarch64"), ARCH_ARM64);
	assert_int_equal(host_arch_from_name("arm64"), ARCH_ARM64);
	assert_int_equal(host_arch_from_name("riscv64"), ARCH_UNKNOWN);
	assert_string_equal(host_arch_name(ARCH_X86_64), "x86_64");
	assert_string_equal(host_arch_name(ARCH_ARM64), "aarch64");
	assert_string_equal(host_arch_name(ARCH_UNKNOWN), "unknown");
}

/*
 * What KVM lets a guest use, from the vm_flags measured in the guests on a vfio-pci BAR mapping:
 * 6.12 sets VM_ALLOW_ANY_UNCACHED (0x80040444fb on arm64), 6.1 does not (0x40444fb).
 */
static void guest_view_follows_allow_any_uncached(void **state)
{
	(void)state;
	assert_int_equal(cache_mode_guest(ARCH_ARM64, CACHE_ARM64_DEVICE_nGnRnE, 0x80040444fbULL), CACHE_ARM64_NORMAL_NC);
	assert_int_equal(cache_mode_guest(ARCH_ARM64, CACHE_ARM64_DEVICE_nGnRnE, 0x40444fbULL), CACHE_ARM64_DEVICE_nGnRE);
	/* Not a PFN mapping: KVM maps the pages it has, nothing is said. */
	assert_int_equal(cache_mode_guest(ARCH_ARM64, CACHE_ARM64_DEVICE_nGnRnE, 0x80000000fbULL), CACHE_UNKNOWN);
	/* x86: not measured, nothing is said, flag or not. */
	assert_int_equal(cache_mode_guest(ARCH_X86_64, CACHE_X86_UC_MINUS, 0x800c0444fbULL), CACHE_UNKNOWN);
	assert_int_equal(cache_mode_guest(ARCH_UNKNOWN, CACHE_UNKNOWN, 0x80040444fbULL), CACHE_UNKNOWN);
	/* A write-combined VMM mapping (nvgrace-gpu's reserved memory): the same stage 2. */
	assert_int_equal(cache_mode_guest(ARCH_ARM64, CACHE_ARM64_NORMAL_NC, 0x80040444fbULL),
			 CACHE_ARM64_NORMAL_NC);
	/* A cacheable one (its usable memory): what KVM does depends on the kernel; not said. */
	assert_int_equal(cache_mode_guest(ARCH_ARM64, CACHE_ARM64_NORMAL, 0x80040444fbULL),
			 CACHE_UNKNOWN);
}

/*
 * A string instruction's stores, traced one element per step: on WB and WC the CPU may run it
 * as a fast-string operation (wider stores, another order), and an undecoded mode may be one of
 * them; on every other mode, and on arm64 (which has none), the trace stands.
 */
static void string_instructions_follow_the_mode(void **state)
{
	(void)state;
	for (enum cache_mode m = CACHE_UNKNOWN; m <= CACHE_ARM64_DEVICE_GRE; m++)
		assert_int_equal(cache_mode_string_hazards(m),
				 m == CACHE_X86_WB || m == CACHE_X86_WC || m == CACHE_UNKNOWN
					 ? HAZARD_WIDE | HAZARD_REORDER : 0);
}

UNIT_MAIN(cmocka_unit_test(x86_every_pat_index_through_linux_table),
	  cmocka_unit_test(x86_guest_bar_mapping_is_uc_minus),
	  cmocka_unit_test(x86_reserved_pat_encodings_are_unknown),
	  cmocka_unit_test(x86_other_pat_programming_is_followed),
	  cmocka_unit_test(arm64_current_layout), cmocka_unit_test(arm64_pre_5_10_layout),
	  cmocka_unit_test(arm64_unknown_layout_is_unknown),
	  cmocka_unit_test(arm64_layout_follows_kernel_version),
	  cmocka_unit_test(unknown_arch_is_unknown), cmocka_unit_test(arch_names),
	  cmocka_unit_test(guest_view_follows_allow_any_uncached),
	  cmocka_unit_test(string_instructions_follow_the_mode))
