/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The per-daemon Unix control socket (openshell admin).  The parent
 * creates <rundir>/<title>.sock (0600, its own uid) and hands the
 * listening fd over with IPC_SETUP_CTL; the daemon accepts clients whose
 * SO_PEERCRED uid is 0 or the uid that started the tree.  Each client
 * is a libipc channel (PROC_CONTROL at the other end) sending
 * IPC_CTL_STATUS, _STATS, _LOG_LEVEL [str level] or _DUMP; every reply
 * is an IPC_CTL_REPLY map (data, never text: the CLI formats) or an
 * IPC_CTL_ERROR [str message].
 *
 * Common reply keys (a daemon adds its own through proc_ctl_ops):
 *	status		proc, pid, uid, state, uptime_s, version
 *	stats		uptime_s, restarts, msgs_in, msgs_out, bytes_in,
 *			bytes_out, queue_bytes (sum over channels),
 *			queue_max (output bound per channel), channels
 *			[{peer, msgs_in, msgs_out, queue_bytes}],
 *			control_clients
 *	log-level	proc, level, previous
 *	dump		proc, pid
 */

#ifndef CONTROL_H
#define CONTROL_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>

#include "ipc_ev.h"
#include "ipc_pack.h"

#define CONTROL_MAXCLIENTS	16
#define CONTROL_MAXSIZE		(256 * 1024)	/* largest reply frame */
#define CONTROL_MAXQUEUE	(512 * 1024)	/* then a slow reader goes */
#define CONTROL_TIMEOUT		10		/* s, in the CLI */

struct proc_self;
struct control;

struct control_client {
	TAILQ_ENTRY(control_client)	 cc_entry;
	struct control			*cc_ctl;
	struct ipc_ev			 cc_ev;
	uid_t				 cc_uid;
	pid_t				 cc_pid;
};

struct control {
	struct proc_self		*ctl_self;
	int				 ctl_fd;
	struct event			*ctl_ev;	/* accept */
	struct event			*ctl_pause;	/* out of fds */
	TAILQ_HEAD(, control_client)	 ctl_clients;
	int				 ctl_nclients;
};

/* Parent: bind and listen; returns the fd (close-on-exec) or -1. */
int		 control_listen(const char *);

/* Daemon: serve the listening fd, which the control takes. */
struct control	*control_init(struct proc_self *, int);
int		 control_nclients(const struct control *);

/* "warn", "info", "debug" <-> log_setverbose() values */
int		 control_level_parse(const char *, int *);
const char	*control_level_name(int);

/* One key of a reply map, for the daemons' proc_ctl_ops too. */
void		 control_kv_str(struct ipc_wr *, const char *, const char *);
void		 control_kv_u64(struct ipc_wr *, const char *, uint64_t);

#endif /* CONTROL_H */
