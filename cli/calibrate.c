// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfioguard calibrate: measures what this machine's memcpy, memmove and memset really do — the
 * stores, in order, for every length and destination alignment asked for — and the hazards
 * that follow. The table is measured, never assumed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"
#include "../loader/calibrate.h"
#include "../policy/policy.h"

static const char calibrate_usage[] =
	"Usage: vfioguard calibrate [--routine NAME[,NAME...]] [--lengths LIST] [--aligns LIST]\n"
	"                           [--show] [-j]\n"
	"Single-steps the copy routines this machine's libc picks for this CPU and records every\n"
	"store. NAME: memcpy, memmove, memmove-forward, memmove-backward, memset (default: all).\n"
	"LIST: numbers and ranges, \"0-256,1024,4096,65536\" (the default) and \"0-7\" (default).\n"
	"--show prints every case; otherwise one line per routine and length.\n";

/* "0-7,16,32" into a sorted list of values up to max. */
static int parse_list(const char *s, size_t max, size_t **out, size_t *n)
{
	size_t cap = 0;
	char *copy = strdup(s), *save = NULL;

	*out = NULL;
	*n = 0;
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long a = strtoul(t, &end, 0), b = a;

		if (end == t || (*end && *end != '-'))
			goto bad;
		if (*end == '-') {
			char *e2;

			b = strtoul(end + 1, &e2, 0);
			if (e2 == end + 1 || *e2 || b < a)
				goto bad;
		}
		if (b > max)
			goto bad;
		for (unsigned long v = a; v <= b; v++) {
			if (*n == cap) {
				size_t *g = realloc(*out, (cap = cap ? cap * 2 : 64) * sizeof(**out));

				if (!g)
					goto bad;
				*out = g;
			}
			(*out)[(*n)++] = v;
		}
	}
	free(copy);
	return *n ? 0 : -EINVAL;
bad:
	free(copy);
	free(*out);
	*out = NULL;
	return -EINVAL;
}

