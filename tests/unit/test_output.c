// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Output helpers: sizes as the table prints them. */
#include <stdint.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/output.h"

/* Whatever bytes a process calls itself, the label value is valid UTF-8 and escaped. */
static void label_values(void **state)
{
	char buf[64];

	assert_string_equal(prom_label_value("qemu-system-x86", buf, sizeof(buf)), "qemu-system-x86");
	assert_string_equal(prom_label_value("a\"b\\c\nd", buf, sizeof(buf)), "a\\\"b\\\\c\\nd");
	/* Valid UTF-8 stays as it is: "vmm-é€😀". */
	assert_string_equal(prom_label_value("vmm-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", buf,
					     sizeof(buf)),
			    "vmm-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Invalid bytes, a truncated sequence at the end, an overlong '/', a surrogate. */
	assert_string_equal(prom_label_value("vmm\xff\xfe\xc3", buf, sizeof(buf)),
			    "vmm\\\\xff\\\\xfe\\\\xc3");
	assert_string_equal(prom_label_value("a\xc0\xaf" "b\xed\xa0\x80", buf, sizeof(buf)),
			    "a\\\\xc0\\\\xafb\\\\xed\\\\xa0\\\\x80");
	/* Truncated to fit, never in the middle of an escape. */
	assert_string_equal(prom_label_value("\xff\xff", buf, 8), "\\\\xff");
	assert_string_equal(prom_label_value("abcdef", buf, 4), "abc");
	/* Never half a character: "a€" in 4 bytes is "a". */
	assert_string_equal(prom_label_value("a\xe2\x82\xac", buf, 4), "a");
	assert_string_equal(prom_label_value("a\xe2\x82\xac", buf, 5), "a\xe2\x82\xac");
}

/* Names in JSON: valid UTF-8 as it is, invalid bytes as \xNN, no exposition escapes. */
static void json_names(void **state)
{
	char buf[64];
	struct json_object *o = json_name("vmm\xff\"q\xc3");

	assert_string_equal(text_name("a\"b\\c", buf, sizeof(buf)), "a\"b\\c");
	assert_string_equal(text_name("vmm-\xc3\xa9\xff", buf, sizeof(buf)), "vmm-\xc3\xa9\\xff");
	assert_string_equal(json_object_get_string(o), "vmm\\xff\"q\\xc3");
	/* json-c escapes the backslash and the quote: the document is valid UTF-8 JSON. */
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE),
			    "\"vmm\\\\xff\\\"q\\\\xc3\"");
	json_object_put(o);
}

/*
 * Names on a terminal: what a process or a file chose cannot act on the terminal (C0 controls,
 * DEL and C1 controls as \xNN), printable UTF-8 as it is, invalid bytes as \xNN.
 */
static void term_names(void **state)
{
	char buf[TERM_COMM_LEN], small[6];

	assert_string_equal(term_name("qemu-system-x86", buf, sizeof(buf)), "qemu-system-x86");
	assert_string_equal(term_name("\x1b]0;root\x07\x1b[2J", buf, sizeof(buf)),
			    "\\x1b]0;root\\x07\\x1b[2J");
	assert_string_equal(term_name("a\rb\nc\td\x7f", buf, sizeof(buf)),
			    "a\\x0db\\x0ac\\x09d\\x7f");
	/* U+009B (an 8-bit CSI) and U+0085 escaped; U+00A0 and U+00E9 are printable. */
	assert_string_equal(term_name("\xc2\x9b" "1m\xc2\x85\xc2\xa0\xc3\xa9", buf, sizeof(buf)),
			    "\\xc2\\x9b" "1m\\xc2\\x85\xc2\xa0\xc3\xa9");
	assert_string_equal(term_name("v\xff", buf, sizeof(buf)), "v\\xff");
	/* A comm of sixteen controls fits. */
	assert_string_equal(term_name("\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b",
				      buf, sizeof(buf)),
			    "\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b\\x1b"
			    "\\x1b\\x1b");
	/* An escape is written whole or not at all. */
	assert_string_equal(term_name("a\x1b", small, sizeof(small)), "a\\x1b");
	assert_string_equal(term_name("ab\x1b", small, sizeof(small)), "ab");
	/* JSON keeps controls as they are: json-c escapes them. */
	assert_string_equal(text_name("a\x1b", buf, sizeof(buf)), "a\x1b");
}

