/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The forward proxy's request rewrite (§2.9 step 7) and credential
 * placeholders in headers (§7.3): whole value, "<word> <placeholder>",
 * Basic auth; fail closed on unknown placeholders, bad secrets, any
 * placeholder left in the head or in the target (raw or %-encoded).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/proxyd/proxyd.h"

#define PH(k)	PLACEHOLDER_PREFIX k

static struct secrets *sec;

static int	 setup(void **);
static int	 teardown(void **);
static int	 rewrite(const char *, char **);
static char	*header(const char *, const char *);

static int
setup(void **state)
{
	(void)state;
	sec = secrets_new();
	assert_non_null(sec);
	assert_int_equal(secrets_add(sec, PH("API_KEY"), "s3cret"), 0);
	assert_int_equal(secrets_add(sec, PH("USER"), "alice"), 0);
	assert_int_equal(secrets_add(sec, PH("BAD"), "x\r\nEvil: 1"), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	secrets_free(sec);
	return 0;
}

/* Rewrite a head; *out is the upstream head or NULL. */
static int
rewrite(const char *in, char **out)
{
	struct http_head	 h;
	struct http_uri		 u;
	size_t			 len;
	int			 rc, count;

	assert_int_equal(parse_head(in, strlen(in), &h), 0);
	assert_int_equal(parse_uri(h.h_target, &u), 0);
	rc = rewrite_forward(&h, &u, sec, out, &len, &count);
	if (rc == REWRITE_OK)
		assert_int_equal(strlen(*out), len);
	parse_uri_free(&u);
	parse_head_free(&h);
	return rc;
}

/* One header value through secrets_header; NULL when refused. */
static char *
header(const char *name, const char *v)
{
	char	*out;
	int	 count = 0;

	if (secrets_header(sec, name, v, &out, &count) == -1)
		return NULL;
	return out;
}

static void
test_rewrite_basic(void **state)
{
	char	*out;

	(void)state;
	assert_int_equal(rewrite("GET http://h.test:8080/p?q=1 HTTP/1.1\r\n"
	    "Host: h.test:8080\r\nProxy-Connection: keep-alive\r\n"
	    "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
	    "Connection: keep-alive\r\nAccept: */*\r\n\r\n", &out), REWRITE_OK);
	assert_string_equal(out, "GET /p?q=1 HTTP/1.1\r\nHost: h.test:8080\r\n"
	    "Accept: */*\r\nConnection: close\r\n"
	    "Via: 1.1 openshell-sandbox\r\n\r\n");
	free(out);

	/* No Host: added; an existing Via is kept, not doubled. */
	assert_int_equal(rewrite("POST http://h.test/ HTTP/1.0\r\n"
	    "Via: 1.0 other\r\nContent-Length: 3\r\n\r\n", &out), REWRITE_OK);
	assert_string_equal(out, "POST / HTTP/1.0\r\nHost: h.test:80\r\n"
	    "Via: 1.0 other\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
	free(out);

	/* Default port may be omitted from Host. */
	assert_int_equal(rewrite("GET http://h.test/ HTTP/1.1\r\n"
	    "Host: H.TEST:80\r\n\r\n", &out), REWRITE_OK);
	free(out);
	assert_int_equal(rewrite("GET http://[2001:db8::1]/ HTTP/1.1\r\n"
	    "Host: [2001:db8::1]\r\n\r\n", &out), REWRITE_OK);
	free(out);
}

static void
test_rewrite_host_mismatch(void **state)
{
	char	*out;

	(void)state;
	assert_int_equal(rewrite("GET http://allowed.test/ HTTP/1.1\r\n"
	    "Host: evil.test\r\n\r\n", &out), REWRITE_BAD);
	assert_int_equal(rewrite("GET http://allowed.test:8080/ HTTP/1.1\r\n"
	    "Host: allowed.test\r\n\r\n", &out), REWRITE_BAD);
}

static void
test_rewrite_secrets(void **state)
{
	char	*out;

	(void)state;
	assert_int_equal(rewrite("GET http://h.test/ HTTP/1.1\r\n"
	    "Authorization: Bearer " PH("API_KEY") "\r\n"
	    "X-Key: " PH("USER") "\r\n\r\n", &out), REWRITE_OK);
	assert_non_null(strstr(out, "Authorization: Bearer s3cret\r\n"));
	assert_non_null(strstr(out, "X-Key: alice\r\n"));
	assert_null(strstr(out, "openshell:resolve"));
	free(out);

	/* Unknown placeholder, bad secret, placeholder in the URI. */
	assert_int_equal(rewrite("GET http://h.test/ HTTP/1.1\r\n"
	    "X-Key: " PH("NOPE") "\r\n\r\n", &out), REWRITE_SECRET);
	assert_int_equal(rewrite("GET http://h.test/ HTTP/1.1\r\n"
	    "X-Key: " PH("BAD") "\r\n\r\n", &out), REWRITE_SECRET);
	assert_int_equal(rewrite("GET http://h.test/?k=" PH("API_KEY")
	    " HTTP/1.1\r\n\r\n", &out), REWRITE_SECRET);
	assert_int_equal(rewrite("GET http://h.test/?k=openshell%3Aresolve"
	    "%3Aenv%3AAPI_KEY HTTP/1.1\r\n\r\n", &out), REWRITE_SECRET);
	/* A placeholder in a shape we do not rewrite is not sent. */
	assert_int_equal(rewrite("GET http://h.test/ HTTP/1.1\r\n"
	    "Cookie: a=" PH("API_KEY") "; b=1\r\n\r\n", &out), REWRITE_SECRET);
}

static void
test_header_shapes(void **state)
{
	char	*v;

	(void)state;
	v = header("X-Api-Key", PH("API_KEY"));
	assert_string_equal(v, "s3cret");
	free(v);
	v = header("Authorization", "token " PH("API_KEY"));
	assert_string_equal(v, "token s3cret");
	free(v);
	v = header("Accept", "text/html");
	assert_string_equal(v, "text/html");
	free(v);
	/* user:pass = "<USER>:<API_KEY>" */
	v = header("Authorization", "Basic b3BlbnNoZWxsOnJlc29sdmU6ZW52OlVT"
	    "RVI6b3BlbnNoZWxsOnJlc29sdmU6ZW52OkFQSV9LRVk=");
	assert_string_equal(v, "Basic YWxpY2U6czNjcmV0");	/* alice:s3cret */
	free(v);
	assert_null(header("X", "a b " PH("API_KEY")));
	assert_null(header("X", PH("API_KEY") "x!"));
	assert_null(header("X", PH("")));
	assert_null(header("X", "OPENSHELL:RESOLVE:ENV:API_KEY"));
	/* Basic with an unknown placeholder inside: "<NOPE>:x" */
	assert_null(header("Authorization", "Basic b3BlbnNoZWxsOnJlc29sdmU6"
	    "ZW52Ok5PUEU6eA=="));
}

static void
test_target_clean(void **state)
{
	(void)state;
	assert_int_equal(secrets_target_clean("/a/b?c=d"), 1);
	assert_int_equal(secrets_target_clean("/" PH("X")), 0);
	assert_int_equal(secrets_target_clean("/OpenShell:Resolve:env:X"), 0);
	assert_int_equal(secrets_target_clean("/openshell%3aresolve%3aenv"
	    "%3aX"), 0);
	assert_int_equal(secrets_present("abc", 3), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrite_basic),
		cmocka_unit_test(test_rewrite_host_mismatch),
		cmocka_unit_test(test_rewrite_secrets),
		cmocka_unit_test(test_header_shapes),
		cmocka_unit_test(test_target_clean),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
