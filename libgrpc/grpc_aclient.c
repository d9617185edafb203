/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Asynchronous gRPC client: nghttp2 over a libevent OpenSSL
 * bufferevent.  All the work that may re-enter the caller (flushing
 * HTTP/2 output, starting queued calls, done callbacks) runs from one
 * deferred event, so that no user callback ever runs inside an
 * nghttp2 callback or inside the caller's own grpc_aclient_* call.
 */

#include <sys/queue.h>
#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "grpc_aclient.h"
#include "grpc_frame.h"
#include "log.h"
#include "tls.h"

#define AC_WINDOW		(1024 * 1024)
#define AC_OUT_HIGH		(256 * 1024)
#define AC_CONNECT_SECS		10
#define AC_BACKOFF_MIN		1000	/* ms */
#define AC_BACKOFF_MAX		30000
#define AC_PING_SECS		30	/* a PING unanswered this long: dead */

enum ac_state { AC_DOWN, AC_WAIT, AC_CONNECTING, AC_UP };
enum acall_state { ACALL_QUEUED, ACALL_ACTIVE, ACALL_DONE };

struct grpc_acall {
	TAILQ_ENTRY(grpc_acall)	 c_entry;
	struct grpc_aclient	*c_ac;
	char			*c_path;
	int			 c_timeout_ms;
	enum acall_state	 c_state;
	int32_t			 c_sid;
	int			 c_cancelled;
	int			 c_deferred;	/* data provider waits */
	struct evbuffer		*c_out;		/* framed request bytes */
	int			 c_out_eof;
	struct grpc_frame	 c_frame;
	int			 c_http_status;
	int			 c_have_status;
	struct grpc_status	 c_st;
	struct event		*c_tmo;
	grpc_acall_msg_fn	*c_on_msg;
	grpc_acall_done_fn	*c_done;
	void			*c_arg;
};

TAILQ_HEAD(acall_list, grpc_acall);

struct grpc_aclient {
	struct event_base	*ac_base;
	SSL_CTX			*ac_ctx;
	char			*ac_host;
	struct sockaddr_storage	 ac_sa;
	socklen_t		 ac_salen;
	enum ac_state		 ac_state;
	struct bufferevent	*ac_bev;
	nghttp2_session		*ac_h2;
	int			 ac_backoff;	/* ms */
	struct event		*ac_retry;
	struct event		*ac_ctmo;
	struct event		*ac_kick;
	struct event		*ac_ping;
	int			 ac_ping_out;	/* a PING awaits its ACK */
	struct acall_list	 ac_calls;	/* queued and active */
	struct acall_list	 ac_done;	/* awaiting their callback */
};

static void	 aclient_kick(struct grpc_aclient *);
static void	 aclient_run(int, short, void *);
static void	 aclient_connect(struct grpc_aclient *);
static void	 aclient_lost(struct grpc_aclient *, const char *);
static void	 aclient_retry(int, short, void *);
static void	 aclient_ctmo(int, short, void *);
static void	 aclient_keepalive(int, short, void *);
static int	 cb_frame(nghttp2_session *, const nghttp2_frame *, void *);
static void	 aclient_event(struct bufferevent *, short, void *);
static void	 aclient_read(struct bufferevent *, void *);
static void	 aclient_write(struct bufferevent *, void *);
static int	 aclient_session(struct grpc_aclient *);
static int	 aclient_flush(struct grpc_aclient *);
static void	 aclient_start_queued(struct grpc_aclient *);
static int	 aclient_submit(struct grpc_aclient *, struct grpc_acall *);
static struct grpc_acall *acall_new(struct grpc_aclient *, const char *, int,
		    grpc_acall_msg_fn *, grpc_acall_done_fn *, void *);
static void	 acall_finish(struct grpc_acall *, int, const char *);
static void	 acall_free(struct grpc_acall *);
static void	 acall_timeout(int, short, void *);
static void	 acall_final_status(struct grpc_acall *);
static ssize_t	 cb_read(nghttp2_session *, int32_t, uint8_t *, size_t,
		    uint32_t *, nghttp2_data_source *, void *);
static int	 cb_header(nghttp2_session *, const nghttp2_frame *,
		    const uint8_t *, size_t, const uint8_t *, size_t, uint8_t,
		    void *);
static int	 cb_data(nghttp2_session *, uint8_t, int32_t, const uint8_t *,
		    size_t, void *);
