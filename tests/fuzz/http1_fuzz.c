/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libFuzzer target for the HTTP/1.1 request-head parser: the input is
 * fed in one piece and in input-derived chunks; both must reach the
 * same verdict, and an accepted head must satisfy the grammar's
 * invariants.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libgrpc/http1.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct http1_req	 whole, parts;

static ssize_t
feed_chunked(struct http1_req *r, const uint8_t *data, size_t size,
    uint8_t seed, size_t *used)
{
	size_t	 off, n, k = 0;
	ssize_t	 rv = HTTP1_MORE;

	for (off = 0; off < size; off += n, k++) {
		n = 1 + (seed + k * 13) % 29;
		if (n > size - off)
			n = size - off;
		rv = http1_feed(r, (const char *)data + off, n);
		if (rv != HTTP1_MORE) {
			*used = off + (rv > 0 ? (size_t)rv : 0);
			return rv;
		}
	}
	*used = size;
	return rv;
}

static void
check(const struct http1_req *r)
{
	size_t	 i;

	if (r->h1_method == NULL || r->h1_target == NULL ||
	    *r->h1_method == '\0' || *r->h1_target == '\0' ||
	    r->h1_nhdr > HTTP1_HEADERS_MAX || r->h1_len > HTTP1_HEAD_MAX)
		abort();
	for (i = 0; i < r->h1_nhdr; i++) {
		if (*r->h1_hdr[i].name == '\0' ||
		    strpbrk(r->h1_hdr[i].name, " \t:\r\n") != NULL ||
		    strpbrk(r->h1_hdr[i].value, "\r\n") != NULL)
			abort();
		if (http1_header(r, r->h1_hdr[i].name) == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ssize_t	 rw, rp;
	size_t	 used;

	if (size < 1)
		return 0;
	http1_init(&whole);
	http1_init(&parts);
	rw = http1_feed(&whole, (const char *)data + 1, size - 1);
	rp = feed_chunked(&parts, data + 1, size - 1, data[0], &used);
	/* Too-big is decided by buffer fill, so only compare the class. */
	if ((rw > 0) != (rp > 0))
		abort();
	if (rw > 0) {
		if ((size_t)rw != used || whole.h1_len != parts.h1_len)
			abort();
		check(&whole);
		check(&parts);
	}
	return 0;
}
