// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The published regions record; see run_state.h. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/hazards.h"
#include "../decode/region.h"
#include "run_state.h"

static const struct vfg_region_verdict *find_verdict(const struct compiled *c, const char *dev,
						   unsigned int region)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].key.region == region && !strcmp(c->v[i].key.device, dev))
			return &c->v[i];
	return NULL;
}

/* A rule's name as published (malloc'd): "#N" for one p does not have; NULL out of memory. */
static char *rule_name(const struct policy *p, unsigned int rule)
{
	char index[16];

	return strdup(policy_rule_label(p, rule, index, sizeof(index)));
}

/* What the verdict of cond (a rule's, or the default's) takes region r to hold and forbids. */
static struct run_judged judge(const struct policy *p, const struct vfg_cond *cond, unsigned int r,
			       enum host_arch arch, enum cache_mode cache, const char *driver)
{
	const struct rule *rule = cond->rule != VFG_RULE_DEFAULT && cond->rule < p->nrules
					  ? &p->rules[cond->rule] : NULL;
	struct run_judged j = { .has_semantics = true, .has_violations = true };

	j.semantics = region_semantics_of(rule, driver, r);
	j.violations = rule_violations(rule, arch, cache, cond->access, j.semantics);
	return j;
}

static int build_region(struct run_region *x, const struct policy *p,
			const struct vfg_region_verdict *cv, unsigned int r, enum host_arch arch,
			const char *driver)
{
	/* The verdict for a process no process matcher names: the unconditional entry. */
	const struct vfg_cond *g = &cv->v.conds[cv->v.n - 1];

	memset(x, 0, sizeof(*x));
	x->index = r;
	x->access = g->access;
	x->enforce = g->enforce;
	if (g->rule != VFG_RULE_DEFAULT && !(x->rule = rule_name(p, g->rule)))
		return -ENOMEM;
	x->cache = cv->v.assumed_cache;
	x->judged = judge(p, g, r, arch, x->cache, driver);
	/* Rules that name processes come first and may decide otherwise. */
	if (cv->v.n > 1) {
		x->process_rules = calloc(cv->v.n - 1, sizeof(*x->process_rules));
		if (!x->process_rules)
			return -ENOMEM;
	}
	x->nprocess_rules = cv->v.n - 1;
	for (unsigned int k = 0; k + 1 < cv->v.n; k++) {
		x->process_rules[k].rule = rule_name(p, cv->v.conds[k].rule);
		if (!x->process_rules[k].rule)
			return -ENOMEM;
		x->process_rules[k].access = cv->v.conds[k].access;
		x->process_rules[k].judged = judge(p, &cv->v.conds[k], r, arch, x->cache, driver);
	}
	return 0;
}

