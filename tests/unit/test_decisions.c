// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The policy's decisions by rule name, from counts per (generation, rule index, outcome). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include <errno.h>

#include "../../loader/model/decisions.h"

struct counts {
	const struct vfg_rule_count_key *k;
	const uint64_t *n;
	size_t len;
	int err;
};

static int give(struct decisions *d, void *ctx)
{
	const struct counts *c = ctx;

	for (size_t i = 0; i < c->len; i++)
		decisions_count(d, &c->k[i], c->n[i]);
	return c->err;
}

/* A policy of two rules, parsed as apply parses the text it put in force. */
static struct policy two_rules(const char *a, const char *b)
{
	struct policy_diags diags = {};
	struct policy p;
	char text[256];

	snprintf(text, sizeof(text), "mode: enforce\ndefault: fixed\nrules:\n"
		 "  - name: %s\n    access: trap\n  - name: %s\n    access: direct\n", a, b);
	assert_int_equal(policy_parse(text, strlen(text), &p, &diags), 0);
	policy_diags_free(&diags);
	return p;
}

static uint64_t row(const struct decisions *d, bool denied, const char *rule)
{
	for (const struct decision_row *r = d->rows; r; r = r->hh.next)
		if (r->key.denied == denied && !strcmp(r->key.rule, rule))
			return r->n;
	return UINT64_MAX; /* no such row */
}

static size_t nrows(const struct decisions *d)
{
	return HASH_COUNT(d->rows);
}

static void rules_named_by_the_policy_applied(void **state)
{
	struct decisions d = {};
	struct policy p = two_rules("edu-trap", "bar2-direct");
	const struct vfg_rule_count_key k[] = {
		{ .generation = 1, .rule = 0, .denied = 1 },
		{ .generation = 1, .rule = VFG_RULE_DEFAULT, .denied = 0 },
		{ .generation = 1, .rule = 1, .denied = 0 },
		/* A generation this process did not apply: its rules by index. */
		{ .generation = 9, .rule = 1, .denied = 1 },
	};
	const uint64_t n[] = { 3, 5, 2, 4 };
	struct counts c = { k, n, 4, 0 };

	decisions_applied(&d, 1, &p);
	assert_int_equal(decisions_sum(&d, 1, give, &c), 0);
	assert_int_equal(row(&d, true, "edu-trap"), 3);
	assert_int_equal(row(&d, false, "(default)"), 5);
	assert_int_equal(row(&d, false, "bar2-direct"), 2);
	assert_int_equal(row(&d, true, "#1"), 4);
	/* Every rule of the policy in force has both rows, at 0 until counted. */
	assert_int_equal(row(&d, false, "edu-trap"), 0);
	assert_int_equal(row(&d, true, "bar2-direct"), 0);
	assert_int_equal(row(&d, true, "(default)"), 0);
	assert_int_equal(nrows(&d), 7);
	/* Summed anew each time: the kernel's totals, not added to the last read's. */
	assert_int_equal(decisions_sum(&d, 1, give, &c), 0);
	assert_int_equal(row(&d, true, "edu-trap"), 3);
	decisions_free(&d);
}

static void old_policies_forgotten_when_uncounted(void **state)
{
	struct decisions d = {};
	struct policy p1 = two_rules("old-a", "old-b"), p2 = two_rules("new-a", "new-b");
	const struct vfg_rule_count_key k1[] = { { .generation = 1, .rule = 0, .denied = 1 } };
	const uint64_t n1[] = { 1 };
	struct counts counted = { k1, n1, 1, 0 }, none = { NULL, NULL, 0, 0 },
		      failed = { NULL, NULL, 0, -EIO };

	decisions_applied(&d, 1, &p1);
	decisions_applied(&d, 2, &p2);
	/* Generation 1 still counted in the kernel: its names stay. */
	assert_int_equal(decisions_sum(&d, 2, give, &counted), 0);
	assert_int_equal(row(&d, true, "old-a"), 1);
	assert_int_equal(d.napplied, 2);
	/* A failed read forgets nothing. */
	assert_int_equal(decisions_sum(&d, 2, give, &failed), -EIO);
	assert_int_equal(d.napplied, 2);
	/* No count of generation 1 any more and not in force: forgotten. */
	assert_int_equal(decisions_sum(&d, 2, give, &none), 0);
	assert_int_equal(d.napplied, 1);
	assert_int_equal(d.applied[0].generation, 2);
	/* Its counts, should the kernel show them again, are by index. */
	assert_int_equal(decisions_sum(&d, 2, give, &counted), 0);
	assert_int_equal(row(&d, true, "#0"), 1);
	decisions_free(&d);
}

static void at_most_the_kept_policies(void **state)
{
	struct decisions d = {};

	for (uint64_t g = 1; g <= DECISIONS_APPLIED_KEPT + 5; g++) {
		struct policy p = two_rules("a", "b");

		decisions_applied(&d, g, &p);
	}
	assert_int_equal(d.napplied, DECISIONS_APPLIED_KEPT);
	assert_int_equal(d.applied[0].generation, 6);
	assert_int_equal(d.last, DECISIONS_APPLIED_KEPT + 5);
	decisions_free(&d);
}

UNIT_MAIN(cmocka_unit_test(rules_named_by_the_policy_applied),
	  cmocka_unit_test(old_policies_forgotten_when_uncounted),
	  cmocka_unit_test(at_most_the_kept_policies))
