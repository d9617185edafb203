/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The parent side of the process framework: start the children, wire
 * the peer graph, run the IPC_SETUP_DONE handshake, restart a lost
 * child with backoff, stop the tree on SIGTERM/SIGINT.  The child side
 * is in proc_child.c.
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

#define PROC_LOG_MAXMSG	8192	/* longer log lines are cut for logd */

static void	 proc_stdio(void);
static void	 proc_signals(struct proc_tree *);
static int	 proc_spawn(struct proc_tree *, struct proc_child *);
static void	 proc_exec(struct proc_tree *, struct proc_child *, int)
		    __attribute__((__noreturn__));
static void	 proc_connect(struct proc_tree *, int, int);
static void	 proc_send_peer(struct proc_tree *, int, int, int);
static void	 proc_connect_peers(struct proc_tree *, struct proc_child *);
static void	 proc_configure(struct proc_tree *, struct proc_child *);
static void	 proc_dispatch(struct ipc_ev *, struct ipc_msg *, void *);
static void	 proc_closed(struct ipc_ev *, int, void *);
static void	 proc_setup_done(struct proc_tree *, struct proc_child *,
		    struct ipc_msg *);
static void	 proc_deadline(int, short, void *);
static void	 proc_sigchld(int, short, void *);
static void	 proc_sigterm(int, short, void *);
static void	 proc_lost(struct proc_tree *, struct proc_child *, int);
static void	 proc_log_exit(struct proc_tree *, struct proc_child *, int);
static void	 proc_schedule(struct proc_child *);
static void	 proc_restart(int, short, void *);
static void	 proc_stop_deadline(int, short, void *);
static void	 proc_close_channel(struct proc_child *);
static void	 proc_kill(struct proc_child *, int);
static int	 proc_nalive(const struct proc_tree *);
static struct proc_child *proc_get(struct proc_tree *, int);
static struct ipc_ev *proc_ev(struct proc_tree *, int);
static void	 proc_loghook(const char *, const char *);

/* log_sethook takes no context argument: the tree the hook forwards to. */
static struct proc_tree	*proc_logtree;

void
proc_tree_init(struct proc_tree *pt, struct event_base *base, int debug,
    int verbose)
{
	int	 i;

	memset(pt, 0, sizeof(*pt));
	pt->pt_base = base;
	pt->pt_debug = debug;
	pt->pt_verbose = verbose;
	for (i = 0; i < PROC_MAX; i++) {
		pt->pt_children[i].pc_tree = pt;
		pt->pt_children[i].pc_id = i;
	}
	if (proc_libexec_dir(pt->pt_libexec, sizeof(pt->pt_libexec)) == -1)
		fatalx("%s: cannot find the libexec directory", __func__);
	proc_stdio();
	/* A dead peer must show up as EPIPE on write, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	proc_logtree = pt;
	log_sethook(proc_loghook);
}

/*
 * <bindir>/../libexec/openshell, from /proc/self/exe; OPENSHELL_LIBEXEC
 * overrides it (tests run binaries from a build tree).
 */
int
proc_libexec_dir(char *buf, size_t len)
{
	char		 exe[PATH_MAX];
	const char	*env;
	ssize_t		 n;
	int		 r;

	if ((env = getenv("OPENSHELL_LIBEXEC")) != NULL && env[0] != '\0')
		r = snprintf(buf, len, "%s", env);
	else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
			return -1;
		exe[n] = '\0';
		r = snprintf(buf, len, "%s/../libexec/openshell", dirname(exe));
	}
	return (r < 0 || (size_t)r >= len) ? -1 : 0;
}

int
proc_exec_path(const struct proc_tree *pt, const char *title, char *buf,
    size_t len)
{
	int	 r;

	r = snprintf(buf, len, "%s/%s", pt->pt_libexec, title);
	return (r < 0 || (size_t)r >= len) ? -1 : 0;
}

/* Children drop to uid/gid; without this call they keep ours. */
void
proc_tree_user(struct proc_tree *pt, uid_t uid, gid_t gid)
{
	pt->pt_privdrop = 1;
	pt->pt_uid = uid;
	pt->pt_gid = gid;
}

void
proc_tree_setops(struct proc_tree *pt, const struct proc_tree_ops *ops,
    void *arg)
{
	pt->pt_ops = ops;
	pt->pt_arg = arg;
}

