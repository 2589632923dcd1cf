// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The calibration worker; see worker.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../host/disasm.h"
#include "../host/kernel.h"
#include "worker.h"

_Static_assert(sizeof(struct vfg_hazard_key) <= CALIB_FAILURE_KEY,
	       "a hazard key fits the failure table's keys");

struct calib_job {
	struct calib_measured m;
	bool done, delivered;
};

struct calib_worker {
	bool cancel; /* the case being measured stops (the calibrator reads it) */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t todo, done;
	struct calib_job *jobs; /* in the order asked; jobs[next..] wait for the worker */
	size_t njobs, next;
	bool busy; /* jobs[next - 1] is being measured */
	bool stop;
	/* The calibrator: its tracer is the worker thread. */
	struct calibrator cal;
	int cal_err; /* calibrator_start's error, once tried */
	const char *cal_step;
	bool cal_started;
	/* Cases that failed, asked again only after a back-off (the caller's thread only). */
	struct calib_failures failed;
};

static int calibrator_ready(struct calib_worker *w)
{
	if (!w->cal_started && !w->cal_err) {
		w->cal_err = calibrator_start(&w->cal, &w->cal_step);
		w->cal_started = !w->cal_err;
	}
	return w->cal_err;
}

/* Measures one case in the worker thread. 0 or -errno. */
static int measure_case(struct calib_worker *w, const struct calib_case *cc, uint32_t *packed,
			char *step, size_t len)
{
	struct calib_result res = {};
	int err = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (calibrator_ready(w)) {
			snprintf(step, len, "%s", w->cal_step ? w->cal_step : "");
			return w->cal_err;
		}
		w->cal.cancel = &w->cancel;
		err = calibrate_case(&w->cal, cc, &res);
		if (!err && (res.trace.truncated || !res.replay_ok))
			err = -EPROTO;
		if (!err || err == -E2BIG || err == -ECANCELED)
			break;
		/*
		 * A case that ends in an error may leave the child wherever its stepping stopped,
		 * where the next case would start: measure again, once, in a fresh child.
		 */
		calibrator_stop(&w->cal);
		w->cal_started = false;
		calib_result_free(&res);
		memset(&res, 0, sizeof(res));
	}
	if (!err) {
		*packed = calib_result_pack(&res);
	}
	calib_result_free(&res);
	return err;
}

static void *worker_main(void *arg)
{
	struct calib_worker *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct calib_case cc;
		char step[128] = "";
		uint32_t packed = 0;
		size_t i;
		int err;

		while (!w->stop && w->next == w->njobs)
			pthread_cond_wait(&w->todo, &w->mu);
		if (w->stop)
			break;
		i = w->next++;
		cc = w->jobs[i].m.cc;
		w->busy = true;
		pthread_mutex_unlock(&w->mu);
		err = measure_case(w, &cc, &packed, step, sizeof(step));
		pthread_mutex_lock(&w->mu);
		w->busy = false;
		w->jobs[i].m.err = err;
		w->jobs[i].m.packed = packed;
		memcpy(w->jobs[i].m.step, step, sizeof(step));
		w->jobs[i].done = true;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	/* The tracer of the calibrator's child is this thread: it ends the child too. */
	if (w->cal_started)
		calibrator_stop(&w->cal);
	w->cal_started = false;
	return NULL;
}

static int worker_start(struct calib_worker **out)
{
	struct calib_worker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	/* capstone is loaded here, not raced for by both threads. */
	disasm_load();
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->todo, NULL);
	pthread_cond_init(&w->done, NULL);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	if (err) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->todo);
		pthread_cond_destroy(&w->done);
		free(w);
		return -err;
	}
	*out = w;
	return 0;
}

void calib_worker_stop(struct calib_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->todo);
	pthread_mutex_unlock(&w->mu);
	/* A case being measured stops at its next step. */
	__atomic_store_n(&w->cancel, true, __ATOMIC_RELAXED);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->todo);
	pthread_cond_destroy(&w->done);
	free(w->jobs);
	free(w);
}

/*
 * Frees the jobs taken, while the worker measures none (it holds an index into the list
 * then): the list holds only what waits or was not taken yet, not every case ever asked.
 * Under the worker's lock.
 */
static void forget_delivered(struct calib_worker *w)
{
	size_t k = 0, taken = 0;

	if (w->busy)
		return;
	for (size_t i = 0; i < w->njobs; i++) {
		if (w->jobs[i].delivered)
			continue;
		taken += i < w->next;
		w->jobs[k++] = w->jobs[i];
	}
	w->njobs = k;
	w->next = taken;
	if (!k) {
		free(w->jobs);
		w->jobs = NULL;
	}
}

int calib_worker_ask(struct calib_worker **wp, const struct calib_case *cc,
		     const struct vfg_hazard_key *k)
{
	struct calib_worker *w;
	struct calib_job *grown;
	int err = 0;

	if (!*wp && (err = worker_start(wp)))
		return err;
	w = *wp;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->njobs; i++)
		if (!w->jobs[i].delivered && !memcmp(&w->jobs[i].m.key, k, sizeof(*k)))
			goto out;
	grown = realloc(w->jobs, (w->njobs + 1) * sizeof(*grown));
	if (!grown) {
		err = -ENOMEM;
		goto out;
	}
	w->jobs = grown;
	memset(&grown[w->njobs], 0, sizeof(*grown));
	grown[w->njobs].m.cc = *cc;
	grown[w->njobs].m.key = *k;
	w->njobs++;
	pthread_cond_signal(&w->todo);
out:
	pthread_mutex_unlock(&w->mu);
	return err;
}

bool calib_worker_take(struct calib_worker *w, struct calib_measured *m)
{
	bool found = false;

	if (!w)
		return false;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->njobs && !found; i++)
		if (w->jobs[i].done && !w->jobs[i].delivered) {
			w->jobs[i].delivered = true;
			*m = w->jobs[i].m;
			found = true;
		}
	if (!found)
		forget_delivered(w);
	pthread_mutex_unlock(&w->mu);
	if (found && m->err)
		calib_failure_record(&w->failed, &m->key, sizeof(m->key), m->err, m->step,
				     monotonic_ns());
	return found;
}

const struct calib_failure *calib_worker_failed(const struct calib_worker *w,
						const struct vfg_hazard_key *k)
{
	return w ? calib_failure_find(&w->failed, k, sizeof(*k), monotonic_ns()) : NULL;
}

void calib_worker_wait(struct calib_worker *w, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mu);
	pthread_cond_timedwait(&w->done, &w->mu, &ts);
	pthread_mutex_unlock(&w->mu);
}
