// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfioguard policy apply | show | clear: putting a policy in force with BPF-LSM, saying what is
 * in force, and publishing the verdicts for VMMs and management layers in
 * /run/vfioguard/regions.json.
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "commands.h"
#include "output.h"
#include "../loader/model/facts.h"
#include "../loader/probes/enforce.h"
#include "../loader/host/kernel.h"
#include "../loader/decode/region.h"
#include "../policy/hazards.h"


static int need_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	p_err("policy %s: needs root: it loads BPF-LSM programs and pins them under %s, which "
	      "only root may change", what, VFG_PIN_DIR);
	return EXIT_ERROR;
}

/* Writes a file next to its final name; rename_into() makes it visible in one step. */
static int write_tmp(const char *final, const char *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", final);
	/* Its mode whatever the caller's umask: what is published is read by VMMs and users. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) || write(fd, data, len) != (ssize_t)len || fsync(fd))
		err = errno ? -errno : -EIO;
	close(fd);
	if (err)
		unlink(tmp);
	return err;
}

static int rename_into(const char *final)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s.tmp", final);
	return rename(tmp, final) ? -errno : 0;
}

static void drop_tmp(const char *final)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s.tmp", final);
	unlink(tmp);
}

/* Which of BAR0..BAR5 and the ROM the device has, from its sysfs resources. */
static uint64_t present_regions(const char *dev)
{
	struct pci_resource res[PCI_RESOURCES];
	uint64_t set = 1ULL << 7; /* config space is always there */

	if (pci_resources_read(dev, res))
		return set;
	for (int i = 0; i < PCI_RESOURCES; i++)
		if (res[i].end > res[i].start)
			set |= 1ULL << i;
	return set;
}

static bool vfio_bound(const struct device_facts *d)
{
	return strstr(d->driver, "vfio") != NULL;
}

/* The verdict for a process no process matcher names: the unconditional entry. */
static const struct vfg_cond *general_cond(const struct vfg_verdict *v)
{
	return &v->conds[v->n - 1];
}

static const struct vfg_region_verdict *find_verdict(const struct compiled *c, const char *dev,
						   unsigned int region)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].key.region == region && !strcmp(c->v[i].key.device, dev))
			return &c->v[i];
	return NULL;
}

static struct json_object *regions_json(const struct policy *p, const struct compiled *c,
					const struct device_facts *devs, size_t ndevs,
					enum host_arch arch, uint64_t generation, const char *file,
					uint32_t crc)
{
	struct json_object *doc = json_object_new_object(), *da = json_object_new_array();
	char name[24], hz[64], cache[40];

	json_add(doc, "generation", json_object_new_uint64(generation));
	json_add(doc, "policy", json_object_new_string(file));
	snprintf(hz, sizeof(hz), "%08x", crc);
	json_add(doc, "crc32", json_object_new_string(hz));
	json_add(doc, "arch", json_object_new_string(host_arch_name(arch)));
	for (size_t d = 0; d < ndevs; d++) {
		struct json_object *o, *ra;
		uint64_t present;

		if (!vfio_bound(&devs[d]))
			continue;
		o = json_object_new_object();
		ra = json_object_new_array();
		present = present_regions(devs[d].name);
		json_add(o, "device", json_object_new_string(devs[d].name));
		json_add(o, "driver", json_object_new_string(devs[d].driver));
		snprintf(hz, sizeof(hz), "%04x:%04x", devs[d].vendor & 0xffff,
			 devs[d].device_id & 0xffff);
		json_add(o, "id", json_object_new_string(hz));
		for (unsigned int r = 0; r <= 8; r++) {
			const struct vfg_region_verdict *cv = find_verdict(c, devs[d].name, r);
			struct json_object *x, *w, *exc;
			const struct vfg_cond *g;
			uint32_t viol;

			if (!cv || !((present >> r) & 1))
				continue;
			g = general_cond(&cv->v);
			x = json_object_new_object();
			json_add(x, "index", json_object_new_int(r));
			json_add(x, "name", json_object_new_string(region_name(r, name, sizeof(name))));
			json_add(x, "access",
				 json_object_new_string(access_class_name(g->access)));
			json_add(x, "mode", json_object_new_string(g->enforce ? "enforce" : "audit"));
			json_add(x, "rule", g->rule == VFG_RULE_DEFAULT ? NULL :
					    json_object_new_string(p->rules[g->rule].name));
			json_add(x, "cache", cv->v.assumed_cache ?
				 json_object_new_string(cache_mode_format(cv->v.assumed_cache, 0,
									  cache, sizeof(cache))) : NULL);
			w = json_object_new_array();
			if (g->access == ACCESS_FIXED)
				for (int k = 1; k <= 8; k *= 2)
					json_object_array_add(w, json_object_new_int(k));
			json_add(x, "widths", g->access == ACCESS_DIRECT ?
					      json_object_new_string("any") : w);
			if (g->access == ACCESS_DIRECT)
				json_object_put(w);
			viol = g->rule != VFG_RULE_DEFAULT && p->rules[g->rule].has_hazards ?
				       p->rules[g->rule].hazards :
				       hazard_violations(arch, cv->v.assumed_cache, g->access);
			json_add(x, "violations",
				 json_object_new_string(hazard_set_format(viol, hz, sizeof(hz))));
			/* Rules that name processes come first and may decide otherwise. */
			exc = json_object_new_array();
			for (unsigned int k = 0; k + 1 < cv->v.n; k++) {
				struct json_object *e = json_object_new_object();
				const struct vfg_cond *pc = &cv->v.conds[k];

				json_add(e, "rule", json_object_new_string(p->rules[pc->rule].name));
				json_add(e, "access",
					 json_object_new_string(access_class_name(pc->access)));
				json_object_array_add(exc, e);
			}
			json_add(x, "process_rules", exc);
			json_object_array_add(ra, x);
		}
		json_add(o, "regions", ra);
		json_object_array_add(da, o);
	}
	json_add(doc, "devices", da);
	return doc;
}

