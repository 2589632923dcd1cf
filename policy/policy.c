// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The policy file: parsing with libyaml, validation, shadowed rules; see policy.h. */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "policy.h"
#include "../loader/decode/region.h"

/* A policy is a few dozen lines; anything this large is not one. */
#define POLICY_MAX_BYTES (1 << 20)

struct ctx {
	yaml_document_t *doc;
	struct policy_diags *d;
	struct policy *p;
};

static void add_diag(struct policy_diags *d, bool warning, unsigned int line, unsigned int col,
		     const char *fmt, va_list ap)
{
	struct policy_diag *grown = realloc(d->v, (d->n + 1) * sizeof(*d->v));

	if (!grown)
		return;
	d->v = grown;
	grown[d->n].warning = warning;
	grown[d->n].pos.line = line;
	grown[d->n].pos.col = col;
	vsnprintf(grown[d->n].message, sizeof(grown[d->n].message), fmt, ap);
	d->n++;
	if (!warning)
		d->errors++;
}

static void error_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void error_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_diag(c->d, false, n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1, fmt,
		 ap);
	va_end(ap);
}

static void error_mark(struct ctx *c, yaml_mark_t mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void error_mark(struct ctx *c, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_diag(c->d, false, mark.line + 1, mark.column + 1, fmt, ap);
	va_end(ap);
}

static void warning_at(struct policy_diags *d, struct policy_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warning_at(struct policy_diags *d, struct policy_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_diag(d, true, pos.line, pos.col, fmt, ap);
	va_end(ap);
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "empty";
	}
}

/* The scalar's text, or NULL (with an error) when the node is not a scalar. */
static const char *scalar(struct ctx *c, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		error_at(c, n, "'%s' must be a single value, not %s", key, node_kind(n));
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		error_at(c, n, "'%s' contains a NUL character", key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static char *dup_or_report(struct ctx *c, const yaml_node_t *n, const char *s)
{
	char *d = strdup(s);

	if (!d)
		error_at(c, n, "out of memory");
	return d;
}

/* Mapping entries, with a check for keys given twice (YAML allows them, a policy must not). */
typedef void (*entry_fn)(struct ctx *c, const char *key, yaml_node_t *key_node,
			 yaml_node_t *value, void *arg);

static void for_each_entry(struct ctx *c, yaml_node_t *map, entry_fn fn, void *arg)
{
	yaml_node_pair_t *first = map->data.mapping.pairs.start;

	for (yaml_node_pair_t *pair = first; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, pair->value);
		const char *key;
		bool dup = false;

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			error_at(c, k, "a key must be a plain name, not %s", node_kind(k));
			continue;
		}
		key = (const char *)k->data.scalar.value;
		for (yaml_node_pair_t *q = first; q < pair && !dup; q++) {
			yaml_node_t *qk = yaml_document_get_node(c->doc, q->key);

			if (qk && qk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)qk->data.scalar.value, key)) {
				error_at(c, k, "duplicate key '%s' (first given at line %zu)", key,
					 qk->start_mark.line + 1);
				dup = true;
			}
		}
		if (!dup)
			fn(c, key, k, v, arg);
	}
}

static bool parse_access(struct ctx *c, yaml_node_t *n, const char *key, enum access_class *out)
{
	const char *s = scalar(c, n, key);

	if (!s)
		return false;
	if (!strcmp(s, "direct"))
		*out = ACCESS_DIRECT;
	else if (!strcmp(s, "fixed"))
		*out = ACCESS_FIXED;
	else if (!strcmp(s, "trap"))
		*out = ACCESS_TRAP;
	else {
		error_at(c, n, "'%s': unknown access class '%s' (expected direct, fixed or trap)", key,
			 s);
		return false;
	}
	return true;
}

static bool parse_semantics(struct ctx *c, yaml_node_t *n, enum region_semantics *out)
{
	const char *s = scalar(c, n, "semantics");

	if (!s)
		return false;
	if (region_semantics_from_name(s, out)) {
		error_at(c, n, "'semantics': unknown region semantics '%s' (expected registers or "
			 "memory)", s);
		return false;
	}
	return true;
}

