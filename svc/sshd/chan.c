/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Channels.  A session channel collects pty-req, env and window-change,
 * then shell, exec or the sftp subsystem asks the parent for a process
 * (IPC_SSH_SPAWN); its PTY master, or its stdin/stdout/stderr pipes,
 * come back as fds.  Output is read only as far as the peer's window
 * allows; when the parent reports the exit (IPC_SSH_EXIT) and the
 * output is drained, exit-status or exit-signal goes out, then EOF
 * and close.  A direct-tcpip channel (loopback only) gets a socket the
 * parent connected from inside the agent's network namespace.  Input
 * is queued up to CHAN_IN_MAX for a slow reader; past that it stays
 * with libssh, whose window then holds the client back.
 */

#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"

#include "sshd.h"

#define CHAN_BUF	65536
#define CHAN_IN_MAX	(4 * 1024 * 1024)	/* client data queued here */
#define CHAN_NOSTART	"openshell: cannot start the session\r\n"

static struct chan *chan_new(struct conn *, enum chan_kind);
static int	 chan_pty(ssh_session, ssh_channel, const char *, int, int,
		    int, int, void *);
static int	 chan_shell(ssh_session, ssh_channel, void *);
static int	 chan_exec(ssh_session, ssh_channel, const char *, void *);
static int	 chan_subsystem(ssh_session, ssh_channel, const char *,
		    void *);
static int	 chan_env(ssh_session, ssh_channel, const char *,
		    const char *, void *);
static int	 chan_winch(ssh_session, ssh_channel, int, int, int, int,
		    void *);
static int	 chan_data(ssh_session, ssh_channel, void *, uint32_t, int,
		    void *);
static void	 chan_eof(ssh_session, ssh_channel, void *);
static void	 chan_close(ssh_session, ssh_channel, void *);
static void	 chan_signal(ssh_session, ssh_channel, const char *,
		    void *);
static int	 chan_wontblock(ssh_session, ssh_channel, uint32_t, void *);
static int	 chan_spawn(struct chan *, int, const char *);
static void	 chan_callbacks(struct chan *);
static void	 chan_start_io(struct chan *);
static void	 chan_out(int, short, void *);
static void	 chan_in(int, short, void *);
static void	 chan_in_flush(struct chan *);
static int	 chan_in_pull(struct chan *);
static void	 chan_out_eof(struct chan *, int);
static void	 chan_finish(struct chan *);
static int	 chan_env_ok(const char *);
static int	 chan_loopback(const char *);

/* A new session channel (server callback): ours until chan_free. */
ssh_channel
chan_open_session(ssh_session s, void *arg)
{
	struct conn	*c = arg;
	struct chan	*ch;

	if (c->c_state != CONN_AUTHED)
		return NULL;
	if ((ch = chan_new(c, CHAN_SESSION)) == NULL)
		return NULL;
	if ((ch->ch_ch = ssh_channel_new(s)) == NULL) {
		ch->ch_closing = 1;
		return NULL;
	}
	chan_callbacks(ch);
	return ch->ch_ch;
}

/*
 * Messages no callback took: only direct-tcpip to a loopback literal
 * is accepted here (1 = default reply, a refusal).
 */
int
chan_message(ssh_session s, ssh_message m, void *arg)
{
	struct conn	*c = arg;
	struct chan	*ch;
	struct ipc_wr	 w;
	const char	*host;
	int		 port;

	(void)s;
	if (ssh_message_type(m) != SSH_REQUEST_CHANNEL_OPEN ||
	    ssh_message_subtype(m) != SSH_CHANNEL_DIRECT_TCPIP ||
	    c->c_state != CONN_AUTHED)
		return 1;
	host = ssh_message_channel_request_open_destination(m);
	port = ssh_message_channel_request_open_destination_port(m);
	if (host == NULL || port <= 0 || port > 65535 ||
	    !chan_loopback(host)) {
		log_warnx("direct-tcpip to %s:%d refused: not loopback",
		    host != NULL ? host : "-", port);
		return 1;
	}
	if ((ch = chan_new(c, CHAN_TCPIP)) == NULL)
		return 1;
	if ((ch->ch_ch = ssh_message_channel_request_open_reply_accept(m)) ==
	    NULL) {
		ch->ch_closing = 1;
		return 0;
	}
	chan_callbacks(ch);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_str(&w, host);
	ipc_wr_u32(&w, (uint32_t)port);
	monitor_request(c, ch, IPC_SSH_TCPIP, &w);
	return 0;
}

