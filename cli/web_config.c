// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* serve's --web-config: TLS and basic authentication for /metrics; see web_config.h. */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "web_config.h"

#define FILE_MAX (1 << 20)

/* A regular file's contents, NUL-terminated; NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
	/* Not blocked by a FIFO at the name: only a regular file is read. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
	struct stat st;
	char *buf = NULL;
	size_t n;
	int err = 0;

	if (!f) {
		err = errno;
		if (fd >= 0)
			close(fd);
		errno = err;
		return NULL;
	}
	if (fstat(fileno(f), &st))
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	else if (st.st_size > FILE_MAX)
		err = EFBIG;
	else if (!(buf = malloc(st.st_size + 1)))
		err = ENOMEM;
	if (!err) {
		n = fread(buf, 1, st.st_size, f);
		if (ferror(f)) {
			err = EIO;
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			if (len)
				*len = n;
		}
	}
	fclose(f);
	errno = err;
	return buf;
}

struct ctx {
	const char *path;
	char *why;
	size_t len;
	yaml_document_t *doc;
};

__attribute__((format(printf, 3, 4))) static int bad(struct ctx *c, const yaml_node_t *n,
						     const char *fmt, ...)
{
	int k = snprintf(c->why, c->len, "%s:%zu: ", c->path, n ? n->start_mark.line + 1 : 1);
	va_list ap;

	va_start(ap, fmt);
	if (k >= 0 && (size_t)k < c->len)
		vsnprintf(c->why + k, c->len - k, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A bcrypt hash that libcrypt can check against. */
static bool bcrypt_hash(const char *h)
{
	struct crypt_data *cd;
	const char *r;
	bool ok;

	if (strncmp(h, "$2a$", 4) && strncmp(h, "$2b$", 4) && strncmp(h, "$2y$", 4))
		return false;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	r = crypt_r("", h, cd);
	ok = r && r[0] == '$' && strlen(r) == strlen(h);
	free(cd);
	return ok;
}

/* A file named by the configuration: a relative name is relative to the configuration's directory. */
static int pem_of(struct ctx *c, const yaml_node_t *v, const char *key, char **out)
{
	const char *name = scalar(v);
	char dir[PATH_MAX], path[PATH_MAX];

	if (!name || !name[0])
		return bad(c, v, "%s: expected a file name", key);
	if (*out)
		return bad(c, v, "%s given twice", key);
	snprintf(dir, sizeof(dir), "%s", c->path);
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else if (snprintf(path, sizeof(path), "%s/%s", dirname(dir), name) >= (int)sizeof(path))
		return bad(c, v, "%s: name too long", key);
	*out = slurp(path, NULL);
	if (!*out)
		return bad(c, v, "%s: %s: %s", key, path, strerror(errno));
	if (!strstr(*out, "-----BEGIN "))
		return bad(c, v, "%s: %s: not a PEM file", key, path);
	return 0;
}

static int tls_part(struct ctx *c, struct web_config *wc, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE)
		return bad(c, n, "tls_server_config: expected a mapping (cert_file, key_file)");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(c->doc, p->key),
				  *v = yaml_document_get_node(c->doc, p->value);
		const char *key = scalar(k);

		if (!key)
			return bad(c, k, "tls_server_config: expected a key");
		if (!strcmp(key, "cert_file")) {
			if (pem_of(c, v, key, &wc->cert_pem))
				return -1;
		} else if (!strcmp(key, "key_file")) {
			if (pem_of(c, v, key, &wc->key_pem))
				return -1;
		} else {
			return bad(c, k, "tls_server_config: %s is not supported by vfioguard serve "
					 "(supported: cert_file, key_file)", key);
		}
	}
	if (!wc->cert_pem || !wc->key_pem)
		return bad(c, n, "tls_server_config: needs both cert_file and key_file");
	return 0;
}

