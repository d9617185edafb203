/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libevent2 glue for one libipc channel: the IPC_HELLO handshake, the
 * sender policy of msgs.def on every message, and EV_WRITE armed only
 * while output is queued (imsg_event_add).
 */

#ifndef IPC_EV_H
#define IPC_EV_H

#include <event2/event.h>

#include "ipc.h"
#include "ipc_pack.h"

/* Sent in IPC_HELLO; set with -DIPC_BUILD='"..."'. */
#ifndef IPC_BUILD
#define IPC_BUILD	"dev"
#endif

struct ipc_ev {
	struct ipc_buf	 ie_ib;
	struct event	*ie_ev;
	struct event_base *ie_base;
	short		 ie_events;	/* armed, 0 when not */
	int		 ie_self;	/* enum proc_id of this process */
	int		 ie_peer;	/* enum proc_id expected at the other end */
	int		 ie_hello;	/* peer's valid HELLO received */
	void		(*ie_dispatch)(struct ipc_ev *, struct ipc_msg *, void *);
	/* 0 = EOF, else an errno (EPROTO for protocol violations) */
	void		(*ie_closed)(struct ipc_ev *, int, void *);
	void		*ie_arg;
	int		*ie_alive;	/* private: see ipc_ev_cb */
};

/*
 * Takes ownership of fd in every case (closed on failure), sets it
 * non-blocking, queues our IPC_HELLO and arms EV_READ.  fd passing is
 * off: call ipc_allow_fdpass(&ev->ie_ib) to accept and send fds.
 */
int	 ipc_ev_open(struct ipc_ev *, struct event_base *, int, int, int,
	    void (*)(struct ipc_ev *, struct ipc_msg *, void *),
	    void (*)(struct ipc_ev *, int, void *), void *);
/*
 * Queue one message.  EPERM if msgs.def does not allow the type from
 * ie_self to ie_peer, ENOTCONN once the channel is closed, otherwise
 * as ipc_compose (the fd rule included).
 */
int	 ipc_ev_compose(struct ipc_ev *, uint32_t, uint32_t, int,
	    const void *, size_t);
/* As ipc_ev_compose with the writer's value; the writer is freed. */
int	 ipc_ev_compose_wr(struct ipc_ev *, uint32_t, uint32_t, int,
	    struct ipc_wr *);
/*
 * As ipc_ev_compose_wr, and written now rather than on the next loop
 * turn: for a message something waits on (an identity, a create).
 */
int	 ipc_ev_send_wr(struct ipc_ev *, uint32_t, uint32_t, int,
	    struct ipc_wr *);
/* Re-arm after queueing on ie_ib directly (ipc_compose, ipc_forward). */
void	 ipc_ev_add(struct ipc_ev *);
/*
 * Event removed, queues cleared, fd closed.  May be called from the
 * dispatch or closed callbacks; call it before freeing ev.
 */
void	 ipc_ev_close(struct ipc_ev *);

#endif /* IPC_EV_H */