static void sizes(void **state)
{
	char buf[32];

	assert_string_equal(human_size(0, buf, sizeof(buf)), "0");
	assert_string_equal(human_size(256, buf, sizeof(buf)), "256");
	assert_string_equal(human_size(4096, buf, sizeof(buf)), "4K");
	assert_string_equal(human_size(1 << 20, buf, sizeof(buf)), "1M");
	assert_string_equal(human_size(16 << 20, buf, sizeof(buf)), "16M");
	assert_string_equal(human_size(3ULL << 30, buf, sizeof(buf)), "3G");
	/* Not a whole number of the next unit: stays exact. */
	assert_string_equal(human_size(1536, buf, sizeof(buf)), "1536");
	assert_string_equal(human_size(0x1800000, buf, sizeof(buf)), "24M");
	assert_string_equal(human_size(1ULL << 60, buf, sizeof(buf)), "1E");
	assert_string_equal(human_size(1ULL << 63, buf, sizeof(buf)), "8E");
}

/* Runs the stream writer with n items into a file and parses what it wrote back. */
static struct json_object *stream_roundtrip(int n, bool pretty)
{
	char path[] = "/tmp/vfg-test-output.XXXXXX";
	int fd = mkstemp(path), saved = dup(1);
	struct json_object *head = json_object_new_object(), *doc;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, 1);
	pretty_output = pretty;
	json_object_object_add(head, "kernel", json_object_new_string("6.1.0 \"quoted\""));
	json_stream_begin(head, "mappings");
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_int(i));
		json_stream_item(o);
	}
	json_stream_end();
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	pretty_output = false;
	doc = json_object_from_file(path);
	unlink(path);
	assert_non_null(doc);
	return doc;
}

static void json_stream(void **state)
{
	for (int pretty = 0; pretty < 2; pretty++) {
		for (int n = 0; n < 4; n++) {
			struct json_object *doc = stream_roundtrip(n, pretty), *arr, *v;

			assert_true(json_object_object_get_ex(doc, "kernel", &v));
			assert_string_equal(json_object_get_string(v), "6.1.0 \"quoted\"");
			assert_true(json_object_object_get_ex(doc, "mappings", &arr));
			assert_int_equal(json_object_array_length(arr), n);
			for (int i = 0; i < n; i++) {
				assert_true(json_object_object_get_ex(
					json_object_array_get_idx(arr, i), "pid", &v));
				assert_int_equal(json_object_get_int(v), i);
			}
			json_object_put(doc);
		}
	}
}

/* The one mapping shape: every member, in order; a failed mmap's without its cache mode. */
static void mapping_shape(void **state)
{
	struct region_loc r = { .index = 2, .offset = 0x3000, .source = REGION_FROM_PFN };
	struct cache_decode c = { .mode = CACHE_X86_UC_MINUS, .index = 2 };
	struct json_object *o = json_object_new_object();

	json_mapping(o, &r, 0x7f0000000000, 0x7f0000010000, &c, 0x8000000000000037ULL);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"region\":\"BAR2\",\"region_index\":2,\"region_offset\":12288,"
			    "\"region_from\":\"pfn\",\"start\":\"0x7f0000000000\","
			    "\"end\":\"0x7f0000010000\",\"size\":65536,\"cache\":\"UC-\","
			    "\"cache_index\":2,\"pgprot\":\"0x8000000000000037\",\"guest_cache\":null}");
	json_object_put(o);
	/* arm64 with VM_ALLOW_ANY_UNCACHED: what the guest may use, next to the VMM's mode. */
	c = (struct cache_decode){ .mode = CACHE_ARM64_DEVICE_nGnRnE, .index = 3,
				   .guest = CACHE_ARM64_NORMAL_NC };
	o = json_object_new_object();
	json_mapping(o, &r, 0x1000, 0x2000, &c, 0x68000000000ccfULL);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "cache")),
			    "Device-nGnRnE");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "guest_cache")),
			    "Normal-NC");
	json_object_put(o);
	o = json_object_new_object();
	json_mapping(o, &r, 0x1000, 0x2000, NULL, 0);
	assert_null(json_object_object_get(o, "cache"));
	assert_null(json_object_object_get(o, "pgprot"));
	assert_non_null(json_object_object_get(o, "size"));
	json_object_put(o);
}

UNIT_MAIN(cmocka_unit_test(sizes), cmocka_unit_test(label_values), cmocka_unit_test(json_names),
	  cmocka_unit_test(term_names),
	  cmocka_unit_test(json_stream), cmocka_unit_test(mapping_shape))