void
proc_add(struct proc_tree *pt, int id, const char *title)
{
	struct proc_child	*pc;

	if (id <= PROC_PARENT || id >= PROC_CONTROL)
		fatalx("%s: %d is not a daemon", __func__, id);
	pc = &pt->pt_children[id];
	pc->pc_title = title;
	pc->pc_backoff = PROC_BACKOFF_MIN;
	pc->pc_restart = evtimer_new(pt->pt_base, proc_restart, pc);
	pc->pc_deadline = evtimer_new(pt->pt_base, proc_deadline, pc);
	if (pc->pc_restart == NULL || pc->pc_deadline == NULL)
		fatalx("%s: evtimer_new", __func__);
}

void
proc_peer(struct proc_tree *pt, int a, int b)
{
	if (proc_get(pt, a) == NULL || proc_get(pt, b) == NULL ||
	    a == b)
		fatalx("%s: bad edge %d-%d", __func__, a, b);
	if (pt->pt_nedges == PROC_MAXEDGES)
		fatalx("%s: too many edges", __func__);
	pt->pt_edges[pt->pt_nedges].pe_a = a;
	pt->pt_edges[pt->pt_nedges].pe_b = b;
	pt->pt_nedges++;
}

void
proc_tree_start(struct proc_tree *pt)
{
	struct proc_child	*pc;
	int			 i;

	proc_signals(pt);
	for (i = 0; i < PROC_MAX; i++)
		if ((pc = proc_get(pt, i)) != NULL &&
		    proc_spawn(pt, pc) == -1)
			fatalx("cannot start %s", pc->pc_title);
	for (i = 0; i < pt->pt_nedges; i++)
		proc_connect(pt, pt->pt_edges[i].pe_a, pt->pt_edges[i].pe_b);
	for (i = 0; i < PROC_MAX; i++)
		if ((pc = proc_get(pt, i)) != NULL)
			proc_configure(pt, pc);
}

/*
 * The SIGCHLD handler reaps every child of the process (waitpid(-1)):
 * a parent that also forks processes of its own (the gateway's compute
 * driver) gets their pid and wait status here.
 */
void
proc_tree_reaper(struct proc_tree *pt, void (*fn)(pid_t, int, void *),
    void *arg)
{
	pt->pt_reap = fn;
	pt->pt_reaparg = arg;
}

/* Returns once the tree has been stopped. */
void
proc_tree_run(struct proc_tree *pt)
{
	if (event_base_dispatch(pt->pt_base) == -1)
		fatalx("%s: event_base_dispatch", __func__);
}

/*
 * Stop restarting, SIGTERM every child and wait for them, at most
 * PROC_STOP_TIMEOUT seconds; proc_tree_run returns when all are gone.
 */
void
proc_tree_stop(struct proc_tree *pt)
{
	struct proc_child	*pc;
	struct timeval		 tv = { PROC_STOP_TIMEOUT, 0 };
	int			 i;

	if (pt->pt_stopping)
		return;
	pt->pt_stopping = 1;
	for (i = 0; i < PROC_MAX; i++) {
		if ((pc = proc_get(pt, i)) == NULL)
			continue;
		evtimer_del(pc->pc_restart);
		evtimer_del(pc->pc_deadline);
		proc_kill(pc, SIGTERM);
	}
	if (proc_nalive(pt) == 0) {
		event_base_loopexit(pt->pt_base, NULL);
		return;
	}
	pt->pt_stop = evtimer_new(pt->pt_base, proc_stop_deadline, pt);
	if (pt->pt_stop == NULL || evtimer_add(pt->pt_stop, &tv) == -1)
		fatalx("%s: evtimer", __func__);
}

/* The open channel to child id, or NULL (EPIPE). */
static struct ipc_ev *
proc_ev(struct proc_tree *pt, int id)
{
	struct proc_child	*pc;

	if ((pc = proc_get(pt, id)) == NULL || !pc->pc_evopen) {
		errno = EPIPE;
		return NULL;
	}
	return &pc->pc_ev;
}

int
proc_compose(struct proc_tree *pt, int id, uint32_t type, uint32_t peerid,
    int fd, const void *data, size_t len)
{
	struct ipc_ev	*ev;

	if ((ev = proc_ev(pt, id)) == NULL)
		return -1;
	return ipc_ev_compose(ev, type, peerid, fd, data, len);
}

