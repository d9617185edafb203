/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The agent's side of a tunnel (sandbox.md §6.2, §6.5): TLS with the
 * inference.local leaf proxyd sent, then one request at a time: the
 * head (proxyd's strict parser), the whole body (at most 10 MiB
 * decoded), classification, a route, and the answer from a backend
 * (upstream.c) or a mock (mock.c).  Our own answers are small JSON
 * objects; a request that is not inference gets 403 and, if nothing
 * was routed on the tunnel yet, the tunnel ends.
 */

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>

#include "log.h"

#include "routerd.h"

enum {
	T_HANDSHAKE,
	T_HEAD,
	T_BODY,
	T_BUSY,		/* a request is being answered */
	T_LINGER	/* a final reply drains, then close */
};

struct tunnel {
	TAILQ_ENTRY(tunnel)	 t_entry;
	struct routerd		*t_rd;
	struct bufferevent	*t_bev;
	struct event		*t_timer;
	char			 t_src[64];
	uint16_t		 t_sport;
	int			 t_state;
	int			 t_routed;	/* a request was routed */
	int			 t_headtimer;	/* head bytes seen */
	int			 t_plain;	/* HTTP/1.0: no chunking */
	int			 t_havereq;
	struct http_req		 t_req;
	char			 t_path[256];	/* for log lines */
	struct evbuffer		*t_raw;		/* the body as received */
	unsigned char		*t_body;	/* decoded chunked body */
	const char		*t_proto;
	const char		*t_kind;
	struct route_table	*t_table;	/* held while busy */
	const struct route	*t_route;
	struct upstream		*t_up;
};

static const unsigned char serve_h11[] = "\x08http/1.1";

static int	 serve_alpn(SSL *, const unsigned char **, unsigned char *,
		    const unsigned char *, unsigned int, void *);
static SSL_CTX	*serve_ctx_make(const char *, const char *);
static void	 serve_read_cb(struct bufferevent *, void *);
static void	 serve_write_cb(struct bufferevent *, void *);
static void	 serve_event_cb(struct bufferevent *, short, void *);
static void	 serve_timer_cb(evutil_socket_t, short, void *);
static void	 serve_timer(struct tunnel *, int);
static void	 serve_input(struct tunnel *);
static int	 serve_head(struct tunnel *);
static int	 serve_body(struct tunnel *);
static void	 serve_dispatch(struct tunnel *);
static int	 serve_decode(struct tunnel *, const unsigned char **,
		    size_t *);
static void	 serve_route(struct tunnel *, const unsigned char *, size_t);
static void	 serve_deny(struct tunnel *, int, const char *, const char *,
		    int);
static void	 serve_req_clear(struct tunnel *);
static void	 serve_linger(struct tunnel *);
static void	 serve_free(struct tunnel *);
static const char *serve_reason(int);

/*
 * ALPN as proxyd answers it: http/1.1 when offered; a client offering
 * only others (h2) gets no_application_protocol; none offered: none.
 */
static int
serve_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, serve_h11,
	    sizeof(serve_h11) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* A server context from the leaf PEM (leaf, then its chain) and key. */
