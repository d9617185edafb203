/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The HTTP/2 side of a connection: an nghttp2 server session fed from
 * and flushed to the connection's bufferevent, and one struct
 * grpc_call per stream.
 *
 * Responses go through an nghttp2 data provider reading the stream's
 * queue (c_out).  The provider defers when the queue is empty, so
 * nghttp2 sends data only as flow control allows and the queue, capped
 * by the server's per-stream limit, is the only buffering.  When the
 * call is finished and the queue empty, the provider ends the data
 * without END_STREAM and submits the status trailers.
 */

#include <sys/queue.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "grpc_int.h"

#define CALL_HEADERS_SENT	0x01	/* response HEADERS submitted */
#define CALL_FINISHED		0x02	/* status set, no more sends */
#define CALL_CANCELLED		0x04	/* cancel callback has run */
#define CALL_REMOTE_CLOSED	0x08	/* client half-closed */
#define CALL_DEFERRED		0x10	/* data provider waiting */
#define CALL_DISPATCHED		0x20	/* the handler holds the call */
#define CALL_DRAIN_WANTED	0x40	/* queue went above half its limit */
#define CALL_DRAIN_PENDING	0x80	/* ... and fell below it again */

#define CALL_DEADLINE_MAX	(365ULL * 24 * 3600 * 1000000)	/* usec */

struct grpc_meta {
	SLIST_ENTRY(grpc_meta)	 m_entry;
	char			*m_name;
	char			*m_value;
};

struct grpc_call {
	TAILQ_ENTRY(grpc_call)	 c_entry;
	struct grpc_conn	*c_conn;
	int32_t			 c_sid;
	int			 c_flags;
	struct grpc_method	*c_method;
	/* request headers */
	char			*c_path;
	size_t			 c_hdrbytes;
	int			 c_post;
	int			 c_grpc_ct;
	int			 c_te;
	int			 c_bad_timeout;
	int			 c_bad_encoding;
	uint64_t		 c_timeout;	/* usec, 0 = none */
	SLIST_HEAD(, grpc_meta)	 c_meta;
	/* request body */
	struct grpc_frame	 c_frame;
	uint8_t			*c_req;
	size_t			 c_reqlen;
	int			 c_nreq;
	/* response */
	struct evbuffer		*c_out;
	int			 c_status;
	char			*c_message;	/* percent-encoded */
	struct event		*c_deadline;
	grpc_cancel_fn		*c_cancel;
	void			*c_cancel_arg;
	grpc_drain_fn		*c_drain;
	void			*c_drain_arg;
	void			*c_data;
};

static int	 cb_begin_headers(nghttp2_session *, const nghttp2_frame *,
		    void *);
static int	 cb_header(nghttp2_session *, const nghttp2_frame *,
		    const uint8_t *, size_t, const uint8_t *, size_t, uint8_t,
		    void *);
static int	 cb_frame_recv(nghttp2_session *, const nghttp2_frame *,
		    void *);
static int	 cb_data_chunk(nghttp2_session *, uint8_t, int32_t,
		    const uint8_t *, size_t, void *);
static int	 cb_stream_close(nghttp2_session *, int32_t, uint32_t, void *);
static int	 cb_frame_send(nghttp2_session *, const nghttp2_frame *,
		    void *);
static ssize_t	 cb_data_read(nghttp2_session *, int32_t, uint8_t *, size_t,
		    uint32_t *, nghttp2_data_source *, void *);
static int	 call_store_header(struct grpc_call *, const char *,
		    const char *, size_t);
static int	 call_add_meta(struct grpc_call *, const char *, const char *);
static void	 call_begin(struct grpc_call *);
static int	 call_check(struct grpc_call *);
static void	 call_remote_end(struct grpc_call *);
static void	 call_data(struct grpc_call *, const uint8_t *, size_t);
static int	 call_on_msg(const uint8_t *, size_t, void *);
static void	 call_dispatch(struct grpc_call *, const uint8_t *, size_t);
static void	 call_abort(struct grpc_call *, int, const char *);
static void	 call_end(struct grpc_call *, int, const char *);
static void	 call_wake(struct grpc_call *);
static void	 call_reply_http(struct grpc_call *, const char *);
static void	 call_trailers_only(struct grpc_call *, const char *, int,
		    const char *);
