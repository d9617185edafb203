/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libipc/paths.c: where the gateway and the CLI look for a cluster's
 * state, and the limits on names and socket paths.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "paths.h"

static void
test_names(void **state)
{
	(void)state;
	assert_true(paths_name_ok("openshell"));
	assert_true(paths_name_ok("dev-1.test_2"));
	assert_false(paths_name_ok(""));
	assert_false(paths_name_ok("."));
	assert_false(paths_name_ok(".."));
	assert_false(paths_name_ok(".hidden"));
	assert_false(paths_name_ok("a/b"));
	assert_false(paths_name_ok("a b"));
	assert_false(paths_name_ok("x\n"));
}

static void
test_statedir(void **state)
{
	char	 buf[256];

	(void)state;
	setenv("XDG_STATE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(paths_statedir("c1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/xdg/openshell/clusters/c1");
	setenv("XDG_STATE_HOME", "relative", 1);	/* ignored, per XDG */
	assert_int_equal(paths_statedir("c1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.local/state/openshell/clusters/c1");
	unsetenv("XDG_STATE_HOME");
	assert_int_equal(paths_statedir("c1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.local/state/openshell/clusters/c1");
	assert_int_equal(paths_statedir("../x", buf, sizeof(buf)), -1);
	assert_int_equal(paths_statedir("c1", buf, 10), -1);
}

static void
test_ctlsock(void **state)
{
	char	 run[256], sock[512], longdir[200];

	(void)state;
	assert_int_equal(paths_rundir("/s", run, sizeof(run)), 0);
	assert_string_equal(run, "/s/run");
	assert_int_equal(paths_ctlsock(run, "logd", sock, sizeof(sock)), 0);
	assert_string_equal(sock, "/s/run/logd.sock");
	/* sun_path holds 108 bytes: longer paths are refused up front */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(paths_ctlsock(longdir, "logd", sock, sizeof(sock)),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_statedir),
		cmocka_unit_test(test_ctlsock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