static struct chan *
chan_new(struct conn *c, enum chan_kind kind)
{
	struct sshd	*sd = c->c_sd;
	struct chan	*ch;

	if (c->c_nchans >= 16)
		return NULL;
	if ((ch = calloc(1, sizeof(*ch))) == NULL ||
	    (ch->ch_in = evbuffer_new()) == NULL)
		fatal("%s", __func__);
	ch->ch_conn = c;
	ch->ch_kind = kind;
	ch->ch_id = sd->sd_nextid++;
	if (sd->sd_nextid == 0)
		sd->sd_nextid = 1;
	ch->ch_fd[0] = ch->ch_fd[1] = ch->ch_fd[2] = -1;
	ch->ch_cols = 80;
	ch->ch_rows = 24;
	TAILQ_INSERT_TAIL(&sd->sd_chans, ch, ch_entry);
	c->c_nchans++;
	return ch;
}

static void
chan_callbacks(struct chan *ch)
{
	struct ssh_channel_callbacks_struct	*cb = &ch->ch_cb;

	memset(cb, 0, sizeof(*cb));
	cb->userdata = ch;
	cb->channel_data_function = chan_data;
	cb->channel_eof_function = chan_eof;
	cb->channel_close_function = chan_close;
	cb->channel_signal_function = chan_signal;
	cb->channel_write_wontblock_function = chan_wontblock;
	if (ch->ch_kind == CHAN_SESSION) {
		cb->channel_pty_request_function = chan_pty;
		cb->channel_shell_request_function = chan_shell;
		cb->channel_exec_request_function = chan_exec;
		cb->channel_subsystem_request_function = chan_subsystem;
		cb->channel_env_request_function = chan_env;
		cb->channel_pty_window_change_function = chan_winch;
	}
	ssh_callbacks_init(cb);
	ssh_set_channel_callbacks(ch->ch_ch, cb);
}

struct chan *
chan_find(struct sshd *sd, uint32_t id)
{
	struct chan	*ch;

	TAILQ_FOREACH(ch, &sd->sd_chans, ch_entry)
		if (ch->ch_id == id && !ch->ch_closing)
			return ch;
	return NULL;
}

static int
chan_pty(ssh_session s, ssh_channel c, const char *term, int cols,
    int rows, int pw, int ph, void *arg)
{
	struct chan	*ch = arg;

	(void)s;
	(void)c;
	(void)pw;
	(void)ph;
	if (ch->ch_pty || ch->ch_spawning || cols < 0 || rows < 0)
		return -1;
	ch->ch_pty = 1;
	strlcpy(ch->ch_term, term != NULL ? term : "", sizeof(ch->ch_term));
	ch->ch_cols = cols > 0 && cols < 10000 ? (uint32_t)cols : 80;
	ch->ch_rows = rows > 0 && rows < 10000 ? (uint32_t)rows : 24;
	return 0;
}

static int
chan_shell(ssh_session s, ssh_channel c, void *arg)
{
	(void)s;
	(void)c;
	return chan_spawn(arg, -1, NULL);
}

static int
chan_exec(ssh_session s, ssh_channel c, const char *cmd, void *arg)
{
	(void)s;
	(void)c;
	if (cmd == NULL)
		return -1;
	return chan_spawn(arg, -1, cmd);
}

static int
chan_subsystem(ssh_session s, ssh_channel c, const char *name, void *arg)
{
	(void)s;
	(void)c;
	if (name == NULL || strcmp(name, "sftp") != 0)
		return -1;
	return chan_spawn(arg, SPAWN_SFTP, NULL);
}

/* Accepted but filtered: the parent filters again. */
static int
chan_env(ssh_session s, ssh_channel c, const char *k, const char *v,
    void *arg)
{
	struct chan	*ch = arg;
	char		*kv;

	(void)s;
	(void)c;
	if (k == NULL || v == NULL || !chan_env_ok(k) ||
	    ch->ch_nenv >= SSHD_MAX_ENV || strlen(v) > 1024)
		return 0;
	if (asprintf(&kv, "%s=%s", k, v) == -1)
		fatal("%s", __func__);
	ch->ch_env[ch->ch_nenv++] = kv;
	return 0;
}

