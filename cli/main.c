// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* vfioguard: entry point, global options and the command table. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "output.h"
#include "../loader/probes/features.h"

#ifndef VFIOGUARD_VERSION
#define VFIOGUARD_VERSION "0.0.0"
#endif

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd commands[] = {
	{ "audit", do_audit, "list every VFIO device region any process has mapped" },
	{ "monitor", do_monitor, "show VFIO mmaps, faults, fd accesses and unmaps as they happen" },
	{ "policy", do_policy, "check a policy file; explain the verdict for a device region" },
	{ "advise", do_advise, "what each VMM should be told (QEMU, libvirt) under the policy in force" },
	{ "calibrate", do_calibrate, "measure the stores this machine's memcpy/memmove/memset make" },
	{ "features", do_features, "what this kernel offers vfioguard, probed for real" },
	{ "serve", do_serve, "keep the policy in force, watch all the time, serve Prometheus metrics" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vfioguard [OPTIONS] COMMAND [ARGS]\n\n"
		   "Commands:\n");
	for (const struct cmd *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nOptions (also accepted after COMMAND):\n"
		   "  -j, --json      JSON output\n"
		   "  -p, --pretty    indented JSON (implies --json)\n"
		   "  -v, --verbose   more detail; libbpf's messages\n"
		   "  -V, --version   version (with -v: the kernel features too)\n"
		   "  -h, --help      this text\n\n"
		   "Exit status: 0 clean, 1 violations found, 2 usage or environment error.\n");
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (verbose < 1 || (level == LIBBPF_DEBUG && verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int parse_common_options(int argc, char **argv, const char *cmd_usage)
{
	static const struct option opts[] = { COMMON_LONG_OPTIONS, { NULL, 0, NULL, 0 } };
	struct cmd_options o = { .usage = cmd_usage, .shortopts = "jpvh", .longopts = opts,
				 .operands = true };
	int c;

	while ((c = next_option(&o, argc, argv)) > 0)
		; /* it has no options but the common ones */
	return !c ? optind : o.rc == EXIT_CLEAN ? -1 : -2;
}

/*
 * As many open files as the hard limit allows. monitor and audit hold the files of the last 64
 * processes whose copies they watch, for their stacks' names (about 55 for a QEMU), besides the
 * probes' own descriptors, and the usual soft limit (1024) ran out at a dozen QEMUs: later
 * processes' probes failed with EMFILE. Nothing here uses select(), and nothing is exec'd with
 * the raised limit.
 */
static void raise_open_files(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	{ "pretty", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' }, { "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },	{ NULL, 0, NULL, 0 },
	};
	bool version = false;
	int c;

	/* Times and ratios in JSON: microseconds, not 17 significant digits. */
	json_c_set_serialization_double_format("%.6f", JSON_C_OPTION_GLOBAL);

	while ((c = getopt_long(argc, argv, "+jpvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json_output = true; break;
		case 'p': json_output = pretty_output = true; break;
		case 'v': verbose++; break;
		case 'V': version = true; break;
		case 'h': usage(stdout); return EXIT_CLEAN;
		default: usage(stderr); return EXIT_ERROR;
		}
	}
	libbpf_set_print(libbpf_print);
	raise_open_files();
	if (version) {
		if (!verbose && !json_output) {
			printf("vfioguard %s (libbpf %s)\n", VFIOGUARD_VERSION,
			       libbpf_version_string());
			return EXIT_CLEAN;
		}
		if (!json_output)
			printf("vfioguard %s (libbpf %s)\n", VFIOGUARD_VERSION,
			       libbpf_version_string());
		return do_features(1, (char *[]){ "features", NULL });
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	for (const struct cmd *cmd = commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, argv[optind]))
			return cmd->fn(argc - optind, argv + optind);
	p_err("unknown command '%s' (see vfioguard --help)", argv[optind]);
	return EXIT_ERROR;
}
