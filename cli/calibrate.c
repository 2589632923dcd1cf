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
#include "../loader/calib/calibrate.h"
#include "../loader/calib/cases.h"
#include "../policy/policy.h"

static const char calibrate_usage[] =
	"Usage: vfioguard calibrate [--routine NAME[,NAME...]] [--lengths LIST] [--aligns LIST]\n"
	"                           [--distance N] [--page-delta D] [--show] [--cached] [--alias]\n"
	"                           [-j]\n"
	"Single-steps the copy routines this machine's libc picks for this CPU and records every\n"
	"store. NAME: memcpy, memmove, memmove-forward, memmove-backward, memset (default: all).\n"
	"LIST: numbers and ranges, \"0-256,1024,4096,65536\" (the default) and \"0-7\" (default).\n"
	"--show prints every case; otherwise one line per routine and length.\n"
	"--distance N measures overlapping memmoves N bytes apart (default: half the length).\n"
	"--page-delta D measures memcpy and memmove with the source where (dst - src) mod 4096\n"
	"is D (default: both 0, the same page offset, and the source at page offset 2048, which\n"
	"stands for every placement outside the aliasing window).\n"
	"Measured cases are kept in the hazard cache that monitor --copies loads\n"
	"($VFIOGUARD_CACHE_DIR, default /var/cache/vfioguard, one file per libc build);\n"
	"--cached prints that cache instead of measuring.\n"
	"--alias measures, for memcpy and memmove at each length (default 1024,4096), the 4 KiB\n"
	"aliasing window: the smallest W such that every source placed with (dst - src) mod 4096\n"
	">= W stores alike (0: no placement matters at that length). At the default lengths\n"
	"(glibc's vector loop and its rep movsb path on x86_64) the largest W is cached, and\n"
	"monitor --copies takes every placement from W on as one case and each below W as its\n"
	"own; without a cached W each placement is its own case.\n";

/* The cases the cache holds already, so that a run adds only new lines. */
static struct calib_cases cached_cases;

/* --cached: the cache's cases for the routines this libc picks on this CPU. */
static int show_cached(const char *path, const char *buid)
{
	struct json_object *arr = json_output ? json_object_new_array() : NULL;
	uint64_t mine[CALIB_ROUTINES] = {};
	char hz[64], lhz[64];
	size_t shown = 0;

	for (int r = 0; r < CALIB_ROUTINES; r++)
		calib_routine_vaddr(r, &mine[r]);
	calib_cases_sort(&cached_cases);
	if (!json_output)
		printf("libc build-id %s\ncache %s\n%-17s %-6s %-5s %-7s %-6s %-30s %s\n", buid,
		       path, "ROUTINE", "LEN", "ALIGN", "DELTA", "DIST", "HAZARDS", "LOADS");
	for (const struct calib_cached *e = cached_cases.v; e; e = e->hh.next) {
		const struct calib_cached_key *c = &e->key;

		if (c->routine >= CALIB_ROUTINES || c->vaddr != mine[c->routine])
			continue;
		shown++;
		hazard_set_format(e->hazards & 0x1f, hz, sizeof(hz));
		if (arr) {
			struct json_object *o = json_object_new_object();

			json_add(o, "routine", json_object_new_string(calib_routine_name(c->routine)));
			json_add(o, "length", json_object_new_uint64(c->len));
			json_add(o, "align", json_object_new_int(c->align));
			json_add(o, "page_delta", c->delta >= CALIB_PAGE_FAR ? NULL :
						  json_object_new_int(c->delta));
			json_add(o, "load_hazards", e->hazards & CALIB_LOADS_MEASURED ?
				 json_object_new_string(hazard_set_format(
					 e->hazards >> CALIB_LOAD_SHIFT & 0x1f, lhz, sizeof(lhz))) : NULL);
			json_add(o, "distance", c->distance ? json_object_new_uint64(c->distance)
							    : NULL);
			json_add(o, "hazards", json_object_new_string(hz));
			json_add(o, "string", json_object_new_boolean(!!(e->hazards & VFG_HAZARDS_STRING)));
			json_object_array_add(arr, o);
		} else {
			char delta[16];

			calib_page_delta_format(c->delta, delta, sizeof(delta));
			printf("%-17s %-6zu %-5u %-7s %-6zu %-30s %s\n", calib_routine_name(c->routine),
			       (size_t)c->len, c->align, c->routine <= CALIB_MEMMOVE ? delta : "-",
			       (size_t)c->distance, hz, e->hazards & CALIB_LOADS_MEASURED ?
			       hazard_set_format(e->hazards >> CALIB_LOAD_SHIFT & 0x1f, lhz,
						 sizeof(lhz)) : "-");
		}
	}
	if (arr) {
		struct json_object *doc = json_object_new_object();

		json_add(doc, "libc_build_id", json_object_new_string(buid));
		json_add(doc, "cache", json_object_new_string(path));
		json_add(doc, "cases", arr);
		json_emit(doc);
	} else if (!shown) {
		printf("(no cases cached for this libc and CPU: run vfioguard calibrate)\n");
	}
	return EXIT_CLEAN;
}

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

