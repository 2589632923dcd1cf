// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* vfioguard policy: check a policy file; explain which rule decides for a device region. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"
#include "../policy/hazards.h"
#include "../loader/host/kernel.h"
#include "../loader/decode/region.h"
#include "../loader/model/facts.h"
#include "../loader/model/run_state.h"
#include "../loader/probes/enforce.h"

static const char policy_usage[] =
	"Usage: vfioguard policy check FILE\n"
	"       vfioguard policy apply FILE\n"
	"       vfioguard policy show\n"
	"       vfioguard policy clear\n"
	"       vfioguard policy explain [--policy FILE] --device DEV --region R [--comm C]\n"
	"                                [--exe PATH] [--cgroup PATH] [--cache MODE]\n"
	"check validates a policy: every error and warning with file:line:column. Exit 2 on errors.\n"
	"explain says which rule gives the verdict for one device region and process (the policy in\n"
	"force unless --policy is given); without --cache it assumes the driver's known mode.\n"
	"apply puts a policy in force with BPF-LSM (atomically; it stays in force after vfioguard\n"
	"exits) and publishes the verdicts in /run/vfioguard/regions.json. show says what is in\n"
	"force and exits 1 when a region was mapped with another cache mode than its verdict\n"
	"assumed. clear lifts it.\n";

void print_policy_diags(const char *file, const struct policy_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s:%u:%u: %s: %s\n", file, d->v[i].pos.line, d->v[i].pos.col,
			d->v[i].warning ? "warning" : "error", d->v[i].message);
}

static struct json_object *diags_json(const struct policy_diags *d, bool warnings)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < d->n; i++) {
		struct json_object *o;

		if (d->v[i].warning != warnings)
			continue;
		o = json_object_new_object();
		json_add(o, "line", json_object_new_int(d->v[i].pos.line));
		json_add(o, "column", json_object_new_int(d->v[i].pos.col));
		json_add(o, "message", json_object_new_string(d->v[i].message));
		json_object_array_add(a, o);
	}
	return a;
}

/* Parses FILE, reporting as check does. Returns 0, or an exit code. */
static int load_policy(const char *file, struct policy *p, struct policy_diags *d, bool quiet_ok)
{
	int err = policy_parse_file(file, p, d);

	if (err && err != -EINVAL) {
		p_err("policy: cannot read %s: %s", file, strerror(-err));
		return EXIT_ERROR;
	}
	if (!json_output || !quiet_ok)
		print_policy_diags(file, d);
	return err ? EXIT_ERROR : 0;
}

static int do_check(int argc, char **argv)
{
	struct policy_diags d = {};
	struct policy p;
	int ret;

	if (argc != 2) {
		p_err("policy check: expected one FILE (see vfioguard policy --help)");
		return EXIT_ERROR;
	}
	ret = load_policy(argv[1], &p, &d, true);
	if (ret && !d.n) {
		policy_diags_free(&d);
		return ret;
	}
	if (json_output) {
		struct json_object *o = json_object_new_object(), *rules = json_object_new_array();

		json_add(o, "file", json_object_new_string(argv[1]));
		json_add(o, "valid", json_object_new_boolean(!ret));
		json_add(o, "errors", diags_json(&d, false));
		json_add(o, "warnings", diags_json(&d, true));
		if (!ret) {
			char hz[64];

			json_add(o, "mode", json_object_new_string(policy_mode_name(p.mode)));
			json_add(o, "default",
				 json_object_new_string(access_class_name(p.default_access)));
			for (size_t i = 0; i < p.nrules; i++) {
				const struct rule *r = &p.rules[i];
				struct json_object *x = json_object_new_object();

				json_add(x, "name", json_object_new_string(r->name));
				json_add(x, "line", json_object_new_int(r->pos.line));
				json_add(x, "access",
					 json_object_new_string(access_class_name(r->access)));
				json_add(x, "mode", json_object_new_string(policy_mode_name(
							    r->has_mode ? r->mode : p.mode)));
				json_add(x, "hazards",
					 r->has_hazards ? json_object_new_string(hazard_set_format(
								  r->hazards, hz, sizeof(hz)))
							: NULL);
				/* null: the default for the driver and region decides */
				json_add(x, "semantics", r->has_semantics ? json_object_new_string(
						  region_semantics_name(r->semantics)) : NULL);
				json_object_array_add(rules, x);
			}
		}
		json_add(o, "rules", rules);
		json_emit(o);
	} else if (!ret) {
		size_t warnings = d.n - d.errors;

		printf("%s: valid: %zu rule%s, default %s, mode %s%s\n", argv[1], p.nrules,
		       p.nrules == 1 ? "" : "s", access_class_name(p.default_access),
		       policy_mode_name(p.mode), warnings ? " (with warnings)" : "");
	}
	policy_free(&p);
	policy_diags_free(&d);
	return ret;
}