static int
chan_env_ok(const char *k)
{
	return strcmp(k, "LANG") == 0 || strncmp(k, "LC_", 3) == 0 ||
	    strcmp(k, "TZ") == 0 || strcmp(k, "COLORTERM") == 0;
}

static int
chan_winch(ssh_session s, ssh_channel c, int cols, int rows, int pw,
    int ph, void *arg)
{
	struct chan	*ch = arg;
	struct ipc_wr	 w;

	(void)s;
	(void)c;
	(void)pw;
	(void)ph;
	if (!ch->ch_pty || cols <= 0 || rows <= 0 || cols > 10000 ||
	    rows > 10000)
		return -1;
	ch->ch_cols = (uint32_t)cols;
	ch->ch_rows = (uint32_t)rows;
	/* Before the process runs, the size goes with IPC_SSH_SPAWN. */
	if (!ch->ch_spawned || ch->ch_exited)
		return 0;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 2);
	ipc_wr_u32(&w, ch->ch_cols);
	ipc_wr_u32(&w, ch->ch_rows);
	monitor_request(ch->ch_conn, ch, IPC_SSH_WINCH, &w);
	return 0;
}

/*
 * IPC_SSH_SPAWN [kind, [argv], term, cols, rows, {env}].  exec runs
 * through the shell like OpenSSH; shell is [] (the parent picks the
 * login shell); sftp is a kind of its own (the parent locates it).
 * One process per channel: a second request is refused (-1).
 */
static int
chan_spawn(struct chan *ch, int kind, const char *cmd)
{
	struct ipc_wr	 w;
	int		 i;

	if (ch->ch_spawning)
		return -1;
	ch->ch_spawning = 1;
	if (kind == -1)
		kind = ch->ch_pty ? SPAWN_PTY : SPAWN_PIPES;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 6);
	ipc_wr_u32(&w, (uint32_t)kind);
	ipc_wr_array(&w, cmd != NULL ? 3 : 0);
	if (cmd != NULL) {
		ipc_wr_str(&w, "/bin/sh");
		ipc_wr_str(&w, "-c");
		ipc_wr_str(&w, cmd);
	}
	ipc_wr_str(&w, ch->ch_term);
	ipc_wr_u32(&w, ch->ch_cols);
	ipc_wr_u32(&w, ch->ch_rows);
	ipc_wr_map(&w, (uint32_t)ch->ch_nenv);
	for (i = 0; i < ch->ch_nenv; i++) {
		char	*eq = strchr(ch->ch_env[i], '=');

		ipc_wr_strn(&w, ch->ch_env[i], (size_t)(eq - ch->ch_env[i]));
		ipc_wr_str(&w, eq + 1);
	}
	ch->ch_conn->c_sd->sd_st_sessions++;
	monitor_request(ch->ch_conn, ch, IPC_SSH_SPAWN, &w);
	return 0;
}

/*
 * [bool ok, str error, u32 pid, u32 which] + fd.  A PTY comes as one
 * fd (0: the master), pipes as three messages.  Ownership of each fd
 * passes to the channel.
 */