static SSL_CTX *
serve_ctx_make(const char *cert, const char *key)
{
	SSL_CTX		*ctx;
	BIO		*b = NULL;
	X509		*x;
	EVP_PKEY	*k = NULL;
	int		 ok = 0, n = 0;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_alpn_select_cb(ctx, serve_alpn, NULL);
	SSL_CTX_set_num_tickets(ctx, 1);
	if ((b = BIO_new_mem_buf(cert, -1)) == NULL)
		goto done;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (n++ == 0) {
			ok = SSL_CTX_use_certificate(ctx, x) == 1;
			X509_free(x);
		} else if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
			X509_free(x);
	}
	BIO_free(b);
	if (!ok || (b = BIO_new_mem_buf(key, -1)) == NULL ||
	    (k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		ok = 0;
done:
	BIO_free(b);
	EVP_PKEY_free(k);
	ERR_clear_error();
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * The same leaf comes with every tunnel until proxyd restarts: the
 * context is made once and again only when the PEM changes.  Tunnels
 * already up keep theirs (each SSL holds a reference).
 */
int
serve_ctx(struct routerd *rd, const char *cert, const char *key)
{
	SSL_CTX	*ctx;
	char	*pem;

	if (rd->rd_server != NULL && strcmp(rd->rd_certpem, cert) == 0)
		return 0;
	if ((ctx = serve_ctx_make(cert, key)) == NULL)
		return -1;
	if ((pem = strdup(cert)) == NULL) {
		SSL_CTX_free(ctx);
		return -1;
	}
	SSL_CTX_free(rd->rd_server);
	free(rd->rd_certpem);
	rd->rd_server = ctx;
	rd->rd_certpem = pem;
	log_info("inference.local leaf loaded");
	return 0;
}

/*
 * A tunnel from proxyd: fd is ours; it is closed here on every error
 * or belongs to the tunnel's bufferevent (BEV_OPT_CLOSE_ON_FREE).
 */
void
serve_tunnel(struct routerd *rd, int fd, const char *src, uint16_t port)
{
	struct tunnel	*t = NULL;
	SSL		*ssl = NULL;

	if (!rd->rd_routes->rt_enabled) {
		log_info("Inference interception denied: no inference "
		    "context (tunnel from %s:%u closed)", src, port);
		close(fd);
		return;
	}
	if (rd->rd_ntunnels >= ROUTER_MAX_TUNNELS) {
		log_warnx("tunnel from %s:%u: %d tunnels open, closed", src,
		    port, ROUTER_MAX_TUNNELS);
		close(fd);
		return;
	}
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (t = calloc(1, sizeof(*t))) == NULL ||
	    (t->t_raw = evbuffer_new()) == NULL ||
	    (t->t_timer = evtimer_new(rd->rd_base, serve_timer_cb, t)) ==
	    NULL || (ssl = SSL_new(rd->rd_server)) == NULL ||
	    (t->t_bev = bufferevent_openssl_socket_new(rd->rd_base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		log_warnx("tunnel from %s:%u: out of resources", src, port);
		SSL_free(ssl);
		if (t != NULL) {
			if (t->t_raw != NULL)
				evbuffer_free(t->t_raw);
			if (t->t_timer != NULL)
				event_free(t->t_timer);
			free(t);
		}
		close(fd);
		ERR_clear_error();
		return;
	}
	t->t_rd = rd;
	strlcpy(t->t_src, src, sizeof(t->t_src));
	t->t_sport = port;
	t->t_state = T_HANDSHAKE;
	TAILQ_INSERT_TAIL(&rd->rd_tunnels, t, t_entry);
	rd->rd_ntunnels++;
	rd->rd_st.st_total++;
	/* The agent may close without close_notify; HTTP frames. */
	bufferevent_openssl_set_allow_dirty_shutdown(t->t_bev, 1);
	bufferevent_setcb(t->t_bev, serve_read_cb, serve_write_cb,
	    serve_event_cb, t);
	bufferevent_enable(t->t_bev, EV_READ | EV_WRITE);
	serve_timer(t, ROUTER_HEAD_TIMEOUT);
	log_debug("tunnel from %s:%u", src, port);
}

static void
serve_timer(struct tunnel *t, int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (secs == 0)
		evtimer_del(t->t_timer);
	else
		evtimer_add(t->t_timer, &tv);
}

static void
serve_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct tunnel	*t = arg;

	(void)fd;
	(void)ev;
	if (t->t_state == T_HANDSHAKE || (t->t_state == T_HEAD &&
	    t->t_headtimer) || t->t_state == T_BODY)
		log_info("tunnel from %s:%u: request timed out", t->t_src,
		    t->t_sport);
	else if (t->t_state == T_HEAD)
		log_debug("tunnel from %s:%u: idle, closed", t->t_src,
		    t->t_sport);
	serve_free(t);
}

static void
serve_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	serve_input(arg);
}

static void
serve_write_cb(struct bufferevent *bev, void *arg)
{
	struct tunnel	*t = arg;
	SSL		*ssl;
	struct timeval	 tv = { ROUTER_LINGER, 0 };

	if (t->t_state == T_BUSY && t->t_up != NULL &&
	    evbuffer_get_length(bufferevent_get_output(bev)) <
	    ROUTER_OUT_HIGH / 2)
		upstream_resume(t->t_up);
	if (t->t_state != T_LINGER ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	/*
	 * All out: close_notify and our FIN, then read until the agent
	 * closes too, so unread request bytes never turn our close into
	 * a reset that could destroy the reply in flight.
	 */
	if ((ssl = bufferevent_openssl_get_ssl(bev)) != NULL)
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
	(void)shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_setcb(bev, serve_read_cb, NULL, serve_event_cb, t);
	evtimer_add(t->t_timer, &tv);
}

static void
serve_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tunnel	*t = arg;
	unsigned long	 e;
	char		 buf[256] = "";

	if (what & BEV_EVENT_CONNECTED) {
		t->t_state = T_HEAD;
		serve_timer(t, ROUTER_IDLE_TIMEOUT);
		serve_input(t);
		return;
	}
	if (t->t_state == T_HANDSHAKE) {
		while ((e = bufferevent_get_openssl_error(bev)) != 0)
			ERR_error_string_n(e, buf, sizeof(buf));
		log_info("tunnel from %s:%u: agent TLS handshake failed: %s",
		    t->t_src, t->t_sport, buf[0] ? buf : "closed");
	} else if (t->t_state == T_BUSY)
		log_info("tunnel from %s:%u: the agent went away during a "
		    "request", t->t_src, t->t_sport);
	serve_free(t);
}

static void
serve_input(struct tunnel *t)
{
	struct evbuffer	*in = bufferevent_get_input(t->t_bev);

	if (t->t_state == T_LINGER) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (t->t_state == T_HEAD && serve_head(t) != 1)
		return;
	if (t->t_state == T_BODY && serve_body(t) == 1)
		serve_dispatch(t);
}

/* 1: a head was parsed (now T_BODY); 0: wait; -1: answered, ends. */
static int
serve_head(struct tunnel *t)
{
	struct evbuffer	*in = bufferevent_get_input(t->t_bev);
	size_t		 len = evbuffer_get_length(in), n, hl;
	unsigned char	*p;
	char		*o = NULL;
	const char	*e;
	ssize_t		 end;
	int		 rc;

	if (len == 0)
		return 0;
	if (!t->t_headtimer) {
		t->t_headtimer = 1;
		serve_timer(t, ROUTER_HEAD_TIMEOUT);
	}
	n = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	if ((p = evbuffer_pullup(in, (ssize_t)n)) == NULL)
		return 0;
	if ((end = http_head_end(p, n)) == 0)
		return 0;
	if (end == HTTP_TOO_BIG) {
		serve_deny(t, 431, "-", "request head too large", 1);
		return -1;
	}
	hl = (size_t)end;
	if (end < 0 || (rc = route_originform((const char *)p, hl, &o,
	    &hl)) == -1 || http_req_parse(rc == 0 ? (unsigned char *)o : p,
	    hl, &t->t_req) == -1) {
		free(o);
		serve_deny(t, 400, "-", "malformed request head", 1);
		return -1;
	}
	free(o);
	evbuffer_drain(in, (size_t)end);
	t->t_havereq = 1;
	t->t_plain = t->t_req.r_http10;
	t->t_state = T_BODY;
	if (route_path(t->t_req.r_head.h_target, t->t_path,
	    sizeof(t->t_path)) == -1)
		strlcpy(t->t_path, "(long)", sizeof(t->t_path));
	if (t->t_req.r_body.b_mode == BODY_LENGTH &&
	    t->t_req.r_body.b_left > ROUTER_BODY_MAX) {
		serve_deny(t, 413, t->t_path, "request body too large", 1);
		return -1;
	}
	/* The whole body is read first: let a waiting client send it. */
	e = parse_header(&t->t_req.r_head, "Expect");
	if (e != NULL && strcasecmp(e, "100-continue") == 0 &&
	    !t->t_req.r_body.b_done && !t->t_plain)
		bufferevent_write(t->t_bev, "HTTP/1.1 100 Continue\r\n\r\n",
		    25);
	return 1;
}

/* 1: the body is complete; 0: wait; -1: answered, ends. */
static int
serve_body(struct tunnel *t)
{
	struct evbuffer		*in = bufferevent_get_input(t->t_bev);
	struct body		*b = &t->t_req.r_body;
	struct evbuffer_iovec	 v;
	size_t			 n;

	while (!b->b_done && evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
		n = body_scan(b, v.iov_base, v.iov_len);
		if (b->b_err) {
			serve_deny(t, 400, t->t_path, "malformed chunked "
			    "body", 1);
			return -1;
		}
		if (n > 0) {
			evbuffer_remove_buffer(in, t->t_raw, n);
			serve_timer(t, ROUTER_HEAD_TIMEOUT);
		}
		if (evbuffer_get_length(t->t_raw) > ROUTER_RAW_MAX) {
			serve_deny(t, 413, t->t_path, "request body too "
			    "large", 1);
			return -1;
		}
		if (n == 0)
			break;
	}
	return b->b_done ? 1 : 0;
}

/* The body, decoded if chunked; -1: answered, ends. */
static int
serve_decode(struct tunnel *t, const unsigned char **bp, size_t *np)
{
	size_t		 n = evbuffer_get_length(t->t_raw);
	unsigned char	*raw = evbuffer_pullup(t->t_raw, -1);
	int		 rc;

	if (t->t_req.r_body.b_mode != BODY_CHUNKED) {
		*bp = raw;
		*np = n;
		return 0;
	}
	rc = route_dechunk(raw, n, ROUTER_BODY_MAX, &t->t_body, np);
	if (rc == ROUTE_TOO_BIG) {
		serve_deny(t, 413, t->t_path, "request body too large", 1);
		return -1;
	}
	if (rc != 0) {
		serve_deny(t, 400, t->t_path, "malformed chunked body", 1);
		return -1;
	}
	*bp = t->t_body;
	return 0;
}

/* A whole request is in: classify it, route it or say no. */
static void
serve_dispatch(struct tunnel *t)
{
	struct route_table	*rt = t->t_rd->rd_routes;
	const unsigned char	*body;
	size_t			 len;

	t->t_state = T_BUSY;
	serve_timer(t, 0);
	/* One request at a time: what follows waits in the socket. */
	bufferevent_disable(t->t_bev, EV_READ);
	if (serve_decode(t, &body, &len) == -1)
		return;
	if (route_classify(t->t_req.r_head.h_method,
	    t->t_req.r_head.h_target, &t->t_proto, &t->t_kind) == -1) {
		serve_deny(t, 403, t->t_path, "not an inference API request",
		    !t->t_routed);
		return;
	}
	if (!rt->rt_enabled) {
		log_info("Inference interception denied: no inference context "
		    "(tunnel from %s:%u closed)", t->t_src, t->t_sport);
		serve_free(t);
		return;
	}
	if (rt->rt_n == 0) {
		serve_deny(t, 503, t->t_path, "cluster inference is not "
		    "configured", 0);
		return;
	}
	if ((t->t_route = route_select(rt, t->t_proto)) == NULL) {
		serve_deny(t, 400, t->t_path, "no compatible inference route "
		    "available", 0);
		return;
	}
	t->t_table = route_table_ref(rt);
	t->t_routed = 1;
	t->t_rd->rd_st.st_routed++;
	serve_route(t, body, len);
}

static void
serve_route(struct tunnel *t, const unsigned char *body, size_t len)
{
	struct serve_req	 sr;

	memset(&sr, 0, sizeof(sr));
	sr.sr_method = t->t_req.r_head.h_method;
	sr.sr_target = t->t_req.r_head.h_target;
	sr.sr_path = t->t_path;
	sr.sr_proto = t->t_proto;
	sr.sr_kind = t->t_kind;
	sr.sr_route = t->t_route;
	sr.sr_head = &t->t_req.r_head;
	sr.sr_body = body;
	sr.sr_bodylen = len;
	if (mock_is(t->t_route)) {
		mock_reply(t, &sr);
		return;
	}
	if ((t->t_up = upstream_start(t->t_rd, t, &sr)) == NULL) {
		serve_upstream_error(t);
		serve_json(t, 502, "{\"error\":\"inference service error\"}",
		    0);
		serve_logroute(t, 502);
		serve_done(t);
	}
}

/*
 * A request refused by routerd itself: the JSON error of §6.5, one
 * log line; close: the tunnel ends after the reply.
 */
static void
serve_deny(struct tunnel *t, int status, const char *path,
    const char *reason, int close)
{
	const char	*json;

	t->t_rd->rd_st.st_denied++;
	log_info("inference denied method=%s path=%s reason=%s status=%d",
	    t->t_havereq ? t->t_req.r_head.h_method : "-", path, reason,
	    status);
	switch (status) {
	case 403:
		json = "{\"error\":\"connection not allowed by policy\"}";
		break;
	case 413:
		json = "{\"error\":\"payload too large\"}";
		break;
	case 431:
		json = "{\"error\":\"request header fields too large\"}";
		break;
	case 503:
		json = "{\"error\":\"cluster inference is not configured\","
		    "\"hint\":\"run: openshell inference set --provider "
		    "<name> --model <id>\"}";
		break;
	default:
		json = status == 400 && t->t_proto != NULL ? "{\"error\":"
		    "\"no compatible inference route available\"}" :
		    "{\"error\":\"bad request\"}";
		break;
	}
	serve_json(t, status, json, close);
	if (!close)
		serve_done(t);
}

static const char *
serve_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 413:
		return "Payload Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* A complete JSON reply; close: the tunnel ends once it is out. */
void
serve_json(struct tunnel *t, int status, const char *json, int close)
{
	struct evbuffer	*out = bufferevent_get_output(t->t_bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\ncontent-type: "
	    "application/json\r\ncontent-length: %zu\r\n%s\r\n%s", status,
	    serve_reason(status), strlen(json), close ? "connection: close\r\n"
	    : "", json);
	if (close)
		serve_linger(t);
}

/*
 * A streamed response's head: hdrs holds "name: value\r\n" lines
 * (or NULL); the body follows chunked (HTTP/1.0: close-delimited).
 */
void
serve_resp_head(struct tunnel *t, int status, const char *reason,
    struct evbuffer *hdrs)
{
	struct evbuffer	*out = bufferevent_get_output(t->t_bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
	    reason != NULL && *reason != '\0' ? reason : serve_reason(status));
	if (hdrs != NULL)
		evbuffer_add_buffer(out, hdrs);
	evbuffer_add_printf(out, "%s\r\n", t->t_plain ? "connection: close\r\n"
	    : "transfer-encoding: chunked\r\n");
}

void
serve_chunk(struct tunnel *t, const void *p, size_t n)
{
	struct evbuffer	*out = bufferevent_get_output(t->t_bev);

	if (n == 0)
		return;
	if (!t->t_plain)
		evbuffer_add_printf(out, "%zx\r\n", n);
	evbuffer_add(out, p, n);
	if (!t->t_plain)
		evbuffer_add(out, "\r\n", 2);
}

/* The clean end of a streamed body (never after an upstream error). */
void
serve_end(struct tunnel *t)
{
	if (!t->t_plain)
		bufferevent_write(t->t_bev, "0\r\n\r\n", 5);
}

/* Is the agent behind on reading? The backend pauses then. */
int
serve_backlog(struct tunnel *t)
{
	return evbuffer_get_length(bufferevent_get_output(t->t_bev)) >
	    ROUTER_OUT_HIGH;
}

void
serve_logroute(struct tunnel *t, int status)
{
	log_info("inference routed method=%s path=%s protocol=%s kind=%s "
	    "route=%s status=%d", t->t_req.r_head.h_method, t->t_path,
	    t->t_proto, t->t_kind, t->t_route->r_name, status);
}

void
serve_upstream_error(struct tunnel *t)
{
	t->t_rd->rd_st.st_upstream_err++;
}

static void
serve_req_clear(struct tunnel *t)
{
	if (t->t_up != NULL) {
		upstream_detach(t->t_up);
		t->t_up = NULL;
	}
	route_table_unref(t->t_table);
	t->t_table = NULL;
	t->t_route = NULL;
	t->t_proto = t->t_kind = NULL;
	http_req_free(&t->t_req);
	t->t_havereq = 0;
	evbuffer_drain(t->t_raw, evbuffer_get_length(t->t_raw));
	free(t->t_body);
	t->t_body = NULL;
	t->t_headtimer = 0;
}

/*
 * The response is complete: the next request, unless the agent asked
 * for the end.  Bytes it pipelined wait in the input: a deferred read
 * callback takes them, not a recursive call.
 */
void
serve_done(struct tunnel *t)
{
	int	 close;

	if (t->t_state == T_LINGER)
		return;
	close = t->t_req.r_close || t->t_plain;
	serve_req_clear(t);
	if (close) {
		serve_linger(t);
		return;
	}
	t->t_state = T_HEAD;
	serve_timer(t, ROUTER_IDLE_TIMEOUT);
	bufferevent_enable(t->t_bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(t->t_bev)) > 0)
		bufferevent_trigger(t->t_bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* The reply is queued: close once it is out (serve_write_cb). */
static void
serve_linger(struct tunnel *t)
{
	struct timeval	 tv = { ROUTER_LINGER, 0 };

	serve_req_clear(t);
	t->t_state = T_LINGER;
	evtimer_add(t->t_timer, &tv);
	bufferevent_enable(t->t_bev, EV_READ | EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(t->t_bev)) == 0)
		serve_write_cb(t->t_bev, t);
}

/*
 * G11: a backend failing after the response head went out must not
 * look like a complete response: what came goes out, then the tunnel
 * ends without the zero chunk.
 */
void
serve_abort(struct tunnel *t)
{
	serve_linger(t);
}

static void
serve_free(struct tunnel *t)
{
	struct routerd	*rd = t->t_rd;

	serve_req_clear(t);
	TAILQ_REMOVE(&rd->rd_tunnels, t, t_entry);
	rd->rd_ntunnels--;
	event_free(t->t_timer);
	evbuffer_free(t->t_raw);
	bufferevent_free(t->t_bev);	/* closes the socket, frees SSL */
	free(t);
}
