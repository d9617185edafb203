/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"

static const char *paths_home(void);

/* A cluster name becomes a path component: no separators, no dot-dot. */
int
paths_name_ok(const char *name)
{
	size_t	 i, n;

	n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", name[i]) == NULL)
			return 0;
	return 1;
}

static const char *
paths_home(void)
{
	const char	*home;
	struct passwd	*pw;

	if ((home = getenv("HOME")) != NULL && home[0] == '/')
		return home;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir[0] == '/')
		return pw->pw_dir;
	return NULL;
}

int
paths_statedir(const char *name, char *buf, size_t len)
{
	const char	*xdg, *home;
	int		 n;

	if (!paths_name_ok(name))
		return -1;
	if ((xdg = getenv("XDG_STATE_HOME")) != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/openshell/clusters/%s", xdg, name);
	else if ((home = paths_home()) != NULL)
		n = snprintf(buf, len, "%s/.local/state/openshell/clusters/%s",
		    home, name);
	else
		return -1;
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int
paths_join(char *buf, size_t len, const char *dir, const char *name)
{
	int	 n;

	n = snprintf(buf, len, "%s/%s", dir, name);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int
paths_rundir(const char *statedir, char *buf, size_t len)
{
	return paths_join(buf, len, statedir, "run");
}

/* The path may exceed sun_path: paths_sun() copes with that. */
int
paths_ctlsock(const char *rundir, const char *title, char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "%s/%s.sock", rundir, title);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/*
 * A path that does not fit in sun_path goes through its directory:
 * "/proc/self/fd/<dirfd>/<name>" resolves like the path itself (same
 * permission checks, the socket is created in that directory) and is
 * short whatever the directory's name.  On success the caller owns
 * *dirfd (an O_PATH descriptor, or -1) and closes it once bind() or
 * connect() has resolved the address.
 */
int
paths_sun(const char *path, struct sockaddr_un *sun, int *dirfd)
{
	char		 dir[PATH_MAX];
	const char	*name;
	int		 fd, n;

	*dirfd = -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) <
	    sizeof(sun->sun_path))
		return 0;
	if ((name = strrchr(path, '/')) == NULL || name == path ||
	    (size_t)(name - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, name - path);
	dir[name - path] = '\0';
	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path),
	    "/proc/self/fd/%d/%s", fd, name + 1);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path)) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	*dirfd = fd;
	return 0;
}
