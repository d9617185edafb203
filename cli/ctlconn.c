/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * One request to a daemon's control socket: connect, IPC_HELLO as
 * PROC_CONTROL (ipc_ev does the handshake and the sender policy), send,
 * and wait for the reply or CONTROL_TIMEOUT seconds.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "control.h"
#include "ipc_ev.h"
#include "msgs.h"
#include "paths.h"

struct ctlconn {
	struct event_base	*cn_base;
	struct ipc_ev		 cn_ev;
	int			 cn_open;
	int			 cn_err;	/* 0 once a reply arrived */
	struct ctl_reply	*cn_reply;
};

static int	 ctlconn_connect(const char *);
static void	 ctlconn_dispatch(struct ipc_ev *, struct ipc_msg *, void *);
static void	 ctlconn_closed(struct ipc_ev *, int, void *);
static void	 ctlconn_timeout(int, short, void *);

int
ctlconn_request(const char *path, int proc, uint32_t type, struct ipc_wr *w,
    struct ctl_reply *rep)
{
	struct ctlconn	 cn;
	struct event	*timer;
	struct timeval	 tv = { CONTROL_TIMEOUT, 0 };
	int		 fd;

	memset(rep, 0, sizeof(*rep));
	memset(&cn, 0, sizeof(cn));
	cn.cn_err = ETIMEDOUT;
	cn.cn_reply = rep;
	if ((fd = ctlconn_connect(path)) == -1) {
		cn.cn_err = errno;
		ipc_wr_free(w);
		errno = cn.cn_err;
		return -1;
	}
	if ((cn.cn_base = event_base_new()) == NULL ||
	    (timer = evtimer_new(cn.cn_base, ctlconn_timeout, &cn)) == NULL) {
		close(fd);
		ipc_wr_free(w);
		errno = ENOMEM;
		return -1;
	}
	if (ipc_ev_open(&cn.cn_ev, cn.cn_base, fd, PROC_CONTROL, proc,
	    ctlconn_dispatch, ctlconn_closed, &cn) == -1) {
		ipc_wr_free(w);
		cn.cn_err = errno;
		goto done;
	}
	cn.cn_open = 1;
	ipc_set_maxsize(&cn.cn_ev.ie_ib, CONTROL_MAXSIZE);
	if (ipc_ev_compose_wr(&cn.cn_ev, type, (uint32_t)getpid(), -1, w) ==
	    -1) {
		cn.cn_err = errno;
		goto done;
	}
	evtimer_add(timer, &tv);
	event_base_dispatch(cn.cn_base);
 done:
	if (cn.cn_open)
		ipc_ev_close(&cn.cn_ev);
	event_free(timer);
	event_base_free(cn.cn_base);
	if (cn.cn_err != 0) {
		ctlconn_free(rep);
		errno = cn.cn_err;
		return -1;
	}
	return 0;
}

void
ctlconn_free(struct ctl_reply *rep)
{
	free(rep->cr_data);
	rep->cr_data = NULL;
	rep->cr_len = 0;
}

/* A blocking connect (a Unix socket answers at once), then ipc_ev
 * makes the fd non-blocking.  The caller owns the fd. */
static int
ctlconn_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, dirfd, saved;

	if (paths_sun(path, &sun, &dirfd) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1 &&
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
	saved = errno;
	if (dirfd != -1)
		close(dirfd);
	errno = saved;
	return fd;
}

static void
ctlconn_dispatch(struct ipc_ev *ev, struct ipc_msg *msg, void *arg)
{
	struct ctlconn	*cn = arg;
	const void	*data;
	size_t		 len;

	(void)ev;
	if (cn->cn_err != ETIMEDOUT)
		return;		/* one reply per request */
	data = ipc_data(msg, &len);
	cn->cn_reply->cr_type = ipc_type(msg);
	if (len > 0 && (cn->cn_reply->cr_data = malloc(len)) == NULL) {
		cn->cn_err = ENOMEM;
	} else {
		if (len > 0)
			memcpy(cn->cn_reply->cr_data, data, len);
		cn->cn_reply->cr_len = len;
		cn->cn_err = 0;
	}
	event_base_loopbreak(cn->cn_base);
}

/* EOF before a reply: the daemon refused us (SO_PEERCRED, too many
 * clients) or dropped the request. */
static void
ctlconn_closed(struct ipc_ev *ev, int err, void *arg)
{
	struct ctlconn	*cn = arg;

	cn->cn_open = 0;
	ipc_ev_close(ev);
	cn->cn_err = err != 0 ? EPROTO : ECONNRESET;
	event_base_loopbreak(cn->cn_base);
}

static void
ctlconn_timeout(int fd, short event, void *arg)
{
	struct ctlconn	*cn = arg;

	(void)fd;
	(void)event;
	cn->cn_err = ETIMEDOUT;
	event_base_loopbreak(cn->cn_base);
}
