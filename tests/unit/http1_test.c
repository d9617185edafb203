/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The strict HTTP/1.1 request-head parser.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "libgrpc/http1.h"

static struct http1_req	 r;

static ssize_t
parse(const char *s)
{
	http1_init(&r);
	return http1_feed(&r, s, strlen(s));
}

static void
test_connect_with_trailing_bytes(void **state)
{
	const char	*s = "CONNECT /connect/ssh HTTP/1.1\r\nHost: gw\r\n"
	    "X-Sandbox-Id:  abc \r\nx-sandbox-token:t\r\n\r\nSSH-2.0-x";

	(void)state;
	assert_int_equal(parse(s), strlen(s) - strlen("SSH-2.0-x"));
	assert_string_equal(r.h1_method, "CONNECT");
	assert_string_equal(r.h1_target, "/connect/ssh");
	assert_int_equal(r.h1_minor, 1);
	assert_string_equal(http1_header(&r, "x-sandbox-id"), "abc");
	assert_string_equal(http1_header(&r, "X-SANDBOX-TOKEN"), "t");
	assert_null(http1_header(&r, "missing"));
	assert_int_equal(http1_header_count(&r, "host"), 1);
}

static void
test_split_anywhere(void **state)
{
	const char	*s = "GET /healthz HTTP/1.0\r\nA: b\r\n\r\n";
	size_t		 cut, len = strlen(s);
	ssize_t		 rv;

	(void)state;
	for (cut = 1; cut < len; cut++) {
		http1_init(&r);
		assert_int_equal(http1_feed(&r, s, cut), HTTP1_MORE);
		rv = http1_feed(&r, s + cut, len - cut);
		assert_int_equal(rv, len - cut);
		assert_string_equal(r.h1_target, "/healthz");
		assert_int_equal(r.h1_minor, 0);
	}
}

static void
test_rejects(void **state)
{
	const char	*bad[] = {
		"GET / HTTP/1.1\nHost: x\n\n",		/* bare LF */
		"GET / HTTP/1.1\r\nHost: x\r\r\n\r\n",	/* bare CR */
		"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
		"GET / HTTP/1.1\r\n: x\r\n\r\n",
		"GET / HTTP/1.1\r\nA: \x01\r\n\r\n",
		"GET /\x7f HTTP/1.1\r\n\r\n",
		"\r\n\r\n",
	};
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(parse(bad[i]), HTTP1_EBAD);
	/* A NUL is refused even before the head is complete. */
	http1_init(&r);
	assert_int_equal(http1_feed(&r, "GET \0", 5), HTTP1_EBAD);
}

static void
test_limits(void **state)
{
	static char	 big[HTTP1_HEAD_MAX + 64];
	char		*p;
	int		 i;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(parse(big), HTTP1_ETOOBIG);
	p = big + sprintf(big, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP1_HEADERS_MAX + 1; i++)
		p += sprintf(p, "h%d: v\r\n", i);
	sprintf(p, "\r\n");
	assert_int_equal(parse(big), HTTP1_ETOOBIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_with_trailing_bytes),
		cmocka_unit_test(test_split_anywhere),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