static int	 cb_close(nghttp2_session *, int32_t, uint32_t, void *);
static int	 cb_msg(const uint8_t *, size_t, void *);


struct grpc_aclient *
grpc_aclient_new(struct event_base *base, const char *host, const char *port,
    SSL_CTX *ctx, char *err, size_t errlen)
{
	struct grpc_aclient	*ac;
	struct addrinfo		 hints, *res;
	int			 rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rv = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s:%s: %s", host, port,
		    gai_strerror(rv));
		return NULL;
	}
	if ((ac = calloc(1, sizeof(*ac))) == NULL ||
	    (ac->ac_host = strdup(host)) == NULL)
		fatal("%s", __func__);
	memcpy(&ac->ac_sa, res->ai_addr, res->ai_addrlen);
	ac->ac_salen = res->ai_addrlen;
	freeaddrinfo(res);
	ac->ac_base = base;
	ac->ac_ctx = ctx;
	ac->ac_backoff = AC_BACKOFF_MIN;
	TAILQ_INIT(&ac->ac_calls);
	TAILQ_INIT(&ac->ac_done);
	if ((ac->ac_retry = evtimer_new(base, aclient_retry, ac)) == NULL ||
	    (ac->ac_ctmo = evtimer_new(base, aclient_ctmo, ac)) == NULL ||
	    (ac->ac_kick = event_new(base, -1, 0, aclient_run, ac)) == NULL ||
	    (ac->ac_ping = event_new(base, -1, EV_PERSIST, aclient_keepalive,
	    ac)) == NULL)
		fatalx("%s: event_new", __func__);
	return ac;
}

void
grpc_aclient_free(struct grpc_aclient *ac)
{
	struct grpc_acall	*c;

	if (ac == NULL)
		return;
	while ((c = TAILQ_FIRST(&ac->ac_calls)) != NULL) {
		TAILQ_REMOVE(&ac->ac_calls, c, c_entry);
		acall_free(c);
	}
	while ((c = TAILQ_FIRST(&ac->ac_done)) != NULL) {
		TAILQ_REMOVE(&ac->ac_done, c, c_entry);
		acall_free(c);
	}
	if (ac->ac_h2 != NULL)
		nghttp2_session_del(ac->ac_h2);
	if (ac->ac_bev != NULL)
		bufferevent_free(ac->ac_bev);
	event_free(ac->ac_retry);
	event_free(ac->ac_ctmo);
	event_free(ac->ac_kick);
	event_free(ac->ac_ping);
	free(ac->ac_host);
	free(ac);
}

int
grpc_aclient_connected(const struct grpc_aclient *ac)
{
	return ac->ac_state == AC_UP;
}

static void
aclient_kick(struct grpc_aclient *ac)
{
	if (!event_pending(ac->ac_kick, EV_TIMEOUT, NULL))
		event_active(ac->ac_kick, EV_TIMEOUT, 0);
}

/* The deferred work: connect, start calls, flush, callbacks. */
static void
aclient_run(int fd, short ev, void *arg)
{
	struct grpc_aclient	*ac = arg;
	struct grpc_acall	*c;

	(void)fd;
	(void)ev;
	if (ac->ac_state == AC_DOWN && !TAILQ_EMPTY(&ac->ac_calls))
		aclient_connect(ac);
	if (ac->ac_state == AC_UP) {
		aclient_start_queued(ac);
		if (aclient_flush(ac) == -1)
			aclient_lost(ac, "connection failed");
	}
	while ((c = TAILQ_FIRST(&ac->ac_done)) != NULL) {
		TAILQ_REMOVE(&ac->ac_done, c, c_entry);
		if (!c->c_cancelled && c->c_done != NULL)
			c->c_done(c, &c->c_st, c->c_arg);
		acall_free(c);
	}
}

