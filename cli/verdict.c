// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The verdict of the policy in force for a process's region; see verdict.h. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verdict.h"
#include "../loader/enforce.h"
#include "../policy/compile.h"
#include "../policy/hazards.h"

#define POLICY_IN_FORCE "/run/vfioguard/policy.yaml"

const struct verdict *verdict_of(struct verdicts *vs, enum host_arch arch, uint32_t pid,
				 const char *comm, const char *device, unsigned int region,
				 enum cache_mode cache)
{
	struct policy_subject s = { .vendor = -1, .device_id = -1, .subsystem_vendor = -1,
				    .subsystem_device = -1 };
	struct verdict *m, **grown;
	struct device_facts dev;
	char exe[PATH_MAX] = "", link[64], line[PATH_MAX], cgroup[PATH_MAX] = "";
	FILE *cg;
	ssize_t n;
	int rule;

	for (size_t i = 0; i < vs->n; i++)
		if (vs->memo[i]->pid == pid && vs->memo[i]->region == region &&
		    !strcmp(vs->memo[i]->device, device))
			return vs->memo[i];
	/* One allocation per verdict: callers keep the pointers while they ask for more. */
	grown = realloc(vs->memo, (vs->n + 1) * sizeof(*vs->memo));
	if (!grown)
		return NULL;
	vs->memo = grown;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	vs->memo[vs->n++] = m;
	m->pid = pid;
	snprintf(m->device, sizeof(m->device), "%s", device);
	m->region = region;
	m->access = ACCESS_DIRECT;
	m->forbidden = hazard_violations(arch, cache, ACCESS_DIRECT);
	if (!vs->tried) {
		struct policy_diags d = {};

		vs->tried = true;
		vs->have = !access(POLICY_IN_FORCE, R_OK) &&
			   !policy_parse_file(POLICY_IN_FORCE, &vs->policy, &d);
		policy_diags_free(&d);
	}
	if (!vs->have) {
		snprintf(m->rule, sizeof(m->rule), "no policy in force");
		return m;
	}
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	/* The cgroup v2 path, as the policy's cgroup: matcher spells it ("0::/machine.slice/..."). */
	snprintf(link, sizeof(link), "/proc/%u/cgroup", pid);
	cg = fopen(link, "re");
	while (cg && fgets(line, sizeof(line), cg))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(cgroup, sizeof(cgroup), "%s", line + 3);
		}
	if (cg)
		fclose(cg);
	pci_device_facts(device, &dev);
	s.device = device;
	s.driver = dev.driver[0] ? dev.driver : NULL;
	s.vendor = dev.vendor;
	s.device_id = dev.device_id;
	s.subsystem_vendor = dev.subsystem_vendor;
	s.subsystem_device = dev.subsystem_device;
	s.comm = comm;
	s.exe = exe[0] ? exe : NULL;
	s.cgroup = cgroup[0] ? cgroup : NULL;
	s.region = region;
	s.cache = cache;
	s.arch = arch;
	rule = policy_match(&vs->policy, &s);
	if (rule < 0) {
		m->access = vs->policy.default_access;
		snprintf(m->rule, sizeof(m->rule), "default");
	} else {
		const struct rule *r = &vs->policy.rules[rule];

		m->access = r->access;
		if (r->name)
			snprintf(m->rule, sizeof(m->rule), "'%s'", r->name);
		else
			snprintf(m->rule, sizeof(m->rule), "#%d", rule);
	}
	m->forbidden = rule >= 0 && vs->policy.rules[rule].has_hazards
			       ? vs->policy.rules[rule].hazards
			       : hazard_violations(arch, cache, m->access);
	return m;
}

static bool not_pid(uint32_t pid, void *ctx)
{
	return pid != *(const uint32_t *)ctx;
}

void verdicts_forget_exited(struct verdicts *vs, bool (*alive)(uint32_t pid, void *ctx),
			    void *ctx)
{
	size_t k = 0;

	for (size_t i = 0; i < vs->n; i++) {
		if (alive(vs->memo[i]->pid, ctx))
			vs->memo[k++] = vs->memo[i];
		else
			free(vs->memo[i]);
	}
	vs->n = k;
}

void verdicts_forget_pid(struct verdicts *vs, uint32_t pid)
{
	verdicts_forget_exited(vs, not_pid, &pid);
}

void verdicts_free(struct verdicts *vs)
{
	policy_free(&vs->policy);
	for (size_t i = 0; i < vs->n; i++)
		free(vs->memo[i]);
	free(vs->memo);
	memset(vs, 0, sizeof(*vs));
}
