/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libipc/paths.c: where the gateway and the CLI look for a cluster's
 * state, and the limits on names and socket paths.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	/* Longer than sun_path's 108 bytes: paths_sun() copes. */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(paths_ctlsock(longdir, "logd", sock, sizeof(sock)),
	    0);
	assert_int_equal(paths_ctlsock(longdir, "logd", sock, 100), -1);
}

static void
test_sun(void **state)
{
	struct sockaddr_un	 sun;
	char			 dir[] = "/tmp/paths_test.XXXXXX";
	char			 sub[256], path[512], want[64];
	int			 dirfd;

	(void)state;
	assert_int_equal(paths_sun("/s/run/logd.sock", &sun, &dirfd), 0);
	assert_int_equal(sun.sun_family, AF_UNIX);
	assert_string_equal(sun.sun_path, "/s/run/logd.sock");
	assert_int_equal(dirfd, -1);

	/* a 200-byte directory: reached through a descriptor of it */
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/", dir);
	memset(sub + strlen(sub), 'd', 200 - strlen(sub));
	sub[200] = '\0';
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/logd.sock", sub);
	assert_int_equal(paths_sun(path, &sun, &dirfd), 0);
	assert_true(dirfd >= 0);
	assert_true(fcntl(dirfd, F_GETFD) & FD_CLOEXEC);
	snprintf(want, sizeof(want), "/proc/self/fd/%d/logd.sock", dirfd);
	assert_string_equal(sun.sun_path, want);
	close(dirfd);

	/* a directory that does not exist, a name that cannot fit */
	snprintf(path, sizeof(path), "%s/nothere/logd.sock", sub);
	assert_int_equal(paths_sun(path, &sun, &dirfd), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dirfd, -1);
	memset(path, 'n', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(paths_sun(path, &sun, &dirfd), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	rmdir(sub);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_statedir),
		cmocka_unit_test(test_ctlsock),
		cmocka_unit_test(test_sun),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
