/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * cli/config.c: which gateway a command talks to (control-plane §5.1:
 * --gateway-endpoint, -g, OPENSHELL_GATEWAY, active_cluster), the
 * endpoint URL forms, the files and modes of the client configuration,
 * and last_sandbox.
 */

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"

const char		*cli_progname = "cli_config_test";
struct cli_global	 cli_global;
static char		 home[64];

void
cli_warnx(const char *fmt, ...)
{
	(void)fmt;
}

static int
setup(void **state)
{
	(void)state;
	strlcpy(home, "/tmp/cli_config_test.XXXXXX", sizeof(home));
	assert_non_null(mkdtemp(home));
	setenv("XDG_CONFIG_HOME", home, 1);
	unsetenv("OPENSHELL_GATEWAY");
	memset(&cli_global, 0, sizeof(cli_global));
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The mode of a file under $XDG_CONFIG_HOME/openshell/clusters. */
static int
mode_of(const char *rel)
{
	char		 path[256];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/openshell/clusters/%s", home, rel);
	if (stat(path, &st) == -1)
		return -1;
	return (int)(st.st_mode & 07777);
}

static void
test_no_gateway(void **state)
{
	struct config_gw	 gw;

	(void)state;
	assert_int_equal(config_resolve(&gw), -1);
	cli_global.cg_gateway = "missing";
	assert_int_equal(config_resolve(&gw), -1);
}

static void
test_order_and_files(void **state)
{
	struct config_gw	 gw;
	char			 want[256];

	(void)state;
	assert_int_equal(config_metadata_write("a", "127.0.0.1", 1234, "/s"),
	    0);
	assert_int_equal(config_metadata_write("b", "::1", 99, "/t"), 0);
	assert_int_equal(mode_of("a"), 0700);
	assert_int_equal(mode_of("a/metadata.json"), 0600);
	assert_int_equal(config_active_write("a"), 0);
	assert_int_equal(config_resolve(&gw), 0);
	assert_string_equal(gw.name, "a");
	assert_string_equal(gw.endpoint, "https://127.0.0.1:1234");
	assert_string_equal(gw.host, "127.0.0.1");
	assert_string_equal(gw.port, "1234");
	snprintf(want, sizeof(want), "%s/openshell/clusters/a/mtls", home);
	assert_string_equal(gw.mtls, want);
	/* The environment beats active_cluster, the flag beats both. */
	setenv("OPENSHELL_GATEWAY", "b", 1);
	assert_int_equal(config_resolve(&gw), 0);
	assert_string_equal(gw.name, "b");
	assert_string_equal(gw.host, "::1");
	assert_string_equal(gw.port, "99");
	cli_global.cg_gateway = "a";
	assert_int_equal(config_resolve(&gw), 0);
	assert_string_equal(gw.name, "a");
	/* An explicit endpoint wins and finds its gateway's name. */
	cli_global.cg_gateway = NULL;
	cli_global.cg_endpoint = "https://[::1]:99/";
	assert_int_equal(config_resolve(&gw), 0);
	assert_string_equal(gw.name, "b");
	assert_string_equal(gw.endpoint, "https://[::1]:99");
}

static void
test_endpoint_forms(void **state)
{
	struct config_gw	 gw;
	const char		*bad[] = { "ftp://x", "https://", "https://h:abc",
	    "https://h/x", "http://h:1", "https://[::1", "https://h:" };
	size_t			 i;

	(void)state;
	cli_global.cg_endpoint = "https://gw.example.com";
	assert_int_equal(config_resolve(&gw), 0);
	assert_string_equal(gw.port, "443");
	assert_string_equal(gw.name, "gw.example.com");
	cli_global.cg_endpoint = "https://localhost:8080";
	assert_int_equal(config_resolve(&gw), 0);
	assert_string_equal(gw.name, "openshell");
	assert_string_equal(gw.host, "localhost");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cli_global.cg_endpoint = bad[i];
		assert_int_equal(config_resolve(&gw), -1);
	}
}

static void
test_last_sandbox(void **state)
{
	struct config_gw	 gw;
	char			 buf[64];

	(void)state;
	assert_int_equal(config_metadata_write("a", "127.0.0.1", 1, "/s"), 0);
	cli_global.cg_gateway = "a";
	assert_int_equal(config_resolve(&gw), 0);
	assert_int_equal(config_last_sandbox(&gw, buf, sizeof(buf)), -1);
	assert_int_equal(config_sandbox_arg(&gw, NULL, buf, sizeof(buf)), -1);
	config_last_sandbox_set(&gw, "sb1");
	assert_int_equal(config_sandbox_arg(&gw, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sb1");
	assert_int_equal(config_sandbox_arg(&gw, "x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "x");
	config_last_sandbox_clear(&gw, "other");
	assert_int_equal(config_last_sandbox(&gw, buf, sizeof(buf)), 0);
	config_last_sandbox_clear(&gw, "sb1");
	assert_int_equal(config_last_sandbox(&gw, buf, sizeof(buf)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_gateway, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order_and_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_forms, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_last_sandbox, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
