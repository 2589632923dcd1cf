/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The host's facts a policy is compiled and judged from: its PCI devices (IDs, driver, the cache
 * modes their regions are mapped with now), executables, cgroups and processes.
 */
#ifndef VFIOGUARD_FACTS_H
#define VFIOGUARD_FACTS_H

#include <stddef.h>

#include "../../policy/compile.h"

/* One PCI device's IDs and bound driver from sysfs (-1 and "" for what cannot be read). */
void pci_device_facts(const char *dev, struct device_facts *f);
/* Every PCI device of the host, with the cache modes its regions are mapped with right now. */
int device_facts_read(struct device_facts **devs, size_t *n, const char **step);

/* The host's executables, cgroups, processes and devices, for policy_compile() and verdicts. */
extern const struct resolver host_resolver;

#endif /* VFIOGUARD_FACTS_H */
