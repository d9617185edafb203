/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * sshd's parent side (architecture.md §2; issue 5).  The SSH endpoint
 * is a Unix socket <state>/run/ssh.sock, 0600 root, in the HOST mount
 * and network namespaces: the agent sees neither (<state> is covered
 * in its mount namespace, and its netns has no listener).  sshd gets
 * a duplicate of the listener, the Ed25519 host key we generate at
 * start (memory only) and the NSSH1 secret, which we took out of our
 * environment before the agent's was built.
 *
 * sshd spawns nothing.  For IPC_SSH_SPAWN we fork a short-lived helper
 * that joins the reaper's pid, mount, ipc, uts and net namespaces
 * (setns on the reaper's pidfd) and clones the session process with
 * CLONE_PARENT, so that the session is OUR child (a clone child, exit
 * signal 0: proc.c's waitpid(-1) leaves it to our pidfd) inside the
 * agent's PID namespace.  The session process then takes the agent's
 * path exactly: the sandbox user with no capabilities, no_new_privs,
 * Landlock from the policy, the agent seccomp filter, the agent's
 * environment (placeholders, never secrets).  Its PTY comes from the
 * sandbox's own devpts instance, reached through the reaper's root.
 */

#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "libpolicy/policy.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "supervisor.h"

#include "session.h"

#define SESSION_NS	(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | \
			    CLONE_NEWUTS | CLONE_NEWNET)
#define SESSION_MAXARGS	64
#define SESSION_PIPESZ	(1024 * 1024)	/* fs.pipe-max-size's default */

/* The kernel's struct clone_args (v0). */
struct session_clone_args {
	uint64_t	 flags;
	uint64_t	 pidfd;
	uint64_t	 child_tid;
	uint64_t	 parent_tid;
	uint64_t	 exit_signal;
	uint64_t	 stack;
	uint64_t	 stack_size;
	uint64_t	 tls;
};

struct session {
	TAILQ_ENTRY(session)	 s_entry;
	struct sandbox		*s_sb;
	struct proc_tree	*s_pt;
	uint32_t		 s_id;		/* sshd's channel id */
	pid_t			 s_pid;		/* in our pid ns */
	int			 s_pidfd;
	int			 s_master;	/* our copy, for WINCH; or -1 */
	int			 s_orphan;	/* its sshd is gone */
	struct event		*s_ev;
};

struct session_req {
	uint32_t		 r_kind;
	char			*r_argv[SESSION_MAXARGS + 1];
	char			*r_term;
	uint32_t		 r_cols, r_rows;
	char			*r_cenv[SESSION_MAXARGS + 1];	/* k=v */
	char			**r_env;
};

static TAILQ_HEAD(, session)	 session_list =
				    TAILQ_HEAD_INITIALIZER(session_list);
static int			 session_n;
static char			*session_key;	/* host key, PEM */
static char			*session_sec;	/* NSSH1 secret */
static uint32_t			 session_skew = 300;
static int			 session_lfd = -1;
static char			 session_path[PATH_MAX];

extern char	**environ;

static int	 session_spawn(struct sandbox *, struct proc_tree *,
		    struct ipc_msg *);
static int	 session_req_read(struct ipc_msg *, struct session_req *);
static void	 session_req_free(struct session_req *);
static int	 session_req_env(struct ipc_rd *, struct session_req *);
static char	**session_env(struct sandbox *, struct session_req *);
static int	 session_env_ok(const char *);
static pid_t	 session_fork(struct sandbox *, struct session_req *,
		    int[3], int);
static void	 session_helper(struct sandbox *, struct session_req *,
		    int[3], int, int) __attribute__((__noreturn__));
static void	 session_exec(struct sandbox *, struct session_req *,
		    int[3], int) __attribute__((__noreturn__));
static int	 session_ptmx(struct sandbox *, struct session_req *, int *);
static void	 session_reply(struct proc_tree *, uint32_t, int,
		    const char *, uint32_t, uint32_t, int);
static void	 session_exited(int, short, void *);
static struct session *session_find(uint32_t);
static int	 session_winch(struct proc_tree *, struct ipc_msg *);
static int	 session_signal(struct proc_tree *, struct ipc_msg *);
static int	 session_tcpip(struct sandbox *, struct proc_tree *,
		    struct ipc_msg *);
static int	 session_connect(struct sandbox *, const char *, uint32_t);

/*
 * Before config_env: take the secret out of our environment.  Returns
 * 1 if there is one (sshd will run), else 0.
 */
int
session_secret(void)
{
	const char	*s, *k;
	long		 v;

	if ((k = getenv(SESSION_SKEW_ENV)) != NULL && (v = strtol(k, NULL,
	    10)) > 0 && v < 86400)
		session_skew = (uint32_t)v;
	if ((s = getenv(SESSION_SECRET_ENV)) == NULL || *s == '\0')
		return 0;
	if ((session_sec = strdup(s)) == NULL)
		fatal("%s", __func__);
	return 1;
}

/*
 * <state>/run/ssh.sock, bound through /proc/self/fd so that a long
 * state path does not hit sun_path's limit.  We keep the listener;
 * every start of sshd gets a duplicate.
 */
int
session_listen(struct sandbox *sb)
{
	struct sockaddr_un	 sun;
	char			 run[PATH_MAX];
	mode_t			 old;
	int			 dfd, fd;

	if (session_sec == NULL)
		return -1;
	/* proc.c would retry a missing binary for ever, and the agent
	 * waits for every daemon: without sshd, no SSH, said once. */
	if (proc_libexec_dir(run, sizeof(run)) == -1 ||
	    strlcat(run, "/sshd", sizeof(run)) >= sizeof(run) ||
	    access(run, X_OK) == -1) {
		log_warnx("sshd is not installed: no SSH access");
		return -1;
	}
	if ((session_key = hostkey_new()) == NULL)
		fatalx("cannot generate the SSH host key");
	if (snprintf(run, sizeof(run), "%s/run", sb->sb_state) >=
	    (int)sizeof(run) || snprintf(session_path, sizeof(session_path),
	    "%s/%s", run, SESSION_SOCK) >= (int)sizeof(session_path))
		fatalx("state directory path too long");
	if ((dfd = open(run, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		fatal("%s", run);
	(void)unlinkat(dfd, SESSION_SOCK, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/proc/self/fd/%d/%s",
	    dfd, SESSION_SOCK);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		fatal("socket");
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", session_path);
	umask(old);
	if (fchmodat(dfd, SESSION_SOCK, 0600, 0) == -1 || listen(fd, 16) ==
	    -1)
		fatal("%s", session_path);
	close(dfd);
	session_lfd = fd;
	log_info("ssh endpoint %s", session_path);
	return 0;
}

/*
 * At every start of sshd: the listener (a duplicate) and the keys.  A
 * restarted sshd knows none of the sessions of the previous one, and
 * its channel ids start again: those sessions are hung up and
 * forgotten (their exits are not reported).
 */
void
session_configure(struct sandbox *sb, struct proc_tree *pt)
{
	struct ipc_wr	 w;
	struct session	*s;

	(void)sb;
	TAILQ_FOREACH(s, &session_list, s_entry) {
		if (s->s_orphan)
			continue;
		s->s_orphan = 1;
		(void)syscall(SYS_pidfd_send_signal, s->s_pidfd, SIGHUP, NULL,
		    0);
		if (s->s_master != -1) {
			close(s->s_master);
			s->s_master = -1;
		}
	}
	if (proc_send_fd(pt, PROC_SSH, IPC_SETUP_SSH_LISTEN, session_lfd) ==
	    -1)
		log_warn("sshd: listener");
	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_str(&w, session_key);
	ipc_wr_str(&w, session_sec);
	ipc_wr_u32(&w, session_skew);
	if (proc_compose_wr(pt, PROC_SSH, IPC_SSH_KEYS, 0, -1, &w) == -1)
		log_warn("sshd: keys");
}

/* sshd's requests; -1 (a protocol violation) ends that sshd. */
int
session_dispatch(struct sandbox *sb, struct proc_tree *pt,
    struct ipc_msg *msg)
{
	switch (ipc_type(msg)) {
	case IPC_SSH_SPAWN:
		return session_spawn(sb, pt, msg);
	case IPC_SSH_WINCH:
		return session_winch(pt, msg);
	case IPC_SSH_SIGNAL:
		return session_signal(pt, msg);
	case IPC_SSH_TCPIP:
		return session_tcpip(sb, pt, msg);
	default:
		return -1;
	}
}

void
session_close(struct sandbox *sb)
{
	struct session	*s;
	siginfo_t	 si;

	(void)sb;
	while ((s = TAILQ_FIRST(&session_list)) != NULL) {
		TAILQ_REMOVE(&session_list, s, s_entry);
		(void)syscall(SYS_pidfd_send_signal, s->s_pidfd, SIGKILL, NULL,
		    0);
		memset(&si, 0, sizeof(si));
		(void)waitid(P_PIDFD, s->s_pidfd, &si, WEXITED | __WALL);
		if (s->s_ev != NULL)
			event_free(s->s_ev);
		close(s->s_pidfd);
		if (s->s_master != -1)
			close(s->s_master);
		free(s);
	}
	if (session_lfd != -1) {
		close(session_lfd);
		session_lfd = -1;
		(void)unlink(session_path);
	}
}

/*
 * [kind, [argv], term, cols, rows, {env}] -> SPAWNED (+ fds) or an
 * error; later EXIT.  Every fd sent is a new one the channel owns.
 */
static int
session_spawn(struct sandbox *sb, struct proc_tree *pt, struct ipc_msg *msg)
{
	struct session_req	 rq;
	struct session		*s;
	int			 fds[3] = { -1, -1, -1 };
	int			 mine[3] = { -1, -1, -1 };
	int			 p[2], i, master = -1;
	uint32_t		 id = ipc_peerid(msg);
	pid_t			 pid;

	if (session_find(id) != NULL || session_req_read(msg, &rq) == -1)
		return -1;
	rq.r_env = session_env(sb, &rq);
	if (sb->sb_reaper <= 0 || session_n >= SESSION_MAX) {
		session_reply(pt, id, 0, "the sandbox is not running", 0, 0,
		    -1);
		session_req_free(&rq);
		return 0;
	}
	if (rq.r_kind == 1) {
		if (session_ptmx(sb, &rq, &master) == -1)
			goto fail;
		fds[0] = fds[1] = fds[2] = -1;
	} else {
		for (i = 0; i < 3; i++) {
			if (pipe2(p, O_CLOEXEC) == -1)
				goto fail;
			/* Bulk data (tar up or down): fewer wake-ups of
			 * sshd and the process; best effort. */
			if (i < 2)
				(void)fcntl(p[0], F_SETPIPE_SZ, SESSION_PIPESZ);
			fds[i] = i == 0 ? p[0] : p[1];
			mine[i] = i == 0 ? p[1] : p[0];
		}
	}
	pid = session_fork(sb, &rq, fds, master);
	for (i = 0; i < 3; i++)
		if (fds[i] != -1 && (i == 0 || fds[i] != fds[0]))
			close(fds[i]);
	fds[0] = fds[1] = fds[2] = -1;
	if (pid == -1)
		goto fail;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("%s", __func__);
	s->s_sb = sb;
	s->s_pt = pt;
	s->s_id = id;
	s->s_pid = pid;
	s->s_master = master;
	if ((s->s_pidfd = syscall(SYS_pidfd_open, pid, 0)) == -1)
		fatal("pidfd_open");
	s->s_ev = event_new(pt->pt_base, s->s_pidfd, EV_READ, session_exited,
	    s);
	if (s->s_ev == NULL || event_add(s->s_ev, NULL) == -1)
		fatalx("%s: event_add", __func__);
	TAILQ_INSERT_TAIL(&session_list, s, s_entry);
	session_n++;
	if (master != -1)
		session_reply(pt, id, 1, "", (uint32_t)pid, 0,
		    fcntl(master, F_DUPFD_CLOEXEC, 0));
	else
		for (i = 0; i < 3; i++)
			session_reply(pt, id, 1, "", (uint32_t)pid, (uint32_t)i,
			    mine[i]);
	log_info("ssh session %u: pid %d %s", id, (int)pid,
	    rq.r_kind == 2 ? "sftp-server" : rq.r_argv[0] != NULL ?
	    rq.r_argv[0] : "(login shell)");
	session_req_free(&rq);
	return 0;
 fail:
	log_warn("ssh session %u", id);
	for (i = 0; i < 3; i++) {
		if (fds[i] != -1)
			close(fds[i]);
		if (mine[i] != -1)
			close(mine[i]);
	}
	if (master != -1)
		close(master);
	session_reply(pt, id, 0, "cannot start the session", 0, 0, -1);
	session_req_free(&rq);
	return 0;
}

/* [bool ok, str error, u32 pid, u32 which] + fd (the channel's). */
static void
session_reply(struct proc_tree *pt, uint32_t id, int ok, const char *err,
    uint32_t pid, uint32_t which, int fd)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 4);
	ipc_wr_bool(&w, ok);
	ipc_wr_str(&w, err);
	ipc_wr_u32(&w, pid);
	ipc_wr_u32(&w, which);
	if (proc_compose_wr(pt, PROC_SSH, IPC_SSH_SPAWNED, id, fd, &w) == -1) {
		log_warn("sshd: spawned");
		if (fd != -1)
			close(fd);
	}
}

static int
session_req_read(struct ipc_msg *msg, struct session_req *rq)
{
	struct ipc_rd	 r;
	uint32_t	 n = 0, na = 0, i;

	memset(rq, 0, sizeof(*rq));
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n != 6)
		return -1;
	ipc_rd_u32(&r, &rq->r_kind);
	ipc_rd_array(&r, &na);
	if (ipc_rd_error(&r) || na > SESSION_MAXARGS)
		return -1;
	for (i = 0; i < na; i++)
		ipc_rd_str(&r, &rq->r_argv[i]);
	ipc_rd_leave(&r);
	ipc_rd_str(&r, &rq->r_term);
	ipc_rd_u32(&r, &rq->r_cols);
	ipc_rd_u32(&r, &rq->r_rows);
	if (session_req_env(&r, rq) == -1 || ipc_rd_end(&r) == -1 ||
	    rq->r_kind > 2 || rq->r_term == NULL ||
	    strlen(rq->r_term) > 63 || strchr(rq->r_term, '=') != NULL ||
	    rq->r_cols > 10000 || rq->r_rows > 10000) {
		session_req_free(rq);
		return -1;
	}
	for (i = 0; i < na; i++)
		if (rq->r_argv[i] == NULL) {
			session_req_free(rq);
			return -1;
		}
	return 0;
}

/* {name: value}: the names sshd must have filtered already. */
static int
session_req_env(struct ipc_rd *r, struct session_req *rq)
{
	uint32_t	 n = 0, i, j = 0;
	char		*k, *v;
	int		 bad = 0;

	ipc_rd_map(r, &n);
	if (ipc_rd_error(r) || n > SESSION_MAXARGS)
		return -1;
	for (i = 0; i < n; i++) {
		k = v = NULL;
		ipc_rd_str(r, &k);
		ipc_rd_str(r, &v);
		if (k == NULL || v == NULL || !session_env_ok(k) ||
		    strlen(v) > 1024)
			bad = 1;
		else if (asprintf(&rq->r_cenv[j++], "%s=%s", k, v) == -1)
			fatal("%s", __func__);
		free(k);
		free(v);
	}
	ipc_rd_leave(r);
	return bad ? -1 : 0;
}

/* The agent's environment, TERM for a PTY, then the client's names. */
static char **
session_env(struct sandbox *sb, struct session_req *rq)
{
	char	**env;
	size_t	  n, i, j = 0;

	for (n = 0; sb->sb_env[n] != NULL; n++)
		;
	if ((env = calloc(n + SESSION_MAXARGS + 2, sizeof(*env))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < n; i++)
		if ((env[j++] = strdup(sb->sb_env[i])) == NULL)
			fatal("%s", __func__);
	if (rq->r_kind == 1 && rq->r_term[0] != '\0' &&
	    asprintf(&env[j++], "TERM=%s", rq->r_term) == -1)
		fatal("%s", __func__);
	for (i = 0; rq->r_cenv[i] != NULL; i++)
		if ((env[j++] = strdup(rq->r_cenv[i])) == NULL)
			fatal("%s", __func__);
	return env;
}

static void
session_req_free(struct session_req *rq)
{
	size_t	 i;

	for (i = 0; i < SESSION_MAXARGS && rq->r_argv[i] != NULL; i++)
		free(rq->r_argv[i]);
	free(rq->r_term);
	for (i = 0; i < SESSION_MAXARGS && rq->r_cenv[i] != NULL; i++)
		free(rq->r_cenv[i]);
	for (i = 0; rq->r_env != NULL && rq->r_env[i] != NULL; i++)
		free(rq->r_env[i]);
	free(rq->r_env);
	memset(rq, 0, sizeof(*rq));
}

/* Only these names may come from the client; never over ours. */
static int
session_env_ok(const char *k)
{
	return strcmp(k, "LANG") == 0 || (strncmp(k, "LC_", 3) == 0 &&
	    strspn(k + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(k + 3)) ||
	    strcmp(k, "TZ") == 0 || strcmp(k, "COLORTERM") == 0;
}

/*
 * A PTY pair of the sandbox's devpts instance (its /dev/pts/ptmx seen
 * through the reaper's root), the size set.  *master is ours;
 * session_fork opens the slave for the session.
 */
static int
session_ptmx(struct sandbox *sb, struct session_req *rq, int *master)
{
	struct winsize	 ws;
	char		 path[64];
	int		 m, unlock = 0;

	snprintf(path, sizeof(path), "/proc/%d/root/dev/pts/ptmx",
	    (int)sb->sb_reaper);
	if ((m = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return -1;
	if (ioctl(m, TIOCSPTLCK, &unlock) == -1) {
		close(m);
		return -1;
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = rq->r_cols > 0 ? rq->r_cols : 80;
	ws.ws_row = rq->r_rows > 0 ? rq->r_rows : 24;
	(void)ioctl(m, TIOCSWINSZ, &ws);
	*master = m;
	return 0;
}

/*
 * The helper: a clone child (exit signal 0) that joins the sandbox's
 * namespaces and clones the session as our child; it reports the
 * session's pid on a pipe and exits.  Returns the session's pid.
 */
static pid_t
session_fork(struct sandbox *sb, struct session_req *rq, int fds[3],
    int master)
{
	struct session_clone_args	 ca;
	siginfo_t			 si;
	pid_t				 h, pid = -1;
	int				 p[2], hfd = -1, sl = -1;

	if (master != -1) {
		/* Our slave: closed again by the caller through fds. */
		if ((sl = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY |
		    O_CLOEXEC)) == -1)
			return -1;
		fds[0] = fds[1] = fds[2] = sl;
	}
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)&hfd;
	if ((h = syscall(SYS_clone3, &ca, sizeof(ca))) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (h == 0) {
		close(p[0]);
		session_helper(sb, rq, fds, master != -1, p[1]);
	}
	close(p[1]);
	if (read(p[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	close(p[0]);
	memset(&si, 0, sizeof(si));
	(void)waitid(P_PIDFD, hfd, &si, WEXITED | __WALL);
	close(hfd);
	return pid;
}

static void
session_helper(struct sandbox *sb, struct session_req *rq, int fds[3],
    int pty, int report)
{
	struct session_clone_args	 ca;
	pid_t				 pid;

	if (setns(sb->sb_pidfd, SESSION_NS) == -1) {
		log_warn("setns into the sandbox");
		_exit(1);
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_PARENT;
	if ((pid = syscall(SYS_clone3, &ca, sizeof(ca))) == -1)
		_exit(1);
	if (pid == 0) {
		close(report);
		(void)pty;
		session_exec(sb, rq, fds, pty);
	}
	if (write(report, &pid, sizeof(pid)) != sizeof(pid))
		_exit(1);
	_exit(0);
}

/* The session process: the agent's path (spawn.c), then exec. */
static void
session_exec(struct sandbox *sb, struct session_req *rq, int fds[3], int pty)
{
	const struct policy	*p = sb->sb_policy;
	struct sigaction	 sa;
	sigset_t		 set;
	char			 status[SANDBOX_LL_STATUSLEN];
	static char		*shell[] = { "/bin/bash", "-l", NULL };
	static char		*sh[] = { "/bin/sh", "-l", NULL };
	static const char *const sftp[] = {
		"/usr/lib/openssh/sftp-server",
		"/usr/libexec/openssh/sftp-server",
		"/usr/libexec/sftp-server",
		"/usr/lib/ssh/sftp-server",
	};
	char			**argv = rq->r_argv;
	const char		*wd = sb->sb_workdir != NULL ? sb->sb_workdir :
				    "/sandbox";
	int			 sig;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || setsid() == -1)
		_exit(127);
	if (pty && ioctl(fds[0], TIOCSCTTY, 0) == -1)
		_exit(127);
	for (i = 0; i < 3; i++)
		if (dup2(fds[i], (int)i) == -1)
			_exit(127);
	closefrom(3);
	if (chdir(wd) == -1 && chdir("/sandbox") == -1 && chdir("/") == -1)
		_exit(127);
	sandbox_privdrop(sb->sb_uid, sb->sb_gid);
	sandbox_nnp();
	if (sandbox_landlock_paths((const char *const *)p->read_only.v,
	    p->read_only.n, (const char *const *)p->read_write.v,
	    p->read_write.n, sb->sb_hard, status, sizeof(status)) == -1)
		fatalx("%s", status);
	if (sandbox_agent_filter() == -1)
		fatal("seccomp agent filter");
	if (rq->r_kind == 2) {
		for (i = 0; i < sizeof(sftp) / sizeof(sftp[0]); i++)
			if (access(sftp[i], X_OK) == 0)
				break;
		if (i == sizeof(sftp) / sizeof(sftp[0]))
			fatalx("no sftp-server in the sandbox");
		argv[0] = (char *)sftp[i];
		argv[1] = NULL;
	} else if (argv[0] == NULL)
		argv = access(shell[0], X_OK) == 0 ? shell : sh;
	environ = rq->r_env;
	execv(argv[0], argv);
	fprintf(stderr, "openshell: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* [bool signalled, u32 status or signal, str name] to sshd. */
static void
session_exited(int fd, short event, void *arg)
{
	struct session	*s = arg;
	struct ipc_wr	 w;
	siginfo_t	 si;
	const char	*name = "";
	int		 sig = 0;

	(void)event;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG | __WALL) == -1 ||
	    si.si_pid == 0) {
		event_add(s->s_ev, NULL);
		return;
	}
	if (si.si_code != CLD_EXITED) {
		sig = si.si_status;
		if ((name = sigabbrev_np(sig)) == NULL)
			name = "KILL";
	}
	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_bool(&w, sig != 0);
	ipc_wr_u32(&w, (uint32_t)si.si_status);
	ipc_wr_str(&w, name);
	if (s->s_orphan)
		ipc_wr_free(&w);
	else if (proc_compose_wr(s->s_pt, PROC_SSH, IPC_SSH_EXIT, s->s_id, -1,
	    &w) == -1)
		log_warn("sshd: exit");
	log_info("ssh session %u: %s %d", s->s_id, sig ? "signal" : "exit",
	    si.si_status);
	TAILQ_REMOVE(&session_list, s, s_entry);
	session_n--;
	event_free(s->s_ev);
	close(s->s_pidfd);
	if (s->s_master != -1)
		close(s->s_master);
	free(s);
}

static struct session *
session_find(uint32_t id)
{
	struct session	*s;

	TAILQ_FOREACH(s, &session_list, s_entry)
		if (s->s_id == id && !s->s_orphan)
			return s;
	return NULL;
}

/* [u32 cols, u32 rows]; a session that just exited is no error. */
static int
session_winch(struct proc_tree *pt, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct winsize	 ws;
	struct session	*s;
	uint32_t	 n = 0, cols = 0, rows = 0;

	(void)pt;
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 2) {
		ipc_rd_u32(&r, &cols);
		ipc_rd_u32(&r, &rows);
	}
	if (ipc_rd_end(&r) == -1 || n != 2 || cols == 0 || rows == 0 ||
	    cols > 10000 || rows > 10000)
		return -1;
	if ((s = session_find(ipc_peerid(msg))) == NULL || s->s_master == -1)
		return 0;
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = cols;
	ws.ws_row = rows;
	if (ioctl(s->s_master, TIOCSWINSZ, &ws) == -1)
		log_warn("TIOCSWINSZ");
	return 0;
}

/* [str name]: RFC 4254 §6.9 names, through the pidfd (no pid reuse). */
static int
session_signal(struct proc_tree *pt, struct ipc_msg *msg)
{
	static const struct { const char *n; int s; } sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "TERM", SIGTERM }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 }, { "ALRM", SIGALRM }, { "PIPE", SIGPIPE },
		{ "ABRT", SIGABRT },
	};
	struct ipc_rd	 r;
	struct session	*s;
	char		 name[16];
	uint32_t	 n = 0;
	size_t		 i;

	(void)pt;
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 1)
		ipc_rd_strbuf(&r, name, sizeof(name));
	if (ipc_rd_end(&r) == -1 || n != 1)
		return -1;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(sigs[i].n, name) == 0)
			break;
	if (i == sizeof(sigs) / sizeof(sigs[0]) ||
	    (s = session_find(ipc_peerid(msg))) == NULL)
		return 0;
	if (syscall(SYS_pidfd_send_signal, s->s_pidfd, sigs[i].s, NULL, 0) ==
	    -1 && errno != ESRCH)
		log_warn("ssh session %u: signal", s->s_id);
	return 0;
}

/* [str host, u32 port] -> TCPIP_RESULT [ok, error] + fd. */
static int
session_tcpip(struct sandbox *sb, struct proc_tree *pt, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	struct ipc_wr	 w;
	char		 host[256];
	uint32_t	 n = 0, port = 0;
	int		 fd;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 2) {
		ipc_rd_strbuf(&r, host, sizeof(host));
		ipc_rd_u32(&r, &port);
	}
	if (ipc_rd_end(&r) == -1 || n != 2 || port == 0 || port > 65535)
		return -1;
	fd = session_connect(sb, host, port);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_bool(&w, fd != -1);
	ipc_wr_str(&w, fd != -1 ? "" : "connection refused or not loopback");
	if (proc_compose_wr(pt, PROC_SSH, IPC_SSH_TCPIP_RESULT,
	    ipc_peerid(msg), fd, &w) == -1 && fd != -1)
		close(fd);
	log_info("direct-tcpip %s:%u: %s", host, port, fd != -1 ? "connected" :
	    "refused");
	return 0;
}

/*
 * Loopback only, and the agent's loopback: the socket is made inside
 * the agent netns (sockets keep the namespace they were born in).
 * Loopback connects complete at once, so blocking is brief.
 */
static int
session_connect(struct sandbox *sb, const char *host, uint32_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, fam;

	memset(&ss, 0, sizeof(ss));
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1 &&
	    (ntohl(sin->sin_addr.s_addr) >> 24) == 127) {
		fam = sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
		fam = sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else
		return -1;
	if (setns(sb->sb_nn.nn_agent, CLONE_NEWNET) == -1)
		return -1;
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (setns(sb->sb_nn.nn_orig, CLONE_NEWNET) == -1)
		fatal("setns back to our netns");
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}
