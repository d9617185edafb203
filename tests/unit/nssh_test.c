/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libnssh: the preface's signature, window, replay cache and parser.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "libnssh/nssh.h"

#define SECRET	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NOW	1700000000LL

static struct nssh_cache	*cache;

static int
setup(void **state)
{
	(void)state;
	cache = nssh_cache_new();
	return cache == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	nssh_cache_free(cache);
	return 0;
}

static int
verify(const char *line, int64_t now, const char **why)
{
	return nssh_line_verify(SECRET, line, now, 300, cache, why);
}

/* A known vector, computed independently (python hmac). */
static void
test_sign_vector(void **state)
{
	char	 hex[NSSH_HEXLEN + 1];

	(void)state;
	assert_int_equal(nssh_sign("k", "t", 1, "n", hex), 0);
	assert_string_equal(hex,
	    "3791e0077fe6dc7d0a72ec812f94bfea9de0163b4153f70c63a114ff9758ff53");
}

static void
test_roundtrip(void **state)
{
	char		 line[NSSH_LINE_MAX];
	const char	*why;

	(void)state;
	assert_int_equal(nssh_line_build(SECRET, "tok", NOW, "nonce-1", line,
	    sizeof(line)), 0);
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_int_equal(verify(line, NOW, &why), 0);
	assert_string_equal(why, "ok");
	assert_int_equal(nssh_cache_size(cache), 1);
}

static void
test_wrong_hmac(void **state)
{
	char		 line[NSSH_LINE_MAX];
	const char	*why;
	size_t		 n;

	(void)state;
	assert_int_equal(nssh_line_build("other secret", "tok", NOW, "n2",
	    line, sizeof(line)), 0);
	assert_int_equal(verify(line, NOW, &why), -1);
	assert_string_equal(why, "bad signature");
	/* One flipped hex digit. */
	assert_int_equal(nssh_line_build(SECRET, "tok", NOW, "n3", line,
	    sizeof(line)), 0);
	n = strlen(line) - 2;
	line[n] = line[n] == '0' ? '1' : '0';
	assert_int_equal(verify(line, NOW, &why), -1);
	assert_string_equal(why, "bad signature");
	/* Upper case is another signature (a plain string compare). */
	assert_int_equal(nssh_line_build(SECRET, "tok", NOW, "n4", line,
	    sizeof(line)), 0);
	for (n = strlen(line) - 65; line[n] != '\n'; n++)
		if (line[n] >= 'a' && line[n] <= 'f')
			line[n] -= 'a' - 'A';
	assert_int_equal(verify(line, NOW, &why), -1);
	assert_int_equal(nssh_cache_size(cache), 0);
}

static void
test_skew(void **state)
{
	char		 line[NSSH_LINE_MAX];
	const char	*why;

	(void)state;
	assert_int_equal(nssh_line_build(SECRET, "tok", NOW - 301, "a", line,
	    sizeof(line)), 0);
	assert_int_equal(verify(line, NOW, &why), -1);
	assert_string_equal(why, "timestamp outside the skew window");
	assert_int_equal(nssh_line_build(SECRET, "tok", NOW + 301, "b", line,
	    sizeof(line)), 0);
	assert_int_equal(verify(line, NOW, &why), -1);
	assert_string_equal(why, "timestamp outside the skew window");
	/* The edges are inside. */
	assert_int_equal(nssh_line_build(SECRET, "tok", NOW - 300, "c", line,
	    sizeof(line)), 0);
	assert_int_equal(verify(line, NOW, &why), 0);
	assert_int_equal(nssh_line_build(SECRET, "tok", NOW + 300, "d", line,
	    sizeof(line)), 0);
	assert_int_equal(verify(line, NOW, &why), 0);
}

