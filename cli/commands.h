/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The subcommands of vfioguard, dispatched from cli/main.c's table. */
#ifndef VFIOGUARD_COMMANDS_H
#define VFIOGUARD_COMMANDS_H

/* Each returns an exit code (output.h). argv[0] is the command's name. */
int do_audit(int argc, char **argv);
int do_monitor(int argc, char **argv);
int do_policy(int argc, char **argv);
int do_policy_apply(int argc, char **argv);
int do_policy_show(int argc, char **argv);
int do_policy_clear(int argc, char **argv);
int do_advise(int argc, char **argv);
int do_calibrate(int argc, char **argv);
int do_features(int argc, char **argv);
int do_serve(int argc, char **argv);

/*
 * policy apply with the text read from text_from and published as file's (the same path for the
 * command; serve re-resolves the text in force, RUN_POLICY, when a device appears). then (may be
 * NULL) runs after a successful apply, before the apply lock is released, with the policy now in
 * force.
 */
struct policy;
struct run_state;
int policy_apply_file(const char *file, const char *text_from,
		      void (*then)(struct policy *p, const struct run_state *st, void *ctx),
		      void *ctx);

struct policy_diags;
/* "FILE:LINE:COL: error|warning: message" on stderr, for every diagnostic. */
void print_policy_diags(const char *file, const struct policy_diags *d);

/* Parses the options every command takes (-j, -p, -v, -h); returns optind or -1 after usage. */
int parse_common_options(int argc, char **argv, const char *usage);

#endif /* VFIOGUARD_COMMANDS_H */
