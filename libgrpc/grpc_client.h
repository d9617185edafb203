/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * A small synchronous gRPC client: one mTLS HTTP/2 connection, one call
 * at a time, each call running the connection until its stream ends.
 * For the CLI and for tests; a process that must keep serving while a
 * call is in flight runs it in a child or waits for an async variant.
 */

#ifndef GRPC_CLIENT_H
#define GRPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "grpc_wire.h"

struct grpc_client;

struct grpc_status {
	int	 code;				/* enum grpc_code */
	char	 message[GRPC_MESSAGE_MAX + 1];	/* decoded grpc-message */
};

/* A response message; msg is valid only during the call. 0 = go on. */
typedef int	 grpc_client_msg_fn(const uint8_t *, size_t, void *);
/*
 * Produces the next request message of a client stream: returns 1 and
 * sets msg/len (kept valid until the next call), 0 at the end, -1 to
 * cancel the call.
 */
typedef int	 grpc_client_next_fn(void *, const uint8_t **, size_t *);

struct grpc_client_req {
	const char		*path;		/* "/pkg.Service/Method" */
	int			 timeout_ms;	/* 0: no deadline */
	/* one request message, or a producer for a client stream */
	const uint8_t		*msg;
	size_t			 msglen;
	grpc_client_next_fn	*next;
	void			*next_arg;
	/* every response message goes here */
	grpc_client_msg_fn	*on_msg;
	void			*on_msg_arg;
};

/*
 * Connects over TLS (ctx from tls_client_ctx with ALPN "h2"; the
 * client does not own it), checks the server certificate against host,
 * and starts HTTP/2.  NULL on failure with a reason in err.
 */
struct grpc_client *grpc_client_connect(const char *, const char *, SSL_CTX *,
	    int, char *, size_t);
void	 grpc_client_close(struct grpc_client *);
/* Largest response message accepted (default 4 MiB). */
void	 grpc_client_max_msg(struct grpc_client *, size_t);
/* 1 once the connection failed or the server said GOAWAY. */
int	 grpc_client_dead(const struct grpc_client *);

/*
 * Runs one call; returns the status code (also in st).  Transport
 * failures are GRPC_UNAVAILABLE, an expired deadline
 * GRPC_DEADLINE_EXCEEDED (the stream is cancelled).
 */
int	 grpc_client_call(struct grpc_client *, const struct grpc_client_req *,
	    struct grpc_status *);
/* Unary: *resp (malloc'd, caller frees) holds the response on OK. */
int	 grpc_client_unary(struct grpc_client *, const char *, const void *,
	    size_t, uint8_t **, size_t *, int, struct grpc_status *);

#endif /* GRPC_CLIENT_H */
