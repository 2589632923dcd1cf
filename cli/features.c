// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* vfioguard features: what the running kernel offers, as probed by loader/probes/features.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "output.h"
#include "../loader/probes/features.h"
#include "../loader/host/kernel.h"

static const char features_usage[] =
	"Usage: vfioguard features [-j|-p] [-v]\n"
	"Loads and attaches one BPF program of each kind vfioguard uses and reports what the\n"
	"kernel allowed, with the reason for each refusal. Exit 0: refusals are answers, not errors.\n";

int do_features(int argc, char **argv)
{
	struct feature feats[FEAT_COUNT];
	struct kernel_info ki;
	int optind_ = parse_common_options(argc, argv, features_usage);

	if (optind_ < 0)
		return optind_ == -1 ? EXIT_CLEAN : EXIT_ERROR;
	if (no_operands("features", argc, argv, optind_))
		return EXIT_ERROR;
	if (kernel_info_read(&ki)) {
		p_err("features: cannot read the kernel release");
		return EXIT_ERROR;
	}
	features_probe(feats);

	if (json_output) {
		struct json_object *doc = json_object_new_object(), *f = json_object_new_object();

		json_object_object_add(doc, "version", json_object_new_string(VFIOGUARD_VERSION));
		json_object_object_add(doc, "libbpf",
				       json_object_new_string(libbpf_version_string()));
		json_object_object_add(doc, "kernel", json_object_new_string(ki.release));
		json_object_object_add(doc, "arch", json_object_new_string(ki.machine));
		json_object_object_add(doc, "root", json_object_new_boolean(geteuid() == 0));
		for (int i = 0; i < FEAT_COUNT; i++) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "available", json_object_new_boolean(feats[i].ok));
			if (feats[i].err)
				json_object_object_add(e, "errno",
						       json_object_new_int(-feats[i].err));
			json_object_object_add(e, "detail", json_object_new_string(feats[i].detail));
			json_object_object_add(f, feats[i].name, e);
		}
		json_object_object_add(doc, "features", f);
		json_emit(doc);
	} else {
		printf("kernel   %s\narch     %s\n", ki.release, ki.machine);
		if (geteuid() != 0)
			printf("note     not root: BPF programs are refused for lack of privilege\n");
		for (int i = 0; i < FEAT_COUNT; i++)
			printf("%-15s %-3s  %s\n", feats[i].name, feats[i].ok ? "yes" : "no",
			       feats[i].detail);
	}
	return EXIT_CLEAN;
}
