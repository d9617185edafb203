/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The HTTP CONNECT tunnel /connect/ssh (control-plane.md §4.6).  The
 * checks run in the reference's order and answer 401/400/404/412/429
 * (the server itself answers 405 for another method); then 200 and the
 * connection is ours.  Only the parent can reach a sandbox's SSH
 * endpoint: we ask it for a connected fd (IPC_DRIVER_SSH_CONNECT,
 * retried on the reference's schedule), send the NSSH1 preface with
 * the session token, require "OK", then relay bytes both ways with
 * half-close.  Any failure after the 200 just closes the connection.
 */

#include <sys/queue.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "gatewayd.h"
#include "log.h"
#include "proto/openshell.pb-c.h"
#include "store.h"

#define CS_PATH			"/connect/ssh"
#define CS_PER_TOKEN		3
#define CS_PER_SANDBOX		20
#define CS_HDR_MAX		256
#define CS_HIGHWATER		(1024 * 1024)	/* bytes queued per side */
#define CS_REPLY_SECS		10		/* for the "OK" line */
#define CS_EARLY_MAX		(1024 * 1024)	/* client bytes before relay */
#define CS_CLIENT_MAX		(32 * 1024 * 1024) /* queued to the sandbox */
#define CS_SINGLE_IO		(256 * 1024)	/* bytes per read or write */

enum cs_state {
	CS_DIALING,		/* waiting for the parent's fd */
	CS_HANDSHAKE,		/* NSSH1 sent, waiting for OK */
	CS_RELAY
};

struct tunnel {
	TAILQ_ENTRY(tunnel)	 t_entry;
	struct gatewayd		*t_gd;
	uint32_t		 t_id;		/* the IPC peerid */
	enum cs_state		 t_state;
	char			 t_token[GD_UUID_LEN];
	char			 t_sandbox[GD_UUID_LEN];
	struct bufferevent	*t_client;	/* TLS, from the takeover */
	struct bufferevent	*t_sbx;		/* the sandbox's endpoint */
	struct event		*t_retry;
	int			 t_attempt;
	int			 t_client_eof;
	int			 t_sbx_eof;
};

static TAILQ_HEAD(, tunnel) cs_tunnels = TAILQ_HEAD_INITIALIZER(cs_tunnels);
static uint32_t		 cs_next_id;

/* After the first attempt, ms (§4.6). */
static const int	 cs_backoff[] = {
	100, 250, 500, 1000, 2000, 5000, 10000, 15000
};
#define CS_ATTEMPTS	(int)(1 + sizeof(cs_backoff) / sizeof(cs_backoff[0]))

static grpc_http_fn	 cs_request;
static int	 cs_headers(struct grpc_http *, char *, char *);
static int	 cs_header(const char *, char *);
static int	 cs_session(struct gatewayd *, struct grpc_http *, const char *,
		    const char *);
static int	 cs_sandbox(struct gatewayd *, struct grpc_http *,
		    const char *);
static int	 cs_limits(const char *, const char *);
static void	 cs_dial(struct tunnel *);
static void	 cs_retry(evutil_socket_t, short, void *);
static void	 cs_dial_failed(struct tunnel *);
static void	 cs_handshake(struct tunnel *, int);
static void	 cs_sbx_read(struct bufferevent *, void *);
static void	 cs_client_read(struct bufferevent *, void *);
static void	 cs_write(struct bufferevent *, void *);
static void	 cs_event(struct bufferevent *, short, void *);
static void	 cs_pump(struct bufferevent *, struct bufferevent *);
static void	 cs_check_done(struct tunnel *);
static void	 cs_free(struct tunnel *);

void
connect_ssh_register(struct gatewayd *gd)
{
	if (grpc_server_connect(gd->gd_srv, CS_PATH, cs_request, gd) == -1)
		log_warnx("%s: cannot register %s", __func__, CS_PATH);
}

static void
cs_request(struct grpc_http *h, void *arg)
{
	struct gatewayd	*gd = arg;
	struct tunnel	*t;
	char		 id[CS_HDR_MAX], token[CS_HDR_MAX];

	/* Tokens are admin-issued; a sandbox's certificate may not tunnel. */
	if (strcmp(grpc_http_peer_cn(h), "openshell-admin") != 0) {
		grpc_http_respond(h, 403, "Forbidden", NULL, 0);
		return;
	}
	if (cs_headers(h, id, token) == -1 ||
	    cs_session(gd, h, id, token) == -1 ||
	    cs_sandbox(gd, h, id) == -1)
		return;
	if (cs_limits(id, token) == -1) {
		grpc_http_respond(h, 429, "Too Many Requests", NULL, 0);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		grpc_http_respond(h, 500, "Internal Server Error", NULL, 0);
		return;
	}
	if ((t->t_client = grpc_http_takeover(h)) == NULL) {
		free(t);
		return;
	}
	t->t_gd = gd;
	t->t_id = ++cs_next_id & 0x7fffffff;	/* exec uses the high bit */
	strlcpy(t->t_token, token, sizeof(t->t_token));
	strlcpy(t->t_sandbox, id, sizeof(t->t_sandbox));
	explicit_bzero(token, sizeof(token));
	TAILQ_INSERT_TAIL(&cs_tunnels, t, t_entry);
	/* Early bytes wait in the input; a hang-up ends the tunnel now. */
	bufferevent_setcb(t->t_client, cs_client_read, NULL, cs_event, t);
	bufferevent_enable(t->t_client, EV_READ);
	cs_dial(t);
}

/* Missing → 401; not ASCII or blank after trimming → 400. */
static int
cs_headers(struct grpc_http *h, char *id, char *token)
{
	const char	*hid, *htok;
	int		 r1, r2;

	hid = grpc_http_header(h, "x-sandbox-id");
	htok = grpc_http_header(h, "x-sandbox-token");
	if (hid == NULL || htok == NULL) {
		grpc_http_respond(h, 401, "Unauthorized", NULL, 0);
		return -1;
	}
	r1 = cs_header(hid, id);
	r2 = cs_header(htok, token);
	if (r1 == -1 || r2 == -1) {
		grpc_http_respond(h, 400, "Bad Request", NULL, 0);
		return -1;
	}
	return 0;
}

/* Trimmed copy into out (CS_HDR_MAX); -1 if blank or not ASCII. */
static int
cs_header(const char *v, char *out)
{
	size_t	 len;

	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= CS_HDR_MAX)
		return -1;
	memcpy(out, v, len);
	out[len] = '\0';
	for (; *out != '\0'; out++)
		if ((unsigned char)*out > 0x7e || (unsigned char)*out < 0x20)
			return -1;
	return 0;
}

