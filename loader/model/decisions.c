// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The policy's decisions by rule name; see decisions.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/compile.h"
#include "../probes/enforce.h"
#include "decisions.h"

void decisions_applied(struct decisions *d, uint64_t generation, struct policy *p)
{
	struct decisions_applied *grown;

	d->last = generation;
	/* At most DECISIONS_APPLIED_KEPT: the oldest one's rules are named by index from then on. */
	if (d->napplied == DECISIONS_APPLIED_KEPT) {
		policy_free(&d->applied[0].policy);
		memmove(d->applied, d->applied + 1, --d->napplied * sizeof(*d->applied));
	}
	grown = realloc(d->applied, (d->napplied + 1) * sizeof(*grown));
	if (!grown) {
		policy_free(p);
		return;
	}
	d->applied = grown;
	grown[d->napplied++] = (struct decisions_applied){ .generation = generation, .policy = *p };
}

/* The row of (outcome, rule name), made at 0 the first time; NULL out of memory. */
static struct decision_row *row_of(struct decisions *d, bool denied, const char *rule)
{
	struct decision_key k;
	struct decision_row *r;

	memset(&k, 0, sizeof(k));
	k.denied = denied;
	snprintf(k.rule, sizeof(k.rule), "%s", rule);
	HASH_FIND(hh, d->rows, &k, sizeof(k), r);
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->key = k;
	HASH_ADD(hh, d->rows, key, sizeof(r->key), r);
	if (!r->hh.tbl) { /* the table could not grow */
		free(r);
		return NULL;
	}
	return r;
}

void decisions_count(struct decisions *d, const struct vfg_rule_count_key *k, uint64_t n)
{
	const struct policy *p = NULL;
	struct decision_row *row;
	char rule[72], index[16];

	for (size_t i = 0; i < d->napplied; i++) {
		if (d->applied[i].generation != k->generation)
			continue;
		d->applied[i].counted = true;
		p = &d->applied[i].policy;
	}
	snprintf(rule, sizeof(rule), "%s", policy_rule_label(p, k->rule, index, sizeof(index)));
	row = row_of(d, k->denied, rule);
	if (row)
		row->n += n;
}

static void clear_rows(struct decisions *d)
{
	struct decision_row *r, *next;

	HASH_ITER(hh, d->rows, r, next) {
		HASH_DEL(d->rows, r);
		free(r);
	}
}

/*
 * The applied policies whose generation the kernel counts no more (its counts are an LRU table)
 * and that are not in force: their rule names are never asked for again.
 */
static void forget_uncounted(struct decisions *d, uint64_t in_force)
{
	size_t k = 0;

	for (size_t i = 0; i < d->napplied; i++) {
		struct decisions_applied *a = &d->applied[i];

		if (a->counted || a->generation == in_force || a->generation == d->last)
			d->applied[k++] = *a;
		else
			policy_free(&a->policy);
	}
	d->napplied = k;
	for (size_t i = 0; i < k; i++)
		d->applied[i].counted = false;
}

/*
 * Every rule of the policy in force, and its default, has its row from the start, at 0 until
 * the kernel counts one: an alert on increase() then sees the first denial (a series born at 1
 * shows no increase), and a series that appears with old counts (a generation this process did
 * not apply, "#N") does not look like a new denial.
 */
static void zero_rows(struct decisions *d, uint64_t in_force)
{
	for (size_t i = 0; i < d->napplied; i++) {
		const struct policy *p = &d->applied[i].policy;

		if (d->applied[i].generation != in_force)
			continue;
		for (int denied = 0; denied < 2; denied++) {
			row_of(d, denied, "(default)");
			for (size_t r = 0; r < p->nrules; r++)
				row_of(d, denied, p->rules[r].name);
		}
	}
}

int decisions_sum(struct decisions *d, uint64_t in_force,
		  int (*count)(struct decisions *d, void *ctx), void *ctx)
{
	int err;

	clear_rows(d); /* the kernel's totals, summed again */
	err = count(d, ctx);
	if (err) /* what was counted stays; no policy is forgotten on a failed read */
		return err;
	forget_uncounted(d, in_force);
	zero_rows(d, in_force);
	return 0;
}

static void count_one(const struct vfg_rule_count_key *k, uint64_t n, void *ctx)
{
	decisions_count(ctx, k, n);
}

static int count_kernel(struct decisions *d, void *ctx)
{
	return enforce_rule_counts_foreach(count_one, d);
}

int decisions_read(struct decisions *d, bool enforcing, uint64_t in_force)
{
	if (!enforcing) {
		clear_rows(d);
		return 0;
	}
	return decisions_sum(d, in_force, count_kernel, NULL);
}

void decisions_foreach(const struct decisions *d,
		       void (*fn)(const struct decision_row *r, void *ctx), void *ctx)
{
	for (const struct decision_row *r = d->rows; r; r = r->hh.next)
		fn(r, ctx);
}

void decisions_free(struct decisions *d)
{
	clear_rows(d);
	for (size_t i = 0; i < d->napplied; i++)
		policy_free(&d->applied[i].policy);
	free(d->applied);
	memset(d, 0, sizeof(*d));
}
