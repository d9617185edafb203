/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell-gateway: the parent of the gateway tree.  It owns the state
 * directory, the control sockets and the log file, and starts gatewayd,
 * watchd and logd (proc.c), which drop to the _openshell user.
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

static void	 gateway_usage(void) __attribute__((__noreturn__));
static void	 gateway_options(struct gateway *, int, char **);
static int	 gateway_check(struct gateway *);
static void	 gateway_sockets(struct gateway *);
static void	 gateway_logfile(struct gateway *);
static void	 gateway_tree(struct gateway *, struct event_base *);
static void	 gateway_configure(struct proc_tree *, int, void *);
static void	 gateway_ready(struct proc_tree *, void *);
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
	NULL,
};

int
main(int argc, char *argv[])
{
	static struct gateway	 gw;
	struct event_base	*base;

	gateway_options(&gw, argc, argv);
	log_procinit("gateway");
	log_init(gw.gw_debug || gw.gw_noaction, LOG_DAEMON);
	log_setverbose(gw.gw_verbose);
	if (gw.gw_noaction)
		return gateway_check(&gw) == 0 ? 0 : 1;

	state_dirs(gw.gw_state, gw.gw_run);
	gw.gw_pidfd = state_pidfile(gw.gw_run, gw.gw_pidpath,
	    sizeof(gw.gw_pidpath));
	gw.gw_privdrop = user_resolve(GATEWAY_USER, &gw.gw_uid, &gw.gw_gid);
	gateway_sockets(&gw);
	gateway_logfile(&gw);
	/* Nothing to reload yet; a hangup of the terminal that started
	 * us must not take the tree down.  SIGTERM/SIGINT stop it. */
	signal(SIGHUP, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	gateway_tree(&gw, base);
	proc_tree_start(&gw.gw_tree);
	log_info("starting (state %s)", gw.gw_state);
	proc_tree_run(&gw.gw_tree);
	gateway_cleanup(&gw);
	log_info("stopped");
	return 0;
}

static void
gateway_usage(void)
{
	fprintf(stderr, "usage: openshell-gateway [-dnv] [--name name] "
	    "[--state-dir dir]\n");
	exit(1);
}

static void
gateway_options(struct gateway *gw, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name",	required_argument,	NULL,	'N' },
		{ "state-dir",	required_argument,	NULL,	'S' },
		{ NULL,		0,			NULL,	0 }
	};
	const char	*name = PATHS_DEFAULT_NAME, *state = NULL;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "dnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			gw->gw_debug = 1;
			break;
		case 'n':
			gw->gw_noaction = 1;
			break;
		case 'v':
			gw->gw_verbose = 1;
			break;
		case 'N':
			name = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		default:
			gateway_usage();
		}
	}
	if (optind != argc)
		gateway_usage();
	if (!paths_name_ok(name))
		errx(1, "bad cluster name: %s", name);
	if (state != NULL && strlcpy(gw->gw_state, state,
	    sizeof(gw->gw_state)) >= sizeof(gw->gw_state))
		errx(1, "state directory too long: %s", state);
	if (state == NULL && paths_statedir(name, gw->gw_state,
	    sizeof(gw->gw_state)) == -1)
		errx(1, "cannot find the state directory (set HOME or "
		    "XDG_STATE_HOME, or use --state-dir)");
	if (paths_rundir(gw->gw_state, gw->gw_run, sizeof(gw->gw_run)) == -1)
		errx(1, "state directory too long: %s", gw->gw_state);
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
		    pw != NULL ? GATEWAY_USER : GATEWAY_USER " (to be created)");
	}
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
	/* gatewayd's gRPC listening socket will be sent here. */
}

static void
gateway_ready(struct proc_tree *pt, void *arg)
{
	(void)pt;
	(void)arg;
	log_info("gateway ready");
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
