/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * watchd: the sandbox watcher and watch bus (WatchSandbox fan-out).
 * For now it runs its loop, answers its control socket and sends its
 * log lines to logd; gatewayd's subscriptions arrive in a later issue
 * through watchd_dispatch_gatewayd.
 */

#include <stddef.h>

#include "control.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

struct watchd {
	struct proc_self	 wd_ps;
	uint64_t		 wd_subscribers;
};

static int	 watchd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static int	 watchd_dispatch_gatewayd(struct proc_self *, int,
		    struct ipc_msg *);
static void	 watchd_sandbox(struct proc_self *);
static int	 watchd_ctl_keys(struct proc_self *, uint32_t);
static void	 watchd_ctl_fill(struct proc_self *, uint32_t,
		    struct ipc_wr *);

static const struct proc_handler watchd_peers[] = {
	{ PROC_PARENT,	watchd_dispatch_parent },
	{ PROC_GATEWAY,	watchd_dispatch_gatewayd },
};

static const struct proc_ctl_ops watchd_ctlops = {
	watchd_ctl_keys,
	watchd_ctl_fill,
};

int
main(int argc, char *argv[])
{
	static struct watchd	 wd;

	proc_child_init(&wd.wd_ps, PROC_WATCH, argc, argv);
	proc_child_handlers(&wd.wd_ps, watchd_peers,
	    sizeof(watchd_peers) / sizeof(watchd_peers[0]));
	proc_child_setup(&wd.wd_ps, watchd_sandbox, &watchd_ctlops, &wd);
	proc_child_run(&wd.wd_ps);
}

/* Setup messages are handled by proc_child.c; nothing else yet. */
static int
watchd_dispatch_parent(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	(void)ps;
	(void)peer;
	(void)msg;
	return -1;
}

static int
watchd_dispatch_gatewayd(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	(void)ps;
	(void)peer;
	(void)msg;
	return -1;
}

/*
 * No filesystem access, no children.  (No RLIMIT_FSIZE: stderr may be
 * a regular file.)
 */
static void
watchd_sandbox(struct proc_self *ps)
{
	(void)ps;
	sandbox_unveil(NULL, NULL);
	sandbox_pledge("stdio unix recvfd");
}

static int
watchd_ctl_keys(struct proc_self *ps, uint32_t type)
{
	(void)ps;
	return type == IPC_CTL_STATS || type == IPC_CTL_STATUS ? 1 : 0;
}

static void
watchd_ctl_fill(struct proc_self *ps, uint32_t type, struct ipc_wr *w)
{
	struct watchd	*wd = ps->ps_arg;

	(void)type;
	control_kv_u64(w, "subscribers", wd->wd_subscribers);
}
