/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The child side of the process framework: what every daemon does
 * between exec and its event loop, the setup messages from the parent,
 * one channel per peer, and log forwarding to logd.
 */

#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"

static void	 proc_child_usage(const char *) __attribute__((__noreturn__));
static void	 proc_child_args(struct proc_self *, int, char **, uid_t *,
		    gid_t *, int *);
static void	 proc_child_drop(struct proc_self *, uid_t, gid_t, int);
static void	 proc_child_open(struct proc_self *, int, int);
static void	 proc_child_apply_limits(struct proc_chan *);
static void	 proc_child_dispatch(struct ipc_ev *, struct ipc_msg *, void *);
static void	 proc_child_closed(struct ipc_ev *, int, void *);
static int	 proc_child_setup_msg(struct proc_self *, struct ipc_msg *);
static void	 proc_child_peer(struct proc_self *, struct ipc_msg *);
static void	 proc_child_ctl(struct proc_self *, struct ipc_msg *);
static void	 proc_child_done(struct proc_self *, struct ipc_msg *);
static void	 proc_child_loghook(const char *, const char *);
static struct ipc_ev *proc_child_ev(struct proc_self *, int);

/* log_sethook takes no context argument: the process it speaks for. */
static struct proc_self	*proc_child_logself;

/*
 * Everything a daemon does before its event loop, in the order of
 * style.md 2.4: options, logging, privilege drop, no_new_privs, the
 * event base and the channel on fd 3.  The sandbox proper (Landlock,
 * seccomp) comes later, in the daemon's setup_done callback.
 */