static void
aclient_connect(struct grpc_aclient *ac)
{
	struct timeval	 tv = { AC_CONNECT_SECS, 0 };
	SSL		*ssl;

	if ((ssl = SSL_new(ac->ac_ctx)) == NULL ||
	    tls_client_host(ssl, ac->ac_host) != 0) {
		SSL_free(ssl);
		aclient_lost(ac, "tls setup");
		return;
	}
	/* Ownership: ssl belongs to the bufferevent from here on. */
	ac->ac_bev = bufferevent_openssl_socket_new(ac->ac_base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (ac->ac_bev == NULL) {
		SSL_free(ssl);
		aclient_lost(ac, "bufferevent");
		return;
	}
	bufferevent_setcb(ac->ac_bev, aclient_read, aclient_write,
	    aclient_event, ac);
	/* A new bufferevent only writes. */
	bufferevent_enable(ac->ac_bev, EV_READ | EV_WRITE);
	ac->ac_state = AC_CONNECTING;
	evtimer_add(ac->ac_ctmo, &tv);
	if (bufferevent_socket_connect(ac->ac_bev,
	    (struct sockaddr *)&ac->ac_sa, (int)ac->ac_salen) == -1)
		aclient_lost(ac, "connect");
}

/*
 * The connection is gone: its calls end with UNAVAILABLE; queued
 * ones wait for the next attempt after the backoff.
 */
static void
aclient_lost(struct grpc_aclient *ac, const char *why)
{
	struct grpc_acall	*c, *tc;
	struct timeval		 tv;

	log_debug("gateway connection: %s", why);
	TAILQ_FOREACH_SAFE(c, &ac->ac_calls, c_entry, tc) {
		if (c->c_state != ACALL_ACTIVE)
			continue;
		TAILQ_REMOVE(&ac->ac_calls, c, c_entry);
		if (c->c_cancelled)
			acall_free(c);
		else {
			c->c_have_status = 0;
			acall_finish(c, GRPC_UNAVAILABLE, why);
		}
	}
	if (ac->ac_h2 != NULL)
		nghttp2_session_del(ac->ac_h2);
	ac->ac_h2 = NULL;
	if (ac->ac_bev != NULL)
		bufferevent_free(ac->ac_bev);
	ac->ac_bev = NULL;
	evtimer_del(ac->ac_ctmo);
	event_del(ac->ac_ping);
	ac->ac_state = AC_WAIT;
	tv.tv_sec = ac->ac_backoff / 1000;
	tv.tv_usec = (ac->ac_backoff % 1000) * 1000;
	evtimer_add(ac->ac_retry, &tv);
	ac->ac_backoff = ac->ac_backoff * 2 > AC_BACKOFF_MAX ?
	    AC_BACKOFF_MAX : ac->ac_backoff * 2;
	aclient_kick(ac);
}

static void
aclient_retry(int fd, short ev, void *arg)
{
	struct grpc_aclient	*ac = arg;

	(void)fd;
	(void)ev;
	ac->ac_state = AC_DOWN;
	aclient_kick(ac);
}

static void
aclient_ctmo(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	aclient_lost(arg, "connect timed out");
}

static void
aclient_event(struct bufferevent *bev, short what, void *arg)
{
	struct grpc_aclient	*ac = arg;
	struct timeval		 ping = { AC_PING_SECS, 0 };

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		evtimer_del(ac->ac_ctmo);
		if (!tls_alpn_is_h2(bufferevent_openssl_get_ssl(ac->ac_bev))) {
			aclient_lost(ac, "server did not negotiate h2");
			return;
		}
		if (aclient_session(ac) == -1) {
			aclient_lost(ac, "h2 session");
			return;
		}
		ac->ac_state = AC_UP;
		ac->ac_backoff = AC_BACKOFF_MIN;
		ac->ac_ping_out = 0;
		event_add(ac->ac_ping, &ping);
		log_debug("gateway connection up");
		aclient_kick(ac);
		return;
	}
	aclient_lost(ac, (what & BEV_EVENT_EOF) ? "connection closed" :
	    "connection failed");
}

static int
aclient_session(struct grpc_aclient *ac)
{
	nghttp2_session_callbacks	*cbs;
	nghttp2_settings_entry		 iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, AC_WINDOW },
	};
	int				 rv;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    cb_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame);
	rv = nghttp2_session_client_new(&ac->ac_h2, cbs, ac);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0) {
		ac->ac_h2 = NULL;
		return -1;
	}
	if (nghttp2_submit_settings(ac->ac_h2, NGHTTP2_FLAG_NONE, iv, 2) != 0)
		return -1;
	return 0;
}

/*
 * A peer that vanished without a FIN (a long client stream has no
 * deadline to notice it): one PING per period, and no ACK by the next
 * one ends the connection.
 */
