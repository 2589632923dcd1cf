// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfioguard policy apply | show | clear: putting a policy in force with BPF-LSM, saying what is
 * in force, and publishing the verdicts for VMMs and management layers in
 * /run/vfioguard/regions.json.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"
#include "../loader/model/apply.h"
#include "../loader/probes/enforce.h"
#include "../loader/decode/region.h"


static int need_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	p_err("policy %s: needs root: it loads BPF-LSM programs and pins them under %s, which "
	      "only root may change", what, VFG_PIN_DIR);
	return EXIT_ERROR;
}

static void waiting(const char *what)
{
	p_warn("policy %s: waiting for another apply or clear to finish (it holds a lock on %s)",
	       what, RUN_DIR);
}

static void apply_waiting(void *ctx)
{
	waiting("apply");
}

static void clear_waiting(void *ctx)
{
	waiting("clear");
}

int do_policy_apply(int argc, char **argv)
{
	if (argc != 2) {
		p_err("policy apply: expected one FILE");
		return EXIT_ERROR;
	}
	return policy_apply_file(argv[1], argv[1], NULL, NULL);
}

int policy_apply_file(const char *file, const char *text_from,
		      void (*then)(struct policy *p, const struct run_state *st, void *ctx),
		      void *ctx)
{
	struct apply_hooks hooks = { .waiting = apply_waiting, .applied = then, .ctx = ctx };
	struct apply_report rep;
	const struct run_state *st = &rep.state;
	int err;

	if (need_root("apply"))
		return EXIT_ERROR;
	err = policy_apply(file, text_from, &hooks, &rep);
	print_policy_diags(file, &rep.diags);
	/* Said even when publishing failed after it: the takeover happened. */
	if (st->took_over) {
		char was[32] = "none: an older layout";

		if (rep.previous_build)
			snprintf(was, sizeof(was), "%08x", rep.previous_build);
		/* On stderr: stdout stays the one line (or document) a script reads. */
		fprintf(stderr,
			"policy apply: took over the enforcement state another vfioguard build left "
			"under %s (its build record: %s); this build's programs replaced it with no "
			"moment unenforced\n",
			VFG_PIN_DIR, was);
	}
	if (err) {
		p_err("policy apply: %s", rep.why);
		apply_report_free(&rep);
		return EXIT_ERROR;
	}
	if (json_output)
		json_emit(run_state_json(st));
	else
		printf("applied %s (generation %" PRIu64 "): %zu rule%s, default %s, mode %s; %zu "
		       "verdicts for %zu devices; published %s\n", st->file, st->generation,
		       st->rules, st->rules == 1 ? "" : "s", access_class_name(st->default_access),
		       policy_mode_name(st->mode), st->verdicts, rep.ndevices, RUN_REGIONS);
	apply_report_free(&rep);
	return EXIT_CLEAN;
}

int do_policy_clear(int argc, char **argv)
{
	struct apply_hooks hooks = { .waiting = clear_waiting };
	char why[PATH_MAX + 80];
	int err;

	if (no_operands("policy clear", argc, argv, 1))
		return EXIT_ERROR;
	if (need_root("clear"))
		return EXIT_ERROR;
	err = policy_clear(&hooks, why, sizeof(why));
	if (err == -ENOENT) {
		printf("no policy in force\n");
		return EXIT_CLEAN;
	}
	if (err) {
		p_err("policy clear: %s", why);
		return EXIT_ERROR;
	}
	printf("policy cleared: VFIO mmaps are no longer checked\n");
	return EXIT_CLEAN;
}

struct mismatch_ctx {
	int mismatches;
	struct json_object *arr;
};

static void on_observed(const struct observed_mode *o, void *arg)
{
	struct mismatch_ctx *m = arg;
	char a[40], b[40], name[24];
	struct json_object *x;

	cache_mode_format(o->assumed, 0, a, sizeof(a));
	cache_mode_format(o->mapped, o->pgprot, b, sizeof(b));
	region_name(o->key->region, name, sizeof(name));
	m->mismatches += o->mismatch;
	if (m->arr) {
		x = json_object_new_object();
		json_add(x, "device", json_object_new_string(o->key->device));
		json_add(x, "region", json_object_new_string(name));
		json_add(x, "assumed", json_object_new_string(a));
		json_add(x, "mapped", json_object_new_string(b));
		json_add(x, "pgprot", json_hex(o->pgprot));
		json_add(x, "pid", json_object_new_int64(o->tgid));
		json_add(x, "mismatch", json_object_new_boolean(o->mismatch));
		json_object_array_add(m->arr, x);
		return;
	}
	printf("  %-13s %-7s assumed %-13s mapped %-13s%s\n", o->key->device, name, a, b,
	       o->mismatch ? "  VIOLATION: the verdict assumed another cache mode" : "");
}

