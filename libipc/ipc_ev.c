/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc_ev.h"
#include "log.h"
#include "msgs.h"

static int	 ipc_ev_arm(struct ipc_ev *);
static void	 ipc_ev_cb(evutil_socket_t, short, void *);
static int	 ipc_ev_read(struct ipc_ev *, int *);
static void	 ipc_ev_wfail(struct ipc_ev *, int, int *);
static int	 ipc_ev_check(struct ipc_ev *, struct ipc_msg *);
static int	 ipc_ev_hello(struct ipc_ev *, struct ipc_msg *);
static int	 ipc_ev_sendhello(struct ipc_ev *);
static void	 ipc_ev_fail(struct ipc_ev *, int);
static int	 ipc_ev_queue_wr(struct ipc_ev *, uint32_t, uint32_t, int,
		    struct ipc_wr *);

/* ev owns fd from here on, whatever the outcome. */
int
ipc_ev_open(struct ipc_ev *ev, struct event_base *base, int fd, int self,
    int peer, void (*dispatch)(struct ipc_ev *, struct ipc_msg *, void *),
    void (*closed)(struct ipc_ev *, int, void *), void *arg)
{
	int	 flags, saved;

	memset(ev, 0, sizeof(*ev));
	ipc_init(&ev->ie_ib, fd);
	ev->ie_base = base;
	ev->ie_self = self;
	ev->ie_peer = peer;
	ev->ie_dispatch = dispatch;
	ev->ie_closed = closed;
	ev->ie_arg = arg;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto fail;
	if ((ev->ie_ev = event_new(base, fd, 0, ipc_ev_cb, ev)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if (ipc_ev_sendhello(ev) == -1 || ipc_ev_arm(ev) == -1)
		goto fail;
	return 0;
 fail:
	saved = errno;
	ipc_ev_close(ev);
	errno = saved;
	return -1;
}

static int
ipc_ev_sendhello(struct ipc_ev *ev)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_u32(&w, IPC_VERSION);
	ipc_wr_str(&w, IPC_BUILD);
	ipc_wr_u32(&w, (uint32_t)ev->ie_self);
	return ipc_wr_close(&w, &ev->ie_ib, IPC_HELLO, 0, 0, -1);
}

/* Always EV_READ; EV_WRITE only while there is output queued. */
static int
ipc_ev_arm(struct ipc_ev *ev)
{
	short	 events = EV_READ | EV_PERSIST;

	if (ev->ie_ev == NULL)
		return 0;
	if (ipc_queuelen(&ev->ie_ib) > 0)
		events |= EV_WRITE;
	if (events == ev->ie_events)
		return 0;
	event_del(ev->ie_ev);
	ev->ie_events = 0;
	if (event_assign(ev->ie_ev, ev->ie_base, ev->ie_ib.ib_fd, events,
	    ipc_ev_cb, ev) == -1 || event_add(ev->ie_ev, NULL) == -1)
		return -1;
	ev->ie_events = events;
	return 0;
}

void
ipc_ev_add(struct ipc_ev *ev)
{
	if (ipc_ev_arm(ev) == -1)
		fatalx("%s: cannot arm the event of a channel to %s", __func__,
		    proc_name(ev->ie_peer));
}

/*
 * A dispatch callback may close and free its channel.  ie_alive points
 * at a flag on this frame's stack that ipc_ev_close clears, so after
 * each dispatch we know whether ev may still be touched.
 */
static void
ipc_ev_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ipc_ev	*ev = arg;
	int		 alive = 1;

	(void)fd;
	ev->ie_alive = &alive;
	if ((events & EV_READ) && ipc_ev_read(ev, &alive) == -1)
		return;
	if ((events & EV_WRITE) && ipc_write(&ev->ie_ib) == -1) {
		ipc_ev_wfail(ev, errno, &alive);
		return;
	}
	ev->ie_alive = NULL;
	ipc_ev_add(ev);
}

/*
 * A peer that went away may have left messages behind: deliver them,
 * so that its EOF is what gets reported rather than our write's EPIPE.
 */
static void
ipc_ev_wfail(struct ipc_ev *ev, int err, int *alive)
{
	int	 rc = 0;

	if (err == EPIPE || err == ECONNRESET)
		while ((rc = ipc_ev_read(ev, alive)) == 1)
			;
	if (rc != -1)
		ipc_ev_fail(ev, err);
}

/*
 * 1: read and dispatched; 0: nothing to read; -1: the channel was
 * closed and ev must not be touched again.
 */
static int
ipc_ev_read(struct ipc_ev *ev, int *alive)
{
	struct ipc_msg	 msg;
	ssize_t		 n;
	int		 rc;

	if ((n = ipc_read(&ev->ie_ib)) == -1 && errno == EAGAIN)
		return 0;
	if (n == -1) {
		if (errno == EPROTO)
			log_warnx("%s: truncated control data from %s",
			    __func__, proc_name(ev->ie_peer));
		ipc_ev_fail(ev, errno);
		return -1;
	}
	if (n == 0) {
		ipc_ev_fail(ev, 0);
		return -1;
	}
	while ((rc = ipc_get(&ev->ie_ib, &msg)) != 0) {
		if (rc == -1) {
			log_warn("%s: bad frame from %s", __func__,
			    proc_name(ev->ie_peer));
			ipc_ev_fail(ev, errno == ENOMEM ? ENOMEM : EPROTO);
			return -1;
		}
		if ((rc = ipc_ev_check(ev, &msg)) == -1) {
			ipc_free(&msg);
			ipc_ev_fail(ev, EPROTO);
			return -1;
		}
		if (rc == 0)
			ev->ie_dispatch(ev, &msg, ev->ie_arg);
		ipc_free(&msg);
		if (!*alive)
			return -1;
	}
	return 1;
}