static int users_part(struct ctx *c, struct web_config *wc, const yaml_node_t *n)
{
	size_t max;

	if (n->type != YAML_MAPPING_NODE)
		return bad(c, n, "basic_auth_users: expected a mapping of user names to bcrypt hashes");
	max = n->data.mapping.pairs.top - n->data.mapping.pairs.start;
	wc->users = calloc(max ? max : 1, sizeof(*wc->users));
	if (!wc->users)
		return bad(c, n, "%s", strerror(ENOMEM));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(c->doc, p->key),
				  *v = yaml_document_get_node(c->doc, p->value);
		const char *name = scalar(k), *hash = scalar(v);
		struct web_user *u;

		if (!name || !name[0] || strchr(name, ':'))
			return bad(c, k, "basic_auth_users: expected a user name (no ':')");
		for (size_t i = 0; i < wc->nusers; i++)
			if (!strcmp(wc->users[i].name, name))
				return bad(c, k, "basic_auth_users: %s given twice", name);
		if (!hash || !bcrypt_hash(hash))
			return bad(c, v, "basic_auth_users: %s: expected a bcrypt hash ($2y$...), "
					 "as htpasswd -nbB or mkpasswd -m bcrypt write", name);
		u = &wc->users[wc->nusers++];
		u->name = strdup(name);
		u->hash = strdup(hash);
		if (!u->name || !u->hash)
			return bad(c, k, "%s", strerror(ENOMEM));
	}
	if (!wc->nusers)
		return bad(c, n, "basic_auth_users: no user (leave the key out for no authentication)");
	return 0;
}

int web_config_load(struct web_config *wc, const char *path, char *why, size_t len)
{
	struct ctx c = { .path = path, .why = why, .len = len };
	yaml_parser_t parser;
	yaml_document_t doc;
	const yaml_node_t *root;
	size_t n;
	char *text;
	int ret = -1;

	memset(wc, 0, sizeof(*wc));
	text = slurp(path, &n);
	if (!text) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(text);
		snprintf(why, len, "%s: %s", path, strerror(ENOMEM));
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, n);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(why, len, "%s:%zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		free(text);
		return -1;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		bad(&c, NULL, "empty (tls_server_config, basic_auth_users or both expected)");
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		bad(&c, root, "expected a mapping (tls_server_config, basic_auth_users)");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yaml_document_get_node(&doc, p->key),
				  *v = yaml_document_get_node(&doc, p->value);
		const char *key = scalar(k);

		if (key && !strcmp(key, "tls_server_config") && !wc->cert_pem) {
			if (tls_part(&c, wc, v))
				goto out;
		} else if (key && !strcmp(key, "basic_auth_users") && !wc->users) {
			if (users_part(&c, wc, v))
				goto out;
		} else if (key && (!strcmp(key, "tls_server_config") ||
				   !strcmp(key, "basic_auth_users"))) {
			bad(&c, k, "%s given twice", key);
			goto out;
		} else {
			bad(&c, k, "%s is not supported by vfioguard serve (supported: "
				   "tls_server_config, basic_auth_users)", key ? key : "this key");
			goto out;
		}
	}
	ret = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
	if (ret)
		web_config_free(wc);
	return ret;
}

void web_config_free(struct web_config *wc)
{
	free(wc->cert_pem);
	if (wc->key_pem)
		explicit_bzero(wc->key_pem, strlen(wc->key_pem));
	free(wc->key_pem);
	for (size_t i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
		if (wc->users[i].verified)
			explicit_bzero(wc->users[i].verified, strlen(wc->users[i].verified));
		free(wc->users[i].verified);
	}
	free(wc->users);
	memset(wc, 0, sizeof(*wc));
}

/* Equal strings, in a time that does not depend on where they differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return !d;
}

/*
 * bcrypt checks allowed per second: each costs tens of milliseconds on the one thread that
 * serves HTTP, so wrong passwords sent in a loop must not starve the scrapes (a password
 * verified before is compared without bcrypt, and keeps working).
 */
#define CHECKS_PER_SECOND 4

bool web_config_allows(struct web_config *wc, const char *user, const char *password)
{
	const char *hash;
	struct web_user *u = NULL;
	struct crypt_data *cd;
	struct timespec now;
	const char *r;
	bool ok;

	if (!wc->nusers)
		return true;
	if (!user || !password)
		return false;
	for (size_t i = 0; i < wc->nusers; i++)
		if (!strcmp(wc->users[i].name, user))
			u = &wc->users[i];
	if (u && u->verified && same_secret(u->verified, password))
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != wc->window) {
		wc->window = now.tv_sec;
		wc->checks = 0;
	}
	if (++wc->checks > CHECKS_PER_SECOND)
		return false;
	/* An unknown user costs a check too (the first user's hash, its cost), never a match. */
	hash = u ? u->hash : wc->users[0].hash;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	r = crypt_r(password, hash, cd);
	ok = u && r && same_secret(r, hash);
	free(cd);
	if (ok) {
		char *copy = strdup(password);

		if (copy) {
			if (u->verified)
				explicit_bzero(u->verified, strlen(u->verified));
			free(u->verified);
			u->verified = copy;
		}
	}
	return ok;
}
