/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * `openshell forward start|stop|list' (control-plane.md §5.2): a local
 * port forwarded to the sandbox's loopback through ssh -N -L.
 *
 * In the background (-d) ssh runs with -f, as the reference does: it
 * puts itself in the background only once its listener is bound, so
 * the port takes connections when we return, and a failure (the port
 * in use) is ours to report.  Its daemon is found by making ourselves
 * the child subreaper first: ssh -f's fork is orphaned to us.  The pid
 * is recorded in <cluster dir>/forwards/<sandbox>-<port>.pid as
 * "<pid>\t<sandbox id>\t<bind>" (§4.4); a pid is only signalled while
 * it is still such an ssh, never a process that reused the number.
 * `sandbox delete' stops the sandbox's forwards (forward_stop_sandbox).
 */

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "paths.h"

#define FWD_SUFFIX	".pid"

struct fwd_rec {
	char	 name[256];	/* sandbox */
	char	 port[16];
	char	 id[128];	/* sandbox id */
	char	 bind[256];
	int	 pid;
};

static int	 forward_start(int, char **);
static int	 forward_argv(struct ssh_argv *, struct ssh_target *, char *,
		    size_t, const char *, const char *, const char *);
static int	 forward_bg(struct ssh_argv *, pid_t *);
static pid_t	 forward_orphan(void);
static int	 forward_stop(int, char **);
static int	 forward_list(int, char **);
static int	 forward_spec(const char *, char *, size_t, char *, size_t);
static int	 forward_dir(const struct config_gw *, char *, size_t);
static int	 forward_read(const char *, const char *, struct fwd_rec *);
static int	 forward_ours(int);
static void	 forward_kill(const char *, const struct fwd_rec *);

int
forward_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return forward_start(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "stop") == 0)
		return forward_stop(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return forward_list(argc - 1, argv + 1);
	cli_warnx("usage: forward start <[bind:]port> [name] [-d] | "
	    "stop <port> [name] | list");
	return 1;
}

/* "[bind:]port" → bind ("127.0.0.1" by default) and port. */
static int
forward_spec(const char *spec, char *bind, size_t blen, char *port,
    size_t plen)
{
	const char	*colon = strrchr(spec, ':');
	uint32_t	 p;

	strlcpy(bind, "127.0.0.1", blen);
	if (colon != NULL) {
		if ((size_t)(colon - spec) >= blen || colon == spec)
			return -1;
		memcpy(bind, spec, (size_t)(colon - spec));
		bind[colon - spec] = '\0';
		spec = colon + 1;
	}
	if (cli_u32("port", spec, &p) == -1 || p == 0 || p > 65535)
		return -1;
	snprintf(port, plen, "%u", p);
	return 0;
}

static int
forward_start(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "background",	no_argument,	NULL,	'd' },
		{ NULL,		0,		NULL,	0 }
	};
	struct ssh_target	 t;
	struct ssh_argv		 a;
	char			 bind[256], port[16], l[300];
	int			 ch, bg = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "d", longopts, NULL)) != -1) {
		if (ch != 'd')
			return 1;
		bg = 1;
	}
	if (argc - optind < 1 || argc - optind > 2 ||
	    forward_spec(argv[optind], bind, sizeof(bind), port,
	    sizeof(port)) == -1) {
		cli_warnx("usage: forward start <[bind:]port> [name] [-d]");
		return 1;
	}
	if (bg)
		return forward_daemon(argv[optind], argc - optind == 2 ?
		    argv[optind + 1] : NULL, stdout) == -1;
	if (forward_argv(&a, &t, l, sizeof(l), bind, port, argc - optind ==
	    2 ? argv[optind + 1] : NULL) == -1)
		return 1;
	sshcmd_add(&a, a.a_host);
	execvp("ssh", a.a_v);
	cli_warnx("cannot run ssh: %s", strerror(errno));
	return 1;
}

/*
 * A forward of spec ("[bind:]port") to sandbox name (NULL: the last
 * used) in the background, recorded for `forward stop|list' and for
 * `sandbox delete'; its line goes to msg.  Returns 0 or -1 (said).
 */
