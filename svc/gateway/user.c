/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The unprivileged user the children drop to.  `make deps' creates it;
 * a root gateway that finds it missing creates it on first start.
 */

#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"

static void	 user_create(const char *);

/*
 * Returns 1 with the user's ids when the children should drop to them
 * (we are root), 0 when they simply keep ours.
 */
int
user_resolve(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	if (geteuid() != 0) {
		log_info("not root: children run as uid %u",
		    (unsigned int)geteuid());
		return 0;
	}
	if ((pw = getpwnam(name)) == NULL) {
		user_create(name);
		if ((pw = getpwnam(name)) == NULL)
			fatalx("user %s: not found after useradd", name);
	}
	if (pw->pw_uid == 0)
		fatalx("user %s has uid 0", name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 1;
}

/* Before any child exists, so waiting here reaps nothing else. */
static void
user_create(const char *name)
{
	char	*argv[] = { "useradd", "--system", "--no-create-home",
		    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
		    (char *)name, NULL };
	pid_t	 pid;
	int	 status;

	log_info("creating system user %s", name);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		execv("/usr/sbin/useradd", argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fatal("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fatalx("useradd %s failed", name);
}
