// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The model of the host's VFIO regions under every view; see model.h. */
#define _GNU_SOURCE /* tdestroy */
#include <errno.h>
#include <search.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "../probes/monitor.h"
#include "../probes/snapshot.h"

static int mapping_cmp(const void *a, const void *b)
{
	const struct model_mapping *x = a, *y = b;

	if (x->mm != y->mm)
		return x->mm < y->mm ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

void model_init(struct model *md, unsigned int page_shift)
{
	memset(md, 0, sizeof(*md));
	md->page_shift = page_shift;
}

/* The tree only points at mappings that md->all owns. */
static void keep_node(void *node)
{
}

void model_free(struct model *md)
{
	struct model_fault_total *f, *next;

	tdestroy(md->active, keep_node);
	for (size_t i = 0; i < md->nall; i++)
		free(md->all[i]);
	free(md->all);
	free(md->acc);
	free(md->copies);
	free(md->dma);
	free(md->holders);
	HASH_ITER(hh, md->fault_totals, f, next) {
		HASH_DEL(md->fault_totals, f);
		free(f);
	}
	memset(md, 0, sizeof(*md));
}

/* Appends a zeroed row to *rows, which holds *n rows of size bytes: the new row, or NULL. */
static void *row_append(void **rows, size_t *n, size_t size)
{
	char *grown = realloc(*rows, (*n + 1) * size);

	if (!grown)
		return NULL;
	*rows = grown;
	memset(grown + *n * size, 0, size);
	return grown + (*n)++ * size;
}

static struct model_mapping *track(struct model *md, const struct model_mapping *t)
{
	struct model_mapping *n = malloc(sizeof(*n)), **slot, **row;

	if (!n)
		return NULL;
	*n = *t;
	row = row_append((void **)&md->all, &md->nall, sizeof(*md->all));
	if (!row) {
		free(n);
		return NULL;
	}
	*row = n;
	/* A new mapping at the address of one whose end was missed replaces it. */
	slot = tsearch(n, &md->active, mapping_cmp);
	if (slot && *slot != n)
		*slot = n;
	return n;
}

struct model_mapping *model_find(struct model *md, uint64_t mm, uint64_t start)
{
	struct model_mapping key = { .mm = mm, .start = start }, **slot;

	slot = tfind(&key, &md->active, mapping_cmp);
	return slot ? *slot : NULL;
}

void model_mapping_from_event(struct model_mapping *t, const struct monitor_event *ev)
{
	memset(t, 0, sizeof(*t));
	t->mm = ev->raw.vma.mm;
	t->start = ev->raw.vma.start;
	t->end = ev->raw.vma.end;
	t->task = ev->raw.task;
	memcpy(t->device, ev->raw.device, sizeof(t->device));
	t->region = ev->region;
	t->pgprot = ev->raw.vma.pgprot;
	t->cache = ev->cache;
}

struct model_mapping *model_mmap(struct model *md, const struct monitor_event *ev)
{
	struct model_mapping t;

	model_mapping_from_event(&t, ev);
	return track(md, &t);
}

struct model_mapping *model_existing(struct model *md, const struct mapping *m)
{
	struct model_mapping t = {};

	/* Seen through the probes already (mapped while monitoring started): keep that one. */
	if (model_find(md, m->vma.mm, m->vma.start))
		return NULL;
	t.mm = m->vma.mm;
	t.start = m->vma.start;
	t.end = m->vma.end;
	t.task = m->task;
	memcpy(t.device, m->device, sizeof(t.device));
	t.region = m->region;
	t.pgprot = m->vma.pgprot;
	t.cache = m->cache;
	t.existing = true;
	return track(md, &t);
}

struct model_mapping *model_fault(struct model *md, const struct monitor_event *ev)
{
	const struct vfg_event *r = &ev->raw;
	struct model_mapping *t = model_find(md, r->vma.mm, r->vma.start), fresh;
	struct pci_resource res[PCI_RESOURCES];
	bool have;

	if (t)
		return t;
	/* Mapped before the probes could see it and not in the snapshot: learn it now. */
	have = r->device[0] && !pci_resources_read(r->device, res);
	model_mapping_from_event(&fresh, ev);
	fresh.region = region_of_vma(r->vma.pgoff, md->page_shift,
				     r->vma.flags & VFG_VMA_DRIVER_MAPPED, have ? res : NULL,
				     PCI_RESOURCES);
	return track(md, &fresh);
}

/* The kernel's fault counts of a mapping (at its unmap, or so far if still mapped). */
static void set_faults(struct model_mapping *t, const struct vfg_fault_stat *f)
{
	for (int b = 0; b < VFG_FAULT_BUCKETS; b++)
		t->faults[b] = f->faults[b];
	t->fault_errors = f->errors;
	t->fallbacks = f->fallbacks;
}

struct model_mapping *model_unmap(struct model *md, const struct monitor_event *ev)
{
	/* Only mappings that are known: a failed mmap's VMA is freed too, and never was one. */
	struct model_mapping *t = model_find(md, ev->raw.vma.mm, ev->raw.vma.start);

	if (!t)
		return NULL;
	t->unmapped = true;
	set_faults(t, &ev->raw.faults);
	tdelete(t, &md->active, mapping_cmp);
	return t;
}

/* The fault total of (device, region), made at 0 the first time; NULL out of memory. */
static struct model_fault_total *fault_total_of(struct model *md, const char *device,
						unsigned int region)
{
	struct model_fault_total k, *f;

	memset(&k, 0, offsetof(struct model_fault_total, faults));
	snprintf(k.device, sizeof(k.device), "%s", device);
	k.region = region;
	HASH_FIND(hh, md->fault_totals, &k, offsetof(struct model_fault_total, faults), f);
	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	memcpy(f, &k, offsetof(struct model_fault_total, faults));
	HASH_ADD(hh, md->fault_totals, device, offsetof(struct model_fault_total, faults), f);
	if (!f->hh.tbl) { /* the table could not grow */
		free(f);
		return NULL;
	}
	return f;
}

void model_forget_unmapped(struct model *md,
			   void (*fn)(const struct model_mapping *t, void *ctx), void *ctx)
{
	size_t k = 0;

	for (size_t i = 0; i < md->nall; i++) {
		struct model_fault_total *f;

		if (!md->all[i]->unmapped) {
			md->all[k++] = md->all[i];
			continue;
		}
		if (fn)
			fn(md->all[i], ctx);
		f = fault_total_of(md, md->all[i]->device, md->all[i]->region.index);
		for (int b = 0; f && b < 4; b++)
			f->faults[b] += md->all[i]->faults[b];
		free(md->all[i]);
	}
	md->nall = k;
}

int model_faults_by_region(struct model *md,
			   void (*fn)(const char *device, unsigned int region,
				      const uint64_t faults[4], void *ctx),
			   void *ctx)
{
	/* Every region mapped now has its row, kept when its mappings are forgotten. */
	for (size_t i = 0; i < md->nall; i++)
		if (!fault_total_of(md, md->all[i]->device, md->all[i]->region.index))
			return -ENOMEM;
	for (struct model_fault_total *f = md->fault_totals; f; f = f->hh.next) {
		uint64_t n[4];

		memcpy(n, f->faults, sizeof(n));
		for (size_t j = 0; j < md->nall; j++) {
			const struct model_mapping *m = md->all[j];

			if (m->region.index == f->region && !strcmp(m->device, f->device))
				for (int p = 0; p < 4; p++)
					n[p] += m->faults[p];
		}
		fn(f->device, f->region, n, ctx);
	}
	return 0;
}

unsigned int model_size_bucket(uint64_t n)
{
	return n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : n == 8 ? 3 : 4;
}

unsigned int model_order_bucket(unsigned int order, unsigned int page_shift)
{
	/* A page table has 2^(page_shift - 3) entries: PMD order 9 with 4 KiB pages, 11 with 16. */
	unsigned int pmd = page_shift - 3;

	return order == 0 ? 0 : order == pmd ? 1 : order == 2 * pmd ? 2 : 3;
}

static struct model_access *access_of(struct model *md, uint32_t pid, unsigned int region,
				      const char *comm, const char *device)
{
	struct model_access *a;
	size_t exited;

again:
	exited = 0;
	for (size_t i = 0; i < md->nacc; i++) {
		exited += !md->acc[i].pid;
		/* Rows of exited processes (pid 0) are one per name. */
		if (md->acc[i].pid == pid && md->acc[i].region == region &&
		    !strcmp(md->acc[i].device, device) && (pid || !strcmp(md->acc[i].comm, comm)))
			return &md->acc[i];
	}
	if (!pid && exited >= MODEL_EXITED_ROWS && strcmp(comm, MODEL_OTHER_NAME)) {
		comm = MODEL_OTHER_NAME;
		goto again;
	}
	a = row_append((void **)&md->acc, &md->nacc, sizeof(*md->acc));
	if (!a)
		return NULL;
	a->pid = pid;
	a->region = region;
	snprintf(a->comm, VFG_COMM_LEN, "%s", comm);
	snprintf(a->device, VFG_DEVICE_LEN, "%s", device);
	return a;
}

static void fault_counted(const struct vfg_fault_key *k, const struct vfg_fault_stat *f,
			  void *ctx)
{
	struct model_mapping *t = model_find(ctx, k->mm, k->start);

	if (t)
		set_faults(t, f);
}

void model_rw_add(struct model *md, const struct vfg_rw_key *k, const struct vfg_rw_stat *s,
		  bool exited)
{
	struct region_loc loc = region_locate(k->region_pos >> md->page_shift, md->page_shift,
					      NULL, 0);
	struct model_access *a = access_of(md, exited ? 0 : k->tgid, loc.index, s->comm,
					   s->device);

	if (!a)
		return;
	a->errors += s->errors;
	a->by_size[!!k->write][model_size_bucket(k->size)] += s->calls - s->errors;
	a->bytes[!!k->write] += s->bytes;
}

static bool access_empty(const struct model_access *a)
{
	static const struct model_access zero;

	return !memcmp(a->by_size, zero.by_size, sizeof(a->by_size)) &&
	       !memcmp(a->bytes, zero.bytes, sizeof(a->bytes)) && !a->errors;
}

struct read_ctx {
	struct model *md;
	struct monitor *m;
	bool (*alive)(uint32_t pid, void *ctx);
	void *ctx;
};

static void rw_counted(const struct vfg_rw_key *k, const struct vfg_rw_stat *s, void *ctx)
{
	struct read_ctx *rc = ctx;

	/*
	 * An exited process's entries take no more counts: moved into the model once, then
	 * deleted (only what the kernel let go of is moved, so nothing is counted twice).
	 */
	if (rc->alive && !rc->alive(k->tgid, rc->ctx)) {
		if (!monitor_rw_forget(rc->m, k))
			model_rw_add(rc->md, k, s, true);
		return;
	}
	model_rw_add(rc->md, k, s, false);
}

int model_read_counts(struct model *md, struct monitor *m,
		      bool (*alive)(uint32_t pid, void *ctx), void *ctx)
{
	struct read_ctx rc = { md, m, alive, ctx };
	int err = monitor_fault_stats(m, fault_counted, md);
	size_t k = 0;

	if (err)
		return err;
	/*
	 * Several kernel entries add up to one row (per open file and size): start from 0. Rows
	 * of exited processes (pid 0) hold what the kernel no longer has.
	 */
	for (size_t i = 0; i < md->nacc; i++) {
		if (!md->acc[i].pid)
			continue;
		memset(md->acc[i].by_size, 0, sizeof(md->acc[i].by_size));
		memset(md->acc[i].bytes, 0, sizeof(md->acc[i].bytes));
		md->acc[i].errors = 0;
	}
	err = monitor_rw_stats(m, rw_counted, &rc);
	if (err || !alive)
		return err;
	/*
	 * An exited process's own row is empty now: its counts went to the row of its name. One
	 * that exited during the walk still has them (its entries are moved at the next read).
	 */
	for (size_t i = 0; i < md->nacc; i++)
		if (!md->acc[i].pid || !access_empty(&md->acc[i]) || alive(md->acc[i].pid, ctx))
			md->acc[k++] = md->acc[i];
	md->nacc = k;
	return 0;
}

static struct model_region *row_for(struct model_region **rows, size_t *n, uint32_t pid,
				    const char *comm, const char *device, unsigned int region)
{
	struct model_region *r;

	for (size_t i = 0; i < *n; i++)
		if ((*rows)[i].pid == pid && (*rows)[i].region == region &&
		    !strcmp((*rows)[i].device, device))
			return &(*rows)[i];
	r = row_append((void **)rows, n, sizeof(**rows));
	if (!r)
		return NULL;
	r->pid = pid;
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	snprintf(r->device, sizeof(r->device), "%s", device);
	r->region = region;
	return r;
}

size_t model_regions(const struct model *md, struct model_region **rows)
{
	struct model_region *r;
	size_t n = 0;

	*rows = NULL;
	for (size_t i = 0; i < md->nall; i++) {
		const struct model_mapping *t = md->all[i];

		if (!t->device[0])
			continue;
		r = row_for(rows, &n, t->task.tgid, t->task.comm, t->device, t->region.index);
		if (!r)
			return n;
		r->mapped = true;
		r->cache = t->cache.mode;
		r->pgprot = t->pgprot;
	}
	for (size_t i = 0; i < md->nacc; i++) {
		const struct model_access *a = &md->acc[i];

		if (!a->device[0])
			continue;
		r = row_for(rows, &n, a->pid, a->comm, a->device, a->region);
		if (!r)
			return n;
		r->fd = true;
	}
	return n;
}

void model_copy(struct model *md, const struct copy_event *ev, bool violation)
{
	struct model_copy *s;

	if (!ev->measured)
		md->copy_unmeasured++;
	else if (violation)
		md->copy_violations++;
	else
		md->copy_clean++;
	for (size_t i = 0; i < md->ncopies; i++) {
		s = &md->copies[i];
		if (s->pid == ev->raw.task.tgid && s->region == ev->region.index &&
		    s->write == ev->write && s->hazards == ev->hazards &&
		    s->measured == ev->measured && s->violation == (ev->measured && violation) &&
		    !strncmp(s->device, ev->raw.device, sizeof(s->device))) {
			s->count++;
			s->bytes += ev->raw.len;
			return;
		}
	}
	s = row_append((void **)&md->copies, &md->ncopies, sizeof(*s));
	if (!s)
		return;
	s->pid = ev->raw.task.tgid;
	memcpy(s->comm, ev->raw.task.comm, sizeof(s->comm));
	s->comm[sizeof(s->comm) - 1] = 0;
	memcpy(s->device, ev->raw.device, sizeof(s->device));
	s->device[sizeof(s->device) - 1] = 0;
	s->region = ev->region.index;
	s->write = ev->write;
	s->hazards = ev->hazards;
	s->measured = ev->measured;
	s->violation = ev->measured && violation;
	s->count = 1;
	s->bytes = ev->raw.len;
}

static struct model_dma *dma_row(struct model *md, const struct dma_event *ev)
{
	const char *device = ev->device ? ev->raw.device : "";
	struct model_dma *s;

	for (size_t i = 0; i < md->ndma; i++) {
		s = &md->dma[i];
		if (s->pid == ev->raw.task.tgid && !strncmp(s->device, device, sizeof(s->device)) &&
		    (!ev->device || s->region == ev->region.index))
			return s;
	}
	s = row_append((void **)&md->dma, &md->ndma, sizeof(*s));
	if (!s)
		return NULL;
	s->pid = ev->raw.task.tgid;
	memcpy(s->comm, ev->raw.task.comm, sizeof(s->comm));
	s->comm[sizeof(s->comm) - 1] = 0;
	snprintf(s->device, sizeof(s->device), "%s", device);
	s->region = ev->device ? ev->region.index : 0;
	return s;
}

static struct model_dma_holder *holder_of(struct model *md, uint32_t pid)
{
	struct model_dma_holder *h;

	for (size_t i = 0; i < md->nholders; i++)
		if (md->holders[i].pid == pid)
			return &md->holders[i];
	h = row_append((void **)&md->holders, &md->nholders, sizeof(*h));
	if (h)
		h->pid = pid;
	return h;
}

const struct dma_event *model_dma(struct model *md, const struct dma_event *ev)
{
	struct model_dma_holder *h = holder_of(md, ev->raw.task.tgid);
	bool blocked = ev->failed && h && h->held;
	struct model_dma *s = NULL;

	/* Maps (direct, bounced, short) by their region; failures by the holder's. */
	if (ev->failed)
		s = dma_row(md, blocked ? &h->ev : ev);
	else if (!ev->unmap)
		s = dma_row(md, ev);
	if (s && ev->failed) {
		s->failed++;
	} else if (s) {
		s->bytes += ev->raw.granted;
		if (ev->bounced)
			s->bounced++;
		else
			s->direct++;
		if (ev->short_map)
			s->short_maps++;
	}
	if (h && ev->bounced && !ev->unmap) {
		h->held = true;
		h->ev = *ev;
	} else if (h && ev->unmap) {
		h->held = false;
	}
	return blocked ? &h->ev : NULL;
}

static bool same_copy_key(const struct model_copy *a, const struct model_copy *b)
{
	return a->region == b->region && a->write == b->write && a->hazards == b->hazards &&
	       a->measured == b->measured && a->violation == b->violation &&
	       !strcmp(a->comm, b->comm) && !strcmp(a->device, b->device);
}

static bool same_dma_key(const struct model_dma *a, const struct model_dma *b)
{
	return a->region == b->region && !strcmp(a->comm, b->comm) &&
	       !strcmp(a->device, b->device);
}

static void add_dma(void *to_row, const void *from)
{
	struct model_dma *to = to_row;
	const struct model_dma *d = from;

	to->direct += d->direct;
	to->bounced += d->bounced;
	to->short_maps += d->short_maps;
	to->failed += d->failed;
	to->bytes += d->bytes;
}

/*
 * The row of pid 0 among rows[0, k) that an exited row x folds into, or NULL when x itself
 * becomes that row. A row that was already one of pid 0 keeps its name; a process that has
 * just exited gets a row of its name while fewer than MODEL_EXITED_ROWS are named (*named
 * counts them), else it is counted under MODEL_OTHER_NAME (written into x->comm).
 */
static void *exited_row(void *rows, size_t k, size_t size, void *x,
			bool (*same)(const void *a, const void *b), bool was_exited, size_t *named)
{
	for (bool other = false;; other = true) {
		for (size_t j = 0; j < k; j++) {
			char *r = (char *)rows + j * size;

			if (!*(uint32_t *)r && same(r, x))
				return r;
		}
		if (other || was_exited)
			return NULL;
		if (*named < MODEL_EXITED_ROWS) {
			(*named)++;
			return NULL;
		}
		/* comm follows pid in both row types. */
		snprintf((char *)x + offsetof(struct model_copy, comm), VFG_COMM_LEN, "%s",
			 MODEL_OTHER_NAME);
	}
}

/* The rows of exited processes under a name of their own. */
static size_t named_exited(const void *rows, size_t n, size_t size)
{
	size_t named = 0;

	for (size_t i = 0; i < n; i++) {
		const char *r = (const char *)rows + i * size;

		named += !*(const uint32_t *)r &&
			 strcmp(r + offsetof(struct model_copy, comm), MODEL_OTHER_NAME);
	}
	return named;
}

static bool same_copy(const void *a, const void *b)
{
	return same_copy_key(a, b);
}

static void add_copy(void *to, const void *from)
{
	struct model_copy *t = to;
	const struct model_copy *c = from;

	t->count += c->count;
	t->bytes += c->bytes;
}

static bool same_dma(const void *a, const void *b)
{
	return same_dma_key(a, b);
}

_Static_assert(offsetof(struct model_copy, comm) == offsetof(struct model_dma, comm) &&
		       offsetof(struct model_copy, pid) == 0 && offsetof(struct model_dma, pid) == 0,
	       "exited_row reads pid and comm at the same offsets in both row types");

/* A table of per-process rows: its rows' size, key and sum. */
struct row_kind {
	size_t size;
	bool (*same)(const void *a, const void *b);
	void (*add)(void *to, const void *from);
};
static const struct row_kind copy_row_kind = { sizeof(struct model_copy), same_copy, add_copy };
static const struct row_kind dma_row_kind = { sizeof(struct model_dma), same_dma, add_dma };

/* Folds the n rows of processes no longer alive into rows of pid 0; returns the rows left. */
static size_t fold_rows(void *rows, size_t n, const struct row_kind *kind,
			bool (*alive)(uint32_t pid, void *ctx), void *ctx)
{
	size_t k = 0, named = named_exited(rows, n, kind->size);
	union { /* pid comes first in both */
		struct model_copy copy;
		struct model_dma dma;
	} x;

	for (size_t i = 0; i < n; i++) {
		bool was_exited;
		void *to;

		memcpy(&x, (char *)rows + i * kind->size, kind->size);
		was_exited = !x.copy.pid;
		if (was_exited || !alive(x.copy.pid, ctx)) {
			x.copy.pid = 0;
			to = exited_row(rows, k, kind->size, &x, kind->same, was_exited, &named);
			if (to) {
				kind->add(to, &x);
				continue;
			}
		}
		memcpy((char *)rows + k++ * kind->size, &x, kind->size);
	}
	return k;
}

void model_fold_exited(struct model *md, bool (*alive)(uint32_t pid, void *ctx), void *ctx)
{
	size_t k;

	md->ncopies = fold_rows(md->copies, md->ncopies, &copy_row_kind, alive, ctx);
	md->ndma = fold_rows(md->dma, md->ndma, &dma_row_kind, alive, ctx);

	k = 0;
	for (size_t i = 0; i < md->nholders; i++)
		if (alive(md->holders[i].pid, ctx))
			md->holders[k++] = md->holders[i];
	md->nholders = k;

	for (size_t i = 0; i < md->nall; i++) {
		struct model_mapping *t = md->all[i];

		if (t->unmapped || alive(t->task.tgid, ctx)) {
			t->gone_once = false;
			continue;
		}
		/* Gone at two calls in a row: an unmap event still queued had arrived by now. */
		if (t->gone_once) {
			t->unmapped = true;
			/* The tree may hold a later mapping at its address already. */
			if (model_find(md, t->mm, t->start) == t)
				tdelete(t, &md->active, mapping_cmp);
		}
		t->gone_once = true;
	}
}

void model_unmap_process(struct model *md, uint32_t pid)
{
	for (size_t i = 0; i < md->nall; i++) {
		struct model_mapping *t = md->all[i];

		if (t->task.tgid != pid || t->unmapped)
			continue;
		t->unmapped = true;
		/* The tree may hold a later mapping at its address already. */
		if (model_find(md, t->mm, t->start) == t)
			tdelete(t, &md->active, mapping_cmp);
	}
}

static bool none_alive(uint32_t pid, void *ctx)
{
	return false;
}

static void *copy_rows(const void *rows, size_t n, size_t size)
{
	void *c = malloc(n ? n * size : 1);

	if (c && n)
		memcpy(c, rows, n * size);
	return c;
}

int model_by_name(const struct model *md, struct model *out)
{
	model_init(out, md->page_shift);
	out->copies = copy_rows(md->copies, md->ncopies, sizeof(*md->copies));
	out->dma = copy_rows(md->dma, md->ndma, sizeof(*md->dma));
	if (!out->copies || !out->dma)
		goto oom;
	out->ncopies = md->ncopies;
	out->ndma = md->ndma;
	/* As if every process had exited: one row per name, device and region (and copy kind). */
	model_fold_exited(out, none_alive, NULL);
	/*
	 * fd access rows are not folded by model_fold_exited (model_read_counts moves an exited
	 * process's counts out of the kernel, and folding its row too would count them twice).
	 */
	for (size_t i = 0; i < md->nacc; i++) {
		const struct model_access *x = &md->acc[i];
		struct model_access *a = access_of(out, 0, x->region, x->comm, x->device);

		if (!a)
			goto oom;
		for (int w = 0; w < 2; w++) {
			for (int k = 0; k < 5; k++)
				a->by_size[w][k] += x->by_size[w][k];
			a->bytes[w] += x->bytes[w];
		}
		a->errors += x->errors;
	}
	return 0;
oom:
	model_free(out);
	return -ENOMEM;
}