static int	 call_submit_trailers(struct grpc_call *);
static void	 call_deadline(evutil_socket_t, short, void *);
static void	 call_close(struct grpc_call *);
static void	 call_free(struct grpc_call *);
static int	 session_run_drains(struct grpc_conn *);

#define NV(n, v)	{ (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, \
			    strlen(v), NGHTTP2_NV_FLAG_NONE }

/* ---- session ---- */

int
grpc_call_session_new(struct grpc_conn *gc)
{
	nghttp2_session_callbacks	*cbs;
	nghttp2_settings_entry		 iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, GRPC_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GRPC_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, GRPC_HEADERS_MAX },
	};
	int				 rv;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs,
	    cb_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
	    cb_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    cb_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
	    cb_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs,
	    cb_frame_send);
	rv = nghttp2_session_server_new(&gc->gc_h2, cbs, gc);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0) {
		gc->gc_h2 = NULL;
		return -1;
	}
	if (nghttp2_submit_settings(gc->gc_h2, NGHTTP2_FLAG_NONE, iv,
	    sizeof(iv) / sizeof(*iv)) != 0 ||
	    nghttp2_session_set_local_window_size(gc->gc_h2,
	    NGHTTP2_FLAG_NONE, 0, GRPC_CONN_WINDOW) != 0)
		return -1;
	bufferevent_setwatermark(gc->gc_bev, EV_WRITE, GRPC_OUT_LOW, 0);
	return 0;
}

void
grpc_call_session_free(struct grpc_conn *gc)
{
	struct grpc_call	*c;

	while ((c = TAILQ_FIRST(&gc->gc_calls)) != NULL)
		call_close(c);
	if (gc->gc_h2 != NULL)
		nghttp2_session_del(gc->gc_h2);
	gc->gc_h2 = NULL;
}

/* Feeds everything read; -1 if the session is beyond repair. */
int
grpc_call_session_recv(struct grpc_conn *gc, struct evbuffer *in)
{
	size_t		 len;
	ssize_t		 rv;
	uint8_t		*p;

	while ((len = evbuffer_get_contiguous_space(in)) > 0) {
		p = evbuffer_pullup(in, len);
		rv = nghttp2_session_mem_recv(gc->gc_h2, p, len);
		evbuffer_drain(in, len);
		if (rv < 0) {
			log_debug("grpc: h2 receive: %s",
			    nghttp2_strerror((int)rv));
			return -1;
		}
	}
	return 0;
}

/*
 * Moves nghttp2's output to the bufferevent while it holds less than
 * GRPC_OUT_HIGH; the write callback (low watermark) brings us back.
 * Returns -1 when the connection should go now.
 */
int
grpc_call_session_flush(struct grpc_conn *gc)
{
	struct evbuffer	*out = bufferevent_get_output(gc->gc_bev);
	const uint8_t	*p;
	ssize_t		 n;

	for (;;) {
		while (evbuffer_get_length(out) < GRPC_OUT_HIGH) {
			if ((n = nghttp2_session_mem_send(gc->gc_h2, &p)) < 0) {
				log_debug("grpc: h2 send: %s",
				    nghttp2_strerror((int)n));
				return -1;
			}
			if (n == 0)
				break;
			if (bufferevent_write(gc->gc_bev, p, (size_t)n) != 0)
				return -1;
		}
		if (!session_run_drains(gc))
			break;
	}
	if (nghttp2_session_want_read(gc->gc_h2) ||
	    nghttp2_session_want_write(gc->gc_h2))
		return 0;
	/* Finished (GOAWAY exchanged, no streams): close once flushed. */
	if (evbuffer_get_length(out) == 0)
		return -1;
	gc->gc_closing = 1;
	bufferevent_setwatermark(gc->gc_bev, EV_WRITE, 0, 0);
	return 0;
}

