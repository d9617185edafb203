/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell-sandbox: the supervisor of one sandbox (architecture.md
 * §2, sandbox.md §5.1).  As root it creates the agent's and the
 * proxy's network namespaces and proxyd's listener, starts proxyd
 * (unprivileged, restarted with backoff by proc.c; while it is down
 * the agent's connections fail: fail closed) and sshd, loads the
 * policy while they start, clones the agent's reaper, which builds the
 * agent's mounts meanwhile, and releases the agent once proxyd serves;
 * then it answers proxyd's identity queries, and when the agent is
 * gone stops everything and exits with its status.  Start-up latency
 * is what the user waits for: independent steps overlap.
 *
 * Gateway mode (--endpoint, no --policy; gwlink.c): the policy and
 * the provider credentials come from the gateway, every log line goes
 * there too (logpush.c, agentio.c), and when the agent exits the
 * sandbox stays up (proxy, later sshd) until SIGTERM.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "libpolicy/policy.h"
#include "control.h"
#include "log.h"
#include "paths.h"
#include "proc.h"
#include "sandbox.h"
#include "supervisor.h"
#include "session.h"

extern char	**environ;

static void	 sbx_daemons(struct sandbox *, struct event_base *);
static void	 sbx_agent(struct sandbox *);
static void	 sbx_sigdefault(int);
static void	 sbx_signals(struct sandbox *, struct event_base *);
static void	 sbx_dirs(struct sandbox *);
static void	 sbx_mkdir(const char *, mode_t, uid_t, gid_t);
static void	 sbx_ctlsock(struct sandbox *, int);
static void	 sbx_proxyd_check(void);
static void	 sbx_configure(struct proc_tree *, int, void *);
static void	 sbx_proxy_config(struct sandbox *, struct proc_tree *);
static void	 sbx_ready(struct proc_tree *, void *);
static int	 sbx_dispatch(struct proc_tree *, int, struct ipc_msg *,
		    void *);
static void	 sbx_reaper_done(int, short, void *);
static void	 sbx_agent_exited(struct sandbox *, int);
static void	 sbx_status(int, short, void *);
static void	 sbx_signal(int, short, void *);
static void	 sbx_finish(struct sandbox *);
static void	 sbx_ready_line(struct sandbox *);
static void	 sbx_ready_write(struct sandbox *);
static int	 sbx_log_event(struct sandbox *, int, struct ipc_msg *);

/* The agent was released (or would have been, its reaper gone). */
static int	 sbx_released;

static const struct proc_tree_ops sbx_ops = {
	sbx_configure,
	sbx_ready,
	sbx_dispatch,
};

int
main(int argc, char *argv[])
{
	static struct sandbox	 sb;
	struct event_base	*base;
	int			 i;

	spawn_argv(argc, argv);
	config_options(&sb, argc, argv);
	log_procinit("sandbox");
	log_init(1, LOG_DAEMON);
	log_setverbose(sb.sb_verbose);
	if (geteuid() != 0)
		fatalx("must run as root (it creates namespaces)");
	sb.sb_gateway = sb.sb_policy_file == NULL && sb.sb_endpoint != NULL;
	if (sb.sb_gateway) {
		if (sb.sb_id == NULL)
			fatalx("gateway mode needs --sandbox-id");
		sb.sb_lp = logpush_new(sb.sb_id);
		logpush_hook_install(sb.sb_lp);
	}
	if (!sb.sb_gateway)
		routes_file(&sb);	/* an error ends us before anything */
	sb.sb_pidfd = sb.sb_statusfd = -1;
	for (i = 0; i < PROC_MAX; i++)
		sb.sb_ctlfd[i] = -1;
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	sbx_daemons(&sb, base);
	sbx_sigdefault(1);
	if (sb.sb_gateway) {
		gwlink_fetch(&sb);
		config_hosts(&sb);
	} else
		config_policy(&sb);
	sbx_sigdefault(0);
	sbx_agent(&sb);
	if (sb.sb_gateway)
		gwlink_start(&sb, base);
	sbx_signals(&sb, base);
	log_info("starting sandbox %s (state %s)",
	    sb.sb_name != NULL ? sb.sb_name : sb.sb_id != NULL ? sb.sb_id :
	    "-", sb.sb_state);
	proc_tree_run(&sb.sb_tree);
	sbx_finish(&sb);
	return sb.sb_exit;
}

/*
 * Before the policy is known: the network namespaces, proxyd's
 * listener and the daemons, which start (exec, TLS set-up, the
 * sandbox CA, the SSH host key) while the policy is fetched.  Their
 * configuration that depends on the policy follows in sbx_agent.
 */
static void
sbx_daemons(struct sandbox *sb, struct event_base *base)
{
	int	 ssh;

	config_daemon_user(sb);
	sbx_proxyd_check();
	sbx_dirs(sb);
	ssh = session_secret();	/* before config_scrub_env wipes it */
	/* The daemons are exec'd with our environment. */
	config_scrub_env();
	if (netns_create(&sb->sb_nn) == -1)
		fatalx("cannot create the sandbox network namespaces");
	if (netns_listen(&sb->sb_nn) == -1)
		fatalx("cannot create the proxy listener");
	/* proxyd's log lines come to us as IPC_LOG_EVENT (no logd here);
	 * config_env keeps the variable from the agent. */
	if (sb->sb_gateway && setenv(PROC_LOG_PARENT_ENV, "1", 1) == -1)
		fatal("setenv");
	/* Like us, proxyd logs to stderr (-d): whoever runs the
	 * supervisor (the gateway's driver, a test) collects both. */
	proc_tree_init(&sb->sb_tree, base, 1, sb->sb_verbose);
	proc_tree_user(&sb->sb_tree, sb->sb_duid, sb->sb_dgid);
	proc_tree_setops(&sb->sb_tree, &sbx_ops, sb);
	proc_add(&sb->sb_tree, PROC_PROXY, "proxyd");
	sbx_ctlsock(sb, PROC_PROXY);
	if (ssh && session_listen(sb) == 0) {
		proc_add(&sb->sb_tree, PROC_SSH, "sshd");
		sbx_ctlsock(sb, PROC_SSH);
	}
	/* inference.local: proxyd hands those connections to routerd. */
	if (sb->sb_gateway || sb->sb_routes != NULL) {
		proc_add(&sb->sb_tree, PROC_ROUTER, "routerd");
		sbx_ctlsock(sb, PROC_ROUTER);
		proc_peer(&sb->sb_tree, PROC_PROXY, PROC_ROUTER);
	}
	/* proc_tree_init took the log hook for a logd we lack. */
	if (sb->sb_gateway)
		logpush_hook_install(sb->sb_lp);
	proc_tree_start(&sb->sb_tree);
}

/*
 * The policy is known: the agent's user, home and environment,
 * proxyd's share of the policy, and the reaper, which builds the
 * agent's namespaces and mounts while proxyd finishes its start.  The
 * reaper is a copy of us: everything the agent needs is set before.
 */
static void
sbx_agent(struct sandbox *sb)
{
	struct event_base	*base = sb->sb_tree.pt_base;

	config_users(sb);
	sbx_mkdir(sb->sb_sbxdir, 0700, sb->sb_uid, sb->sb_gid);
	config_env(sb, environ);
	if ((sb->sb_ident = ident_new()) == NULL)
		fatal("ident");
	sbx_proxy_config(sb, &sb->sb_tree);
	/* Before the agent: its first request finds the routes. */
	if (sb->sb_routes != NULL)
		routes_configure(sb, &sb->sb_tree);
	if (sb->sb_gateway)
		sb->sb_aio = agentio_new(sb->sb_lp);
	if (spawn_reaper(sb) == -1)
		fatalx("cannot spawn the agent");
	if (sb->sb_aio != NULL)
		agentio_parent(sb->sb_aio, base);
	sb->sb_ev_pidfd = event_new(base, sb->sb_pidfd, EV_READ,
	    sbx_reaper_done, sb);
	sb->sb_ev_status = event_new(base, sb->sb_statusfd,
	    EV_READ | EV_PERSIST, sbx_status, sb);
	if (sb->sb_ev_pidfd == NULL || sb->sb_ev_status == NULL ||
	    event_add(sb->sb_ev_pidfd, NULL) == -1 ||
	    event_add(sb->sb_ev_status, NULL) == -1)
		fatalx("event_add");
}

/*
 * While the policy is fetched (retries included) the loop does not
 * run: a TERM or INT ends us at once, as before the daemons started
 * (they lose their channel and exit).  Then proc.c's handlers again.
 */
static void
sbx_sigdefault(int on)
{
	static const int	 sigs[2] = { SIGTERM, SIGINT };
	static struct sigaction	 saved[2];
	struct sigaction	 sa;
	int			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < 2; i++)
		if (sigaction(sigs[i], on ? &sa : &saved[i], on ? &saved[i] :
		    NULL) == -1)
			fatal("sigaction");
}