void
chan_spawned(struct chan *ch, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		*err = NULL;
	uint32_t	 n = 0, pid = 0, which = 3;
	int		 ok = 0, fd;

	fd = ipc_fd(msg);
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 4) {
		ipc_rd_bool(&r, &ok);
		ipc_rd_str(&r, &err);
		ipc_rd_u32(&r, &pid);
		ipc_rd_u32(&r, &which);
	}
	if (ipc_rd_end(&r) == -1 || n != 4 || which > 2 || (ok && fd == -1) ||
	    ch->ch_kind != CHAN_SESSION || !ch->ch_spawning ||
	    ch->ch_fd[which] != -1)
		fatalx("bad IPC_SSH_SPAWNED");
	if (!ok) {
		log_warnx("session %u: %s", ch->ch_id, err);
		ssh_channel_write_stderr(ch->ch_ch, CHAN_NOSTART,
		    sizeof(CHAN_NOSTART) - 1);
		ch->ch_exited = 1;
		ch->ch_status = 127;
		free(err);
		chan_finish(ch);
		return;
	}
	free(err);
	/* Ours only: a full pipe must not stall every connection. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		fatal("fcntl");
	ch->ch_fd[which] = fd;
	if (ch->ch_pty ? ch->ch_fd[0] == -1 : (ch->ch_fd[0] == -1 ||
	    ch->ch_fd[1] == -1 || ch->ch_fd[2] == -1))
		return;
	ch->ch_spawned = 1;
	log_info("session %u: pid %u (%s)", ch->ch_id, pid,
	    ch->ch_pty ? "pty" : "pipes");
	chan_start_io(ch);
}

static void
chan_start_io(struct chan *ch)
{
	struct event_base	*base = ch->ch_conn->c_sd->sd_base;
	int			 i, first = ch->ch_pty || ch->ch_kind ==
				    CHAN_TCPIP ? 0 : 1;
	int			 last = first == 0 ? 0 : 2;

	for (i = first; i <= last; i++) {
		ch->ch_ev[i] = event_new(base, ch->ch_fd[i], EV_READ |
		    EV_PERSIST, chan_out, ch);
		if (ch->ch_ev[i] == NULL || event_add(ch->ch_ev[i], NULL) == -1)
			fatalx("%s", __func__);
		ch->ch_out_open++;
	}
	ch->ch_ev_in = event_new(base, ch->ch_fd[0], EV_WRITE, chan_in, ch);
	if (ch->ch_ev_in == NULL)
		fatalx("%s", __func__);
	chan_in_flush(ch);
}

/* Process output to the peer, never more than its window takes. */
static void
chan_out(int fd, short event, void *arg)
{
	struct chan	*ch = arg;
	char		 buf[CHAN_BUF];
	uint32_t	 win;
	ssize_t		 n;
	int		 i;

	(void)event;
	i = fd == ch->ch_fd[2] ? 2 : fd == ch->ch_fd[1] ? 1 : 0;
	if ((win = ssh_channel_window_size(ch->ch_ch)) == 0) {
		event_del(ch->ch_ev[i]);
		return;
	}
	n = read(fd, buf, win < sizeof(buf) ? win : sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		chan_out_eof(ch, i);
		conn_pump(ch->ch_conn);
		return;
	}
	if (i == 2)
		ssh_channel_write_stderr(ch->ch_ch, buf, (uint32_t)n);
	else
		ssh_channel_write(ch->ch_ch, buf, (uint32_t)n);
	conn_pump(ch->ch_conn);
}

/* EOF (or EIO: the PTY's last slave closed) on output i. */
static void
chan_out_eof(struct chan *ch, int i)
{
	if (ch->ch_ev[i] == NULL)
		return;
	event_free(ch->ch_ev[i]);
	ch->ch_ev[i] = NULL;
	ch->ch_out_open--;
	if (i != 0) {
		close(ch->ch_fd[i]);
		ch->ch_fd[i] = -1;
	}
	if (ch->ch_kind == CHAN_TCPIP) {
		ch->ch_exited = 1;	/* nothing to report */
		ssh_channel_send_eof(ch->ch_ch);
	}
	chan_finish(ch);
}

/* The peer's window opened: read the outputs again. */
static int
chan_wontblock(ssh_session s, ssh_channel c, uint32_t bytes, void *arg)
{
	(void)s;
	(void)c;
	(void)bytes;
	chan_resume(arg);
	return 0;
}

/*
 * After every libssh round too: a window adjust does not always come
 * with the callback above.
 */
void
chan_resume(struct chan *ch)
{
	int	 i;

	if (ch->ch_ch == NULL)
		return;
	if (ch->ch_held > 0)
		chan_in_flush(ch);
	if (ssh_channel_window_size(ch->ch_ch) == 0)
		return;
	for (i = 0; i < 3; i++)
		if (ch->ch_ev[i] != NULL && !event_pending(ch->ch_ev[i],
		    EV_READ, NULL))
			event_add(ch->ch_ev[i], NULL);
}

