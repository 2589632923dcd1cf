// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfioguard serve: the long-running form. Puts a policy in force and keeps it there (SIGHUP
 * applies the file again; a bad file leaves the policy in force as it was), watches mappings,
 * faults, fd accesses and the policy's decisions into the model, and exports them as Prometheus
 * metrics: on --listen (libmicrohttpd) and in a --textfile for node_exporter. SIGTERM stops the
 * watching; enforcement stays pinned in the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libudev.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"
#include "../loader/host/dynlib.h"
#include "../loader/probes/enforce.h"
#include "../loader/model/model.h"
#include "../loader/probes/monitor.h"
#include "../loader/model/session.h"
#include "../loader/probes/snapshot.h"
#include "../policy/hazards.h"
#include "../policy/policy.h"
#include "web_config.h"

#define DEFAULT_POLICY "/etc/vfioguard/policy.yaml"
#define DEFAULT_LISTEN "127.0.0.1:9747"

static const char serve_usage[] =
	"Usage: vfioguard serve [--policy FILE | --no-policy] [--listen ADDR:PORT | --no-listen]\n"
	"                       [--web-config FILE] [--textfile PATH] [--interval SECONDS]\n"
	"                       [--libc | --no-copies]\n"
	"Runs until SIGTERM: puts the policy in FILE (default " DEFAULT_POLICY ") in force,\n"
	"watches every VFIO mapping, fault, fd access and policy decision, and the copies into\n"
	"and out of device memory and DMA maps of the processes that map it (their VMM profile;\n"
	"--libc their libc copies too, --no-copies none), and serves Prometheus\n"
	"metrics at http://ADDR:PORT/metrics (default " DEFAULT_LISTEN ") and, with --textfile,\n"
	"in PATH for node_exporter's textfile collector (replaced atomically). The metrics are\n"
	"brought up to date every SECONDS (default 5). SIGHUP applies FILE again: a file with\n"
	"errors leaves the policy in force as it was and says why. SIGTERM or SIGINT stops the\n"
	"watching; the policy stays in force (policy clear lifts it). --no-policy watches and\n"
	"exports only (no BPF-LSM needed). --web-config FILE serves over TLS and/or asks for\n"
	"basic authentication, in the Prometheus exporters' web configuration format\n"
	"(tls_server_config: cert_file, key_file; basic_auth_users: bcrypt hashes).\n"
	"Logs go to stderr.\n"
	"Exit 0 after SIGTERM, 2 when the policy cannot be put in force or the address is taken.\n";

/* Faults of mappings already unmapped, per device, region and page size. */
struct fault_total {
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	uint64_t faults[4];
};

/* The policy's decisions on mmap by outcome and rule name, summed over generations. */
struct decision_total {
	bool denied;
	char rule[72];
	uint64_t n;
};

/*
 * A policy this process applied, for the names of its rules in the kernel's counts: kept while
 * the kernel counts decisions of its generation (or it is in force), forgotten after.
 */
#define APPLIED_KEPT 64
struct applied {
	uint64_t generation;
	struct policy policy;
	bool counted; /* the kernel had counts of its generation at the last render */
};

struct serve {
	const char *policy_file; /* NULL: --no-policy */
	const char *textfile;
	unsigned int interval;
	/* The monitor, the model, the verdicts of the policy in force (emptied by each apply),
	 * the copies. */
	struct session *s;
	struct fault_total *faults;
	size_t nfaults;
	struct decision_total *decisions;
	size_t ndecisions;
	/* Every policy this process put in force (the last one is in force). */
	struct applied *applied;
	size_t napplied;
	uint64_t generation;
	double applied_at, apply_seconds;
	uint64_t reloads_failed;
	/*
	 * The executables the policy in force names (exe matchers are compiled to an inode):
	 * their directories are watched, and a file renamed or created over one of them (a
	 * package upgrade) has the policy resolved again.
	 */
	int exe_watch; /* inotify, -1 without */
	struct exe_watched {
		int wd;
		char *path; /* the exe matcher's path */
	} *exes;
	size_t nexes;
	struct web_config web; /* --web-config: TLS, users (empty without) */
	/* The exposition text the listener serves: replaced whole, under the lock. */
	pthread_mutex_t lock;
	char *text;
	size_t len;
};

static volatile sig_atomic_t stop, reload;

/*
 * libmicrohttpd is loaded when serve listens, not linked: it brings GnuTLS and a dozen more
 * libraries, and every start of every vfioguard command paid for them (measured in the x86_64
 * 6.12 test guest: a policy apply 0.65 s -> 1.0 s).
 */
#define MHD_SONAME "libmicrohttpd.so.12"
/* Connections served at once, and from one client address (Prometheus needs one or two). */
#define HTTP_MAX_CONNECTIONS 256U
#define HTTP_MAX_PER_ADDRESS 32U
static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_is_feature_supported) *is_feature_supported;
	__typeof__(MHD_basic_auth_get_username_password) *basic_auth_get_username_password;
	__typeof__(MHD_queue_basic_auth_fail_response) *queue_basic_auth_fail_response;
	__typeof__(MHD_free) *free;
} mhd;

static char dl_why[256];

static const char *mhd_load(void)
{
	const struct dynlib_fn fns[] = {
		{ "MHD_start_daemon", (void **)&mhd.start_daemon },
		{ "MHD_stop_daemon", (void **)&mhd.stop_daemon },
		{ "MHD_create_response_from_buffer", (void **)&mhd.create_response_from_buffer },
		{ "MHD_add_response_header", (void **)&mhd.add_response_header },
		{ "MHD_queue_response", (void **)&mhd.queue_response },
		{ "MHD_destroy_response", (void **)&mhd.destroy_response },
		{ "MHD_is_feature_supported", (void **)&mhd.is_feature_supported },
		{ "MHD_basic_auth_get_username_password",
		  (void **)&mhd.basic_auth_get_username_password },
		{ "MHD_queue_basic_auth_fail_response",
		  (void **)&mhd.queue_basic_auth_fail_response },
		{ "MHD_free", (void **)&mhd.free },
	};

	return dynlib_load(MHD_SONAME, fns, sizeof(fns) / sizeof(fns[0]), dl_why, sizeof(dl_why))
		       ? dl_why
		       : NULL;
}

/*
 * libudev, for the kernel's uevents (devices appearing, drivers binding): loaded by serve only,
 * like libmicrohttpd (libudev1 is on every Debian system; the other commands never need it).
 */