static void
sbx_signals(struct sandbox *sb, struct event_base *base)
{
	static const int	 sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	int			 i;

	for (i = 0; i < 3; i++) {
		sb->sb_ev_sig[i] = evsignal_new(base, sigs[i], sbx_signal, sb);
		if (sb->sb_ev_sig[i] == NULL ||
		    evsignal_add(sb->sb_ev_sig[i], NULL) == -1)
			fatalx("evsignal");
	}
}

/*
 * <state> 0700 root; <state>/run 0700 root (control sockets, the
 * mount point of the agent's root); <state>/sandbox, the persistent
 * /sandbox, owned by the sandbox user, is made by sbx_agent once that
 * user is known.  Symlinks are refused, so that a chown cannot be
 * redirected (sandbox.md §5.2).
 */
static void
sbx_dirs(struct sandbox *sb)
{
	char	 run[PATH_MAX];

	sbx_mkdir(sb->sb_state, 0700, 0, 0);
	if (snprintf(run, sizeof(run), "%s/run", sb->sb_state) >=
	    (int)sizeof(run) || snprintf(sb->sb_sbxdir, sizeof(sb->sb_sbxdir),
	    "%s/sandbox", sb->sb_state) >= (int)sizeof(sb->sb_sbxdir) ||
	    snprintf(sb->sb_rootdir, sizeof(sb->sb_rootdir), "%s/root", run) >=
	    (int)sizeof(sb->sb_rootdir))
		fatalx("state directory path too long");
	sbx_mkdir(run, 0700, 0, 0);
	sbx_mkdir(sb->sb_rootdir, 0700, 0, 0);
}

