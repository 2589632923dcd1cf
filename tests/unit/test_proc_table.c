// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The table of processes a long-running view takes up, with real processes. */
#include <stdint.h>

#include "unit.h"
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../loader/host/kernel.h"

static pid_t child(void)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (!p) {
		pause();
		_exit(0);
	}
	return p;
}

static void reap(pid_t p)
{
	kill(p, SIGKILL);
	assert_int_equal(waitpid(p, NULL, 0), p);
}

static void gone_processes_give_their_entries(void **state)
{
	struct proc_table t = { .cap = 2 };
	pid_t a = child(), b = child(), me = getpid();
	uint32_t gone = 99;

	assert_int_equal(proc_table_add(&t, me, proc_start_time(me), &gone), 0);
	assert_int_equal(gone, 0);
	assert_int_equal(proc_table_add(&t, a, proc_start_time(a), &gone), 0);
	assert_int_equal(proc_table_add(&t, me, proc_start_time(me), &gone), 1);
	/* Full of processes that are alive. */
	assert_int_equal(proc_table_add(&t, b, proc_start_time(b), &gone), -ENOSPC);
	assert_int_equal(t.n, 2);
	/* a is gone: b gets its entry, and the caller is told whose it was. */
	reap(a);
	assert_int_equal(proc_table_add(&t, b, proc_start_time(b), &gone), 0);
	assert_int_equal(gone, a);
	assert_int_equal(t.n, 2);
	assert_int_equal(proc_table_add(&t, b, proc_start_time(b), &gone), 1);
	assert_int_equal(proc_table_add(&t, me, proc_start_time(me), &gone), 1);
	/* A later process with b's PID (a later start time) is another one. */
	assert_int_equal(proc_table_add(&t, b, proc_start_time(b) + 1, &gone), 0);
	assert_int_equal(gone, b);
	assert_int_equal(t.n, 2);
	/* A process that is gone already is not taken up. */
	assert_int_equal(proc_table_add(&t, a, proc_start_time(a), &gone), -ESRCH);
	reap(b);
	proc_table_free(&t);
	(void)state;
}

UNIT_MAIN(cmocka_unit_test(gone_processes_give_their_entries))