/* Unknown, revoked, another sandbox's or expired → 401. */
static int
cs_session(struct gatewayd *gd, struct grpc_http *h, const char *id,
    const char *token)
{
	Openshell__V1__SshSession	*ss;
	int				 rc, ok;

	rc = rpc_ssh_session_get(gd, token, &ss);
	if (rc == STORE_ERR) {
		grpc_http_respond(h, 500, "Internal Server Error", NULL, 0);
		return -1;
	}
	if (rc == STORE_NOTFOUND) {
		grpc_http_respond(h, 401, "Unauthorized", NULL, 0);
		return -1;
	}
	ok = !ss->revoked && strcmp(ss->sandbox_id, id) == 0 &&
	    (ss->expires_at_ms <= 0 || ss->expires_at_ms > rpc_now_ms());
	openshell__v1__ssh_session__free_unpacked(ss, NULL);
	if (!ok) {
		grpc_http_respond(h, 401, "Unauthorized", NULL, 0);
		return -1;
	}
	return 0;
}

/* Unknown → 404, not READY → 412 (the client's retry signal). */
static int
cs_sandbox(struct gatewayd *gd, struct grpc_http *h, const char *id)
{
	int	 rc, ready;

	if ((rc = rpc_sandbox_ready(gd, id, &ready)) != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			grpc_http_respond(h, 404, "Not Found", NULL, 0);
		else
			grpc_http_respond(h, 500, "Internal Server Error",
			    NULL, 0);
		return -1;
	}
	if (!ready) {
		grpc_http_respond(h, 412, "Precondition Failed", NULL, 0);
		return -1;
	}
	return 0;
}

static int
cs_limits(const char *id, const char *token)
{
	struct tunnel	*t;
	int		 ntok = 0, nsbx = 0;

	TAILQ_FOREACH(t, &cs_tunnels, t_entry) {
		if (strcmp(t->t_token, token) == 0)
			ntok++;
		if (strcmp(t->t_sandbox, id) == 0)
			nsbx++;
	}
	return ntok >= CS_PER_TOKEN || nsbx >= CS_PER_SANDBOX ? -1 : 0;
}

static void
cs_dial(struct tunnel *t)
{
	struct ipc_wr	 w;

	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, t->t_sandbox);
	if (proc_child_compose_wr(&t->t_gd->gd_ps, PROC_PARENT,
	    IPC_DRIVER_SSH_CONNECT, t->t_id, -1, &w) == -1) {
		log_warn("%s: to the parent", __func__);
		cs_free(t);
	}
}