static void
aclient_keepalive(int fd, short ev, void *arg)
{
	struct grpc_aclient	*ac = arg;

	(void)fd;
	(void)ev;
	if (ac->ac_state != AC_UP)
		return;
	if (ac->ac_ping_out) {
		aclient_lost(ac, "keepalive timed out");
		return;
	}
	if (nghttp2_submit_ping(ac->ac_h2, NGHTTP2_FLAG_NONE, NULL) == 0)
		ac->ac_ping_out = 1;
	aclient_kick(ac);
}

static int
cb_frame(nghttp2_session *h2, const nghttp2_frame *frame, void *arg)
{
	struct grpc_aclient	*ac = arg;

	(void)h2;
	if (frame->hd.type == NGHTTP2_PING &&
	    (frame->hd.flags & NGHTTP2_FLAG_ACK))
		ac->ac_ping_out = 0;
	return 0;
}

static void
aclient_read(struct bufferevent *bev, void *arg)
{
	struct grpc_aclient	*ac = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 n;
	ssize_t			 rv;
	unsigned char		*p;

	while (ac->ac_h2 != NULL && (n = evbuffer_get_contiguous_space(in)) >
	    0) {
		p = evbuffer_pullup(in, (ssize_t)n);
		rv = nghttp2_session_mem_recv(ac->ac_h2, p, n);
		if (rv < 0) {
			aclient_lost(ac, nghttp2_strerror((int)rv));
			return;
		}
		evbuffer_drain(in, n);
	}
	aclient_kick(ac);
}

static void
aclient_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	aclient_kick(arg);
}

/* nghttp2's output into the bufferevent, up to a high-water mark. */
static int
aclient_flush(struct grpc_aclient *ac)
{
	struct evbuffer	*out = bufferevent_get_output(ac->ac_bev);
	const uint8_t	*p;
	ssize_t		 n;

	while (evbuffer_get_length(out) < AC_OUT_HIGH &&
	    (n = nghttp2_session_mem_send(ac->ac_h2, &p)) != 0) {
		if (n < 0 || bufferevent_write(ac->ac_bev, p, (size_t)n) == -1)
			return -1;
	}
	if (!nghttp2_session_want_read(ac->ac_h2) &&
	    !nghttp2_session_want_write(ac->ac_h2) &&
	    evbuffer_get_length(out) == 0)
		return -1;	/* GOAWAY seen and every stream over */
	return 0;
}

static void
aclient_start_queued(struct grpc_aclient *ac)
{
	struct grpc_acall	*c, *tc;

	TAILQ_FOREACH_SAFE(c, &ac->ac_calls, c_entry, tc) {
		if (c->c_state != ACALL_QUEUED)
			continue;
		if (aclient_submit(ac, c) == -1) {
			TAILQ_REMOVE(&ac->ac_calls, c, c_entry);
			acall_finish(c, GRPC_UNAVAILABLE, "cannot start call");
		}
	}
}

static int
aclient_submit(struct grpc_aclient *ac, struct grpc_acall *c)
{
	char			 tmo[GRPC_WIRE_TMO_LEN];
	nghttp2_nv		 nva[GRPC_WIRE_REQ_NV];
	size_t			 n;
	nghttp2_data_provider	 prd;

	n = grpc_wire_request_nv(nva, c->c_path, c->c_timeout_ms, tmo);
	prd.source.ptr = c;
	prd.read_callback = cb_read;
	c->c_sid = nghttp2_submit_request(ac->ac_h2, NULL, nva, n, &prd, c);
	if (c->c_sid < 0)
		return -1;
	c->c_state = ACALL_ACTIVE;
	return 0;
}

static struct grpc_acall *
acall_new(struct grpc_aclient *ac, const char *path, int timeout_ms,
    grpc_acall_msg_fn *on_msg, grpc_acall_done_fn *done, void *arg)
{
	struct grpc_acall	*c;
	struct timeval		 tv;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->c_path = strdup(path)) == NULL ||
	    (c->c_out = evbuffer_new()) == NULL ||
	    (c->c_tmo = evtimer_new(ac->ac_base, acall_timeout, c)) == NULL)
		fatal("%s", __func__);
	c->c_ac = ac;
	c->c_timeout_ms = timeout_ms;
	c->c_on_msg = on_msg;
	c->c_done = done;
	c->c_arg = arg;
	grpc_frame_init(&c->c_frame, GRPC_FRAME_MAX_DEFAULT);
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		evtimer_add(c->c_tmo, &tv);
	}
	TAILQ_INSERT_TAIL(&ac->ac_calls, c, c_entry);
	aclient_kick(ac);
	return c;
}