int
proc_compose_wr(struct proc_tree *pt, int id, uint32_t type, uint32_t peerid,
    int fd, struct ipc_wr *w)
{
	struct ipc_ev	*ev;

	if ((ev = proc_ev(pt, id)) == NULL) {
		ipc_wr_free(w);
		return -1;
	}
	return ipc_ev_compose_wr(ev, type, peerid, fd, w);
}

/* As proc_compose_wr, written now (ipc_ev_send_wr). */
int
proc_send_wr(struct proc_tree *pt, int id, uint32_t type, uint32_t peerid,
    int fd, struct ipc_wr *w)
{
	struct ipc_ev	*ev;

	if ((ev = proc_ev(pt, id)) == NULL) {
		ipc_wr_free(w);
		return -1;
	}
	return ipc_ev_send_wr(ev, type, peerid, fd, w);
}

/*
 * IPC_SETUP_CTL: the child gets a duplicate of the control socket's
 * listening fd; the caller keeps ctlfd, to hand it again after a
 * restart.
 */
int
proc_send_ctl(struct proc_tree *pt, int id, int ctlfd)
{
	struct ipc_wr	 w;
	int		 fd;

	if ((fd = fcntl(ctlfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_u32(&w, pt->pt_children[id].pc_restarts);
	ipc_wr_u32(&w, (uint32_t)log_getverbose());
	if (proc_compose_wr(pt, id, IPC_SETUP_CTL, 0, fd, &w) == -1) {
		close(fd);
		return -1;
	}
	return 0;
}

/* A message with an empty payload and a duplicate of fd; the caller
 * keeps fd. */
int
proc_send_fd(struct proc_tree *pt, int id, uint32_t type, int fd)
{
	struct ipc_wr	 w;
	int		 dfd;

	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 0);
	if (proc_compose_wr(pt, id, type, 0, dfd, &w) == -1) {
		close(dfd);
		return -1;
	}
	return 0;
}

/* 0 iff the payload is an empty array. */
int
proc_msg_empty(const struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	uint32_t	 n = 1;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (ipc_rd_end(&r) == -1 || n != 0)
		return -1;
	return 0;
}

/*
 * IPC_LOG_EVENT on ev; dropped without a word when the queue is full or
 * the channel is gone (stderr or syslog still has the line).
 */
void
proc_log_event(struct ipc_ev *ev, const char *level, const char *msg)
{
	struct ipc_wr	 w;
	struct timespec	 ts;
	size_t		 len;

	clock_gettime(CLOCK_REALTIME, &ts);
	len = strnlen(msg, PROC_LOG_MAXMSG);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 5);
	ipc_wr_i64(&w, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	ipc_wr_str(&w, log_procname());
	ipc_wr_u32(&w, (uint32_t)getpid());
	ipc_wr_str(&w, level);
	ipc_wr_strn(&w, msg, len);
	(void)ipc_ev_compose_wr(ev, IPC_LOG_EVENT, 0, -1, &w);
}

uint64_t
proc_uptime(const struct timespec *since)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < since->tv_sec)
		return 0;
	return (uint64_t)(now.tv_sec - since->tv_sec);
}

/* fds 0-2 must be open, or a socketpair could land on them and be
 * mistaken for stdio in a child. */
static void
proc_stdio(void)
{
	int	 fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= STDERR_FILENO)
		;
	if (fd == -1)
		fatal("%s: /dev/null", __func__);
	close(fd);
}

static void
proc_signals(struct proc_tree *pt)
{
	static const int	 sigs[3] = { SIGCHLD, SIGTERM, SIGINT };
	int			 i;

	for (i = 0; i < 3; i++) {
		pt->pt_sig[i] = evsignal_new(pt->pt_base, sigs[i],
		    sigs[i] == SIGCHLD ? proc_sigchld : proc_sigterm, pt);
		if (pt->pt_sig[i] == NULL || evsignal_add(pt->pt_sig[i],
		    NULL) == -1)
			fatalx("%s: evsignal", __func__);
	}
}

/*
 * fork+exec one child.  The socketpair's second end becomes the child's
 * fd 3 and is closed here after the fork; the first end is owned by the
 * child's channel (pc_ev) from then on.
 */