#define UDEV_SONAME "libudev.so.1"
static struct {
	__typeof__(udev_new) *new_;
	__typeof__(udev_unref) *unref;
	__typeof__(udev_monitor_new_from_netlink) *monitor_new;
	__typeof__(udev_monitor_filter_add_match_subsystem_devtype) *match_subsystem;
	__typeof__(udev_monitor_enable_receiving) *enable_receiving;
	__typeof__(udev_monitor_receive_device) *receive_device;
	__typeof__(udev_monitor_unref) *monitor_unref;
	__typeof__(udev_device_get_action) *action;
	__typeof__(udev_device_get_sysname) *sysname;
	__typeof__(udev_device_get_driver) *driver;
	__typeof__(udev_device_unref) *device_unref;
} ud;

/* The PCI devices' kernel uevents (not udevd's: they come first and need no udevd). */
static struct udev_monitor *uevents_open(struct udev **u, const char **why)
{
	const struct dynlib_fn fns[] = {
		{ "udev_new", (void **)&ud.new_ },
		{ "udev_unref", (void **)&ud.unref },
		{ "udev_monitor_new_from_netlink", (void **)&ud.monitor_new },
		{ "udev_monitor_filter_add_match_subsystem_devtype", (void **)&ud.match_subsystem },
		{ "udev_monitor_enable_receiving", (void **)&ud.enable_receiving },
		{ "udev_monitor_receive_device", (void **)&ud.receive_device },
		{ "udev_monitor_unref", (void **)&ud.monitor_unref },
		{ "udev_device_get_action", (void **)&ud.action },
		{ "udev_device_get_sysname", (void **)&ud.sysname },
		{ "udev_device_get_driver", (void **)&ud.driver },
		{ "udev_device_unref", (void **)&ud.device_unref },
	};
	struct udev_monitor *mon;

	if (dynlib_load(UDEV_SONAME, fns, sizeof(fns) / sizeof(fns[0]), dl_why, sizeof(dl_why))) {
		*why = dl_why;
		return NULL;
	}
	*u = ud.new_();
	mon = *u ? ud.monitor_new(*u, "kernel") : NULL;
	if (!mon || ud.match_subsystem(mon, "pci", NULL) || ud.enable_receiving(mon)) {
		*why = "cannot listen to the kernel's uevents (NETLINK_KOBJECT_UEVENT)";
		if (mon)
			ud.monitor_unref(mon);
		if (*u)
			ud.unref(*u);
		*u = NULL;
		return NULL;
	}
	return mon;
}

/*
 * Reads the uevents queued (the socket does not block). Returns the number that call for the
 * device matchers to be resolved again: a PCI device added, or bound to a VFIO driver.
 */
static int uevents_read(struct udev_monitor *mon, char *what, size_t len)
{
	struct udev_device *d;
	int n = 0;

	while ((d = ud.receive_device(mon))) {
		const char *action = ud.action(d), *drv = ud.driver(d);

		if (action && (!strcmp(action, "add") ||
			       (!strcmp(action, "bind") && drv && strstr(drv, "vfio")))) {
			if (!strcmp(action, "add"))
				snprintf(what, len, "PCI device %s appeared", ud.sysname(d));
			else
				snprintf(what, len, "PCI device %s bound to %s", ud.sysname(d), drv);
			n++;
		}
		ud.device_unref(d);
	}
	return n;
}

static void on_stop(int sig)
{
	stop = 1;
}

static void on_hup(int sig)
{
	reload = 1;
}

static void log_line(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line per message on stderr, with the syslog priority journald reads ("<6>" info). */
static void log_line(const char *level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
#define LOG_ERR "<3>"
#define LOG_WARNING "<4>"
#define LOG_NOTICE "<5>"
#define LOG_INFO "<6>"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Applies the policy file (as `policy apply` does: atomically, nothing changed on an error).
 * The policy is kept for naming rules in the decisions: parsed from the copy apply published,
 * which is the text it put in force (the file may have changed since it was read).
 */
/* Watches the directories of the exe matchers of the policy just applied (p). */
static void watch_exes(struct serve *sv, const struct policy *p)
{
	for (size_t i = 0; i < sv->nexes; i++) {
		inotify_rm_watch(sv->exe_watch, sv->exes[i].wd);
		free(sv->exes[i].path);
	}
	sv->nexes = 0;
	if (sv->exe_watch < 0)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		const char *exe = p->rules[i].match.exe;
		char dir[PATH_MAX], *slash;
		struct exe_watched *grown;
		int wd;

		if (!exe || snprintf(dir, sizeof(dir), "%s", exe) >= (int)sizeof(dir) ||
		    !(slash = strrchr(dir, '/')))
			continue;
		*slash = 0;
		/* A directory watched twice gets the same wd: one entry per path is enough. */
		wd = inotify_add_watch(sv->exe_watch, dir[0] ? dir : "/",
				       IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
		grown = realloc(sv->exes, (sv->nexes + 1) * sizeof(*grown));
		if (wd < 0 || !grown) {
			log_line(LOG_ERR, "vfioguard: serve: cannot watch %s for a new %s: %s; the "
				 "rule '%s' matches its present file until the next apply", dir, exe,
				 wd < 0 ? strerror(errno) : "out of memory", p->rules[i].name);
			if (grown)
				sv->exes = grown;
			continue;
		}
		sv->exes = grown;
		sv->exes[sv->nexes].path = strdup(exe);
		if (sv->exes[sv->nexes].path)
			sv->exes[sv->nexes++].wd = wd;
	}
}

/*
 * Reads what the exe watch has seen; the path of an executable of the policy that was replaced,
 * or NULL.
 */
static const char *exe_replaced(struct serve *sv)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *found = NULL;
	ssize_t n;

	if (sv->exe_watch < 0)
		return NULL;
	while ((n = read(sv->exe_watch, buf, sizeof(buf))) > 0) {
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)q;

			/* Events were lost: any of the files may have been replaced. */
			if ((e->mask & IN_Q_OVERFLOW) && sv->nexes && !found)
				found = sv->exes[0].path;

			for (size_t i = 0; i < sv->nexes && !found && e->len; i++) {
				const char *base = strrchr(sv->exes[i].path, '/') + 1;

				if (sv->exes[i].wd == e->wd && !strcmp(base, e->name))
					found = sv->exes[i].path;
			}
			q += sizeof(*e) + e->len;
		}
	}
	return found;
}