int run_regions_build(struct run_regions *out, const struct policy *p, const struct compiled *c,
		      const struct device_facts *devs, size_t ndevs, uint64_t (*present)(const char *dev),
		      enum host_arch arch, uint64_t generation, const char *file, uint32_t crc)
{
	memset(out, 0, sizeof(*out));
	out->generation = generation;
	snprintf(out->policy, sizeof(out->policy), "%s", file);
	out->crc32 = crc;
	out->arch = arch;
	out->devices = calloc(ndevs ? ndevs : 1, sizeof(*out->devices));
	if (!out->devices)
		return -ENOMEM;
	for (size_t d = 0; d < ndevs; d++) {
		struct run_device *dv;
		uint64_t have;

		if (!strstr(devs[d].driver, "vfio"))
			continue;
		dv = &out->devices[out->ndevices++];
		snprintf(dv->device, sizeof(dv->device), "%s", devs[d].name);
		snprintf(dv->driver, sizeof(dv->driver), "%s", devs[d].driver);
		dv->vendor = devs[d].vendor & 0xffff;
		dv->device_id = devs[d].device_id & 0xffff;
		dv->regions = calloc(9, sizeof(*dv->regions));
		if (!dv->regions) {
			run_regions_free(out);
			return -ENOMEM;
		}
		/* Its PCI resources, and what its driver presents beyond them (nvgrace-gpu). */
		have = present(devs[d].name) | driver_regions(devs[d].driver);
		for (unsigned int r = 0; r <= 8; r++) {
			const struct vfg_region_verdict *cv = find_verdict(c, devs[d].name, r);

			if (!cv || !((have >> r) & 1) || !cv->v.n)
				continue;
			if (build_region(&dv->regions[dv->nregions++], p, cv, r, arch, devs[d].driver)) {
				run_regions_free(out);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW |
					     JSON_C_OBJECT_KEY_IS_CONSTANT);
}

/* semantics and violations: null where not known (read back from an older version's file). */
static void add_judged(struct json_object *o, const struct run_judged *j)
{
	char buf[64];

	add(o, "semantics", j->has_semantics ?
		json_object_new_string(region_semantics_name(j->semantics)) : NULL);
	add(o, "violations", j->has_violations ?
		json_object_new_string(hazard_set_format(j->violations, buf, sizeof(buf))) : NULL);
}

struct json_object *run_regions_json(const struct run_regions *r)
{
	struct json_object *doc = json_object_new_object(), *da = json_object_new_array();
	char buf[80];

	add(doc, "generation", json_object_new_uint64(r->generation));
	add(doc, "policy", json_object_new_string(r->policy));
	snprintf(buf, sizeof(buf), "%08x", r->crc32);
	add(doc, "crc32", json_object_new_string(buf));
	add(doc, "arch", json_object_new_string(host_arch_name(r->arch)));
	for (size_t d = 0; d < r->ndevices; d++) {
		const struct run_device *dv = &r->devices[d];
		struct json_object *o = json_object_new_object(), *ra = json_object_new_array();

		add(o, "device", json_object_new_string(dv->device));
		add(o, "driver", json_object_new_string(dv->driver));
		snprintf(buf, sizeof(buf), "%04x:%04x", dv->vendor, dv->device_id);
		add(o, "id", json_object_new_string(buf));
		for (size_t i = 0; i < dv->nregions; i++) {
			const struct run_region *g = &dv->regions[i];
			struct json_object *x = json_object_new_object(), *w, *exc;

			add(x, "index", json_object_new_int(g->index));
			add(x, "name", json_object_new_string(region_name(g->index, buf, sizeof(buf))));
			add(x, "access", json_object_new_string(access_class_name(g->access)));
			add(x, "mode", json_object_new_string(policy_mode_name(
						 g->enforce ? POLICY_ENFORCE : POLICY_AUDIT)));
			add(x, "rule", g->rule ? json_object_new_string(g->rule) : NULL);
			add(x, "cache", g->cache != CACHE_UNKNOWN ?
				json_object_new_string(cache_mode_format(g->cache, 0, buf, sizeof(buf))) :
				NULL);
			if (g->access == ACCESS_DIRECT) {
				w = json_object_new_string("any");
			} else {
				w = json_object_new_array();
				for (int k = 1; g->access == ACCESS_FIXED && k <= 8; k *= 2)
					json_object_array_add(w, json_object_new_int(k));
			}
			add(x, "widths", w);
			add_judged(x, &g->judged);
			exc = json_object_new_array();
			for (size_t k = 0; k < g->nprocess_rules; k++) {
				struct json_object *e = json_object_new_object();

				add(e, "rule", json_object_new_string(g->process_rules[k].rule));
				add(e, "access", json_object_new_string(
							 access_class_name(g->process_rules[k].access)));
				add_judged(e, &g->process_rules[k].judged);
				json_object_array_add(exc, e);
			}
			add(x, "process_rules", exc);
			json_object_array_add(ra, x);
		}
		add(o, "regions", ra);
		json_object_array_add(da, o);
	}
	add(doc, "devices", da);
	return doc;
}

char *run_regions_format(const struct run_regions *r)
{
	struct json_object *doc = run_regions_json(r);
	char *text = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								      JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(doc);
	return text;
}

struct json_object *run_state_json(const struct run_state *s)
{
	struct json_object *o = json_object_new_object();
	char crc[16];

	snprintf(crc, sizeof(crc), "%08x", s->crc32);
	add(o, "file", json_object_new_string(s->file));
	add(o, "crc32", json_object_new_string(crc));
	add(o, "applied", json_object_new_string(s->applied));
	add(o, "generation", json_object_new_uint64(s->generation));
	add(o, "took_over", json_object_new_boolean(s->took_over));
	add(o, "mode", json_object_new_string(policy_mode_name(s->mode)));
	add(o, "default", json_object_new_string(access_class_name(s->default_access)));
	add(o, "rules", json_object_new_int64(s->rules));
	add(o, "verdicts", json_object_new_int64(s->verdicts));
	return o;
}

/* A member of o of the type asked for, or NULL with why set. */
static struct json_object *member(struct json_object *o, const char *key, json_type type,
				  const char *where, char *why, size_t len)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type)) {
		snprintf(why, len, "%s: '%s' missing or not a %s", where, key,
			 json_type_to_name(type));
		return NULL;
	}
	return v;
}