/* Runs drain callbacks that became due; 1 if any ran. */
static int
session_run_drains(struct grpc_conn *gc)
{
	struct grpc_call	*c;
	int			 ran = 0;

	TAILQ_FOREACH(c, &gc->gc_calls, c_entry) {
		if (!(c->c_flags & CALL_DRAIN_PENDING))
			continue;
		c->c_flags &= ~CALL_DRAIN_PENDING;
		if (c->c_drain != NULL &&
		    !(c->c_flags & (CALL_FINISHED | CALL_CANCELLED))) {
			c->c_drain(c, c->c_drain_arg);
			ran = 1;
		}
	}
	return ran;
}

void
grpc_call_session_goaway(struct grpc_conn *gc)
{
	nghttp2_submit_goaway(gc->gc_h2, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(gc->gc_h2),
	    NGHTTP2_NO_ERROR, NULL, 0);
}

/* ---- nghttp2 callbacks ---- */

static int
cb_begin_headers(nghttp2_session *h2, const nghttp2_frame *frame, void *arg)
{
	struct grpc_conn	*gc = arg;
	struct grpc_call	*c;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->c_out = evbuffer_new()) == NULL) {
		free(c);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	c->c_conn = gc;
	c->c_sid = frame->hd.stream_id;
	SLIST_INIT(&c->c_meta);
	grpc_frame_init(&c->c_frame, gc->gc_srv->gs_max_msg);
	TAILQ_INSERT_TAIL(&gc->gc_calls, c, c_entry);
	nghttp2_session_set_stream_user_data(h2, c->c_sid, c);
	return 0;
}

static int
cb_header(nghttp2_session *h2, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *arg)
{
	struct grpc_call	*c;

	(void)flags;
	(void)arg;
	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;	/* request trailers carry nothing for us */
	c = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
	if (c == NULL)
		return 0;
	c->c_hdrbytes += namelen + valuelen + 32;
	if (c->c_hdrbytes > GRPC_HEADERS_MAX)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	/* nghttp2 guarantees NUL-terminated, validated name and value. */
	if (call_store_header(c, (const char *)name, (const char *)value,
	    valuelen) != 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int
call_store_header(struct grpc_call *c, const char *name, const char *value,
    size_t valuelen)
{
	const char	*rest;
	uint64_t	 us;

	if (strcmp(name, ":method") == 0)
		c->c_post = strcmp(value, "POST") == 0;
	else if (strcmp(name, ":path") == 0) {
		free(c->c_path);
		if ((c->c_path = strndup(value, valuelen)) == NULL)
			return -1;
	} else if (strcmp(name, "content-type") == 0) {
		rest = value + strlen("application/grpc");
		c->c_grpc_ct = strncmp(value, "application/grpc",
		    strlen("application/grpc")) == 0 &&
		    (*rest == '\0' || *rest == '+' || *rest == ';');
	} else if (strcmp(name, "te") == 0)
		c->c_te = strstr(value, "trailers") != NULL;
	else if (strcmp(name, "grpc-timeout") == 0) {
		if (grpc_wire_timeout_parse(value, &us) != 0)
			c->c_bad_timeout = 1;
		else
			c->c_timeout = us ? us : 1;
	} else if (strcmp(name, "grpc-encoding") == 0)
		c->c_bad_encoding = strcmp(value, "identity") != 0;
	else if (name[0] != ':')
		return call_add_meta(c, name, value);
	return 0;
}

static int
call_add_meta(struct grpc_call *c, const char *name, const char *value)
{
	struct grpc_meta	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	if ((m->m_name = strdup(name)) == NULL ||
	    (m->m_value = strdup(value)) == NULL) {
		free(m->m_name);
		free(m);
		return -1;
	}
	SLIST_INSERT_HEAD(&c->c_meta, m, m_entry);
	return 0;
}

static int
cb_frame_recv(nghttp2_session *h2, const nghttp2_frame *frame, void *arg)
{
	struct grpc_call	*c;

	(void)arg;
	if (frame->hd.type != NGHTTP2_HEADERS &&
	    frame->hd.type != NGHTTP2_DATA)
		return 0;
	c = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
	if (c == NULL)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS &&
	    frame->headers.cat == NGHTTP2_HCAT_REQUEST)
		call_begin(c);
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
		call_remote_end(c);
	return 0;
}

static int
cb_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t sid,
    const uint8_t *data, size_t len, void *arg)
{
	struct grpc_call	*c;

	(void)flags;
	(void)arg;
	if ((c = nghttp2_session_get_stream_user_data(h2, sid)) != NULL)
		call_data(c, data, len);
	return 0;
}

