/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * `openshell forward start|stop|list' (control-plane.md §5.2): a local
 * port forwarded to the sandbox's loopback through ssh -N -L.  In the
 * background the ssh runs in its own session and its pid is recorded
 * in <cluster dir>/forwards/<port> as "<pid> <sandbox> <bind> <port>".
 */

#include <sys/stat.h>

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

static int	 forward_start(int, char **);
static int	 forward_stop(int, char **);
static int	 forward_list(int, char **);
static int	 forward_spec(const char *, char *, size_t, char *, size_t);
static int	 forward_path(const struct config_gw *, const char *, char *,
		    size_t);
static void	 forward_record(const struct config_gw *, pid_t, const char *,
		    const char *, const char *);

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
	struct config_gw	 gw;
	char			 bind[256], port[16], l[300];
	int			 ch, bg = 0, fd;
	pid_t			 pid;

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
	if (sshcmd_target(argc - optind == 2 ? argv[optind + 1] : NULL, &t,
	    0) == -1 || sshcmd_base(&a, &t) == -1 || config_resolve(&gw) == -1)
		return 1;
	snprintf(l, sizeof(l), "%s:%s:127.0.0.1:%s", bind, port, port);
	sshcmd_add(&a, "-N");
	sshcmd_add(&a, "-o");
	sshcmd_add(&a, "ExitOnForwardFailure=yes");
	sshcmd_add(&a, "-L");
	sshcmd_add(&a, l);
	sshcmd_add(&a, a.a_host);
	if (!bg) {
		execvp("ssh", a.a_v);
		cli_warnx("cannot run ssh: %s", strerror(errno));
		return 1;
	}
	if ((pid = fork()) == -1)
		return 1;
	if (pid == 0) {
		setsid();
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		execvp("ssh", a.a_v);
		_exit(127);
	}
	forward_record(&gw, pid, t.t_name, bind, port);
	printf("✓ Forwarding %s:%s to sandbox %s (pid %d)\n", bind, port,
	    t.t_name, (int)pid);
	return 0;
}

static int
forward_path(const struct config_gw *gw, const char *port, char *buf,
    size_t len)
{
	char	 dir[PATH_MAX];

	if (paths_join(dir, sizeof(dir), gw->dir, "forwards") == -1)
		return -1;
	(void)mkdir(dir, 0700);
	return port == NULL ? (strlcpy(buf, dir, len) < len ? 0 : -1) :
	    paths_join(buf, len, dir, port);
}

static void
forward_record(const struct config_gw *gw, pid_t pid, const char *name,
    const char *bind, const char *port)
{
	char	 path[PATH_MAX], line[600];

	if (forward_path(gw, port, path, sizeof(path)) == -1)
		return;
	snprintf(line, sizeof(line), "%d %s %s %s\n", (int)pid, name, bind,
	    port);
	(void)config_write_file(path, line, strlen(line), 0600);
}

static int
forward_stop(int argc, char **argv)
{
	struct config_gw	 gw;
	char			 path[PATH_MAX], bind[256], port[16], *data;
	int			 pid;

	if (argc < 2 || argc > 3 || forward_spec(argv[1], bind, sizeof(bind),
	    port, sizeof(port)) == -1) {
		cli_warnx("usage: forward stop <port> [name]");
		return 1;
	}
	if (config_resolve(&gw) == -1 ||
	    forward_path(&gw, port, path, sizeof(path)) == -1)
		return 1;
	if ((data = config_read_file(path, NULL)) == NULL) {
		cli_warnx("no forward on port %s", port);
		return 1;
	}
	pid = atoi(data);
	free(data);
	if (pid > 0 && kill(pid, SIGTERM) == -1 && errno != ESRCH)
		cli_warnx("kill %d: %s", pid, strerror(errno));
	unlink(path);
	printf("✓ Stopped forward on port %s\n", port);
	return 0;
}

static int
forward_list(int argc, char **argv)
{
	struct config_gw	 gw;
	struct dirent		*de;
	DIR			*d;
	char			 dir[PATH_MAX], path[PATH_MAX * 2], *data;
	char			 name[256], bind[256], port[16];
	int			 pid;

	(void)argc;
	(void)argv;
	if (config_resolve(&gw) == -1 ||
	    forward_path(&gw, NULL, dir, sizeof(dir)) == -1)
		return 1;
	printf("%-24s %-16s %-6s %-8s %s\n", "SANDBOX", "BIND", "PORT", "PID",
	    "STATUS");
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((data = config_read_file(path, NULL)) == NULL)
			continue;
		if (sscanf(data, "%d %255s %255s %15s", &pid, name, bind,
		    port) == 4)
			printf("%-24s %-16s %-6s %-8d %s\n", name, bind, port,
			    pid, kill(pid, 0) == 0 ? "running" : "dead");
		free(data);
	}
	closedir(d);
	return 0;
}
