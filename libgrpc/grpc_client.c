/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Synchronous gRPC client on nghttp2 and a non-blocking TLS socket
 * driven by poll(2), so that deadlines hold even when the server stops
 * answering.
 */

#include <sys/queue.h>
#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/err.h>

#include "grpc_client.h"
#include "grpc_frame.h"
#include "tls.h"

#define CLIENT_WINDOW	(1024 * 1024)
#define CLIENT_READ	16384

struct client_call {
	LIST_ENTRY(client_call)	 entry;		/* while orphaned */
	int			 orphan;
	struct grpc_status	 own_st;	/* st once orphaned */
	const struct grpc_client_req *req;
	int32_t			 sid;
	int			 done;
	int			 http_status;
	int			 have_status;
	struct grpc_status	*st;
	uint32_t		 rst;		/* RST_STREAM code, if any */
	struct grpc_frame	 frame;
	int			 cb_stop;	/* on_msg asked to cancel */
	/* request bytes not yet handed to nghttp2 */
	uint8_t			*out;
	size_t			 outlen, outoff;
	int			 out_eof;
};

struct grpc_client {
	int			 fd;
	SSL			*ssl;
	nghttp2_session		*h2;
	int			 dead;
	size_t			 max_msg;
	LIST_HEAD(, client_call) orphans;	/* streams still closing */
	uint8_t			*wbuf;		/* TLS bytes waiting to go */
	size_t			 wlen;
	char			 err[128];
};

static int	 client_tcp(const char *, const char *, int);
static int	 client_tls(struct grpc_client *, const char *, int64_t);
static int	 client_session(struct grpc_client *);
static int	 client_wait(struct grpc_client *, short, int64_t);
static int	 client_pump(struct grpc_client *, int64_t);
static int	 client_flush(struct grpc_client *);
static int	 client_read(struct grpc_client *);
static int64_t	 client_now(void);
static int	 client_fail(struct grpc_client *, const char *);
static void	 client_finish_status(struct client_call *);
static int	 client_http_code(int);
static int	 client_start(struct grpc_client *, struct client_call *);
static int	 client_fill(struct client_call *);
static ssize_t	 cb_read(nghttp2_session *, int32_t, uint8_t *, size_t,
		    uint32_t *, nghttp2_data_source *, void *);
static int	 cb_header(nghttp2_session *, const nghttp2_frame *,
		    const uint8_t *, size_t, const uint8_t *, size_t, uint8_t,
		    void *);
static int	 cb_data(nghttp2_session *, uint8_t, int32_t, const uint8_t *,
		    size_t, void *);
static int	 cb_close(nghttp2_session *, int32_t, uint32_t, void *);
static int	 cb_msg(const uint8_t *, size_t, void *);
static int	 unary_collect(const uint8_t *, size_t, void *);
static void	 client_call_free(struct client_call *);
static void	 client_orphan(struct grpc_client *, struct client_call *);

struct unary_buf {
	uint8_t	*p;
	size_t	 len;
	int	 n;
};


struct grpc_client *
grpc_client_connect(const char *host, const char *port, SSL_CTX *ctx,
    int timeout_ms, char *err, size_t errlen)
{
	struct grpc_client	*c;
	int64_t			 deadline;

	deadline = timeout_ms > 0 ? client_now() + timeout_ms : 0;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->max_msg = GRPC_FRAME_MAX_DEFAULT;
	LIST_INIT(&c->orphans);
	if ((c->fd = client_tcp(host, port, timeout_ms)) == -1) {
		snprintf(err, errlen, "connect %s:%s: %s", host, port,
		    strerror(errno));
		free(c);
		return NULL;
	}
	if ((c->ssl = SSL_new(ctx)) == NULL ||
	    client_tls(c, host, deadline) != 0 || client_session(c) != 0) {
		snprintf(err, errlen, "%s", c->err[0] ? c->err : "tls setup");
		grpc_client_close(c);
		return NULL;
	}
	return c;
}

