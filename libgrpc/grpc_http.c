/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The HTTP/1.1 side of the gateway port: one request per connection
 * (every response closes it), health probes built in, CONNECT paths
 * handed to registered handlers which may answer later or take the
 * raw connection over after a 200.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "grpc_int.h"

enum http_state {
	HTTP_HEAD,		/* reading the request head */
	HTTP_HANDLER,		/* a handler holds the request */
	HTTP_RESPONDED,		/* flushing the response, then close */
	HTTP_TAKEN		/* the connection is someone else's */
};

struct grpc_http {
	struct grpc_conn	*h_conn;
	enum http_state		 h_state;
	struct http1_req	 h_req;
	char			 h_path[HTTP1_HEAD_MAX];
	grpc_http_cancel_fn	*h_cancel;
	void			*h_cancel_arg;
};

static void	 http_route(struct grpc_http *);
static int	 http_has_body(const struct http1_req *);
static void	 http_builtin(struct grpc_http *, int);
static int	 http_is_get(const struct grpc_http *);

int
grpc_http_start(struct grpc_conn *gc)
{
	struct timeval	 tv = { GRPC_HTTP1_SECS, 0 };
	struct evbuffer	*in;

	if ((gc->gc_http = calloc(1, sizeof(*gc->gc_http))) == NULL)
		return -1;
	gc->gc_http->h_conn = gc;
	http1_init(&gc->gc_http->h_req);
	bufferevent_set_timeouts(gc->gc_bev, &tv, &tv);
	in = bufferevent_get_input(gc->gc_bev);
	if (evbuffer_get_length(in) > 0)
		grpc_http_read(gc, in);
	return 0;
}

void
grpc_http_free(struct grpc_conn *gc)
{
	struct grpc_http	*h = gc->gc_http;

	if (h == NULL)
		return;
	if (h->h_state == HTTP_HANDLER && h->h_cancel != NULL)
		h->h_cancel(h, h->h_cancel_arg);
	free(h);
	gc->gc_http = NULL;
}

void
grpc_http_shutdown(struct grpc_conn *gc)
{
	if (gc->gc_http == NULL || gc->gc_http->h_state == HTTP_HEAD)
		gc->gc_dead = 1;
}

void
grpc_http_read(struct grpc_conn *gc, struct evbuffer *in)
{
	struct grpc_http	*h = gc->gc_http;
	size_t			 len;
	ssize_t			 rv;

	while (h->h_state == HTTP_HEAD &&
	    (len = evbuffer_get_contiguous_space(in)) > 0) {
		rv = http1_feed(&h->h_req, (const char *)evbuffer_pullup(in,
		    len), len);
		if (rv == HTTP1_MORE) {
			evbuffer_drain(in, len);
			continue;
		}
		if (rv < 0) {
			evbuffer_drain(in, evbuffer_get_length(in));
			grpc_http_respond(h, rv == HTTP1_ETOOBIG ? 431 : 400,
			    NULL, NULL, 0);
			return;
		}
		/* Bytes after the head stay queued for a tunnel. */
		evbuffer_drain(in, (size_t)rv);
		h->h_state = HTTP_HANDLER;
		bufferevent_disable(gc->gc_bev, EV_READ);
		http_route(h);
	}
}

void
grpc_http_drained(struct grpc_conn *gc)
{
	struct grpc_http	*h = gc->gc_http;

	if (h != NULL && h->h_state == HTTP_RESPONDED &&
	    evbuffer_get_length(bufferevent_get_output(gc->gc_bev)) == 0)
		gc->gc_dead = 1;
}

static void
http_route(struct grpc_http *h)
{
	struct grpc_route	*gr;
	const struct http1_req	*r = &h->h_req;
	size_t			 n;

	n = strcspn(r->h1_target, "?");
	memcpy(h->h_path, r->h1_target, n);
	h->h_path[n] = '\0';
	if (http_has_body(r) || (r->h1_minor == 1 &&
	    http1_header_count(r, "host") != 1)) {
		grpc_http_respond(h, 400, NULL, NULL, 0);
		return;
	}
	if (strcmp(h->h_path, "/health") == 0 ||
	    strcmp(h->h_path, "/healthz") == 0) {
		http_builtin(h, 0);
		return;
	}
	if (strcmp(h->h_path, "/readyz") == 0) {
		http_builtin(h, 1);
		return;
	}
	gr = grpc_server_route(h->h_conn->gc_srv, h->h_path);
	if (gr != NULL && strcmp(r->h1_method, "CONNECT") != 0)
		grpc_http_respond(h, 405, NULL, NULL, 0);
	else if (gr != NULL)
		gr->gr_fn(h, gr->gr_arg);
	else
		grpc_http_respond(h, 404, NULL, NULL, 0);
}

