/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gRPC server over HTTP/2 (nghttp2) and TLS (OpenSSL) on a libevent
 * loop, plus the HTTP/1.1 side of the same port.  Each accepted
 * connection is routed by its ALPN result: h2 carries gRPC calls,
 * http/1.1 (or no ALPN) carries health probes and CONNECT tunnels.
 *
 * Lifetimes.  A struct grpc_call stays valid from its handler's first
 * invocation until the handler calls grpc_call_finish() or the call's
 * cancel callback returns, whichever comes first; after that the
 * handler must not touch it.  Handlers may answer later (from another
 * event), so long as they respect that rule.  The same holds for a
 * struct grpc_http until grpc_http_respond(), grpc_http_takeover() or
 * its cancel callback.
 */

#ifndef GRPC_SERVER_H
#define GRPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "grpc_wire.h"

struct event_base;
struct bufferevent;
struct grpc_server;
struct grpc_call;
struct grpc_http;

enum grpc_kind {
	GRPC_UNARY,
	GRPC_SERVER_STREAM,
	GRPC_CLIENT_STREAM,
	GRPC_BIDI_STREAM
};

#define GRPC_MAX_STREAMS	128		/* per connection */
#define GRPC_QUEUE_DEFAULT	(4 * 1024 * 1024) /* bytes per stream */
#define GRPC_MAX_CONNS_DEFAULT	1024
#define GRPC_MAX_HANDSHAKES_DEFAULT 256	/* counted in the above too */

/*
 * Handler of one method.  Unary and server-streaming: called once with
 * the request message when the client has half-closed.  Client- and
 * bidi-streaming: called once per request message, then once with
 * msg == NULL when the client half-closes.  msg is valid only during
 * the call (decode it there); it is never NULL for a message, even an
 * empty one.
 */
typedef void	 grpc_handler_fn(struct grpc_call *, const uint8_t *, size_t,
		    void *);
/* RST_STREAM from the peer, deadline expiry, connection loss, free. */
typedef void	 grpc_cancel_fn(struct grpc_call *, void *);
/* The stream's queue has drained below half its limit. */
typedef void	 grpc_drain_fn(struct grpc_call *, void *);
/* An HTTP/1.1 request for a registered path. */
typedef void	 grpc_http_fn(struct grpc_http *, void *);
typedef void	 grpc_http_cancel_fn(struct grpc_http *, void *);
typedef void	 grpc_done_fn(void *);

/*
 * The server does not own ctx (the caller frees it after
 * grpc_server_free).  max_msg bounds every request message.
 */
struct grpc_server *grpc_server_new(struct event_base *, SSL_CTX *, size_t);
/*
 * Closes everything at once: listeners, connections (cancel callbacks
 * of open calls run first).  Not from inside a handler.
 */
void	 grpc_server_free(struct grpc_server *);
/*
 * Accepts connections on an already listening, non-blocking socket
 * (created by another process).  The server owns fd afterwards, also
 * on failure.
 */
int	 grpc_server_listen_fd(struct grpc_server *, int);
/* Serves one accepted connection; the server owns fd afterwards. */
int	 grpc_server_accept_fd(struct grpc_server *, int);
/* path is "/package.Service/Method"; -1 if already registered. */
int	 grpc_server_method(struct grpc_server *, const char *,
	    enum grpc_kind, grpc_handler_fn *, void *);
/* Version string reported by GET /readyz. */
void	 grpc_server_version(struct grpc_server *, const char *);
/*
 * HTTP/1.1 handler for one exact path, called only for CONNECT (other
 * methods on the path get 405).  /health, /healthz and /readyz are
 * built in; every other request gets 404.
 */
int	 grpc_server_connect(struct grpc_server *, const char *,
	    grpc_http_fn *, void *);
/* Bytes a stream may queue before grpc_call_send() refuses. */
void	 grpc_server_queue_limit(struct grpc_server *, size_t);
void	 grpc_server_max_conns(struct grpc_server *, size_t);
/*
 * Connections still in their TLS handshake (no verified certificate
 * yet) have a cap of their own within max_conns.  A newcomer that
 * finds either cap full closes the oldest of them instead of being
 * refused; connections past their handshake are never closed for it.
 */
void	 grpc_server_max_handshakes(struct grpc_server *, size_t);
/*
 * Graceful stop: stop accepting, send GOAWAY (last stream id) on every
 * HTTP/2 connection, let calls in flight finish, close idle HTTP/1.1
 * connections.  done (may be NULL) runs from the loop once the last
 * connection is gone.
 */
void	 grpc_server_shutdown(struct grpc_server *, grpc_done_fn *, void *);
size_t	 grpc_server_nconns(const struct grpc_server *);

/* ---- inside a gRPC handler ---- */

const char *grpc_call_path(const struct grpc_call *);
/* CN of the verified client certificate ("" if it has none). */
const char *grpc_call_peer_cn(const struct grpc_call *);
/* Request metadata (lower-case key), NULL if absent; pseudo-headers excluded. */
const char *grpc_call_metadata(const struct grpc_call *, const char *);
/*
 * Queues one response message.  -1 if the call is finished or the
 * stream already holds its queue limit (the caller then typically
 * finishes with GRPC_RESOURCE_EXHAUSTED) or on allocation failure.
 */
int	 grpc_call_send(struct grpc_call *, const void *, size_t);
/* Bytes queued on the stream and not yet handed to HTTP/2. */
size_t	 grpc_call_queued(const struct grpc_call *);
/*
 * Ends the call: queued messages go out, then the status trailers
 * (one trailers-only HEADERS frame if nothing was sent).  message may
 * be NULL; it is sent percent-encoded.  The call is the library's
 * afterwards.
 */
void	 grpc_call_finish(struct grpc_call *, int, const char *);
void	 grpc_call_on_cancel(struct grpc_call *, grpc_cancel_fn *, void *);
/* One pointer of handler state per call (NULL until set). */
void	 grpc_call_set_data(struct grpc_call *, void *);
void	*grpc_call_data(const struct grpc_call *);
void	 grpc_call_on_drain(struct grpc_call *, grpc_drain_fn *, void *);

/* ---- inside an HTTP/1.1 handler ---- */

const char *grpc_http_method(const struct grpc_http *);
const char *grpc_http_target(const struct grpc_http *);
const char *grpc_http_header(const struct grpc_http *, const char *);
const char *grpc_http_peer_cn(const struct grpc_http *);
/* Sends a complete response and closes the connection after it. */
void	 grpc_http_respond(struct grpc_http *, int, const char *,
	    const void *, size_t);
/*
 * Answers "200 OK" and hands the connection over: the returned
 * bufferevent (TLS) has no callbacks, holds in its input any bytes the
 * client sent after the request head, and is the caller's to free
 * (which closes the socket).  NULL on failure (connection closed).
 */
struct bufferevent *grpc_http_takeover(struct grpc_http *);
void	 grpc_http_on_cancel(struct grpc_http *, grpc_http_cancel_fn *,
	    void *);

#endif /* GRPC_SERVER_H */
