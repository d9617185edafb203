/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * ssh-exec: the SSH client of one ExecSandbox (control-plane.md §4.8),
 * a fresh image exec'd by the gateway parent's worker
 * (svc/gateway/sshexec.c) after it dialled the sandbox's SSH endpoint
 * and passed the NSSH1 preface, and after it dropped to the gateway's
 * user -- so whatever the sandbox sends is parsed by a process that
 * holds no secret of the parent.
 *
 *	fd 3: the socketpair to gatewayd: the command's stdin until EOF,
 *	      then frames back [u8 kind, u32 len (BE), data]: 1 stdout,
 *	      2 stderr, 3 exit (u32 code), 4 error (text); libipc/execframe.c
 *	fd 4: the SSH connection (after "OK\n")
 *	argv[1]: the command string
 *
 * SSH: auth "none" as `sandbox', one session channel, exec, stdin then
 * EOF.  No exit-status → 1 (the reference's default); an exit-signal
 * → 128 + its number, as a shell reports it.
 */

#include <sys/prctl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "execframe.h"

#define SX_STDIN_MAX	(2 * 1024 * 1024)	/* > gatewayd's message cap */
#define SX_POLL_MS	200
#define SX_USER		"sandbox"
#define SX_GW_FD	3
#define SX_SSH_FD	4

struct sx_exit {
	int	 e_status;	/* -1 until exit-status */
	int	 e_signal;	/* 0 until exit-signal */
};

static char	*sshclient_stdin(int, size_t *);
static int	 sshclient_session(int, const char *, const char *, size_t, int,
		    char *, size_t);
static int	 sshclient_pump(ssh_channel, int);
static int	 sshclient_hup(int);
static void	 sshclient_on_status(ssh_session, ssh_channel, int,
		    void *);
static void	 sshclient_on_signal(ssh_session, ssh_channel, const char *, int,
		    const char *, const char *, void *);

int
main(int argc, char *argv[])
{
	char		 err[256], *in;
	size_t		 inlen;
	uint32_t	 be;
	int		 code;

	signal(SIGPIPE, SIG_IGN);
	/* Not inherited across the parent's privilege drop: set again. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc != 2)
		execframe_fail(SX_GW_FD, "usage: ssh-exec command");
	if ((in = sshclient_stdin(SX_GW_FD, &inlen)) == NULL)
		execframe_fail(SX_GW_FD, "cannot read stdin");
	code = sshclient_session(SX_SSH_FD, argv[1], in, inlen, SX_GW_FD, err,
	    sizeof(err));
	if (code == -1)
		execframe_fail(SX_GW_FD, err);
	be = htonl((uint32_t)code);
	execframe_write(SX_GW_FD, EXECFRAME_EXIT, &be, sizeof(be));
	return 0;
}

/* Everything gatewayd writes before shutting its side. */
static char *
sshclient_stdin(int sfd, size_t *lenp)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > SX_STDIN_MAX ||
			    (nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		n = read(sfd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*lenp = len;
	return buf != NULL ? buf : malloc(1);
}

/*
 * One SSH session on fd (the session owns it afterwards).  The exit
 * code, or -1 with err set.  No exit-status → 1 (the reference's
 * default); an exit-signal → 128 + its number, as a shell reports it.
 */
static int
sshclient_session(int fd, const char *cmd, const char *in, size_t inlen,
    int sfd, char *err, size_t errlen)
{
	struct ssh_channel_callbacks_struct	 cb;
	struct sx_exit				 ex = { -1, 0 };
	ssh_session				 s;
	ssh_channel				 ch = NULL;
	int					 off = 0, rc = -1;

	if ((s = ssh_new()) == NULL) {
		snprintf(err, errlen, "ssh_new");
		return -1;
	}
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &off);
	ssh_options_set(s, SSH_OPTIONS_HOST, "sandbox");
	ssh_options_set(s, SSH_OPTIONS_USER, SX_USER);
	ssh_options_set(s, SSH_OPTIONS_FD, &fd);
	memset(&cb, 0, sizeof(cb));
	cb.userdata = &ex;
	cb.channel_exit_status_function = sshclient_on_status;
	cb.channel_exit_signal_function = sshclient_on_signal;
	ssh_callbacks_init(&cb);
	if (ssh_connect(s) != SSH_OK ||
	    ssh_userauth_none(s, NULL) != SSH_AUTH_SUCCESS ||
	    (ch = ssh_channel_new(s)) == NULL ||
	    ssh_set_channel_callbacks(ch, &cb) != SSH_OK ||
	    ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd) != SSH_OK ||
	    (inlen > 0 && ssh_channel_write(ch, in, inlen) != (int)inlen) ||
	    ssh_channel_send_eof(ch) != SSH_OK) {
		snprintf(err, errlen, "ssh: %s", ssh_get_error(s));
		goto done;
	}
	if (sshclient_pump(ch, sfd) == -1) {
		snprintf(err, errlen, "ssh: %s", ssh_get_error(s));
		goto done;
	}
	if (ex.e_status == -1 && ex.e_signal == 0)
		ssh_channel_get_exit_status(ch);
	rc = ex.e_signal != 0 ? 128 + ex.e_signal :
	    ex.e_status >= 0 ? ex.e_status : 1;
 done:
	if (ch != NULL) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	ssh_disconnect(s);
	ssh_free(s);
	return rc;
}

/* stdout and stderr until EOF on both; gatewayd gone → exit. */
static int
sshclient_pump(ssh_channel ch, int sfd)
{
	char	 buf[32768];
	int	 n, m, i;

	for (;;) {
		if (sshclient_hup(sfd))
			_exit(0);
		n = ssh_channel_poll_timeout(ch, SX_POLL_MS, 0);
		if (n == SSH_ERROR)
			return -1;
		if (n > 0 && (i = ssh_channel_read_nonblocking(ch, buf,
		    sizeof(buf), 0)) > 0)
			execframe_write(sfd, EXECFRAME_STDOUT, buf,
			    (size_t)i);
		m = ssh_channel_poll(ch, 1);
		if (m == SSH_ERROR)
			return -1;
		if (m > 0 && (i = ssh_channel_read_nonblocking(ch, buf,
		    sizeof(buf), 1)) > 0)
			execframe_write(sfd, EXECFRAME_STDERR, buf,
			    (size_t)i);
		if ((n == SSH_EOF && m == SSH_EOF) || ssh_channel_is_closed(ch))
			return 0;
	}
}

/* gatewayd closed its end entirely (timeout, cancelled call). */
static int
sshclient_hup(int sfd)
{
	struct pollfd	 pfd = { sfd, POLLOUT, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR));
}

static void
sshclient_on_status(ssh_session s, ssh_channel ch, int status, void *arg)
{
	struct sx_exit	*ex = arg;

	(void)s;
	(void)ch;
	ex->e_status = status;
}

static void
sshclient_on_signal(ssh_session s, ssh_channel ch, const char *sig, int core,
    const char *msg, const char *lang, void *arg)
{
	static const char *const names[] = {
		"", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
		"KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM"
	};
	struct sx_exit	*ex = arg;
	size_t		 i;

	(void)s;
	(void)ch;
	(void)core;
	(void)msg;
	(void)lang;
	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(sig, names[i]) == 0)
			ex->e_signal = (int)i;
	if (ex->e_signal == 0)
		ex->e_signal = SIGTERM;
}
