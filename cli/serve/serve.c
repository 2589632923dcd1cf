// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfioguard serve: the long-running form. Puts a policy in force and keeps it there (SIGHUP
 * applies the file again; a bad file leaves the policy in force as it was), watches mappings,
 * faults, fd accesses and the policy's decisions into the model, and exports them as Prometheus
 * metrics: on --listen (libmicrohttpd) and in a --textfile for node_exporter. SIGTERM stops the
 * watching; enforcement stays pinned in the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../commands.h"
#include "../../loader/host/dynlib.h"
#include "../../loader/host/exe_watch.h"
#include "../../loader/model/decisions.h"
#include "../../loader/model/model.h"
#include "../../loader/model/run_state.h"
#include "../../loader/model/session.h"
#include "../../loader/probes/enforce.h"
#include "../../loader/probes/monitor.h"
#include "../../policy/policy.h"
#include "metrics.h"
#include "serve.h"

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

struct serve {
	const char *policy_file; /* NULL: --no-policy */
	const char *textfile;
	unsigned int interval;
	/* The monitor, the model, the verdicts of the policy in force (emptied by each apply),
	 * the copies. */
	struct session *s;
	/* The policies this process put in force, naming the rules of the kernel's counts. */
	struct decisions decisions;
	uint64_t generation;
	double applied_at, apply_seconds;
	uint64_t reloads_failed;
	/*
	 * The executables the policy in force names (exe matchers are compiled to an inode):
	 * their directories are watched, and a file renamed or created over one of them (a
	 * package upgrade) has the policy resolved again.
	 */
	struct exe_watch exes;
	struct web_config web; /* --web-config: TLS, users (empty without) */
	struct exposition x;   /* what the listener serves */
};

static volatile sig_atomic_t stop, reload;

static void on_stop(int sig)
{
	stop = 1;
}

static void on_hup(int sig)
{
	reload = 1;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Watches the directories of the exe matchers of the policy just applied (p). */
static void watch_exes(struct serve *sv, const struct policy *p)
{
	exe_watch_clear(&sv->exes);
	if (sv->exes.fd < 0)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		const char *exe = p->rules[i].match.exe;
		int err = exe ? exe_watch_add(&sv->exes, exe) : 0;

		if (err && err != -EINVAL)
			log_line(JOURNAL_ERR, "vfioguard: serve: cannot watch the directory of %s: %s; "
				 "the rule '%s' matches its present file until the next apply", exe,
				 strerror(-err), p->rules[i].name);
	}
}

/*
 * After an apply, under its lock (another apply or clear waits for it): the generation and the
 * policy are what it put in force, the text it read (the file may have changed since).
 */