static bool parse_mode(struct ctx *c, yaml_node_t *n, enum policy_mode *out)
{
	const char *s = scalar(c, n, "mode");

	if (!s)
		return false;
	if (policy_mode_from_name(s, out)) {
		error_at(c, n, "'mode': unknown mode '%s' (expected audit or enforce)", s);
		return false;
	}
	return true;
}

/* fnmatch(3) patterns: non-empty, every '[' closed, no trailing escape. */
static const char *glob_problem(const char *g)
{
	if (!*g)
		return "an empty pattern matches nothing";
	for (const char *p = g; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return "ends with an unfinished escape '\\'";
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;

			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']')
				q++;
			if (!*q)
				return "has a '[' without its closing ']'";
			p = q;
		}
	}
	return NULL;
}

static void parse_glob(struct ctx *c, yaml_node_t *n, const char *key, char **out, bool path)
{
	const char *s = scalar(c, n, key), *why;

	if (!s)
		return;
	if ((why = glob_problem(s))) {
		error_at(c, n, "'%s': pattern '%s' %s", key, s, why);
		return;
	}
	if (path && s[0] != '/' && s[0] != '*') {
		error_at(c, n, "'%s': '%s' must be an absolute path (or pattern starting with '/')",
			 key, s);
		return;
	}
	*out = dup_or_report(c, n, s);
}

static void parse_id(struct ctx *c, yaml_node_t *n, const char *key, int *out)
{
	const char *s = scalar(c, n, key);
	char *end;
	long v;

	if (!s)
		return;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+') {
		error_at(c, n, "'%s': '%s' is not a number (write PCI IDs as 0x10de or 4318)", key,
			 s);
		return;
	}
	if (v > 0xffff) {
		error_at(c, n, "'%s': %s is out of range (PCI IDs are 0..0xffff)", key, s);
		return;
	}
	*out = v;
}

/* A scalar or a list of scalars, each turned into a bit by item_fn (false: error reported). */
typedef bool (*item_fn)(struct ctx *c, yaml_node_t *n, const char *s, unsigned int *bit);

static void parse_set(struct ctx *c, yaml_node_t *n, const char *key, item_fn item,
		      uint64_t *out)
{
	yaml_node_item_t *i;
	uint64_t set = 0;
	bool ok = true;

	if (n->type == YAML_SCALAR_NODE) {
		const char *s = scalar(c, n, key);
		unsigned int bit;

		if (!s || !item(c, n, s, &bit))
			return;
		*out = 1ULL << bit;
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		error_at(c, n, "'%s' must be a value or a list of values, not %s", key, node_kind(n));
		return;
	}
	if (n->data.sequence.items.start == n->data.sequence.items.top) {
		error_at(c, n, "'%s': an empty list matches nothing (leave '%s' out to match all)",
			 key, key);
		return;
	}
	for (i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *i);
		const char *s;
		unsigned int bit;

		if (!e || !(s = scalar(c, e, key)) || !item(c, e, s, &bit)) {
			ok = false;
			continue;
		}
		set |= 1ULL << bit;
	}
	if (ok)
		*out = set;
}

static bool region_item(struct ctx *c, yaml_node_t *n, const char *s, unsigned int *bit)
{
	long v;

	if (s[0] == '+' || region_parse(s, &v)) {
		error_at(c, n, "'region': '%s' is not a region (an index, or bar0..bar5, rom, "
			 "config, vga)", s);
		return false;
	}
	if (v < 0 || v > POLICY_MAX_REGION) {
		error_at(c, n, "'region': %ld is out of range (0..%d)", v, POLICY_MAX_REGION);
		return false;
	}
	*bit = v;
	return true;
}

static bool cache_item(struct ctx *c, yaml_node_t *n, const char *s, unsigned int *bit)
{
	enum cache_mode m = cache_mode_from_name(s);

	if (m == CACHE_UNKNOWN) {
		error_at(c, n, "'cache': unknown cache mode '%s' (x86: WB, WC, UC-, UC, WT, WP; "
			 "arm64: Normal, Normal-Tagged, Normal-NC, Normal-WT, Device-nGnRnE, "
			 "Device-nGnRE, Device-GRE)", s);
		return false;
	}
	*bit = m;
	return true;
}