static int
proc_spawn(struct proc_tree *pt, struct proc_child *pc)
{
	int	 sp[2];
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1) {
		log_warn("%s: socketpair", pc->pc_title);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("%s: fork", pc->pc_title);
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		proc_exec(pt, pc, sp[1]);
	}
	close(sp[1]);
	pc->pc_pid = pid;
	pc->pc_ready = 0;
	clock_gettime(CLOCK_MONOTONIC, &pc->pc_started);
	if (ipc_ev_open(&pc->pc_ev, pt->pt_base, sp[0], PROC_PARENT, pc->pc_id,
	    proc_dispatch, proc_closed, pc) == -1)
		fatal("%s: ipc_ev_open", pc->pc_title);
	ipc_allow_fdpass(&pc->pc_ev.ie_ib);
	pc->pc_evopen = 1;
	log_debug("started %s (pid %d)", pc->pc_title, (int)pid);
	return 0;
}

/*
 * In the forked child: a new session (the terminal's ^C is for the
 * parent, which owns the lifecycle), the parent channel moved to fd 3,
 * stdin from /dev/null, stdout and stderr inherited, every other fd
 * closed, then exec.  Nothing here may return to the parent's code.
 */
static void
proc_exec(struct proc_tree *pt, struct proc_child *pc, int fd)
{
	char		 path[PATH_MAX], uid[16], gid[16];
	char		*argv[9];
	sigset_t	 set;
	int		 argc = 0, null;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (setsid() == -1 || proc_exec_path(pt, pc->pc_title, path,
	    sizeof(path)) == -1)
		_exit(127);
	if (fd == PROC_PARENT_FD) {
		if (fcntl(fd, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(fd, PROC_PARENT_FD) == -1)
		_exit(127);
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1)
		_exit(127);
	close_range(PROC_PARENT_FD + 1, ~0U, 0);

	argv[argc++] = (char *)pc->pc_title;
	if (pt->pt_debug)
		argv[argc++] = "-d";
	if (pt->pt_verbose)
		argv[argc++] = "-v";
	if (pt->pt_privdrop) {
		snprintf(uid, sizeof(uid), "%u", (unsigned int)pt->pt_uid);
		snprintf(gid, sizeof(gid), "%u", (unsigned int)pt->pt_gid);
		argv[argc++] = "-u";
		argv[argc++] = uid;
		argv[argc++] = "-g";
		argv[argc++] = gid;
	}
	argv[argc] = NULL;
	execv(path, argv);
	dprintf(STDERR_FILENO, "%s: exec %s: %s\n", pc->pc_title, path,
	    strerror(errno));
	_exit(127);
}

/*
 * One fresh socketpair for the edge a-b: a gets one end, b the other,
 * each in an IPC_SETUP_PEER naming the other process.
 */
static void
proc_connect(struct proc_tree *pt, int a, int b)
{
	int	 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1) {
		log_warn("%s: %s-%s", __func__, proc_name(a), proc_name(b));
		return;
	}
	proc_send_peer(pt, a, b, sp[0]);
	proc_send_peer(pt, b, a, sp[1]);
}

/* The channel to `to' owns fd once composed; on failure we close it. */
static void
proc_send_peer(struct proc_tree *pt, int to, int peer, int fd)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_u32(&w, (uint32_t)peer);
	if (proc_compose_wr(pt, to, IPC_SETUP_PEER, 0, fd, &w) == -1) {
		log_warn("%s: %s to %s", __func__, proc_name(peer),
		    proc_name(to));
		close(fd);
	}
}

/* After a restart: new channels to every peer that is still up; a peer
 * that is down gets its channel when it restarts. */
static void
proc_connect_peers(struct proc_tree *pt, struct proc_child *pc)
{
	struct proc_edge	*pe;
	int			 i, other;

	for (i = 0; i < pt->pt_nedges; i++) {
		pe = &pt->pt_edges[i];
		if (pe->pe_a != pc->pc_id && pe->pe_b != pc->pc_id)
			continue;
		other = pe->pe_a == pc->pc_id ? pe->pe_b : pe->pe_a;
		if (pt->pt_children[other].pc_evopen)
			proc_connect(pt, pc->pc_id, other);
	}
}

