/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * One accepted connection: the TLS handshake on a bufferevent, then
 * HTTP/2 or HTTP/1.1 by the ALPN result.
 *
 * Every way into a connection from the event loop (bufferevent
 * callbacks, timers, handlers answering later) is bracketed by
 * grpc_conn_enter/grpc_conn_leave.  Code inside never frees the
 * connection; it marks it dead, and the outermost leave frees it after
 * handing nghttp2's pending output to the socket.  That keeps nghttp2
 * callbacks and user handlers from pulling the connection out from
 * under each other.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "log.h"
#include "tls.h"
#include "grpc_int.h"

static void	 conn_read(struct bufferevent *, void *);
static void	 conn_write(struct bufferevent *, void *);
static void	 conn_event(struct bufferevent *, short, void *);
static void	 conn_ready(struct grpc_conn *);
static void	 conn_log_error(struct grpc_conn *, short);

/*
 * Takes ownership of fd: on success it belongs to the connection's
 * bufferevent (closed when the connection is freed), on failure it is
 * closed here.
 */
struct grpc_conn *
grpc_conn_new(struct grpc_server *srv, int fd)
{
	struct grpc_conn	*gc;
	struct timeval		 tv = { GRPC_HANDSHAKE_SECS, 0 };
	SSL			*ssl;
	int			 one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	if ((gc = calloc(1, sizeof(*gc))) == NULL ||
	    (ssl = SSL_new(srv->gs_ctx)) == NULL) {
		free(gc);
		close(fd);
		return NULL;
	}
	gc->gc_srv = srv;
	gc->gc_mode = CONN_HANDSHAKE;
	TAILQ_INIT(&gc->gc_calls);
	gc->gc_bev = bufferevent_openssl_socket_new(srv->gs_base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (gc->gc_bev == NULL) {
		SSL_free(ssl);
		close(fd);
		free(gc);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(gc->gc_bev, 1);
	bufferevent_setcb(gc->gc_bev, conn_read, conn_write, conn_event, gc);
	bufferevent_set_timeouts(gc->gc_bev, &tv, &tv);
	bufferevent_enable(gc->gc_bev, EV_READ | EV_WRITE);
	return gc;
}

void
grpc_conn_enter(struct grpc_conn *gc)
{
	gc->gc_depth++;
}

void
grpc_conn_leave(struct grpc_conn *gc)
{
	if (gc->gc_depth > 1) {
		gc->gc_depth--;
		return;
	}
	/* Still "inside" while flushing: callbacks it runs must not free. */
	if (!gc->gc_dead && gc->gc_mode == CONN_H2 &&
	    grpc_call_session_flush(gc) != 0)
		gc->gc_dead = 1;
	gc->gc_depth--;
	if (gc->gc_dead)
		grpc_conn_free(gc);
}

void
grpc_conn_kill(struct grpc_conn *gc)
{
	gc->gc_dead = 1;
	if (gc->gc_depth == 0)
		grpc_conn_free(gc);
}

void
grpc_conn_free(struct grpc_conn *gc)
{
	struct grpc_server	*srv = gc->gc_srv;

	TAILQ_REMOVE(&srv->gs_conns, gc, gc_entry);
	if (gc->gc_mode == CONN_HANDSHAKE)
		grpc_server_handshake_over(srv, gc);
	/* Cancel callbacks may re-enter; let them only mark things dead. */
	gc->gc_depth++;
	gc->gc_dead = 1;
	grpc_call_session_free(gc);
	grpc_http_free(gc);
	if (gc->gc_bev != NULL)
		bufferevent_free(gc->gc_bev);
	free(gc);
	grpc_server_conn_gone(srv);
}

void
grpc_conn_shutdown(struct grpc_conn *gc)
{
	grpc_conn_enter(gc);
	switch (gc->gc_mode) {
	case CONN_HANDSHAKE:
		gc->gc_dead = 1;
		break;
	case CONN_H2:
		grpc_call_session_goaway(gc);
		break;
	case CONN_HTTP1:
		grpc_http_shutdown(gc);
		break;
	}
	grpc_conn_leave(gc);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct grpc_conn	*gc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);

	grpc_conn_enter(gc);
	if (gc->gc_dead)
		evbuffer_drain(in, evbuffer_get_length(in));
	else if (gc->gc_mode == CONN_H2) {
		if (grpc_call_session_recv(gc, in) != 0)
			gc->gc_dead = 1;
	} else if (gc->gc_mode == CONN_HTTP1)
		grpc_http_read(gc, in);
	grpc_conn_leave(gc);
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct grpc_conn	*gc = arg;

	grpc_conn_enter(gc);
	if (gc->gc_closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		gc->gc_dead = 1;
	else if (gc->gc_mode == CONN_HTTP1)
		grpc_http_drained(gc);
	grpc_conn_leave(gc);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct grpc_conn	*gc = arg;

	(void)bev;
	grpc_conn_enter(gc);
	if (what & BEV_EVENT_CONNECTED)
		conn_ready(gc);
	else {
		conn_log_error(gc, what);
		gc->gc_dead = 1;
	}
	grpc_conn_leave(gc);
}

/* Handshakes that fail are mostly probes and scanners: debug only. */
static void
conn_log_error(struct grpc_conn *gc, short what)
{
	unsigned long	 e;
	char		 buf[256];

	while ((e = bufferevent_get_openssl_error(gc->gc_bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_debug("grpc: connection %s: %s",
		    gc->gc_mode == CONN_HANDSHAKE ? "handshake" : "closed",
		    buf);
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("grpc: connection timed out");
}

static void
conn_ready(struct grpc_conn *gc)
{
	struct timeval	 wtv = { GRPC_WRITE_SECS, 0 };
	SSL		*ssl;

	if (gc->gc_mode != CONN_HANDSHAKE)
		return;
	grpc_server_handshake_over(gc->gc_srv, gc);
	ssl = bufferevent_openssl_get_ssl(gc->gc_bev);
	if (tls_peer_cn(ssl, gc->gc_cn, sizeof(gc->gc_cn)) != 0)
		gc->gc_cn[0] = '\0';
	if (tls_alpn_is_h2(ssl)) {
		gc->gc_mode = CONN_H2;
		/* gRPC channels idle for long; only a stuck write ends one. */
		bufferevent_set_timeouts(gc->gc_bev, NULL, &wtv);
		if (grpc_call_session_new(gc) != 0)
			gc->gc_dead = 1;
	} else {
		gc->gc_mode = CONN_HTTP1;
		if (grpc_http_start(gc) != 0)
			gc->gc_dead = 1;
	}
}