static bool arch_item(struct ctx *c, yaml_node_t *n, const char *s, unsigned int *bit)
{
	enum host_arch a = host_arch_from_name(s);

	if (a == ARCH_UNKNOWN) {
		error_at(c, n, "'arch': unknown architecture '%s' (expected x86_64 or aarch64)", s);
		return false;
	}
	*bit = a;
	return true;
}

static bool hazard_item(struct ctx *c, yaml_node_t *n, const char *s, unsigned int *bit)
{
	static const char *const names[] = { "split", "dup", "reorder", "wide", "unaligned" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*bit = i;
			return true;
		}
	}
	error_at(c, n, "'hazards': unknown hazard '%s' (expected split, dup, reorder, wide, "
		 "unaligned)", s);
	return false;
}

static void match_entry(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct rule_match *m = arg;
	uint64_t set = 0;

	if (!strcmp(key, "device"))
		parse_glob(c, v, key, &m->device, false);
	else if (!strcmp(key, "driver"))
		parse_glob(c, v, key, &m->driver, false);
	else if (!strcmp(key, "comm"))
		parse_glob(c, v, key, &m->comm, false);
	else if (!strcmp(key, "exe"))
		parse_glob(c, v, key, &m->exe, true);
	else if (!strcmp(key, "cgroup"))
		parse_glob(c, v, key, &m->cgroup, true);
	else if (!strcmp(key, "vendor"))
		parse_id(c, v, key, &m->vendor);
	else if (!strcmp(key, "device_id"))
		parse_id(c, v, key, &m->device_id);
	else if (!strcmp(key, "subsystem_vendor"))
		parse_id(c, v, key, &m->subsystem_vendor);
	else if (!strcmp(key, "subsystem_device"))
		parse_id(c, v, key, &m->subsystem_device);
	else if (!strcmp(key, "region"))
		parse_set(c, v, key, region_item, &m->regions);
	else if (!strcmp(key, "cache")) {
		parse_set(c, v, key, cache_item, &set);
		m->caches = set;
	} else if (!strcmp(key, "arch")) {
		parse_set(c, v, key, arch_item, &set);
		m->arches = set;
	} else
		error_at(c, k, "unknown matcher '%s' (expected device, vendor, device_id, "
			 "subsystem_vendor, subsystem_device, driver, region, cache, arch, comm, "
			 "exe, cgroup)", key);
}

struct rule_seen {
	struct rule *r;
	bool name, access;
};

static void rule_entry(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct rule_seen *rs = arg;
	struct rule *r = rs->r;
	const char *s;

	if (!strcmp(key, "name")) {
		rs->name = true;
		if (!(s = scalar(c, v, key)))
			return;
		if (!*s) {
			error_at(c, v, "'name' must not be empty");
			return;
		}
		r->name = dup_or_report(c, v, s);
	} else if (!strcmp(key, "match")) {
		if (v->type == YAML_SCALAR_NODE && !v->data.scalar.length)
			return; /* "match:" with nothing: matches everything */
		if (v->type != YAML_MAPPING_NODE) {
			error_at(c, v, "'match' must be a mapping of matchers, not %s", node_kind(v));
			return;
		}
		for_each_entry(c, v, match_entry, &r->match);
	} else if (!strcmp(key, "access")) {
		rs->access = true;
		parse_access(c, v, key, &r->access);
	} else if (!strcmp(key, "hazards")) {
		uint64_t set = 0;

		/* An empty list is allowed here: no hazard is a violation. */
		if (v->type == YAML_SEQUENCE_NODE &&
		    v->data.sequence.items.start == v->data.sequence.items.top) {
			r->has_hazards = true;
			r->hazards = 0;
			return;
		}
		parse_set(c, v, key, hazard_item, &set);
		if (set) {
			r->has_hazards = true;
			r->hazards = set;
		}
	} else if (!strcmp(key, "semantics")) {
		r->has_semantics = parse_semantics(c, v, &r->semantics);
	} else if (!strcmp(key, "mode")) {
		r->has_mode = parse_mode(c, v, &r->mode);
	} else {
		error_at(c, k, "unknown key '%s' in a rule (expected name, match, access, semantics, "
			 "hazards, mode)", key);
	}
}

