/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * grpc-timeout parsing and formatting, grpc-message percent-encoding.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "libgrpc/grpc_wire.h"

static void
test_timeout_units(void **state)
{
	uint64_t	 us;

	(void)state;
	assert_int_equal(grpc_wire_timeout_parse("1H", &us), 0);
	assert_int_equal(us, 3600ULL * 1000000);
	assert_int_equal(grpc_wire_timeout_parse("2M", &us), 0);
	assert_int_equal(us, 120ULL * 1000000);
	assert_int_equal(grpc_wire_timeout_parse("3S", &us), 0);
	assert_int_equal(us, 3000000);
	assert_int_equal(grpc_wire_timeout_parse("250m", &us), 0);
	assert_int_equal(us, 250000);
	assert_int_equal(grpc_wire_timeout_parse("7u", &us), 0);
	assert_int_equal(us, 7);
	assert_int_equal(grpc_wire_timeout_parse("1500n", &us), 0);
	assert_int_equal(us, 2);	/* rounded up */
	assert_int_equal(grpc_wire_timeout_parse("99999999H", &us), 0);
}

static void
test_timeout_malformed(void **state)
{
	uint64_t	 us;
	const char	*bad[] = { "", "S", "123456789S", "10", "10x", "10SS",
			    "-1S", " 1S", "1 S", "1s" };
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(grpc_wire_timeout_parse(bad[i], &us), -1);
}

static void
test_timeout_format(void **state)
{
	char		 buf[32];
	uint64_t	 us;

	(void)state;
	grpc_wire_timeout_format(1500, buf, sizeof(buf));
	assert_string_equal(buf, "1500m");
	grpc_wire_timeout_format(100000000ULL * 1000, buf, sizeof(buf));
	assert_int_equal(grpc_wire_timeout_parse(buf, &us), 0);
	grpc_wire_timeout_format(UINT64_MAX, buf, sizeof(buf));
	assert_int_equal(grpc_wire_timeout_parse(buf, &us), 0);
}

static void
test_pct_roundtrip(void **state)
{
	char		 enc[GRPC_MESSAGE_ENC_MAX], dec[GRPC_MESSAGE_MAX + 1];
	const char	*msg = "sandbox 'büro' ✗ 100%\tdone\n";

	(void)state;
	grpc_wire_pct_encode(msg, enc);
	assert_null(strchr(enc, '\t'));
	assert_null(strchr(enc, '\n'));
	assert_non_null(strstr(enc, "100%25"));
	grpc_wire_pct_decode(enc, strlen(enc), dec, sizeof(dec));
	assert_string_equal(dec, msg);
	/* Broken escapes pass through untouched. */
	grpc_wire_pct_decode("a%zz%4", 6, dec, sizeof(dec));
	assert_string_equal(dec, "a%zz%4");
}

static void
test_pct_cut_at_char_boundary(void **state)
{
	char	 in[GRPC_MESSAGE_MAX + 8], enc[GRPC_MESSAGE_ENC_MAX];
	char	 dec[GRPC_MESSAGE_MAX + 1];

	(void)state;
	memset(in, 'a', sizeof(in));
	/* A 2-byte character straddling the cut. */
	in[GRPC_MESSAGE_MAX - 1] = (char)0xc3;
	in[GRPC_MESSAGE_MAX] = (char)0xbc;
	in[sizeof(in) - 1] = '\0';
	grpc_wire_pct_encode(in, enc);
	grpc_wire_pct_decode(enc, strlen(enc), dec, sizeof(dec));
	assert_int_equal(strlen(dec), GRPC_MESSAGE_MAX - 1);
}

static void
test_code_names(void **state)
{
	(void)state;
	assert_string_equal(grpc_wire_code_name(GRPC_OK), "OK");
	assert_string_equal(grpc_wire_code_name(GRPC_UNAUTHENTICATED),
	    "UNAUTHENTICATED");
	assert_string_equal(grpc_wire_code_name(99), "UNKNOWN");
	assert_string_equal(grpc_wire_code_name(-1), "UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_units),
		cmocka_unit_test(test_timeout_malformed),
		cmocka_unit_test(test_timeout_format),
		cmocka_unit_test(test_pct_roundtrip),
		cmocka_unit_test(test_pct_cut_at_char_boundary),
		cmocka_unit_test(test_code_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