/* --alias: the 4 KiB aliasing window of memcpy and memmove at each length. */
static int show_alias_windows(struct calibrator *cal, const bool *routines, const size_t *lens,
			      size_t nlens, const char *buid, const char *cache, bool keep)
{
	struct json_object *arr = json_output ? json_object_new_array() : NULL;
	unsigned int *win = calloc(nlens, sizeof(*win));
	int *werr = calloc(nlens, sizeof(*werr)), cache_err = 0;
	uint64_t va[CALIB_ROUTINES] = {};
	char where[128];

	if (!win || !werr) {
		free(win);
		free(werr);
		json_object_put(arr);
		p_err("calibrate: out of memory");
		return EXIT_ERROR;
	}
	if (!json_output)
		printf("libc build-id %s\n%-8s %-26s %-6s %s\n", buid, "ROUTINE", "WHERE", "LEN",
		       "WINDOW");
	for (int rt = CALIB_MEMCPY; rt <= CALIB_MEMMOVE; rt++) {
		unsigned int widest = 0;
		/* x86_64's memcpy is memmove: measured once. */
		bool again = rt == CALIB_MEMMOVE && routines[CALIB_MEMCPY] &&
			     !calib_routine_vaddr(rt, &va[rt]) && va[rt] == va[CALIB_MEMCPY];

		if (!routines[rt])
			continue;
		calib_routine_vaddr(rt, &va[rt]);
		calib_routine_where(cal, rt, where, sizeof(where));
		for (size_t li = 0; li < nlens; li++) {
			if (!again)
				werr[li] = calib_alias_window(cal, rt, lens[li], &win[li]);
			if (werr[li] && werr[li] != -EDOM) {
				p_err("calibrate: %s of %zu bytes: %s", calib_routine_name(rt), lens[li],
				      strerror(-werr[li]));
				json_object_put(arr);
				free(win);
				free(werr);
				return EXIT_ERROR;
			}
			/* Placements that store in more than one way from W on: each its own. */
			widest = werr[li] ? 4096 : win[li] > widest ? win[li] : widest;
			if (arr) {
				struct json_object *o = json_object_new_object();

				json_add(o, "routine", json_object_new_string(calib_routine_name(rt)));
				json_add(o, "where", json_object_new_string(where));
				json_add(o, "length", json_object_new_uint64(lens[li]));
				json_add(o, "window", werr[li] ? NULL : json_object_new_int(win[li]));
				json_object_array_add(arr, o);
			} else if (werr[li]) {
				printf("%-8s %-26s %-6zu not one window\n", calib_routine_name(rt), where,
				       lens[li]);
			} else if (!win[li]) {
				printf("%-8s %-26s %-6zu none\n", calib_routine_name(rt), where, lens[li]);
			} else {
				printf("%-8s %-26s %-6zu (dst - src) mod 4096 < %u\n",
				       calib_routine_name(rt), where, lens[li], win[li]);
			}
		}
		/* The window of the default lengths is the routine's, for monitor --copies. */
		if (cache[0] && !cache_err && keep && va[rt])
			cache_err = calib_cache_append_window(cache, rt, va[rt], widest);
	}
	free(win);
	free(werr);
	if (cache_err)
		fprintf(stderr, "vfioguard: calibrate: cannot write the hazard cache %s: %s\n", cache,
			strerror(-cache_err));
	if (arr) {
		struct json_object *doc = json_object_new_object();

		json_add(doc, "libc_build_id", json_object_new_string(buid));
		json_add(doc, "alias_windows", arr);
		json_emit(doc);
	}
	return EXIT_CLEAN;
}