/* semantics and violations of o, each null or absent where an older version did not write it. */
static int parse_judged(struct json_object *o, struct run_judged *j, const char *where, char *why,
			size_t len)
{
	struct json_object *v;

	memset(j, 0, sizeof(*j));
	if (json_object_object_get_ex(o, "semantics", &v) && v) {
		if (!json_object_is_type(v, json_type_string) ||
		    region_semantics_from_name(json_object_get_string(v), &j->semantics)) {
			snprintf(why, len, "%s: semantics %s is neither registers nor memory", where,
				 json_object_to_json_string(v));
			return -EINVAL;
		}
		j->has_semantics = true;
	}
	if (json_object_object_get_ex(o, "violations", &v) && v) {
		if (!json_object_is_type(v, json_type_string) ||
		    hazard_set_parse(json_object_get_string(v), &j->violations)) {
			snprintf(why, len, "%s: violations '%s' is no hazard set", where,
				 json_object_get_string(v));
			return -EINVAL;
		}
		j->has_violations = true;
	}
	return 0;
}

/* A string member copied into buf; false with why set. */
static bool string_member(struct json_object *o, const char *key, char *buf, size_t size,
			  const char *where, char *why, size_t len)
{
	struct json_object *v = member(o, key, json_type_string, where, why, len);

	if (v)
		snprintf(buf, size, "%s", json_object_get_string(v));
	return v;
}

/* An integer member (not negative); false with why set. */
static bool uint_member(struct json_object *o, const char *key, uint64_t *out, const char *where,
			char *why, size_t len)
{
	struct json_object *v = member(o, key, json_type_int, where, why, len);

	if (v && json_object_get_int64(v) < 0) {
		snprintf(why, len, "%s: '%s' is negative", where, key);
		return false;
	}
	if (v)
		*out = json_object_get_uint64(v);
	return v;
}

/* A crc32 as published: eight hex digits. */
static bool crc_member(struct json_object *o, uint32_t *crc, const char *where, char *why,
		       size_t len)
{
	char buf[16];

	if (!string_member(o, "crc32", buf, sizeof(buf), where, why, len))
		return false;
	*crc = strtoul(buf, NULL, 16);
	if (strlen(buf) != 8 || strspn(buf, "0123456789abcdefABCDEF") != 8) {
		snprintf(why, len, "%s: crc32 '%s' is not eight hex digits", where, buf);
		return false;
	}
	return true;
}

static int parse_region(struct json_object *x, struct run_region *g, const char *where,
			char *why, size_t len)
{
	struct json_object *v, *pr;
	enum policy_mode m;
	uint64_t index;
	char mode[16];
	const char *s;

	memset(g, 0, sizeof(*g));
	if (!uint_member(x, "index", &index, where, why, len))
		return -EINVAL;
	if (index > POLICY_MAX_REGION) {
		snprintf(why, len, "%s: index %" PRIu64 " is no region", where, index);
		return -EINVAL;
	}
	g->index = index;
	if (!(v = member(x, "access", json_type_string, where, why, len)) ||
	    access_class_from_name(json_object_get_string(v), &g->access)) {
		if (v)
			snprintf(why, len, "%s: unknown access '%s'", where, json_object_get_string(v));
		return -EINVAL;
	}
	if (!string_member(x, "mode", mode, sizeof(mode), where, why, len))
		return -EINVAL;
	if (policy_mode_from_name(mode, &m)) {
		snprintf(why, len, "%s: unknown mode '%s'", where, mode);
		return -EINVAL;
	}
	g->enforce = m == POLICY_ENFORCE;
	/* The rule that decided: null for the policy's default. */
	if (!json_object_object_get_ex(x, "rule", &v)) {
		snprintf(why, len, "%s: 'rule' missing", where);
		return -EINVAL;
	}
	if (v && !json_object_is_type(v, json_type_string)) {
		snprintf(why, len, "%s: 'rule' is neither a string nor null", where);
		return -EINVAL;
	}
	if (v && !(g->rule = strdup(json_object_get_string(v))))
		return -ENOMEM;
	/* The cache mode the verdict assumed: null when none. */
	g->cache = CACHE_UNKNOWN;
	if (json_object_object_get_ex(x, "cache", &v) && v) {
		char name[40];

		if (!json_object_is_type(v, json_type_string)) {
			snprintf(why, len, "%s: 'cache' is neither a string nor null", where);
			return -EINVAL;
		}
		s = json_object_get_string(v);
		/* cache_mode_format adds the raw bits after a space where it has them. */
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(s, " "), s);
		g->cache = cache_mode_from_name(name);
		if (g->cache == CACHE_UNKNOWN) {
			snprintf(why, len, "%s: unknown cache mode '%s'", where, s);
			return -EINVAL;
		}
	}
	/* A region's violations have always been published, its semantics not always. */
	if (parse_judged(x, &g->judged, where, why, len))
		return -EINVAL;
	if (!g->judged.has_violations) {
		snprintf(why, len, "%s: 'violations' missing or not a string", where);
		return -EINVAL;
	}
	if (!(pr = member(x, "process_rules", json_type_array, where, why, len)))
		return -EINVAL;
	g->process_rules = calloc(json_object_array_length(pr) + 1, sizeof(*g->process_rules));
	if (!g->process_rules)
		return -ENOMEM;
	/* Counted once there is room: run_regions_free frees what a failure left. */
	g->nprocess_rules = json_object_array_length(pr);
	for (size_t k = 0; k < g->nprocess_rules; k++) {
		struct json_object *e = json_object_array_get_idx(pr, k);

		if (!(v = member(e, "rule", json_type_string, where, why, len)))
			return -EINVAL;
		if (!(g->process_rules[k].rule = strdup(json_object_get_string(v))))
			return -ENOMEM;
		if (!(v = member(e, "access", json_type_string, where, why, len)))
			return -EINVAL;
		if (access_class_from_name(json_object_get_string(v), &g->process_rules[k].access)) {
			snprintf(why, len, "%s: unknown access '%s'", where, json_object_get_string(v));
			return -EINVAL;
		}
		if (parse_judged(e, &g->process_rules[k].judged, where, why, len))
			return -EINVAL;
	}
	return 0;
}

