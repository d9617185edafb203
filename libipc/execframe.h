/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The frames of one ExecSandbox back to gatewayd on its socketpair
 * (control-plane.md 4.8): [u8 kind, u32 len (big-endian), data].  Both
 * the gateway's per-exec worker (svc/gateway/sshexec.c), before it
 * execs ssh-exec, and ssh-exec itself (svc/sshclient) write them.
 */

#ifndef EXECFRAME_H
#define EXECFRAME_H

#include <stddef.h>

enum {
	EXECFRAME_STDOUT = 1,
	EXECFRAME_STDERR = 2,
	EXECFRAME_EXIT = 3,		/* u32 code, big-endian */
	EXECFRAME_ERROR = 4		/* text */
};

void	 execframe_write(int, int, const void *, size_t);
void	 execframe_fail(int, const char *) __attribute__((__noreturn__));

#endif /* EXECFRAME_H */