int do_policy_apply(int argc, char **argv)
{
	if (argc != 2) {
		p_err("policy apply: expected one FILE");
		return EXIT_ERROR;
	}
	return policy_apply_file(argv[1], argv[1], NULL, NULL);
}

/*
 * Applies and clears one at a time, whoever runs them (serve's reloads and hot-plug, an
 * administrator): each takes a lock on RUN_DIR (flock), waiting for the one in progress, so that the
 * generation, the pinned verdicts and the published files always come from one apply. Returns
 * the lock's descriptor (closing it releases the lock) or -1 after saying why.
 */
static int run_lock(const char *what)
{
	int fd;

	if ((mkdir(RUN_DIR, 0755) && errno != EEXIST) || chmod(RUN_DIR, 0755)) {
		p_err("policy %s: cannot create %s: %s", what, RUN_DIR, strerror(errno));
		return -1;
	}
	/* The directory itself: an apply refused leaves nothing in it. */
	fd = open(RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		p_err("policy %s: cannot open %s: %s", what, RUN_DIR, strerror(errno));
		return -1;
	}
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	if (errno == EWOULDBLOCK) {
		p_warn("policy %s: waiting for another apply or clear to finish (it holds a lock "
		       "on %s)", what, RUN_DIR);
		int err;

		/* A signal (serve's SIGHUP while it starts) does not end the wait. */
		while ((err = flock(fd, LOCK_EX)) && errno == EINTR)
			;
		if (!err)
			return fd;
	}
	p_err("policy %s: cannot lock %s: %s", what, RUN_DIR, strerror(errno));
	close(fd);
	return -1;
}

static int apply_locked(const char *file, const char *text_from);

int policy_apply_file(const char *file, const char *text_from, void (*then)(void *ctx),
		      void *ctx)
{
	int lock, ret;

	if (need_root("apply"))
		return EXIT_ERROR;
	lock = run_lock("apply");
	if (lock < 0)
		return EXIT_ERROR;
	ret = apply_locked(file, text_from);
	/* Still under the lock: what then reads (generation, published files) is this apply's. */
	if (ret == EXIT_CLEAN && then)
		then(ctx);
	close(lock);
	return ret;
}