static void parse_rules(struct ctx *c, yaml_node_t *n)
{
	yaml_node_item_t *i;
	size_t count;

	if (n->type == YAML_SCALAR_NODE && !n->data.scalar.length)
		return; /* "rules:" with nothing */
	if (n->type != YAML_SEQUENCE_NODE) {
		error_at(c, n, "'rules' must be a list of rules, not %s", node_kind(n));
		return;
	}
	count = n->data.sequence.items.top - n->data.sequence.items.start;
	c->p->rules = calloc(count ? count : 1, sizeof(*c->p->rules));
	if (!c->p->rules) {
		error_at(c, n, "out of memory");
		return;
	}
	for (i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *i);
		struct rule *r = &c->p->rules[c->p->nrules];
		struct rule_seen rs = { .r = r };

		if (!e)
			continue;
		if (e->type != YAML_MAPPING_NODE) {
			error_at(c, e, "a rule must be a mapping (name, match, access...), not %s",
				 node_kind(e));
			continue;
		}
		r->pos.line = e->start_mark.line + 1;
		r->pos.col = e->start_mark.column + 1;
		r->match.vendor = r->match.device_id = -1;
		r->match.subsystem_vendor = r->match.subsystem_device = -1;
		c->p->nrules++;
		for_each_entry(c, e, rule_entry, &rs);
		if (!rs.name)
			error_at(c, e, "this rule has no 'name'");
		if (!rs.access)
			error_at(c, e, "rule '%s' has no 'access' (direct, fixed or trap)",
				 r->name ? r->name : "?");
		if (r->has_semantics && r->has_hazards)
			warning_at(c->d, r->pos, "rule '%s': 'semantics' has no effect: 'hazards' names "
				   "the violations itself", r->name ? r->name : "?");
		else if (r->has_semantics && rs.access && r->access != ACCESS_DIRECT)
			warning_at(c->d, r->pos, "rule '%s': 'semantics' has no effect on a %s region: "
				   "every hazard is a violation there", r->name ? r->name : "?",
				   access_class_name(r->access));
		for (size_t j = 0; r->name && j + 1 < c->p->nrules; j++) {
			if (c->p->rules[j].name && !strcmp(c->p->rules[j].name, r->name)) {
				error_at(c, e, "duplicate rule name '%s' (first at line %u)", r->name,
					 c->p->rules[j].pos.line);
				break;
			}
		}
	}
}

struct top_seen {
	bool deflt;
};

static void top_entry(struct ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct top_seen *ts = arg;
	const char *s;

	if (!strcmp(key, "version")) {
		if ((s = scalar(c, v, key)) && strcmp(s, "1"))
			error_at(c, v, "unsupported policy version '%s' (this vfioguard reads 1)", s);
	} else if (!strcmp(key, "mode")) {
		parse_mode(c, v, &c->p->mode);
	} else if (!strcmp(key, "default")) {
		ts->deflt = true;
		parse_access(c, v, key, &c->p->default_access);
	} else if (!strcmp(key, "rules")) {
		parse_rules(c, v);
	} else {
		error_at(c, k, "unknown key '%s' (expected version, mode, default, rules)", key);
	}
}

/*
 * Whether every subject b matches is also matched by a (so b, after a, never decides), with
 * matches the way the key's patterns match.
 */
static bool covers(const char *a, const char *b, bool (*matches)(const char *, const char *))
{
	if (!a)
		return true;
	if (!b)
		return false;
	if (!strcmp(a, b))
		return true;
	/* a pattern that matches b's literal text, when b has no pattern characters */
	return !strpbrk(b, "*?[\\") && matches(a, b);
}

static bool glob_matches(const char *pattern, const char *value);

static bool glob_covers(const char *a, const char *b)
{
	return covers(a, b, glob_matches);
}

static bool set_covers(uint64_t a, uint64_t b)
{
	return !a || (b && !(b & ~a));
}

static bool id_covers(int a, int b)
{
	return a < 0 || a == b;
}

static bool rule_covers(const struct rule *a, const struct rule *b)
{
	const struct rule_match *x = &a->match, *y = &b->match;

	return glob_covers(x->device, y->device) && covers(x->driver, y->driver, driver_matches) &&
	       glob_covers(x->comm, y->comm) && glob_covers(x->exe, y->exe) &&
	       glob_covers(x->cgroup, y->cgroup) && id_covers(x->vendor, y->vendor) &&
	       id_covers(x->device_id, y->device_id) &&
	       id_covers(x->subsystem_vendor, y->subsystem_vendor) &&
	       id_covers(x->subsystem_device, y->subsystem_device) &&
	       set_covers(x->regions, y->regions) && set_covers(x->caches, y->caches) &&
	       set_covers(x->arches, y->arches);
}