static void
sbx_mkdir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat	 st;

	if (mkdir(path, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", path);
	if (lstat(path, &st) == -1)
		fatal("%s", path);
	if (!S_ISDIR(st.st_mode))
		fatalx("%s: not a directory (symlinks are refused)", path);
	if ((st.st_uid != uid || st.st_gid != gid) && chown(path, uid, gid) ==
	    -1)
		fatal("chown %s", path);
	if ((st.st_mode & 07777) != mode && chmod(path, mode) == -1)
		fatal("chmod %s", path);
}

/*
 * <state>/run/<daemon>.sock, for `openshell admin <daemon> --sandbox
 * N': root's, 0600, outside the agent's root.  We keep the listener;
 * each start of the daemon gets a duplicate (sbx_configure).  Without
 * one the daemon runs without a control socket.
 */
static void
sbx_ctlsock(struct sandbox *sb, int id)
{
	char	 run[PATH_MAX], path[PATH_MAX];

	if (paths_rundir(sb->sb_state, run, sizeof(run)) == -1 ||
	    paths_ctlsock(run, proc_name(id), path, sizeof(path)) == -1 ||
	    (sb->sb_ctlpath[id] = strdup(path)) == NULL) {
		log_warnx("%s: no control socket", proc_name(id));
		return;
	}
	if ((sb->sb_ctlfd[id] = control_listen(path)) == -1)
		log_warn("%s: control socket %s", proc_name(id), path);
}

/* proc.c would retry a missing binary for ever: say so once, now. */
static void
sbx_proxyd_check(void)
{
	char	 dir[PATH_MAX], path[PATH_MAX];

	if (proc_libexec_dir(dir, sizeof(dir)) == -1 ||
	    snprintf(path, sizeof(path), "%s/proxyd", dir) >=
	    (int)sizeof(path))
		fatalx("cannot find the libexec directory");
	if (access(path, X_OK) == -1)
		fatal("proxyd is not installed at %s", path);
}

/*
 * At every start of proxyd, before IPC_SETUP_DONE: a duplicate of the
 * listener (we keep the original), then what comes from the policy.
 * The first start is before the policy is known: sbx_agent sends that
 * part after IPC_SETUP_DONE (nothing can use the proxy before the
 * agent exists).  Ownership of each fd passes to the channel.
 */
static void
sbx_configure(struct proc_tree *pt, int id, void *arg)
{
	struct sandbox	*sb = arg;

	if (sb->sb_ctlfd[id] != -1 &&
	    proc_send_ctl(pt, id, sb->sb_ctlfd[id]) == -1)
		log_warn("%s: control socket", proc_name(id));
	if (id == PROC_SSH)
		session_configure(sb, pt);
	if (id == PROC_ROUTER) {
		/* A table of many routes is bigger than the default frame. */
		if (ipc_set_maxsize(&pt->pt_children[id].pc_ev.ie_ib,
		    SBX_PROXY_IPC_MAX) == -1)
			log_warn("routerd: channel size");
		/* At the first start, sbx_agent sends it (as proxyd's). */
		if (sb->sb_policy_yaml != NULL)
			routes_configure(sb, pt);
	}
	if (id != PROC_PROXY)
		return;
	/* Large policies: proxyd takes frames this big too. */
	if (ipc_set_maxsize(&pt->pt_children[id].pc_ev.ie_ib,
	    SBX_PROXY_IPC_MAX) == -1)
		log_warn("proxyd: channel size");
	ipc_set_maxqueue(&pt->pt_children[id].pc_ev.ie_ib,
	    4 * SBX_PROXY_IPC_MAX);
	if (proc_send_fd(pt, id, IPC_SETUP_PROXY_LISTEN,
	    sb->sb_nn.nn_listen) == -1)
		log_warn("proxyd: listener");
	if (sb->sb_policy_yaml != NULL)
		sbx_proxy_config(sb, pt);
}

/* The policy, the hosts override, the credentials, the trust anchors. */
static void
sbx_proxy_config(struct sandbox *sb, struct proc_tree *pt)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, sb->sb_policy_yaml);
	if (proc_compose_wr(pt, PROC_PROXY, IPC_PROXY_POLICY,
	    gwlink_policy_tag(sb), -1, &w) == -1)
		log_warn("proxyd: policy");
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, sb->sb_hosts != NULL ? sb->sb_hosts : "");
	if (proc_compose_wr(pt, PROC_PROXY, IPC_PROXY_HOSTS, 0, -1, &w) == -1)
		log_warn("proxyd: hosts");
	creds_send(sb, pt);
	trust_send(sb, pt);
}