/* None of our endpoints takes a body; refusing one closes smuggling. */
static int
http_has_body(const struct http1_req *r)
{
	const char	*cl;

	if (http1_header(r, "transfer-encoding") != NULL)
		return 1;
	if (http1_header_count(r, "content-length") > 1)
		return 1;
	cl = http1_header(r, "content-length");
	return cl != NULL && strcmp(cl, "0") != 0;
}

static int
http_is_get(const struct grpc_http *h)
{
	return strcmp(h->h_req.h1_method, "GET") == 0 ||
	    strcmp(h->h_req.h1_method, "HEAD") == 0;
}

static void
http_builtin(struct grpc_http *h, int ready)
{
	char	 body[512];
	int	 n;

	if (!http_is_get(h)) {
		grpc_http_respond(h, 405, NULL, NULL, 0);
		return;
	}
	if (!ready) {
		grpc_http_respond(h, 200, NULL, NULL, 0);
		return;
	}
	/* The version is ours (a build constant), so no JSON escaping. */
	n = snprintf(body, sizeof(body),
	    "{\"status\":\"healthy\",\"version\":\"%s\"}",
	    h->h_conn->gc_srv->gs_version);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	grpc_http_respond(h, 200, "application/json", body, (size_t)n);
}

const char *
grpc_http_method(const struct grpc_http *h)
{
	return h->h_req.h1_method;
}

const char *
grpc_http_target(const struct grpc_http *h)
{
	return h->h_req.h1_target;
}

const char *
grpc_http_header(const struct grpc_http *h, const char *name)
{
	return http1_header(&h->h_req, name);
}

const char *
grpc_http_peer_cn(const struct grpc_http *h)
{
	return h->h_conn->gc_cn;
}

void
grpc_http_respond(struct grpc_http *h, int status, const char *ctype,
    const void *body, size_t len)
{
	struct grpc_conn	*gc = h->h_conn;
	struct evbuffer		*out = bufferevent_get_output(gc->gc_bev);

	if (h->h_state == HTTP_RESPONDED || h->h_state == HTTP_TAKEN)
		return;
	h->h_state = HTTP_RESPONDED;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n",
	    status, http1_reason(status), len);
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	evbuffer_add_printf(out, "Connection: close\r\n\r\n");
	if (len > 0 && strcmp(h->h_req.h1_method ? h->h_req.h1_method : "",
	    "HEAD") != 0)
		evbuffer_add(out, body, len);
	bufferevent_enable(gc->gc_bev, EV_WRITE);
}

/*
 * Ownership: the bufferevent (and with it the socket and the SSL) passes
 * to the caller; the connection object is freed.
 */
struct bufferevent *
grpc_http_takeover(struct grpc_http *h)
{
	struct grpc_conn	*gc = h->h_conn;
	struct bufferevent	*bev = gc->gc_bev;

	if (h->h_state != HTTP_HANDLER)
		return NULL;
	h->h_state = HTTP_TAKEN;
	if (evbuffer_add_printf(bufferevent_get_output(bev),
	    "HTTP/1.1 200 OK\r\n\r\n") < 0) {
		grpc_conn_kill(gc);
		return NULL;
	}
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(bev, NULL, NULL);
	bufferevent_setwatermark(bev, EV_READ | EV_WRITE, 0, 0);
	gc->gc_bev = NULL;
	grpc_conn_kill(gc);
	return bev;
}

void
grpc_http_on_cancel(struct grpc_http *h, grpc_http_cancel_fn *fn, void *arg)
{
	h->h_cancel = fn;
	h->h_cancel_arg = arg;
}