static void
test_replay(void **state)
{
	char		 line[NSSH_LINE_MAX];
	const char	*why;

	(void)state;
	assert_int_equal(nssh_line_build(SECRET, "tok", NOW, "same", line,
	    sizeof(line)), 0);
	assert_int_equal(verify(line, NOW, &why), 0);
	assert_int_equal(verify(line, NOW + 1, &why), -1);
	assert_string_equal(why, "replayed nonce");
	/* Another token does not launder the nonce. */
	assert_int_equal(nssh_line_build(SECRET, "tok2", NOW, "same", line,
	    sizeof(line)), 0);
	assert_int_equal(verify(line, NOW, &why), -1);
	/* Once the window is over the entry goes; the old line is then
	 * rejected by its timestamp instead. */
	nssh_cache_purge(cache, NOW + 301);
	assert_int_equal(nssh_cache_size(cache), 0);
	assert_int_equal(verify(line, NOW + 301, &why), -1);
	assert_string_equal(why, "timestamp outside the skew window");
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"NSSH1\n",
		"NSSH1 tok 1700000000 nonce\n",
		"NSSH1 tok 1700000000 nonce " "aa" " extra\n",
		"NSSH2 tok 1700000000 nonce "
		    "0000000000000000000000000000000000000000000000000000000000000000\n",
		"NSSH1  tok 1700000000 nonce "
		    "0000000000000000000000000000000000000000000000000000000000000000\n",
		"NSSH1 tok\t1700000000 nonce "
		    "0000000000000000000000000000000000000000000000000000000000000000\n",
		"NSSH1 tok 1700000000 nonce "
		    "0000000000000000000000000000000000000000000000000000000000000000 \n",
	};
	char		 line[NSSH_LINE_MAX], hex[NSSH_HEXLEN + 1];
	const char	*why;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(verify(bad[i], NOW, &why), -1);
		assert_string_equal(why, "malformed");
	}
	/* "a|1700000000" + "n" signs the same text as "a" + "1700000000|n":
	 * a "|" in a token or nonce is refused, on both sides. */
	assert_int_equal(nssh_sign(SECRET, "a", NOW, "n", hex), 0);
	snprintf(line, sizeof(line), "NSSH1 a %lld n %s\n", NOW, hex);
	assert_int_equal(verify(line, NOW, &why), 0);
	snprintf(line, sizeof(line), "NSSH1 a|%lld %lld n %s\n", NOW, NOW,
	    hex);
	assert_int_equal(verify(line, NOW, &why), -1);
	assert_string_equal(why, "malformed");
	assert_int_equal(nssh_line_build(SECRET, "a|b", NOW, "n", line,
	    sizeof(line)), -1);
	assert_int_equal(nssh_line_build(SECRET, "a", NOW, "n|x", line,
	    sizeof(line)), -1);
}

static void
test_bad_ts(void **state)
{
	static const char *const ts[] = { "-5", "17e8", "abc", "+1700000000",
	    "1700000000000000", "0x10" };
	char		 line[NSSH_LINE_MAX], hex[NSSH_HEXLEN + 1];
	const char	*why;
	size_t		 i;

	(void)state;
	assert_int_equal(nssh_sign(SECRET, "tok", NOW, "z", hex), 0);
	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		snprintf(line, sizeof(line), "NSSH1 tok %s z %s\n", ts[i], hex);
		assert_int_equal(verify(line, NOW, &why), -1);
		assert_string_equal(why, "bad timestamp");
	}
}

static void
test_too_long(void **state)
{
	char		 tok[NSSH_LINE_MAX + 8], line[NSSH_LINE_MAX * 2];
	const char	*why;

	(void)state;
	memset(tok, 't', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	assert_int_equal(nssh_line_build(SECRET, tok, NOW, "n", line,
	    sizeof(line)), -1);
	snprintf(line, sizeof(line), "NSSH1 %s 1700000000 n x\n", tok);
	assert_int_equal(verify(line, NOW, &why), -1);
	assert_string_equal(why, "malformed");
	/* A field over 256 bytes in a line that fits. */
	tok[300] = '\0';
	assert_int_equal(nssh_line_build(SECRET, tok, NOW, "n", line,
	    sizeof(line)), 0);
	assert_int_equal(verify(line, NOW, &why), -1);
	assert_string_equal(why, "malformed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vector),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_hmac, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_skew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_ts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