static int
cb_stream_close(nghttp2_session *h2, int32_t sid, uint32_t err, void *arg)
{
	struct grpc_call	*c;

	(void)err;
	(void)arg;
	if ((c = nghttp2_session_get_stream_user_data(h2, sid)) != NULL) {
		nghttp2_session_set_stream_user_data(h2, sid, NULL);
		call_close(c);
	}
	return 0;
}

/*
 * After our final HEADERS (END_STREAM) the client may still be
 * sending; tell it to stop, as gRPC servers do, so the stream closes.
 */
static int
cb_frame_send(nghttp2_session *h2, const nghttp2_frame *frame, void *arg)
{
	struct grpc_call	*c;

	(void)arg;
	if (frame->hd.type != NGHTTP2_HEADERS ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	c = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
	if (c != NULL && !(c->c_flags & CALL_REMOTE_CLOSED))
		nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, c->c_sid,
		    NGHTTP2_NO_ERROR);
	return 0;
}

static ssize_t
cb_data_read(nghttp2_session *h2, int32_t sid, uint8_t *buf, size_t len,
    uint32_t *dflags, nghttp2_data_source *src, void *arg)
{
	struct grpc_call	*c = src->ptr;
	size_t			 limit = c->c_conn->gc_srv->gs_queue_limit;
	int			 n;

	(void)h2;
	(void)sid;
	(void)arg;
	if (len > INT_MAX)
		len = INT_MAX;
	if ((n = evbuffer_remove(c->c_out, buf, len)) < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if ((c->c_flags & CALL_DRAIN_WANTED) &&
	    evbuffer_get_length(c->c_out) < limit / 2) {
		c->c_flags &= ~CALL_DRAIN_WANTED;
		c->c_flags |= CALL_DRAIN_PENDING;
	}
	if (evbuffer_get_length(c->c_out) > 0)
		return n;
	if (!(c->c_flags & CALL_FINISHED)) {
		if (n > 0)
			return n;
		c->c_flags |= CALL_DEFERRED;
		return NGHTTP2_ERR_DEFERRED;
	}
	*dflags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
	if (call_submit_trailers(c) != 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return n;
}

/* ---- request side ---- */

static void
call_begin(struct grpc_call *c)
{
	struct timeval	 tv;
	uint64_t	 us;

	if (call_check(c) != 0)
		return;
	if (c->c_timeout == 0)
		return;
	us = c->c_timeout < CALL_DEADLINE_MAX ? c->c_timeout :
	    CALL_DEADLINE_MAX;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	c->c_deadline = evtimer_new(c->c_conn->gc_srv->gs_base,
	    call_deadline, c);
	if (c->c_deadline == NULL || evtimer_add(c->c_deadline, &tv) != 0)
		call_end(c, GRPC_INTERNAL, "cannot arm deadline");
}

/* Validates the request headers; answers and returns -1 if bad. */
static int
call_check(struct grpc_call *c)
{
	if (!c->c_grpc_ct) {
		call_reply_http(c, "415");
		return -1;
	}
	if (!c->c_post) {
		call_reply_http(c, "405");
		return -1;
	}
	if (!c->c_te) {
		/* Something between us and the client drops trailers. */
		call_trailers_only(c, "400", GRPC_INTERNAL,
		    "request lacks \"te: trailers\"");
		return -1;
	}
	if (c->c_path == NULL || (c->c_method =
	    grpc_server_lookup(c->c_conn->gc_srv, c->c_path)) == NULL) {
		call_end(c, GRPC_UNIMPLEMENTED, "unknown method");
		return -1;
	}
	if (c->c_bad_timeout) {
		call_end(c, GRPC_INTERNAL, "malformed grpc-timeout");
		return -1;
	}
	if (c->c_bad_encoding) {
		call_end(c, GRPC_UNIMPLEMENTED,
		    "unsupported grpc-encoding (identity only)");
		return -1;
	}
	return 0;
}

static void
call_data(struct grpc_call *c, const uint8_t *data, size_t len)
{
	char	 msg[128];
	int	 rv;

	if (c->c_flags & (CALL_FINISHED | CALL_CANCELLED) ||
	    c->c_method == NULL)
		return;
	rv = grpc_frame_feed(&c->c_frame, data, len, call_on_msg, c);
	switch (rv) {
	case GRPC_FRAME_OK:
	case GRPC_FRAME_ECALLBACK:
		break;
	case GRPC_FRAME_ETOOBIG:
		snprintf(msg, sizeof(msg), "request message larger than "
		    "the limit of %zu bytes", c->c_conn->gc_srv->gs_max_msg);
		call_abort(c, GRPC_RESOURCE_EXHAUSTED, msg);
		break;
	default:
		call_abort(c, GRPC_INTERNAL, grpc_frame_strerror(rv));
		break;
	}
}

static int
call_on_msg(const uint8_t *msg, size_t len, void *arg)
{
	struct grpc_call	*c = arg;
	enum grpc_kind		 kind = c->c_method->gm_kind;

	if (c->c_flags & (CALL_FINISHED | CALL_CANCELLED))
		return -1;
	if (kind == GRPC_CLIENT_STREAM || kind == GRPC_BIDI_STREAM) {
		call_dispatch(c, msg, len);
		return c->c_flags & (CALL_FINISHED | CALL_CANCELLED) ? -1 : 0;
	}
	if (c->c_nreq++ > 0) {
		call_end(c, GRPC_INTERNAL, "more than one request message");
		return -1;
	}
	if ((c->c_req = malloc(len ? len : 1)) == NULL) {
		call_end(c, GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return -1;
	}
	memcpy(c->c_req, msg, len);
	c->c_reqlen = len;
	return 0;
}

static void
call_remote_end(struct grpc_call *c)
{
	enum grpc_kind	 kind;

	c->c_flags |= CALL_REMOTE_CLOSED;
	if (c->c_flags & (CALL_FINISHED | CALL_CANCELLED) ||
	    c->c_method == NULL)
		return;
	if (grpc_frame_partial(&c->c_frame)) {
		call_abort(c, GRPC_INTERNAL, "truncated request message");
		return;
	}
	kind = c->c_method->gm_kind;
	if (kind == GRPC_CLIENT_STREAM || kind == GRPC_BIDI_STREAM) {
		call_dispatch(c, NULL, 0);
		return;
	}
	if (c->c_nreq != 1) {
		call_end(c, GRPC_INTERNAL, "no request message");
		return;
	}
	call_dispatch(c, c->c_req, c->c_reqlen);
	free(c->c_req);
	c->c_req = NULL;
}

static void
call_dispatch(struct grpc_call *c, const uint8_t *msg, size_t len)
{
	c->c_flags |= CALL_DISPATCHED;
	c->c_method->gm_fn(c, msg, len, c->c_method->gm_arg);
}

static void
call_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct grpc_call	*c = arg;
	struct grpc_conn	*gc = c->c_conn;

	(void)fd;
	(void)ev;
	grpc_conn_enter(gc);
	call_abort(c, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
	grpc_conn_leave(gc);
}

/* ---- response side ---- */

/* Ends a call the handler may hold: it hears of it first. */
static void
call_abort(struct grpc_call *c, int status, const char *message)
{
	if (c->c_flags & CALL_FINISHED)
		return;
	if ((c->c_flags & CALL_DISPATCHED) &&
	    !(c->c_flags & CALL_CANCELLED)) {
		c->c_flags |= CALL_CANCELLED;
		if (c->c_cancel != NULL)
			c->c_cancel(c, c->c_cancel_arg);
	}
	call_end(c, status, message);
}

static void
call_end(struct grpc_call *c, int status, const char *message)
{
	char	 enc[GRPC_MESSAGE_ENC_MAX];

	if (c->c_flags & CALL_FINISHED)
		return;
	c->c_flags |= CALL_FINISHED;
	c->c_status = status;
	if (message != NULL && *message != '\0') {
		grpc_wire_pct_encode(message, enc);
		c->c_message = strdup(enc);
	}
	if (c->c_deadline != NULL)
		evtimer_del(c->c_deadline);
	if (!(c->c_flags & CALL_HEADERS_SENT) &&
	    evbuffer_get_length(c->c_out) == 0) {
		call_trailers_only(c, "200", status, c->c_message);
		return;
	}
	call_wake(c);
}

/* Makes nghttp2 look at the stream's queue again. */
static void
call_wake(struct grpc_call *c)
{
	nghttp2_session		*h2 = c->c_conn->gc_h2;
	nghttp2_data_provider	 prd;
	nghttp2_nv		 nva[] = {
		NV(":status", "200"),
		NV("content-type", "application/grpc"),
	};

	if (!(c->c_flags & CALL_HEADERS_SENT)) {
		c->c_flags |= CALL_HEADERS_SENT;
		prd.source.ptr = c;
		prd.read_callback = cb_data_read;
		if (nghttp2_submit_response(h2, c->c_sid, nva,
		    sizeof(nva) / sizeof(*nva), &prd) != 0)
			nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE,
			    c->c_sid, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	if (c->c_flags & CALL_DEFERRED) {
		c->c_flags &= ~CALL_DEFERRED;
		nghttp2_session_resume_data(h2, c->c_sid);
	}
}

static int
call_submit_trailers(struct grpc_call *c)
{
	char		 code[16];
	nghttp2_nv	 nva[2] = { NV("grpc-status", "") };
	size_t		 n = 1;

	snprintf(code, sizeof(code), "%d", c->c_status);
	nva[0].value = (uint8_t *)code;
	nva[0].valuelen = strlen(code);
	if (c->c_message != NULL) {
		nva[1] = (nghttp2_nv)NV("grpc-message", c->c_message);
		n = 2;
	}
	return nghttp2_submit_trailer(c->c_conn->gc_h2, c->c_sid, nva, n);
}

/* One HEADERS frame with END_STREAM: status and outcome together. */
static void
call_trailers_only(struct grpc_call *c, const char *http_status, int status,
    const char *message)
{
	char		 code[16];
	nghttp2_nv	 nva[5] = {
		NV(":status", http_status),
		NV("content-type", "application/grpc"),
		NV("grpc-status", ""),
	};
	size_t		 n = 3;
	char		 enc[GRPC_MESSAGE_ENC_MAX];

	c->c_flags |= CALL_FINISHED | CALL_HEADERS_SENT;
	snprintf(code, sizeof(code), "%d", status);
	nva[2].value = (uint8_t *)code;
	nva[2].valuelen = strlen(code);
	if (message != NULL && message != c->c_message) {
		grpc_wire_pct_encode(message, enc);
		message = enc;
	}
	if (message != NULL)
		nva[n++] = (nghttp2_nv)NV("grpc-message", message);
	if (status == GRPC_UNIMPLEMENTED && c->c_bad_encoding)
		nva[n++] = (nghttp2_nv)NV("grpc-accept-encoding", "identity");
	if (nghttp2_submit_response(c->c_conn->gc_h2, c->c_sid, nva, n,
	    NULL) != 0)
		nghttp2_submit_rst_stream(c->c_conn->gc_h2, NGHTTP2_FLAG_NONE,
		    c->c_sid, NGHTTP2_INTERNAL_ERROR);
}

/* Not gRPC at all: a bare HTTP status, as the gRPC spec asks. */
static void
call_reply_http(struct grpc_call *c, const char *status)
{
	nghttp2_nv	 nva[] = { NV(":status", status) };

	c->c_flags |= CALL_FINISHED | CALL_HEADERS_SENT;
	if (nghttp2_submit_response(c->c_conn->gc_h2, c->c_sid, nva, 1,
	    NULL) != 0)
		nghttp2_submit_rst_stream(c->c_conn->gc_h2, NGHTTP2_FLAG_NONE,
		    c->c_sid, NGHTTP2_INTERNAL_ERROR);
}

/* The stream is gone (or the connection): tell a holder, then free. */
static void
call_close(struct grpc_call *c)
{
	if ((c->c_flags & CALL_DISPATCHED) &&
	    !(c->c_flags & (CALL_FINISHED | CALL_CANCELLED))) {
		c->c_flags |= CALL_CANCELLED;
		if (c->c_cancel != NULL)
			c->c_cancel(c, c->c_cancel_arg);
	}
	TAILQ_REMOVE(&c->c_conn->gc_calls, c, c_entry);
	call_free(c);
}

static void
call_free(struct grpc_call *c)
{
	struct grpc_meta	*m;

	while ((m = SLIST_FIRST(&c->c_meta)) != NULL) {
		SLIST_REMOVE_HEAD(&c->c_meta, m_entry);
		free(m->m_name);
		free(m->m_value);
		free(m);
	}
	if (c->c_deadline != NULL)
		event_free(c->c_deadline);
	grpc_frame_free(&c->c_frame);
	evbuffer_free(c->c_out);
	free(c->c_req);
	free(c->c_path);
	free(c->c_message);
	free(c);
}

/* ---- public call API ---- */

const char *
grpc_call_path(const struct grpc_call *c)
{
	return c->c_path;
}

const char *
grpc_call_peer_cn(const struct grpc_call *c)
{
	return c->c_conn->gc_cn;
}

const char *
grpc_call_metadata(const struct grpc_call *c, const char *key)
{
	struct grpc_meta	*m;

	SLIST_FOREACH(m, &c->c_meta, m_entry)
		if (strcmp(m->m_name, key) == 0)
			return m->m_value;
	return NULL;
}

size_t
grpc_call_queued(const struct grpc_call *c)
{
	return evbuffer_get_length(c->c_out);
}

int
grpc_call_send(struct grpc_call *c, const void *msg, size_t len)
{
	struct grpc_conn	*gc = c->c_conn;
	size_t			 limit = gc->gc_srv->gs_queue_limit;
	size_t			 queued = evbuffer_get_length(c->c_out);
	uint8_t			 hdr[GRPC_FRAME_HDR];

	if (c->c_flags & (CALL_FINISHED | CALL_CANCELLED))
		return -1;
	if (len > UINT32_MAX || len + GRPC_FRAME_HDR > limit - queued ||
	    queued > limit) {
		c->c_flags |= CALL_DRAIN_WANTED;
		return -1;
	}
	grpc_frame_prefix(hdr, (uint32_t)len);
	if (evbuffer_expand(c->c_out, len + GRPC_FRAME_HDR) != 0 ||
	    evbuffer_add(c->c_out, hdr, sizeof(hdr)) != 0 ||
	    evbuffer_add(c->c_out, msg, len) != 0)
		return -1;
	if (evbuffer_get_length(c->c_out) >= limit / 2)
		c->c_flags |= CALL_DRAIN_WANTED;
	grpc_conn_enter(gc);
	call_wake(c);
	grpc_conn_leave(gc);
	return 0;
}

void
grpc_call_finish(struct grpc_call *c, int status, const char *message)
{
	struct grpc_conn	*gc = c->c_conn;

	if (c->c_flags & (CALL_FINISHED | CALL_CANCELLED))
		return;
	grpc_conn_enter(gc);
	call_end(c, status, message);
	grpc_conn_leave(gc);
}

void
grpc_call_on_cancel(struct grpc_call *c, grpc_cancel_fn *fn, void *arg)
{
	c->c_cancel = fn;
	c->c_cancel_arg = arg;
}

void
grpc_call_on_drain(struct grpc_call *c, grpc_drain_fn *fn, void *arg)
{
	c->c_drain = fn;
	c->c_drain_arg = arg;
}

void
grpc_call_set_data(struct grpc_call *c, void *data)
{
	c->c_data = data;
}

void *
grpc_call_data(const struct grpc_call *c)
{
	return c->c_data;
}