static int
chan_data(ssh_session s, ssh_channel c, void *data, uint32_t len,
    int is_stderr, void *arg)
{
	struct chan	*ch = arg;

	(void)s;
	(void)c;
	if (is_stderr || ch->ch_in_eof)
		return (int)len;
	/*
	 * A reader that cannot keep up (or no process yet): the data
	 * stays with libssh, which then keeps the window shut, so the
	 * client stops sending; chan_in_pull takes it once we drained.
	 */
	if (evbuffer_get_length(ch->ch_in) >= CHAN_IN_MAX) {
		ch->ch_held = len;
		return 0;
	}
	ch->ch_held = 0;
	if (evbuffer_add(ch->ch_in, data, len) == -1)
		fatal("%s", __func__);
	chan_in_flush(ch);
	return (int)len;
}

static void
chan_in(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	chan_in_flush(arg);
}

static void
chan_in_flush(struct chan *ch)
{
	int	 fd = ch->ch_fd[0];

	if (fd == -1 || ch->ch_ev_in == NULL)
		return;
	do {
		while (evbuffer_get_length(ch->ch_in) > 0) {
			if (evbuffer_write(ch->ch_in, fd) != -1)
				continue;
			if (errno == EAGAIN || errno == EINTR) {
				event_add(ch->ch_ev_in, NULL);
				return;
			}
			/* The reader is gone: drop the rest. */
			evbuffer_drain(ch->ch_in,
			    evbuffer_get_length(ch->ch_in));
		}
	} while (chan_in_pull(ch) > 0);
	if (!ch->ch_in_eof || ch->ch_pty || ch->ch_held > 0)
		return;
	if (ch->ch_kind == CHAN_TCPIP)
		shutdown(fd, SHUT_WR);
	else if (ch->ch_fd[0] != -1) {
		close(ch->ch_fd[0]);
		ch->ch_fd[0] = -1;
	}
}

/*
 * What chan_data left with libssh, now that ours is drained.  Never
 * inside a libssh round (the callback's data is libssh's buffer), and
 * no more than libssh holds, so the read never waits for a packet.
 * The read re-opens the window: the adjust goes out on the next round.
 * Returns the bytes taken.
 */
static int
chan_in_pull(struct chan *ch)
{
	struct evbuffer_iovec	 iov;
	int			 n;

	if (ch->ch_held == 0 || ch->ch_closing || ch->ch_conn->c_inpump ||
	    evbuffer_get_length(ch->ch_in) >= CHAN_IN_MAX)
		return 0;
	if (evbuffer_reserve_space(ch->ch_in, ch->ch_held, &iov, 1) != 1)
		fatalx("%s", __func__);
	n = ssh_channel_read_nonblocking(ch->ch_ch, iov.iov_base,
	    ch->ch_held, 0);
	if (n <= 0) {
		ch->ch_held = 0;	/* libssh lost it: nothing to wait for */
		return 0;
	}
	iov.iov_len = (size_t)n;
	if (evbuffer_commit_space(ch->ch_in, &iov, 1) == -1)
		fatalx("%s", __func__);
	ch->ch_held = (uint32_t)n < ch->ch_held ? ch->ch_held - n : 0;
	event_add(ch->ch_conn->c_ev_wr, NULL);
	return n;
}

static void
chan_eof(ssh_session s, ssh_channel c, void *arg)
{
	struct chan	*ch = arg;

	(void)s;
	(void)c;
	ch->ch_in_eof = 1;
	chan_in_flush(ch);
}

/* The peer closed: the process loses its terminal or its pipes. */
static void
chan_close(ssh_session s, ssh_channel c, void *arg)
{
	struct chan	*ch = arg;

	(void)s;
	(void)c;
	ch->ch_closing = 1;
}

/* "signal" request: SIGNAL to the parent, which knows the process. */
static void
chan_signal(ssh_session s, ssh_channel c, const char *sig, void *arg)
{
	struct chan	*ch = arg;
	struct ipc_wr	 w;

	(void)s;
	(void)c;
	if (sig == NULL || strlen(sig) > 15 || !ch->ch_spawned ||
	    ch->ch_exited)
		return;
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, sig);
	monitor_request(ch->ch_conn, ch, IPC_SSH_SIGNAL, &w);
}

