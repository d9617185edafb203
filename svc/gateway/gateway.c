/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell-gateway: the parent of the gateway tree.  It owns the state
 * directory, the key material (certs.c), the gRPC port's listening
 * socket (listen.c), the control sockets and the log file, and starts
 * gatewayd, watchd and logd (proc.c), which drop to the _openshell
 * user.  Settings come from flags and the environment (config.c).
 */

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "control.h"
#include "gateway.h"
#include "log.h"
#include "paths.h"
#include "proc.h"

static int	 gateway_check(struct gateway *);
static void	 gateway_sockets(struct gateway *);
static void	 gateway_logfile(struct gateway *);
static void	 gateway_dbdir(struct gateway *);
static int	 gateway_dbdir_default(struct gateway *, const char *);
static void	 gateway_send_setup(struct gateway *, struct proc_tree *);
static void	 gateway_tree(struct gateway *, struct event_base *);
static void	 gateway_configure(struct proc_tree *, int, void *);
static void	 gateway_logdir(struct gateway *, struct proc_tree *);
static void	 gateway_ready(struct proc_tree *, void *);
static int	 gateway_dispatch(struct proc_tree *, int, struct ipc_msg *,
		    void *);
static void	 gateway_cleanup(struct gateway *);

/* The children, and the pairs of them that talk to each other. */
static const struct {
	int		 id;
	const char	*title;
} gateway_procs[] = {
	{ PROC_GATEWAY,	"gatewayd" },
	{ PROC_WATCH,	"watchd" },
	{ PROC_LOG,	"logd" },
};

static const int gateway_edges[][2] = {
	{ PROC_GATEWAY,	PROC_WATCH },
	{ PROC_GATEWAY,	PROC_LOG },
	{ PROC_WATCH,	PROC_LOG },
};

#define NPROCS	(sizeof(gateway_procs) / sizeof(gateway_procs[0]))
#define NEDGES	(sizeof(gateway_edges) / sizeof(gateway_edges[0]))

static const struct proc_tree_ops gateway_ops = {
	gateway_configure,
	gateway_ready,
	gateway_dispatch,
};