void
grpc_client_close(struct grpc_client *c)
{
	struct client_call	*call;

	if (c == NULL)
		return;
	while ((call = LIST_FIRST(&c->orphans)) != NULL) {
		LIST_REMOVE(call, entry);
		client_call_free(call);
	}
	if (c->h2 != NULL)
		nghttp2_session_del(c->h2);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	free(c->wbuf);
	free(c);
}

void
grpc_client_max_msg(struct grpc_client *c, size_t max)
{
	c->max_msg = max;
}

int
grpc_client_dead(const struct grpc_client *c)
{
	return c->dead || !nghttp2_session_want_read(c->h2);
}

static int64_t
client_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
client_fail(struct grpc_client *c, const char *why)
{
	unsigned long	 e;

	c->dead = 1;
	if ((e = ERR_get_error()) != 0)
		snprintf(c->err, sizeof(c->err), "%s: %s", why,
		    ERR_reason_error_string(e));
	else
		snprintf(c->err, sizeof(c->err), "%s", why);
	ERR_clear_error();
	return -1;
}

/* Non-blocking connect to the first address that answers in time. */
static int
client_tcp(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo	 hints, *res, *ai;
	struct pollfd	 pfd;
	socklen_t	 sl;
	int		 fd = -1, one = 1, soerr, rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rv = poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1);
			sl = sizeof(soerr);
			if (rv == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &soerr, &sl) == 0 && soerr == 0)
				break;
			errno = rv == 0 ? ETIMEDOUT : (rv == 1 ? soerr : errno);
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd != -1)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
client_tls(struct grpc_client *c, const char *host, int64_t deadline)
{
	int	 rv, e;

	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_set_fd(c->ssl, c->fd) != 1 ||
	    tls_client_host(c->ssl, host) != 0)
		return client_fail(c, "tls setup");
	for (;;) {
		if ((rv = SSL_connect(c->ssl)) == 1)
			break;
		e = SSL_get_error(c->ssl, rv);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return client_fail(c, "tls handshake");
		if (client_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, deadline) != 1)
			return client_fail(c, "tls handshake timed out");
	}
	if (!tls_alpn_is_h2(c->ssl))
		return client_fail(c, "server did not negotiate h2");
	return 0;
}

static int
client_session(struct grpc_client *c)
{
	nghttp2_session_callbacks	*cbs;
	nghttp2_settings_entry		 iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, CLIENT_WINDOW },
	};
	int				 rv;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return client_fail(c, "out of memory");
	nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    cb_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_close);
	rv = nghttp2_session_client_new(&c->h2, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0) {
		c->h2 = NULL;
		return client_fail(c, "h2 session");
	}
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2) != 0)
		return client_fail(c, "h2 settings");
	return client_flush(c);
}

/* 1 ready, 0 deadline passed, -1 error. */
static int
client_wait(struct grpc_client *c, short events, int64_t deadline)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 rv;

	pfd.fd = c->fd;
	pfd.events = events;
	for (;;) {
		left = -1;
		if (deadline > 0 && (left = deadline - client_now()) < 0)
			left = 0;
		rv = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rv == -1 && errno == EINTR)
			continue;
		if (rv == -1)
			return -1;
		return rv == 0 ? 0 : 1;
	}
}

/* Moves nghttp2 output through TLS; partial writes stay in wbuf. */
static int
client_flush(struct grpc_client *c)
{
	const uint8_t	*p;
	ssize_t		 n;
	uint8_t		*nb;
	int		 w, e;

	while (c->wlen < 65536 && (n = nghttp2_session_mem_send(c->h2,
	    &p)) != 0) {
		if (n < 0)
			return client_fail(c, nghttp2_strerror((int)n));
		if ((nb = realloc(c->wbuf, c->wlen + (size_t)n)) == NULL)
			return client_fail(c, "out of memory");
		c->wbuf = nb;
		memcpy(c->wbuf + c->wlen, p, (size_t)n);
		c->wlen += (size_t)n;
	}
	while (c->wlen > 0) {
		w = SSL_write(c->ssl, c->wbuf, c->wlen > INT_MAX ? INT_MAX :
		    (int)c->wlen);
		if (w <= 0) {
			e = SSL_get_error(c->ssl, w);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
				return 0;
			return client_fail(c, "tls write");
		}
		memmove(c->wbuf, c->wbuf + w, c->wlen - (size_t)w);
		c->wlen -= (size_t)w;
	}
	return 0;
}