struct grpc_acall *
grpc_aclient_call(struct grpc_aclient *ac, const char *path, const void *msg,
    size_t len, int timeout_ms, grpc_acall_msg_fn *on_msg,
    grpc_acall_done_fn *done, void *arg)
{
	struct grpc_acall	*c;

	c = acall_new(ac, path, timeout_ms, on_msg, done, arg);
	grpc_aclient_send(c, msg, len);
	grpc_aclient_close_send(c);
	return c;
}

struct grpc_acall *
grpc_aclient_stream(struct grpc_aclient *ac, const char *path, int timeout_ms,
    grpc_acall_msg_fn *on_msg, grpc_acall_done_fn *done, void *arg)
{
	return acall_new(ac, path, timeout_ms, on_msg, done, arg);
}

int
grpc_aclient_send(struct grpc_acall *c, const void *msg, size_t len)
{
	uint8_t	 hdr[GRPC_FRAME_HDR];

	if (c->c_out_eof || c->c_state == ACALL_DONE || len > UINT32_MAX)
		return -1;
	grpc_frame_prefix(hdr, (uint32_t)len);
	if (evbuffer_add(c->c_out, hdr, sizeof(hdr)) == -1 ||
	    (len > 0 && evbuffer_add(c->c_out, msg, len) == -1))
		fatal("%s", __func__);
	if (c->c_state == ACALL_ACTIVE && c->c_deferred) {
		c->c_deferred = 0;
		nghttp2_session_resume_data(c->c_ac->ac_h2, c->c_sid);
	}
	aclient_kick(c->c_ac);
	return 0;
}

void
grpc_aclient_close_send(struct grpc_acall *c)
{
	if (c->c_out_eof)
		return;
	c->c_out_eof = 1;
	if (c->c_state == ACALL_ACTIVE && c->c_deferred) {
		c->c_deferred = 0;
		nghttp2_session_resume_data(c->c_ac->ac_h2, c->c_sid);
	}
	aclient_kick(c->c_ac);
}

size_t
grpc_aclient_pending(const struct grpc_acall *c)
{
	return evbuffer_get_length(c->c_out);
}

/* An active stream stays known to nghttp2 until it closes. */
void
grpc_aclient_cancel(struct grpc_acall *c)
{
	struct grpc_aclient	*ac = c->c_ac;

	c->c_cancelled = 1;
	evtimer_del(c->c_tmo);
	if (c->c_state == ACALL_QUEUED) {
		TAILQ_REMOVE(&ac->ac_calls, c, c_entry);
		acall_free(c);
		return;
	}
	if (c->c_state == ACALL_ACTIVE) {
		nghttp2_submit_rst_stream(ac->ac_h2, NGHTTP2_FLAG_NONE,
		    c->c_sid, NGHTTP2_CANCEL);
		aclient_kick(ac);
	}
}

/* The call (already off ac_calls) goes to the done list. */
static void
acall_finish(struct grpc_acall *c, int code, const char *msg)
{
	if (!c->c_have_status) {
		c->c_st.code = code;
		snprintf(c->c_st.message, sizeof(c->c_st.message), "%s",
		    msg != NULL ? msg : "");
	}
	c->c_state = ACALL_DONE;
	evtimer_del(c->c_tmo);
	TAILQ_INSERT_TAIL(&c->c_ac->ac_done, c, c_entry);
	aclient_kick(c->c_ac);
}

static void
acall_free(struct grpc_acall *c)
{
	event_free(c->c_tmo);
	evbuffer_free(c->c_out);
	grpc_frame_free(&c->c_frame);
	free(c->c_path);
	free(c);
}

static void
acall_timeout(int fd, short ev, void *arg)
{
	struct grpc_acall	*c = arg;
	struct grpc_aclient	*ac = c->c_ac;

	(void)fd;
	(void)ev;
	c->c_have_status = 1;
	c->c_st.code = GRPC_DEADLINE_EXCEEDED;
	snprintf(c->c_st.message, sizeof(c->c_st.message),
	    "deadline exceeded");
	if (c->c_state == ACALL_QUEUED) {
		TAILQ_REMOVE(&ac->ac_calls, c, c_entry);
		acall_finish(c, GRPC_DEADLINE_EXCEEDED, NULL);
		return;
	}
	/* cb_close ends it with the status set above. */
	nghttp2_submit_rst_stream(ac->ac_h2, NGHTTP2_FLAG_NONE, c->c_sid,
	    NGHTTP2_CANCEL);
	aclient_kick(ac);
}

