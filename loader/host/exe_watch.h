/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which of a set of executables was replaced (a package upgrade renames a new file over the old
 * one): inotify on their directories. A policy's exe rules match a file by device and inode, so
 * a replaced file needs the policy resolved again.
 */
#ifndef VFIOGUARD_EXE_WATCH_H
#define VFIOGUARD_EXE_WATCH_H

#include <stddef.h>

struct exe_watch {
	int fd; /* inotify, -1 without */
	struct exe_watched {
		int wd;
		char *path;
	} *v;
	size_t n;
};

/* 0, or a negative errno (then every call below does nothing). */
int exe_watch_open(struct exe_watch *w);
/*
 * Watches path's directory from now on (the paths watched before stay). 0, or a negative errno
 * (a path with no directory: -EINVAL).
 */
int exe_watch_add(struct exe_watch *w, const char *path);
/* Watches nothing any more. */
void exe_watch_clear(struct exe_watch *w);
/*
 * Reads what the watch has seen: the path of a watched executable that was replaced (valid
 * until the next call that changes the set), or NULL. When events were lost, any of them may
 * have been: the first is named.
 */
const char *exe_watch_replaced(struct exe_watch *w);
void exe_watch_close(struct exe_watch *w);

#endif /* VFIOGUARD_EXE_WATCH_H */