static void applied(struct policy *p, const struct run_state *st, void *ctx)
{
	struct serve *sv = ctx;

	sv->generation = st->generation;
	watch_exes(sv, p);
	/* The decisions keep the policy, to name its rules while the kernel counts them. */
	decisions_applied(&sv->decisions, sv->generation, p);
	memset(p, 0, sizeof(*p));
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

/* What the session says (a process whose copies are not watched, ...), with its priority. */
static void on_note(enum session_level level, const char *text, void *ctx)
{
	log_line(level == SESSION_WARNING ? JOURNAL_WARNING : JOURNAL_NOTICE, "vfioguard: copies: %s", text);
}

/* A process that maps device memory: its copies are watched from now on. */
static void on_watched(uint32_t pid, const char *comm, int probes, void *ctx)
{
	if (verbose)
		log_line(JOURNAL_INFO, "vfioguard: copies: pid %u: %d probes attached", pid, probes);
	log_line(JOURNAL_INFO, "vfioguard: serve: pid %u: %d probes attached (%s)", pid, probes,
		 comm ? comm : "?");
}

static void render(struct serve *sv);

/* The session's upkeep, then the metrics from what it left. */
static void tick(struct serve *sv)
{
	int err = session_tick(sv->s);

	if (err)
		log_line(JOURNAL_ERR, "vfioguard: serve: reading the kernel's counts: %s", strerror(-err));
	render(sv);
}

/* What render gathers for the metrics. */
struct gather {
	struct metrics m;
	struct metrics_decision *decisions;
	struct metrics_mapping *mappings;
	struct metrics_observed *observed;
	struct metrics_fault *faults;
	size_t cap[4];
	bool oom;
};

/* The next element of an array of gather's (which: its index in cap), or NULL out of memory. */
static void *gather_next(struct gather *g, void **v, size_t *n, size_t size, int which)
{
	void *grown;

	if (*n == g->cap[which]) {
		grown = realloc(*v, (g->cap[which] * 2 + 16) * size);
		if (!grown) {
			g->oom = true;
			return NULL;
		}
		*v = grown;
		g->cap[which] = g->cap[which] * 2 + 16;
	}
	return (char *)*v + (*n)++ * size;
}

static void gather_decision(const struct decision_row *r, void *ctx)
{
	struct gather *g = ctx;
	struct metrics_decision *d =
		gather_next(g, (void **)&g->decisions, &g->m.ndecisions, sizeof(*d), 0);

	if (d)
		*d = (struct metrics_decision){ .denied = r->key.denied, .rule = r->key.rule,
						.n = r->n };
}

static void gather_mapping(const struct session_mapping_class *c, void *ctx)
{
	struct gather *g = ctx;
	struct metrics_mapping *m =
		gather_next(g, (void **)&g->mappings, &g->m.nmappings, sizeof(*m), 1);

	if (!m)
		return;
	*m = (struct metrics_mapping){ .region = c->region, .n = c->n };
	snprintf(m->device, sizeof(m->device), "%s", c->device);
	snprintf(m->cache, sizeof(m->cache), "%s", c->cache);
	snprintf(m->access, sizeof(m->access), "%s", c->access);
}

static void gather_observed(const struct observed_mode *o, void *ctx)
{
	struct gather *g = ctx;
	struct metrics_observed *m =
		gather_next(g, (void **)&g->observed, &g->m.nobserved, sizeof(*m), 2);

	if (!m)
		return;
	*m = (struct metrics_observed){ .region = o->key->region, .assumed = o->assumed,
					.mapped = o->mapped, .pgprot = o->pgprot,
					.mismatch = o->mismatch };
	snprintf(m->device, sizeof(m->device), "%.*s", (int)sizeof(o->key->device) - 1,
		 o->key->device);
}

static void gather_faults(const char *device, unsigned int region, const uint64_t faults[4],
			  void *ctx)
{
	struct gather *g = ctx;
	struct metrics_fault *f = gather_next(g, (void **)&g->faults, &g->m.nfaults, sizeof(*f), 3);

	if (!f)
		return;
	*f = (struct metrics_fault){ .device = device, .region = region };
	memcpy(f->faults, faults, sizeof(f->faults));
}

static void gather_free(struct gather *g)
{
	free(g->decisions);
	free(g->mappings);
	free(g->observed);
	free(g->faults);
}

/* Writes the textfile: replaced whole, never through a link left at its name. */
static void write_textfile(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	FILE *f;
	int fd;

	/* Readable by the collector (node_exporter runs as its own user) whatever serve's umask. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	f = fd >= 0 && !fchmod(fd, 0644) ? fdopen(fd, "w") : NULL;
	if (!f && fd >= 0)
		close(fd);
	if (!f || fwrite(text, 1, len, f) != len || fflush(f) || fsync(fileno(f))) {
		log_line(JOURNAL_ERR, "vfioguard: serve: cannot write %s: %s", tmp, strerror(errno));
		if (f)
			fclose(f);
		unlink(tmp);
		return;
	}
	fclose(f);
	if (rename(tmp, path))
		log_line(JOURNAL_ERR, "vfioguard: serve: cannot replace %s: %s", path, strerror(errno));
}

/* Gathers what the metrics show, renders them and swaps them in. */
static void render(struct serve *sv)
{
	struct gather g = {};
	struct enforce_status st = {};
	struct model byname;
	char *text = NULL;
	size_t len = 0;
	bool enforcing;
	int err;
	/* Before this rendering allocates: the heap as the last one left it. */
	struct mallinfo2 heap = mallinfo2();

	enforce_decisions_reader_check();
	enforcing = !enforce_status_read(&st);
	if (model_by_name(&sv->s->model, &byname)) {
		log_line(JOURNAL_ERR, "vfioguard: serve: out of memory rendering the metrics");
		return;
	}
	g.m = (struct metrics){
		.version = VFIOGUARD_VERSION, .kernel = sv->s->kernel.release,
		.enforcing = enforcing, .active = st.active, .generation = st.generation,
		.allowed = st.allowed, .denied = st.denied, .policy_dropped = st.dropped,
		.applied_at = sv->applied_at, .apply_seconds = sv->apply_seconds,
		.reloads_failed = sv->reloads_failed, .byname = &byname,
		.copies = sv->s->copies_open, .monitor_dropped = monitor_dropped(&sv->s->m),
		.copies_dropped = sv->s->copies_open ? session_copies_dropped(sv->s) : 0,
		.heap_inuse = heap.uordblks + heap.hblkhd,
	};
	decisions_read(&sv->decisions, enforcing, st.generation);
	decisions_foreach(&sv->decisions, gather_decision, &g);
	if (session_mapping_classes(sv->s, gather_mapping, &g))
		g.oom = true;
	if (enforcing)
		enforce_observed_foreach(gather_observed, &g);
	if (model_faults_by_region(&sv->s->model, gather_faults, &g))
		g.oom = true;
	g.m.decisions = g.decisions;
	g.m.mappings = g.mappings;
	g.m.observed = g.observed;
	g.m.faults = g.faults;
	g.m.now = now_seconds();
	err = g.oom ? -ENOMEM : metrics_render(&g.m, &text, &len);
	gather_free(&g);
	model_free(&byname);
	if (err) {
		log_line(JOURNAL_ERR, "vfioguard: serve: out of memory rendering the metrics");
		return;
	}
	/* One swap: a scrape sees the whole of one rendering, never a mix. */
	pthread_mutex_lock(&sv->x.lock);
	free(sv->x.text);
	sv->x.text = text;
	sv->x.len = len;
	pthread_mutex_unlock(&sv->x.lock);
	if (sv->textfile)
		write_textfile(sv->textfile, text, len);
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
	static char dl_why[256];
	static bool tried;
	char state[256];
	va_list ap;

	if (!getenv("NOTIFY_SOCKET"))
		return;
	if (!tried) {
		const struct dynlib_fn fns[] = { { "sd_notify", (void **)&sd_notify_fn } };

		tried = true;
		if (dynlib_load(SYSTEMD_SONAME, fns, 1, dl_why, sizeof(dl_why)))
			log_line(JOURNAL_ERR, "vfioguard: serve: cannot tell systemd it is ready: %s",
				 dl_why);
	}
	if (!sd_notify_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(state, sizeof(state), fmt, ap);
	va_end(ap);
	if (sd_notify_fn(0, state) < 0)
		log_line(JOURNAL_ERR, "vfioguard: serve: cannot tell systemd '%s'", state);
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
	struct serve sv = { .policy_file = DEFAULT_POLICY, .interval = 5, .exes = { .fd = -1 } };
	struct monitor_opts mo = { .no_decisions = true };
	struct session_opts so = { .monitor = &mo, .policy_path = RUN_POLICY, .ticks = true };
	struct session_view cb = { .note = on_note, .watched = on_watched, .ctx = &sv };
	char failed[640];
	bool no_copies = false;
	struct sigaction sa = { .sa_handler = on_stop }, hup = { .sa_handler = on_hup };
	struct http *httpd = NULL;
	const char *listen_spec = DEFAULT_LISTEN, *why, *exe, *web_file = NULL;
	char web_why[PATH_MAX + 256];
	struct uevents *uev = NULL;
	char what[128];
	unsigned long long v;
	uint64_t next = 0;
	struct cmd_options o = { .cmd = "serve", .usage = serve_usage, .shortopts = "vh",
				 .longopts = opts };
	int c, err, fd = -1, ret = EXIT_ERROR;

	/*
	 * From the first instruction: a SIGHUP or SIGTERM during start-up (systemd's reload or
	 * stop of a unit still starting) is acted on once watching, never the default's death.
	 */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &hup, NULL);
	while ((c = next_option(&o, argc, argv)) > 0) {
		switch (c) {
		case 'f': sv.policy_file = optarg; break;
		case 'n': sv.policy_file = NULL; break;
		case 'l': listen_spec = optarg; break;
		case 'L': listen_spec = NULL; break;
		case 't': sv.textfile = optarg; break;
		case 'w': web_file = optarg; break;
		case 'c': so.watch.libc = true; break;
		case 'C': no_copies = true; break;
		case 'i':
			if (!parse_u64(optarg, &v) || v < 1 || v > 3600) {
				p_err("serve: --interval: expected 1..3600 seconds, got '%s'", optarg);
				return EXIT_ERROR;
			}
			sv.interval = v;
			break;
		}
	}
	if (c < 0)
		return o.rc;
	if (so.watch.libc && no_copies) {
		p_err("serve: --libc and --no-copies contradict each other");
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
		why = http_load();
		if (why) {
			p_err("serve: --listen needs libmicrohttpd (%s); --no-listen --textfile PATH "
			      "exports without it", why);
			return EXIT_ERROR;
		}
		if (web_file && web_config_load(&sv.web, web_file, web_why, sizeof(web_why))) {
			p_err("serve: --web-config %s", web_why);
			return EXIT_ERROR;
		}
		if (sv.web.cert_pem && !http_tls()) {
			p_err("serve: --web-config %s: this libmicrohttpd has no TLS", web_file);
			web_config_free(&sv.web);
			return EXIT_ERROR;
		}
		fd = http_listen(listen_spec, &why);
		if (fd < 0) {
			p_err("serve: --listen %s: %s", listen_spec, why ? why : strerror(-fd));
			web_config_free(&sv.web);
			return EXIT_ERROR;
		}
	}
	/* Listening before the first apply: a device that appears after it is not missed. */
	if (sv.policy_file) {
		uev = uevents_open(&why);
		if (!uev) {
			p_err("serve: %s: devices that appear or are bound to vfio later could not be "
			      "resolved for the policy's device matchers", why);
			goto out_early;
		}
	}
	pthread_mutex_init(&sv.x.lock, NULL);
	if (sv.policy_file) {
		err = exe_watch_open(&sv.exes);
		if (err)
			log_line(JOURNAL_ERR, "vfioguard: serve: inotify: %s; exe rules match the files "
				 "present at each apply only", strerror(-err));
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
		httpd = http_start(fd, &sv.x, &sv.web);
		fd = -1; /* the listener's now (closed when it could not start) */
		if (!httpd) {
			if (sv.web.cert_pem)
				p_err("serve: cannot start serving on %s: libmicrohttpd refused the TLS "
				      "key or certificate of --web-config %s (a key that is not the "
				      "certificate's, or not PEM)", listen_spec, web_file);
			else
				p_err("serve: cannot start serving on %s", listen_spec);
			goto out;
		}
	}
	notify_systemd("READY=1\nSTATUS=%s", status_line(&sv, what, sizeof(what)));
	log_line(JOURNAL_INFO, "vfioguard: serve: watching%s%s%s%s%s; policy %s (generation %" PRIu64
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
				log_line(JOURNAL_INFO, "vfioguard: serve: SIGHUP: no policy to apply "
						   "(--no-policy)");
			} else if (apply(&sv, NULL) == EXIT_CLEAN) {
				log_line(JOURNAL_INFO, "vfioguard: serve: SIGHUP: %s in force (generation "
						   "%" PRIu64 ")", sv.policy_file, sv.generation);
				notify_systemd("STATUS=%s", status_line(&sv, what, sizeof(what)));
			} else {
				sv.reloads_failed++;
				log_line(JOURNAL_ERR, "vfioguard: serve: SIGHUP: %s not applied; generation "
						  "%" PRIu64 " stays in force", sv.policy_file,
					 sv.generation);
			}
			next = 0;
		}
		if ((exe = exe_watch_replaced(&sv.exes))) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s", exe); /* apply() renews the watches */
			if (apply(&sv, RUN_POLICY) == EXIT_CLEAN) {
				log_line(JOURNAL_INFO, "vfioguard: serve: %s was replaced: the policy in "
						   "force resolved for its new file (generation %" PRIu64
						   ")", path, sv.generation);
				notify_systemd("STATUS=%s", status_line(&sv, what, sizeof(what)));
			} else {
				log_line(JOURNAL_ERR, "vfioguard: serve: %s was replaced, and the policy "
						  "could not be resolved again: its exe rules match no "
						  "new process; generation %" PRIu64 " stays in force",
					 path, sv.generation);
			}
			next = 0;
		}
		if (uev && uevents_read(uev, what, sizeof(what))) {
			/* The text in force, not the file: it may hold edits not yet reloaded. */
			if (apply(&sv, RUN_POLICY) == EXIT_CLEAN) {
				log_line(JOURNAL_INFO, "vfioguard: serve: %s: the policy in force resolved "
						   "for it (generation %" PRIu64 ")", what, sv.generation);
				notify_systemd("STATUS=%s", status_line(&sv, what, sizeof(what)));
			} else {
				log_line(JOURNAL_ERR, "vfioguard: serve: %s: the policy could not be resolved "
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
	log_line(JOURNAL_INFO, "vfioguard: serve: stopping; %s", sv.generation ?
		 "the policy stays in force (vfioguard policy clear lifts it)" : "no policy in force");
	ret = EXIT_CLEAN;
out:
	http_stop(httpd);
	session_close(sv.s);
	exe_watch_close(&sv.exes);
	decisions_free(&sv.decisions);
	free(sv.x.text);
	pthread_mutex_destroy(&sv.x.lock);
out_early:
	web_config_free(&sv.web);
	uevents_close(uev);
	if (fd >= 0)
		close(fd);
	return ret;
}
