/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * watchd: the watch bus (WatchSandbox fan-out, watchbus.c).  gatewayd
 * sends a snapshot of every sandbox change, every platform event and
 * every deletion, and subscribes its WatchSandbox streams; watchd sends
 * each subscriber what it follows.  It has no filesystem access.
 */

#include <stddef.h>
#include <string.h>

#include "control.h"
#include "libgrpc/grpc_wire.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "watchd.h"

struct watchd {
	struct proc_self	 wd_ps;
	struct watchbuses	 wd_buses;
};

static int	 watchd_dispatch_parent(struct proc_self *, int,
		    struct ipc_msg *);
static int	 watchd_dispatch_gatewayd(struct proc_self *, int,
		    struct ipc_msg *);
static void	 watchd_event(struct watchd *, struct ipc_msg *, int);
static void	 watchd_sub(struct watchd *, struct ipc_msg *);
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
	watchbus_init(&wd.wd_buses, subs_gatewayd, &wd.wd_ps);
	proc_child_handlers(&wd.wd_ps, watchd_peers,
	    sizeof(watchd_peers) / sizeof(watchd_peers[0]));
	/* a snapshot may be as large as a sandbox record */
	proc_child_limits(&wd.wd_ps, PROC_GATEWAY, WATCHBUS_MAXSIZE,
	    WATCHBUS_MAXQUEUE);
	proc_child_setup(&wd.wd_ps, watchd_sandbox, &watchd_ctlops, &wd);
	proc_child_run(&wd.wd_ps);
}

/* Setup messages are handled by proc_child.c; nothing else. */
static int
watchd_dispatch_parent(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	(void)ps;
	(void)peer;
	(void)msg;
	return -1;
}

/* msgs.def, "watch and log buses".  Malformed messages are fatal. */
static int
watchd_dispatch_gatewayd(struct proc_self *ps, int peer, struct ipc_msg *msg)
{
	struct watchd	*wd = ps->ps_arg;
	char		 id[WATCHBUS_IDMAX + 1];

	switch (ipc_type(msg)) {
	case IPC_WATCH_SNAPSHOT:
		watchd_event(wd, msg, 1);
		break;
	case IPC_WATCH_PLATFORM:
		watchd_event(wd, msg, 0);
		break;
	case IPC_WATCH_GONE:	/* [str sandbox_id] */
		if (subs_msg_id(msg, id, sizeof(id)) == -1)
			proc_badmsg(ps, peer, msg);
		subs_drop(&wd->wd_buses.wbs_subs, id);
		break;
	case IPC_WATCH_SUB:
		watchd_sub(wd, msg);
		break;
	default:
		return subs_dispatch(&wd->wd_buses.wbs_subs, ps, peer, msg);
	}
	return 0;
}

/*
 * A snapshot [str sandbox_id, u32 phase, bin SandboxStreamEvent] or a
 * platform event [str sandbox_id, bin SandboxStreamEvent].  The event
 * lives in the reader's zone: it goes out before ipc_rd_end.
 */
static void
watchd_event(struct watchd *wd, struct ipc_msg *msg, int snapshot)
{
	struct ipc_rd	 r;
	char		 id[WATCHBUS_IDMAX + 1];
	const void	*buf = NULL;
	size_t		 len = 0;
	uint32_t	 n = 0, want = snapshot ? 3 : 2, phase = 0;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == want) {
		ipc_rd_strbuf(&r, id, sizeof(id));
		if (snapshot)
			ipc_rd_u32(&r, &phase);
		ipc_rd_bin(&r, &buf, &len);
	}
	if (n != want || ipc_rd_error(&r)) {
		ipc_rd_end(&r);
		proc_badmsg(&wd->wd_ps, PROC_GATEWAY, msg);
	}
	if (snapshot)
		watchbus_snapshot(&wd->wd_buses, id, phase, buf, len);
	else
		watchbus_platform(&wd->wd_buses, id, buf, len);
	if (ipc_rd_end(&r) == -1)
		proc_badmsg(&wd->wd_ps, PROC_GATEWAY, msg);
}

/* [str sandbox_id, bool status, bool events, bool stop_on_terminal] */
static void
watchd_sub(struct watchd *wd, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		 id[WATCHBUS_IDMAX + 1];
	uint32_t	 n = 0;
	int		 status = 0, events = 0, stop = 0;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 4) {
		ipc_rd_strbuf(&r, id, sizeof(id));
		ipc_rd_bool(&r, &status);
		ipc_rd_bool(&r, &events);
		ipc_rd_bool(&r, &stop);
	}
	if (ipc_rd_end(&r) == -1 || n != 4)
		proc_badmsg(&wd->wd_ps, PROC_GATEWAY, msg);
	if (watchbus_subscribe(&wd->wd_buses, ipc_peerid(msg), id, status,
	    events, stop) == 0)
		return;
	subs_end(&wd->wd_buses.wbs_subs, ipc_peerid(msg), GRPC_INTERNAL,
	    "watch subscription refused");
}

/*
 * No filesystem access, no children.  (No RLIMIT_FSIZE: stderr may be
 * a regular file.)  A restarted watchd tells gatewayd that its
 * subscriptions are gone.
 */
static void
watchd_sandbox(struct proc_self *ps)
{
	struct watchd	*wd = ps->ps_arg;

	sandbox_unveil(NULL, NULL);
	sandbox_pledge("stdio unix recvfd");
	subs_restarted(&wd->wd_buses.wbs_subs, ps);
}

static int
watchd_ctl_keys(struct proc_self *ps, uint32_t type)
{
	(void)ps;
	if (type == IPC_CTL_STATS)
		return 5;
	return type == IPC_CTL_STATUS ? 1 : 0;
}

static void
watchd_ctl_fill(struct proc_self *ps, uint32_t type, struct ipc_wr *w)
{
	struct watchd	*wd = ps->ps_arg;

	control_kv_u64(w, "subscribers", wd->wd_buses.wbs_subs.s_nsubs);
	if (type != IPC_CTL_STATS)
		return;
	control_kv_u64(w, "sandboxes", wd->wd_buses.wbs_subs.s_nbuses);
	control_kv_u64(w, "snapshots", wd->wd_buses.wbs_snapshots);
	control_kv_u64(w, "platform_events", wd->wd_buses.wbs_events);
	control_kv_u64(w, "dropped", wd->wd_buses.wbs_subs.s_dropped);
}
