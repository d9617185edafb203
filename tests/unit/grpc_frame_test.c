/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The gRPC message stream parser: chunking, limits, flags.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libgrpc/grpc_frame.h"

struct got {
	size_t	 n;
	size_t	 len[8];
	char	 data[8][32];
};

static int
collect(const uint8_t *msg, size_t len, void *arg)
{
	struct got	*g = arg;

	assert_non_null(msg);
	assert_true(g->n < 8 && len < 32);
	g->len[g->n] = len;
	memcpy(g->data[g->n], msg, len);
	g->n++;
	return 0;
}

static void
test_byte_by_byte(void **state)
{
	const uint8_t	 s[] = "\0\0\0\0\3abc\0\0\0\0\0\0\0\0\0\2hi";
	struct grpc_frame f;
	struct got	 g;
	size_t		 i;

	(void)state;
	memset(&g, 0, sizeof(g));
	grpc_frame_init(&f, 100);
	for (i = 0; i < sizeof(s) - 1; i++)
		assert_int_equal(grpc_frame_feed(&f, s + i, 1, collect, &g), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.len[0], 3);
	assert_memory_equal(g.data[0], "abc", 3);
	assert_int_equal(g.len[1], 0);		/* an empty message */
	assert_memory_equal(g.data[2], "hi", 2);
	assert_false(grpc_frame_partial(&f));
	grpc_frame_free(&f);
}

static void
test_partial_then_rest(void **state)
{
	const uint8_t	 s[] = "\0\0\0\0\5hello";
	struct grpc_frame f;
	struct got	 g;

	(void)state;
	memset(&g, 0, sizeof(g));
	grpc_frame_init(&f, 100);
	assert_int_equal(grpc_frame_feed(&f, s, 7, collect, &g), 0);
	assert_true(grpc_frame_partial(&f));
	assert_int_equal(g.n, 0);
	assert_int_equal(grpc_frame_feed(&f, s + 7, 3, collect, &g), 0);
	assert_int_equal(g.n, 1);
	assert_memory_equal(g.data[0], "hello", 5);
	grpc_frame_free(&f);
}

static void
test_too_big_before_allocating(void **state)
{
	/* Announces 4 GiB - 1 with nothing after it. */
	const uint8_t	 s[] = "\0\xff\xff\xff\xff";
	struct grpc_frame f;
	struct got	 g;

	(void)state;
	memset(&g, 0, sizeof(g));
	grpc_frame_init(&f, 1024);
	assert_int_equal(grpc_frame_feed(&f, s, 5, collect, &g),
	    GRPC_FRAME_ETOOBIG);
	assert_null(f.gf_msg);
	/* Sticky. */
	assert_int_equal(grpc_frame_feed(&f, s, 1, collect, &g),
	    GRPC_FRAME_ETOOBIG);
	grpc_frame_free(&f);
}

static void
test_flags(void **state)
{
	struct grpc_frame f;
	struct got	 g;

	(void)state;
	memset(&g, 0, sizeof(g));
	grpc_frame_init(&f, 1024);
	assert_int_equal(grpc_frame_feed(&f, (const uint8_t *)"\1\0\0\0\0", 5,
	    collect, &g), GRPC_FRAME_ECOMPRESSED);
	grpc_frame_free(&f);
	grpc_frame_init(&f, 1024);
	assert_int_equal(grpc_frame_feed(&f, (const uint8_t *)"\2\0\0\0\0", 5,
	    collect, &g), GRPC_FRAME_EFLAG);
	grpc_frame_free(&f);
}

static void
test_prefix(void **state)
{
	uint8_t	 h[GRPC_FRAME_HDR];

	(void)state;
	grpc_frame_prefix(h, 0x01020304);
	assert_memory_equal(h, "\0\1\2\3\4", 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_partial_then_rest),
		cmocka_unit_test(test_too_big_before_allocating),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