static int apply_locked(const char *file, const char *text_from)
{
	struct policy_diags d = {};
	struct device_facts *devs = NULL;
	struct compiled c = {};
	struct kernel_info ki;
	struct policy p;
	const char *step = NULL;
	char abs[PATH_MAX], *text = NULL;
	size_t len = 0, ndevs = 0;
	struct enforce_applied applied;
	uint64_t generation = 0;
	struct json_object *state = NULL, *regions = NULL;
	int err, ret = EXIT_ERROR;
	uint32_t crc;

	/* One read: what is parsed is what is hashed and published. */
	err = policy_read_file(text_from, &text, &len);
	if (err) {
		p_err("policy apply: cannot read %s: %s", text_from, strerror(-err));
		return EXIT_ERROR;
	}
	err = policy_parse(text ? text : "", len, &p, &d);
	print_policy_diags(file, &d);
	if (err) {
		p_err("policy apply: %s has errors; nothing was applied", file);
		policy_diags_free(&d);
		free(text);
		return EXIT_ERROR;
	}
	policy_diags_free(&d);
	if (!realpath(file, abs))
		snprintf(abs, sizeof(abs), "%s", file);
	crc = crc32(0, (const unsigned char *)text, len);
	err = kernel_info_read(&ki);
	if (!err)
		err = device_facts_read(&devs, &ndevs, &step);
	else
		step = "read the kernel release";
	if (err) {
		p_err("policy apply: cannot %s: %s; nothing was applied", step, strerror(-err));
		goto out;
	}
	if (policy_compile(&p, ki.arch, devs, ndevs, &host_resolver, &c, &d)) {
		print_policy_diags(file, &d);
		p_err("policy apply: %s cannot be enforced as written; nothing was applied", file);
		goto out;
	}
	/* Everything that will be published is written first; renamed only once in force. */
	err = write_tmp(RUN_POLICY, text ? text : "", len, 0600);
	if (err) {
		p_err("policy apply: cannot write %s: %s; nothing was applied", RUN_POLICY,
		      strerror(-err));
		goto out;
	}
	err = enforce_apply(c.v, c.n, &applied, &step);
	if (err) {
		drop_tmp(RUN_POLICY);
		p_err("policy apply: cannot %s: %s; the previous policy (if any) is still in force",
		      step, kernel_strerror(err));
		goto out;
	}
	generation = applied.generation;
	if (applied.took_over) {
		char was[32] = "none: an older layout";

		if (applied.previous_build)
			snprintf(was, sizeof(was), "%08x", applied.previous_build);
		/* On stderr: stdout stays the one line (or document) a script reads. */
		fprintf(stderr,
			"policy apply: took over the enforcement state another vfioguard build left "
			"under %s (its build record: %s); this build's programs replaced it with no "
			"moment unenforced\n",
			VFG_PIN_DIR, was);
	}
	{
		char when[32], crcs[16];
		time_t now = time(NULL);
		const char *s;
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(crcs, sizeof(crcs), "%08x", crc);
		state = json_object_new_object();
		json_add(state, "file", json_object_new_string(abs));
		json_add(state, "crc32", json_object_new_string(crcs));
		json_add(state, "applied", json_object_new_string(when));
		json_add(state, "generation", json_object_new_uint64(generation));
		json_add(state, "took_over", json_object_new_boolean(applied.took_over));
		json_add(state, "mode", json_object_new_string(policy_mode_name(p.mode)));
		json_add(state, "default",
			 json_object_new_string(access_class_name(p.default_access)));
		json_add(state, "rules", json_object_new_int64(p.nrules));
		json_add(state, "verdicts", json_object_new_int64(c.n));
		regions = regions_json(&p, &c, devs, ndevs, ki.arch, generation, abs, crc);
		s = json_object_to_json_string_ext(state, JSON_C_TO_STRING_PRETTY);
		err = write_tmp(RUN_STATE, s, strlen(s), 0644);
		s = json_object_to_json_string_ext(regions, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!err)
			err = write_tmp(RUN_REGIONS, s, strlen(s), 0644);
		if (!err)
			err = rename_into(RUN_POLICY);
		if (!err)
			err = rename_into(RUN_STATE);
		if (!err)
			err = rename_into(RUN_REGIONS);
		if (err) {
			p_err("policy apply: the policy is in force (generation %" PRIu64 ") but %s "
			      "could not be updated: %s", generation, RUN_DIR, strerror(-err));
			goto out;
		}
	}
	if (json_output) {
		json_emit(json_object_get(state));
	} else {
		printf("applied %s (generation %" PRIu64 "): %zu rule%s, default %s, mode %s; %zu "
		       "verdicts for %zu devices; published %s\n", abs, generation, p.nrules,
		       p.nrules == 1 ? "" : "s", access_class_name(p.default_access),
		       policy_mode_name(p.mode), c.n, ndevs, RUN_REGIONS);
	}
	ret = EXIT_CLEAN;
out:
	json_object_put(state);
	json_object_put(regions);
	compiled_free(&c);
	policy_diags_free(&d);
	policy_free(&p);
	free(devs);
	free(text);
	return ret;
}

