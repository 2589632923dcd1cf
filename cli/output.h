/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Output shared by every command: text or JSON, errors printed once at the edge. */
#ifndef VFIOGUARD_OUTPUT_H
#define VFIOGUARD_OUTPUT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "../loader/decode/cache_mode.h"
#include "../loader/decode/region.h"

/* DESIGN.md, "Outputs" */
#define EXIT_CLEAN 0
#define EXIT_VIOLATIONS 1
#define EXIT_ERROR 2

extern bool json_output;
extern bool pretty_output;
extern int verbose;

/* An error: "vfioguard: ..." on stderr, or {"error": "..."} on stdout with --json. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning on stderr (never mixed into JSON on stdout). */
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A long-running command's log: one line per message on stderr with the syslog priority
 * journald reads (JOURNAL_INFO: "<6>").
 */
void log_line(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define JOURNAL_ERR "<3>"
#define JOURNAL_WARNING "<4>"
#define JOURNAL_NOTICE "<5>"
#define JOURNAL_INFO "<6>"
/* Prints a JSON document on stdout and releases it. */
void json_emit(struct json_object *doc);
/*
 * Adds a member under a string-literal key that the object does not have yet: no lookup and no
 * copy of the key, which matters for documents with one object per mapping.
 */
#define json_add(obj, key, val)                                                                  \
	json_object_object_add_ex(obj, key, val,                                                  \
				  JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT)
/*
 * Streams HEAD's members followed by "ARRAY_KEY": [items...] as one document (-p: indented).
 * Takes ownership of HEAD and of each item.
 */
void json_stream_begin(struct json_object *head, const char *array_key);
void json_stream_item(struct json_object *item);
void json_stream_end(void);
/* "0x..." for 64-bit values JSON numbers cannot carry exactly. */
struct json_object *json_hex(uint64_t v);
/* An offset into a region: null in a region that is not known. */
struct json_object *json_region_offset(const struct region_loc *region, uint64_t offset);
/* 4096 -> "4K", 16777216 -> "16M"; exact value when not a whole multiple. */
const char *human_size(uint64_t v, char *buf, size_t len);

/* The long forms of the flags every command takes, for its getopt table. */
#define COMMON_LONG_OPTIONS                                                                        \
	{ "json", no_argument, NULL, 'j' }, { "pretty", no_argument, NULL, 'p' },                \
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }

/* A command's options, read by next_option. */
struct cmd_options {
	const char *cmd;	    /* the command as its messages start: "policy explain" */
	const char *usage;
	const char *shortopts;	    /* getopt's: those of -j -p -v -h the command takes */
	const struct option *longopts;
	bool operands;		    /* it takes operands: they start at optind after the options */
	int rc;			    /* the command's exit code once next_option returned -1 */
	bool started;
};
/*
 * The command's next option of its own (getopt_long's character, with optarg), the flags every
 * command takes (-j, -p, -v, -h) taken here; 0 after the last option, once a command that takes
 * no operands is checked to have none; -1 when the command is to return o->rc: EXIT_CLEAN after
 * --help (the usage on stdout), EXIT_ERROR after what getopt refused (the usage on stderr) or an
 * operand the command does not take (named).
 */
int next_option(struct cmd_options *o, int argc, char **argv);
/*
 * For a command that takes no operands: argv[first] onwards must be empty. EXIT_ERROR after
 * naming the first one (cmd: the command, as its messages start), or 0.
 */
int no_operands(const char *cmd, int argc, char **argv, int first);

/* A non-negative decimal or 0x number, all of s: false for anything else. */
bool parse_u64(const char *s, unsigned long long *v);

/* "read,write,shared,io,pfnmap": the VMA flags that matter for device mappings. */
const char *vm_flags_text(uint64_t flags, char *buf, size_t len);
struct json_object *vm_flags_json(uint64_t flags);
/*
 * The one JSON shape of a mapping, after its process and device: region (name, index, offset
 * of the mapping's start in it, "pfn" or "offset": which form of vm_pgoff gave it), range
 * (start, end, size) and cache mode (name, PAT entry or MAIR index, the raw pgprot; left out
 * when cache is NULL: a failed mmap has none).
 */
void json_mapping(struct json_object *o, const struct region_loc *region, uint64_t start,
		  uint64_t end, const struct cache_decode *cache, uint64_t pgprot);

/*
 * A Prometheus label value: valid UTF-8 whatever s holds (a process names itself with any bytes;
 * one invalid byte makes Prometheus reject the whole scrape), each invalid byte written as the
 * four characters \xNN, then escaped for the exposition format (\\, \", \n). Truncated to fit.
 */
const char *prom_label_value(const char *s, char *buf, size_t len);

/* The same without the exposition's escapes: a name any text output can carry (JSON, ...). */
const char *text_name(const char *s, char *buf, size_t len);
/*
 * The same for a terminal: control characters (C0, DEL, C1) as \xNN too, so that a name a
 * process or a file chose (comm, a symbol) cannot move the cursor, recolour or retitle the
 * terminal of whoever reads the output.
 */
const char *term_name(const char *s, char *buf, size_t len);
/* Room for a comm (16 bytes) in term_name, each byte as \xNN at worst. */
#define TERM_COMM_LEN (4 * 16 + 1)
/* A JSON string of a name a process chose (comm): valid UTF-8, invalid bytes as \xNN. */
struct json_object *json_name(const char *s);
struct vfg_task;
/* Who, in every line about a task: pid (the process), tid, start_time (clock ticks), comm. */
void json_task(struct json_object *o, const struct vfg_task *t);

#endif /* VFIOGUARD_OUTPUT_H */
