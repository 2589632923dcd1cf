// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Policy to verdicts; see compile.h. */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

/* The kernel's verdicts mirror the policy's access classes and hazard bits. */
_Static_assert((int)ACCESS_DIRECT == VFG_ACCESS_DIRECT && (int)ACCESS_FIXED == VFG_ACCESS_FIXED &&
		       (int)ACCESS_TRAP == VFG_ACCESS_TRAP,
	       "enum access_class and enum vfg_access differ");
/* The hazard table and copy events carry five hazard bits (0x1f), stores' and loads'. */
_Static_assert(HAZARD_ALL == 0x1f, "HAZARD_* grew past the bits the kernel's tables carry");

/*
 * nvgrace-gpu's layout (drivers/vfio/pci/nvgrace-gpu/main.c, RESMEM_REGION_INDEX and
 * USEMEM_REGION_INDEX): its reserved memory as BAR2, its usable device memory as BAR4.
 */
#define NVGRACE_RESMEM 2
#define NVGRACE_USEMEM 4

static bool is_nvgrace(const char *driver)
{
	return driver_matches("nvgrace-gpu*", driver);
}

enum cache_mode assumed_cache_mode(enum host_arch arch, const char *driver, unsigned int region,
				   enum cache_mode observed)
{
	if (observed != CACHE_UNKNOWN)
		return observed;
	if (arch == ARCH_ARM64 && is_nvgrace(driver)) {
		if (region == NVGRACE_USEMEM)
			return CACHE_ARM64_NORMAL;
		if (region == NVGRACE_RESMEM)
			return CACHE_ARM64_NORMAL_NC;
	}
	/*
	 * vfio-pci maps BARs and the ROM with pgprot_noncached(): PCD on x86 (UC-), and on arm64
	 * MT_DEVICE_nGnRnE (arch/arm64/include/asm/pgtable.h; measured in the arm64 6.12 guest:
	 * pgprot 0x0068000000000ccf, attribute index 3), not the nGnRE of pgprot_device().
	 */
	if (region <= 6) /* BAR0..BAR5, ROM */
		return arch == ARCH_X86_64 ? CACHE_X86_UC_MINUS :
		       arch == ARCH_ARM64  ? CACHE_ARM64_DEVICE_nGnRnE :
					     CACHE_UNKNOWN;
	return CACHE_UNKNOWN;
}

uint64_t driver_regions(const char *driver)
{
	return is_nvgrace(driver) ? 1ULL << NVGRACE_RESMEM | 1ULL << NVGRACE_USEMEM : 0;
}

enum region_semantics region_semantics_default(const char *driver, unsigned int region)
{
	if (is_nvgrace(driver) && (region == NVGRACE_RESMEM || region == NVGRACE_USEMEM))
		return SEMANTICS_MEMORY;
	return SEMANTICS_REGISTERS;
}

enum region_semantics region_semantics_of(const struct rule *r, const char *driver,
					  unsigned int region)
{
	return r && r->has_semantics ? r->semantics : region_semantics_default(driver, region);
}

