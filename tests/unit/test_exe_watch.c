// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which watched executable was replaced, with real files in a temporary directory. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "../../loader/host/exe_watch.h"

static void touch(const char *dir, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void rename_over(const char *dir, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	assert_int_equal(rename(a, b), 0);
}

static void replaced_files_are_named(void **state)
{
	char dir[] = "/tmp/vfg-exe-XXXXXX", qemu[PATH_MAX], other[PATH_MAX];
	struct exe_watch w;

	assert_non_null(mkdtemp(dir));
	snprintf(qemu, sizeof(qemu), "%s/qemu", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	touch(dir, "qemu");
	assert_int_equal(exe_watch_open(&w), 0);
	assert_null(exe_watch_replaced(&w)); /* nothing watched */
	assert_int_equal(exe_watch_add(&w, qemu), 0);
	assert_int_equal(exe_watch_add(&w, "qemu"), -EINVAL); /* not a path */
	assert_null(exe_watch_replaced(&w));
	/* Another file of the directory: not one of ours. */
	touch(dir, "other");
	assert_null(exe_watch_replaced(&w));
	/* A package upgrade: a new file renamed over the watched one. */
	touch(dir, "qemu.new");
	rename_over(dir, "qemu.new", "qemu");
	assert_string_equal(exe_watch_replaced(&w), qemu);
	assert_null(exe_watch_replaced(&w)); /* said once */
	/* Cleared, then another file of the same directory watched: only that one is named. */
	exe_watch_clear(&w);
	assert_int_equal(exe_watch_add(&w, other), 0);
	touch(dir, "qemu.new");
	rename_over(dir, "qemu.new", "qemu");
	assert_null(exe_watch_replaced(&w));
	exe_watch_close(&w);
	assert_int_equal(w.fd, -1);
	unlink(qemu);
	unlink(other);
	rmdir(dir);
	(void)state;
}

UNIT_MAIN(cmocka_unit_test(replaced_files_are_named))