/*
 * After an apply, under its lock: the generation and the policy it published are this apply's
 * (another apply or clear waits for the lock).
 */
static void applied(void *ctx)
{
	struct serve *sv = ctx;
	struct policy_diags d = {};
	struct enforce_status st;
	struct applied *grown;
	struct policy p;

	if (!enforce_status_read(&st))
		sv->generation = st.generation;
	if (policy_parse_file(RUN_POLICY, &p, &d)) {
		policy_diags_free(&d);
		return;
	}
	policy_diags_free(&d);
	watch_exes(sv, &p);
	/* At most APPLIED_KEPT: the oldest one's rules are named by index from then on. */
	if (sv->napplied == APPLIED_KEPT) {
		policy_free(&sv->applied[0].policy);
		memmove(sv->applied, sv->applied + 1, --sv->napplied * sizeof(*sv->applied));
	}
	grown = realloc(sv->applied, (sv->napplied + 1) * sizeof(*grown));
	if (!grown) {
		policy_free(&p);
		return;
	}
	sv->applied = grown;
	grown[sv->napplied++] = (struct applied){ .generation = sv->generation, .policy = p };
}

static int apply(struct serve *sv, const char *text_from)
{
	uint64_t t0 = monotonic_ns();
	int ret;

	ret = policy_apply_file(sv->policy_file, text_from ? text_from : sv->policy_file, applied,
				sv);
	if (ret != EXIT_CLEAN)
		return ret;
	if (sv->s)
		session_policy_changed(sv->s);
	sv->apply_seconds = (monotonic_ns() - t0) / 1e9;
	sv->applied_at = now_seconds();
	return EXIT_CLEAN;
}

/* The row of (outcome, rule name), made at 0 the first time; NULL out of memory. */
static struct decision_total *decision_row(struct serve *sv, bool denied, const char *rule)
{
	struct decision_total *grown;