static int do_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'f' }, { "device", required_argument, NULL, 'd' },
		{ "region", required_argument, NULL, 'r' }, { "comm", required_argument, NULL, 'c' },
		{ "exe", required_argument, NULL, 'e' },    { "cgroup", required_argument, NULL, 'g' },
		{ "cache", required_argument, NULL, 'm' },  COMMON_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct policy_subject s = { .vendor = -1, .device_id = -1, .subsystem_vendor = -1,
				    .subsystem_device = -1, .region = -1 };
	const char *file = NULL, *region = NULL;
	struct policy_diags d = {};
	struct kernel_info ki;
	struct policy p;
	struct device_facts dev;
	char hz[64];
	struct cmd_options o = { .cmd = "policy explain", .usage = policy_usage, .shortopts = "jpvh",
				 .longopts = opts };
	int c, ret, idx;

	while ((c = next_option(&o, argc, argv)) > 0) {
		switch (c) {
		case 'f': file = optarg; break;
		case 'd': s.device = optarg; break;
		case 'r': region = optarg; break;
		case 'c': s.comm = optarg; break;
		case 'e': s.exe = optarg; break;
		case 'g': s.cgroup = optarg; break;
		case 'm':
			s.cache = cache_mode_from_name(optarg);
			if (s.cache == CACHE_UNKNOWN) {
				p_err("policy explain: --cache: unknown cache mode '%s'", optarg);
				return EXIT_ERROR;
			}
			break;
		}
	}
	if (c < 0)
		return o.rc;
	if (!file && !access(RUN_POLICY, R_OK))
		file = RUN_POLICY; /* the policy in force */
	if (!file) {
		p_err("policy explain: no policy in force; name one with --policy FILE");
		return EXIT_ERROR;
	}
	if (!s.device || !region) {
		p_err("policy explain: --device and --region are required");
		return EXIT_ERROR;
	}
	{
		long v;

		if (region_parse(region, &v) || v < 0 || v > POLICY_MAX_REGION) {
			p_err("policy explain: --region: '%s' is not a region", region);
			return EXIT_ERROR;
		}
		s.region = v;
	}
	if (!kernel_info_read(&ki))
		s.arch = ki.arch;
	pci_device_facts(s.device, &dev);
	s.vendor = dev.vendor;
	s.device_id = dev.device_id;
	s.subsystem_vendor = dev.subsystem_vendor;
	s.subsystem_device = dev.subsystem_device;
	s.driver = dev.driver[0] ? dev.driver : NULL;
	if (s.cache == CACHE_UNKNOWN)
		s.cache = assumed_cache_mode(s.arch, dev.driver, s.region, CACHE_UNKNOWN);
	ret = load_policy(file, &p, &d, false);
	policy_diags_free(&d);
	if (ret)
		return ret;
	idx = policy_match(&p, &s);
	{
		const struct rule *r = idx >= 0 ? &p.rules[idx] : NULL;
		enum access_class a = r ? r->access : p.default_access;
		enum policy_mode m = r && r->has_mode ? r->mode : p.mode;
		enum region_semantics sem = region_semantics_of(r, dev.driver, s.region);
		/* Who said what the region holds: the rule, else the default for the driver and region. */
		const char *sem_by = r && r->has_semantics ? "rule" : "default";
		uint32_t forbidden = rule_violations(r, s.arch, s.cache, a, sem);
		char vz[64];

		if (json_output) {
			struct json_object *o = json_object_new_object();

			json_add(o, "device", json_object_new_string(s.device));
			json_add(o, "region_index", json_object_new_int(s.region));
			json_add(o, "driver", dev.driver[0] ? json_object_new_string(dev.driver) : NULL);
			json_add(o, "rule", r ? json_object_new_string(r->name) : NULL);
			json_add(o, "line", r ? json_object_new_int(r->pos.line) : NULL);
			json_add(o, "access", json_object_new_string(access_class_name(a)));
			json_add(o, "mode", json_object_new_string(policy_mode_name(m)));
			json_add(o, "cache", s.cache == CACHE_UNKNOWN ? NULL :
					     json_object_new_string(cache_mode_name(s.cache)));
			json_add(o, "hazards", r && r->has_hazards ?
						       json_object_new_string(hazard_set_format(
							       r->hazards, hz, sizeof(hz))) : NULL);
			json_add(o, "semantics", json_object_new_string(region_semantics_name(sem)));
			json_add(o, "semantics_by", json_object_new_string(sem_by));
			json_add(o, "violations", json_object_new_string(
							  hazard_set_format(forbidden, vz, sizeof(vz))));
			json_emit(o);
		} else {
			if (r)
				printf("%s region %d: %s (%s), by rule '%s' at %s:%u\n", s.device,
				       s.region, access_class_name(a), policy_mode_name(m), r->name,
				       file, r->pos.line);
			else
				printf("%s region %d: %s (%s), by the default: no rule matches\n",
				       s.device, s.region, access_class_name(a), policy_mode_name(m));
			/* What decided the violations: the rule's list, the access class, or what
			 * the region holds and its cache mode (the semantics count only then). */
			const char *no_effect = "";
			char decided[96];

			if (r && r->has_hazards) {
				no_effect = " (no effect: the rule lists its hazards)";
				snprintf(decided, sizeof(decided), "the rule's hazards");
			} else if (a != ACCESS_DIRECT) {
				no_effect = " (no effect: not direct)";
				snprintf(decided, sizeof(decided), "every hazard: a %s region allows none",
					 access_class_name(a));
			} else {
				snprintf(decided, sizeof(decided), "for %s in cache mode %s",
					 region_semantics_name(sem), s.cache == CACHE_UNKNOWN ?
					 "unknown" : cache_mode_name(s.cache));
			}
			if (r && r->has_semantics)
				printf("  semantics: %s, by the rule%s\n", region_semantics_name(sem),
				       no_effect);
			else
				printf("  semantics: %s, the default for driver %s%s\n",
				       region_semantics_name(sem),
				       dev.driver[0] ? dev.driver : "(none bound)", no_effect);
			printf("  violations: %s, %s\n", hazard_set_format(forbidden, vz, sizeof(vz)),
			       decided);
		}
		/* Why the earlier rules did not decide, for people. */
		if (!json_output && verbose)
			for (int i = 0; i < (idx < 0 ? (int)p.nrules : idx); i++)
				printf("  rule '%s' (line %u) does not match\n", p.rules[i].name,
				       p.rules[i].pos.line);
	}
	policy_free(&p);
	return EXIT_CLEAN;
}

int do_policy(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} subs[] = {
		{ "check", do_check },
		{ "apply", do_policy_apply },
		{ "show", do_policy_show },
		{ "clear", do_policy_clear },
	};

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		printf("%s", policy_usage);
		return argc < 2 ? EXIT_ERROR : EXIT_CLEAN;
	}
	if (!strcmp(argv[1], "explain"))
		return do_explain(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char **sub = argv + 1;
		int n;

		if (strcmp(argv[1], subs[i].name))
			continue;
		/* -j, -p, -v also after the subcommand; what is left are its arguments. */
		n = parse_common_options(argc - 1, sub, policy_usage);
		if (n < 0)
			return n == -1 ? EXIT_CLEAN : EXIT_ERROR;
		sub[n - 1] = sub[0];
		return subs[i].fn(argc - 1 - n + 1, sub + n - 1);
	}
	p_err("policy: unknown subcommand '%s' (check, explain, apply, show, clear)", argv[1]);
	return EXIT_ERROR;
}
