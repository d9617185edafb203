/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Request body framing for the forward proxy (G9).  The reference
 * relays everything the client sends after the head, so a second,
 * pipelined request reaches the upstream unjudged whenever it ignores
 * "Connection: close".  Here exactly one request goes up: its body is
 * delimited by Content-Length or by the chunked coding, and whatever
 * follows is dropped.  Ambiguous framing (both headers, a coding other
 * than a final "chunked", bad or conflicting lengths) is refused up
 * front: the request smuggling cases of RFC 9112 §6.3.  Pure.
 */

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "http.h"

enum {
	CH_SIZE,	/* hex digits of a chunk size */
	CH_EXT,		/* ";ext" up to the CR */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER,	/* start of a trailer line, or the final CRLF */
	CH_TRAILER_LINE,
	CH_TRAILER_LF,
	CH_END_LF
};

#define BODY_MAX_HEX	15	/* chunk sizes below 2^60 */

static int	 body_length(const char *, uint64_t *);
static int	 body_chunk_byte(struct body *, unsigned char);

/* Content-Length: digits only (no sign, no list). */
static int
body_length(const char *v, uint64_t *out)
{
	uint64_t	 n = 0;
	size_t		 i;

	if (*v == '\0' || strlen(v) > 18)
		return -1;
	for (i = 0; v[i] != '\0'; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

/* 0, or -1 when the framing is ambiguous (answer 400). */
int
body_init(struct body *b, const struct http_head *h)
{
	const char	*te = NULL, *p;
	uint64_t	 len, seen = 0;
	size_t		 i, ncl = 0;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < h->h_nhdrs; i++) {
		if (strcasecmp(h->h_hdrs[i].name, "Transfer-Encoding") == 0) {
			if (te != NULL)
				return -1;
			te = h->h_hdrs[i].value;
		} else if (strcasecmp(h->h_hdrs[i].name,
		    "Content-Length") == 0) {
			if (body_length(h->h_hdrs[i].value, &len) == -1 ||
			    (ncl > 0 && len != seen))
				return -1;
			seen = len;
			ncl++;
		}
	}
	if (te != NULL) {
		/* Only "chunked", or a list whose last coding is chunked. */
		p = strrchr(te, ',');
		p = p != NULL ? p + 1 : te;
		while (*p == ' ' || *p == '\t')
			p++;
		if (ncl > 0 || strcasecmp(p, "chunked") != 0)
			return -1;
		b->b_mode = BODY_CHUNKED;
		b->b_state = CH_SIZE;
		return 0;
	}
	if (ncl > 0 && seen > 0) {
		b->b_mode = BODY_LENGTH;
		b->b_left = seen;
		return 0;
	}
	b->b_mode = BODY_NONE;
	b->b_done = 1;
	return 0;
}

/* One byte of chunked coding; -1 when malformed. */
static int
body_chunk_byte(struct body *b, unsigned char ch)
{
	switch (b->b_state) {
	case CH_SIZE:
		if (isxdigit(ch) && b->b_ndigits < BODY_MAX_HEX) {
			b->b_chunk = b->b_chunk * 16 + (uint64_t)(isdigit(ch) ?
			    ch - '0' : (tolower(ch) - 'a' + 10));
			b->b_ndigits++;
			return 0;
		}
		if (b->b_ndigits == 0 || (ch != ';' && ch != '\r'))
			return -1;
		b->b_state = ch == ';' ? CH_EXT : CH_SIZE_LF;
		return 0;
	case CH_EXT:
		if (ch == '\n' || ch == '\0')
			return -1;
		if (ch == '\r')
			b->b_state = CH_SIZE_LF;
		return 0;
	case CH_SIZE_LF:
		if (ch != '\n')
			return -1;
		b->b_state = b->b_chunk == 0 ? CH_TRAILER : CH_DATA;
		b->b_ndigits = 0;
		return 0;
	case CH_DATA_CR:
	case CH_TRAILER_LF:
	case CH_END_LF:
	case CH_DATA_LF:
		if (ch != (b->b_state == CH_DATA_CR ? '\r' : '\n'))
			return -1;
		if (b->b_state == CH_END_LF)
			b->b_done = 1;
		b->b_state = b->b_state == CH_DATA_CR ? CH_DATA_LF :
		    b->b_state == CH_DATA_LF ? CH_SIZE : CH_TRAILER;
		return 0;
	case CH_TRAILER:
		b->b_state = ch == '\r' ? CH_END_LF : CH_TRAILER_LINE;
		return ch == '\n' ? -1 : 0;
	case CH_TRAILER_LINE:
		if (ch == '\n')
			return -1;
		if (ch == '\r')
			b->b_state = CH_TRAILER_LF;
		return 0;
	default:
		return -1;
	}
}

/*
 * Of the n bytes at p, how many belong to the body (a prefix).  Sets
 * b_done once the body is complete, b_err when the chunked coding is
 * malformed (the caller ends the connection).
 */
size_t
body_scan(struct body *b, const unsigned char *p, size_t n)
{
	size_t		 i = 0, take;

	if (b->b_done || b->b_err)
		return 0;
	if (b->b_mode == BODY_LENGTH) {
		take = n < b->b_left ? n : (size_t)b->b_left;
		b->b_left -= take;
		b->b_done = b->b_left == 0;
		return take;
	}
	while (i < n && !b->b_done) {
		if (b->b_state == CH_DATA) {
			take = n - i < b->b_chunk ? n - i : (size_t)b->b_chunk;
			b->b_chunk -= take;
			i += take;
			if (b->b_chunk == 0)
				b->b_state = CH_DATA_CR;
			continue;
		}
		if (body_chunk_byte(b, p[i]) == -1) {
			b->b_err = 1;
			return i;
		}
		i++;
	}
	return i;
}