/* 0: dispatch it; 1: consumed here (HELLO); -1: protocol violation. */
static int
ipc_ev_check(struct ipc_ev *ev, struct ipc_msg *msg)
{
	uint32_t	 type = ipc_type(msg);

	if (!ev->ie_hello) {
		if (type != IPC_HELLO) {
			log_warnx("%s: %s sent %s (%u) before IPC_HELLO",
			    __func__, proc_name(ev->ie_peer),
			    ipc_type_str(type), type);
			return -1;
		}
		if (ipc_ev_hello(ev, msg) == -1)
			return -1;
		ev->ie_hello = 1;
		return 1;
	}
	if (type == IPC_HELLO ||
	    !ipc_msg_allowed(type, ev->ie_peer, ev->ie_self)) {
		log_warnx("%s: %s (%u) from %s to %s is not allowed",
		    __func__, ipc_type_str(type), type,
		    proc_name(ev->ie_peer), proc_name(ev->ie_self));
		return -1;
	}
	return 0;
}

/* [u32 version, str build, u32 proc] */
static int
ipc_ev_hello(struct ipc_ev *ev, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	uint32_t	 n, version, proc;
	char		*build;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	ipc_rd_u32(&r, &version);
	if (ipc_rd_error(&r) == 0 && version != IPC_VERSION) {
		ipc_rd_end(&r);
		log_warnx("%s: %s speaks protocol version %u, we speak %u",
		    __func__, proc_name(ev->ie_peer), version, IPC_VERSION);
		return -1;
	}
	ipc_rd_str(&r, &build);
	ipc_rd_u32(&r, &proc);
	if (ipc_rd_end(&r) == -1) {
		free(build);
		log_warnx("%s: malformed IPC_HELLO from %s", __func__,
		    proc_name(ev->ie_peer));
		return -1;
	}
	if (strcmp(build, IPC_BUILD) != 0)
		log_debug("%s: %s was built differently", __func__,
		    proc_name(ev->ie_peer));
	free(build);
	if (proc != (uint32_t)ev->ie_peer) {
		log_warnx("%s: IPC_HELLO from %s where %s was expected",
		    __func__, proc_name(proc < PROC_MAX ? (int)proc : -1),
		    proc_name(ev->ie_peer));
		return -1;
	}
	return 0;
}

/*
 * Stop watching the channel and tell the owner, once.  The callback
 * may free ev, so nothing here touches it afterwards.
 */
static void
ipc_ev_fail(struct ipc_ev *ev, int err)
{
	if (ev->ie_ev != NULL) {
		event_free(ev->ie_ev);
		ev->ie_ev = NULL;
	}
	ev->ie_events = 0;
	ev->ie_alive = NULL;
	if (ev->ie_closed != NULL)
		ev->ie_closed(ev, err, ev->ie_arg);
}

int
ipc_ev_compose(struct ipc_ev *ev, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	if (type == IPC_HELLO ||
	    !ipc_msg_allowed(type, ev->ie_self, ev->ie_peer)) {
		errno = EPERM;
		return -1;
	}
	if (ev->ie_ev == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	if (ipc_compose(&ev->ie_ib, type, peerid, 0, fd, data, len) == -1)
		return -1;
	ipc_ev_add(ev);
	return 0;
}

int
ipc_ev_compose_wr(struct ipc_ev *ev, uint32_t type, uint32_t peerid, int fd,
    struct ipc_wr *w)
{
	if (ipc_ev_queue_wr(ev, type, peerid, fd, w) == -1)
		return -1;
	ipc_ev_add(ev);
	return 0;
}

/*
 * Queued and written at once.  EV_WRITE is armed only for what the
 * socket did not take (or on an error, which the write event then
 * meets): arming it for a message that leaves now and disarming it
 * again would cost four epoll_ctl(2) calls on the way of a reply.
 */
int
ipc_ev_send_wr(struct ipc_ev *ev, uint32_t type, uint32_t peerid, int fd,
    struct ipc_wr *w)
{
	if (ipc_ev_queue_wr(ev, type, peerid, fd, w) == -1)
		return -1;
	(void)ipc_write(&ev->ie_ib);
	ipc_ev_add(ev);
	return 0;
}

/* ipc_ev_compose_wr without the arming. */
static int
ipc_ev_queue_wr(struct ipc_ev *ev, uint32_t type, uint32_t peerid, int fd,
    struct ipc_wr *w)
{
	if (type == IPC_HELLO ||
	    !ipc_msg_allowed(type, ev->ie_self, ev->ie_peer)) {
		ipc_wr_free(w);
		errno = EPERM;
		return -1;
	}
	if (ev->ie_ev == NULL) {
		ipc_wr_free(w);
		errno = ENOTCONN;
		return -1;
	}
	if (ipc_wr_close(w, &ev->ie_ib, type, peerid, 0, fd) == -1)
		return -1;
	return 0;
}

void
ipc_ev_close(struct ipc_ev *ev)
{
	if (ev->ie_alive != NULL) {
		*ev->ie_alive = 0;
		ev->ie_alive = NULL;
	}
	if (ev->ie_ev != NULL) {
		event_free(ev->ie_ev);
		ev->ie_ev = NULL;
	}
	ev->ie_events = 0;
	ipc_clear(&ev->ie_ib);
	if (ev->ie_ib.ib_fd != -1) {
		close(ev->ie_ib.ib_fd);
		ev->ie_ib.ib_fd = -1;
	}
}