int run_state_parse(const char *text, struct run_state *out, char *why, size_t len)
{
	struct json_object *doc = json_tokener_parse(text), *v;
	char mode[16], dflt[16];
	uint64_t rules, verdicts;
	int err = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		snprintf(why, len, "not a JSON object");
		goto out;
	}
	if (!string_member(doc, "file", out->file, sizeof(out->file), "top", why, len) ||
	    !crc_member(doc, &out->crc32, "top", why, len) ||
	    !string_member(doc, "applied", out->applied, sizeof(out->applied), "top", why, len) ||
	    !string_member(doc, "mode", mode, sizeof(mode), "top", why, len) ||
	    !string_member(doc, "default", dflt, sizeof(dflt), "top", why, len))
		goto out;
	if (policy_mode_from_name(mode, &out->mode)) {
		snprintf(why, len, "top: unknown mode '%s'", mode);
		goto out;
	}
	if (access_class_from_name(dflt, &out->default_access)) {
		snprintf(why, len, "top: unknown default '%s'", dflt);
		goto out;
	}
	if (!uint_member(doc, "generation", &out->generation, "top", why, len) ||
	    !uint_member(doc, "rules", &rules, "top", why, len) ||
	    !uint_member(doc, "verdicts", &verdicts, "top", why, len))
		goto out;
	/* Not in what builds before the takeover wrote (it stays until the next apply). */
	if (json_object_object_get_ex(doc, "took_over", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(why, len, "top: 'took_over' is not a boolean");
			goto out;
		}
		out->took_over = json_object_get_boolean(v);
	}
	out->rules = rules;
	out->verdicts = verdicts;
	err = 0;
out:
	json_object_put(doc);
	return err;
}