/* [[offset, width], ...] of the first 4096 accesses. */
static struct json_object *trace_json(const struct store_trace *t)
{
	struct json_object *a = json_object_new_array();

	for (size_t k = 0; k < t->n && k < 4096; k++) {
		struct json_object *p = json_object_new_array();

		json_object_array_add(p, json_object_new_int64(t->v[k].off));
		json_object_array_add(p, json_object_new_int(t->v[k].width));
		json_object_array_add(a, p);
	}
	return a;
}

int do_calibrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "routine", required_argument, NULL, 'r' }, { "lengths", required_argument, NULL, 'l' },
		{ "aligns", required_argument, NULL, 'a' },  { "show", no_argument, NULL, 's' },
		{ "cached", no_argument, NULL, 'C' },	     { "distance", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },	     { "help", no_argument, NULL, 'h' },
		{ "alias", no_argument, NULL, 'A' },	     { "page-delta", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	bool routines[CALIB_ROUTINES] = { true, true, true, true, true }, show = false,
	     cached = false, alias = false, lengths_given = false;
	char cache[4096] = "";
	size_t distance = 0;
	long page_delta = -1;
	int cache_err = 0;
	const char *lengths = "0-256,1024,4096,65536", *aligns = "0-7", *step = NULL;
	size_t *lens = NULL, *als = NULL, nlens, nals;
	struct json_object *arr = NULL;
	struct calibrator cal;
	struct calib_result res = {};
	char buid[96] = "?", where[128], stores[256], hz[64], lhz[64];
	struct cmd_options o = { .cmd = "calibrate", .usage = calibrate_usage, .shortopts = "jh",
				 .longopts = opts };
	int c, err, ret = EXIT_CLEAN;

	while ((c = next_option(&o, argc, argv)) > 0) {
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
		case 'l': lengths = optarg; lengths_given = true; break;
		case 'a': aligns = optarg; break;
		case 's': show = true; break;
		case 'C': cached = true; break;
		case 'A': alias = true; break;
		case 'd': {
			char *end;

			errno = 0;
			distance = strtoul(optarg, &end, 0);
			if (errno || end == optarg || *end || !distance || distance > CALIB_MAX_LEN ||
			    *optarg == '-') {
				p_err("calibrate: --distance: '%s' is not a distance of 1..%d bytes",
				      optarg, CALIB_MAX_LEN);
				return EXIT_ERROR;
			}
			break;
		}
		case 'P': {
			char *end;

			errno = 0;
			page_delta = strtol(optarg, &end, 0);
			if (errno || end == optarg || *end || page_delta < 0 || page_delta > 4095) {
				p_err("calibrate: --page-delta: '%s' is not a page offset 0..4095", optarg);
				return EXIT_ERROR;
			}
			break;
		}
		}
	}
	if (c < 0)
		return o.rc;
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
	if (!calib_cache_path(cache, sizeof(cache))) {
		err = calib_cases_read(&cached_cases, cache);
		if (err < 0 && cached) {
			p_err("calibrate: cannot read %s: %s", cache, strerror(-err));
			calib_cases_free(&cached_cases);
			return EXIT_ERROR;
		}
	}
	if (cached) {
		libc_build_id(buid, sizeof(buid));
		ret = show_cached(cache, buid);
		calib_cases_free(&cached_cases);
		free(lens);
		free(als);
		return ret;
	}
	err = calibrator_start(&cal, &step);
	if (err) {
		p_err("calibrate: cannot %s: %s", step, strerror(-err));
		free(lens);
		free(als);
		return EXIT_ERROR;
	}
	libc_build_id(buid, sizeof(buid));
	if (alias) {
		if (!lengths_given) {
			free(lens);
			parse_list("1024,4096", CALIB_MAX_LEN, &lens, &nlens);
		}
		ret = show_alias_windows(&cal, routines, lens, nlens, buid, cache, !lengths_given);
		calib_cases_free(&cached_cases);
		calibrator_stop(&cal);
		free(lens);
		free(als);
		return ret;
	}
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
				/* memcpy, memmove: outside the aliasing window and at the same page
				 * offset, or where --page-delta says. */
				for (int pl = 0; pl < (rt <= CALIB_MEMMOVE && page_delta < 0 ? 2 : 1);
				     pl++) {
					struct calib_case cc = { .routine = rt, .len = lens[li],
								 .align = als[ai],
								 .page_delta = pl ? 0 : CALIB_PAGE_FAR,
								 .distance = distance };
					uint32_t packed;
					unsigned int delta;

					if (rt > CALIB_MEMMOVE)
						cc.page_delta = 0;
					else if (page_delta >= 0)
						cc.page_delta = page_delta;
					delta = calib_case_placement(&cc);
					err = calibrate_case(&cal, &cc, &res);
					if (err) {
						p_err("calibrate: %s of %zu bytes: %s",
						      calib_routine_name(rt), lens[li], strerror(-err));
						ret = EXIT_ERROR;
						break;
					}
					all |= res.hazards;
					packed = calib_result_pack(&res);
					/* Only complete, verified traces go into the cache. */
					if (cache[0] && !cache_err && res.replay_ok &&
					    !res.trace.truncated) {
						uint64_t va = 0;

						calib_routine_vaddr(rt, &va);
						if (calib_cases_add(&cached_cases, &cc, va, packed))
							cache_err = calib_cache_append(cache, &cc,
										       packed);
					}
					replay &= res.replay_ok;
					store_trace_format(&res.trace, stores, sizeof(stores));
					hazard_set_format(res.hazards, hz, sizeof(hz));
					if (json_output) {
						struct json_object *o = json_object_new_object();

						json_add(o, "routine", json_object_new_string(
									 calib_routine_name(rt)));
						json_add(o, "where", json_object_new_string(where));
						json_add(o, "length", json_object_new_uint64(lens[li]));
						json_add(o, "align", json_object_new_int(als[ai]));
						json_add(o, "same_page_offset",
							 json_object_new_boolean(rt <= CALIB_MEMMOVE &&
										 !delta));
						/* Where the source was (for "far", its
						 * representative), and whether that stands
						 * for every placement outside the window. */
						json_add(o, "page_delta", rt <= CALIB_MEMMOVE ?
							 json_object_new_int(delta) : NULL);
						json_add(o, "far", json_object_new_boolean(
							 cc.page_delta >= CALIB_PAGE_FAR));
						json_add(o, "distance", calib_case_distance(&cc) ?
							 json_object_new_uint64(calib_case_distance(&cc)) : NULL);
						json_add(o, "stores", trace_json(&res.trace));
						json_add(o, "store_count", json_object_new_uint64(res.trace.n));
						json_add(o, "hazards", json_object_new_string(hz));
						/* Stores of a string instruction: more hazards on
						 * WB and WC memory (VFG_HAZARDS_STRING). */
						json_add(o, "string", json_object_new_boolean(res.string));
						/* What a copy out of device memory does to it. */
						json_add(o, "loads", res.loads_ok && rt != CALIB_MEMSET ?
							 trace_json(&res.loads) : NULL);
						json_add(o, "load_hazards", res.loads_ok && rt != CALIB_MEMSET ?
							 json_object_new_string(hazard_set_format(
								 res.load_hazards, lhz, sizeof(lhz))) : NULL);
						json_add(o, "steps", json_object_new_uint64(res.steps));
						json_add(o, "replay_ok", json_object_new_boolean(res.replay_ok));
						json_add(o, "inferred_steps",
							 json_object_new_uint64(res.inferred));
						json_object_array_add(arr, o);
					} else if (show) {
						char placed[48] = "";

						if (rt <= CALIB_MEMMOVE && (!delta || page_delta >= 0))
							snprintf(placed, sizeof(placed),
								 !delta ? " (same page offset)" :
									  " (page delta %u)", delta);
						printf("%-6zu %-5zu %-7s %-8lu %s%s%s%s%s\n", lens[li], als[ai],
						       hz, res.steps, stores, placed,
						       res.string ? " (a string instruction: more on WB, WC)" : "",
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
	if (cache_err)
		fprintf(stderr, "vfioguard: calibrate: cannot write the hazard cache %s: %s\n", cache,
			strerror(-cache_err));
	calib_cases_free(&cached_cases);
	calib_result_free(&res);
	calibrator_stop(&cal);
	free(lens);
	free(als);
	return ret;
}
