/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * An asynchronous gRPC client on libevent: one mTLS HTTP/2 connection
 * shared by any number of calls, for a process that must never block
 * (the sandbox supervisor).  The connection is made on demand; when it
 * fails or is lost every call on it ends with UNAVAILABLE and the next
 * attempt waits for a backoff (1 s doubling to 30 s, reset by a
 * connection that worked).  Calls started meanwhile wait for it (or
 * for their deadline).
 *
 * Callbacks run from the event loop, never from inside the caller's
 * own grpc_aclient_* call.  A done callback may start new calls; no
 * callback may free the client.  After done (or grpc_aclient_cancel)
 * the call is gone.
 */

#ifndef GRPC_ACLIENT_H
#define GRPC_ACLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "grpc_client.h"

struct event_base;
struct grpc_aclient;
struct grpc_acall;

/* A response message; msg is valid only during the call. */
typedef void	 grpc_acall_msg_fn(struct grpc_acall *, const uint8_t *,
		    size_t, void *);
/* The end of a call, exactly once unless cancelled first. */
typedef void	 grpc_acall_done_fn(struct grpc_acall *,
		    const struct grpc_status *, void *);

/*
 * host/port are resolved now (this may block: call it at startup).
 * ctx (ALPN "h2") is not owned.  NULL on failure with a reason in err.
 */
struct grpc_aclient *grpc_aclient_new(struct event_base *, const char *,
	    const char *, SSL_CTX *, char *, size_t);
/* Ends every call without callbacks. */
void	 grpc_aclient_free(struct grpc_aclient *);
/* 1 while the HTTP/2 session is up. */
int	 grpc_aclient_connected(const struct grpc_aclient *);

/*
 * Unary or server-streaming call: one request message; on_msg for
 * each response (may be NULL), done at the end.  timeout_ms 0: none.
 */
struct grpc_acall *grpc_aclient_call(struct grpc_aclient *, const char *,
	    const void *, size_t, int, grpc_acall_msg_fn *,
	    grpc_acall_done_fn *, void *);
/* Client-streaming call: messages follow with grpc_aclient_send. */
struct grpc_acall *grpc_aclient_stream(struct grpc_aclient *, const char *,
	    int, grpc_acall_msg_fn *, grpc_acall_done_fn *, void *);
/* Queues one request message; -1 once the request side is closed. */
int	 grpc_aclient_send(struct grpc_acall *, const void *, size_t);
/* Ends the request side (half-close). */
void	 grpc_aclient_close_send(struct grpc_acall *);
/* Bytes queued on a stream and not yet handed to HTTP/2. */
size_t	 grpc_aclient_pending(const struct grpc_acall *);
/* Cancels the call (RST_STREAM); no callback follows. */
void	 grpc_aclient_cancel(struct grpc_acall *);

#endif /* GRPC_ACLIENT_H */
