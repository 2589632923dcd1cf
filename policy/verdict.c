// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The verdict of a policy for a process's region; see verdict.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "hazards.h"
#include "verdict.h"

/* What a verdict depends on: a process renamed, or a region mapped with another mode, may get
 * another one. */
struct verdict_key {
	uint32_t pid, region, cache, pad;
	char device[VFG_DEVICE_LEN];
	char comm[VFG_COMM_LEN];
};

struct verdict_entry {
	struct verdict_key key; /* zero-filled past the names: hashed as bytes */
	struct verdict v;
	UT_hash_handle hh;
};

void verdicts_init(struct verdicts *vs, enum host_arch arch, const struct resolver *res,
		   const char *policy_path)
{
	memset(vs, 0, sizeof(*vs));
	vs->arch = arch;
	vs->res = res;
	vs->policy_path = policy_path;
}

static void decide(struct verdicts *vs, struct verdict *m, const char *comm, enum cache_mode cache)
{
	struct policy_subject s = { .vendor = -1, .device_id = -1, .subsystem_vendor = -1,
				    .subsystem_device = -1 };
	char exe[PATH_MAX] = "", cgroup[PATH_MAX] = "";
	struct device_facts dev = { .vendor = -1, .device_id = -1, .subsystem_vendor = -1,
				    .subsystem_device = -1 };
	const struct rule *r;
	int rule;

	if (vs->res && vs->res->device)
		vs->res->device(m->device, &dev);
	m->access = ACCESS_DIRECT;
	m->semantics = region_semantics_default(dev.driver, m->region);
	m->forbidden = hazard_violations(vs->arch, cache, ACCESS_DIRECT, m->semantics);
	if (!vs->have) {
		snprintf(m->rule, sizeof(m->rule), "no policy in force");
		return;
	}
	if (vs->res && vs->res->process)
		vs->res->process(m->pid, exe, sizeof(exe), cgroup, sizeof(cgroup));
	s.device = m->device;
	s.driver = dev.driver[0] ? dev.driver : NULL;
	s.vendor = dev.vendor;
	s.device_id = dev.device_id;
	s.subsystem_vendor = dev.subsystem_vendor;
	s.subsystem_device = dev.subsystem_device;
	s.comm = comm;
	s.exe = exe[0] ? exe : NULL;
	s.cgroup = cgroup[0] ? cgroup : NULL;
	s.region = m->region;
	s.cache = cache;
	s.arch = vs->arch;
	rule = policy_match(&vs->policy, &s);
	r = rule >= 0 ? &vs->policy.rules[rule] : NULL;
	if (!r) {
		m->access = vs->policy.default_access;
		snprintf(m->rule, sizeof(m->rule), "default");
	} else {
		m->access = r->access;
		if (r->name)
			snprintf(m->rule, sizeof(m->rule), "'%s'", r->name);
		else
			snprintf(m->rule, sizeof(m->rule), "#%d", rule);
	}
	m->semantics = region_semantics_of(r, dev.driver, m->region);
	m->forbidden = rule_violations(r, vs->arch, cache, m->access, m->semantics);
}

const struct verdict *verdict_of(struct verdicts *vs, uint32_t pid, const char *comm,
				 const char *device, unsigned int region, enum cache_mode cache)
{
	struct verdict_key key;
	struct verdict_entry *e;

	if (!vs->tried) {
		struct policy_diags d = {};

		vs->tried = true;
		vs->have = vs->policy_path && !policy_parse_file(vs->policy_path, &vs->policy, &d);
		policy_diags_free(&d);
		for (size_t i = 0; vs->have && i < vs->policy.nrules; i++)
			vs->by_comm |= vs->policy.rules[i].match.comm != NULL;
	}
	memset(&key, 0, sizeof(key));
	key.pid = pid;
	key.region = region;
	key.cache = cache;
	snprintf(key.device, sizeof(key.device), "%s", device);
	/* A thread's name, which a process sets at will: a key only where a rule matches it. */
	if (vs->by_comm)
		snprintf(key.comm, sizeof(key.comm), "%s", comm ? comm : "");
	HASH_FIND(hh, vs->memo, &key, sizeof(key), e);
	if (e)
		return &e->v;
	/* One allocation per verdict: callers keep the pointers while they ask for more. */
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = key;
	e->v.pid = pid;
	memcpy(e->v.device, key.device, sizeof(e->v.device));
	e->v.region = region;
	decide(vs, &e->v, comm, cache);
	HASH_ADD(hh, vs->memo, key, sizeof(key), e);
	if (!e->hh.tbl) { /* the table could not grow */
		free(e);
		return NULL;
	}
	return &e->v;
}

struct copy_judgement verdict_judge_copy(const struct verdict *v, uint32_t hazards,
					 bool measured)
{
	struct copy_judgement j = {
		.bad = v ? hazards & v->forbidden : 0,
		.trap = v && v->access == ACCESS_TRAP,
	};

	j.violation = j.trap || j.bad;
	j.report = j.violation || !measured;
	return j;
}

static bool not_pid(uint32_t pid, void *ctx)
{
	return pid != *(const uint32_t *)ctx;
}

void verdicts_forget_exited(struct verdicts *vs, bool (*alive)(uint32_t pid, void *ctx),
			    void *ctx)
{
	struct verdict_entry *e, *next;

	HASH_ITER(hh, vs->memo, e, next)
		if (!alive(e->v.pid, ctx)) {
			HASH_DEL(vs->memo, e);
			free(e);
		}
}

void verdicts_forget_pid(struct verdicts *vs, uint32_t pid)
{
	verdicts_forget_exited(vs, not_pid, &pid);
}

void verdicts_reset(struct verdicts *vs)
{
	enum host_arch arch = vs->arch;
	const struct resolver *res = vs->res;
	const char *path = vs->policy_path;

	verdicts_free(vs);
	verdicts_init(vs, arch, res, path);
}

void verdicts_free(struct verdicts *vs)
{
	struct verdict_entry *e, *next;

	policy_free(&vs->policy);
	HASH_ITER(hh, vs->memo, e, next) {
		HASH_DEL(vs->memo, e);
		free(e);
	}
	memset(vs, 0, sizeof(*vs));
}

size_t verdicts_count(const struct verdicts *vs)
{
	return HASH_COUNT(vs->memo);
}
