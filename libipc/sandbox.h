/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Process self-sandboxing: privilege drop, capabilities, Landlock as
 * unveil(2) and seccomp as pledge(2).  The promise table and the
 * details are in sandbox.c.  Order in a child after exec (style.md 2.4):
 *
 *	sandbox_privdrop(uid, gid);	as root only; clears the bounding set
 *	sandbox_nnp();
 *	sandbox_dropcaps();
 *	... receive config and fds ...
 *	sandbox_unveil(path, "r"); ...; sandbox_unveil(NULL, NULL);
 *	sandbox_rlimit_nofork(); ...
 *	sandbox_pledge("stdio ...");	last, right before the event loop
 *
 * Errors from a supported kernel feature are fatal(); a missing feature
 * is one log_warnx() and the process goes on, unless sandbox_strict(1).
 */

#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/types.h>

#include <stdint.h>

/* sandbox_unveil_port() and sandbox_unveil_anyport() */
#define SANDBOX_NET_BIND	0x1
#define SANDBOX_NET_CONNECT	0x2

/* exit status of a process killed in sandbox_debug(1) mode */
#define SANDBOX_DEBUG_EXIT	(128 + 31)	/* 128 + SIGSYS */

int	 sandbox_privdrop(uid_t, gid_t);
void	 sandbox_nnp(void);
int	 sandbox_dropcaps(void);

void	 sandbox_strict(int);
void	 sandbox_debug(int);

int	 sandbox_landlock_abi(void);
int	 sandbox_unveil(const char *, const char *);
int	 sandbox_unveil_port(uint16_t, int);
int	 sandbox_unveil_anyport(int);

int	 sandbox_pledge(const char *);

/*
 * The sandboxed agent (not a daemon): Landlock from the policy's path
 * lists, and a deny-list seccomp filter.  See sandbox.c.
 */
#define SANDBOX_LL_STATUSLEN	512
int	 sandbox_landlock_paths(const char *const *, size_t,
	    const char *const *, size_t, int, char *, size_t);
int	 sandbox_agent_filter(void);

void	 sandbox_rlimit_nofork(void);
void	 sandbox_rlimit_nofiles_write(void);
void	 sandbox_rlimit_nonewfds(void);

#endif /* SANDBOX_H */