/*
 * IPC_DRIVER_SSH_FD [str sandbox_id, str error] + fd.  0 if the peerid
 * was one of ours (the fd is then ours, used or closed); -1 otherwise,
 * the message untouched.
 */
int
connect_ssh_fd(struct gatewayd *gd, struct ipc_msg *msg)
{
	struct tunnel	*t;
	struct ipc_rd	 r;
	char		 id[GD_UUID_LEN], err[256];
	uint32_t	 n = 0;
	int		 fd;

	(void)gd;
	TAILQ_FOREACH(t, &cs_tunnels, t_entry)
		if (t->t_id == ipc_peerid(msg))
			break;
	if (t == NULL)
		return -1;
	fd = ipc_fd(msg);
	if (t->t_state != CS_DIALING) {		/* not asked for: drop it */
		if (fd != -1)
			close(fd);
		return 0;
	}
	err[0] = '\0';
	ipc_rd_init(&r, msg);
	ipc_rd_array(&r, &n);
	ipc_rd_strbuf(&r, id, sizeof(id));
	ipc_rd_strbuf(&r, err, sizeof(err));
	if ((ipc_rd_end(&r) == -1 || n != 2) && err[0] == '\0')
		strlcpy(err, "bad answer", sizeof(err));
	if (err[0] != '\0' || fd == -1) {
		if (fd != -1)
			close(fd);
		log_debug("ssh tunnel %u: %s", t->t_id, err);
		cs_dial_failed(t);
		return 0;
	}
	cs_handshake(t, fd);
	return 0;
}

static void
cs_dial_failed(struct tunnel *t)
{
	struct timeval	 tv;
	int		 ms;

	if (t->t_attempt + 1 >= CS_ATTEMPTS) {
		log_info("ssh tunnel %u: sandbox unreachable", t->t_id);
		cs_free(t);
		return;
	}
	ms = cs_backoff[t->t_attempt++];
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (t->t_retry == NULL && (t->t_retry = evtimer_new(
	    t->t_gd->gd_ps.ps_base, cs_retry, t)) == NULL) {
		cs_free(t);
		return;
	}
	evtimer_add(t->t_retry, &tv);
}

static void
cs_retry(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	cs_dial(arg);
}

/* fd is ours: it goes to the bufferevent, which closes it. */
static void
cs_handshake(struct tunnel *t, int fd)
{
	struct timeval	 tv = { CS_REPLY_SECS, 0 };
	char		 line[SSHLINK_LINE_MAX];

	evutil_make_socket_nonblocking(fd);
	if ((t->t_sbx = bufferevent_socket_new(t->t_gd->gd_ps.ps_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		cs_free(t);
		return;
	}
	/* libevent moves 16 KiB per syscall by default: what has queued
	 * up (several TLS records' worth) goes in one. */
	bufferevent_set_max_single_read(t->t_sbx, CS_SINGLE_IO);
	bufferevent_set_max_single_write(t->t_sbx, CS_SINGLE_IO);
	bufferevent_set_max_single_write(t->t_client, CS_SINGLE_IO);
	if (sshlink_nssh_line(t->t_gd, t->t_token, line, sizeof(line)) == -1 ||
	    bufferevent_write(t->t_sbx, line, strlen(line)) == -1) {
		explicit_bzero(line, sizeof(line));
		cs_free(t);
		return;
	}
	explicit_bzero(line, sizeof(line));
	t->t_state = CS_HANDSHAKE;
	bufferevent_set_timeouts(t->t_sbx, &tv, NULL);
	bufferevent_setcb(t->t_sbx, cs_sbx_read, cs_write, cs_event, t);
	bufferevent_enable(t->t_sbx, EV_READ);
}

static void
cs_sbx_read(struct bufferevent *bev, void *arg)
{
	struct tunnel	*t = arg;
	char		*line;
	size_t		 len;

	if (t->t_state == CS_RELAY) {
		cs_pump(bev, t->t_client);
		return;
	}
	line = evbuffer_readln(bufferevent_get_input(bev), &len,
	    EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 64)
			cs_free(t);
		return;
	}
	if (strcmp(line, "OK") != 0) {
		log_info("ssh tunnel %u: handshake refused", t->t_id);
		free(line);
		cs_free(t);
		return;
	}
	free(line);
	t->t_state = CS_RELAY;
	bufferevent_set_timeouts(t->t_sbx, NULL, NULL);
	bufferevent_setcb(t->t_client, cs_client_read, cs_write, cs_event, t);
	if (!t->t_client_eof)
		bufferevent_enable(t->t_client, EV_READ);
	/* Bytes that came with the request head, and after the OK. */
	cs_client_read(t->t_client, t);
	cs_pump(t->t_sbx, t->t_client);
	if (t->t_client_eof && evbuffer_get_length(
	    bufferevent_get_output(t->t_sbx)) == 0)
		shutdown(bufferevent_getfd(t->t_sbx), SHUT_WR);
}

/*
 * The TLS side is never paused: a paused bufferevent_openssl may keep
 * decrypted bytes it only hands over when more arrive.  SSH's channel
 * windows bound what a client sends ahead; past a generous cap the
 * tunnel ends.
 */
static void
cs_client_read(struct bufferevent *bev, void *arg)
{
	struct tunnel	*t = arg;

	if (t->t_state != CS_RELAY) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) >
		    CS_EARLY_MAX)
			cs_free(t);
		return;
	}
	evbuffer_add_buffer(bufferevent_get_output(t->t_sbx),
	    bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(t->t_sbx)) >
	    CS_CLIENT_MAX)
		cs_free(t);
}

