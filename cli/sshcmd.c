/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * `sandbox connect|exec|ssh-config|upload|download' (control-plane.md
 * §4.9, §5.2) and the system ssh they run: ProxyCommand = this binary's
 * `ssh-proxy' in token mode, no host-key checking (the sandbox's key is
 * ephemeral), user `sandbox'.
 *
 * exec without --tty goes through the ExecSandbox RPC (stdout and
 * stderr apart, stdin forwarded, the exit status returned).  That RPC
 * refuses CR and LF in arguments (as the reference does); arguments
 * holding them go through ssh instead, quoted with the same rule, which
 * keeps them byte-exact (a newline inside '...' is literal to sh).
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "libgrpc/grpc_client.h"
#include "proto/openshell.pb-c.h"

#define EXEC_STDIN_MAX	(1000 * 1000)	/* under gatewayd's 1 MiB cap */
#define EXEC_CMD_MAX	(256 * 1024)

struct exec_opts {
	int		 tty;
	const char	*workdir;
	char		*env[256];
	size_t		 nenv;
	char		**cmd;
	int		 ncmd;
};

struct exec_sink {
	int	 code;
	int	 got_exit;
};

static int	 sshcmd_connect(int, char **);
static int	 sshcmd_config(int, char **);
static int	 sshcmd_exec(int, char **);
static int	 sshcmd_exec_opts(int, char **, struct exec_opts *,
		    const char **);
static int	 sshcmd_needs_ssh(const struct exec_opts *);
static int	 sshcmd_exec_rpc(const char *, const struct exec_opts *);
static int	 sshcmd_exec_event(ProtobufCMessage *, void *);
static int	 sshcmd_exec_ssh(const char *, const struct exec_opts *);
static char	*sshcmd_command(const struct exec_opts *);
static int	 sshcmd_read_stdin(ProtobufCBinaryData *);
static int	 sshcmd_self(char *, size_t);

int
sshcmd_has(const char *cmd)
{
	return strcmp(cmd, "connect") == 0 || strcmp(cmd, "exec") == 0 ||
	    strcmp(cmd, "ssh-config") == 0 || strcmp(cmd, "upload") == 0 ||
	    strcmp(cmd, "download") == 0;
}

int
sshcmd_main(int argc, char **argv)
{
	if (strcmp(argv[0], "connect") == 0)
		return sshcmd_connect(argc, argv);
	if (strcmp(argv[0], "exec") == 0)
		return sshcmd_exec(argc, argv);
	if (strcmp(argv[0], "ssh-config") == 0)
		return sshcmd_config(argc, argv);
	if (strcmp(argv[0], "upload") == 0)
		return sync_upload(argc, argv);
	return sync_download(argc, argv);
}

/*
 * A session for the named sandbox (or the last used); remember it as
 * the last used when asked.  -1 after a message.
 */
int
sshcmd_target(const char *arg, struct ssh_target *t, int remember)
{
	struct rpc	 r;
	char		 name[256];

	if (rpc_open(&r) == -1)
		return -1;
	if (config_sandbox_arg(&r.r_gw, arg, name, sizeof(name)) == -1 ||
	    ssh_session(&r, name, t) == -1) {
		rpc_close(&r);
		return -1;
	}
	if (remember)
		config_last_sandbox_set(&r.r_gw, name);
	rpc_close(&r);
	return 0;
}

/* ssh and the options every use shares; the host comes last (caller). */
int
sshcmd_base(struct ssh_argv *a, const struct ssh_target *t)
{
	char	 self[PATH_MAX], q[5][1200];
	int	 n;

	memset(a, 0, sizeof(*a));
	if (sshcmd_self(self, sizeof(self)) == -1 ||
	    sshcmd_quote(q[0], sizeof(q[0]), self) == -1 ||
	    sshcmd_quote(q[1], sizeof(q[1]), t->t_url) == -1 ||
	    sshcmd_quote(q[2], sizeof(q[2]), t->t_id) == -1 ||
	    sshcmd_quote(q[3], sizeof(q[3]), t->t_token) == -1 ||
	    sshcmd_quote(q[4], sizeof(q[4]), t->t_gw) == -1)
		return -1;
	n = snprintf(a->a_proxy, sizeof(a->a_proxy), "ProxyCommand=%s "
	    "ssh-proxy --gateway %s --sandbox-id %s --token %s "
	    "--gateway-name %s", q[0], q[1], q[2], q[3], q[4]);
	if (n < 0 || (size_t)n >= sizeof(a->a_proxy))
		return -1;
	snprintf(a->a_host, sizeof(a->a_host), "openshell-%s", t->t_name);
	sshcmd_add(a, "ssh");
	sshcmd_add(a, "-o");
	sshcmd_add(a, a->a_proxy);
	sshcmd_add(a, "-o");
	sshcmd_add(a, "StrictHostKeyChecking=no");
	sshcmd_add(a, "-o");
	sshcmd_add(a, "UserKnownHostsFile=/dev/null");
	sshcmd_add(a, "-o");
	sshcmd_add(a, "GlobalKnownHostsFile=/dev/null");
	sshcmd_add(a, "-o");
	sshcmd_add(a, "LogLevel=ERROR");
	sshcmd_add(a, "-F");
	sshcmd_add(a, "/dev/null");
	sshcmd_add(a, "-l");
	return sshcmd_add(a, "sandbox");
}

int
sshcmd_add(struct ssh_argv *a, const char *s)
{
	if (a->a_n >= SSHCMD_ARGV_MAX)
		return -1;
	a->a_v[a->a_n++] = (char *)s;
	a->a_v[a->a_n] = NULL;
	return 0;
}

/* §4.8's q(): '' for empty, as is if [A-Za-z0-9./_-]*, else '...'. */
int
sshcmd_quote(char *out, size_t len, const char *s)
{
	static const char	 safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./_-";
	size_t			 o = 0;

	if (*s != '\0' && strspn(s, safe) == strlen(s))
		return strlcpy(out, s, len) < len ? 0 : -1;
	if (len < 3)
		return -1;
	out[o++] = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			if (o + 6 >= len)
				return -1;
			memcpy(out + o, "'\"'\"'", 5);
			o += 5;
		} else {
			if (o + 2 >= len)
				return -1;
			out[o++] = *s;
		}
	}
	out[o++] = '\'';
	out[o] = '\0';
	return 0;
}

/* The exit status of a child: its code, or 128 + the signal. */
int
sshcmd_wait(pid_t pid)
{
	int	 status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int
sshcmd_self(char *buf, size_t len)
{
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", buf, len - 1)) == -1) {
		cli_warnx("cannot find the openshell binary");
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* sandbox connect [name]: an interactive shell; ssh replaces us. */
static int
sshcmd_connect(int argc, char **argv)
{
	struct ssh_target	 t;
	struct ssh_argv		 a;

	if (argc > 2) {
		cli_warnx("usage: sandbox connect [name]");
		return 1;
	}
	if (sshcmd_target(argc == 2 ? argv[1] : NULL, &t, 1) == -1 ||
	    sshcmd_base(&a, &t) == -1)
		return 1;
	sshcmd_add(&a, "-tt");
	sshcmd_add(&a, "-o");
	sshcmd_add(&a, "RequestTTY=force");
	sshcmd_add(&a, "-o");
	sshcmd_add(&a, "SetEnv=TERM=xterm-256color");
	sshcmd_add(&a, a.a_host);
	execvp("ssh", a.a_v);
	cli_warnx("cannot run ssh: %s", strerror(errno));
	return 1;
}

/* sandbox ssh-config [name]: a Host block using name mode. */
static int
sshcmd_config(int argc, char **argv)
{
	struct config_gw	 gw;
	char			 name[256], self[PATH_MAX], q[3][1200];

	if (argc > 2) {
		cli_warnx("usage: sandbox ssh-config [name]");
		return 1;
	}
	if (config_resolve(&gw) == -1 ||
	    config_sandbox_arg(&gw, argc == 2 ? argv[1] : NULL, name,
	    sizeof(name)) == -1 || sshcmd_self(self, sizeof(self)) == -1)
		return 1;
	if (sshcmd_quote(q[0], sizeof(q[0]), self) == -1 ||
	    sshcmd_quote(q[1], sizeof(q[1]), gw.name) == -1 ||
	    sshcmd_quote(q[2], sizeof(q[2]), name) == -1) {
		cli_warnx("name too long");
		return 1;
	}
	printf("Host openshell-%s\n", name);
	printf("    User sandbox\n");
	printf("    StrictHostKeyChecking no\n");
	printf("    UserKnownHostsFile /dev/null\n");
	printf("    GlobalKnownHostsFile /dev/null\n");
	printf("    LogLevel ERROR\n");
	printf("    ProxyCommand %s ssh-proxy --gateway-name %s --name %s\n",
	    q[0], q[1], q[2]);
	return 0;
}

/*
 * sandbox exec [name] [--tty] [--workdir D] [--env K=V]... -- cmd...
 */
static int
sshcmd_exec(int argc, char **argv)
{
	struct exec_opts	 o;
	const char		*name = NULL;

	if (sshcmd_exec_opts(argc, argv, &o, &name) == -1)
		return 1;
	if (o.tty || sshcmd_needs_ssh(&o))
		return sshcmd_exec_ssh(name, &o);
	return sshcmd_exec_rpc(name, &o);
}

static int
sshcmd_exec_opts(int argc, char **argv, struct exec_opts *o,
    const char **name)
{
	static const struct option longopts[] = {
		{ "tty",	no_argument,		NULL,	't' },
		{ "workdir",	required_argument,	NULL,	'w' },
		{ "env",	required_argument,	NULL,	'e' },
		{ NULL,		0,			NULL,	0 }
	};
	int	 dd, ch;

	memset(o, 0, sizeof(*o));
	for (dd = 1; dd < argc && strcmp(argv[dd], "--") != 0; dd++)
		;
	if (dd >= argc - 1) {
		cli_warnx("usage: sandbox exec [name] [--tty] [--workdir D] "
		    "[--env K=V]... -- cmd [args...]");
		return -1;
	}
	o->cmd = argv + dd + 1;
	o->ncmd = argc - dd - 1;
	optind = 1;
	while ((ch = getopt_long(dd, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			o->tty = 1;
			break;
		case 'w':
			o->workdir = optarg;
			break;
		case 'e':
			if (strchr(optarg, '=') == NULL ||
			    o->nenv >= sizeof(o->env) / sizeof(o->env[0])) {
				cli_warnx("--env wants KEY=VALUE");
				return -1;
			}
			o->env[o->nenv++] = optarg;
			break;
		default:
			return -1;
		}
	}
	if (dd - optind > 1) {
		cli_warnx("exec: one sandbox name at most before --");
		return -1;
	}
	*name = dd - optind == 1 ? argv[optind] : NULL;
	return 0;
}

static int
sshcmd_needs_ssh(const struct exec_opts *o)
{
	size_t	 i;
	int	 k;

	for (k = 0; k < o->ncmd; k++)
		if (strpbrk(o->cmd[k], "\r\n") != NULL)
			return 1;
	for (i = 0; i < o->nenv; i++)
		if (strpbrk(o->env[i], "\r\n") != NULL)
			return 1;
	return o->workdir != NULL && strpbrk(o->workdir, "\r\n") != NULL;
}

struct exec_kv {
	Openshell__V1__ExecSandboxRequest__EnvironmentEntry	 e[256];
	Openshell__V1__ExecSandboxRequest__EnvironmentEntry	*p[256];
};

static int
sshcmd_exec_rpc(const char *arg, const struct exec_opts *o)
{
	Openshell__V1__ExecSandboxRequest	 req =
	    OPENSHELL__V1__EXEC_SANDBOX_REQUEST__INIT;
	struct exec_kv				 kv;
	struct exec_sink			 sink = { 1, 0 };
	struct ssh_target			 t;
	struct grpc_status			 st;
	struct rpc				 r;
	char					 name[256];
	size_t					 i;

	if (rpc_open(&r) == -1)
		return 1;
	if (config_sandbox_arg(&r.r_gw, arg, name, sizeof(name)) == -1 ||
	    ssh_sandbox_id(&r, name, &t) == -1) {
		rpc_close(&r);
		return 1;
	}
	req.sandbox_id = t.t_id;
	req.command = o->cmd;
	req.n_command = (size_t)o->ncmd;
	req.workdir = (char *)(o->workdir != NULL ? o->workdir : "");
	for (i = 0; i < o->nenv; i++) {
		openshell__v1__exec_sandbox_request__environment_entry__init(
		    &kv.e[i]);
		kv.e[i].key = o->env[i];
		*strchr(o->env[i], '=') = '\0';
		kv.e[i].value = o->env[i] + strlen(o->env[i]) + 1;
		kv.p[i] = &kv.e[i];
	}
	req.environment = kv.p;
	req.n_environment = o->nenv;
	if (sshcmd_read_stdin(&req.stdin) == -1) {
		rpc_close(&r);
		return 1;
	}
	if (rpc_stream(&r, RPC_OPENSHELL "ExecSandbox", &req.base,
	    &openshell__v1__exec_sandbox_event__descriptor, sshcmd_exec_event,
	    &sink, &st) != 0) {
		free(req.stdin.data);
		return rpc_fail_close(&r, &st);
	}
	free(req.stdin.data);
	rpc_close(&r);
	return sink.code;
}

static int
sshcmd_exec_event(ProtobufCMessage *m, void *arg)
{
	Openshell__V1__ExecSandboxEvent	*ev =
	    (Openshell__V1__ExecSandboxEvent *)m;
	struct exec_sink		*sink = arg;

	switch (ev->payload_case) {
	case OPENSHELL__V1__EXEC_SANDBOX_EVENT__PAYLOAD_STDOUT:
		fwrite(ev->stdout->data.data, 1, ev->stdout->data.len, stdout);
		fflush(stdout);
		break;
	case OPENSHELL__V1__EXEC_SANDBOX_EVENT__PAYLOAD_STDERR:
		fwrite(ev->stderr->data.data, 1, ev->stderr->data.len, stderr);
		break;
	case OPENSHELL__V1__EXEC_SANDBOX_EVENT__PAYLOAD_EXIT:
		sink->code = ev->exit->exit_code;
		sink->got_exit = 1;
		break;
	default:
		break;
	}
	return 0;
}

/* All of stdin when it is not a terminal (the RPC is not streaming). */
static int
sshcmd_read_stdin(ProtobufCBinaryData *b)
{
	size_t	 cap = 65536;
	ssize_t	 n;

	b->data = NULL;
	b->len = 0;
	if (isatty(STDIN_FILENO))
		return 0;
	if ((b->data = malloc(cap)) == NULL)
		return -1;
	for (;;) {
		if (b->len == cap) {
			if (cap >= EXEC_STDIN_MAX) {
				cli_warnx("stdin is larger than %d bytes",
				    EXEC_STDIN_MAX);
				return -1;
			}
			cap *= 2;
			if ((b->data = realloc(b->data, cap)) == NULL)
				return -1;
		}
		n = read(STDIN_FILENO, b->data + b->len, cap - b->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EBADF)
			break;
		if (n == -1) {
			cli_warnx("stdin: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	return 0;
}

/* ssh replaces us: its exit status is the remote command's. */
static int
sshcmd_exec_ssh(const char *name, const struct exec_opts *o)
{
	struct ssh_target	 t;
	struct ssh_argv		 a;
	char			*cmd;

	if ((cmd = sshcmd_command(o)) == NULL) {
		cli_warnx("command too long");
		return 1;
	}
	if (sshcmd_target(name, &t, 0) == -1 || sshcmd_base(&a, &t) == -1)
		return 1;
	if (o->tty) {
		sshcmd_add(&a, "-tt");
		sshcmd_add(&a, "-o");
		sshcmd_add(&a, "SetEnv=TERM=xterm-256color");
	} else
		sshcmd_add(&a, "-T");
	sshcmd_add(&a, a.a_host);
	sshcmd_add(&a, cmd);
	execvp("ssh", a.a_v);
	cli_warnx("cannot run ssh: %s", strerror(errno));
	return 1;
}

/* The same string ExecSandbox builds (§4.8), env in the given order. */
static char *
sshcmd_command(const struct exec_opts *o)
{
	char	*out, *q;
	size_t	 len = 0, i;
	int	 k;

	if ((out = calloc(1, EXEC_CMD_MAX)) == NULL ||
	    (q = malloc(EXEC_CMD_MAX)) == NULL) {
		free(out);
		return NULL;
	}
	if (o->workdir != NULL && sshcmd_quote(q, EXEC_CMD_MAX,
	    o->workdir) == 0)
		len = (size_t)snprintf(out, EXEC_CMD_MAX, "cd %s && ", q);
	for (i = 0; i < o->nenv && len < EXEC_CMD_MAX; i++) {
		const char	*eq = strchr(o->env[i], '=');

		if (sshcmd_quote(q, EXEC_CMD_MAX, eq + 1) == -1)
			goto toolong;
		len += (size_t)snprintf(out + len, EXEC_CMD_MAX - len,
		    "%.*s=%s ", (int)(eq - o->env[i]), o->env[i], q);
	}
	for (k = 0; k < o->ncmd && len < EXEC_CMD_MAX; k++) {
		if (sshcmd_quote(q, EXEC_CMD_MAX, o->cmd[k]) == -1)
			goto toolong;
		len += (size_t)snprintf(out + len, EXEC_CMD_MAX - len,
		    k > 0 ? " %s" : "%s", q);
	}
	if (len >= EXEC_CMD_MAX)
		goto toolong;
	free(q);
	return out;
 toolong:
	free(q);
	free(out);
	return NULL;
}