int
main(int argc, char *argv[])
{
	static struct gateway	 gw;
	struct event_base	*base;

	config_options(&gw, argc, argv);
	log_procinit("gateway");
	log_init(gw.gw_debug || gw.gw_noaction, LOG_DAEMON);
	log_setverbose(gw.gw_verbose);
	if (gw.gw_noaction)
		return gateway_check(&gw) == 0 ? 0 : 1;

	state_dirs(gw.gw_state, gw.gw_run);
	gw.gw_pidfd = state_pidfile(gw.gw_run, gw.gw_pidpath,
	    sizeof(gw.gw_pidpath));
	gw.gw_privdrop = user_resolve(GATEWAY_USER, &gw.gw_uid, &gw.gw_gid);
	if (certs_init(&gw) == -1 || certs_load(&gw) == -1)
		fatalx("cannot set up TLS");
	if (certs_secret(&gw) == -1)
		fatalx("cannot set up the SSH handshake secret");
	if (listen_open(&gw) == -1)
		fatalx("cannot listen on %s port %d", gw.gw_bind, gw.gw_port);
	gateway_dbdir(&gw);
	gateway_sockets(&gw);
	gateway_logfile(&gw);
	/* Nothing to reload yet; a hangup of the terminal that started
	 * us must not take the tree down.  SIGTERM/SIGINT stop it. */
	signal(SIGHUP, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	gateway_tree(&gw, base);
	if (driver_init(&gw) == -1)
		fatalx("cannot set up the compute driver");
	proc_tree_start(&gw.gw_tree);
	log_info("starting (state %s, port %d)", gw.gw_state,
	    gw.gw_realport);
	proc_tree_run(&gw.gw_tree);
	driver_shutdown(&gw);
	gateway_cleanup(&gw);
	log_info("stopped");
	return 0;
}

/*
 * -n: what a start would need, without starting.  With -v the settings
 * are printed too.
 */
static int
gateway_check(struct gateway *gw)
{
	char		 dir[PATH_MAX], path[PATH_MAX];
	struct passwd	*pw;
	size_t		 i;
	int		 bad = 0;

	if (proc_libexec_dir(dir, sizeof(dir)) == -1) {
		log_warnx("cannot find the libexec directory");
		return -1;
	}
	for (i = 0; i < NPROCS; i++) {
		if (paths_join(path, sizeof(path), dir,
		    gateway_procs[i].title) == -1 || access(path, X_OK) == -1) {
			log_warn("%s", path);
			bad = 1;
		}
		if (paths_ctlsock(gw->gw_run, gateway_procs[i].title, path,
		    sizeof(path)) == -1) {
			log_warnx("control socket path too long in %s",
			    gw->gw_run);
			bad = 1;
		}
	}
	pw = geteuid() == 0 ? getpwnam(GATEWAY_USER) : NULL;
	if (gw->gw_verbose) {
		printf("state-dir %s\nrun-dir %s\nlibexec %s\n", gw->gw_state,
		    gw->gw_run, dir);
		printf("user %s\n", geteuid() != 0 ? "(not root: no drop)" :
		    pw != NULL ? GATEWAY_USER :
		    GATEWAY_USER " (to be created)");
	}
	if (config_check(gw) == -1)
		bad = 1;
	if (bad)
		return -1;
	printf("configuration OK\n");
	return 0;
}

static void
gateway_sockets(struct gateway *gw)
{
	const char	*title;
	size_t		 i;
	int		 id;

	for (i = 0; i < NPROCS; i++) {
		id = gateway_procs[i].id;
		title = gateway_procs[i].title;
		if (paths_ctlsock(gw->gw_run, title, gw->gw_ctlpath[id],
		    sizeof(gw->gw_ctlpath[id])) == -1)
			fatalx("control socket path too long in %s",
			    gw->gw_run);
		if ((gw->gw_ctlfd[id] = control_listen(gw->gw_ctlpath[id])) ==
		    -1)
			fatal("control socket %s", gw->gw_ctlpath[id]);
	}
}

/* The parent keeps gw_logfd; logd gets a duplicate at each start. */
static void
gateway_logfile(struct gateway *gw)
{
	char	 path[PATH_MAX];

	if (paths_join(path, sizeof(path), gw->gw_state, GATEWAY_LOGFILE) ==
	    -1)
		fatalx("log file path too long");
	gw->gw_logfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (gw->gw_logfd == -1)
		fatal("%s", path);
}

static void
gateway_tree(struct gateway *gw, struct event_base *base)
{
	struct proc_tree	*pt = &gw->gw_tree;
	size_t			 i;

	proc_tree_init(pt, base, gw->gw_debug, gw->gw_verbose);
	if (gw->gw_privdrop)
		proc_tree_user(pt, gw->gw_uid, gw->gw_gid);
	proc_tree_setops(pt, &gateway_ops, gw);
	for (i = 0; i < NPROCS; i++)
		proc_add(pt, gateway_procs[i].id, gateway_procs[i].title);
	for (i = 0; i < NEDGES; i++)
		proc_peer(pt, gateway_edges[i][0], gateway_edges[i][1]);
}

/*
 * Sent to a child at every start, after its peers and before
 * IPC_SETUP_DONE.  Each child gets duplicates; the parent keeps the
 * originals to hand them again after a restart.
 */
static void
gateway_configure(struct proc_tree *pt, int id, void *arg)
{
	struct gateway	*gw = arg;

	if (proc_send_ctl(pt, id, gw->gw_ctlfd[id]) == -1)
		log_warn("%s: control socket", proc_name(id));
	if (id == PROC_LOG &&
	    proc_send_fd(pt, id, IPC_SETUP_LOGFILE, gw->gw_logfd) == -1)
		log_warn("logd: log file");
	if (id == PROC_LOG)
		gateway_logdir(gw, pt);
	if (id == PROC_GATEWAY) {
		driver_configure(gw);
		gateway_send_setup(gw, pt);
	}
}

/* gatewayd asks the compute driver (driver.c); nothing else may. */
static int
gateway_dispatch(struct proc_tree *pt, int id, struct ipc_msg *msg,
    void *arg)
{
	(void)pt;
	if (id != PROC_GATEWAY)
		return -1;
	if (sshbridge_dispatch(arg, msg) == 0)
		return 0;
	return driver_dispatch(arg, msg);
}

/*
 * gatewayd's port, TLS material and settings.  It gets a duplicate of
 * the listening socket; the parent keeps the original so that a
 * restarted gatewayd serves on the same port.
 */
static void
gateway_send_setup(struct gateway *gw, struct proc_tree *pt)
{
	struct ipc_wr	 w;
	int		 fd;

	if (proc_send_fd(pt, PROC_GATEWAY, IPC_SETUP_LISTEN,
	    gw->gw_listenfd) == -1)
		log_warn("gatewayd: listening socket");
	ipc_wr_init(&w);
	ipc_wr_array(&w, 3);
	ipc_wr_str(&w, gw->gw_cert_pem);
	ipc_wr_str(&w, gw->gw_key_pem);
	ipc_wr_str(&w, gw->gw_ca_pem);
	if (proc_compose_wr(pt, PROC_GATEWAY, IPC_SETUP_TLS, 0, -1, &w) == -1)
		log_warn("gatewayd: tls");
	ipc_wr_init(&w);
	ipc_wr_array(&w, 9);
	ipc_wr_str(&w, gw->gw_db);
	ipc_wr_str(&w, OPENSHELL_VERSION);
	ipc_wr_u32(&w, (uint32_t)gw->gw_realport);
	ipc_wr_str(&w, gw->gw_ssh_host);
	ipc_wr_u32(&w, (uint32_t)(gw->gw_ssh_port != 0 ? gw->gw_ssh_port :
	    gw->gw_realport));
	ipc_wr_str(&w, gw->gw_ssh_path);
	ipc_wr_u32(&w, GATEWAY_SSH_TTL);
	ipc_wr_str(&w, gw->gw_secret);
	ipc_wr_u32(&w, (uint32_t)gw->gw_ssh_skew);
	if ((fd = fcntl(gw->gw_dbdirfd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    proc_compose_wr(pt, PROC_GATEWAY, IPC_SETUP_GATEWAY, 0, fd,
	    &w) == -1) {
		log_warn("gatewayd: settings");
		if (fd != -1)
			close(fd);
	}
}

/*
 * Every child answered IPC_SETUP_DONE, gatewayd only once its server
 * accepts on the port: whoever waits on --ready-fd may connect now.
 */
static void
gateway_ready(struct proc_tree *pt, void *arg)
{
	struct gateway	*gw = arg;
	char		 buf[32];
	int		 n;

	(void)pt;
	log_info("gateway ready");
	if (gw->gw_readyfd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "ready %d\n", gw->gw_realport);
	if (write(gw->gw_readyfd, buf, (size_t)n) != n)
		log_warn("ready-fd");
	close(gw->gw_readyfd);
	gw->gw_readyfd = -1;
}

/*
 * The database's directory, made if missing.  With a privilege drop,
 * gatewayd runs as the service user: a directory we made (the default
 * <state>/db) becomes its own; one named by --db-url must already be.
 * gatewayd gets an fd of it (it may not be able to reach it by name)
 * and opens the database relative to it.
 */
static void
gateway_dbdir(struct gateway *gw)
{
	char		 dir[PATH_MAX], *p;
	struct stat	 st;
	int		 made;

	if (strlcpy(dir, gw->gw_db, sizeof(dir)) >= sizeof(dir))
		fatalx("database path too long");
	if ((p = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else
		*(p == dir ? p + 1 : p) = '\0';
	if (!(made = mkdir(dir, 0700) == 0) && errno != EEXIST)
		fatal("mkdir %s", dir);
	if ((gw->gw_dbdirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || fstat(gw->gw_dbdirfd, &st) == -1)
		fatal("%s", dir);
	if (!gw->gw_privdrop || st.st_uid == gw->gw_uid)
		return;
	if (made || gateway_dbdir_default(gw, dir)) {
		if (fchown(gw->gw_dbdirfd, gw->gw_uid, gw->gw_gid) == -1)
			fatal("chown %s", dir);
	} else
		log_warnx("%s is not owned by %s: gatewayd may not be able to "
		    "write the database", dir, GATEWAY_USER);
}

static int
gateway_dbdir_default(struct gateway *gw, const char *dir)
{
	char	 def[PATH_MAX];

	if (paths_join(def, sizeof(def), gw->gw_state, GATEWAY_DBFILE) == -1)
		return 0;
	def[strlen(def) - strlen(strrchr(def, '/'))] = '\0';
	return strcmp(def, dir) == 0;
}

/*
 * logd's persisted log rings: <state>/logs, made if missing and, with
 * a privilege drop, the service user's.  logd gets a duplicate of an fd
 * of it (it cannot reach the directory by name through the 0700 state
 * directory); the parent closes its own right after.
 */
static void
gateway_logdir(struct gateway *gw, struct proc_tree *pt)
{
	char	 dir[PATH_MAX];
	int	 fd;

	if (paths_join(dir, sizeof(dir), gw->gw_state, "logs") == -1) {
		log_warnx("logd: log directory path too long");
		return;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("logd: mkdir %s", dir);
		return;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("logd: %s", dir);
		return;
	}
	if ((gw->gw_privdrop && fchown(fd, gw->gw_uid, gw->gw_gid) == -1) ||
	    proc_send_fd(pt, PROC_LOG, IPC_SETUP_LOGDIR, fd) == -1)
		log_warn("logd: log directory %s", dir);
	close(fd);
}

static void
gateway_cleanup(struct gateway *gw)
{
	size_t	 i;
	int	 id;

	for (i = 0; i < NPROCS; i++) {
		id = gateway_procs[i].id;
		if (gw->gw_ctlpath[id][0] != '\0')
			unlink(gw->gw_ctlpath[id]);
	}
	unlink(gw->gw_pidpath);
}
