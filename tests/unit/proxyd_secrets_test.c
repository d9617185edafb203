/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Host-bound credential placeholders (secrets.c, §7.3, G7): a secret
 * goes only to the hosts it is bound to, a secret with no hosts goes
 * nowhere, and placeholders in the request target (path segments,
 * query values) resolve or fail closed.
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

#define PH	PLACEHOLDER_PREFIX

static struct secrets	*make(void);

static struct secrets *
make(void)
{
	struct secrets	*s;

	s = secrets_new();
	assert_non_null(s);
	assert_int_equal(secrets_add_bound(s, PH "GH", "gh-tok",
	    "api.github.com,*.githubusercontent.com"), 0);
	assert_int_equal(secrets_add_bound(s, PH "NONE", "x", NULL), 0);
	assert_int_equal(secrets_add(s, PH "OLD", "old"), 0);
	assert_int_equal(secrets_add_bound(s, PH "SP", "a b/c", "h.test"), 0);
	assert_int_equal(secrets_add_bound(s, PH "CR", "a\r\nB: 1", "h.test"),
	    0);
	return s;
}

static void
test_for_host(void **state)
{
	struct secrets	*s = make(), *h;

	(void)state;
	h = secrets_for_host(s, "API.github.com");
	assert_non_null(h);
	assert_int_equal(h->s_n, 1);
	assert_string_equal(secrets_lookup(h, PH "GH", strlen(PH "GH")),
	    "gh-tok");
	secrets_free(h);
	h = secrets_for_host(s, "raw.githubusercontent.com");
	assert_int_equal(h->s_n, 1);
	secrets_free(h);
	/* Not bound, not bound to anything, or bound to nothing. */
	h = secrets_for_host(s, "evil.test");
	assert_int_equal(h->s_n, 0);
	secrets_free(h);
	h = secrets_for_host(s, "api.github.com.evil.test");
	assert_int_equal(h->s_n, 0);
	secrets_free(h);
	secrets_free(s);
}

static void
test_header(void **state)
{
	struct secrets	*s = make(), *h;
	char		*out;
	int		 n = 0;

	(void)state;
	h = secrets_for_host(s, "evil.test");
	assert_int_equal(secrets_header(h, "Authorization", "Bearer " PH "GH",
	    &out, &n), -1);
	secrets_free(h);
	h = secrets_for_host(s, "h.test");
	assert_int_equal(secrets_header(h, "X-A", PH "CR", &out, &n), -1);
	secrets_free(h);
	secrets_free(s);
}

static void
test_target(void **state)
{
	struct secrets	*s = make(), *h;
	char		*res, *red;
	int		 n = 0;

	(void)state;
	h = secrets_for_host(s, "api.github.com");
	assert_int_equal(secrets_target(h, "/v1/" PH "GH/x?k=" PH "GH&o=1",
	    &res, &red, &n), 0);
	assert_string_equal(res, "/v1/gh-tok/x?k=gh-tok&o=1");
	assert_string_equal(red, "/v1/[CREDENTIAL]/x?k=[CREDENTIAL]&o=1");
	assert_int_equal(n, 2);
	free(res);
	free(red);
	/* embedded in a segment */
	assert_int_equal(secrets_target(h, "/a-" PH "GH-b", &res, &red, &n),
	    0);
	assert_string_equal(res, "/a-gh-tok-b");
	free(res);
	free(red);
	/* no placeholder: untouched */
	assert_int_equal(secrets_target(h, "/a%2Fb?x=%41", &res, &red, &n),
	    0);
	assert_string_equal(res, "/a%2Fb?x=%41");
	free(res);
	free(red);
	/* unknown, not whole in a query value, percent-encoded unbound */
	assert_int_equal(secrets_target(h, "/" PH "NOPE", &res, &red, &n), -1);
	assert_int_equal(secrets_target(h, "/?k=x" PH "GH", &res, &red, &n),
	    -1);
	assert_int_equal(secrets_target(h, "/?k=openshell%3Aresolve%3Aenv%3A"
	    "NONE", &res, &red, &n), -1);
	secrets_free(h);
	/* a secret that would change the path's shape */
	h = secrets_for_host(s, "h.test");
	assert_int_equal(secrets_target(h, "/" PH "SP", &res, &red, &n), -1);
	assert_int_equal(secrets_target(h, "/?k=" PH "SP", &res, &red, &n), 0);
	assert_string_equal(res, "/?k=a%20b%2Fc");
	free(res);
	free(red);
	assert_int_equal(secrets_target(h, "/?k=" PH "CR", &res, &red, &n),
	    -1);
	secrets_free(h);
	secrets_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_for_host),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
