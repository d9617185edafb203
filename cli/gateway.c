/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * openshell gateway start|stop|status|info: a local gateway is an
 * openshell-gateway process (from our own bin directory) with its state
 * under $XDG_STATE_HOME/openshell/clusters/<name>.  start spawns it in
 * its own session and waits on --ready-fd, then writes the client
 * configuration; stop signals the pid in <state>/run and waits on a
 * pidfd for it to go.
 */

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "libpki/pki.h"
#include "paths.h"

#define GATEWAY_READY_MS	60000
#define GATEWAY_STOP_MS		30000
#define GATEWAY_PIDFILE		"openshell-gateway.pid"
#define GATEWAY_STDERR		"gateway.stderr"
#define GATEWAY_TAIL		20

struct gateway_opts {
	const char	*go_name;
	const char	*go_port;
	const char	*go_bind;
	const char	*go_state;
	int		 go_json;
	char		 go_statedir[PATH_MAX];
};

static int	 gateway_parse(struct gateway_opts *, int, char **, int);
static int	 gateway_start(struct gateway_opts *);
static int	 gateway_stop(struct gateway_opts *);
static int	 gateway_status(struct gateway_opts *);
static int	 gateway_info(struct gateway_opts *);
static int	 gateway_statedir(struct gateway_opts *);
static pid_t	 gateway_running(const char *);
static int	 gateway_spawn(struct gateway_opts *, int *);
static void	 gateway_child(struct gateway_opts *, int)
		    __attribute__((__noreturn__));
static int	 gateway_wait_ready(struct gateway_opts *, int, pid_t);
static int	 gateway_configure(struct gateway_opts *, int);
static char	*gateway_pki_read(const char *, const char *);
static void	 gateway_tail(const char *);
static int	 gateway_pidfd(pid_t);
static const char *gateway_host(const struct gateway_opts *);
static int64_t	 gateway_now(void);

int
gateway_main(int argc, char **argv)
{
	struct gateway_opts	 go;
	const char		*verb;

	if (argc < 2) {
		cli_warnx("usage: gateway start|stop|status|info [--name N]");
		return 1;
	}
	verb = argv[1];
	memset(&go, 0, sizeof(go));
	if (gateway_parse(&go, argc - 1, argv + 1,
	    strcmp(verb, "start") == 0) == -1)
		return 1;
	if (strcmp(verb, "start") == 0)
		return gateway_start(&go);
	if (strcmp(verb, "stop") == 0)
		return gateway_stop(&go);
	if (strcmp(verb, "status") == 0)
		return gateway_status(&go);
	if (strcmp(verb, "info") == 0)
		return gateway_info(&go);
	cli_warnx("unknown gateway command '%s' (start, stop, status, info)",
	    verb);
	return 1;
}

