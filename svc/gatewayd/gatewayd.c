/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gatewayd: the gateway's network face (gRPC + HTTP on one mTLS port),
 * unprivileged.  Here it only runs its loop, answers its control socket
 * and sends its log lines to logd; the gRPC server arrives in a later
 * issue, on a listening socket the parent hands over.
 */

#include <stddef.h>

#include "control.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

struct gatewayd {
	struct proc_self	 gd_ps;
};

static int	 gatewayd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static void	 gatewayd_sandbox(struct proc_self *);

/* gatewayd only sends to watchd and logd so far. */
static const struct proc_handler gatewayd_peers[] = {
	{ PROC_PARENT,	gatewayd_dispatch_parent },
};

int
main(int argc, char *argv[])
{
	static struct gatewayd	 gd;

	proc_child_init(&gd.gd_ps, PROC_GATEWAY, argc, argv);
	proc_child_handlers(&gd.gd_ps, gatewayd_peers,
	    sizeof(gatewayd_peers) / sizeof(gatewayd_peers[0]));
	proc_child_setup(&gd.gd_ps, gatewayd_sandbox, NULL, &gd);
	proc_child_run(&gd.gd_ps);
}

/*
 * Setup messages are handled by proc_child.c.  The gRPC port's
 * listening socket will arrive here (a new IPC_SETUP_LISTEN row in
 * msgs.def, sent from gateway_configure in svc/gateway/gateway.c).
 */
static int
gatewayd_dispatch_parent(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	(void)ps;
	(void)peer;
	switch (ipc_type(msg)) {
	default:
		return -1;
	}
	return 0;
}

/* No filesystem access yet (the store will need its directory). */
static void
gatewayd_sandbox(struct proc_self *ps)
{
	(void)ps;
	sandbox_unveil(NULL, NULL);
	sandbox_pledge("stdio unix recvfd");
}