static void
proc_configure(struct proc_tree *pt, struct proc_child *pc)
{
	struct timeval	 tv = { PROC_SETUP_TIMEOUT, 0 };
	struct ipc_wr	 w;

	if (pt->pt_ops != NULL && pt->pt_ops->to_configure != NULL)
		pt->pt_ops->to_configure(pt, pc->pc_id, pt->pt_arg);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 0);
	if (proc_compose_wr(pt, pc->pc_id, IPC_SETUP_DONE, 0, -1, &w) == -1)
		log_warn("%s: %s", __func__, pc->pc_title);
	evtimer_add(pc->pc_deadline, &tv);
}

/* A child is not trusted: a message it may not send costs it its life
 * (it is restarted), never the parent's. */
static void
proc_dispatch(struct ipc_ev *ev, struct ipc_msg *msg, void *arg)
{
	struct proc_child	*pc = arg;
	struct proc_tree	*pt = pc->pc_tree;

	(void)ev;
	if (ipc_type(msg) == IPC_SETUP_DONE) {
		proc_setup_done(pt, pc, msg);
		return;
	}
	if (pt->pt_ops != NULL && pt->pt_ops->to_dispatch != NULL &&
	    pt->pt_ops->to_dispatch(pt, pc->pc_id, msg, pt->pt_arg) == 0)
		return;
	log_warnx("unexpected %s from %s, killing it",
	    ipc_type_str(ipc_type(msg)), pc->pc_title);
	proc_kill(pc, SIGKILL);
}

static void
proc_closed(struct ipc_ev *ev, int err, void *arg)
{
	struct proc_child	*pc = arg;

	(void)ev;
	proc_close_channel(pc);
	if (pc->pc_tree->pt_stopping)
		return;
	if (err == EPROTO)
		log_warnx("protocol error from %s, killing it", pc->pc_title);
	/* Without its channel a child is useless; if it is already
	 * exiting this does not change its exit status. */
	proc_kill(pc, SIGKILL);
}

static void
proc_setup_done(struct proc_tree *pt, struct proc_child *pc,
    struct ipc_msg *msg)
{
	int	 i;

	if (proc_msg_empty(msg) == -1 || pc->pc_ready) {
		log_warnx("bad IPC_SETUP_DONE from %s, killing it",
		    pc->pc_title);
		proc_kill(pc, SIGKILL);
		return;
	}
	pc->pc_ready = 1;
	evtimer_del(pc->pc_deadline);
	if (pt->pt_ready) {
		log_info("restarted %s (pid %d, restart %u)", pc->pc_title,
		    (int)pc->pc_pid, pc->pc_restarts);
		return;
	}
	for (i = 0; i < PROC_MAX; i++)
		if (proc_get(pt, i) != NULL &&
		    !pt->pt_children[i].pc_ready)
			return;
	pt->pt_ready = 1;
	if (pt->pt_ops != NULL && pt->pt_ops->to_ready != NULL)
		pt->pt_ops->to_ready(pt, pt->pt_arg);
}

static void
proc_deadline(int fd, short event, void *arg)
{
	struct proc_child	*pc = arg;

	(void)fd;
	(void)event;
	if (!pc->pc_tree->pt_ready)
		fatalx("%s did not start within %d s", pc->pc_title,
		    PROC_SETUP_TIMEOUT);
	log_warnx("%s did not start within %d s, killing it", pc->pc_title,
	    PROC_SETUP_TIMEOUT);
	proc_kill(pc, SIGKILL);
}

static void
proc_sigchld(int sig, short event, void *arg)
{
	struct proc_tree	*pt = arg;
	struct proc_child	*pc;
	pid_t			 pid;
	int			 status, i;

	(void)sig;
	(void)event;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < PROC_MAX; i++) {
			pc = proc_get(pt, i);
			if (pc != NULL && pc->pc_pid == pid) {
				proc_lost(pt, pc, status);
				break;
			}
		}
		if (i == PROC_MAX && pt->pt_reap != NULL)
			pt->pt_reap(pid, status, pt->pt_reaparg);
	}
}

static void
proc_sigterm(int sig, short event, void *arg)
{
	(void)event;
	log_info("%s, stopping", strsignal(sig));
	proc_tree_stop(arg);
}

static void
proc_lost(struct proc_tree *pt, struct proc_child *pc, int status)
{
	proc_close_channel(pc);
	proc_log_exit(pt, pc, status);
	pc->pc_pid = 0;
	pc->pc_ready = 0;
	evtimer_del(pc->pc_deadline);
	if (pt->pt_stopping) {
		if (proc_nalive(pt) == 0)
			event_base_loopexit(pt->pt_base, NULL);
		return;
	}
	proc_schedule(pc);
}

