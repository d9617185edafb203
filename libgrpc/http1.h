/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * A strict HTTP/1.1 request-head parser for the gateway port, which
 * serves only a few bodiless requests (health probes, CONNECT).  The
 * head is gathered into a fixed buffer and parsed in place; anything
 * outside RFC 9112's grammar (bare LF, obs-fold, NUL, control bytes,
 * stray spaces) is refused rather than guessed at.
 */

#ifndef HTTP1_H
#define HTTP1_H

#include <sys/types.h>

#include <stddef.h>

#define HTTP1_HEAD_MAX		8192
#define HTTP1_HEADERS_MAX	64

enum http1_rv {
	HTTP1_MORE = 0,		/* head not complete yet */
	HTTP1_EBAD = -1,	/* malformed: answer 400 */
	HTTP1_ETOOBIG = -2	/* head or header count too large: 431 */
};

struct http1_header {
	const char	*name;
	const char	*value;
};

struct http1_req {
	char		 h1_buf[HTTP1_HEAD_MAX + 1];
	size_t		 h1_len;
	const char	*h1_method;
	const char	*h1_target;
	int		 h1_minor;		/* HTTP/1.<minor> */
	struct http1_header h1_hdr[HTTP1_HEADERS_MAX];
	size_t		 h1_nhdr;
};

void	 http1_init(struct http1_req *);
/*
 * Feeds bytes of the connection.  Returns the number of bytes of this
 * chunk that belonged to the head (> 0) once the head is complete and
 * valid (bytes after it are the caller's), HTTP1_MORE when all bytes
 * were taken and more are needed, or a negative enum http1_rv.
 */
ssize_t	 http1_feed(struct http1_req *, const char *, size_t);
/* First value of a header, name matched case-insensitively. */
const char *http1_header(const struct http1_req *, const char *);
/* How many times the header occurs. */
size_t	 http1_header_count(const struct http1_req *, const char *);
const char *http1_reason(int);

#endif /* HTTP1_H */