void
proc_child_init(struct proc_self *ps, int id, int argc, char **argv)
{
	uid_t		 uid = 0;
	gid_t		 gid = 0;
	int		 drop = 0;
	const char	*v;

	memset(ps, 0, sizeof(*ps));
	ps->ps_id = id;
	ps->ps_title = proc_name(id);
	proc_child_args(ps, argc, argv, &uid, &gid, &drop);
	log_procinit(ps->ps_title);
	log_init(ps->ps_debug, LOG_DAEMON);
	log_setverbose(ps->ps_verbose);
	if (fcntl(PROC_PARENT_FD, F_GETFD) == -1)
		fatalx("no channel on fd %d: %s is started by its parent",
		    PROC_PARENT_FD, ps->ps_title);
	/* The parent owns our lifecycle: only SIGTERM (or fd 3) ends us. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (chdir("/") == -1)
		fatal("chdir /");
	ps->ps_log_parent = (v = getenv(PROC_LOG_PARENT_ENV)) != NULL &&
	    strcmp(v, "1") == 0;
	ps->ps_invoker = getuid();
	ps->ps_ppid = getppid();
	proc_child_drop(ps, uid, gid, drop);
	clock_gettime(CLOCK_MONOTONIC, &ps->ps_started);
	if ((ps->ps_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	proc_child_open(ps, PROC_PARENT, PROC_PARENT_FD);
	proc_child_logself = ps;
	log_sethook(proc_child_loghook);
}

static void
proc_child_usage(const char *title)
{
	fprintf(stderr, "usage: %s [-dv] [-u uid -g gid]\n", title);
	exit(1);
}

static void
proc_child_args(struct proc_self *ps, int argc, char **argv, uid_t *uid,
    gid_t *gid, int *drop)
{
	const char	*errstr;
	int		 ch, have_u = 0, have_g = 0;

	while ((ch = getopt(argc, argv, "dg:u:v")) != -1) {
		switch (ch) {
		case 'd':
			ps->ps_debug = 1;
			break;
		case 'g':
			*gid = strtonum(optarg, 1, UINT32_MAX - 1, &errstr);
			if (errstr != NULL)
				fatalx("gid %s: %s", optarg, errstr);
			have_g = 1;
			break;
		case 'u':
			*uid = strtonum(optarg, 1, UINT32_MAX - 1, &errstr);
			if (errstr != NULL)
				fatalx("uid %s: %s", optarg, errstr);
			have_u = 1;
			break;
		case 'v':
			ps->ps_verbose = 1;
			break;
		default:
			proc_child_usage(ps->ps_title);
		}
	}
	if (optind != argc || have_u != have_g)
		proc_child_usage(ps->ps_title);
	*drop = have_u;
}

/*
 * Privilege: as root we become uid/gid for good (sandbox_privdrop sets
 * and verifies all ids and clears the bounding set; any failure is
 * fatal), then no_new_privs so that nothing regains it through exec.
 * Without -u we keep the invoking user's ids and only lose capabilities.
 * PR_SET_PDEATHSIG comes after the drop because changing credentials
 * clears it; the getppid() check covers a parent that died before it
 * was armed.  Belt and braces: EOF on fd 3 also ends us.
 */
static void
proc_child_drop(struct proc_self *ps, uid_t uid, gid_t gid, int drop)
{
	if (drop && sandbox_privdrop(uid, gid) == -1)
		fatalx("cannot drop privileges to %u:%u", (unsigned int)uid,
		    (unsigned int)gid);
	sandbox_nnp();
	if (sandbox_dropcaps() == -1)
		fatalx("cannot drop capabilities");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("prctl PR_SET_PDEATHSIG");
	if (getppid() != ps->ps_ppid)
		exit(0);
}

void
proc_child_handler(struct proc_self *ps, int peer,
    int (*handler)(struct proc_self *, int, struct ipc_msg *))
{
	if (peer < 0 || peer >= PROC_MAX)
		fatalx("%s: bad peer %d", __func__, peer);
	ps->ps_handlers[peer] = handler;
}

void
proc_child_handlers(struct proc_self *ps, const struct proc_handler *ph,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		proc_child_handler(ps, ph[i].ph_peer, ph[i].ph_dispatch);
}

void
proc_child_setup(struct proc_self *ps, void (*setup_done)(struct proc_self *),
    const struct proc_ctl_ops *ctlops, void *arg)
{
	ps->ps_setup_done = setup_done;
	ps->ps_ctlops = ctlops;
	ps->ps_arg = arg;
}

/* The open channel to peer, or NULL (ENOTCONN). */
static struct ipc_ev *
proc_child_ev(struct proc_self *ps, int peer)
{
	if (peer < 0 || peer >= PROC_MAX || !ps->ps_chans[peer].ch_open) {
		errno = ENOTCONN;
		return NULL;
	}
	return &ps->ps_chans[peer].ch_ev;
}

int
proc_child_compose(struct proc_self *ps, int peer, uint32_t type,
    uint32_t peerid, int fd, const void *data, size_t len)
{
	struct ipc_ev	*ev;

	if ((ev = proc_child_ev(ps, peer)) == NULL)
		return -1;
	return ipc_ev_compose(ev, type, peerid, fd, data, len);
}

int
proc_child_compose_wr(struct proc_self *ps, int peer, uint32_t type,
    uint32_t peerid, int fd, struct ipc_wr *w)
{
	struct ipc_ev	*ev;

	if ((ev = proc_child_ev(ps, peer)) == NULL) {
		ipc_wr_free(w);
		return -1;
	}
	return ipc_ev_compose_wr(ev, type, peerid, fd, w);
}

/* As proc_child_compose_wr, written now (ipc_ev_send_wr). */
int
proc_child_send_wr(struct proc_self *ps, int peer, uint32_t type,
    uint32_t peerid, int fd, struct ipc_wr *w)
{
	struct ipc_ev	*ev;

	if ((ev = proc_child_ev(ps, peer)) == NULL) {
		ipc_wr_free(w);
		return -1;
	}
	return ipc_ev_send_wr(ev, type, peerid, fd, w);
}

void
proc_child_run(struct proc_self *ps)
{
	event_base_dispatch(ps->ps_base);
	fatalx("event loop returned");
}

void
proc_badmsg(struct proc_self *ps, int peer, const struct ipc_msg *msg)
{
	(void)ps;
	fatalx("unexpected or malformed %s from %s",
	    ipc_type_str(ipc_type(msg)), proc_name(peer));
}

/*
 * The channel to peer takes fd (ipc_ev_open owns it even on failure).
 * A restarted peer's new channel replaces the old one, whose EOF we may
 * not have read yet.  Only the parent channel passes fds, and a peer's
 * that proc_child_fdpass named.
 */
static void
proc_child_open(struct proc_self *ps, int peer, int fd)
{
	struct proc_chan	*ch = &ps->ps_chans[peer];

	if (ch->ch_open) {
		log_debug("replacing channel to %s", proc_name(peer));
		ch->ch_open = 0;
		ipc_ev_close(&ch->ch_ev);
	}
	ch->ch_self = ps;
	ch->ch_peer = peer;
	if (ipc_ev_open(&ch->ch_ev, ps->ps_base, fd, ps->ps_id, peer,
	    proc_child_dispatch, proc_child_closed, ch) == -1)
		fatal("channel to %s", proc_name(peer));
	if (peer == PROC_PARENT || ch->ch_fdpass)
		ipc_allow_fdpass(&ch->ch_ev.ie_ib);
	proc_child_apply_limits(ch);
	ch->ch_open = 1;
}

/*
 * Frame and queue limits for the channel to one peer, kept across
 * restarts: a restarted peer comes with a fresh channel, which gets the
 * same limits as the one it replaces.
 */
void
proc_child_limits(struct proc_self *ps, int peer, size_t maxsize,
    size_t maxqueue)
{
	struct proc_chan	*ch;

	if (peer < 0 || peer >= PROC_MAX)
		fatalx("%s: bad peer %d", __func__, peer);
	ch = &ps->ps_chans[peer];
	ch->ch_maxsize = maxsize;
	ch->ch_maxqueue = maxqueue;
	if (ch->ch_open)
		proc_child_apply_limits(ch);
}

/*
 * The channel to peer passes fds, this one and those of its restarts
 * (proxyd hands the agent's inference.local connections to routerd).
 * Both ends must say so; before the channel opens.
 */
void
proc_child_fdpass(struct proc_self *ps, int peer)
{
	if (peer <= PROC_PARENT || peer >= PROC_MAX)
		fatalx("%s: bad peer %d", __func__, peer);
	ps->ps_chans[peer].ch_fdpass = 1;
}

static void
proc_child_apply_limits(struct proc_chan *ch)
{
	if (ch->ch_maxsize != 0 &&
	    ipc_set_maxsize(&ch->ch_ev.ie_ib, ch->ch_maxsize) == -1)
		fatalx("channel to %s: bad maximum size",
		    proc_name(ch->ch_peer));
	if (ch->ch_maxqueue != 0)
		ipc_set_maxqueue(&ch->ch_ev.ie_ib, ch->ch_maxqueue);
}

static void
proc_child_dispatch(struct ipc_ev *ev, struct ipc_msg *msg, void *arg)
{
	struct proc_chan	*ch = arg;
	struct proc_self	*ps = ch->ch_self;
	int			 peer = ch->ch_peer;

	(void)ev;
	if (peer == PROC_PARENT && proc_child_setup_msg(ps, msg) == 0)
		return;
	if (ps->ps_handlers[peer] != NULL &&
	    ps->ps_handlers[peer](ps, peer, msg) == 0)
		return;
	proc_badmsg(ps, peer, msg);
}

/*
 * A protocol violation is fatal (ipc_ev has logged the type).  Anything
 * else is the other end going away: EOF or a reset from the parent
 * means it is gone, so are we, quietly; from a peer, it died and the
 * parent will send a new channel when it restarts.
 */
static void
proc_child_closed(struct ipc_ev *ev, int err, void *arg)
{
	struct proc_chan	*ch = arg;

	ch->ch_open = 0;
	ipc_ev_close(ev);
	if (err == EPROTO || err == ENOMEM)
		fatalx("protocol error from %s: %s", proc_name(ch->ch_peer),
		    strerror(err));
	if (ch->ch_peer == PROC_PARENT) {
		/* A daemon may finish its work first; it must exit. */
		if (ch->ch_self->ps_parent_gone != NULL) {
			ch->ch_self->ps_parent_gone(ch->ch_self);
			return;
		}
		exit(0);
	}
	log_warnx("lost channel to %s", proc_name(ch->ch_peer));
}

static int
proc_child_setup_msg(struct proc_self *ps, struct ipc_msg *msg)
{
	switch (ipc_type(msg)) {
	case IPC_SETUP_PEER:
		proc_child_peer(ps, msg);
		break;
	case IPC_SETUP_CTL:
		proc_child_ctl(ps, msg);
		break;
	case IPC_SETUP_DONE:
		proc_child_done(ps, msg);
		break;
	default:
		return -1;
	}
	return 0;
}

/* [u32 peer] + fd: the fd goes to the new channel. */
static void
proc_child_peer(struct proc_self *ps, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	uint32_t	 n = 0, peer = PROC_MAX;
	int		 fd;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 1)
		ipc_rd_u32(&r, &peer);
	if (ipc_rd_end(&r) == -1)
		n = 0;
	fd = ipc_fd(msg);
	if (n != 1 || fd == -1 || peer == PROC_PARENT ||
	    peer >= PROC_CONTROL || (int)peer == ps->ps_id) {
		if (fd != -1)
			close(fd);
		proc_badmsg(ps, PROC_PARENT, msg);
	}
	proc_child_open(ps, (int)peer, fd);
	log_debug("channel to %s", proc_name((int)peer));
}

