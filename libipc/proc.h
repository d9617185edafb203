/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The process framework shared by both trees, after OpenSMTPD's
 * start_child/setup_peers and OpenBSD's proc.c.
 *
 * Parent side (struct proc_tree, proc.c): a table of children, each
 * fork+exec'd from the libexec directory with its parent channel on
 * fd 3; an explicit peer graph, one socketpair per edge (IPC_SETUP_PEER); a
 * per-child configure hook; the IPC_SETUP_DONE handshake; restart with
 * backoff when a child dies; an orderly shutdown on SIGTERM/SIGINT.
 *
 * Child side (struct proc_self, proc_child.c): option parsing,
 * privilege drop, the fd 3 channel, one channel per peer with a handler
 * each, the control socket (control.c), and forwarding of log lines to
 * logd as IPC_LOG_EVENT.
 *
 * A daemon's main():
 *
 *	proc_child_init(&ps, PROC_WATCH, argc, argv);	drop, fd 3
 *	proc_child_handlers(&ps, peers, npeers);	who may talk to us
 *	proc_child_setup(&ps, setup_done, &ctlops, state);
 *	proc_child_run(&ps);				never returns
 *
 * setup_done runs when the parent's configuration is complete: it
 * installs Landlock and seccomp, then IPC_SETUP_DONE goes back.
 */

#ifndef PROC_H
#define PROC_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "ipc.h"
#include "ipc_ev.h"
#include "ipc_pack.h"
#include "msgs.h"

#define OPENSHELL_VERSION	"0.1.0"

#define PROC_PARENT_FD		3	/* a child's channel to its parent */
#define PROC_MAXEDGES		32
#define PROC_SETUP_TIMEOUT	10	/* s: IPC_SETUP_DONE must arrive */
#define PROC_STOP_TIMEOUT	5	/* s: SIGTERM, then SIGKILL */
#define PROC_BACKOFF_MIN	250	/* ms */
#define PROC_BACKOFF_MAX	30000	/* ms */
#define PROC_BACKOFF_RESET	60	/* s of uptime that forgive a crash */
#define PROC_LOG_PARENT_ENV	"OPENSHELL_LOG_TO_PARENT"

struct proc_tree;
struct proc_self;
struct control;

/*
 * Parent side.
 */

struct proc_child {
	struct proc_tree	*pc_tree;
	int			 pc_id;
	const char		*pc_title;	/* executable in libexec */
	pid_t			 pc_pid;	/* 0 while down */
	struct ipc_ev		 pc_ev;		/* channel on the child's fd 3 */
	int			 pc_evopen;
	int			 pc_ready;	/* answered IPC_SETUP_DONE */
	uint32_t		 pc_restarts;
	struct timespec		 pc_started;	/* CLOCK_MONOTONIC */
	unsigned int		 pc_backoff;	/* ms before the next restart */
	struct event		*pc_restart;	/* backoff timer */
	struct event		*pc_deadline;	/* IPC_SETUP_DONE timeout */
};

struct proc_edge {
	int			 pe_a;
	int			 pe_b;
};

struct proc_tree_ops {
	/* send child-specific config; IPC_SETUP_DONE follows */
	void	(*to_configure)(struct proc_tree *, int, void *);
	/* every child answered IPC_SETUP_DONE (once, at first start) */
	void	(*to_ready)(struct proc_tree *, void *);
	/* any other message from a child: 0 handled, -1 not allowed */
	int	(*to_dispatch)(struct proc_tree *, int, struct ipc_msg *,
		    void *);
};

struct proc_tree {
	struct event_base	*pt_base;
	char			 pt_libexec[PATH_MAX];
	int			 pt_debug;
	int			 pt_verbose;
	int			 pt_privdrop;	/* pass -u/-g to children */
	uid_t			 pt_uid;
	gid_t			 pt_gid;
	struct proc_child	 pt_children[PROC_MAX];	/* by proc id */
	struct proc_edge	 pt_edges[PROC_MAXEDGES];
	int			 pt_nedges;
	int			 pt_ready;
	int			 pt_stopping;
	const struct proc_tree_ops *pt_ops;
	void			*pt_arg;
	struct event		*pt_sig[3];	/* CHLD, TERM, INT */
	struct event		*pt_stop;	/* shutdown deadline */
	/* a reaped pid that is none of the children (proc_tree_reaper) */
	void			(*pt_reap)(pid_t, int, void *);
	void			*pt_reaparg;
};