int
forward_daemon(const char *spec, const char *name, FILE *msg)
{
	struct ssh_target	 t;
	struct ssh_argv		 a;
	struct config_gw	 gw;
	char			 bind[256], port[16], l[300], dir[PATH_MAX];
	char			 path[PATH_MAX * 2], line[600];
	int			 n;
	pid_t			 pid;

	if (forward_spec(spec, bind, sizeof(bind), port, sizeof(port)) ==
	    -1) {
		cli_warnx("forward: bad [bind:]port %s", spec);
		return -1;
	}
	if (forward_argv(&a, &t, l, sizeof(l), bind, port, name) == -1 ||
	    config_resolve(&gw) == -1 || forward_dir(&gw, dir, sizeof(dir)) == -1)
		return -1;
	sshcmd_add(&a, "-f");
	sshcmd_add(&a, a.a_host);
	if (forward_bg(&a, &pid) == -1)
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s-%s" FWD_SUFFIX, dir,
	    t.t_name, port);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		cli_warnx("cannot record the forward (pid %d)", (int)pid);
		return -1;
	}
	n = snprintf(line, sizeof(line), "%d\t%s\t%s\n", (int)pid, t.t_id,
	    bind);
	if (config_write_file(path, line, (size_t)n, 0600) == -1)
		cli_warnx("cannot record the forward (pid %d)", (int)pid);
	fprintf(msg, "✓ Forwarding %s:%s to sandbox %s (pid %d)\n", bind,
	    port, t.t_name, (int)pid);
	return 0;
}

/*
 * ssh's argv for -L bind:port, all but -f and the host.  a points into
 * t and l (its -L argument), which the caller keeps.
 */
static int
forward_argv(struct ssh_argv *a, struct ssh_target *t, char *l, size_t llen,
    const char *bind, const char *port, const char *name)
{
	if (sshcmd_target(name, t, 0) == -1 || sshcmd_base(a, t) == -1)
		return -1;
	snprintf(l, llen, "%s:%s:127.0.0.1:%s", bind, port, port);
	sshcmd_add(a, "-N");
	sshcmd_add(a, "-o");
	sshcmd_add(a, "ExitOnForwardFailure=yes");
	sshcmd_add(a, "-L");
	sshcmd_add(a, l);
	return 0;
}

/*
 * ssh -f: its exit says whether the forward is up; its daemon, a
 * child ssh -f orphaned, is ours as the subreaper.  stdin and stdout
 * are /dev/null.  stderr is a memfd, shown if ssh fails: the
 * ProxyCommand keeps its stderr for as long as it runs, and ours may
 * be a pipe whose reader waits for EOF (a script's $(...)).
 */
static int
forward_bg(struct ssh_argv *a, pid_t *daemon)
{
	char	 buf[4096];
	pid_t	 pid;
	ssize_t	 n;
	int	 fd, efd, rc;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    (efd = memfd_create("ssh-stderr", MFD_CLOEXEC)) == -1) {
		cli_warnx("forward: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		cli_warnx("fork: %s", strerror(errno));
		close(efd);
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		dup2(efd, STDERR_FILENO);
		execvp("ssh", a->a_v);
		_exit(127);
	}
	rc = sshcmd_wait(pid);
	if (rc != 0 && lseek(efd, 0, SEEK_SET) == 0)
		while ((n = read(efd, buf, sizeof(buf))) > 0)
			if (write(STDERR_FILENO, buf, (size_t)n) != n)
				break;
	close(efd);
	if (rc != 0) {
		cli_warnx("the forward failed (ssh exit %d)", rc);
		return -1;
	}
	if ((*daemon = forward_orphan()) == -1) {
		cli_warnx("the forward runs, but its ssh was not found");
		return -1;
	}
	return 0;
}

/* Our one child that is an ssh (the other is its ProxyCommand). */
static pid_t
forward_orphan(void)
{
	char	 path[64], *data, *p, *end;
	long	 pid;
	pid_t	 found = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid());
	if ((data = config_read_file(path, NULL)) == NULL)
		return -1;
	for (p = data; *p != '\0'; p = end) {
		pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0 && forward_ours((int)pid)) {
			found = (pid_t)pid;
			break;
		}
	}
	free(data);
	return found;
}

/* An ssh whose ProxyCommand is ours: not a reused pid. */
static int
forward_ours(int pid)
{
	char	 path[64], buf[8192], *p;
	ssize_t	 n;
	int	 fd, ssh = 0, proxy = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; p < buf + n; p += strlen(p) + 1) {
		if (p == buf)
			ssh = strcmp(p, "ssh") == 0 ||
			    (strlen(p) > 4 && strcmp(p + strlen(p) - 4,
			    "/ssh") == 0);
		else if (strncmp(p, "ProxyCommand=", 13) == 0 &&
		    strstr(p, " ssh-proxy ") != NULL)
			proxy = 1;
	}
	return ssh && proxy;
}

