/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The openshell CLI: openshell.c dispatches argv[1] to one command
 * group per file (admin.c: `openshell admin'); the helpers below are
 * shared by the groups.
 */

#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct ipc_wr;

/* A reply from a daemon's control socket. */
struct ctl_reply {
	uint32_t	 cr_type;	/* IPC_CTL_REPLY or IPC_CTL_ERROR */
	void		*cr_data;	/* msgpack payload, malloc'd */
	size_t		 cr_len;
};

/* openshell.c */
extern const char	*cli_progname;
void	 cli_warnx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));

/* admin.c */
int	 admin_main(int, char **);

/* ctlconn.c: one request on a control socket; -1 with errno
 * (ENOENT/ECONNREFUSED: nobody listens, ETIMEDOUT, EPROTO, ECONNRESET) */
int	 ctlconn_request(const char *, int, uint32_t, struct ipc_wr *,
	    struct ctl_reply *);
void	 ctlconn_free(struct ctl_reply *);

/* output.c */
json_t	*output_decode(const void *, size_t);
void	 output_text(FILE *, json_t *);
void	 output_json(FILE *, json_t *);

#endif /* CLI_H */
