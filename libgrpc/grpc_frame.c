/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gRPC message stream parser.  The length is checked against the limit
 * as soon as the 5-byte prefix is complete, before anything is
 * allocated, so a peer cannot make us reserve memory by announcing a
 * huge message.  A message that arrives whole inside one chunk is
 * handed out in place, without a copy.
 */

#include <stdlib.h>
#include <string.h>

#include "grpc_frame.h"

static int	 frame_header(struct grpc_frame *, const uint8_t **, size_t *);
static int	 frame_body(struct grpc_frame *, const uint8_t **, size_t *,
		    grpc_frame_fn *, void *);
static int	 frame_fail(struct grpc_frame *, int);

static const uint8_t frame_empty[1];

void
grpc_frame_init(struct grpc_frame *gf, size_t max)
{
	memset(gf, 0, sizeof(*gf));
	gf->gf_max = max;
}

void
grpc_frame_free(struct grpc_frame *gf)
{
	free(gf->gf_msg);
	gf->gf_msg = NULL;
	gf->gf_hdrlen = gf->gf_len = gf->gf_got = 0;
}

int
grpc_frame_partial(const struct grpc_frame *gf)
{
	return gf->gf_hdrlen != 0;
}

void
grpc_frame_prefix(uint8_t hdr[GRPC_FRAME_HDR], uint32_t len)
{
	hdr[0] = 0;
	hdr[1] = len >> 24;
	hdr[2] = len >> 16;
	hdr[3] = len >> 8;
	hdr[4] = len;
}

const char *
grpc_frame_strerror(int err)
{
	switch (err) {
	case GRPC_FRAME_OK:
		return "ok";
	case GRPC_FRAME_ETOOBIG:
		return "message larger than the limit";
	case GRPC_FRAME_ECOMPRESSED:
		return "compressed message without a negotiated encoding";
	case GRPC_FRAME_EFLAG:
		return "invalid message flag";
	case GRPC_FRAME_ENOMEM:
		return "out of memory";
	case GRPC_FRAME_ECALLBACK:
		return "message refused";
	}
	return "unknown error";
}

int
grpc_frame_feed(struct grpc_frame *gf, const uint8_t *p, size_t n,
    grpc_frame_fn *fn, void *arg)
{
	int	 rv;

	if (gf->gf_err)
		return gf->gf_err;
	while (n > 0) {
		if (gf->gf_hdrlen < GRPC_FRAME_HDR) {
			if ((rv = frame_header(gf, &p, &n)) != 0)
				return frame_fail(gf, rv);
			if (gf->gf_hdrlen < GRPC_FRAME_HDR)
				break;
		}
		if ((rv = frame_body(gf, &p, &n, fn, arg)) != 0)
			return frame_fail(gf, rv);
	}
	return GRPC_FRAME_OK;
}

static int
frame_fail(struct grpc_frame *gf, int err)
{
	grpc_frame_free(gf);
	gf->gf_err = err;
	return err;
}

static int
frame_header(struct grpc_frame *gf, const uint8_t **p, size_t *n)
{
	size_t	 take;
	uint32_t len;

	take = GRPC_FRAME_HDR - gf->gf_hdrlen;
	if (take > *n)
		take = *n;
	memcpy(gf->gf_hdr + gf->gf_hdrlen, *p, take);
	gf->gf_hdrlen += take;
	*p += take;
	*n -= take;
	if (gf->gf_hdrlen < GRPC_FRAME_HDR)
		return 0;
	if (gf->gf_hdr[0] == 1)
		return GRPC_FRAME_ECOMPRESSED;
	if (gf->gf_hdr[0] != 0)
		return GRPC_FRAME_EFLAG;
	len = (uint32_t)gf->gf_hdr[1] << 24 | (uint32_t)gf->gf_hdr[2] << 16 |
	    (uint32_t)gf->gf_hdr[3] << 8 | gf->gf_hdr[4];
	if (len > gf->gf_max)
		return GRPC_FRAME_ETOOBIG;
	gf->gf_len = len;
	gf->gf_got = 0;
	return 0;
}

/*
 * Consumes message bytes.  When the whole message is in the chunk and
 * nothing was buffered yet, it is passed in place; otherwise it is
 * gathered into a buffer of exactly the announced size.
 */
static int
frame_body(struct grpc_frame *gf, const uint8_t **p, size_t *n,
    grpc_frame_fn *fn, void *arg)
{
	const uint8_t	*msg;
	size_t		 take;
	int		 rv;

	if (gf->gf_got == 0 && *n >= gf->gf_len) {
		msg = gf->gf_len ? *p : frame_empty;
		*p += gf->gf_len;
		*n -= gf->gf_len;
		gf->gf_hdrlen = 0;
		return fn(msg, gf->gf_len, arg) == 0 ? 0 : GRPC_FRAME_ECALLBACK;
	}
	if (*n == 0)
		return 0;
	if (gf->gf_msg == NULL && (gf->gf_msg = malloc(gf->gf_len)) == NULL)
		return GRPC_FRAME_ENOMEM;
	take = gf->gf_len - gf->gf_got;
	if (take > *n)
		take = *n;
	memcpy(gf->gf_msg + gf->gf_got, *p, take);
	gf->gf_got += take;
	*p += take;
	*n -= take;
	if (gf->gf_got < gf->gf_len)
		return 0;
	rv = fn(gf->gf_msg, gf->gf_len, arg);
	free(gf->gf_msg);
	gf->gf_msg = NULL;
	gf->gf_hdrlen = gf->gf_got = 0;
	return rv == 0 ? 0 : GRPC_FRAME_ECALLBACK;
}