int do_policy_clear(int argc, char **argv)
{
	const char *step = NULL;
	int err, lock;

	if (argc > 1) {
		p_err("policy clear: unexpected argument '%s'", argv[1]);
		return EXIT_ERROR;
	}
	if (need_root("clear"))
		return EXIT_ERROR;
	lock = run_lock("clear");
	if (lock < 0)
		return EXIT_ERROR;
	err = enforce_clear(&step);
	if (err == -ENOENT) {
		close(lock);
		printf("no policy in force\n");
		return EXIT_CLEAN;
	}
	if (err) {
		close(lock);
		p_err("policy clear: cannot %s: %s", step, strerror(-err));
		return EXIT_ERROR;
	}
	unlink(RUN_POLICY);
	unlink(RUN_STATE);
	unlink(RUN_REGIONS);
	close(lock);
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
	struct json_object *state, *regions;
	int err;

	if (argc > 1) {
		p_err("policy show: unexpected argument '%s'", argv[1]);
		return EXIT_ERROR;
	}
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
	state = json_object_from_file(RUN_STATE);
	regions = json_object_from_file(RUN_REGIONS);
	if (json_output) {
		struct json_object *o = json_object_new_object();

		m.arr = json_object_new_array();
		enforce_observed_foreach(on_observed, &m);
		json_add(o, "active", json_object_new_boolean(true));
		json_add(o, "generation", json_object_new_uint64(st.generation));
		json_add(o, "state", state);
		json_add(o, "allowed", json_object_new_uint64(st.allowed));
		json_add(o, "denied", json_object_new_uint64(st.denied));
		json_add(o, "decisions_dropped", json_object_new_uint64(st.dropped));
		json_add(o, "observed", m.arr);
		json_add(o, "regions", regions);
		json_emit(o);
		return m.mismatches ? EXIT_VIOLATIONS : EXIT_CLEAN;
	}
	{
		struct json_object *v;

		printf("policy in force: generation %" PRIu64, st.generation);
		if (state && json_object_object_get_ex(state, "file", &v))
			printf(", %s", json_object_get_string(v));
		if (state && json_object_object_get_ex(state, "crc32", &v))
			printf(" (crc32 %s", json_object_get_string(v));
		if (state && json_object_object_get_ex(state, "applied", &v))
			printf(", applied %s)", json_object_get_string(v));
		printf("\nmmaps of VFIO regions: %" PRIu64 " allowed, %" PRIu64 " denied, %" PRIu64
		       " decisions not recorded (buffer full)\n", st.allowed, st.denied, st.dropped);
		if (!state || !regions || st.generation !=
		    (uint64_t)json_object_get_int64(json_object_object_get(state, "generation")))
			printf("warning: %s does not describe the generation in force\n", RUN_DIR);
	}
	if (regions) {
		struct json_object *devs = json_object_object_get(regions, "devices");

		printf("\n%-13s %-7s %-7s %-8s %-13s %-24s %s\n", "DEVICE", "REGION", "ACCESS",
		       "MODE", "CACHE", "RULE", "VIOLATIONS");
		for (size_t i = 0; devs && i < json_object_array_length(devs); i++) {
			struct json_object *dv = json_object_array_get_idx(devs, i);
			struct json_object *rs = json_object_object_get(dv, "regions");

			for (size_t j = 0; rs && j < json_object_array_length(rs); j++) {
				struct json_object *r = json_object_array_get_idx(rs, j);
				const char *rule = json_object_get_string(
					json_object_object_get(r, "rule"));

				printf("%-13s %-7s %-7s %-8s %-13s %-24s %s\n",
				       json_object_get_string(json_object_object_get(dv, "device")),
				       json_object_get_string(json_object_object_get(r, "name")),
				       json_object_get_string(json_object_object_get(r, "access")),
				       json_object_get_string(json_object_object_get(r, "mode")),
				       json_object_get_string(json_object_object_get(r, "cache")) ?: "?",
				       rule ? rule : "(default)",
				       json_object_get_string(json_object_object_get(r, "violations")));
			}
		}
	}
	printf("\ncache modes seen after mmap, against the verdicts' assumptions:\n");
	enforce_observed_foreach(on_observed, &m);
	json_object_put(state);
	json_object_put(regions);
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

int do_advise(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "qemu", no_argument, NULL, 'q' },	{ "libvirt", no_argument, NULL, 'l' },
		COMMON_LONG_OPTIONS, { NULL, 0, NULL, 0 },
	};
	bool qemu = true, libvirt = true;
	struct json_object *regions, *devs, *out = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jpvh", opts, NULL)) != -1) {
		switch (c) {
		case 'q': libvirt = false; break;
		case 'l': qemu = false; break;
		default:
			if ((c = common_option(c, advise_usage)) >= 0)
				return c;
		}
	}
	if (optind < argc) {
		p_err("advise: unexpected argument '%s' (see vfioguard advise --help)", argv[optind]);
		return EXIT_ERROR;
	}
	if (!qemu && !libvirt) {
		p_err("advise: --qemu and --libvirt each show only one; give at most one");
		return EXIT_ERROR;
	}
	regions = json_object_from_file(RUN_REGIONS);
	if (!regions) {
		p_err("advise: no policy in force (%s is missing): vfioguard policy apply FILE first",
		      RUN_REGIONS);
		return EXIT_ERROR;
	}
	devs = json_object_object_get(regions, "devices");
	if (json_output)
		out = json_object_new_array();
	for (size_t i = 0; devs && i < json_object_array_length(devs); i++) {
		struct json_object *dv = json_object_array_get_idx(devs, i);
		struct json_object *rs = json_object_object_get(dv, "regions");
		const char *dev = json_object_get_string(json_object_object_get(dv, "device"));
		unsigned int dom = 0, bus = 0, slot = 0, fn = 0;
		bool trap = false;
		char qemu_arg[160], xml[1024], alias[32];

		for (size_t j = 0; rs && j < json_object_array_length(rs); j++) {
			struct json_object *r = json_object_array_get_idx(rs, j);
			const char *name = json_object_get_string(json_object_object_get(r, "name"));

			struct json_object *pr = json_object_object_get(r, "process_rules");

			if (!strcmp(name, "CONFIG"))
				continue; /* QEMU always reads config space through the fd */
			if (!strcmp(json_object_get_string(json_object_object_get(r, "access")),
				    "trap"))
				trap = true;
			/* Trapped for some processes only: a VMM that is one of them must know. */
			for (size_t k = 0; pr && k < json_object_array_length(pr); k++)
				if (!strcmp(json_object_get_string(json_object_object_get(
						    json_object_array_get_idx(pr, k), "access")),
					    "trap"))
					trap = true;
		}
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
			json_add(o, "regions", json_object_get(rs));
			json_object_array_add(out, o);
			continue;
		}
		printf("%s (%s)%s\n", dev,
		       json_object_get_string(json_object_object_get(dv, "driver")),
		       trap ? ": a region must not be mapped: the VMM must use the device fd" : "");
		for (size_t j = 0; rs && j < json_object_array_length(rs); j++) {
			struct json_object *r = json_object_array_get_idx(rs, j);

			printf("  %-7s %-7s %s\n",
			       json_object_get_string(json_object_object_get(r, "name")),
			       json_object_get_string(json_object_object_get(r, "access")),
			       json_object_get_string(json_object_object_get(r, "access"))[0] == 'f'
				       ? "single aligned 1/2/4/8-byte accesses only" : "");
		}
		if (qemu)
			printf("  qemu:    %s\n", qemu_arg);
		if (libvirt)
			printf("  libvirt:\n%s\n", xml);
	}
	if (json_output)
		json_emit(out);
	json_object_put(regions);
	return EXIT_CLEAN;
}