int do_policy_show(int argc, char **argv)
{
	struct enforce_status st;
	struct mismatch_ctx m = {};
	struct run_published pub;
	const struct run_regions *rr = &pub.regions;
	char name[24], cache[40], hz[64];
	int err;

	if (no_operands("policy show", argc, argv, 1))
		return EXIT_ERROR;
	if (need_root("show"))
		return EXIT_ERROR;
	err = enforce_status_read(&st);
	if (err == -ENOENT) {
		if (json_output) {
			struct json_object *o = json_object_new_object();

			json_add(o, "active", json_object_new_boolean(false));
			json_emit(o);
		} else {
			printf("no policy in force\n");
		}
		return EXIT_CLEAN;
	}
	run_published_read(RUN_DIR, RUN_READ_STATE | RUN_READ_REGIONS, &pub);
	if (pub.why[0])
		p_warn("policy show: %s", pub.why);
	if (json_output) {
		struct json_object *o = json_object_new_object();

		m.arr = json_object_new_array();
		enforce_observed_foreach(on_observed, &m);
		json_add(o, "active", json_object_new_boolean(true));
		json_add(o, "generation", json_object_new_uint64(st.generation));
		json_add(o, "state", pub.have_state ? run_state_json(&pub.state) : NULL);
		json_add(o, "allowed", json_object_new_uint64(st.allowed));
		json_add(o, "denied", json_object_new_uint64(st.denied));
		json_add(o, "decisions_dropped", json_object_new_uint64(st.dropped));
		json_add(o, "observed", m.arr);
		json_add(o, "regions", pub.have_regions ? run_regions_json(rr) : NULL);
		json_emit(o);
		run_published_free(&pub);
		return m.mismatches ? EXIT_VIOLATIONS : EXIT_CLEAN;
	}
	printf("policy in force: generation %" PRIu64, st.generation);
	if (pub.have_state)
		printf(", %s (crc32 %08x, applied %s)", pub.state.file, pub.state.crc32,
		       pub.state.applied);
	printf("\nmmaps of VFIO regions: %" PRIu64 " allowed, %" PRIu64 " denied, %" PRIu64
	       " decisions not recorded (buffer full)\n", st.allowed, st.denied, st.dropped);
	if (!pub.have_state || !pub.have_regions || st.generation != pub.state.generation ||
	    st.generation != rr->generation)
		printf("warning: %s does not describe the generation in force\n", RUN_DIR);
	if (pub.have_regions)
		printf("\n%-13s %-7s %-7s %-8s %-13s %-9s %-24s %s\n", "DEVICE", "REGION", "ACCESS",
		       "MODE", "CACHE", "SEMANTICS", "RULE", "VIOLATIONS");
	for (size_t i = 0; i < rr->ndevices; i++) {
		for (size_t j = 0; j < rr->devices[i].nregions; j++) {
			const struct run_region *g = &rr->devices[i].regions[j];

			printf("%-13s %-7s %-7s %-8s %-13s %-9s %-24s %s\n", rr->devices[i].device,
			       region_name(g->index, name, sizeof(name)), access_class_name(g->access),
			       policy_mode_name(g->enforce ? POLICY_ENFORCE : POLICY_AUDIT),
			       g->cache != CACHE_UNKNOWN ?
				       cache_mode_format(g->cache, 0, cache, sizeof(cache)) : "?",
			       g->judged.has_semantics ? region_semantics_name(g->judged.semantics)
						       : "?",
			       g->rule ? g->rule : "(default)",
			       hazard_set_format(g->judged.violations, hz, sizeof(hz)));
		}
	}
	printf("\ncache modes seen after mmap, against the verdicts' assumptions:\n");
	enforce_observed_foreach(on_observed, &m);
	run_published_free(&pub);
	return m.mismatches ? EXIT_VIOLATIONS : EXIT_CLEAN;
}

/*
 * vfioguard advise: what a VMM should be told, from the verdicts in force. QEMU can only stop
 * mmap for a whole device (x-no-mmap), so one trapped region traps the device's BARs.
 */
static const char advise_usage[] =
	"Usage: vfioguard advise [--qemu|--libvirt] [-j|-p]\n"
	"What each VMM should be told about every device the policy in force covers, from the\n"
	"verdicts policy apply published in " RUN_REGIONS ": the QEMU -device\n"
	"option and the libvirt <hostdev> (x-no-mmap where a region must not be mapped), and the\n"
	"access each region allows. --qemu or --libvirt shows only that one.\n"
	"Exit 0, or 2 when no policy is in force.\n";

/* Whether a VMM must not map the device: a region other than config space may not be mapped,
 * by every process or by some (a VMM that is one of them must know). */
