// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which watched executable was replaced; see exe_watch.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "exe_watch.h"

int exe_watch_open(struct exe_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

int exe_watch_add(struct exe_watch *w, const char *path)
{
	char dir[PATH_MAX], *slash;
	struct exe_watched *grown;
	int wd;

	if (w->fd < 0)
		return -EBADF;
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (!(slash = strrchr(dir, '/')))
		return -EINVAL;
	*slash = 0;
	/* A directory watched twice gets the same wd: one entry per path is enough. */
	wd = inotify_add_watch(w->fd, dir[0] ? dir : "/", IN_MOVED_TO | IN_CREATE | IN_ONLYDIR);
	if (wd < 0)
		return -errno;
	grown = realloc(w->v, (w->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	w->v = grown;
	w->v[w->n].path = strdup(path);
	if (!w->v[w->n].path)
		return -ENOMEM;
	w->v[w->n++].wd = wd;
	return 0;
}

void exe_watch_clear(struct exe_watch *w)
{
	for (size_t i = 0; i < w->n; i++) {
		inotify_rm_watch(w->fd, w->v[i].wd);
		free(w->v[i].path);
	}
	w->n = 0;
}

const char *exe_watch_replaced(struct exe_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *found = NULL;
	ssize_t n;

	if (w->fd < 0 || !w->n)
		return NULL;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)q;

			/* Events were lost: any of the files may have been replaced. */
			if ((e->mask & IN_Q_OVERFLOW) && !found)
				found = w->v[0].path;
			for (size_t i = 0; i < w->n && !found && e->len; i++) {
				const char *base = strrchr(w->v[i].path, '/') + 1;

				if (w->v[i].wd == e->wd && !strcmp(base, e->name))
					found = w->v[i].path;
			}
			q += sizeof(*e) + e->len;
		}
	}
	return found;
}

void exe_watch_close(struct exe_watch *w)
{
	exe_watch_clear(w);
	free(w->v);
	if (w->fd >= 0)
		close(w->fd);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}
