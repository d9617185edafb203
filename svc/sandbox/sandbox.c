/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell-sandbox: the supervisor of one sandbox (architecture.md
 * §2, sandbox.md §5.1).  As root it loads the policy, creates the
 * agent's and the proxy's network namespaces and proxyd's listener,
 * starts proxyd (unprivileged, restarted with backoff by proc.c; while
 * it is down the agent's connections fail: fail closed), then spawns
 * the agent under its reaper, answers proxyd's identity queries, and
 * when the agent is gone stops everything and exits with its status.
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
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "supervisor.h"

extern char	**environ;

static void	 sbx_dirs(struct sandbox *);
static void	 sbx_mkdir(const char *, mode_t, uid_t, gid_t);
static void	 sbx_proxyd_check(void);
static void	 sbx_configure(struct proc_tree *, int, void *);
static void	 sbx_ready(struct proc_tree *, void *);
static int	 sbx_dispatch(struct proc_tree *, int, struct ipc_msg *,
		    void *);
static void	 sbx_send_secrets(struct sandbox *, struct proc_tree *);
static void	 sbx_reaper_done(int, short, void *);
static void	 sbx_status(int, short, void *);
static void	 sbx_signal(int, short, void *);
static void	 sbx_finish(struct sandbox *);

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
	static const int	 sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	int			 i;

	config_options(&sb, argc, argv);
	log_procinit("sandbox");
	log_init(1, LOG_DAEMON);
	log_setverbose(sb.sb_verbose);
	if (geteuid() != 0)
		fatalx("must run as root (it creates namespaces)");
	config_policy(&sb);
	config_users(&sb);
	sbx_proxyd_check();
	sbx_dirs(&sb);
	config_env(&sb, environ);
	if ((sb.sb_ident = ident_new()) == NULL)
		fatal("ident");
	if (netns_create(&sb.sb_nn) == -1)
		fatalx("cannot create the sandbox network namespaces");
	if (netns_listen(&sb.sb_nn) == -1)
		fatalx("cannot create the proxy listener");
	sb.sb_pidfd = sb.sb_statusfd = -1;
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	/* Like us, proxyd logs to stderr (-d): whoever runs the
	 * supervisor (the gateway's driver, a test) collects both. */
	proc_tree_init(&sb.sb_tree, base, 1, sb.sb_verbose);
	proc_tree_user(&sb.sb_tree, sb.sb_duid, sb.sb_dgid);
	proc_tree_setops(&sb.sb_tree, &sbx_ops, &sb);
	proc_add(&sb.sb_tree, PROC_PROXY, "proxyd");
	for (i = 0; i < 3; i++) {
		sb.sb_ev_sig[i] = evsignal_new(base, sigs[i], sbx_signal, &sb);
		if (sb.sb_ev_sig[i] == NULL ||
		    evsignal_add(sb.sb_ev_sig[i], NULL) == -1)
			fatalx("evsignal");
	}
	proc_tree_start(&sb.sb_tree);
	log_info("starting sandbox %s (state %s)",
	    sb.sb_name != NULL ? sb.sb_name : sb.sb_id != NULL ? sb.sb_id :
	    "-", sb.sb_state);
	proc_tree_run(&sb.sb_tree);
	sbx_finish(&sb);
	return sb.sb_exit;
}

/*
 * <state> 0700 root; <state>/run 0700 root (control sockets, the
 * mount point of the agent's root); <state>/sandbox, the persistent
 * /sandbox, owned by the sandbox user.  Symlinks are refused, so that
 * a chown cannot be redirected (sandbox.md §5.2).
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
	sbx_mkdir(sb->sb_sbxdir, 0700, sb->sb_uid, sb->sb_gid);
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
 * listener (we keep the original), the policy, the hosts override and
 * the credentials.  Ownership of each fd passes to the channel.
 */