void	 proc_tree_init(struct proc_tree *, struct event_base *, int, int);
void	 proc_tree_user(struct proc_tree *, uid_t, gid_t);
void	 proc_tree_setops(struct proc_tree *, const struct proc_tree_ops *,
	    void *);
void	 proc_add(struct proc_tree *, int, const char *);
void	 proc_peer(struct proc_tree *, int, int);
int	 proc_libexec_dir(char *, size_t);
int	 proc_exec_path(const struct proc_tree *, const char *, char *,
	    size_t);
void	 proc_tree_start(struct proc_tree *);
void	 proc_tree_reaper(struct proc_tree *, void (*)(pid_t, int, void *),
	    void *);
void	 proc_tree_run(struct proc_tree *);
void	 proc_tree_stop(struct proc_tree *);
int	 proc_compose(struct proc_tree *, int, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 proc_compose_wr(struct proc_tree *, int, uint32_t, uint32_t, int,
	    struct ipc_wr *);
int	 proc_send_wr(struct proc_tree *, int, uint32_t, uint32_t, int,
	    struct ipc_wr *);
int	 proc_send_ctl(struct proc_tree *, int, int);
int	 proc_send_fd(struct proc_tree *, int, uint32_t, int);

/*
 * Child side.
 */

struct proc_chan {
	struct proc_self	*ch_self;
	int			 ch_peer;
	int			 ch_open;
	struct ipc_ev		 ch_ev;
	size_t			 ch_maxsize;	/* 0: libipc's default */
	size_t			 ch_maxqueue;	/* 0: libipc's default */
	int			 ch_fdpass;	/* a peer that passes fds */
};

/* A process's table of the peers it accepts messages from. */
struct proc_handler {
	int	 ph_peer;
	int	(*ph_dispatch)(struct proc_self *, int, struct ipc_msg *);
};

/* Daemon-specific keys in control replies (see control.h). */
struct proc_ctl_ops {
	/* number of keys fill will add to the reply map of this type */
	int	(*co_keys)(struct proc_self *, uint32_t);
	void	(*co_fill)(struct proc_self *, uint32_t, struct ipc_wr *);
};

struct proc_self {
	int			 ps_id;
	const char		*ps_title;
	struct event_base	*ps_base;
	int			 ps_debug;
	int			 ps_verbose;
	uid_t			 ps_invoker;	/* may use the control socket */
	pid_t			 ps_ppid;
	uint32_t		 ps_restarts;
	struct timespec		 ps_started;	/* CLOCK_MONOTONIC */
	int			 ps_running;	/* answered IPC_SETUP_DONE */
	struct proc_chan	 ps_chans[PROC_MAX];	/* by peer id */
	/* 0: handled; -1: a type this process does not accept (fatalx) */
	int			(*ps_handlers[PROC_MAX])(struct proc_self *, int,
				    struct ipc_msg *);
	void			(*ps_setup_done)(struct proc_self *);
	const struct proc_ctl_ops *ps_ctlops;
	struct control		*ps_ctl;
	void			*ps_arg;	/* the daemon's state */
	/* parent gone (EOF on fd 3): NULL exits at once, else must exit */
	void			(*ps_parent_gone)(struct proc_self *);
	/* a tree without logd (the sandbox's): log lines go to the
	 * parent; set from PROC_LOG_PARENT_ENV="1" in the environment */
	int			 ps_log_parent;
};

void	 proc_child_init(struct proc_self *, int, int, char **);
void	 proc_child_handler(struct proc_self *, int,
	    int (*)(struct proc_self *, int, struct ipc_msg *));
void	 proc_child_handlers(struct proc_self *,
	    const struct proc_handler *, size_t);
void	 proc_child_setup(struct proc_self *, void (*)(struct proc_self *),
	    const struct proc_ctl_ops *, void *);
void	 proc_child_limits(struct proc_self *, int, size_t, size_t);
void	 proc_child_fdpass(struct proc_self *, int);
int	 proc_child_compose(struct proc_self *, int, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 proc_child_compose_wr(struct proc_self *, int, uint32_t, uint32_t,
	    int, struct ipc_wr *);
int	 proc_child_send_wr(struct proc_self *, int, uint32_t, uint32_t,
	    int, struct ipc_wr *);
__attribute__((__noreturn__)) void proc_child_run(struct proc_self *);
__attribute__((__noreturn__)) void proc_badmsg(struct proc_self *, int,
	    const struct ipc_msg *);

/* Both sides. */
int	 proc_msg_empty(const struct ipc_msg *);
void	 proc_log_event(struct ipc_ev *, const char *, const char *);
uint64_t proc_uptime(const struct timespec *);

#endif /* PROC_H */
