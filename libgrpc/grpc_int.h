/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Internals shared by the server's files: grpc_server.c (server,
 * listeners, method table), grpc_conn.c (one TLS connection and its
 * re-entrancy guard), grpc_call.c (the HTTP/2 session and its calls),
 * grpc_http.c (the HTTP/1.1 side).  Not for users of the library.
 */

#ifndef GRPC_INT_H
#define GRPC_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "grpc_frame.h"
#include "grpc_server.h"
#include "http1.h"

struct evbuffer;
struct event;
struct evconnlistener;

#define GRPC_CN_MAX		256
#define GRPC_HANDSHAKE_SECS	10
#define GRPC_HTTP1_SECS		10
#define GRPC_WRITE_SECS		120
#define GRPC_OUT_HIGH		(256 * 1024)	/* stop asking nghttp2 */
#define GRPC_OUT_LOW		(64 * 1024)	/* ask again */
#define GRPC_HEADERS_MAX	(16 * 1024)	/* request header list */
#define GRPC_STREAM_WINDOW	(1024 * 1024)
#define GRPC_CONN_WINDOW	(8 * 1024 * 1024)

struct grpc_method {
	TAILQ_ENTRY(grpc_method) gm_entry;
	char			*gm_path;
	enum grpc_kind		 gm_kind;
	grpc_handler_fn		*gm_fn;
	void			*gm_arg;
};

struct grpc_route {
	TAILQ_ENTRY(grpc_route)	 gr_entry;
	char			*gr_path;
	grpc_http_fn		*gr_fn;
	void			*gr_arg;
};

struct grpc_listener {
	TAILQ_ENTRY(grpc_listener) gl_entry;
	struct grpc_server	*gl_srv;
	struct evconnlistener	*gl_lev;
	struct event		*gl_retry;	/* re-enable after EMFILE */
};

struct grpc_server {
	struct event_base	*gs_base;
	SSL_CTX			*gs_ctx;
	size_t			 gs_max_msg;
	size_t			 gs_queue_limit;
	size_t			 gs_max_conns;
	size_t			 gs_max_handshakes;
	char			*gs_version;
	int			 gs_shutdown;
	grpc_done_fn		*gs_done;
	struct event		*gs_done_ev;
	void			*gs_done_arg;
	size_t			 gs_nconns;
	size_t			 gs_nhandshakes;
	TAILQ_HEAD(, grpc_method) gs_methods;
	TAILQ_HEAD(, grpc_route) gs_routes;
	TAILQ_HEAD(, grpc_listener) gs_listeners;
	TAILQ_HEAD(, grpc_conn)	 gs_conns;
	TAILQ_HEAD(, grpc_conn)	 gs_handshakes;	/* oldest first */
};

enum grpc_conn_mode {
	CONN_HANDSHAKE,
	CONN_H2,
	CONN_HTTP1
};

struct grpc_conn {
	TAILQ_ENTRY(grpc_conn)	 gc_entry;
	TAILQ_ENTRY(grpc_conn)	 gc_hs_entry;	/* while CONN_HANDSHAKE */
	struct grpc_server	*gc_srv;
	struct bufferevent	*gc_bev;
	enum grpc_conn_mode	 gc_mode;
	char			 gc_cn[GRPC_CN_MAX];
	int			 gc_depth;	/* nested entry points */
	int			 gc_dead;	/* free at outermost leave */
	int			 gc_closing;	/* free once output drained */
	nghttp2_session		*gc_h2;
	TAILQ_HEAD(, grpc_call)	 gc_calls;
	struct grpc_http	*gc_http;
};

/* grpc_server.c */
struct grpc_method *grpc_server_lookup(struct grpc_server *, const char *);
struct grpc_route *grpc_server_route(struct grpc_server *, const char *);
void	 grpc_server_conn_gone(struct grpc_server *);
void	 grpc_server_handshake_over(struct grpc_server *, struct grpc_conn *);

/* grpc_conn.c */
struct grpc_conn *grpc_conn_new(struct grpc_server *, int);
void	 grpc_conn_enter(struct grpc_conn *);
void	 grpc_conn_leave(struct grpc_conn *);
void	 grpc_conn_kill(struct grpc_conn *);
void	 grpc_conn_free(struct grpc_conn *);
void	 grpc_conn_shutdown(struct grpc_conn *);

/* grpc_call.c: the HTTP/2 side of a connection */
int	 grpc_call_session_new(struct grpc_conn *);
int	 grpc_call_session_recv(struct grpc_conn *, struct evbuffer *);
int	 grpc_call_session_flush(struct grpc_conn *);
void	 grpc_call_session_free(struct grpc_conn *);
void	 grpc_call_session_goaway(struct grpc_conn *);

/* grpc_http.c: the HTTP/1.1 side of a connection */
int	 grpc_http_start(struct grpc_conn *);
void	 grpc_http_read(struct grpc_conn *, struct evbuffer *);
void	 grpc_http_drained(struct grpc_conn *);
void	 grpc_http_free(struct grpc_conn *);
void	 grpc_http_shutdown(struct grpc_conn *);

#endif /* GRPC_INT_H */