static void compile_error(struct policy_diags *d, const struct rule *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void compile_error(struct policy_diags *d, const struct rule *r, const char *fmt, ...)
{
	struct policy_diag *grown = realloc(d->v, (d->n + 1) * sizeof(*d->v));
	va_list ap;

	if (!grown)
		return;
	d->v = grown;
	memset(&grown[d->n], 0, sizeof(grown[d->n]));
	grown[d->n].pos = r->pos;
	va_start(ap, fmt);
	vsnprintf(grown[d->n].message, sizeof(grown[d->n].message), fmt, ap);
	va_end(ap);
	d->n++;
	d->errors++;
}

static bool has_meta(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

/* The process side of a rule as a kernel condition. */
static int compile_cond(const struct policy *p, size_t idx, const struct resolver *res,
			struct vfg_cond *c, struct policy_diags *d)
{
	const struct rule *r = &p->rules[idx];
	const struct rule_match *m = &r->match;
	int err;

	memset(c, 0, sizeof(*c));
	c->rule = idx;
	c->access = r->access;
	c->enforce = (r->has_mode ? r->mode : p->mode) == POLICY_ENFORCE;
	if (m->comm) {
		size_t len = strlen(m->comm);
		/* "qemu-*": the only pattern character is a final '*'. */
		bool prefix = len && strpbrk(m->comm, "*?[\\") == m->comm + len - 1 &&
			      m->comm[len - 1] == '*';

		if (has_meta(m->comm) && !prefix) {
			compile_error(d, r, "rule '%s': comm pattern '%s' cannot be enforced in the "
				      "kernel: use an exact name or a prefix ending in '*'",
				      r->name, m->comm);
			return -EINVAL;
		}
		if (prefix)
			len--;
		if (len >= VFG_COMM_LEN) {
			compile_error(d, r, "rule '%s': comm '%s' is longer than the kernel's %d "
				      "characters", r->name, m->comm, VFG_COMM_LEN - 1);
			return -EINVAL;
		}
		c->flags |= VFG_COND_COMM | (prefix ? VFG_COND_COMM_PREFIX : 0);
		c->comm_len = len;
		memcpy(c->comm, m->comm, len);
	}
	if (m->exe) {
		if (has_meta(m->exe)) {
			compile_error(d, r, "rule '%s': exe pattern '%s' cannot be enforced in the "
				      "kernel: name one executable", r->name, m->exe);
			return -EINVAL;
		}
		uint64_t dev, ino;

		err = res->exe(m->exe, &dev, &ino);
		c->exe_dev = dev;
		c->exe_ino = ino;
		if (err) {
			compile_error(d, r, "rule '%s': exe %s: %s", r->name, m->exe, strerror(-err));
			return -EINVAL;
		}
		c->flags |= VFG_COND_EXE;
	}
	if (m->cgroup) {
		size_t len = strlen(m->cgroup);
		char path[512];

		if (len >= 2 && !strcmp(m->cgroup + len - 2, "/*") && len < sizeof(path)) {
			memcpy(path, m->cgroup, len - 2);
			path[len - 2] = 0;
			c->flags |= VFG_COND_CGROUP_BELOW;
		} else {
			snprintf(path, sizeof(path), "%s", m->cgroup);
		}
		if (has_meta(path)) {
			compile_error(d, r, "rule '%s': cgroup pattern '%s' cannot be enforced in the "
				      "kernel: use a cgroup path, or one ending in '/*' for the "
				      "cgroups below it", r->name, m->cgroup);
			return -EINVAL;
		}
		uint64_t id = 0;

		err = res->cgroup(path[0] ? path : "/", &id);
		c->cgroup_id = id;
		if (err) {
			compile_error(d, r, "rule '%s': cgroup %s: %s", r->name, path,
				      strerror(-err));
			return -EINVAL;
		}
		c->flags |= VFG_COND_CGROUP;
	}
	return 0;
}

static bool glob_ok(const char *pattern, const char *value)
{
	return !pattern || (value && value[0] && fnmatch(pattern, value, 0) == 0);
}

/* The device side of a rule: everything but the process. dev NULL: a device not known. */
static bool device_side_matches(const struct rule_match *m, const struct device_facts *dev,
				long region, enum cache_mode cache, enum host_arch arch)
{
	if (!dev)
		return !m->device && !m->driver && m->vendor < 0 && m->device_id < 0 &&
		       m->subsystem_vendor < 0 && m->subsystem_device < 0 && !m->regions &&
		       !m->caches && (!m->arches || ((m->arches >> arch) & 1));
	return glob_ok(m->device, dev->name) && driver_matches(m->driver, dev->driver) &&
	       (m->vendor < 0 || m->vendor == dev->vendor) &&
	       (m->device_id < 0 || m->device_id == dev->device_id) &&
	       (m->subsystem_vendor < 0 || m->subsystem_vendor == dev->subsystem_vendor) &&
	       (m->subsystem_device < 0 || m->subsystem_device == dev->subsystem_device) &&
	       (!m->regions || (region >= 0 && ((m->regions >> region) & 1))) &&
	       (!m->caches || (cache != CACHE_UNKNOWN && ((m->caches >> cache) & 1))) &&
	       (!m->arches || ((m->arches >> arch) & 1));
}

static int verdict_for(const struct policy *p, enum host_arch arch, const struct device_facts *dev,
		       long region, const struct resolver *res, struct vfg_verdict *v,
		       struct policy_diags *d)
{
	enum cache_mode cache = dev && region >= 0 ? assumed_cache_mode(arch, dev->driver, region,
									 dev->observed[region])
						   : CACHE_UNKNOWN;

	memset(v, 0, sizeof(*v));
	v->assumed_cache = cache;
	for (size_t i = 0; i < p->nrules; i++) {
		struct vfg_cond c;

		if (!device_side_matches(&p->rules[i].match, dev, region, cache, arch))
			continue;
		if (compile_cond(p, i, res, &c, d))
			return -EINVAL;
		if (v->n == VFG_MAX_CONDS) {
			compile_error(d, &p->rules[i], "rule '%s': more than %d rules with process "
				      "matchers apply to %s region %ld; the kernel side holds %d",
				      p->rules[i].name, VFG_MAX_CONDS, dev ? dev->name : "any device",
				      region, VFG_MAX_CONDS);
			return -EINVAL;
		}
		v->conds[v->n++] = c;
		if (!c.flags)
			return 0; /* unconditional: nothing after it can decide */
	}
	if (v->n == VFG_MAX_CONDS) {
		compile_error(d, &p->rules[v->conds[v->n - 1].rule], "more than %d rules with "
			      "process matchers apply to %s region %ld, and the default needs a place",
			      VFG_MAX_CONDS - 1, dev ? dev->name : "any device", region);
		return -EINVAL;
	}
	v->conds[v->n].rule = VFG_RULE_DEFAULT;
	v->conds[v->n].access = p->default_access;
	v->conds[v->n].enforce = p->mode == POLICY_ENFORCE;
	v->n++;
	return 0;
}

/*
 * The verdict of a device's mmap whose region the kernel side could not see (an mmap path that
 * did not pass the probe of its offset): every enforced trap condition of the device's verdicts,
 * in their order, then every trap in audit mode, then what the default gives. A process that one
 * of the device's regions traps is trapped; one that no region traps is not. It can trap more
 * than the regions would (a trap shadowed by an earlier rule of its region still counts), never
 * less: the unseen path fails closed. Too many distinct trap rules for the kernel's list:
 * everyone is trapped (enforced if any of them is).
 */
static void strictest_of(const struct policy *p, const struct vfg_region_verdict *regions,
			 size_t nregions, struct vfg_verdict *out)
{
	const struct vfg_cond *first = NULL;

	memset(out, 0, sizeof(*out));
	out->assumed_cache = CACHE_UNKNOWN;
	for (int enforced = 1; enforced >= 0; enforced--) {
		for (size_t r = 0; r < nregions; r++) {
			const struct vfg_verdict *v = &regions[r].v;

			for (uint32_t i = 0; i < v->n; i++) {
				const struct vfg_cond *c = &v->conds[i];
				bool seen = false;

				if (c->access != VFG_ACCESS_TRAP || !c->enforce != !enforced)
					continue;
				if (!first)
					first = c;
				for (uint32_t k = 0; k < out->n && !seen; k++)
					seen = out->conds[k].rule == c->rule;
				if (seen)
					continue;
				if (out->n == VFG_MAX_CONDS - 1) {
					out->conds[0] = *first;
					out->conds[0].flags = 0;
					out->n = 1;
					return;
				}
				out->conds[out->n++] = *c;
				if (!c->flags)
					return; /* unconditional: nothing after it can decide */
			}
		}
	}
	out->conds[out->n].rule = VFG_RULE_DEFAULT;
	out->conds[out->n].access = p->default_access;
	out->conds[out->n].enforce = p->mode == POLICY_ENFORCE;
	out->n++;
}

int policy_compile(const struct policy *p, enum host_arch arch, const struct device_facts *devs,
		   size_t ndevs, const struct resolver *res, struct compiled *out,
		   struct policy_diags *diags)
{
	uint64_t regions = 0x1ff; /* BAR0..BAR5, ROM, CONFIG, VGA */
	size_t cap = 1, n = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < p->nrules; i++)
		regions |= p->rules[i].match.regions;
	cap += ndevs * (__builtin_popcountll(regions) + 2);
	out->v = calloc(cap, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	/* For devices or regions not known when the policy was applied. */
	out->v[n].key.region = VFG_REGION_ANY;
	if (verdict_for(p, arch, NULL, 0, res, &out->v[n].v, diags))
		goto fail;
	n++;
	for (size_t d = 0; d < ndevs; d++) {
		size_t first = n;

		for (long r = 0; r <= POLICY_MAX_REGION; r++) {
			struct vfg_region_verdict *cv = &out->v[n];

			if (!((regions >> r) & 1))
				continue;
			memcpy(cv->key.device, devs[d].name, sizeof(cv->key.device));
			cv->key.device[sizeof(cv->key.device) - 1] = 0;
			cv->key.region = r;
			if (verdict_for(p, arch, &devs[d], r, res, &cv->v, diags))
				goto fail;
			n++;
		}
		/* Its regions no rule names (device-specific ones): the rules without regions. */
		memcpy(out->v[n].key.device, devs[d].name, sizeof(out->v[n].key.device));
		out->v[n].key.device[sizeof(out->v[n].key.device) - 1] = 0;
		out->v[n].key.region = VFG_REGION_OTHER;
		if (verdict_for(p, arch, &devs[d], -1, res, &out->v[n].v, diags))
			goto fail;
		n++;
		memcpy(out->v[n].key.device, devs[d].name, sizeof(out->v[n].key.device));
		out->v[n].key.device[sizeof(out->v[n].key.device) - 1] = 0;
		out->v[n].key.region = VFG_REGION_ANY;
		strictest_of(p, &out->v[first], n - first, &out->v[n].v);
		n++;
	}
	out->n = n;
	return 0;
fail:
	compiled_free(out);
	return -EINVAL;
}

void compiled_free(struct compiled *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

const char *policy_rule_name(const struct policy *p, unsigned int rule)
{
	if (rule == VFG_RULE_DEFAULT)
		return "(default)";
	return p && rule < p->nrules ? p->rules[rule].name : NULL;
}

const char *policy_rule_label(const struct policy *p, unsigned int rule, char *buf, size_t len)
{
	const char *name = policy_rule_name(p, rule);

	if (name)
		return name;
	snprintf(buf, len, "#%u", rule);
	return buf;
}