	for (size_t i = 0; i < sv->ndecisions; i++)
		if (sv->decisions[i].denied == denied && !strcmp(sv->decisions[i].rule, rule))
			return &sv->decisions[i];
	grown = realloc(sv->decisions, (sv->ndecisions + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	sv->decisions = grown;
	grown[sv->ndecisions] = (struct decision_total){ .denied = denied };
	snprintf(grown[sv->ndecisions].rule, sizeof(grown->rule), "%s", rule);
	return &grown[sv->ndecisions++];
}

/* The kernel's count of one (generation, rule, outcome), under the rule's name. */
static void count_decision(const struct vfg_rule_count_key *k, uint64_t n, void *ctx)
{
	struct serve *sv = ctx;
	struct decision_total *row;
	char rule[72];

	snprintf(rule, sizeof(rule), k->rule == VFG_RULE_DEFAULT ? "(default)" : "#%u", k->rule);
	for (size_t i = 0; i < sv->napplied; i++) {
		if (sv->applied[i].generation != k->generation)
			continue;
		sv->applied[i].counted = true;
		if (k->rule != VFG_RULE_DEFAULT && k->rule < sv->applied[i].policy.nrules)
			snprintf(rule, sizeof(rule), "%s", sv->applied[i].policy.rules[k->rule].name);
	}
	row = decision_row(sv, k->denied, rule);
	if (row)
		row->n += n;
}

/*
 * Every rule of the policy in force, and its default, has its series from the start, at 0
 * until the kernel counts one: an alert on increase() then sees the first denial (a series
 * born at 1 shows no increase), and a series that appears with old counts (a generation this
 * process did not apply, "#N") does not look like a new denial.
 */
static void zero_decisions(struct serve *sv, uint64_t in_force)
{
	for (size_t i = 0; i < sv->napplied; i++) {
		const struct policy *p = &sv->applied[i].policy;

		if (sv->applied[i].generation != in_force)
			continue;
		for (int denied = 0; denied < 2; denied++) {
			decision_row(sv, denied, "(default)");
			for (size_t r = 0; r < p->nrules; r++)
				decision_row(sv, denied, p->rules[r].name);
		}
	}
}

/* What the session says (a process whose copies are not watched, ...), with its priority. */
static void on_note(enum session_level level, const char *text, void *ctx)
{
	log_line(level == SESSION_WARNING ? LOG_WARNING : LOG_NOTICE, "vfioguard: copies: %s", text);
}

/* A process that maps device memory: its copies are watched from now on. */
static void on_watched(uint32_t pid, const char *comm, int probes, void *ctx)
{
	if (verbose)
		log_line(LOG_INFO, "vfioguard: copies: pid %u: %d probes attached", pid, probes);
	log_line(LOG_INFO, "vfioguard: serve: pid %u: %d probes attached (%s)", pid, probes,
		 comm ? comm : "?");
}

static struct fault_total *fault_total_of(struct serve *sv, const char *device,
					  unsigned int region)
{
	struct fault_total *grown;

	for (size_t i = 0; i < sv->nfaults; i++)
		if (sv->faults[i].region == region && !strcmp(sv->faults[i].device, device))
			return &sv->faults[i];
	grown = realloc(sv->faults, (sv->nfaults + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	sv->faults = grown;
	memset(&grown[sv->nfaults], 0, sizeof(*grown));
	snprintf(grown[sv->nfaults].device, VFG_DEVICE_LEN, "%s", device);
	grown[sv->nfaults].region = region;
	return &grown[sv->nfaults++];
}

/* A mapping the session forgets: its faults stay in the totals. */
static void fold_unmapped(const struct model_mapping *t, void *ctx)
{
	struct fault_total *f = fault_total_of(ctx, t->device, t->region.index);

	for (int b = 0; f && b < 4; b++)
		f->faults[b] += t->faults[b];
}

/* A growing text buffer for the exposition. */
struct text {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if (t->s && t->len + n < t->cap) {
			t->len += n;
			return;
		}
		char *grown = realloc(t->s, t->cap * 2 + n + 4096);

		if (!grown) {
			t->oom = true;
			return;
		}
		t->s = grown;
		t->cap = t->cap * 2 + n + 4096;
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Label values here are device names, region names, cache modes, rule names and process names,
 * which a process sets to any bytes: valid UTF-8 and escaped.
 */
static const char *label(const char *s, char *buf, size_t len)
{
	return prom_label_value(s, buf, len);
}

/* Live mappings by device, region, cache mode and the verdict of the policy in force. */
struct mapping_row {
	char device[VFG_DEVICE_LEN];
	unsigned int region;
	char cache[40];
	const char *access;
	uint64_t n;
};

static void put_observed(const struct observed_mode *o, void *ctx)
{
	char assumed[40], mapped[40], region[24], device[160];

	cache_mode_format(o->assumed, 0, assumed, sizeof(assumed));
	cache_mode_format(o->mapped, o->pgprot, mapped, sizeof(mapped));
	put(ctx,
	    "vfioguard_region_cache_mode_mismatch{device=\"%s\",region=\"%s\",assumed=\"%s\","
	    "mapped=\"%s\"} %d\n",
	    label(o->key->device, device, sizeof(device)),
	    region_name(o->key->region, region, sizeof(region)), assumed, mapped,
	    o->mismatch);
}

/*
 * Copies and DMA maps by the labels they are exported under: the model keeps them per
 * process, the metrics per command name (a VMM's PID is not a label worth a series).
 */
static void put_copies(struct text *t, const struct model *byname)
{
	static const char *const dma_families[][3] = {
		{ "vfioguard_dma_maps_total", "counter",
		  "QEMU's DMA maps (address_space_map) of device memory: direct, or bounced through "
		  "its one bounce buffer (a RAM-device region)." },
		{ "vfioguard_dma_short_maps_total", "counter",
		  "Bounced DMA maps granted less than asked (the bounce buffer holds at most a "
		  "page)." },
		{ "vfioguard_dma_map_failures_total", "counter",
		  "QEMU's DMA maps that failed (virtio then stops the device), by the region whose "
		  "bounced map held the bounce buffer (device and region \"unknown\" when none was "
		  "seen)." },
		{ "vfioguard_dma_map_bytes_total", "counter",
		  "Bytes granted by those DMA maps." },
	};
	char a[160], b[64], region[24], hz[64];

	for (int f = 0; f < 2; f++) {
		family(t, f ? "vfioguard_copy_bytes_total" : "vfioguard_copies_total", "counter",
		       f ? "Bytes those copies moved, by the same labels."
			 : "Copies into (write) and out of (read) device memory by the watched "
			   "routines of processes that map it, by their hazards (as calibrated for "
			   "the case) and the verdict of the region's policy: violation (a hazard "
			   "the verdict forbids, or a trap region), ok, or unmeasured (hazards not "
			   "known).");
		for (size_t i = 0; i < byname->ncopies; i++) {
			const struct model_copy *c = &byname->copies[i];

			put(t, "%s{device=\"%s\",region=\"%s\",comm=\"%s\",direction=\"%s\","
			       "hazards=\"%s\",verdict=\"%s\"} %" PRIu64 "\n",
			    f ? "vfioguard_copy_bytes_total" : "vfioguard_copies_total",
			    label(c->device[0] ? c->device : "unknown", a, sizeof(a)),
			    region_name(c->region, region, sizeof(region)),
			    label(c->comm, b, sizeof(b)), c->write ? "write" : "read",
			    c->measured ? hazard_set_format(c->hazards, hz, sizeof(hz)) : "unmeasured",
			    !c->measured ? "unmeasured" : c->violation ? "violation" : "ok",
			    f ? c->bytes : c->count);
		}
	}

	for (int f = 0; f < 4; f++) {
		family(t, dma_families[f][0], dma_families[f][1], dma_families[f][2]);
		for (size_t i = 0; i < byname->ndma; i++) {
			const struct model_dma *d = &byname->dma[i];
			const char *device = d->device[0] ? label(d->device, a, sizeof(a)) : "unknown";
			const char *reg = d->device[0] ? region_name(d->region, region, sizeof(region))
						       : "unknown";

			label(d->comm, b, sizeof(b));
			if (f == 0 && d->device[0]) {
				put(t, "%s{device=\"%s\",region=\"%s\",comm=\"%s\",result=\"direct\"} "
				       "%" PRIu64 "\n", dma_families[f][0], device, reg, b, d->direct);
				put(t, "%s{device=\"%s\",region=\"%s\",comm=\"%s\",result=\"bounced\"} "
				       "%" PRIu64 "\n", dma_families[f][0], device, reg, b, d->bounced);
			} else if (f == 2 || d->device[0]) {
				put(t, "%s{device=\"%s\",region=\"%s\",comm=\"%s\"} %" PRIu64 "\n",
				    dma_families[f][0], device, reg, b,
				    f == 1 ? d->short_maps : f == 2 ? d->failed : d->bytes);
			}
		}
	}
}

/*
 * The applied policies whose generation the kernel counts no more (its counts are an LRU table)
 * and that are not in force: their rule names are never asked for again.
 */
static void forget_uncounted(struct serve *sv, uint64_t in_force)
{
	size_t k = 0;

	for (size_t i = 0; i < sv->napplied; i++) {
		struct applied *a = &sv->applied[i];

		if (a->counted || a->generation == in_force || a->generation == sv->generation)
			sv->applied[k++] = *a;
		else
			policy_free(&a->policy);
	}
	sv->napplied = k;
	for (size_t i = 0; i < k; i++)
		sv->applied[i].counted = false;
}

static void render(struct serve *sv);

/* The session's upkeep, then the metrics from what it left. */
static void tick(struct serve *sv)
{
	int err = session_tick(sv->s);

	if (err)
		log_line(LOG_ERR, "vfioguard: serve: reading the kernel's counts: %s", strerror(-err));
	render(sv);
}

static void render(struct serve *sv)
{
	struct verdicts *vs = &sv->s->verdicts;
	static const char *const pages[] = { "pte", "pmd", "pud", "other" };
	struct text t = {};
	struct mapping_row *rows = NULL;
	struct model byname;
	size_t nrows = 0;
	struct enforce_status st = {};
	bool enforcing;
	char a[160], b[160], region[24];

	enforce_decisions_reader_check();
	enforcing = !enforce_status_read(&st);

	if (model_by_name(&sv->s->model, &byname)) {
		log_line(LOG_ERR, "vfioguard: serve: out of memory rendering the metrics");
		return;
	}

	family(&t, "vfioguard_build_info", "gauge", "vfioguard's version and the kernel it runs on.");
	put(&t, "vfioguard_build_info{version=\"%s\",kernel=\"%s\"} 1\n", VFIOGUARD_VERSION,
	    label(sv->s->kernel.release, a, sizeof(a)));
	family(&t, "vfioguard_policy_enforced", "gauge",
	       "1 when a policy is in force (BPF-LSM program attached), else 0.");
	put(&t, "vfioguard_policy_enforced %d\n", enforcing && st.active);
	family(&t, "vfioguard_policy_generation", "gauge",
	       "Generation of the verdicts in force (0: none).");
	put(&t, "vfioguard_policy_generation %" PRIu64 "\n", enforcing ? st.generation : 0);
	family(&t, "vfioguard_policy_applied_timestamp_seconds", "gauge",
	       "When this process last put the policy in force (Unix time).");
	put(&t, "vfioguard_policy_applied_timestamp_seconds %.3f\n", sv->applied_at);
	family(&t, "vfioguard_policy_apply_duration_seconds", "gauge",
	       "How long the last apply took, from reading the file to the verdicts in force.");
	put(&t, "vfioguard_policy_apply_duration_seconds %.6f\n", sv->apply_seconds);
	family(&t, "vfioguard_policy_reload_failures_total", "counter",
	       "SIGHUP reloads refused (the file has errors or cannot be enforced).");
	put(&t, "vfioguard_policy_reload_failures_total %" PRIu64 "\n", sv->reloads_failed);

	family(&t, "vfioguard_mmaps_total", "counter",
	       "mmaps of VFIO device regions the policy decided on, as counted in the kernel.");
	put(&t, "vfioguard_mmaps_total{decision=\"allowed\"} %" PRIu64 "\n", st.allowed);
	put(&t, "vfioguard_mmaps_total{decision=\"denied\"} %" PRIu64 "\n", st.denied);
	sv->ndecisions = 0; /* the kernel's totals, summed again */
	if (enforcing && !enforce_rule_counts_foreach(count_decision, sv)) {
		forget_uncounted(sv, st.generation);
		zero_decisions(sv, st.generation);
	}
	family(&t, "vfioguard_mmap_decisions_total", "counter",
	       "The policy's decisions on mmap by rule (the kernel's count; a rule of a policy "
	       "this process did not apply is #index).");
	for (size_t i = 0; i < sv->ndecisions; i++)
		put(&t, "vfioguard_mmap_decisions_total{decision=\"%s\",rule=\"%s\"} %" PRIu64 "\n",
		    sv->decisions[i].denied ? "denied" : "allowed",
		    label(sv->decisions[i].rule, a, sizeof(a)), sv->decisions[i].n);

	for (size_t i = 0; i < sv->s->model.nall; i++) {
		const struct model_mapping *m = sv->s->model.all[i];
		const struct verdict *v = verdict_of(vs, m->pid, m->comm,
						     m->device, m->region.index, m->cache.mode);
		const char *access = v ? access_class_name(v->access) : "unknown";
		char cache[40];
		size_t k;

		cache_mode_format(m->cache.mode, 0, cache, sizeof(cache));
		for (k = 0; k < nrows; k++)
			if (rows[k].region == m->region.index && !strcmp(rows[k].device, m->device) &&
			    !strcmp(rows[k].cache, cache) && !strcmp(rows[k].access, access))
				break;
		if (k == nrows) {
			struct mapping_row *grown = realloc(rows, (nrows + 1) * sizeof(*rows));

			if (!grown)
				break;
			rows = grown;
			memset(&rows[k], 0, sizeof(rows[k]));
			snprintf(rows[k].device, sizeof(rows[k].device), "%s", m->device);
			rows[k].region = m->region.index;
			snprintf(rows[k].cache, sizeof(rows[k].cache), "%s", cache);
			rows[k].access = access;
			nrows++;
		}
		rows[k].n++;
	}
	family(&t, "vfioguard_mappings", "gauge",
	       "VFIO device regions mapped now, by the cache mode the kernel gave the mapping and "
	       "the access the policy in force allows.");
	for (size_t k = 0; k < nrows; k++)
		put(&t, "vfioguard_mappings{device=\"%s\",region=\"%s\",cache=\"%s\",access=\"%s\"} "
			"%" PRIu64 "\n", label(rows[k].device, a, sizeof(a)),
		    region_name(rows[k].region, region, sizeof(region)),
		    label(rows[k].cache, b, sizeof(b)), rows[k].access, rows[k].n);
	free(rows);

	family(&t, "vfioguard_region_cache_mode_mismatch", "gauge",
	       "1 when the cache mode a region was last mapped with is not the one its verdict "
	       "assumed (its hazards were judged for another mode), else 0; per region mapped "
	       "since the policy was first applied.");
	if (enforcing)
		enforce_observed_foreach(put_observed, &t);

	/* Faults: the unmapped mappings' totals, then the mapped ones' counts so far. */
	for (size_t i = 0; i < sv->s->model.nall; i++)
		fault_total_of(sv, sv->s->model.all[i]->device, sv->s->model.all[i]->region.index);
	family(&t, "vfioguard_faults_total", "counter",
	       "Page faults on VFIO device mappings, by the page size the kernel mapped.");
	for (size_t i = 0; i < sv->nfaults; i++) {
		uint64_t n[4];

		memcpy(n, sv->faults[i].faults, sizeof(n));
		for (size_t j = 0; j < sv->s->model.nall; j++) {
			const struct model_mapping *m = sv->s->model.all[j];

			if (m->region.index == sv->faults[i].region &&
			    !strcmp(m->device, sv->faults[i].device))
				for (int p = 0; p < 4; p++)
					n[p] += m->faults[p];
		}
		for (int p = 0; p < 4; p++)
			put(&t, "vfioguard_faults_total{device=\"%s\",region=\"%s\",page=\"%s\"} %" PRIu64
				"\n", label(sv->faults[i].device, a, sizeof(a)),
			    region_name(sv->faults[i].region, region, sizeof(region)), pages[p], n[p]);
	}

	family(&t, "vfioguard_fd_accesses_total", "counter",
	       "Reads and writes of VFIO device regions through the device fd.");
	for (size_t i = 0; i < byname.nacc; i++) {
		const struct model_access *x = &byname.acc[i];

		for (int w = 0; w < 2; w++) {
			uint64_t n = 0;

			for (int k = 0; k < 5; k++)
				n += x->by_size[w][k];
			put(&t, "vfioguard_fd_accesses_total{device=\"%s\",region=\"%s\",comm=\"%s\","
				"direction=\"%s\"} %" PRIu64 "\n", label(x->device, a, sizeof(a)),
			    region_name(x->region, region, sizeof(region)),
			    label(x->comm, b, sizeof(b)), w ? "write" : "read", n);
		}
	}
	family(&t, "vfioguard_fd_access_bytes_total", "counter",
	       "Bytes moved through the device fd by those reads and writes.");
	for (size_t i = 0; i < byname.nacc; i++) {
		const struct model_access *x = &byname.acc[i];

		for (int w = 0; w < 2; w++)
			put(&t, "vfioguard_fd_access_bytes_total{device=\"%s\",region=\"%s\",comm=\"%s\","
				"direction=\"%s\"} %" PRIu64 "\n", label(x->device, a, sizeof(a)),
			    region_name(x->region, region, sizeof(region)),
			    label(x->comm, b, sizeof(b)), w ? "write" : "read", x->bytes[w]);
	}
	if (sv->s->copies_open)
		put_copies(&t, &byname);
	family(&t, "vfioguard_events_dropped_total", "counter",
	       "Events the kernel could not hand to vfioguard (ring buffer full): counts above "
	       "stay exact, per-event detail is lost.");
	put(&t, "vfioguard_events_dropped_total{source=\"monitor\"} %" PRIu64 "\n",
	    monitor_dropped(&sv->s->m));
	put(&t, "vfioguard_events_dropped_total{source=\"policy\"} %" PRIu64 "\n", st.dropped);
	if (sv->s->copies_open)
		put(&t, "vfioguard_events_dropped_total{source=\"copies\"} %" PRIu64 "\n",
		    session_copies_dropped(sv->s));
	family(&t, "vfioguard_last_update_timestamp_seconds", "gauge",
	       "When these metrics were brought up to date (Unix time).");
	put(&t, "vfioguard_last_update_timestamp_seconds %.3f\n", now_seconds());
	model_free(&byname);
	if (t.oom) {
		log_line(LOG_ERR, "vfioguard: serve: out of memory rendering the metrics");
		free(t.s);
		return;
	}
	/* One swap: a scrape sees the whole of one rendering, never a mix. */
	pthread_mutex_lock(&sv->lock);
	free(sv->text);
	sv->text = t.s;
	sv->len = t.len;
	pthread_mutex_unlock(&sv->lock);
	if (sv->textfile) {
		char tmp[4096];
		FILE *f;

		int fd;

		/*
		 * Created anew, never through a link left at its name, and readable by the
		 * collector (node_exporter runs as its own user) whatever serve's umask.
		 */
		snprintf(tmp, sizeof(tmp), "%s.tmp", sv->textfile);
		unlink(tmp);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		f = fd >= 0 && !fchmod(fd, 0644) ? fdopen(fd, "w") : NULL;
		if (!f && fd >= 0)
			close(fd);
		if (!f || fwrite(t.s, 1, t.len, f) != t.len || fflush(f) || fsync(fileno(f))) {
			log_line(LOG_ERR, "vfioguard: serve: cannot write %s: %s", tmp,
				 strerror(errno));
			if (f)
				fclose(f);
			unlink(tmp);
			return;
		}
		fclose(f);
		if (rename(tmp, sv->textfile))
			log_line(LOG_ERR, "vfioguard: serve: cannot replace %s: %s", sv->textfile,
				 strerror(errno));
	}
}

/*
 * libmicrohttpd's messages (a connection refused over the limits, a client gone) in the journal,
 * at most one each 10 s, saying when others were left out: a flood of connections must not
 * become a flood of log lines.
 */
static void on_http_log(void *cls, const char *fmt, va_list ap)
{
	static uint64_t next_ns;
	static unsigned long quiet;
	char msg[256];
	size_t n;

	if (monotonic_ns() < next_ns) {
		quiet++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	log_line(LOG_WARNING, "vfioguard: serve: http: %s%s", msg,
		 quiet ? " (and more messages in the last 10 s, left out)" : "");
	quiet = 0;
	next_ns = monotonic_ns() + 10000000000ULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	static const char not_found[] = "not found: vfioguard serves /metrics\n";
	static const char not_allowed[] = "method not allowed: vfioguard serves GET /metrics\n";
	static const char unauthorized[] = "unauthorized: vfioguard serve asks for a user\n";
	struct serve *sv = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;

	if (sv->web.nusers) {
		char *password = NULL, *user = mhd.basic_auth_get_username_password(c, &password);
		bool ok = web_config_allows(&sv->web, user, password);

		if (password) {
			explicit_bzero(password, strlen(password));
			mhd.free(password);
		}
		if (user)
			mhd.free(user);
		if (!ok) {
			r = mhd.create_response_from_buffer(strlen(unauthorized), (void *)unauthorized,
							    MHD_RESPMEM_PERSISTENT);
			if (!r)
				return MHD_NO;
			ret = mhd.queue_basic_auth_fail_response(c, "vfioguard", r);
			mhd.destroy_response(r);
			return ret;
		}
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		r = mhd.create_response_from_buffer(strlen(not_allowed), (void *)not_allowed,
						    MHD_RESPMEM_PERSISTENT);
		if (r)
			mhd.add_response_header(r, "Allow", "GET, HEAD");
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics")) {
		r = mhd.create_response_from_buffer(strlen(not_found), (void *)not_found,
						    MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	} else {
		pthread_mutex_lock(&sv->lock);
		r = mhd.create_response_from_buffer(sv->len, sv->text, MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&sv->lock);
		if (r)
			mhd.add_response_header(r, "Content-Type",
						"text/plain; version=0.0.4; charset=utf-8");
	}
	if (!r)
		return MHD_NO;
	ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ret;
}

/* The listening socket, bound here so that a taken address is reported as the kernel says. */
static int listen_on(const char *spec, const char **why)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *ai;
	int fd, one = 1, err;

	*why = NULL;
	if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof(host)) {
		*why = "expected ADDR:PORT (127.0.0.1:9747, [::1]:9747)";
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		*why = gai_strerror(err);
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return err;
	}
	freeaddrinfo(ai);
	return fd;
}

/*
 * systemd's readiness protocol (Type=notify): sd_notify() from libsystemd, loaded only when
 * systemd asked for it (NOTIFY_SOCKET), so that units ordered after vfioguard start only once
 * the policy is in force. A failure to tell is logged, never fatal: serve still enforces.
 */
#define SYSTEMD_SONAME "libsystemd.so.0"
static int (*sd_notify_fn)(int unset_environment, const char *state);

static void notify_systemd(const char *fmt, ...)
{
	static bool tried;
	char state[256];
	va_list ap;

	if (!getenv("NOTIFY_SOCKET"))
		return;
	if (!tried) {
		const struct dynlib_fn fns[] = { { "sd_notify", (void **)&sd_notify_fn } };

		tried = true;
		if (dynlib_load(SYSTEMD_SONAME, fns, 1, dl_why, sizeof(dl_why)))
			log_line(LOG_ERR, "vfioguard: serve: cannot tell systemd it is ready: %s",
				 dl_why);
	}
	if (!sd_notify_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(state, sizeof(state), fmt, ap);
	va_end(ap);
	if (sd_notify_fn(0, state) < 0)
		log_line(LOG_ERR, "vfioguard: serve: cannot tell systemd '%s'", state);
}

/* What systemctl status shows: the policy and its generation in force. */
static const char *status_line(const struct serve *sv, char *buf, size_t len)
{
	if (!sv->policy_file)
		snprintf(buf, len, "watching; no policy (--no-policy)");
	else
		snprintf(buf, len, "%s in force, generation %" PRIu64, sv->policy_file,
			 sv->generation);
	return buf;
}

int do_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'f' }, { "no-policy", no_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, 'l' }, { "no-listen", no_argument, NULL, 'L' },
		{ "textfile", required_argument, NULL, 't' },
		{ "web-config", required_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "libc", no_argument, NULL, 'c' },	    { "no-copies", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },	    { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve sv = { .policy_file = DEFAULT_POLICY, .interval = 5, .exe_watch = -1 };
	struct monitor_opts mo = { .no_decisions = true };
	struct session_opts so = { .monitor = &mo, .policy_path = RUN_POLICY };
	struct session_view cb = { .note = on_note, .watched = on_watched,
				   .forgotten = fold_unmapped, .ctx = &sv };
	char failed[640];
	bool no_copies = false;
	struct sigaction sa = { .sa_handler = on_stop }, hup = { .sa_handler = on_hup };
	struct MHD_Daemon *httpd = NULL;
	const char *listen_spec = DEFAULT_LISTEN, *why, *exe, *web_file = NULL;
	char web_why[PATH_MAX + 256];
	struct udev_monitor *uev = NULL;
	struct udev *udev = NULL;
	char what[128];
	unsigned long long v;
	uint64_t next = 0;
	int c, err, fd = -1, ret = EXIT_ERROR;

	/*
	 * From the first instruction: a SIGHUP or SIGTERM during start-up (systemd's reload or
	 * stop of a unit still starting) is acted on once watching, never the default's death.
	 */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &hup, NULL);
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': sv.policy_file = optarg; break;
		case 'n': sv.policy_file = NULL; break;
		case 'l': listen_spec = optarg; break;
		case 'L': listen_spec = NULL; break;
		case 't': sv.textfile = optarg; break;
		case 'w': web_file = optarg; break;
		case 'c': so.libc = true; break;
		case 'C': no_copies = true; break;
		case 'i':
			if (!parse_u64(optarg, &v) || v < 1 || v > 3600) {
				p_err("serve: --interval: expected 1..3600 seconds, got '%s'", optarg);
				return EXIT_ERROR;
			}
			sv.interval = v;
			break;
		default:
			if ((c = common_option(c, serve_usage)) >= 0)
				return c;
		}
	}
	if (so.libc && no_copies) {
		p_err("serve: --libc and --no-copies contradict each other");
		return EXIT_ERROR;
	}
	if (optind < argc) {
		p_err("serve: unexpected argument '%s' (see vfioguard serve --help)", argv[optind]);
		return EXIT_ERROR;
	}
	if (geteuid() != 0) {
		p_err("serve: needs root: it loads BPF programs and pins the policy's under %s",
		      VFG_PIN_DIR);
		return EXIT_ERROR;
	}
	if (sv.policy_file && access(sv.policy_file, R_OK)) {
		p_err("serve: cannot read the policy %s: %s (--policy FILE for another, --no-policy "
		      "to watch only)", sv.policy_file, strerror(errno));
		return EXIT_ERROR;
	}
	if (web_file && !listen_spec) {
		p_err("serve: --web-config and --no-listen contradict each other");
		return EXIT_ERROR;
	}
	if (listen_spec) {
		why = mhd_load();
		if (why) {
			p_err("serve: --listen needs libmicrohttpd (%s); --no-listen --textfile PATH "
			      "exports without it", why);
			return EXIT_ERROR;
		}
		if (web_file && web_config_load(&sv.web, web_file, web_why, sizeof(web_why))) {
			p_err("serve: --web-config %s", web_why);
			return EXIT_ERROR;
		}
		if (sv.web.cert_pem && mhd.is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			p_err("serve: --web-config %s: this libmicrohttpd has no TLS", web_file);
			web_config_free(&sv.web);
			return EXIT_ERROR;
		}
		fd = listen_on(listen_spec, &why);
		if (fd < 0) {
			p_err("serve: --listen %s: %s", listen_spec, why ? why : strerror(-fd));
			web_config_free(&sv.web);
			return EXIT_ERROR;
		}
	}
	/* Listening before the first apply: a device that appears after it is not missed. */
	if (sv.policy_file) {
		uev = uevents_open(&udev, &why);
		if (!uev) {
			p_err("serve: %s: devices that appear or are bound to vfio later could not be "
			      "resolved for the policy's device matchers", why);
			goto out_early;
		}
	}
	pthread_mutex_init(&sv.lock, NULL);
	if (sv.policy_file) {
		sv.exe_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (sv.exe_watch < 0)
			log_line(LOG_ERR, "vfioguard: serve: inotify: %s; exe rules match the files "
				 "present at each apply only", strerror(errno));
	}
	if (sv.policy_file && apply(&sv, NULL) != EXIT_CLEAN) {
		p_err("serve: the policy %s was not put in force", sv.policy_file);
		goto out;
	}
	if (session_open(&sv.s, &so, &cb, 1, failed, sizeof(failed))) {
		p_err("serve: %s", failed);
		goto out;
	}
	if (!no_copies && session_open_copies(sv.s, failed, sizeof(failed))) {
		p_err("%s", failed);
		p_err("serve: the copies cannot be watched (--no-copies watches without them)");
		goto out;
	}
	if (session_bootstrap(sv.s, failed, sizeof(failed))) {
		p_err("serve: %s", failed);
		goto out;
	}
	tick(&sv);
	if (fd >= 0) {
		/* GnuTLS's defaults from TLS 1.2 up, as the Prometheus exporters serve. */
		static char priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
		struct MHD_OptionItem tls[] = {
			{ MHD_OPTION_HTTPS_MEM_KEY, 0, sv.web.key_pem },
			{ MHD_OPTION_HTTPS_MEM_CERT, 0, sv.web.cert_pem },
			{ MHD_OPTION_HTTPS_PRIORITIES, 0, priorities },
			{ MHD_OPTION_END, 0, NULL },
		};

		/*
		 * epoll (select stops at 1024 descriptors), bounded connections in all and per
		 * client address (slow clients from one address cannot take every slot), and
		 * idle connections closed after 10 s.
		 */
		httpd = mhd.start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
						 (sv.web.cert_pem ? MHD_USE_TLS : 0),
					 0, NULL, NULL, on_request, &sv, MHD_OPTION_LISTEN_SOCKET, fd,
					 MHD_OPTION_CONNECTION_TIMEOUT, 10U,
					 MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS,
					 MHD_OPTION_PER_IP_CONNECTION_LIMIT, HTTP_MAX_PER_ADDRESS,
					 MHD_OPTION_EXTERNAL_LOGGER, on_http_log, NULL,
					 MHD_OPTION_ARRAY, sv.web.cert_pem ? tls : tls + 3,
					 MHD_OPTION_END);
		if (!httpd) {
			if (sv.web.cert_pem)
				p_err("serve: cannot start serving on %s: libmicrohttpd refused the TLS "
				      "key or certificate of --web-config %s (a key that is not the "
				      "certificate's, or not PEM)", listen_spec, web_file);
			else
				p_err("serve: cannot start serving on %s", listen_spec);
			goto out;
		}
		fd = -1; /* the daemon's now */
	}
	notify_systemd("READY=1\nSTATUS=%s", status_line(&sv, what, sizeof(what)));
	log_line(LOG_INFO, "vfioguard: serve: watching%s%s%s%s%s; policy %s (generation %" PRIu64
		 ")", !listen_spec	? ""
		      : sv.web.cert_pem ? ", metrics on https://"
					: ", metrics on http://",
		 listen_spec ? listen_spec : "",
		 listen_spec ? "/metrics" : "", sv.textfile ? ", textfile " : "",
		 sv.textfile ? sv.textfile : "", sv.policy_file ? sv.policy_file : "none",
		 sv.generation);
	next = monotonic_ns() + sv.interval * 1000000000ULL;
	while (!stop) {
		err = session_poll(sv.s, 200);
		if (err < 0 && err != -EINTR) {
			p_err("serve: reading events: %s", strerror(-err));
			goto out;
		}
		if (reload) {
			reload = 0;
			if (!sv.policy_file) {
				log_line(LOG_INFO, "vfioguard: serve: SIGHUP: no policy to apply "
						   "(--no-policy)");
			} else if (apply(&sv, NULL) == EXIT_CLEAN) {
				log_line(LOG_INFO, "vfioguard: serve: SIGHUP: %s in force (generation "
						   "%" PRIu64 ")", sv.policy_file, sv.generation);
				notify_systemd("STATUS=%s", status_line(&sv, what, sizeof(what)));
			} else {
				sv.reloads_failed++;
				log_line(LOG_ERR, "vfioguard: serve: SIGHUP: %s not applied; generation "
						  "%" PRIu64 " stays in force", sv.policy_file,
					 sv.generation);
			}
			next = 0;
		}
		if (sv.nexes && (exe = exe_replaced(&sv))) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s", exe); /* apply() renews the watches */
			if (apply(&sv, RUN_POLICY) == EXIT_CLEAN) {
				log_line(LOG_INFO, "vfioguard: serve: %s was replaced: the policy in "
						   "force resolved for its new file (generation %" PRIu64
						   ")", path, sv.generation);
				notify_systemd("STATUS=%s", status_line(&sv, what, sizeof(what)));
			} else {
				log_line(LOG_ERR, "vfioguard: serve: %s was replaced, and the policy "
						  "could not be resolved again: its exe rules match no "
						  "new process; generation %" PRIu64 " stays in force",
					 path, sv.generation);
			}
			next = 0;
		}
		if (uev && uevents_read(uev, what, sizeof(what))) {
			/* The text in force, not the file: it may hold edits not yet reloaded. */
			if (apply(&sv, RUN_POLICY) == EXIT_CLEAN) {
				log_line(LOG_INFO, "vfioguard: serve: %s: the policy in force resolved "
						   "for it (generation %" PRIu64 ")", what, sv.generation);
				notify_systemd("STATUS=%s", status_line(&sv, what, sizeof(what)));
			} else {
				log_line(LOG_ERR, "vfioguard: serve: %s: the policy could not be resolved "
						  "again; generation %" PRIu64 " stays in force", what,
					 sv.generation);
			}
			next = 0;
		}
		if (monotonic_ns() >= next) {
			tick(&sv);
			next = monotonic_ns() + sv.interval * 1000000000ULL;
		}
	}
	log_line(LOG_INFO, "vfioguard: serve: stopping; %s", sv.generation ?
		 "the policy stays in force (vfioguard policy clear lifts it)" : "no policy in force");
	ret = EXIT_CLEAN;
out:
	if (httpd)
		mhd.stop_daemon(httpd);
	session_close(sv.s);
	for (size_t i = 0; i < sv.nexes; i++)
		free(sv.exes[i].path);
	free(sv.exes);
	if (sv.exe_watch >= 0)
		close(sv.exe_watch);
	for (size_t i = 0; i < sv.napplied; i++)
		policy_free(&sv.applied[i].policy);
	free(sv.applied);
	free(sv.faults);
	free(sv.decisions);
	free(sv.text);
	pthread_mutex_destroy(&sv.lock);
out_early:
	web_config_free(&sv.web);
	if (uev)
		ud.monitor_unref(uev);
	if (udev)
		ud.unref(udev);
	if (fd >= 0)
		close(fd);
	return ret;
}