/* [bool signalled, u32 status or signal, str signal name] */
void
chan_exit(struct chan *ch, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		 buf[CHAN_BUF];
	uint32_t	 n = 0;
	ssize_t		 len;

	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 3) {
		ipc_rd_bool(&r, &ch->ch_signalled);
		ipc_rd_u32(&r, &ch->ch_status);
		ipc_rd_strbuf(&r, ch->ch_signame, sizeof(ch->ch_signame));
	}
	if (ipc_rd_end(&r) == -1 || n != 3 || ch->ch_kind != CHAN_SESSION)
		fatalx("bad IPC_SSH_EXIT");
	ch->ch_exited = 1;
	/* A PTY may stay open in a background process: take what the
	 * shell left and stop there, as OpenSSH does. */
	if (ch->ch_pty && ch->ch_ev[0] != NULL) {
		while ((len = read(ch->ch_fd[0], buf, sizeof(buf))) > 0)
			ssh_channel_write(ch->ch_ch, buf, (uint32_t)len);
		chan_out_eof(ch, 0);
		return;
	}
	chan_finish(ch);
}

/* [bool ok, str error] + fd: the socket is the channel's. */
void
chan_tcpip_result(struct chan *ch, struct ipc_msg *msg)
{
	struct ipc_rd	 r;
	char		*err = NULL;
	uint32_t	 n = 0;
	int		 ok = 0, fd;

	fd = ipc_fd(msg);
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	if (n == 2) {
		ipc_rd_bool(&r, &ok);
		ipc_rd_str(&r, &err);
	}
	if (ipc_rd_end(&r) == -1 || n != 2 || (ok && fd == -1) ||
	    ch->ch_kind != CHAN_TCPIP)
		fatalx("bad IPC_SSH_TCPIP_RESULT");
	if (!ok) {
		log_warnx("direct-tcpip: %s", err);
		free(err);
		if (fd != -1)
			close(fd);
		ssh_channel_close(ch->ch_ch);
		ch->ch_closing = 1;
		return;
	}
	free(err);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		fatal("fcntl");
	ch->ch_fd[0] = fd;
	ch->ch_spawned = 1;
	chan_start_io(ch);
}

/* Exited and drained: status, EOF, close (RFC 4254 §6.10). */
static void
chan_finish(struct chan *ch)
{
	if (!ch->ch_exited || ch->ch_out_open > 0 || ch->ch_closing)
		return;
	if (ch->ch_kind == CHAN_SESSION) {
		if (ch->ch_signalled)
			ssh_channel_request_send_exit_signal(ch->ch_ch,
			    ch->ch_signame, 0, "", "");
		else
			ssh_channel_request_send_exit_status(ch->ch_ch,
			    (int)ch->ch_status);
		ssh_channel_send_eof(ch->ch_ch);
	}
	ssh_channel_close(ch->ch_ch);
	ch->ch_closing = 1;
}

/* Only after a libssh round (conn_pump) or with the connection. */
void
chan_free(struct chan *ch)
{
	struct conn	*c = ch->ch_conn;
	struct ipc_wr	 w;
	int		 i;

	/* A process still running (or still starting) loses its peer:
	 * hang it up. */
	if (ch->ch_kind == CHAN_SESSION && ch->ch_spawning &&
	    !ch->ch_exited && c->c_state == CONN_AUTHED) {
		ipc_wr_init(&w);
		ipc_wr_array(&w, 1);
		ipc_wr_str(&w, "HUP");
		monitor_request(c, ch, IPC_SSH_SIGNAL, &w);
	}
	for (i = 0; i < 3; i++) {
		if (ch->ch_ev[i] != NULL)
			event_free(ch->ch_ev[i]);
		if (ch->ch_fd[i] != -1)
			close(ch->ch_fd[i]);
	}
	if (ch->ch_ev_in != NULL)
		event_free(ch->ch_ev_in);
	evbuffer_free(ch->ch_in);
	for (i = 0; i < ch->ch_nenv; i++)
		free(ch->ch_env[i]);
	if (ch->ch_ch != NULL) {
		ssh_remove_channel_callbacks(ch->ch_ch, &ch->ch_cb);
		ssh_channel_free(ch->ch_ch);
	}
	TAILQ_REMOVE(&c->c_sd->sd_chans, ch, ch_entry);
	c->c_nchans--;
	free(ch);
}

void
chan_conn_gone(struct conn *c)
{
	struct chan	*ch, *next;

	TAILQ_FOREACH_SAFE(ch, &c->c_sd->sd_chans, ch_entry, next)
		if (ch->ch_conn == c)
			chan_free(ch);
}

/* A loopback literal or "localhost"; the parent decides again. */
static int
chan_loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}
