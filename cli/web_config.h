/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * serve's --web-config: TLS and basic authentication for /metrics, from a file in the format of
 * the Prometheus exporters' web configuration (node_exporter's --web.config.file):
 *
 *   tls_server_config:
 *     cert_file: /etc/vfioguard/serve.crt     PEM, the chain the server presents
 *     key_file: /etc/vfioguard/serve.key      PEM, its private key
 *   basic_auth_users:
 *     prometheus: $2y$10$...                 bcrypt hashes ($2a$, $2b$, $2y$)
 *
 * Either part may be left out; relative file names are relative to the file's directory. Every
 * other key of that format (client certificates, TLS versions and ciphers, HTTP headers) is
 * refused by name: nothing is silently ignored. TLS 1.2 at least.
 */
#ifndef VFIOGUARD_WEB_CONFIG_H
#define VFIOGUARD_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct web_user {
	char *name;
	char *hash;
	/* The last password that matched the hash: bcrypt is slow by design, a scrape is not. */
	char *verified;
};

struct web_config {
	char *cert_pem, *key_pem; /* the files' contents; NULL without tls_server_config */
	struct web_user *users;
	size_t nusers;
	long window;         /* the second the bcrypt checks are counted in */
	unsigned int checks; /* and how many were made */
};

/*
 * Reads FILE and the files it names. 0, or -1 with "FILE:LINE: reason" (or "FILE: reason") in
 * why; then wc is empty.
 */
int web_config_load(struct web_config *wc, const char *path, char *why, size_t len);
void web_config_free(struct web_config *wc);

/*
 * Whether these credentials are a user's (always true without basic_auth_users). Unknown
 * users cost a bcrypt check as known ones do; at most a few checks a second are made (beyond:
 * refused), a password verified before is compared without one.
 */
bool web_config_allows(struct web_config *wc, const char *user, const char *password);

#endif
