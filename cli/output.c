// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Text and JSON output helpers; see output.h. */
#include <errno.h>
#include <getopt.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "../bpf/vfioguard.h"

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

struct json_object *json_region_offset(const struct region_loc *region, uint64_t offset)
{
	return region->index == REGION_UNKNOWN ? NULL : json_object_new_uint64(offset);
}

void json_mapping(struct json_object *o, const struct region_loc *region, uint64_t start,
		  uint64_t end, const struct cache_decode *cache, uint64_t pgprot)
{
	char name[32], mode[40];

	json_add(o, "region",
		 json_object_new_string(region_name(region->index, name, sizeof(name))));
	json_add(o, "region_index", region->index == REGION_UNKNOWN ?
					    NULL : json_object_new_int64(region->index));
	json_add(o, "region_offset", json_region_offset(region, region->offset));
	json_add(o, "region_from",
		 json_object_new_string(region->source == REGION_FROM_PFN	 ? "pfn" :
					region->source == REGION_FROM_DRIVER ? "driver" :
										 "offset"));
	json_add(o, "start", json_hex(start));
	json_add(o, "end", json_hex(end));
	json_add(o, "size", json_object_new_uint64(end - start));
	if (!cache)
		return;
	json_add(o, "cache", json_object_new_string(cache_mode_format(cache->mode, pgprot, mode,
								      sizeof(mode))));
	json_add(o, "cache_index", json_object_new_int64(cache->index));
	json_add(o, "pgprot", json_hex(pgprot));
	/* What KVM lets a guest use of it, where known: next to what the VMM's mapping allows. */
	json_add(o, "guest_cache", cache->guest != CACHE_UNKNOWN ?
				   json_object_new_string(cache_mode_name(cache->guest)) : NULL);
}

void log_line(const char *level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
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

/*
 * A document of a few members and one long array, written one element at a time: building the
 * whole tree first costs an allocation per value (about 20 per mapping), and for a host with
 * 100k mappings that dominates the run. Pretty output, for people, still builds the tree.
 */
static struct json_object *stream_doc, *stream_array;
static bool stream_first;

void json_stream_begin(struct json_object *head, const char *array_key)
{
	const char *text;
	size_t len;

	if (pretty_output) {
		stream_doc = head;
		stream_array = json_object_new_array();
		json_object_object_add(head, array_key, stream_array);
		return;
	}
	text = json_object_to_json_string_length(
		head, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	/* "{...}" without its closing brace, then the array's key. */
	fwrite(text, 1, len - 1, stdout);
	printf("%s\"%s\":[", len > 2 ? "," : "", array_key);
	json_object_put(head);
	stream_first = true;
}

void json_stream_item(struct json_object *item)
{
	if (pretty_output) {
		json_object_array_add(stream_array, item);
		return;
	}
	if (!stream_first)
		putchar(',');
	stream_first = false;
	fputs(json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE),
	      stdout);
	json_object_put(item);
}

void json_stream_end(void)
{
	if (pretty_output) {
		json_emit(stream_doc);
		stream_doc = stream_array = NULL;
		return;
	}
	puts("]}");
	fflush(stdout);
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

static const struct {
	uint64_t bit;
	const char *name;
} vm_flag_names[] = {
	{ VFG_VM_READ, "read" },     { VFG_VM_WRITE, "write" }, { VFG_VM_EXEC, "exec" },
	{ VFG_VM_SHARED, "shared" }, { VFG_VM_IO, "io" },       { VFG_VM_PFNMAP, "pfnmap" },
	{ VFG_VM_DONTCOPY, "dontcopy" }, { VFG_VM_ALLOW_ANY_UNCACHED, "allow_any_uncached" },
};

const char *vm_flags_text(uint64_t flags, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(vm_flag_names) / sizeof(vm_flag_names[0]); i++) {
		if (!(flags & vm_flag_names[i].bit))
			continue;
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? "," : "",
				 vm_flag_names[i].name);
	}
	return buf;
}

struct json_object *vm_flags_json(uint64_t flags)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < sizeof(vm_flag_names) / sizeof(vm_flag_names[0]); i++)
		if (flags & vm_flag_names[i].bit)
			json_object_array_add(a, json_object_new_string(vm_flag_names[i].name));
	return a;
}

int next_option(struct cmd_options *o, int argc, char **argv)
{
	int c;

	if (!o->started) {
		/* 0, not 1: getopt starts afresh (main's "+" stops at the first word that is not
		 * an option) and takes options after the command's operands too. */
		optind = 0;
		o->started = true;
	}
	while ((c = getopt_long(argc, argv, o->shortopts, o->longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json_output = true; break;
		case 'p': json_output = pretty_output = true; break;
		case 'v': verbose++; break;
		case 'h':
			printf("%s", o->usage);
			o->rc = EXIT_CLEAN;
			return -1;
		case '?':
		case ':':
			fprintf(stderr, "%s", o->usage);
			o->rc = EXIT_ERROR;
			return -1;
		default: return c;
		}
	}
	if (!o->operands && no_operands(o->cmd, argc, argv, optind)) {
		o->rc = EXIT_ERROR;
		return -1;
	}
	return 0;
}

int no_operands(const char *cmd, int argc, char **argv, int first)
{
	if (first >= argc)
		return 0;
	p_err("%s: unexpected argument '%s' (see vfioguard %s --help)", cmd, argv[first], cmd);
	return EXIT_ERROR;
}

bool parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && *s && !*end && *s != '-';
}

