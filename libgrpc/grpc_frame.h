/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The gRPC length-prefixed message stream: a 1-byte compressed flag,
 * a 4-byte big-endian length, then the message.  The parser takes the
 * bytes of a stream in chunks of any size and hands out whole messages.
 */

#ifndef GRPC_FRAME_H
#define GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define GRPC_FRAME_HDR		5
#define GRPC_FRAME_MAX_DEFAULT	(4 * 1024 * 1024)

enum grpc_frame_err {
	GRPC_FRAME_OK = 0,
	GRPC_FRAME_ETOOBIG = -1,	/* length above the limit */
	GRPC_FRAME_ECOMPRESSED = -2,	/* flag 1: we negotiate no encoding */
	GRPC_FRAME_EFLAG = -3,		/* flag neither 0 nor 1 */
	GRPC_FRAME_ENOMEM = -4,
	GRPC_FRAME_ECALLBACK = -5	/* the message callback refused */
};

/*
 * Called once per whole message.  msg is valid only during the call
 * (never NULL, even for an empty message).  Return 0 to go on, -1 to
 * stop parsing: grpc_frame_feed then returns GRPC_FRAME_ECALLBACK.
 */
typedef int grpc_frame_fn(const uint8_t *msg, size_t len, void *arg);

struct grpc_frame {
	size_t		 gf_max;	/* largest message accepted */
	uint8_t		 gf_hdr[GRPC_FRAME_HDR];
	size_t		 gf_hdrlen;	/* header bytes seen so far */
	uint8_t		*gf_msg;	/* partial message, gf_len bytes */
	size_t		 gf_len;
	size_t		 gf_got;
	int		 gf_err;	/* sticky: once set, feed fails */
};

void	 grpc_frame_init(struct grpc_frame *, size_t);
/* Returns GRPC_FRAME_OK or a (sticky) negative grpc_frame_err. */
int	 grpc_frame_feed(struct grpc_frame *, const uint8_t *, size_t,
	    grpc_frame_fn *, void *);
/* 1 if the stream ended inside a message (a truncated stream) */
int	 grpc_frame_partial(const struct grpc_frame *);
void	 grpc_frame_free(struct grpc_frame *);
/* Writes the 5-byte prefix for a message of len bytes. */
void	 grpc_frame_prefix(uint8_t [GRPC_FRAME_HDR], uint32_t);
const char *grpc_frame_strerror(int);

#endif /* GRPC_FRAME_H */