static bool device_traps(const struct run_device *dv)
{
	for (size_t j = 0; j < dv->nregions; j++) {
		const struct run_region *g = &dv->regions[j];

		if (g->index == REGION_CONFIG)
			continue; /* QEMU always reads config space through the fd */
		if (g->access == ACCESS_TRAP)
			return true;
		for (size_t k = 0; k < g->nprocess_rules; k++)
			if (g->process_rules[k].access == ACCESS_TRAP)
				return true;
	}
	return false;
}

int do_advise(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "qemu", no_argument, NULL, 'q' },	{ "libvirt", no_argument, NULL, 'l' },
		COMMON_LONG_OPTIONS, { NULL, 0, NULL, 0 },
	};
	bool qemu = true, libvirt = true;
	struct json_object *out = NULL, *doc = NULL, *devs = NULL;
	struct run_published pub;
	const struct run_regions *rr = &pub.regions;
	char name[24];
	struct cmd_options o = { .cmd = "advise", .usage = advise_usage, .shortopts = "jpvh",
				 .longopts = opts };
	int c;

	while ((c = next_option(&o, argc, argv)) > 0) {
		switch (c) {
		case 'q': libvirt = false; break;
		case 'l': qemu = false; break;
		}
	}
	if (c < 0)
		return o.rc;
	if (!qemu && !libvirt) {
		p_err("advise: --qemu and --libvirt each show only one; give at most one");
		return EXIT_ERROR;
	}
	run_published_read(RUN_DIR, RUN_READ_REGIONS, &pub);
	if (!pub.have_regions) {
		if (pub.why[0])
			p_err("advise: %s", pub.why);
		else
			p_err("advise: no policy in force (%s is missing): vfioguard policy apply "
			      "FILE first", RUN_REGIONS);
		return EXIT_ERROR;
	}
	if (json_output) {
		out = json_object_new_array();
		doc = run_regions_json(rr);
		devs = json_object_object_get(doc, "devices");
	}
	for (size_t i = 0; i < rr->ndevices; i++) {
		const struct run_device *dv = &rr->devices[i];
		const char *dev = dv->device;
		unsigned int dom = 0, bus = 0, slot = 0, fn = 0;
		bool trap = device_traps(dv);
		char qemu_arg[160], xml[1024], alias[32];

		sscanf(dev, "%x:%x:%x.%x", &dom, &bus, &slot, &fn);
		snprintf(qemu_arg, sizeof(qemu_arg), "-device vfio-pci,host=%s%s", dev,
			 trap ? ",x-no-mmap=on" : "");
		snprintf(alias, sizeof(alias), "ua-vfg-%02x%02x%x", bus, slot, fn);
		snprintf(xml, sizeof(xml),
			 "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
			 "  <source><address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
			 "function='0x%x'/></source>\n"
			 "  <alias name='%s'/>\n"
			 "</hostdev>",
			 dom, bus, slot, fn, alias);
		if (trap)
			snprintf(xml + strlen(xml), sizeof(xml) - strlen(xml),
				 "\n<!-- inside <qemu:override> (xmlns:qemu='http://libvirt.org/"
				 "schemas/domain/qemu/1.0'), libvirt 8.2 and later -->\n"
				 "<qemu:device alias='%s'><qemu:frontend>"
				 "<qemu:property name='x-no-mmap' type='bool' value='true'/>"
				 "</qemu:frontend></qemu:device>", alias);
		if (json_output) {
			struct json_object *o = json_object_new_object();

			json_add(o, "device", json_object_new_string(dev));
			json_add(o, "trap", json_object_new_boolean(trap));
			if (qemu)
				json_add(o, "qemu", json_object_new_string(qemu_arg));
			if (libvirt)
				json_add(o, "libvirt", json_object_new_string(xml));
			json_add(o, "regions", json_object_get(json_object_object_get(
						       json_object_array_get_idx(devs, i), "regions")));
			json_object_array_add(out, o);
			continue;
		}
		printf("%s (%s)%s\n", dev, dv->driver,
		       trap ? ": a region must not be mapped: the VMM must use the device fd" : "");
		for (size_t j = 0; j < dv->nregions; j++)
			printf("  %-7s %-7s %s\n", region_name(dv->regions[j].index, name, sizeof(name)),
			       access_class_name(dv->regions[j].access),
			       dv->regions[j].access == ACCESS_FIXED
				       ? "single aligned 1/2/4/8-byte accesses only" : "");
		if (qemu)
			printf("  qemu:    %s\n", qemu_arg);
		if (libvirt)
			printf("  libvirt:\n%s\n", xml);
	}
	if (json_output)
		json_emit(out);
	json_object_put(doc);
	run_published_free(&pub);
	return EXIT_CLEAN;
}