/*
 * Appends c to buf (room for k < len - 1), escaped for a label value when prom; false when
 * full.
 */
static bool label_put(char *buf, size_t len, size_t *k, char c, bool prom)
{
	bool esc = prom && (c == '\\' || c == '"' || c == '\n');

	if (*k + 1 + esc >= len)
		return false;
	if (esc)
		buf[(*k)++] = '\\';
	buf[(*k)++] = esc && c == '\n' ? 'n' : c;
	return true;
}

/* Appends byte b as the four characters \xNN (escaped when prom); the caller saw to the room. */
static void hex_put(char *buf, size_t len, size_t *k, unsigned char b, bool prom)
{
	char hex[5];

	snprintf(hex, sizeof(hex), "\\x%02x", b);
	for (int i = 0; i < 4; i++)
		label_put(buf, len, k, hex[i], prom);
}

/* Where a name goes: a label value (escaped), JSON (json-c escapes it), a terminal. */
enum name_for { FOR_PROM, FOR_JSON, FOR_TERM };

/*
 * A character a terminal would act on rather than show: a C0 control or DEL (one byte), or a C1
 * control (U+0080 to U+009F, 0xc2 then 0x80 to 0x9f), which some terminals take as 8-bit
 * escapes. c holds the character's n bytes.
 */
static bool term_control(const unsigned char *c, int n)
{
	return (n == 1 && (c[0] < 0x20 || c[0] == 0x7f)) || (n == 2 && c[0] == 0xc2 && c[1] < 0xa0);
}

static const char *utf8_or_hex(const char *s, char *buf, size_t len, enum name_for to)
{
	bool prom = to == FOR_PROM;
	/* glibc's UTF-8 decoder refuses invalid, overlong and surrogate sequences (EILSEQ). */
	static __thread iconv_t cd = (iconv_t)-1;
	size_t k = 0, left = strlen(s);
	char *in = (char *)s;
	bool room = true;

	if (!len)
		return buf;
	if (cd == (iconv_t)-1)
		cd = iconv_open("UTF-8", "UTF-8");
	while (left && room) {
		char chunk[64], *out = chunk;
		size_t out_left = sizeof(chunk), r;

		if (cd == (iconv_t)-1) {
			r = (size_t)-1; /* no converter: every byte outside ASCII is shown as \xNN */
			errno = *in & 0x80 ? EILSEQ : 0;
			if (!errno)
				*out++ = *in++, left--, out_left--;
		} else {
			r = iconv(cd, &in, &left, &out, &out_left);
		}
		for (char *c = chunk; c < out && room;) {
			/* Whole characters only: a lead byte says how many bytes follow. */
			unsigned char b = *c;
			int n = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;

			if (to == FOR_TERM && c + n <= out && term_control((unsigned char *)c, n)) {
				/* Each byte as \xNN, whole or not at all. */
				room = k + 4 * n < len;
				for (int j = 0; j < n && room; j++)
					hex_put(buf, len, &k, *c++, prom);
				continue;
			}
			room = k + n < len;
			for (int j = 0; j < n && room && c < out; j++)
				room = label_put(buf, len, &k, *c++, prom);
		}
		if (r != (size_t)-1 || !room)
			continue;
		if (errno == EILSEQ || errno == EINVAL) {
			/* Whole or not at all: the backslash takes two characters escaped. */
			room = k + 5 < len;
			if (room)
				hex_put(buf, len, &k, *in, prom);
			in++;
			left--;
			if (cd != (iconv_t)-1)
				iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	buf[k] = 0;
	return buf;
}

const char *prom_label_value(const char *s, char *buf, size_t len)
{
	return utf8_or_hex(s, buf, len, FOR_PROM);
}

const char *text_name(const char *s, char *buf, size_t len)
{
	return utf8_or_hex(s, buf, len, FOR_JSON);
}

_Static_assert(TERM_COMM_LEN == 4 * VFG_COMM_LEN + 1, "room for a comm, each byte as \\xNN");

const char *term_name(const char *s, char *buf, size_t len)
{
	return utf8_or_hex(s, buf, len, FOR_TERM);
}

struct json_object *json_name(const char *s)
{
	char buf[4 * 64 + 1];

	return json_object_new_string(text_name(s, buf, sizeof(buf)));
}

void json_task(struct json_object *o, const struct vfg_task *t)
{
	char comm[VFG_COMM_LEN + 1];

	memcpy(comm, t->comm, VFG_COMM_LEN);
	comm[VFG_COMM_LEN] = 0;
	json_add(o, "pid", json_object_new_int64(t->tgid));
	json_add(o, "tid", json_object_new_int64(t->pid));
	json_add(o, "start_time", json_object_new_uint64(t->start_time));
	json_add(o, "comm", json_name(comm));
}
