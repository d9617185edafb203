/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Strict request parsing for the L7 relay (http.c, G6c, G6h): every
 * framing a server could read differently is refused, the head never
 * reaches into the next pipelined request, paths are judged in normal
 * form and an encoded '/' never separates segments.
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

static int	 parse(const char *, struct http_req *);
static char	*norm(const char *);

/* Parse the head at the start of s; -1 for any refusal. */
static int
parse(const char *s, struct http_req *r)
{
	ssize_t	 n;

	n = http_head_end((const unsigned char *)s, strlen(s));
	if (n <= 0)
		return -1;
	return http_req_parse((const unsigned char *)s, (size_t)n, r);
}

static char *
norm(const char *p)
{
	char	*out;

	if (http_path_normalize(p, strlen(p), &out) == -1)
		return NULL;
	return out;
}

static void
test_valid(void **state)
{
	struct http_req	 r;

	(void)state;
	assert_int_equal(parse("GET /a?b=c HTTP/1.1\r\nHost: h.test\r\n"
	    "X-A:  v  \r\n\r\n", &r), 0);
	assert_string_equal(r.r_head.h_method, "GET");
	assert_string_equal(r.r_head.h_target, "/a?b=c");
	assert_string_equal(r.r_host, "h.test");
	assert_string_equal(parse_header(&r.r_head, "x-a"), "v");
	assert_int_equal(r.r_body.b_mode, BODY_NONE);
	assert_int_equal(r.r_close, 0);
	http_req_free(&r);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 5\r\n\r\n", &r), 0);
	assert_int_equal(r.r_body.b_mode, BODY_LENGTH);
	http_req_free(&r);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &r), 0);
	assert_int_equal(r.r_body.b_mode, BODY_CHUNKED);
	http_req_free(&r);
	/* Any method token is parsed (and judged later), G6a. */
	assert_int_equal(parse("PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n", &r),
	    0);
	http_req_free(&r);
	assert_int_equal(parse("get / HTTP/1.0\r\n\r\n", &r), 0);
	assert_int_equal(r.r_close, 1);
	http_req_free(&r);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		/* CL.TE and TE.CL */
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Length: 4\r\n\r\n",
		/* duplicate CL, equal or not */
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
		    "Content-Length: 5\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
		    "Content-Length: 4\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4, 4\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +4\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n",
		/* codings */
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, "
		    "chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked"
		    "\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
		/* whitespace before colon, obs-fold */
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 4\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n\tX-A: a\r\n\r\n",
		/* versions, request line */
		"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET / http/1.1\r\nHost: h\r\n\r\n",
		"GET /  HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET http://other/ HTTP/1.1\r\nHost: h\r\n\r\n",
		"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
		/* Host: missing or twice */
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		/* control bytes, bad UTF-8 */
		"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX-A: \xc0\xaf\r\n\r\n",
	};
	struct http_req	 r;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &r) != -1)
			fail_msg("accepted #%zu: %s", i, bad[i]);
}

static void
test_head_end(void **state)
{
	const char	*two = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
			    "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	char		*big;
	ssize_t		 n;

	(void)state;
	/* The first head ends exactly before the second request. */
	n = http_head_end((const unsigned char *)two, strlen(two));
	assert_int_equal(n, strlen(two) / 2);
	/* Incomplete: more bytes needed. */
	assert_int_equal(http_head_end((const unsigned char *)two, 20), 0);
	/* Bare LF anywhere in the head. */
	assert_int_equal(http_head_end((const unsigned char *)
	    "GET / HTTP/1.1\nHost: h\r\n\r\n", 26), HTTP_BAD);
	assert_int_equal(http_head_end((const unsigned char *)
	    "GET / HTTP/1.1\r\nHost: h\n\n", 25), HTTP_BAD);
	/* 16 KiB without an end. */
	big = malloc(HTTP_HEAD_MAX + 10);
	assert_non_null(big);
	memset(big, 'a', HTTP_HEAD_MAX + 10);
	assert_int_equal(http_head_end((unsigned char *)big,
	    HTTP_HEAD_MAX + 10), HTTP_TOO_BIG);
	free(big);
}