/*
 * proxyd serves and the sandbox CA is in the agent's bundle (trust.c):
 * now the agent may start, so that its first connection finds the
 * proxy.  Then --ready-fd.
 */
static void
sbx_ready(struct proc_tree *pt, void *arg)
{
	struct sandbox	*sb = arg;

	if (trust_wait(sb, pt, sbx_ready))
		return;
	sbx_released = 1;
	/* A reaper gone already (its exit says why) gets no word. */
	if (sb->sb_done || spawn_go(sb) == -1) {
		sbx_ready_line(sb);
		return;
	}
	log_info("sandbox ready: agent %s (reaper pid %d)", sb->sb_argv[0],
	    (int)sb->sb_reaper);
	/* Gateway mode: the line waits for the agent's isolation status. */
	if (!sb->sb_gateway)
		sbx_ready_line(sb);
}

/*
 * Once: --ready-fd, then in gateway mode the startup policy reported
 * LOADED.  In that order: READY is what the user waits for, and the
 * report costs gatewayd a commit.
 */
static void
sbx_ready_line(struct sandbox *sb)
{
	/* Not before the tree is ready: an early end of the reaper waits. */
	if (sb->sb_ready_sent || !sbx_released)
		return;
	sb->sb_ready_sent = 1;
	if (sb->sb_readyfd != -1)
		sbx_ready_write(sb);
	if (sb->sb_gateway)
		gwlink_loaded(sb);
}

