/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libipc/control.c, the parts that need no daemon: the listening
 * socket the parent creates (mode, stale file, path limit, paths
 * longer than sun_path) and the log level names.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "paths.h"

static void
test_listen_mode(void **state)
{
	char		 dir[] = "/tmp/control_test.XXXXXX", path[128];
	struct stat	 st;
	mode_t		 old;
	int		 fd, fd2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.sock", dir);
	old = umask(0);		/* the socket must not depend on ours */
	fd = control_listen(path);
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* a stale socket from a dead gateway is replaced */
	close(fd);
	fd2 = control_listen(path);
	assert_true(fd2 >= 0);
	close(fd2);
	unlink(path);
	rmdir(dir);
}

#define NFDS	64

/* Which of the first NFDS descriptors are open. */
static void
open_fds(int *open)
{
	int	 i;

	for (i = 0; i < NFDS; i++)
		open[i] = fcntl(i, F_GETFD) != -1;
}

/*
 * A run directory whose path alone exceeds sun_path (a long
 * $XDG_STATE_HOME, pytest's tmp_path): bound and reached through the
 * directory, the socket is still where the path says.
 */
static void
test_listen_long_dir(void **state)
{
	char			 dir[] = "/tmp/control_test.XXXXXX";
	char			 sub[256], path[512];
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, cfd, afd, dirfd, i;
	int			 before[NFDS], after[NFDS];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/", dir);
	memset(sub + strlen(sub), 'd', 200 - strlen(sub));
	sub[200] = '\0';
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/gatewayd.sock", sub);
	assert_true(strlen(path) >= sizeof(sun.sun_path));
	open_fds(before);
	fd = control_listen(path);
	assert_true(fd >= 0 && fd < NFDS);
	open_fds(after);
	for (i = 0; i < NFDS; i++)	/* the directory's was closed */
		assert_int_equal(after[i], i == fd ? 1 : before[i]);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(paths_sun(path, &sun, &dirfd), 0);
	assert_true(dirfd >= 0);
	assert_non_null(strstr(sun.sun_path, "/proc/self/fd/"));
	assert_true((cfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	close(dirfd);
	assert_true((afd = accept(fd, NULL, NULL)) >= 0);
	close(afd);
	close(cfd);
	close(fd);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

/* Even through its directory, a name this long cannot be reached. */
static void
test_listen_too_long(void **state)
{
	char	 path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(control_listen(path), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void
test_levels(void **state)
{
	int	 level = 42;

	(void)state;
	assert_int_equal(control_level_parse("warn", &level), 0);
	assert_string_equal(control_level_name(level), "warn");
	assert_int_equal(control_level_parse("info", &level), 0);
	assert_int_equal(level, 0);
	assert_string_equal(control_level_name(level), "info");
	assert_int_equal(control_level_parse("debug", &level), 0);
	assert_int_equal(level, 1);
	assert_string_equal(control_level_name(level), "debug");
	assert_int_equal(control_level_parse("DEBUG", &level), -1);
	assert_int_equal(control_level_parse("", &level), -1);
	assert_string_equal(control_level_name(7), "debug");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_mode),
		cmocka_unit_test(test_listen_long_dir),
		cmocka_unit_test(test_listen_too_long),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
