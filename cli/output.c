// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Text and JSON output helpers; see output.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "output.h"

bool json_output;
bool pretty_output;
int verbose;

void p_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_output) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "error", json_object_new_string(msg));
		json_emit(doc);
	} else {
		fprintf(stderr, "vfioguard: %s\n", msg);
	}
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vfioguard: warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void json_emit(struct json_object *doc)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty_output ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
				   : JSON_C_TO_STRING_PLAIN);

	puts(json_object_to_json_string_ext(doc, flags));
	fflush(stdout);
	json_object_put(doc);
}

struct json_object *json_hex(uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

const char *human_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	while (v && (v % 1024) == 0 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
	return buf;
}
