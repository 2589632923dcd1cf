// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* serve's --web-config: the exporters' web configuration format, the part vfioguard serves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cli/web_config.h"

/* bcrypt of "s3cret" (cost 4, to keep the test fast). */
#define HASH "$2b$04$6R8kphDyRrhmAHSK1vyb4uAj3FFGIw7GzSPAnFVq.ueov3vhAevTy"

static char dir[] = "/tmp/vfg-web-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[4][128];
	static int k;
	char *p = path[k++ % 4];
	FILE *f;

	snprintf(p, 128, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* Loads TEXT; returns 0 or -1 with the reason in why. */
static int load(struct web_config *wc, const char *text, char *why)
{
	return web_config_load(wc, write_file("web.yml", text), why, 256);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	write_file("c.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	write_file("k.pem", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
	write_file("plain.txt", "not pem\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void tls_and_users(void **state)
{
	struct web_config wc;
	char text[512], why[256] = "";

	snprintf(text, sizeof(text),
		 "tls_server_config:\n  cert_file: %s/c.pem\n  key_file: %s/k.pem\n"
		 "basic_auth_users:\n  prometheus: '%s'\n",
		 dir, dir, HASH);
	assert_int_equal(load(&wc, text, why), 0);
	assert_non_null(strstr(wc.cert_pem, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(wc.key_pem, "BEGIN PRIVATE KEY"));
	assert_int_equal(wc.nusers, 1);
	assert_true(web_config_allows(&wc, "prometheus", "s3cret"));
	/* Again, from what was verified last. */
	assert_true(web_config_allows(&wc, "prometheus", "s3cret"));
	assert_false(web_config_allows(&wc, "prometheus", "s3cret2"));
	assert_false(web_config_allows(&wc, "prometheus", "s3cre"));
	assert_false(web_config_allows(&wc, "prometheus", ""));
	assert_false(web_config_allows(&wc, "other", "s3cret"));
	assert_false(web_config_allows(&wc, NULL, NULL));
	web_config_free(&wc);
}

static void users_only_and_none(void **state)
{
	struct web_config wc;
	char text[256], why[256] = "";

	snprintf(text, sizeof(text), "basic_auth_users:\n  a: '%s'\n  b: '%s'\n", HASH, HASH);
	assert_int_equal(load(&wc, text, why), 0);
	assert_null(wc.cert_pem);
	assert_int_equal(wc.nusers, 2);
	assert_true(web_config_allows(&wc, "b", "s3cret"));
	web_config_free(&wc);
	/* TLS only: anyone may scrape. */
	snprintf(text, sizeof(text), "tls_server_config:\n  cert_file: %s/c.pem\n  key_file: %s/k.pem\n",
		 dir, dir);
	assert_int_equal(load(&wc, text, why), 0);
	assert_true(web_config_allows(&wc, NULL, NULL));
	web_config_free(&wc);
}

/* Relative file names are the configuration's directory's, not the working directory's. */
static void relative_names(void **state)
{
	struct web_config wc;
	char why[256] = "";

	assert_int_equal(chdir("/"), 0);
	assert_int_equal(load(&wc, "tls_server_config:\n  cert_file: c.pem\n  key_file: ./k.pem\n",
			      why), 0);
	assert_non_null(strstr(wc.cert_pem, "BEGIN CERTIFICATE"));
	web_config_free(&wc);
}

/*
 * Wrong passwords in a loop: a few bcrypt checks a second, then refusals without one; a
 * password verified before still gets in. An unknown user is refused as a wrong password is.
 */
static void checks_are_rate_limited(void **state)
{
	struct web_config wc;
	char text[256], why[256] = "";
	int refused = 0;

	snprintf(text, sizeof(text), "basic_auth_users:\n  p: '%s'\n", HASH);
	assert_int_equal(load(&wc, text, why), 0);
	assert_true(web_config_allows(&wc, "p", "s3cret"));
	for (int i = 0; i < 50; i++)
		refused += !web_config_allows(&wc, i % 2 ? "p" : "nobody", "wrong");
	assert_int_equal(refused, 50);
	assert_true(wc.checks > 4);
	assert_true(web_config_allows(&wc, "p", "s3cret"));
	web_config_free(&wc);
	/* Within the limit, the right password is checked. */
	assert_int_equal(load(&wc, text, why), 0);
	assert_false(web_config_allows(&wc, "nobody", "s3cret"));
	assert_true(web_config_allows(&wc, "p", "s3cret"));
	web_config_free(&wc);
}

/* Every refusal names the file, the line and the reason. */
static void errors_name_the_line(void **state)
{
	static const struct {
		const char *text, *line, *reason;
	} cases[] = {
		{ "basic_auth_users:\n  a: plain\n", ":2: ", "expected a bcrypt hash" },
		{ "basic_auth_users:\n  a: '$1$abc$def'\n", ":2: ", "expected a bcrypt hash" },
		{ "basic_auth_users: {}\n", ":1: ", "no user" },
		{ "tls_server_config:\n  cert_file: /nonexistent/c.pem\n  key_file: x\n", ":2: ",
		  "No such file" },
		{ "tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n", ":2: ",
		  "client_auth_type is not supported" },
		{ "http_server_config:\n  http2: false\n", ":1: ", "http_server_config is not supported" },
		{ "basic_auth_users: [a]\n", ":1: ", "expected a mapping" },
		{ "- a\n", ":1: ", "expected a mapping" },
		{ "", ":1: ", "empty" },
		{ "a: [\n", ":2: ", "" },
	};
	struct web_config wc;
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		assert_int_equal(load(&wc, cases[i].text, why), -1);
		if (!strstr(why, "web.yml") || !strstr(why, cases[i].line) ||
		    !strstr(why, cases[i].reason))
			fail_msg("case %zu: '%s'", i, why);
		assert_null(wc.users);
		assert_null(wc.cert_pem);
	}
	/* A file that is not PEM, and a key without its certificate. */
	snprintf(why, sizeof(why), "tls_server_config:\n  cert_file: %s/plain.txt\n  key_file: %s/k.pem\n",
		 dir, dir);
	assert_int_equal(load(&wc, why, why), -1);
	assert_non_null(strstr(why, "not a PEM file"));
	snprintf(why, sizeof(why), "tls_server_config:\n  key_file: %s/k.pem\n", dir);
	assert_int_equal(load(&wc, why, why), -1);
	assert_non_null(strstr(why, "needs both"));
	assert_int_equal(web_config_load(&wc, "/nonexistent.yml", why, sizeof(why)), -1);
	assert_string_equal(why, "/nonexistent.yml: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tls_and_users),
		cmocka_unit_test(users_only_and_none),
		cmocka_unit_test(errors_name_the_line),
		cmocka_unit_test(relative_names),
		cmocka_unit_test(checks_are_rate_limited),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