/*
 * "ready", or in gateway mode "ready landlock=<status>
 * seccomp=<status>" for the driver to record.
 */
static void
sbx_ready_write(struct sandbox *sb)
{
	char	 line[sizeof(sb->sb_llstatus) + sizeof(sb->sb_scstatus) + 32];
	int	 n;

	if (!sb->sb_gateway)
		n = snprintf(line, sizeof(line), "ready\n");
	else
		n = snprintf(line, sizeof(line), "ready landlock=%s seccomp=%s\n",
		    sb->sb_llstatus[0] != '\0' ? sb->sb_llstatus + 9 :
		    "unknown", sb->sb_scstatus[0] != '\0' ? sb->sb_scstatus + 8 :
		    "unknown");
	if (n < 0 || write(sb->sb_readyfd, line, (size_t)n) != n)
		log_warn("ready-fd");
	close(sb->sb_readyfd);
	sb->sb_readyfd = -1;
}

static int
sbx_dispatch(struct proc_tree *pt, int id, struct ipc_msg *msg, void *arg)
{
	(void)pt;
	/* Any daemon's log line (OPENSHELL_LOG_TO_PARENT, gateway mode). */
	if (ipc_type(msg) == IPC_LOG_EVENT)
		return sbx_log_event(arg, id, msg);
	if (id == PROC_SSH)
		return session_dispatch(arg, pt, msg);
	if (id == PROC_PROXY && ipc_type(msg) == IPC_PROXY_IDENT)
		return ident_dispatch(arg, msg);
	if (id == PROC_PROXY && ipc_type(msg) == IPC_PROXY_CA)
		return trust_ca(arg, msg);
	if (id == PROC_PROXY && ipc_type(msg) == IPC_PROXY_POLICY_DONE)
		return gwlink_policy_done(arg, msg);
	return -1;
}

/*
 * [i64 time_ms, str proc, u32 pid, str level, str message]: a daemon's
 * line (its stderr has it already) for the gateway in gateway mode.
 */
static int
sbx_log_event(struct sandbox *sb, int id, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		*proc = NULL, *level = NULL, *text = NULL;
	int64_t		 t;
	uint32_t	 n = 0, pid;
	int		 rc = -1;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 5) {
		ipc_rd_i64(&r, &t);
		ipc_rd_str(&r, &proc);
		ipc_rd_u32(&r, &pid);
		ipc_rd_str(&r, &level);
		ipc_rd_str(&r, &text);
	}
	if (ipc_rd_end(&r) == 0 && n == 5) {
		rc = 0;
		if (sb->sb_lp != NULL)
			logpush_text(sb->sb_lp, level, id == PROC_PROXY ?
			    "openshell_sandbox::proxy" : id == PROC_ROUTER ?
			    "openshell_sandbox::router" :
			    "openshell_sandbox::ssh", text);
	}
	free(proc);
	free(level);
	free(text);
	return rc;
}

