/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * A minimal asynchronous HTTP/2 client connection over TLS (nghttp2 +
 * OpenSSL, poll(2)) for the benchmarks: many concurrent streams on
 * one connection, several connections driven by one loop.  Every
 * request is a POST with a fixed body followed by END_STREAM.
 */

#ifndef H2CONN_H
#define H2CONN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct h2conn;

struct h2conn_ops {
	/* a response header or trailer of the stream of user */
	void	(*on_header)(struct h2conn *, void *, const char *,
		    const char *);
	/* response body bytes */
	void	(*on_data)(struct h2conn *, void *, const uint8_t *,
		    size_t);
	/* the stream ended (error_code 0 = cleanly) */
	void	(*on_close)(struct h2conn *, void *, uint32_t);
};

/*
 * Connects to host:port (TCP, then a blocking TLS handshake with ALPN
 * h2 from ctx, which the connection does not own), then starts
 * HTTP/2.  NULL with a message on stderr on failure.
 */
struct h2conn	*h2conn_open(SSL_CTX *, const char *, int,
		    const struct h2conn_ops *);
void		 h2conn_close(struct h2conn *);
/*
 * Starts a POST of path with body (kept by the caller until the
 * stream closes) and optional extra headers (name, value pairs, NULL
 * ended).  -1 on failure, else the stream id.
 */
int32_t		 h2conn_post(struct h2conn *, const char *,
		    const uint8_t *, size_t, const char *const *, void *);
/* The peer's SETTINGS_MAX_CONCURRENT_STREAMS (after the first pump). */
uint32_t	 h2conn_max_streams(struct h2conn *);
/* 1 once the connection failed or the peer went away. */
int		 h2conn_dead(const struct h2conn *);
/*
 * Moves bytes on every connection of v for up to timeout_ms (one
 * poll).  -1 if all of them are dead.
 */
int		 h2conn_pump(struct h2conn **, size_t, int);
/* Monotonic time in microseconds. */
int64_t		 h2conn_now_us(void);

#endif /* H2CONN_H */