static void
sbx_configure(struct proc_tree *pt, int id, void *arg)
{
	struct sandbox	*sb = arg;
	struct ipc_wr	 w;

	if (id != PROC_PROXY)
		return;
	if (proc_send_fd(pt, id, IPC_SETUP_PROXY_LISTEN,
	    sb->sb_nn.nn_listen) == -1)
		log_warn("proxyd: listener");
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, sb->sb_policy_yaml);
	if (proc_compose_wr(pt, id, IPC_PROXY_POLICY, 0, -1, &w) == -1)
		log_warn("proxyd: policy");
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, sb->sb_hosts != NULL ? sb->sb_hosts : "");
	if (proc_compose_wr(pt, id, IPC_PROXY_HOSTS, 0, -1, &w) == -1)
		log_warn("proxyd: hosts");
	sbx_send_secrets(sb, pt);
}

static void
sbx_send_secrets(struct sandbox *sb, struct proc_tree *pt)
{
	struct ipc_wr	 w;
	char		 ph[256];
	int		 i;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_map(&w, (uint32_t)sb->sb_ncreds);
	for (i = 0; i < sb->sb_ncreds; i++) {
		snprintf(ph, sizeof(ph), "%s%s", SBX_PLACEHOLDER,
		    sb->sb_creds[i].cr_key);
		ipc_wr_str(&w, ph);
		ipc_wr_str(&w, sb->sb_creds[i].cr_value);
	}
	if (proc_compose_wr(pt, PROC_PROXY, IPC_PROXY_SECRETS, 0, -1,
	    &w) == -1)
		log_warn("proxyd: secrets");
}

/*
 * proxyd serves: now the agent may start, so that its first connection
 * finds the proxy.  Then --ready-fd.
 */
static void
sbx_ready(struct proc_tree *pt, void *arg)
{
	struct sandbox	*sb = arg;

	if (spawn_agent(sb) == -1)
		fatalx("cannot spawn the agent");
	sb->sb_ev_pidfd = event_new(pt->pt_base, sb->sb_pidfd, EV_READ,
	    sbx_reaper_done, sb);
	sb->sb_ev_status = event_new(pt->pt_base, sb->sb_statusfd,
	    EV_READ | EV_PERSIST, sbx_status, sb);
	if (sb->sb_ev_pidfd == NULL || sb->sb_ev_status == NULL ||
	    event_add(sb->sb_ev_pidfd, NULL) == -1 ||
	    event_add(sb->sb_ev_status, NULL) == -1)
		fatalx("event_add");
	log_info("sandbox ready: agent %s (reaper pid %d)", sb->sb_argv[0],
	    (int)sb->sb_reaper);
	if (sb->sb_readyfd != -1) {
		if (write(sb->sb_readyfd, "ready\n", 6) != 6)
			log_warn("ready-fd");
		close(sb->sb_readyfd);
		sb->sb_readyfd = -1;
	}
}

static int
sbx_dispatch(struct proc_tree *pt, int id, struct ipc_msg *msg, void *arg)
{
	(void)pt;
	if (id == PROC_PROXY && ipc_type(msg) == IPC_PROXY_IDENT)
		return ident_dispatch(arg, msg);
	return -1;
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
		return;
	}
	buf[n] = '\0';
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if (strncmp(line, "landlock ", 9) == 0)
			strlcpy(sb->sb_llstatus, line, sizeof(sb->sb_llstatus));
		log_info("agent isolation: %s", line);
	}
}

static void
sbx_reaper_done(int fd, short event, void *arg)
{
	struct sandbox	*sb = arg;

	(void)fd;
	(void)event;
	if (spawn_reaped(sb, &sb->sb_exit) == -1) {
		event_add(sb->sb_ev_pidfd, NULL);
		return;
	}
	log_info("agent exited with status %d", sb->sb_exit);
	sb->sb_reaper = 0;
	sb->sb_done = 1;
	proc_tree_stop(&sb->sb_tree);
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
	if (!sb->sb_done && sb->sb_pidfd == -1)
		sb->sb_exit = 1;	/* stopped before the agent started */
	if (sb->sb_pidfd != -1)
		close(sb->sb_pidfd);
	netns_close(&sb->sb_nn);
	(void)rmdir(sb->sb_rootdir);
	ident_free(sb->sb_ident);
}