int run_regions_parse(const char *text, struct run_regions *out, char *why, size_t len)
{
	struct json_object *doc = json_tokener_parse(text), *v, *devs;
	int err = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		snprintf(why, len, "not a JSON object");
		goto out;
	}
	if (!uint_member(doc, "generation", &out->generation, "top", why, len) ||
	    !string_member(doc, "policy", out->policy, sizeof(out->policy), "top", why, len) ||
	    !crc_member(doc, &out->crc32, "top", why, len) ||
	    !(v = member(doc, "arch", json_type_string, "top", why, len)) ||
	    !(devs = member(doc, "devices", json_type_array, "top", why, len)))
		goto out;
	out->arch = host_arch_from_name(json_object_get_string(v));
	if (out->arch == ARCH_UNKNOWN) {
		snprintf(why, len, "top: unknown arch '%s'", json_object_get_string(v));
		goto out;
	}
	out->devices = calloc(json_object_array_length(devs) + 1, sizeof(*out->devices));
	if (!out->devices) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t d = 0; d < json_object_array_length(devs); d++) {
		struct json_object *dv = json_object_array_get_idx(devs, d), *rs;
		struct run_device *x = &out->devices[out->ndevices++];
		char where[64], id[16];
		unsigned int vendor, device;

		snprintf(where, sizeof(where), "devices[%zu]", d);
		if (!string_member(dv, "device", x->device, sizeof(x->device), where, why, len) ||
		    !string_member(dv, "driver", x->driver, sizeof(x->driver), where, why, len) ||
		    !string_member(dv, "id", id, sizeof(id), where, why, len) ||
		    !(rs = member(dv, "regions", json_type_array, where, why, len)))
			goto out;
		if (strlen(id) != 9 || id[4] != ':' || strspn(id, "0123456789abcdef") != 4 ||
		    strspn(id + 5, "0123456789abcdef") != 4 ||
		    sscanf(id, "%x:%x", &vendor, &device) != 2) {
			snprintf(why, len, "%s: id '%s' is not VENDOR:DEVICE", where, id);
			goto out;
		}
		x->vendor = vendor;
		x->device_id = device;
		x->regions = calloc(json_object_array_length(rs) + 1, sizeof(*x->regions));
		if (!x->regions) {
			err = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(rs); i++) {
			snprintf(where, sizeof(where), "devices[%zu].regions[%zu]", d, i);
			int rerr = parse_region(json_object_array_get_idx(rs, i),
						&x->regions[x->nregions++], where, why, len);

			if (rerr) {
				err = rerr;
				goto out;
			}
		}
	}
	err = 0;
out:
	json_object_put(doc);
	if (err)
		run_regions_free(out);
	return err;
}

void run_regions_free(struct run_regions *r)
{
	for (size_t d = 0; d < r->ndevices; d++) {
		for (size_t i = 0; i < r->devices[d].nregions; i++) {
			struct run_region *g = &r->devices[d].regions[i];

			for (size_t k = 0; k < g->nprocess_rules; k++)
				free(g->process_rules[k].rule);
			free(g->process_rules);
			free(g->rule);
		}
		free(r->devices[d].regions);
	}
	free(r->devices);
	memset(r, 0, sizeof(*r));
}

static int parse_state(const char *text, void *out, char *why, size_t len)
{
	return run_state_parse(text, out, why, len);
}

static int parse_regions(const char *text, void *out, char *why, size_t len)
{
	return run_regions_parse(text, out, why, len);
}

/*
 * Reads and parses dir/name into out: true when it was there and parsed; false with why set
 * when it was there and could not be read or parsed, false with why untouched when missing.
 */
static bool read_published(const char *dir, const char *name,
			   int (*parse)(const char *text, void *out, char *why, size_t len),
			   void *out, char *why, size_t len)
{
	char path[PATH_MAX], fault[160], *text = NULL;
	size_t n;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = policy_read_file(path, &text, &n);
	if (err == -ENOENT)
		return false;
	/* The first fault found is the one said. */
	if (err && !why[0])
		snprintf(why, len, "cannot read %s: %s", path, strerror(-err));
	else if (!err && (err = parse(text ? text : "", out, fault, sizeof(fault))) && !why[0])
		snprintf(why, len, "%s: %s", path,
			 err == -EINVAL ? fault : strerror(-err));
	free(text);
	return !err;
}

void run_published_read(const char *dir, unsigned int which, struct run_published *out)
{
	memset(out, 0, sizeof(*out));
	if (which & RUN_READ_STATE)
		out->have_state = read_published(dir, "state.json", parse_state, &out->state,
						 out->why, sizeof(out->why));
	if (which & RUN_READ_REGIONS)
		out->have_regions = read_published(dir, "regions.json", parse_regions,
						   &out->regions, out->why, sizeof(out->why));
	if (which & RUN_READ_POLICY) {
		struct policy_diags d = {};
		char path[PATH_MAX];
		int err;

		snprintf(path, sizeof(path), "%s/policy.yaml", dir);
		err = policy_parse_file(path, &out->policy, &d);
		if (err && err != -ENOENT && !out->why[0])
			snprintf(out->why, sizeof(out->why), "%s: %s", path,
				 err == -EINVAL ? "no longer parses" : strerror(-err));
		out->have_policy = !err;
		policy_diags_free(&d);
	}
}

void run_published_free(struct run_published *pub)
{
	run_regions_free(&pub->regions);
	if (pub->have_policy)
		policy_free(&pub->policy);
	memset(pub, 0, sizeof(*pub));
}