static int
gateway_parse(struct gateway_opts *go, int argc, char **argv, int start)
{
	static const struct option longopts[] = {
		{ "name",	required_argument,	NULL,	'N' },
		{ "port",	required_argument,	NULL,	'p' },
		{ "bind",	required_argument,	NULL,	'b' },
		{ "state-dir",	required_argument,	NULL,	'S' },
		{ "output",	required_argument,	NULL,	'o' },
		{ NULL,		0,			NULL,	0 }
	};
	int	 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'N':
			go->go_name = optarg;
			break;
		case 'p':
			go->go_port = optarg;
			break;
		case 'b':
			go->go_bind = optarg;
			break;
		case 'S':
			go->go_state = optarg;
			break;
		case 'o':
			if ((go->go_json = cli_output_json(optarg)) == -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		cli_warnx("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!start && (go->go_port != NULL || go->go_bind != NULL)) {
		cli_warnx("--port and --bind only apply to 'gateway start'");
		return -1;
	}
	if (go->go_port != NULL && (strlen(go->go_port) > 5 ||
	    strspn(go->go_port, "0123456789") != strlen(go->go_port) ||
	    atoi(go->go_port) > 65535)) {
		cli_warnx("invalid port '%s'", go->go_port);
		return -1;
	}
	return 0;
}

/*
 * The gateway's name and state directory: --name, else the one the
 * global flags or active_cluster select (start: "openshell"); then
 * --state-dir, else the metadata's state_dir, else the default.
 */
static int
gateway_statedir(struct gateway_opts *go)
{
	static char	 active[CONFIG_NAME_MAX];
	const char	*sd;
	json_t		*md;

	if (go->go_name == NULL)
		go->go_name = cli_global.cg_gateway;
	if (go->go_name == NULL && (go->go_name = getenv("OPENSHELL_GATEWAY"))
	    != NULL && go->go_name[0] == '\0')
		go->go_name = NULL;
	if (go->go_name == NULL && config_active_read(active, sizeof(active))
	    == 0 && active[0] != '\0')
		go->go_name = active;
	if (go->go_name == NULL)
		go->go_name = PATHS_DEFAULT_NAME;
	if (!paths_name_ok(go->go_name)) {
		cli_warnx("invalid gateway name '%s'", go->go_name);
		return -1;
	}
	if (go->go_state != NULL) {
		if (strlcpy(go->go_statedir, go->go_state,
		    sizeof(go->go_statedir)) >= sizeof(go->go_statedir))
			goto toolong;
		return 0;
	}
	if ((md = config_metadata_read(go->go_name)) != NULL) {
		sd = json_string_value(json_object_get(md, "state_dir"));
		if (sd != NULL && sd[0] == '/')
			strlcpy(go->go_statedir, sd, sizeof(go->go_statedir));
		json_decref(md);
		if (go->go_statedir[0] != '\0')
			return 0;
	}
	if (paths_statedir(go->go_name, go->go_statedir,
	    sizeof(go->go_statedir)) == -1) {
		cli_warnx("cannot find the state directory (set HOME or "
		    "XDG_STATE_HOME, or use --state-dir)");
		return -1;
	}
	return 0;
 toolong:
	cli_warnx("state directory path too long");
	return -1;
}

/*
 * The pid of the gateway running on this state directory, 0 if none.
 * Its pid file is locked for as long as it lives, so a stale file from
 * a crash is told apart without trusting the pid in it.
 */
static pid_t
gateway_running(const char *state)
{
	char	 run[PATH_MAX], path[PATH_MAX], buf[32];
	ssize_t	 n;
	long	 pid;
	int	 fd;

	if (paths_rundir(state, run, sizeof(run)) == -1 ||
	    paths_join(path, sizeof(path), run, GATEWAY_PIDFILE) == -1)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
		close(fd);
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 1 && kill((pid_t)pid, 0) == 0 ? (pid_t)pid : 0;
}

static int
gateway_start(struct gateway_opts *go)
{
	struct rpc	 r;
	char		 abs[PATH_MAX];
	int		 port, healthy;

	/* A new gateway is "openshell" unless named: never the active one. */
	if (go->go_name == NULL)
		go->go_name = cli_global.cg_gateway != NULL ?
		    cli_global.cg_gateway : PATHS_DEFAULT_NAME;
	if (gateway_statedir(go) == -1 || config_mkdirs(go->go_statedir) ==
	    -1)
		return 1;
	if (realpath(go->go_statedir, abs) == NULL) {
		cli_warnx("%s: %s", go->go_statedir, strerror(errno));
		return 1;
	}
	strlcpy(go->go_statedir, abs, sizeof(go->go_statedir));
	if (gateway_running(go->go_statedir) != 0) {
		cli_global.cg_gateway = go->go_name;
		cli_global.cg_endpoint = NULL;
		if (rpc_open(&r) == 0) {
			healthy = status_healthy(&r) == 0;
			rpc_close(&r);
			if (healthy) {
				printf("✓ Gateway %s is already running at "
				    "%s\n", go->go_name, r.r_gw.endpoint);
				return 0;
			}
		}
		cli_warnx("a gateway runs on %s but does not answer; stop it "
		    "with 'openshell gateway stop --name %s'", go->go_statedir,
		    go->go_name);
		return 1;
	}
	if (gateway_spawn(go, &port) == -1 || gateway_configure(go, port) == -1)
		return 1;
	printf(strchr(gateway_host(go), ':') != NULL ?
	    "✓ Gateway %s ready at https://[%s]:%d\n" :
	    "✓ Gateway %s ready at https://%s:%d\n", go->go_name,
	    gateway_host(go), port);
	return 0;
}

/* Runs the gateway and waits for its "ready <port>"; sets the port. */
static int
gateway_spawn(struct gateway_opts *go, int *port)
{
	pid_t	 pid;
	int	 fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		cli_warnx("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		cli_warnx("fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		gateway_child(go, fds[1]);
	}
	/* The write end is the child's alone: EOF means it is gone. */
	close(fds[1]);
	rc = gateway_wait_ready(go, fds[0], pid);
	close(fds[0]);
	if (rc > 0) {
		*port = rc;
		return 0;
	}
	return -1;
}

/*
 * In the child: own session, stdin from /dev/null, stdout and stderr
 * to <state>/gateway.stderr, the ready pipe as the only fd kept.
 */
static void
gateway_child(struct gateway_opts *go, int readyfd)
{
	char	 self[PATH_MAX], bin[PATH_MAX], path[PATH_MAX], fdarg[16];
	char	*argv[16], *slash;
	ssize_t	 n;
	int	 fd, i = 0;

	setsid();
	if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	if (paths_join(path, sizeof(path), go->go_statedir, GATEWAY_STDERR) ==
	    0 && (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
	    0600)) != -1) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		_exit(127);
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (paths_join(bin, sizeof(bin), self, "openshell-gateway") == -1)
		_exit(127);
	/* Our end was opened close-on-exec; this copy is not. */
	if ((fd = dup(readyfd)) == -1)
		_exit(127);
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	argv[i++] = "openshell-gateway";
	argv[i++] = "-d";
	argv[i++] = "--name";
	argv[i++] = (char *)go->go_name;
	argv[i++] = "--state-dir";
	argv[i++] = go->go_statedir;
	argv[i++] = "--ready-fd";
	argv[i++] = fdarg;
	if (go->go_port != NULL) {
		argv[i++] = "--port";
		argv[i++] = (char *)go->go_port;
	}
	if (go->go_bind != NULL) {
		argv[i++] = "--bind";
		argv[i++] = (char *)go->go_bind;
	}
	argv[i] = NULL;
	execv(bin, argv);
	fprintf(stderr, "openshell: %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/*
 * Reads "ready <port>\n" from fd, watching the child's pidfd too: if it
 * exits (or closes the pipe) first, its stderr tells why.  The port,
 * or -1 after a message.
 */
static int
gateway_wait_ready(struct gateway_opts *go, int fd, pid_t pid)
{
	struct pollfd	 pfd[2];
	char		 buf[64], path[PATH_MAX];
	size_t		 len = 0;
	ssize_t		 n;
	int64_t		 deadline = gateway_now() + GATEWAY_READY_MS;
	int		 port, status, timeout;

	buf[0] = '\0';
	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = gateway_pidfd(pid);
	pfd[1].events = POLLIN;
	for (;;) {
		if (strchr(buf, '\n') != NULL)
			break;
		if ((timeout = (int)(deadline - gateway_now())) <= 0) {
			cli_warnx("gateway '%s' not ready after %d s; "
			    "stopping it", go->go_name,
			    GATEWAY_READY_MS / 1000);
			/* Still our child, so the pid cannot be reused. */
			kill(pid, SIGTERM);
			if (pfd[1].fd == -1 || poll(&pfd[1], 1,
			    GATEWAY_STOP_MS) != 1)
				kill(pid, SIGKILL);
			goto died;
		}
		if (poll(pfd, pfd[1].fd == -1 ? 1 : 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (pfd[0].revents != 0) {
			n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				goto died;
			len += (size_t)n;
			buf[len] = '\0';
			if (len == sizeof(buf) - 1 && strchr(buf, '\n') == NULL)
				goto died;
			continue;
		}
		if (pfd[1].revents != 0)
			goto died;
	}
	if (pfd[1].fd != -1)
		close(pfd[1].fd);
	if (sscanf(buf, "ready %d", &port) != 1 || port <= 0 || port > 65535) {
		cli_warnx("gateway '%s' said '%s' on its ready fd", go->go_name,
		    buf);
		return -1;
	}
	return port;
 died:
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		cli_warnx("gateway '%s' exited with status %d before it was "
		    "ready", go->go_name, WEXITSTATUS(status));
	else
		cli_warnx("gateway '%s' stopped before it was ready",
		    go->go_name);
	if (paths_join(path, sizeof(path), go->go_statedir, GATEWAY_STDERR) ==
	    0)
		gateway_tail(path);
 fail:
	if (pfd[1].fd != -1)
		close(pfd[1].fd);
	return -1;
}

/* The last lines of the gateway's stderr, to ours. */
static void
gateway_tail(const char *path)
{
	char	*data, *p;
	size_t	 len;
	int	 lines = 0;

	if ((data = config_read_file(path, &len)) == NULL || len == 0) {
		free(data);
		return;
	}
	p = data + len;
	if (p > data && p[-1] == '\n')
		p--;
	while (p > data && lines <= GATEWAY_TAIL)
		if (*--p == '\n')
			lines++;
	if (*p == '\n')
		p++;
	fprintf(stderr, "--- %s ---\n%s", path, p);
	if (data[len - 1] != '\n')
		fputc('\n', stderr);
	free(data);
}

/*
 * The client side of the new gateway: the admin certificate as the
 * mtls bundle, metadata.json, and this gateway made the active one.
 */
static int
gateway_configure(struct gateway_opts *go, int port)
{
	char	 home[PATH_MAX], pki[PATH_MAX];
	char	*ca, *cert, *key;
	int	 rc = -1;

	if (config_home(home, sizeof(home)) == -1 ||
	    paths_join(pki, sizeof(pki), go->go_statedir, "pki") == -1)
		return -1;
	ca = gateway_pki_read(pki, PKI_CA_CERT);
	cert = gateway_pki_read(pki, "admin.crt");
	key = gateway_pki_read(pki, "admin.key");
	if (ca != NULL && cert != NULL && key != NULL &&
	    pki_write_client_bundle(home, go->go_name, ca, cert, key) == 0 &&
	    config_metadata_write(go->go_name, gateway_host(go), port,
	    go->go_statedir) == 0 && config_active_write(go->go_name) == 0)
		rc = 0;
	else
		cli_warnx("cannot write the client configuration of gateway "
		    "'%s'", go->go_name);
	free(ca);
	free(cert);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	return rc;
}

static char *
gateway_pki_read(const char *dir, const char *name)
{
	char	 path[PATH_MAX], *data;

	if (paths_join(path, sizeof(path), dir, name) == -1)
		return NULL;
	if ((data = config_read_file(path, NULL)) == NULL)
		cli_warnx("%s: %s", path, strerror(errno));
	return data;
}

static int
gateway_stop(struct gateway_opts *go)
{
	struct pollfd	 pfd;
	pid_t		 pid;
	int		 rc;

	if (gateway_statedir(go) == -1)
		return 1;
	if ((pid = gateway_running(go->go_statedir)) == 0) {
		printf("· Gateway %s is not running\n", go->go_name);
		return 0;
	}
	/* A pidfd first, so that a recycled pid is never signalled. */
	if ((pfd.fd = gateway_pidfd(pid)) == -1) {
		cli_warnx("pidfd_open %d: %s", (int)pid, strerror(errno));
		return 1;
	}
	if (syscall(SYS_pidfd_send_signal, pfd.fd, SIGTERM, NULL, 0) == -1) {
		cli_warnx("kill %d: %s", (int)pid, strerror(errno));
		close(pfd.fd);
		return 1;
	}
	pfd.events = POLLIN;
	while ((rc = poll(&pfd, 1, GATEWAY_STOP_MS)) == -1 && errno == EINTR)
		;
	close(pfd.fd);
	if (rc != 1) {
		cli_warnx("gateway '%s' (pid %d) did not stop within %d s",
		    go->go_name, (int)pid, GATEWAY_STOP_MS / 1000);
		return 1;
	}
	printf("✓ Gateway %s stopped\n", go->go_name);
	return 0;
}

static int
gateway_status(struct gateway_opts *go)
{
	json_t	*md, *j;
	pid_t	 pid;
	const char *ep;

	if (gateway_statedir(go) == -1)
		return 1;
	pid = gateway_running(go->go_statedir);
	md = config_metadata_read(go->go_name);
	ep = md != NULL ? json_string_value(json_object_get(md,
	    "gateway_endpoint")) : NULL;
	if (go->go_json) {
		j = json_pack("{s:s, s:s?, s:s, s:b, s:i}", "name",
		    go->go_name, "endpoint", ep, "state_dir", go->go_statedir,
		    "running", pid != 0, "pid", (int)pid);
		if (j != NULL)
			output_json(stdout, j);
		json_decref(j);
	} else {
		printf("Gateway:   %s\n", go->go_name);
		printf("Endpoint:  %s\n", ep != NULL ? ep : "-");
		printf("State dir: %s\n", go->go_statedir);
		if (pid != 0)
			printf("Status:    Running (pid %d)\n", (int)pid);
		else
			printf("Status:    Stopped\n");
	}
	json_decref(md);
	return 0;
}

static int
gateway_info(struct gateway_opts *go)
{
	json_t		*md;
	const char	*s;

	if (gateway_statedir(go) == -1)
		return 1;
	if ((md = config_metadata_read(go->go_name)) == NULL) {
		cli_warnx("gateway '%s' is not configured", go->go_name);
		return 1;
	}
	if (go->go_json)
		output_json(stdout, md);
	else {
		printf("Gateway:   %s\n", go->go_name);
		s = json_string_value(json_object_get(md, "gateway_endpoint"));
		printf("Endpoint:  %s\n", s != NULL ? s : "-");
		printf("Type:      %s\n", json_is_true(json_object_get(md,
		    "is_remote")) ? "remote" : "local");
		s = json_string_value(json_object_get(md, "auth_mode"));
		printf("Auth:      %s\n", s != NULL ? s : "-");
		s = json_string_value(json_object_get(md, "state_dir"));
		printf("State dir: %s\n", s != NULL ? s : "-");
	}
	json_decref(md);
	return 0;
}

/*
 * Where clients reach it: loopback unless it was bound to one
 * particular address.
 */
static const char *
gateway_host(const struct gateway_opts *go)
{
	const char	*b = go->go_bind;

	if (b == NULL || b[0] == '\0' || strcmp(b, "0.0.0.0") == 0 ||
	    strcmp(b, "::") == 0 || strcmp(b, "[::]") == 0)
		return "127.0.0.1";
	return b;
}

/* -1 with errno (ENOSYS on old kernels: the caller copes). */
static int
gateway_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int64_t
gateway_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
