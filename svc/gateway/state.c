/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The gateway's state directory: <state> and <state>/run, both 0700
 * and ours, and the pid file that doubles as the "already running"
 * lock.
 */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"
#include "paths.h"

static void	 state_mkdirs(const char *);
static void	 state_check(const char *);

/*
 * Missing components are created 0700.  The last two must be
 * directories we own, not links, and are narrowed to 0700: the run
 * directory holds the control sockets.
 */
void
state_dirs(const char *state, const char *run)
{
	state_mkdirs(state);
	state_check(state);
	if (mkdir(run, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", run);
	state_check(run);
}

static void
state_mkdirs(const char *path)
{
	char	 buf[PATH_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		fatalx("%s: path too long", __func__);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			fatal("mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", buf);
}

static void
state_check(const char *path)
{
	struct stat	 st;

	if (lstat(path, &st) == -1)
		fatal("%s", path);
	if (!S_ISDIR(st.st_mode))
		fatalx("%s: not a directory", path);
	if (st.st_uid != geteuid())
		fatalx("%s: owned by uid %u, not us", path,
		    (unsigned int)st.st_uid);
	if ((st.st_mode & 077) != 0 && chmod(path, 0700) == -1)
		fatal("chmod %s", path);
}

/*
 * An exclusive lock on the pid file says a gateway runs on this state
 * directory; it is released by the kernel however we die.  The fd is
 * close-on-exec and stays open (and locked) for our lifetime.
 */
int
state_pidfile(const char *run, char *path, size_t len)
{
	int	 fd;

	if (paths_join(path, len, run, GATEWAY_PIDFILE) == -1)
		fatalx("pid file path too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644)) == -1)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("a gateway is already running on %s", run);
		fatal("flock %s", path);
	}
	if (ftruncate(fd, 0) == -1 || dprintf(fd, "%d\n", (int)getpid()) < 0)
		fatal("%s", path);
	return fd;
}