/* The agent's effective isolation, one line each, into our log. */
static void
sbx_status(int fd, short event, void *arg)
{
	struct sandbox	*sb = arg;
	char		 buf[SANDBOX_LL_STATUSLEN * 2], *line, *nl;
	ssize_t		 n;

	(void)event;
	if ((n = read(fd, buf, sizeof(buf) - 1)) <= 0) {
		event_del(sb->sb_ev_status);
		sbx_ready_line(sb);
		return;
	}
	buf[n] = '\0';
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		/* Gateway mode: the reaper stays, the agent is gone. */
		if (strncmp(line, "exited ", 7) == 0) {
			sbx_agent_exited(sb, atoi(line + 7));
			continue;
		}
		if (strncmp(line, "landlock ", 9) == 0)
			strlcpy(sb->sb_llstatus, line, sizeof(sb->sb_llstatus));
		log_info("agent isolation: %s", line);
		if (strncmp(line, "seccomp ", 8) == 0) {
			strlcpy(sb->sb_scstatus, line, sizeof(sb->sb_scstatus));
			sbx_ready_line(sb);
		}
	}
}

static void
sbx_reaper_done(int fd, short event, void *arg)
{
	struct sandbox	*sb = arg;
	int		 status;

	(void)fd;
	(void)event;
	if (spawn_reaped(sb, &status) == -1) {
		event_add(sb->sb_ev_pidfd, NULL);
		return;
	}
	sb->sb_reaper = 0;
	/* Gateway mode: it outlived the agent, whose exit we know. */
	if (!sb->sb_done)
		sbx_agent_exited(sb, status);
}

/* The agent is gone, by the reaper's exit or (gateway mode) word. */
static void
sbx_agent_exited(struct sandbox *sb, int status)
{
	if (sb->sb_done)
		return;
	sb->sb_exit = status;
	/* Its output before the line that says it is over. */
	agentio_drain(sb->sb_aio);
	sb->sb_done = 1;
	log_info("agent exited exit_code=%d", sb->sb_exit);
	sbx_ready_line(sb);
	if (!sb->sb_gateway) {
		proc_tree_stop(&sb->sb_tree);
		return;
	}
	logpush_flush(sb->sb_lp);
}

/* proc.c stops proxyd on TERM and INT; the agent is ours to stop. */
static void
sbx_signal(int sig, short event, void *arg)
{
	struct sandbox	*sb = arg;

	(void)event;
	if (sb->sb_reaper > 0)
		kill(sb->sb_reaper, sig == SIGHUP ? SIGTERM : sig);
	else
		proc_tree_stop(&sb->sb_tree);
}

/*
 * The tree has stopped.  An agent still running (proxyd gone first)
 * gets PROC_STOP_TIMEOUT seconds after the signal, then SIGKILL.
 */
static void
sbx_finish(struct sandbox *sb)
{
	struct pollfd	 pfd;
	int		 i;

	/* SSH sessions are our children in its pid ns: reap them first,
	 * or the reaper waits for them for ever. */
	session_close(sb);
	if (sb->sb_reaper > 0) {
		kill(sb->sb_reaper, SIGTERM);
		pfd.fd = sb->sb_pidfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, PROC_STOP_TIMEOUT * 1000) <= 0)
			kill(sb->sb_reaper, SIGKILL);
		pfd.fd = sb->sb_pidfd;
		(void)poll(&pfd, 1, -1);
		if (spawn_reaped(sb, &sb->sb_exit) == -1)
			sb->sb_exit = 128 + SIGKILL;
	}
	if (!sb->sb_done && !sbx_released)
		sb->sb_exit = 1;	/* stopped before the agent started */
	if (sb->sb_pidfd != -1)
		close(sb->sb_pidfd);
	netns_close(&sb->sb_nn);
	for (i = 0; i < PROC_MAX; i++) {
		if (sb->sb_ctlfd[i] != -1) {
			close(sb->sb_ctlfd[i]);
			(void)unlink(sb->sb_ctlpath[i]);
		}
		free(sb->sb_ctlpath[i]);
	}
	(void)rmdir(sb->sb_rootdir);
	ident_free(sb->sb_ident);
	if (sb->sb_gateway)
		logpush_drain(sb->sb_lp, sb->sb_tree.pt_base, 2000);
}