static void warn_shadowed(const struct policy *p, struct policy_diags *d)
{
	for (size_t j = 1; j < p->nrules; j++) {
		for (size_t i = 0; i < j; i++) {
			if (!rule_covers(&p->rules[i], &p->rules[j]))
				continue;
			warning_at(d, p->rules[j].pos,
				   "rule '%s' can never match: rule '%s' (line %u) comes first and "
				   "matches everything it matches",
				   p->rules[j].name, p->rules[i].name, p->rules[i].pos.line);
			break;
		}
	}
}

static void rule_free(struct rule *r)
{
	free(r->name);
	free(r->match.device);
	free(r->match.driver);
	free(r->match.comm);
	free(r->match.exe);
	free(r->match.cgroup);
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

void policy_diags_free(struct policy_diags *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int policy_parse(const char *text, size_t len, struct policy *p, struct policy_diags *diags)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct ctx c = { .doc = &doc, .d = diags, .p = p };
	struct top_seen ts = {};
	yaml_node_t *root;

	memset(p, 0, sizeof(*p));
	p->mode = POLICY_ENFORCE;
	if (len > POLICY_MAX_BYTES) {
		error_at(&c, NULL, "the file is larger than %d bytes: not a policy", POLICY_MAX_BYTES);
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		error_mark(&c, parser.problem_mark, "YAML syntax error: %s%s%s",
			   parser.problem ? parser.problem : "unknown", parser.context ? " " : "",
			   parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		error_at(&c, NULL, "the policy is empty: 'default' is required");
	} else if (root->type != YAML_MAPPING_NODE) {
		error_at(&c, root, "a policy is a mapping (mode, default, rules), not %s",
			 node_kind(root));
	} else {
		for_each_entry(&c, root, top_entry, &ts);
		if (!ts.deflt)
			error_at(&c, root, "no 'default' (direct, fixed or trap): every region needs "
				 "a verdict when no rule matches");
	}
	if (root) {
		if (!yaml_parser_load(&parser, &extra)) {
			error_mark(&c, parser.problem_mark, "YAML syntax error: %s%s%s",
				   parser.problem ? parser.problem : "unknown",
				   parser.context ? " " : "", parser.context ? parser.context : "");
		} else {
			yaml_node_t *r2 = yaml_document_get_root_node(&extra);

			if (r2)
				error_at(&c, r2, "a second YAML document: a policy file holds one");
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (diags->errors) {
		policy_free(p);
		return -EINVAL;
	}
	warn_shadowed(p, diags);
	return 0;
}

int policy_read_file(const char *path, char **text, size_t *len)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "re");

	*text = NULL;
	*len = 0;
	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (n == cap) {
			char *grown;

			/* Past the limit policy_parse() refuses anyway: stop reading. */
			if (cap > POLICY_MAX_BYTES)
				break;
			cap = cap ? cap * 2 : 4096;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = grown;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				fclose(f);
				return -EIO;
			}
			break;
		}
	}
	fclose(f);
	/* Also text for string parsers (the published JSON files are read with this). */
	if (buf)
		buf[n] = 0;
	*text = buf;
	*len = n;
	return 0;
}

int policy_parse_file(const char *path, struct policy *p, struct policy_diags *diags)
{
	char *buf;
	size_t len;
	int err;

	memset(p, 0, sizeof(*p));
	err = policy_read_file(path, &buf, &len);
	if (err)
		return err;
	err = policy_parse(buf ? buf : "", len, p, diags);
	free(buf);
	return err;
}

static bool glob_matches(const char *pattern, const char *value)
{
	return !pattern || (value && fnmatch(pattern, value, 0) == 0);
}