static ssize_t
cb_read(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct grpc_acall	*c = src->ptr;
	int			 n;

	(void)h2;
	(void)sid;
	(void)arg;
	if (c->c_cancelled) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	n = evbuffer_remove(c->c_out, buf, len);
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (n == 0 && !c->c_out_eof) {
		c->c_deferred = 1;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (c->c_out_eof && evbuffer_get_length(c->c_out) == 0)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return n;
}

static int
cb_header(nghttp2_session *h2, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *arg)
{
	struct grpc_acall	*c;
	const char		*n = (const char *)name;

	(void)namelen;
	(void)flags;
	(void)arg;
	c = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
	if (c == NULL || c->c_cancelled)
		return 0;
	if (strcmp(n, ":status") == 0)
		c->c_http_status = atoi((const char *)value);
	else if (strcmp(n, "grpc-status") == 0 && !c->c_have_status) {
		c->c_have_status = 1;
		c->c_st.code = atoi((const char *)value);
	} else if (strcmp(n, "grpc-message") == 0 &&
	    c->c_st.message[0] == '\0')	/* our own deadline's text wins */
		grpc_wire_pct_decode((const char *)value, valuelen,
		    c->c_st.message, sizeof(c->c_st.message));
	return 0;
}

static int
cb_data(nghttp2_session *h2, uint8_t flags, int32_t sid, const uint8_t *data,
    size_t len, void *arg)
{
	struct grpc_acall	*c;
	int			 rv;

	(void)flags;
	(void)arg;
	if ((c = nghttp2_session_get_stream_user_data(h2, sid)) == NULL ||
	    c->c_cancelled || c->c_have_status)
		return 0;
	rv = grpc_frame_feed(&c->c_frame, data, len, cb_msg, c);
	if (rv == GRPC_FRAME_OK)
		return 0;
	c->c_have_status = 1;
	c->c_st.code = rv == GRPC_FRAME_ETOOBIG ? GRPC_RESOURCE_EXHAUSTED :
	    GRPC_INTERNAL;
	snprintf(c->c_st.message, sizeof(c->c_st.message), "response: %s",
	    grpc_frame_strerror(rv));
	nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
	return 0;
}

/* A server-streamed message goes out at once; its callback may not
 * free the client (documented in the header). */
static int
cb_msg(const uint8_t *msg, size_t len, void *arg)
{
	struct grpc_acall	*c = arg;

	if (c->c_on_msg != NULL)
		c->c_on_msg(c, msg, len, c->c_arg);
	return c->c_cancelled ? -1 : 0;
}

static int
cb_close(nghttp2_session *h2, int32_t sid, uint32_t err, void *arg)
{
	struct grpc_aclient	*ac = arg;
	struct grpc_acall	*c;

	if ((c = nghttp2_session_get_stream_user_data(h2, sid)) == NULL)
		return 0;
	TAILQ_REMOVE(&ac->ac_calls, c, c_entry);
	if (c->c_cancelled) {
		acall_free(c);
		return 0;
	}
	if (!c->c_have_status) {
		if (err == NGHTTP2_REFUSED_STREAM)
			acall_finish(c, GRPC_UNAVAILABLE, "stream refused");
		else if (err != NGHTTP2_NO_ERROR)
			acall_finish(c, GRPC_CANCELLED, "stream reset");
		else
			acall_final_status(c);
		return 0;
	}
	acall_finish(c, c->c_st.code, NULL);
	return 0;
}

static void
acall_final_status(struct grpc_acall *c)
{
	char	 m[64];

	if (c->c_http_status != 200 && c->c_http_status != 0) {
		snprintf(m, sizeof(m), "HTTP status %d", c->c_http_status);
		acall_finish(c, c->c_http_status == 503 ? GRPC_UNAVAILABLE :
		    GRPC_UNKNOWN, m);
	} else
		acall_finish(c, GRPC_INTERNAL,
		    "stream ended without grpc-status");
}
