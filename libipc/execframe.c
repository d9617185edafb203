/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * ExecSandbox frames to gatewayd (execframe.h).  Their writers are
 * short-lived processes with nobody else to report to: a failed write
 * means gatewayd is gone, and the process exits.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "execframe.h"

static void	 execframe_put(int, const void *, size_t);

/* One frame of kind on sfd; _exit(0) if gatewayd is gone. */
void
execframe_write(int sfd, int kind, const void *data, size_t len)
{
	uint8_t	 hdr[5];

	hdr[0] = (uint8_t)kind;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	execframe_put(sfd, hdr, sizeof(hdr));
	execframe_put(sfd, data, len);
}

static void
execframe_put(int fd, const void *data, size_t len)
{
	const uint8_t	*p = data;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		p += n;
		len -= (size_t)n;
	}
}

/* An error frame with msg, then _exit(1). */
void
execframe_fail(int sfd, const char *msg)
{
	execframe_write(sfd, EXECFRAME_ERROR, msg, strlen(msg));
	_exit(1);
}
