// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The PCI devices' uevents, through libudev loaded at run time; see serve.h. */
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../loader/host/dynlib.h"
#include "serve.h"

/*
 * libudev, for the kernel's uevents (devices appearing, drivers binding): loaded by serve only,
 * like libmicrohttpd (libudev1 is on every Debian system; the other commands never need it).
 */
#define UDEV_SONAME "libudev.so.1"
#define UDEV_FUNCTIONS(F)                                                                          \
	F(udev_new, new_) F(udev_unref, unref) F(udev_monitor_new_from_netlink, monitor_new)       \
	F(udev_monitor_filter_add_match_subsystem_devtype, match_subsystem)                        \
	F(udev_monitor_enable_receiving, enable_receiving)                                         \
	F(udev_monitor_receive_device, receive_device) F(udev_monitor_unref, monitor_unref)        \
	F(udev_device_get_action, action) F(udev_device_get_sysname, sysname)                      \
	F(udev_device_get_driver, driver) F(udev_device_unref, device_unref)
static struct {
	UDEV_FUNCTIONS(DYNLIB_SLOT)
} ud;
#define UDEV_FN(sym, field) DYNLIB_FN(sym, ud.field),

struct uevents {
	struct udev *u;
	struct udev_monitor *mon;
};

/* The kernel's uevents, not udevd's: they come first and need no udevd. */
struct uevents *uevents_open(const char **why)
{
	const struct dynlib_fn fns[] = { UDEV_FUNCTIONS(UDEV_FN) };
	static char dl_why[256];
	struct uevents *e;

	if (dynlib_load(UDEV_SONAME, fns, sizeof(fns) / sizeof(fns[0]), dl_why, sizeof(dl_why))) {
		*why = dl_why;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		*why = "out of memory";
		return NULL;
	}
	e->u = ud.new_();
	e->mon = e->u ? ud.monitor_new(e->u, "kernel") : NULL;
	if (!e->mon || ud.match_subsystem(e->mon, "pci", NULL) || ud.enable_receiving(e->mon)) {
		*why = "cannot listen to the kernel's uevents (NETLINK_KOBJECT_UEVENT)";
		uevents_close(e);
		return NULL;
	}
	return e;
}

int uevents_read(struct uevents *e, char *what, size_t len)
{
	struct udev_device *d;
	int n = 0;

	while ((d = ud.receive_device(e->mon))) {
		const char *action = ud.action(d), *drv = ud.driver(d);

		if (action && (!strcmp(action, "add") ||
			       (!strcmp(action, "bind") && drv && strstr(drv, "vfio")))) {
			if (!strcmp(action, "add"))
				snprintf(what, len, "PCI device %s appeared", ud.sysname(d));
			else
				snprintf(what, len, "PCI device %s bound to %s", ud.sysname(d), drv);
			n++;
		}
		ud.device_unref(d);
	}
	return n;
}

void uevents_close(struct uevents *e)
{
	if (!e)
		return;
	if (e->mon)
		ud.monitor_unref(e->mon);
	if (e->u)
		ud.unref(e->u);
	free(e);
}