int do_calibrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "routine", required_argument, NULL, 'r' }, { "lengths", required_argument, NULL, 'l' },
		{ "aligns", required_argument, NULL, 'a' },  { "show", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },	     { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool routines[CALIB_ROUTINES] = { true, true, true, true, true }, show = false;
	const char *lengths = "0-256,1024,4096,65536", *aligns = "0-7", *step = NULL;
	size_t *lens = NULL, *als = NULL, nlens, nals;
	struct json_object *arr = NULL;
	struct calibrator cal;
	struct calib_result res = {};
	char buid[96] = "?", where[128], stores[256], hz[64];
	int c, err, ret = EXIT_CLEAN;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': {
			char *copy = strdup(optarg), *save = NULL;

			memset(routines, 0, sizeof(routines));
			for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				int k;

				for (k = 0; k < CALIB_ROUTINES; k++)
					if (!strcmp(t, calib_routine_name(k)))
						break;
				if (k == CALIB_ROUTINES) {
					p_err("calibrate: --routine: unknown routine '%s'", t);
					free(copy);
					return EXIT_ERROR;
				}
				routines[k] = true;
			}
			free(copy);
			break;
		}
		case 'l': lengths = optarg; break;
		case 'a': aligns = optarg; break;
		case 's': show = true; break;
		case 'j': json_output = true; break;
		case 'h': printf("%s", calibrate_usage); return EXIT_CLEAN;
		default: fprintf(stderr, "%s", calibrate_usage); return EXIT_ERROR;
		}
	}
	if (parse_list(lengths, CALIB_MAX_LEN, &lens, &nlens)) {
		p_err("calibrate: --lengths: '%s' is not a list of lengths up to %d", lengths,
		      CALIB_MAX_LEN);
		return EXIT_ERROR;
	}
	if (parse_list(aligns, 63, &als, &nals)) {
		p_err("calibrate: --aligns: '%s' is not a list of alignments 0..63", aligns);
		free(lens);
		return EXIT_ERROR;
	}
	err = calibrator_start(&cal, &step);
	if (err) {
		p_err("calibrate: cannot %s: %s", step, strerror(-err));
		free(lens);
		free(als);
		return EXIT_ERROR;
	}
	libc_build_id(buid, sizeof(buid));
	if (json_output)
		arr = json_object_new_array();
	else
		printf("libc build-id %s\n", buid);
	for (int rt = 0; rt < CALIB_ROUTINES && ret == EXIT_CLEAN; rt++) {
		if (!routines[rt])
			continue;
		calib_routine_where(&cal, rt, where, sizeof(where));
		if (!json_output)
			printf("\n%s = %s\n%-6s %-5s %-7s %-8s %s\n", calib_routine_name(rt), where,
			       "LEN", show ? "ALIGN" : "", "HAZARDS", "STEPS", "STORES");
		for (size_t li = 0; li < nlens && ret == EXIT_CLEAN; li++) {
			uint32_t all = 0;
			bool replay = true;

			for (size_t ai = 0; ai < nals; ai++) {
				/* Large copies go backwards on 4 KiB aliasing: try both placements. */
				for (int same = 0; same < (rt <= CALIB_MEMMOVE ? 2 : 1); same++) {
					struct calib_case cc = { .routine = rt, .len = lens[li],
								 .align = als[ai],
								 .same_page_offset = same };

					err = calibrate_case(&cal, &cc, &res);
					if (err) {
						p_err("calibrate: %s of %zu bytes: %s",
						      calib_routine_name(rt), lens[li], strerror(-err));
						ret = EXIT_ERROR;
						break;
					}
					all |= res.hazards;
					replay &= res.replay_ok;
					store_trace_format(&res.trace, stores, sizeof(stores));
					hazard_set_format(res.hazards, hz, sizeof(hz));
					if (json_output) {
						struct json_object *o = json_object_new_object(),
								   *st = json_object_new_array();

						json_add(o, "routine", json_object_new_string(
									 calib_routine_name(rt)));
						json_add(o, "where", json_object_new_string(where));
						json_add(o, "length", json_object_new_uint64(lens[li]));
						json_add(o, "align", json_object_new_int(als[ai]));
						json_add(o, "same_page_offset",
							 json_object_new_boolean(same));
						for (size_t k = 0; k < res.trace.n && k < 4096; k++) {
							struct json_object *p = json_object_new_array();

							json_object_array_add(p, json_object_new_int64(
										 res.trace.v[k].off));
							json_object_array_add(p, json_object_new_int(
										 res.trace.v[k].width));
							json_object_array_add(st, p);
						}
						json_add(o, "stores", st);
						json_add(o, "store_count", json_object_new_uint64(res.trace.n));
						json_add(o, "hazards", json_object_new_string(hz));
						json_add(o, "steps", json_object_new_uint64(res.steps));
						json_add(o, "replay_ok", json_object_new_boolean(res.replay_ok));
						json_add(o, "inferred_steps",
							 json_object_new_uint64(res.inferred));
						json_object_array_add(arr, o);
					} else if (show) {
						printf("%-6zu %-5zu %-7s %-8lu %s%s%s%s\n", lens[li], als[ai],
						       hz, res.steps, stores, same ? " (same page offset)" : "",
						       res.inferred ? " (some stores inferred)" : "",
						       res.replay_ok ? "" : "  REPLAY MISMATCH");
					}
				}
				if (ret != EXIT_CLEAN)
					break;
			}
			if (!json_output && !show && ret == EXIT_CLEAN)
				printf("%-6zu %-5s %-7s %-8s %s\n", lens[li], "",
				       hazard_set_format(all, hz, sizeof(hz)), "",
				       replay ? "" : "REPLAY MISMATCH");
		}
	}
	if (json_output && ret == EXIT_CLEAN) {
		struct json_object *doc = json_object_new_object();

		json_add(doc, "libc_build_id", json_object_new_string(buid));
		json_add(doc, "cases", arr);
		arr = NULL;
		json_emit(doc);
	}
	json_object_put(arr);
	store_trace_free(&res.trace);
	calibrator_stop(&cal);
	free(lens);
	free(als);
	return ret;
}
