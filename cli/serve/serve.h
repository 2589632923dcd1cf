/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * vfioguard serve's parts: the loop and the policy's reloads (serve.c), the metrics renderer
 * (metrics.h), the HTTP listener (http.c) and the kernel's uevents (uevents.c).
 */
#ifndef VFIOGUARD_SERVE_H
#define VFIOGUARD_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "../output.h"
#include "../web_config.h"

/* The exposition text the listener serves: replaced whole, under the lock. */
struct exposition {
	pthread_mutex_t lock;
	char *text;
	size_t len;
};

/*
 * libmicrohttpd, loaded when serve listens: NULL, or why it cannot be. http_tls() says whether
 * the loaded library serves TLS.
 */
const char *http_load(void);
bool http_tls(void);
/* The listening socket, bound here so that a taken address is reported as the kernel says. */
int http_listen(const char *spec, const char **why);
struct http;
/*
 * Serves x on /metrics from the socket fd (the listener's from then on, also on failure),
 * over TLS and asking for the users of web where it has them. NULL when it cannot start.
 */
struct http *http_start(int fd, struct exposition *x, struct web_config *web);
void http_stop(struct http *h);

/* The PCI devices' kernel uevents (NULL with why when they cannot be listened to). */
struct uevents;
struct uevents *uevents_open(const char **why);
/*
 * Reads the uevents queued (it does not block). Returns the number that call for the device
 * matchers to be resolved again (a PCI device added, or bound to a VFIO driver), the last in what.
 */
int uevents_read(struct uevents *u, char *what, size_t len);
void uevents_close(struct uevents *u);

#endif /* VFIOGUARD_SERVE_H */
