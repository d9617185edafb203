/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Forward-proxy request body framing (body.c, G9): Content-Length and
 * chunked bodies end exactly where they end, fed in any split; the
 * ambiguous framings of RFC 9112 §6.3 are refused.
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

static int	 init(const char *, struct body *);
static size_t	 feed(struct body *, const char *, size_t);

/* hdrs: header lines, each ending in CRLF. */
static int
init(const char *hdrs, struct body *b)
{
	struct http_head	 h;
	char			 buf[1024];
	int			 rc;

	snprintf(buf, sizeof(buf), "POST http://h/ HTTP/1.1\r\n%s\r\n", hdrs);
	assert_int_equal(parse_head(buf, strlen(buf), &h), 0);
	rc = body_init(b, &h);
	parse_head_free(&h);
	return rc;
}

/* Feed s in pieces of `step` bytes; total bytes taken. */
static size_t
feed(struct body *b, const char *s, size_t step)
{
	size_t	 i, n, len = strlen(s), total = 0, take;

	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		take = body_scan(b, (const unsigned char *)s + i, n);
		total += take;
		if (take < n)
			break;
	}
	return total;
}

static void
test_length(void **state)
{
	struct body	 b;

	(void)state;
	assert_int_equal(init("Content-Length: 5\r\n", &b), 0);
	assert_int_equal(b.b_mode, BODY_LENGTH);
	assert_int_equal(feed(&b, "helloGET /second HTTP/1.1\r\n", 3), 5);
	assert_true(b.b_done);
	assert_int_equal(init("Content-Length: 0\r\n", &b), 0);
	assert_true(b.b_done);
	assert_int_equal(feed(&b, "x", 1), 0);
	assert_int_equal(init("", &b), 0);
	assert_int_equal(b.b_mode, BODY_NONE);
	assert_int_equal(feed(&b, "GET / HTTP/1.1\r\n\r\n", 100), 0);
	/* identical duplicates are fine */
	assert_int_equal(init("Content-Length: 2\r\nContent-Length: 2\r\n",
	    &b), 0);
}

static void
test_chunked(void **state)
{
	static const char body[] = "5\r\nhello\r\n1;ext=1\r\n!\r\n"
	    "0\r\nTrailer: x\r\n\r\n";
	struct body	 b;
	char		 buf[256];
	size_t		 step;

	(void)state;
	snprintf(buf, sizeof(buf), "%sGET /smuggled HTTP/1.1\r\n\r\n", body);
	for (step = 1; step < sizeof(buf); step++) {
		assert_int_equal(init("Transfer-Encoding: chunked\r\n", &b), 0);
		assert_int_equal(feed(&b, buf, step), strlen(body));
		assert_true(b.b_done);
		assert_false(b.b_err);
	}
	assert_int_equal(init("Transfer-Encoding: gzip, chunked\r\n", &b), 0);
	assert_int_equal(feed(&b, "0\r\n\r\n", 2), 5);
	assert_true(b.b_done);
	assert_int_equal(init("Transfer-Encoding: chunked\r\n", &b), 0);
	assert_int_equal(feed(&b, "10\r\n0123456789abcdef\r\n0\r\n\r\n", 7),
	    27);
	assert_true(b.b_done);
}

static void
test_chunked_bad(void **state)
{
	static const char *const bad[] = {
		"x\r\n", "\r\n", "5\nhello\r\n", "5\r\nhelloX\r\n",
		"0\r\n\n", "1234567890123456\r\n", "5 \r\n",
	};
	struct body	 b;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(init("Transfer-Encoding: chunked\r\n", &b), 0);
		feed(&b, bad[i], 1);
		if (!b.b_err)
			fail_msg("accepted bad chunked body #%zu", i);
	}
}

static void
test_ambiguous(void **state)
{
	static const char *const bad[] = {
		"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
		"Content-Length: 5\r\nContent-Length: 6\r\n",
		"Content-Length: -1\r\n", "Content-Length: 5, 5\r\n",
		"Content-Length: +5\r\n", "Content-Length:\r\n",
		"Transfer-Encoding: gzip\r\n",
		"Transfer-Encoding: chunked, gzip\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
	};
	struct body	 b;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (init(bad[i], &b) != -1)
			fail_msg("accepted ambiguous framing #%zu", i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_bad),
		cmocka_unit_test(test_ambiguous),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
