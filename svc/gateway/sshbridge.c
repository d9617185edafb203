/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The parent's side of the ssh bridge (msgs.def "ssh bridge"): only
 * root reaches a sandbox's SSH endpoint, the supervisor's Unix socket
 * <state>/sandboxes/<id>/run/ssh.sock (root 0600).  For a tunnel the
 * parent connects and hands gatewayd the fd; for ExecSandbox it forks
 * a short-lived worker (sshexec.c) and hands gatewayd one end of a
 * socketpair to it, so no blocking SSH client runs in an event loop.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "paths.h"
#include "log.h"
#include "proc.h"

#define SB_ID_MAX	64

static void	 sshbridge_connect_req(struct gateway *, struct ipc_msg *);
static void	 sshbridge_exec_req(struct gateway *, struct ipc_msg *);
static int	 sshbridge_id_ok(const char *);
static void	 sshbridge_reply(struct gateway *, uint32_t, const char *,
		    const char *, int);

/* 0: an ssh bridge request handled; -1: not ours. */
int
sshbridge_dispatch(struct gateway *gw, struct ipc_msg *msg)
{
	switch (ipc_type(msg)) {
	case IPC_DRIVER_SSH_CONNECT:
		sshbridge_connect_req(gw, msg);
		return 0;
	case IPC_DRIVER_SSH_EXEC:
		sshbridge_exec_req(gw, msg);
		return 0;
	default:
		return -1;
	}
}

/*
 * A non-blocking connect to a local Unix socket completes at once or
 * fails at once (ENOENT, ECONNREFUSED: the supervisor is not up;
 * EAGAIN: its backlog is full) -- the parent's loop never waits.  The
 * fd is returned blocking.  Returns the connected fd (the caller's)
 * or -1 with err set.
 */
int
sshbridge_connect(const struct gateway *gw, const char *id, char *err,
    size_t errlen)
{
	struct sockaddr_un	 sun;
	char			 path[PATH_MAX];
	int			 fd, n, dirfd = -1;

	if (!sshbridge_id_ok(id)) {
		snprintf(err, errlen, "bad sandbox id");
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/sandboxes/%s/run/ssh.sock",
	    gw->gw_state, id);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    paths_sun(path, &sun, &dirfd) == -1) {
		snprintf(err, errlen, "socket path too long");
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		if (dirfd != -1)
			close(dirfd);
		return -1;
	}
	n = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (dirfd != -1)
		close(dirfd);
	if (n == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* [str sandbox_id] */
static void
sshbridge_connect_req(struct gateway *gw, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		 id[SB_ID_MAX], err[256];
	uint32_t	 n = 0;
	int		 fd = -1;

	err[0] = '\0';
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	ipc_rd_strbuf(&r, id, sizeof(id));
	if (ipc_rd_end(&r) == -1 || n != 1) {
		log_warnx("%s: bad request from gatewayd", __func__);
		return;
	}
	fd = sshbridge_connect(gw, id, err, sizeof(err));
	sshbridge_reply(gw, ipc_peerid(msg), id, err, fd);
}

/* [str sandbox_id, str command, u32 timeout_secs] */
static void
sshbridge_exec_req(struct gateway *gw, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		 id[SB_ID_MAX], err[256], *cmd = NULL;
	uint32_t	 n = 0, timeout = 0;
	int		 fd;

	err[0] = '\0';
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	ipc_rd_strbuf(&r, id, sizeof(id));
	ipc_rd_str(&r, &cmd);
	ipc_rd_u32(&r, &timeout);
	if (ipc_rd_end(&r) == -1 || n != 3 || cmd == NULL) {
		log_warnx("%s: bad request from gatewayd", __func__);
		free(cmd);
		return;
	}
	if (!sshbridge_id_ok(id)) {
		snprintf(err, sizeof(err), "bad sandbox id");
		fd = -1;
	} else
		fd = sshexec_start(gw, id, cmd, timeout, err, sizeof(err));
	free(cmd);
	sshbridge_reply(gw, ipc_peerid(msg), id, err, fd);
}

/* A UUID's characters only: the id becomes a path component. */
static int
sshbridge_id_ok(const char *id)
{
	size_t	 len = strlen(id);

	return len > 0 && len < SB_ID_MAX && strspn(id,
	    "0123456789abcdefABCDEF-") == len;
}

/* gatewayd gets fd (ours until sent; closed here either way). */
static void
sshbridge_reply(struct gateway *gw, uint32_t peerid, const char *id,
    const char *err, int fd)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_str(&w, id);
	ipc_wr_str(&w, fd == -1 && err[0] == '\0' ? "failed" : err);
	if (proc_compose_wr(&gw->gw_tree, PROC_GATEWAY, IPC_DRIVER_SSH_FD,
	    peerid, fd, &w) == -1) {
		log_warn("%s: to gatewayd", __func__);
		if (fd != -1)
			close(fd);
	}
}
