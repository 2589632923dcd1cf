// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* serve's HTTP listener: /metrics over libmicrohttpd, loaded at run time; see serve.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../loader/host/dynlib.h"
#include "../../loader/host/kernel.h"
#include "serve.h"

struct http {
	struct MHD_Daemon *d;
	struct exposition *x;
	struct web_config *web;
};

/*
 * libmicrohttpd is loaded when serve listens, not linked: it brings GnuTLS and a dozen more
 * libraries, and every start of every vfioguard command paid for them (measured in the x86_64
 * 6.12 test guest: a policy apply 0.65 s -> 1.0 s).
 */
#define MHD_SONAME "libmicrohttpd.so.12"
/* Connections served at once, and from one client address (Prometheus needs one or two). */
#define HTTP_MAX_CONNECTIONS 256U
#define HTTP_MAX_PER_ADDRESS 32U
#define MHD_FUNCTIONS(F)                                                                           \
	F(MHD_start_daemon, start_daemon) F(MHD_stop_daemon, stop_daemon)                          \
	F(MHD_create_response_from_buffer, create_response_from_buffer)                            \
	F(MHD_add_response_header, add_response_header) F(MHD_queue_response, queue_response)      \
	F(MHD_destroy_response, destroy_response)                                                  \
	F(MHD_is_feature_supported, is_feature_supported)                                          \
	F(MHD_basic_auth_get_username_password, basic_auth_get_username_password)                  \
	F(MHD_queue_basic_auth_fail_response, queue_basic_auth_fail_response) F(MHD_free, free)
static struct {
	MHD_FUNCTIONS(DYNLIB_SLOT)
} mhd;
#define MHD_FN(sym, field) DYNLIB_FN(sym, mhd.field),

static char dl_why[256];

const char *http_load(void)
{
	const struct dynlib_fn fns[] = { MHD_FUNCTIONS(MHD_FN) };

	return dynlib_load(MHD_SONAME, fns, sizeof(fns) / sizeof(fns[0]), dl_why, sizeof(dl_why))
		       ? dl_why
		       : NULL;
}

bool http_tls(void)
{
	return mhd.is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

/*
 * libmicrohttpd's messages (a connection refused over the limits, a client gone) in the journal,
 * at most one each 10 s, saying when others were left out: a flood of connections must not
 * become a flood of log lines.
 */
static void on_http_log(void *cls, const char *fmt, va_list ap)
{
	static uint64_t next_ns;
	static unsigned long quiet;
	char msg[256];
	size_t n;

	if (monotonic_ns() < next_ns) {
		quiet++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	log_line(JOURNAL_WARNING, "vfioguard: serve: http: %s%s", msg,
		 quiet ? " (and more messages in the last 10 s, left out)" : "");
	quiet = 0;
	next_ns = monotonic_ns() + 10000000000ULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	static const char not_found[] = "not found: vfioguard serves /metrics\n";
	static const char not_allowed[] = "method not allowed: vfioguard serves GET /metrics\n";
	static const char unauthorized[] = "unauthorized: vfioguard serve asks for a user\n";
	struct http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;

	if (h->web->nusers) {
		char *password = NULL, *user = mhd.basic_auth_get_username_password(c, &password);
		bool ok = web_config_allows(h->web, user, password);

		if (password) {
			explicit_bzero(password, strlen(password));
			mhd.free(password);
		}
		if (user)
			mhd.free(user);
		if (!ok) {
			r = mhd.create_response_from_buffer(strlen(unauthorized), (void *)unauthorized,
							    MHD_RESPMEM_PERSISTENT);
			if (!r)
				return MHD_NO;
			ret = mhd.queue_basic_auth_fail_response(c, "vfioguard", r);
			mhd.destroy_response(r);
			return ret;
		}
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		r = mhd.create_response_from_buffer(strlen(not_allowed), (void *)not_allowed,
						    MHD_RESPMEM_PERSISTENT);
		if (r)
			mhd.add_response_header(r, "Allow", "GET, HEAD");
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics")) {
		r = mhd.create_response_from_buffer(strlen(not_found), (void *)not_found,
						    MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	} else {
		pthread_mutex_lock(&h->x->lock);
		r = mhd.create_response_from_buffer(h->x->len, h->x->text, MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&h->x->lock);
		if (r)
			mhd.add_response_header(r, "Content-Type",
						"text/plain; version=0.0.4; charset=utf-8");
	}
	if (!r)
		return MHD_NO;
	ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ret;
}

int http_listen(const char *spec, const char **why)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *ai;
	int fd, one = 1, err;

	*why = NULL;
	if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof(host)) {
		*why = "expected ADDR:PORT (127.0.0.1:9747, [::1]:9747)";
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		*why = gai_strerror(err);
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return err;
	}
	freeaddrinfo(ai);
	return fd;
}

struct http *http_start(int fd, struct exposition *x, struct web_config *web)
{
	/* GnuTLS's defaults from TLS 1.2 up, as the Prometheus exporters serve. */
	static char priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, web->key_pem },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, web->cert_pem },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, priorities },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct http *h = calloc(1, sizeof(*h));

	if (!h) {
		close(fd);
		return NULL;
	}
	h->x = x;
	h->web = web;
	/*
	 * epoll (select stops at 1024 descriptors), bounded connections in all and per client
	 * address (slow clients from one address cannot take every slot), and idle connections
	 * closed after 10 s.
	 */
	h->d = mhd.start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
					(web->cert_pem ? MHD_USE_TLS : 0),
				0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_TIMEOUT, 10U,
				MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, HTTP_MAX_PER_ADDRESS,
				MHD_OPTION_EXTERNAL_LOGGER, on_http_log, NULL,
				MHD_OPTION_ARRAY, web->cert_pem ? tls : tls + 3, MHD_OPTION_END);
	if (!h->d) {
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	mhd.stop_daemon(h->d);
	free(h);
}