static int
client_read(struct grpc_client *c)
{
	uint8_t	 buf[CLIENT_READ];
	ssize_t	 rv;
	int	 n, e;

	for (;;) {
		n = SSL_read(c->ssl, buf, sizeof(buf));
		if (n <= 0) {
			e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			return client_fail(c, e == SSL_ERROR_ZERO_RETURN ||
			    e == SSL_ERROR_SYSCALL ? "connection closed" :
			    "tls read");
		}
		rv = nghttp2_session_mem_recv(c->h2, buf, (size_t)n);
		if (rv < 0)
			return client_fail(c, nghttp2_strerror((int)rv));
	}
}

/* One round: flush, wait for the socket, read.  0 on timeout. */
static int
client_pump(struct grpc_client *c, int64_t deadline)
{
	short	 ev = POLLIN;
	int	 rv;

	if (client_flush(c) != 0)
		return -1;
	if (c->wlen > 0 || nghttp2_session_want_write(c->h2))
		ev |= POLLOUT;
	/* TLS may hold decrypted bytes the socket no longer shows. */
	if (SSL_pending(c->ssl) > 0)
		return client_read(c) == 0 ? 1 : -1;
	if ((rv = client_wait(c, ev, deadline)) <= 0)
		return rv;
	if (client_read(c) != 0)
		return -1;
	return 1;
}

int
grpc_client_call(struct grpc_client *c, const struct grpc_client_req *req,
    struct grpc_status *st)
{
	struct client_call	*call;
	int64_t			 deadline;
	int			 rv = 1;

	memset(st, 0, sizeof(*st));
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		st->code = GRPC_RESOURCE_EXHAUSTED;
		snprintf(st->message, sizeof(st->message), "out of memory");
		return st->code;
	}
	call->req = req;
	call->st = st;
	grpc_frame_init(&call->frame, c->max_msg);
	deadline = req->timeout_ms > 0 ? client_now() + req->timeout_ms : 0;
	if (c->dead || client_start(c, call) != 0) {
		st->code = GRPC_UNAVAILABLE;
		snprintf(st->message, sizeof(st->message), "%s",
		    c->err[0] ? c->err : "connection unusable");
		client_call_free(call);
		return st->code;
	}
	/* A flush may finish the call (the RST_STREAM of an on_msg that
	 * stopped is sent there): check before waiting for more. */
	while (!call->done) {
		if (client_flush(c) != 0) {
			rv = -1;
			break;
		}
		if (call->done || (rv = client_pump(c, deadline)) <= 0)
			break;
	}
	if (call->done) {
		client_call_free(call);
		return st->code;
	}
	if (rv == 0) {
		/* Deadline: cancel the stream, keep the connection. */
		nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->sid,
		    NGHTTP2_CANCEL);
		st->code = GRPC_DEADLINE_EXCEEDED;
		snprintf(st->message, sizeof(st->message),
		    "deadline exceeded");
	} else {
		st->code = GRPC_UNAVAILABLE;
		snprintf(st->message, sizeof(st->message), "%s", c->err);
	}
	client_orphan(c, call);
	client_flush(c);
	return st->code;
}

/*
 * nghttp2 still refers to the call until its stream closes: detach it
 * from the caller's request and status, and free it then (or with the
 * client).
 */
static void
client_orphan(struct grpc_client *c, struct client_call *call)
{
	call->orphan = 1;
	call->req = NULL;
	call->st = &call->own_st;
	call->out_eof = 1;
	LIST_INSERT_HEAD(&c->orphans, call, entry);
}

