/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The ExecSandbox worker (control-plane.md §4.8), one per exec, so
 * that no blocking SSH client runs in an event loop.  A fork of the
 * parent dials the sandbox's SSH endpoint (as root: the socket is
 * 0600; retried on connection-level failures), sends the NSSH1 preface
 * with a fresh token, forgets the secrets it can name, drops to the
 * gateway's user and execs libexec/openshell/ssh-exec
 * (svc/sshclient/), a fresh image that holds nothing of the parent
 * (the CA key above all) when it parses what the sandbox sends.
 * fds of the exec'd client: 3 = the socketpair to gatewayd, 4 = the
 * SSH connection.  A failure before the exec is reported on the
 * socketpair as an error frame [4, u32 len (BE), text].
 */

#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execframe.h"
#include "gateway.h"
#include "libnssh/nssh.h"
#include "log.h"

#define SX_ATTEMPTS	6
#define SX_BACKOFF_MS	250
#define SX_BACKOFF_MAX	2000
#define SX_REPLY_MS	10000
#define SX_GRACE_SECS	30		/* past the exec's own timeout */
#define SX_CLIENT	"ssh-exec"

static void	 sshexec_worker(struct gateway *, const char *, const char *,
		    const char *, uint32_t, int) __attribute__((__noreturn__));
static int	 sshexec_dial(struct gateway *, const char *, char *, size_t);
static int	 sshexec_preface(struct gateway *, int, char *, size_t);
static void	 sshexec_scrub(struct gateway *);
static void	 sshexec_privdrop(const struct gateway *);
static void	 sshexec_uuid(char *);

/*
 * Forks the worker.  Returns gatewayd's end of the socketpair (the
 * caller's to pass on) or -1 with err set.  The worker owns the other
 * end and is reaped by proc.c's SIGCHLD handler (waitpid(-1)).
 */
int
sshexec_start(struct gateway *gw, const char *id, const char *cmd,
    uint32_t timeout, char *err, size_t errlen)
{
	char	 path[PATH_MAX];
	int	 sp[2];
	pid_t	 pid;

	if (proc_exec_path(&gw->gw_tree, SX_CLIENT, path, sizeof(path)) ==
	    -1) {
		snprintf(err, errlen, "path of %s too long", SX_CLIENT);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		sshexec_worker(gw, path, id, cmd, timeout, sp[1]);
	}
	close(sp[1]);
	return sp[0];
}

/* Never returns into the parent's event loop: exec or _exit. */
static void
sshexec_worker(struct gateway *gw, const char *path, const char *id,
    const char *cmd, uint32_t timeout, int sfd)
{
	char	*argv[3];
	char	 err[PATH_MAX + 256];
	int	 fd, xfd;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* The socketpair becomes fd 3, the SSH connection fd 4. */
	if (sfd != 3 && (dup2(sfd, 3) == -1 || close(sfd) == -1))
		_exit(1);
	sfd = 3;
	if (timeout > 0)
		alarm(timeout + SX_GRACE_SECS);
	if ((fd = sshexec_dial(gw, id, err, sizeof(err))) == -1)
		execframe_fail(sfd, err);
	if (fd != 4 && (dup2(fd, 4) == -1 || close(fd) == -1))
		execframe_fail(sfd, "dup2");
	close_range(5, ~0U, 0);
	/*
	 * Opened as root: the gateway's user need not be able to walk
	 * the directories it is installed under (a private checkout).
	 * Its own exec permission is checked at the fexecve, as that user.
	 */
	if ((xfd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
		execframe_fail(sfd, err);
	}
	sshexec_scrub(gw);
	sshexec_privdrop(gw);
	argv[0] = SX_CLIENT;
	argv[1] = (char *)cmd;
	argv[2] = NULL;
	fexecve(xfd, argv, environ);
	snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
	execframe_fail(sfd, err);
}

/*
 * Connection-level failures (no socket yet, refused, reset before the
 * preface's answer) are retried: 6 attempts, 250 ms doubling, capped
 * at 2 s.  An "ERR" answer is final.
 */
static int
sshexec_dial(struct gateway *gw, const char *id, char *err, size_t errlen)
{
	struct timespec	 ts;
	int		 attempt, fd, ms = SX_BACKOFF_MS, rc;

	for (attempt = 0; attempt < SX_ATTEMPTS; attempt++) {
		if (attempt > 0) {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (long)(ms % 1000) * 1000000;
			nanosleep(&ts, NULL);
			ms = ms * 2 > SX_BACKOFF_MAX ? SX_BACKOFF_MAX : ms * 2;
		}
		if ((fd = sshbridge_connect(gw, id, err, errlen)) == -1)
			continue;
		if ((rc = sshexec_preface(gw, fd, err, errlen)) == 0)
			return fd;
		close(fd);
		if (rc == -2)
			return -1;
	}
	return -1;
}

/* 0 on "OK", -1 on a connection failure (retry), -2 on "ERR". */
static int
sshexec_preface(struct gateway *gw, int fd, char *err, size_t errlen)
{
	char		 line[NSSH_LINE_MAX + 1], token[40], nonce[40];
	char		 reply[8];
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	size_t		 n = 0, len;
	ssize_t		 r;

	sshexec_uuid(token);
	sshexec_uuid(nonce);
	if (nssh_line_build(gw->gw_secret, token, (int64_t)time(NULL), nonce,
	    line, sizeof(line)) == -1) {
		snprintf(err, errlen, "cannot build the preface");
		return -2;
	}
	len = strlen(line);
	r = write(fd, line, len);
	explicit_bzero(line, sizeof(line));
	if (r != (ssize_t)len) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -1;
	}
	/* Byte by byte: what follows the LF is the SSH banner. */
	while (n < sizeof(reply) - 1) {
		if (poll(&pfd, 1, SX_REPLY_MS) != 1 ||
		    (r = read(fd, reply + n, 1)) != 1) {
			snprintf(err, errlen, "no handshake answer");
			return -1;
		}
		if (reply[n++] == '\n')
			break;
	}
	reply[n] = '\0';
	if (strcmp(reply, "OK\n") != 0) {
		snprintf(err, errlen, "handshake refused");
		return -2;
	}
	return 0;
}

/*
 * Belt and braces: the exec replaces the whole image anyway.
 */
static void
sshexec_scrub(struct gateway *gw)
{
	explicit_bzero(gw->gw_secret, sizeof(gw->gw_secret));
	if (gw->gw_key_pem != NULL)
		explicit_bzero(gw->gw_key_pem, strlen(gw->gw_key_pem));
}

/* Root was for the socket only; SSH from the sandbox is parsed as us. */
static void
sshexec_privdrop(const struct gateway *gw)
{
	if (!gw->gw_privdrop)
		return;
	if (setgroups(1, &gw->gw_gid) == -1 ||
	    setresgid(gw->gw_gid, gw->gw_gid, gw->gw_gid) == -1 ||
	    setresuid(gw->gw_uid, gw->gw_uid, gw->gw_uid) == -1)
		_exit(1);
	/* FD_CLOEXEC is off on 3 and 4 (dup2): they survive the exec. */
}

static void
sshexec_uuid(char *buf)
{
	uint8_t	 b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		_exit(1);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
	    b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
}