/* Move what from holds; stop reading it while to is backed up. */
static void
cs_pump(struct bufferevent *from, struct bufferevent *to)
{
	struct evbuffer	*out = bufferevent_get_output(to);

	evbuffer_add_buffer(out, bufferevent_get_input(from));
	if (evbuffer_get_length(out) >= CS_HIGHWATER)
		bufferevent_disable(from, EV_READ);
}

/* Output drained: resume the other side, finish a half-close. */
static void
cs_write(struct bufferevent *bev, void *arg)
{
	struct tunnel		*t = arg;

	if (t->t_state != CS_RELAY)
		return;
	/* Only the sandbox side is ever paused (cs_pump). */
	if (bev == t->t_client && !t->t_sbx_eof &&
	    !(bufferevent_get_enabled(t->t_sbx) & EV_READ)) {
		bufferevent_enable(t->t_sbx, EV_READ);
		cs_pump(t->t_sbx, t->t_client);
	}
	if (bev == t->t_sbx && t->t_client_eof)
		shutdown(bufferevent_getfd(t->t_sbx), SHUT_WR);
	cs_check_done(t);
}

static void
cs_event(struct bufferevent *bev, short what, void *arg)
{
	struct tunnel	*t = arg;

	/*
	 * A tunnel may idle for hours (a quiet port forward).  libevent
	 * 2.1 can keep the HTTP head's deadline armed on the TLS side
	 * past grpc_http_takeover's clearing; it fires once, and clearing
	 * again here, from its own callback, sticks.
	 */
	if ((what & BEV_EVENT_TIMEOUT) && bev == t->t_client) {
		log_debug("ssh tunnel %u: stale client deadline", t->t_id);
		bufferevent_set_timeouts(bev, NULL, NULL);
		if ((what & BEV_EVENT_READING) && !t->t_client_eof)
			bufferevent_enable(bev, EV_READ);
		return;
	}
	if (!(what & BEV_EVENT_EOF) ||
	    (t->t_state != CS_RELAY && bev != t->t_client)) {
		cs_free(t);
		return;
	}
	bufferevent_disable(bev, EV_READ);
	if (bev == t->t_client) {
		/* bufferevent_openssl stops writing at close_notify too;
		 * the client still reads what the sandbox has to say. */
		bufferevent_enable(bev, EV_WRITE);
		t->t_client_eof = 1;
		/* Before the relay, cs_sbx_read passes the half-close on. */
		if (t->t_state == CS_RELAY && evbuffer_get_length(
		    bufferevent_get_output(t->t_sbx)) == 0)
			shutdown(bufferevent_getfd(t->t_sbx), SHUT_WR);
	} else
		t->t_sbx_eof = 1;
	cs_check_done(t);
}

/*
 * The sandbox side ended and the client has all of it: close (TLS
 * has no half-close worth keeping).
 */
static void
cs_check_done(struct tunnel *t)
{
	if (t->t_sbx_eof &&
	    evbuffer_get_length(bufferevent_get_output(t->t_client)) == 0)
		cs_free(t);
}

static void
cs_free(struct tunnel *t)
{
	TAILQ_REMOVE(&cs_tunnels, t, t_entry);
	if (t->t_retry != NULL)
		event_free(t->t_retry);
	if (t->t_sbx != NULL)
		bufferevent_free(t->t_sbx);
	if (t->t_client != NULL)
		bufferevent_free(t->t_client);
	explicit_bzero(t->t_token, sizeof(t->t_token));
	free(t);
}