static void
proc_log_exit(struct proc_tree *pt, struct proc_child *pc, int status)
{
	const char	*abbrev;
	int		 sig;

	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		abbrev = sigabbrev_np(sig);
		if (pt->pt_stopping)
			log_debug("%s pid %d killed by signal %d", pc->pc_title,
			    (int)pc->pc_pid, sig);
		else
			log_warnx("lost child: %s pid %d killed by signal %d "
			    "(SIG%s)", pc->pc_title, (int)pc->pc_pid, sig,
			    abbrev != NULL ? abbrev : "?");
	} else if (pt->pt_stopping)
		log_debug("%s pid %d exited with status %d", pc->pc_title,
		    (int)pc->pc_pid, WEXITSTATUS(status));
	else
		log_warnx("lost child: %s pid %d exited with status %d",
		    pc->pc_title, (int)pc->pc_pid, WEXITSTATUS(status));
}

/* 250 ms doubling to 30 s; a child that ran for a minute starts over. */
static void
proc_schedule(struct proc_child *pc)
{
	struct timeval	 tv;
	unsigned int	 ms;

	if (proc_uptime(&pc->pc_started) >= PROC_BACKOFF_RESET)
		pc->pc_backoff = PROC_BACKOFF_MIN;
	ms = pc->pc_backoff;
	pc->pc_backoff = ms * 2 > PROC_BACKOFF_MAX ? PROC_BACKOFF_MAX : ms * 2;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	log_info("restarting %s in %u ms", pc->pc_title, ms);
	evtimer_add(pc->pc_restart, &tv);
}

static void
proc_restart(int fd, short event, void *arg)
{
	struct proc_child	*pc = arg;
	struct proc_tree	*pt = pc->pc_tree;

	(void)fd;
	(void)event;
	if (pt->pt_stopping)
		return;
	pc->pc_restarts++;
	if (proc_spawn(pt, pc) == -1) {
		proc_schedule(pc);
		return;
	}
	proc_connect_peers(pt, pc);
	proc_configure(pt, pc);
}

/* The bound on shutdown: whoever is still there is killed, and we go. */
static void
proc_stop_deadline(int fd, short event, void *arg)
{
	struct proc_tree	*pt = arg;
	struct proc_child	*pc;
	int			 i;

	(void)fd;
	(void)event;
	for (i = 0; i < PROC_MAX; i++) {
		if ((pc = proc_get(pt, i)) == NULL || pc->pc_pid == 0)
			continue;
		log_warnx("%s pid %d did not exit, killing it", pc->pc_title,
		    (int)pc->pc_pid);
		proc_kill(pc, SIGKILL);
	}
	event_base_loopexit(pt->pt_base, NULL);
}

static void
proc_close_channel(struct proc_child *pc)
{
	if (!pc->pc_evopen)
		return;
	pc->pc_evopen = 0;
	ipc_ev_close(&pc->pc_ev);
}

static void
proc_kill(struct proc_child *pc, int sig)
{
	if (pc->pc_pid > 0 && kill(pc->pc_pid, sig) == -1 && errno != ESRCH)
		log_warn("kill %s pid %d", pc->pc_title, (int)pc->pc_pid);
}

static int
proc_nalive(const struct proc_tree *pt)
{
	int	 i, n = 0;

	for (i = 0; i < PROC_MAX; i++)
		if (pt->pt_children[i].pc_title != NULL &&
		    pt->pt_children[i].pc_pid != 0)
			n++;
	return n;
}

static struct proc_child *
proc_get(struct proc_tree *pt, int id)
{
	if (id < 0 || id >= PROC_MAX || pt->pt_children[id].pc_title == NULL)
		return NULL;
	return &pt->pt_children[id];
}

/* The parent's own lines reach logd over logd's fd 3 channel. */
static void
proc_loghook(const char *level, const char *msg)
{
	struct proc_child	*pc;

	if (proc_logtree == NULL)
		return;
	pc = &proc_logtree->pt_children[PROC_LOG];
	if (pc->pc_title != NULL && pc->pc_evopen)
		proc_log_event(&pc->pc_ev, level, msg);
}