static int
forward_dir(const struct config_gw *gw, char *buf, size_t len)
{
	if (paths_join(buf, len, gw->dir, "forwards") == -1)
		return -1;
	(void)mkdir(buf, 0700);
	return 0;
}

/* forwards/<file>: "<name>-<port>.pid" holding "<pid>\t<id>\t<bind>". */
static int
forward_read(const char *dir, const char *file, struct fwd_rec *r)
{
	char		 path[PATH_MAX * 2], *data, *dash;
	size_t		 len = strlen(file), sl = strlen(FWD_SUFFIX);
	int		 n;

	memset(r, 0, sizeof(*r));
	if (len <= sl || strcmp(file + len - sl, FWD_SUFFIX) != 0 ||
	    len - sl >= sizeof(r->name))
		return -1;
	memcpy(r->name, file, len - sl);
	if ((dash = strrchr(r->name, '-')) == NULL || dash == r->name ||
	    dash[1] == '\0' || strspn(dash + 1, "0123456789") !=
	    strlen(dash + 1) || strlen(dash + 1) >= sizeof(r->port))
		return -1;
	*dash = '\0';
	strlcpy(r->port, dash + 1, sizeof(r->port));
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((data = config_read_file(path, NULL)) == NULL)
		return -1;
	n = sscanf(data, "%d\t%127s\t%255s", &r->pid, r->id, r->bind);
	free(data);
	return n >= 1 && r->pid > 0 ? 0 : -1;
}

/* Signal the forward if it is still one of ours; forget it. */
static void
forward_kill(const char *dir, const struct fwd_rec *r)
{
	char	 path[PATH_MAX * 2];

	if (forward_ours(r->pid) && kill(r->pid, SIGTERM) == -1 &&
	    errno != ESRCH)
		cli_warnx("kill %d: %s", r->pid, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s-%s" FWD_SUFFIX, dir, r->name,
	    r->port);
	unlink(path);
}

static int
forward_stop(int argc, char **argv)
{
	struct config_gw	 gw;
	struct fwd_rec		 r;
	char			 dir[PATH_MAX], bind[256], port[16];
	char			 name[256], file[300];

	if (argc < 2 || argc > 3 || forward_spec(argv[1], bind, sizeof(bind),
	    port, sizeof(port)) == -1) {
		cli_warnx("usage: forward stop <port> [name]");
		return 1;
	}
	if (config_resolve(&gw) == -1 || config_sandbox_arg(&gw, argc == 3 ?
	    argv[2] : NULL, name, sizeof(name)) == -1 ||
	    forward_dir(&gw, dir, sizeof(dir)) == -1)
		return 1;
	snprintf(file, sizeof(file), "%s-%s" FWD_SUFFIX, name, port);
	if (forward_read(dir, file, &r) == -1) {
		cli_warnx("no forward on port %s for sandbox %s", port, name);
		return 1;
	}
	forward_kill(dir, &r);
	printf("✓ Stopped forward on port %s\n", port);
	return 0;
}

/*
 * Every background forward of sandbox name (sandbox delete).  The
 * number stopped.
 */
int
forward_stop_sandbox(const struct config_gw *gw, const char *name)
{
	struct fwd_rec	 r;
	struct dirent	*de;
	DIR		*d;
	char		 dir[PATH_MAX];
	int		 n = 0;

	if (paths_join(dir, sizeof(dir), gw->dir, "forwards") == -1 ||
	    (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (forward_read(dir, de->d_name, &r) == -1 ||
		    strcmp(r.name, name) != 0)
			continue;
		forward_kill(dir, &r);
		n++;
	}
	closedir(d);
	return n;
}

static int
forward_list(int argc, char **argv)
{
	struct config_gw	 gw;
	struct fwd_rec		 r;
	struct dirent		*de;
	DIR			*d;
	char			 dir[PATH_MAX];

	(void)argc;
	(void)argv;
	if (config_resolve(&gw) == -1 ||
	    forward_dir(&gw, dir, sizeof(dir)) == -1)
		return 1;
	printf("%-24s %-16s %-6s %-8s %s\n", "SANDBOX", "BIND", "PORT", "PID",
	    "STATUS");
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (forward_read(dir, de->d_name, &r) == -1)
			continue;
		printf("%-24s %-16s %-6s %-8d %s\n", r.name,
		    r.bind[0] != '\0' ? r.bind : "127.0.0.1", r.port, r.pid,
		    forward_ours(r.pid) ? "running" : "dead");
	}
	closedir(d);
	return 0;
}
