/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * libFuzzer target for the gRPC message stream parser.  The input is
 * parsed twice: in one piece, and in chunks whose sizes come from the
 * input itself.  Both must agree on every message and on the outcome,
 * and no message may exceed the limit.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libgrpc/grpc_frame.h"

#define FUZZ_MAX	4096

struct trace {
	uint64_t	 hash;
	size_t		 count;
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
on_msg(const uint8_t *msg, size_t len, void *arg)
{
	struct trace	*t = arg;
	size_t		 i;

	if (msg == NULL || len > FUZZ_MAX)
		abort();
	t->hash = t->hash * 31 + len;
	for (i = 0; i < len; i++)
		t->hash = t->hash * 131 + msg[i];
	t->count++;
	/* Refuse now and then, to walk the callback-error path. */
	return len == 13 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct grpc_frame	 whole, parts;
	struct trace		 tw = { 0, 0 }, tp = { 0, 0 };
	size_t			 off, n, k = 0;
	int			 rw, rp = GRPC_FRAME_OK;

	if (size < 1)
		return 0;
	/* First byte: chunk-size seed; the rest is the stream. */
	grpc_frame_init(&whole, FUZZ_MAX);
	grpc_frame_init(&parts, FUZZ_MAX);
	rw = grpc_frame_feed(&whole, data + 1, size - 1, on_msg, &tw);
	for (off = 1; off < size && rp == GRPC_FRAME_OK; off += n) {
		n = 1 + (data[0] + k * 7 + data[off]) % 17;
		if (n > size - off)
			n = size - off;
		rp = grpc_frame_feed(&parts, data + off, n, on_msg, &tp);
		k++;
	}
	if (rw != rp || tw.count != tp.count || tw.hash != tp.hash)
		abort();
	if (rw == GRPC_FRAME_OK &&
	    grpc_frame_partial(&whole) != grpc_frame_partial(&parts))
		abort();
	grpc_frame_free(&whole);
	grpc_frame_free(&parts);
	return 0;
}