static void
client_call_free(struct client_call *call)
{
	grpc_frame_free(&call->frame);
	free(call->out);
	free(call);
}

static int
client_start(struct grpc_client *c, struct client_call *call)
{
	const struct grpc_client_req	*req = call->req;
	char				 tmo[GRPC_WIRE_TMO_LEN];
	nghttp2_nv			 nva[GRPC_WIRE_REQ_NV];
	size_t				 n;
	nghttp2_data_provider		 prd;

	if (req->next == NULL) {
		if (req->msglen > UINT32_MAX ||
		    (call->out = malloc(req->msglen + GRPC_FRAME_HDR)) == NULL)
			return client_fail(c, "out of memory");
		grpc_frame_prefix(call->out, (uint32_t)req->msglen);
		if (req->msglen > 0)
			memcpy(call->out + GRPC_FRAME_HDR, req->msg,
			    req->msglen);
		call->outlen = req->msglen + GRPC_FRAME_HDR;
		call->out_eof = 1;
	}
	n = grpc_wire_request_nv(nva, req->path, req->timeout_ms, tmo);
	prd.source.ptr = call;
	prd.read_callback = cb_read;
	call->sid = nghttp2_submit_request(c->h2, NULL, nva, n, &prd, call);
	if (call->sid < 0)
		return client_fail(c, nghttp2_strerror(call->sid));
	return 0;
}

/* Pulls the next client-stream message into the out buffer. */
static int
client_fill(struct client_call *call)
{
	const uint8_t	*msg;
	size_t		 len;
	int		 rv;

	free(call->out);
	call->out = NULL;
	call->outlen = call->outoff = 0;
	if ((rv = call->req->next(call->req->next_arg, &msg, &len)) <= 0) {
		call->out_eof = 1;
		return rv;
	}
	if (len > UINT32_MAX ||
	    (call->out = malloc(len + GRPC_FRAME_HDR)) == NULL)
		return -1;
	grpc_frame_prefix(call->out, (uint32_t)len);
	if (len > 0)
		memcpy(call->out + GRPC_FRAME_HDR, msg, len);
	call->outlen = len + GRPC_FRAME_HDR;
	return 1;
}