/* [u32 restarts, u32 verbose] + fd: the control socket takes the fd. */
static void
proc_child_ctl(struct proc_self *ps, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	uint32_t	 n = 0, restarts = 0, verbose = 0;
	int		 fd;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 2) {
		ipc_rd_u32(&r, &restarts);
		ipc_rd_u32(&r, &verbose);
	}
	if (ipc_rd_end(&r) == -1)
		n = 0;
	fd = ipc_fd(msg);
	if (n != 2 || fd == -1 || ps->ps_ctl != NULL) {
		if (fd != -1)
			close(fd);
		proc_badmsg(ps, PROC_PARENT, msg);
	}
	ps->ps_restarts = restarts;
	log_setverbose((int)verbose);
	ps->ps_ctl = control_init(ps, fd);
}

/*
 * Configuration complete: the daemon installs its sandbox, then we
 * tell the parent we are running.
 */
static void
proc_child_done(struct proc_self *ps, struct ipc_msg *msg)
{
	struct ipc_wr	 w;

	if (proc_msg_empty(msg) == -1 || ps->ps_running)
		proc_badmsg(ps, PROC_PARENT, msg);
	if (ps->ps_setup_done != NULL)
		ps->ps_setup_done(ps);
	ps->ps_running = 1;
	log_info("running (pid %d, uid %u, restart %u)", (int)getpid(),
	    (unsigned int)getuid(), ps->ps_restarts);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 0);
	if (proc_child_compose_wr(ps, PROC_PARENT, IPC_SETUP_DONE, 0, -1,
	    &w) == -1)
		fatal("%s: compose", __func__);
}

/* Every line also goes to logd, once the parent gave us a channel. */
static void
proc_child_loghook(const char *level, const char *msg)
{
	struct proc_self	*ps = proc_child_logself;

	if (ps == NULL)
		return;
	if (ps->ps_chans[PROC_LOG].ch_open)
		proc_log_event(&ps->ps_chans[PROC_LOG].ch_ev, level, msg);
	else if (ps->ps_log_parent && ps->ps_chans[PROC_PARENT].ch_open)
		proc_log_event(&ps->ps_chans[PROC_PARENT].ch_ev, level, msg);
}