static void
test_flags(void **state)
{
	struct http_req	 r;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: "
	    "Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: x"
	    "\r\n\r\n", &r), 0);
	assert_true(r.r_h2c);
	http_req_free(&r);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: "
	    "upgrade\r\nUpgrade: websocket\r\n\r\n", &r), 0);
	assert_true(r.r_upgrade && r.r_connupgrade && !r.r_h2c);
	http_req_free(&r);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: "
	    "close\r\n\r\n", &r), 0);
	assert_true(r.r_close);
	http_req_free(&r);
}

static void
test_normalize(void **state)
{
	static const char *const ok[][2] = {
		{ "/", "/" },
		{ "/a/b", "/a/b" },
		{ "/allowed/../secret", "/secret" },
		{ "/allowed/%2e%2e/secret", "/secret" },
		{ "/allowed/%2E%2e/secret", "/secret" },
		{ "//secret", "/secret" },
		{ "/a//b///c", "/a/b/c" },
		{ "/a/./b/.", "/a/b/" },
		{ "/../../x", "/x" },
		{ "/a/b/", "/a/b/" },
		{ "/%61%7Ez", "/a~z" },
		{ "/a%2Fb", "/a%2Fb" },
		{ "/a%2fb/c", "/a%2Fb/c" },
		{ "/a%20b", "/a%20b" },
		{ "/a/..", "/" },
	};
	static const char *const bad[] = {
		"", "a", "/a%2", "/a%zz", "/a\\..\\b",
		"/allowed/..%2Fsecret", "/allowed/%2F..%2Fsecret",
		"/allowed/.%2e%2Fx", "/a/%5C..%5Cb", "/a b",
	};
	char	*o;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		o = norm(ok[i][0]);
		if (o == NULL || strcmp(o, ok[i][1]) != 0)
			fail_msg("%s -> %s, want %s", ok[i][0],
			    o != NULL ? o : "(error)", ok[i][1]);
		free(o);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if ((o = norm(bad[i])) != NULL)
			fail_msg("accepted %s -> %s", bad[i], o);
}

static void
test_query(void **state)
{
	struct http_query	 q;

	(void)state;
	assert_int_equal(http_query_parse("a=1&b=x+y&c=%41%2F&d&&a=2", &q), 0);
	assert_int_equal(q.q_n, 5);
	assert_string_equal(q.q_p[0].key, "a");
	assert_string_equal(q.q_p[0].value, "1");
	assert_string_equal(q.q_p[1].value, "x y");
	assert_string_equal(q.q_p[2].value, "A/");
	assert_string_equal(q.q_p[3].key, "d");
	assert_string_equal(q.q_p[3].value, "");
	assert_string_equal(q.q_p[4].value, "2");
	http_query_free(&q);
	assert_int_equal(http_query_parse("a=%2", &q), -1);
	assert_int_equal(http_query_parse("a=%zz", &q), -1);
	assert_int_equal(http_query_parse("a=%00", &q), -1);
	assert_int_equal(http_query_parse("a=%ff", &q), -1);
}

static void
test_host(void **state)
{
	(void)state;
	assert_true(http_host_matches("api.test", "api.test", 80, 80));
	assert_true(http_host_matches("API.test:8080", "api.test", 8080, 80));
	assert_true(http_host_matches("[2001:db8::1]:9000", "2001:db8::1",
	    9000, 80));
	assert_false(http_host_matches("api.test", "api.test", 8080, 80));
	assert_false(http_host_matches("evil.test", "api.test", 80, 80));
	assert_false(http_host_matches("api.test.evil", "api.test", 80, 80));
	assert_false(http_host_matches("api.test:81", "api.test", 80, 80));
	assert_false(http_host_matches("api.test:", "api.test", 80, 80));
	assert_false(http_host_matches("api.test:+80", "api.test", 80, 80));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_head_end),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