static ssize_t
cb_read(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct client_call	*call = src->ptr;
	size_t			 n;

	(void)h2;
	(void)sid;
	(void)arg;
	if (call->orphan)
		call->outoff = call->outlen;
	while (call->outoff == call->outlen && !call->out_eof)
		if (client_fill(call) < 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	n = call->outlen - call->outoff;
	if (n > len)
		n = len;
	if (n > 0)
		memcpy(buf, call->out + call->outoff, n);
	call->outoff += n;
	if (call->outoff == call->outlen && call->out_eof)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int
cb_header(nghttp2_session *h2, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *arg)
{
	struct client_call	*call;
	const char		*n = (const char *)name;

	(void)namelen;
	(void)flags;
	(void)arg;
	call = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
	if (call == NULL)
		return 0;
	if (strcmp(n, ":status") == 0)
		call->http_status = atoi((const char *)value);
	else if (strcmp(n, "grpc-status") == 0) {
		call->have_status = 1;
		call->st->code = atoi((const char *)value);
	} else if (strcmp(n, "grpc-message") == 0)
		grpc_wire_pct_decode((const char *)value, valuelen,
		    call->st->message, sizeof(call->st->message));
	return 0;
}

static int
cb_data(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data,
    size_t len, void *arg)
{
	struct client_call	*call;
	int			 rv;

	(void)flags;
	(void)arg;
	if ((call = nghttp2_session_get_stream_user_data(h2, sid)) == NULL ||
	    call->cb_stop)
		return 0;
	rv = grpc_frame_feed(&call->frame, data, len, cb_msg, call);
	if (rv == GRPC_FRAME_OK)
		return 0;
	call->cb_stop = 1;
	if (rv != GRPC_FRAME_ECALLBACK) {
		call->have_status = 1;
		call->st->code = rv == GRPC_FRAME_ETOOBIG ?
		    GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL;
		snprintf(call->st->message, sizeof(call->st->message),
		    "response: %s", grpc_frame_strerror(rv));
	}
	nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
	return 0;
}

static int
cb_msg(const uint8_t *msg, size_t len, void *arg)
{
	struct client_call	*call = arg;

	if (call->orphan)
		return -1;
	if (call->req->on_msg == NULL)
		return 0;
	if (call->req->on_msg(msg, len, call->req->on_msg_arg) == 0)
		return 0;
	call->have_status = 1;
	call->st->code = GRPC_CANCELLED;
	snprintf(call->st->message, sizeof(call->st->message),
	    "cancelled by the client");
	return -1;
}

static int
cb_close(nghttp2_session *h2, int32_t sid, uint32_t err, void *arg)
{
	struct client_call	*call;

	(void)arg;
	if ((call = nghttp2_session_get_stream_user_data(h2, sid)) == NULL)
		return 0;
	if (call->orphan) {
		LIST_REMOVE(call, entry);
		client_call_free(call);
		return 0;
	}
	call->rst = err;
	call->done = 1;
	client_finish_status(call);
	return 0;
}

/* Decides the outcome when the server's trailers did not. */
static void
client_finish_status(struct client_call *call)
{
	struct grpc_status	*st = call->st;

	if (call->have_status)
		return;
	if (call->rst == NGHTTP2_REFUSED_STREAM) {
		st->code = GRPC_UNAVAILABLE;
		snprintf(st->message, sizeof(st->message), "stream refused");
	} else if (call->rst == NGHTTP2_CANCEL) {
		st->code = GRPC_CANCELLED;
		snprintf(st->message, sizeof(st->message), "stream cancelled");
	} else if (call->http_status != 200 && call->http_status != 0) {
		st->code = client_http_code(call->http_status);
		snprintf(st->message, sizeof(st->message), "HTTP status %d",
		    call->http_status);
	} else {
		st->code = GRPC_INTERNAL;
		snprintf(st->message, sizeof(st->message),
		    "stream ended without grpc-status");
	}
}

/* The gRPC spec's mapping for responses that are not gRPC. */
static int
client_http_code(int http)
{
	switch (http) {
	case 400:
		return GRPC_INTERNAL;
	case 401:
		return GRPC_UNAUTHENTICATED;
	case 403:
		return GRPC_PERMISSION_DENIED;
	case 404:
		return GRPC_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return GRPC_UNAVAILABLE;
	}
	return GRPC_UNKNOWN;
}

static int
unary_collect(const uint8_t *msg, size_t len, void *arg)
{
	struct unary_buf	*ub = arg;

	if (ub->n++ > 0)
		return -1;	/* a unary response is one message */
	if ((ub->p = malloc(len ? len : 1)) == NULL)
		return -1;
	memcpy(ub->p, msg, len);
	ub->len = len;
	return 0;
}

int
grpc_client_unary(struct grpc_client *c, const char *path, const void *msg,
    size_t len, uint8_t **resp, size_t *resplen, int timeout_ms,
    struct grpc_status *st)
{
	struct grpc_client_req	 req;
	struct unary_buf	 ub;

	memset(&req, 0, sizeof(req));
	memset(&ub, 0, sizeof(ub));
	req.path = path;
	req.timeout_ms = timeout_ms;
	req.msg = msg;
	req.msglen = len;
	req.on_msg = unary_collect;
	req.on_msg_arg = &ub;
	*resp = NULL;
	*resplen = 0;
	if (grpc_client_call(c, &req, st) == GRPC_OK && ub.n != 1) {
		st->code = GRPC_INTERNAL;
		snprintf(st->message, sizeof(st->message),
		    "unary response with %d messages", ub.n);
	}
	if (st->code != GRPC_OK) {
		free(ub.p);
		return st->code;
	}
	*resp = ub.p;
	*resplen = ub.len;
	return GRPC_OK;
}