bool driver_matches(const char *pattern, const char *name)
{
	char dashes[256], underscores[256];
	size_t i;

	if (!pattern)
		return true;
	if (!name || !name[0])
		return false;
	if (!fnmatch(pattern, name, 0))
		return true;
	if (strlen(name) >= sizeof(dashes))
		return false; /* longer than any driver's name: matched only as it is */
	for (i = 0; name[i]; i++) {
		dashes[i] = name[i] == '_' ? '-' : name[i];
		underscores[i] = name[i] == '-' ? '_' : name[i];
	}
	dashes[i] = underscores[i] = 0;
	return !fnmatch(pattern, dashes, 0) || !fnmatch(pattern, underscores, 0);
}

bool rule_matches(const struct rule *r, const struct policy_subject *s)
{
	const struct rule_match *m = &r->match;

	return glob_matches(m->device, s->device) && driver_matches(m->driver, s->driver) &&
	       glob_matches(m->comm, s->comm) && glob_matches(m->exe, s->exe) &&
	       glob_matches(m->cgroup, s->cgroup) && (m->vendor < 0 || m->vendor == s->vendor) &&
	       (m->device_id < 0 || m->device_id == s->device_id) &&
	       (m->subsystem_vendor < 0 || m->subsystem_vendor == s->subsystem_vendor) &&
	       (m->subsystem_device < 0 || m->subsystem_device == s->subsystem_device) &&
	       (!m->regions || (s->region >= 0 && s->region <= POLICY_MAX_REGION &&
				(m->regions >> s->region) & 1)) &&
	       (!m->caches || (s->cache != CACHE_UNKNOWN && (m->caches >> s->cache) & 1)) &&
	       (!m->arches || (s->arch != ARCH_UNKNOWN && (m->arches >> s->arch) & 1));
}

int policy_match(const struct policy *p, const struct policy_subject *s)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (rule_matches(&p->rules[i], s))
			return i;
	return -1;
}

const char *access_class_name(enum access_class a)
{
	switch (a) {
	case ACCESS_DIRECT: return "direct";
	case ACCESS_FIXED: return "fixed";
	case ACCESS_TRAP: return "trap";
	}
	return "?";
}

const char *region_semantics_name(enum region_semantics s)
{
	return s == SEMANTICS_MEMORY ? "memory" : "registers";
}

int region_semantics_from_name(const char *s, enum region_semantics *out)
{
	if (!strcmp(s, "registers"))
		*out = SEMANTICS_REGISTERS;
	else if (!strcmp(s, "memory"))
		*out = SEMANTICS_MEMORY;
	else
		return -EINVAL;
	return 0;
}

const char *policy_mode_name(enum policy_mode m)
{
	return m == POLICY_AUDIT ? "audit" : "enforce";
}

const char *hazard_set_format(uint32_t set, char *buf, size_t len)
{
	static const char *const names[] = { "split", "dup", "reorder", "wide", "unaligned" };
	size_t n = 0;

	buf[0] = 0;
	if (!set) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (set & (1u << i))
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "", names[i]);
	return buf;
}

int hazard_set_parse(const char *s, uint32_t *set)
{
	static const char *const names[] = { "split", "dup", "reorder", "wide", "unaligned" };
	char buf[128], *save = NULL;

	*set = 0;
	if (!strcmp(s, "none"))
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf) || !buf[0] ||
	    buf[0] == ',' || buf[strlen(buf) - 1] == ',' || strstr(buf, ",,"))
		return -EINVAL; /* strtok_r would skip an empty name */
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]) && strcmp(t, names[i]); i++)
			;
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		*set |= 1u << i;
	}
	return 0;
}

int policy_mode_from_name(const char *s, enum policy_mode *out)
{
	for (enum policy_mode m = POLICY_AUDIT; m <= POLICY_ENFORCE; m++)
		if (!strcmp(s, policy_mode_name(m))) {
			*out = m;
			return 0;
		}
	return -EINVAL;
}

int access_class_from_name(const char *s, enum access_class *out)
{
	for (enum access_class a = ACCESS_DIRECT; a <= ACCESS_TRAP; a++)
		if (!strcmp(s, access_class_name(a))) {
			*out = a;
			return 0;
		}
	return -EINVAL;
}

enum cache_mode cache_mode_from_name(const char *name)
{
	for (int m = CACHE_UNKNOWN + 1; cache_mode_name(m); m++)
		if (!strcasecmp(name, cache_mode_name(m)))
			return m;
	return CACHE_UNKNOWN;
}
