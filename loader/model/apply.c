// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Applying and clearing a policy; see apply.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../decode/region.h"
#include "../host/kernel.h"
#include "../probes/enforce.h"
#include "apply.h"
#include "facts.h"

/* Writes a file next to its final name; rename_into() makes it visible in one step. */
static int write_tmp(const char *final, const char *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", final);
	/* Its mode whatever the caller's umask: what is published is read by VMMs and users. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) || write(fd, data, len) != (ssize_t)len || fsync(fd))
		err = errno ? -errno : -EIO;
	close(fd);
	if (err)
		unlink(tmp);
	return err;
}

static int rename_into(const char *final)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s.tmp", final);
	return rename(tmp, final) ? -errno : 0;
}

static void drop_tmp(const char *final)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s.tmp", final);
	unlink(tmp);
}

/* Which of BAR0..BAR5 and the ROM the device has, from its sysfs resources. */
static uint64_t present_regions(const char *dev)
{
	struct pci_resource res[PCI_RESOURCES];
	uint64_t set = 1ULL << REGION_CONFIG; /* always there */

	if (pci_resources_read(dev, res))
		return set;
	for (int i = 0; i < PCI_RESOURCES; i++)
		if (res[i].end > res[i].start)
			set |= 1ULL << i;
	return set;
}

/*
 * Applies and clears one at a time, whoever runs them: each takes a lock on RUN_DIR (flock),
 * waiting for the one in progress, so that the generation, the pinned verdicts and the published
 * files always come from one apply. Returns the lock's descriptor (closing it releases the lock)
 * or a negative errno with why.
 */
static int run_lock(const struct apply_hooks *hooks, char *why, size_t len)
{
	int fd, err;

	if ((mkdir(RUN_DIR, 0755) && errno != EEXIST) || chmod(RUN_DIR, 0755)) {
		err = -errno;
		snprintf(why, len, "cannot create %s: %s", RUN_DIR, strerror(-err));
		return err;
	}
	/* The directory itself: an apply refused leaves nothing in it. */
	fd = open(RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
		snprintf(why, len, "cannot open %s: %s", RUN_DIR, strerror(-err));
		return err;
	}
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	if (errno == EWOULDBLOCK) {
		if (hooks && hooks->waiting)
			hooks->waiting(hooks->ctx);
		/* A signal (serve's SIGHUP while it starts) does not end the wait. */
		while ((err = flock(fd, LOCK_EX)) && errno == EINTR)
			;
		if (!err)
			return fd;
	}
	err = -errno;
	snprintf(why, len, "cannot lock %s: %s", RUN_DIR, strerror(-err));
	close(fd);
	return err;
}

/* Writes state and regions next to their names, then renames the three into place. */
static int publish(const struct run_state *st, const struct run_regions *rr)
{
	struct json_object *o = run_state_json(st);
	char *regions = run_regions_format(rr);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	int err = regions ? 0 : -ENOMEM;

	if (!err)
		err = write_tmp(RUN_STATE, s, strlen(s), 0644);
	if (!err)
		err = write_tmp(RUN_REGIONS, regions, strlen(regions), 0644);
	if (!err)
		err = rename_into(RUN_POLICY);
	if (!err)
		err = rename_into(RUN_STATE);
	if (!err)
		err = rename_into(RUN_REGIONS);
	json_object_put(o);
	free(regions);
	return err;
}

static int apply_locked(const char *file, const char *text_from, const struct apply_hooks *hooks,
			struct apply_report *rep)
{
	struct run_state *st = &rep->state;
	struct device_facts *devs = NULL;
	struct run_regions rr = {};
	struct compiled c = {};
	struct kernel_info ki;
	struct policy p = {};
	const char *step = NULL;
	char *text = NULL;
	size_t len = 0, ndevs = 0;
	struct enforce_applied applied;
	time_t now;
	struct tm tm;
	int err;

	/* One read: what is parsed is what is hashed and published. */
	err = policy_read_file(text_from, &text, &len);
	if (err) {
		snprintf(rep->why, sizeof(rep->why), "cannot read %s: %s", text_from, strerror(-err));
		return err;
	}
	err = policy_parse(text ? text : "", len, &p, &rep->diags);
	if (err) {
		snprintf(rep->why, sizeof(rep->why), "%s has errors; nothing was applied", file);
		free(text);
		return err;
	}
	if (!realpath(file, st->file))
		snprintf(st->file, sizeof(st->file), "%s", file);
	st->crc32 = crc32(0, (const unsigned char *)text, len);
	err = kernel_info_read(&ki);
	if (!err)
		err = device_facts_read(&devs, &ndevs, &step);
	else
		step = "read the kernel release";
	if (err) {
		snprintf(rep->why, sizeof(rep->why), "cannot %s: %s; nothing was applied", step,
			 strerror(-err));
		goto out;
	}
	err = policy_compile(&p, ki.arch, devs, ndevs, &host_resolver, &c, &rep->diags);
	if (err) {
		snprintf(rep->why, sizeof(rep->why),
			 "%s cannot be enforced as written; nothing was applied", file);
		goto out;
	}
	/* Everything that will be published is written first; renamed only once in force. */
	err = write_tmp(RUN_POLICY, text ? text : "", len, 0600);
	if (err) {
		snprintf(rep->why, sizeof(rep->why), "cannot write %s: %s; nothing was applied",
			 RUN_POLICY, strerror(-err));
		goto out;
	}
	err = enforce_apply(c.v, c.n, &applied, &step);
	if (err) {
		drop_tmp(RUN_POLICY);
		snprintf(rep->why, sizeof(rep->why),
			 "cannot %s: %s; the previous policy (if any) is still in force", step,
			 kernel_strerror(err));
		goto out;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(st->applied, sizeof(st->applied), "%Y-%m-%dT%H:%M:%SZ", &tm);
	st->generation = applied.generation;
	st->took_over = applied.took_over;
	rep->previous_build = applied.previous_build;
	st->mode = p.mode;
	st->default_access = p.default_access;
	st->rules = p.nrules;
	st->verdicts = c.n;
	rep->ndevices = ndevs;
	err = run_regions_build(&rr, &p, &c, devs, ndevs, present_regions, ki.arch,
				st->generation, st->file, st->crc32);
	if (!err)
		err = publish(st, &rr);
	if (err) {
		snprintf(rep->why, sizeof(rep->why),
			 "the policy is in force (generation %" PRIu64 ") but %s could not be "
			 "updated: %s", st->generation, RUN_DIR, strerror(-err));
		goto out;
	}
	/* Still under the lock: what the hook reads (generation, published files) is this apply's. */
	if (hooks && hooks->applied)
		hooks->applied(&p, st, hooks->ctx);
out:
	run_regions_free(&rr);
	compiled_free(&c);
	policy_free(&p);
	free(devs);
	free(text);
	return err;
}

int policy_apply(const char *file, const char *text_from, const struct apply_hooks *hooks,
		 struct apply_report *report)
{
	int lock, err;

	memset(report, 0, sizeof(*report));
	lock = run_lock(hooks, report->why, sizeof(report->why));
	if (lock < 0)
		return lock;
	err = apply_locked(file, text_from, hooks, report);
	close(lock);
	return err;
}

void apply_report_free(struct apply_report *report)
{
	policy_diags_free(&report->diags);
}

int policy_clear(const struct apply_hooks *hooks, char *why, size_t len)
{
	const char *step = NULL;
	int err, lock;

	lock = run_lock(hooks, why, len);
	if (lock < 0)
		return lock == -ENOENT ? -EIO : lock; /* -ENOENT says nothing was in force */
	err = enforce_clear(&step);
	if (err && err != -ENOENT)
		snprintf(why, len, "cannot %s: %s", step, strerror(-err));
	if (!err) {
		unlink(RUN_POLICY);
		unlink(RUN_STATE);
		unlink(RUN_REGIONS);
	}
	close(lock);
	return err;
}
