/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Small pieces of the gRPC-over-HTTP/2 wire format shared by the server
 * and the client: status codes, grpc-timeout, grpc-message encoding.
 */

#ifndef GRPC_WIRE_H
#define GRPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_UNAUTHENTICATED = 16
};

/* Longest grpc-message we send, before encoding (cut at a UTF-8 boundary). */
#define GRPC_MESSAGE_MAX	1024
/* Room for an encoded message of GRPC_MESSAGE_MAX bytes. */
#define GRPC_MESSAGE_ENC_MAX	(3 * GRPC_MESSAGE_MAX + 1)

/* "OK", "CANCELLED", ...; "UNKNOWN" for codes outside the table. */
const char *grpc_wire_code_name(int);
/*
 * Parses a grpc-timeout value (1 to 8 digits, then H M S m u n) into
 * microseconds, rounding up.  -1 if malformed.
 */
int	 grpc_wire_timeout_parse(const char *, uint64_t *);
/* Formats milliseconds as a grpc-timeout value. */
void	 grpc_wire_timeout_format(uint64_t, char *, size_t);
/*
 * Percent-encodes a grpc-message: bytes outside 0x20-0x7e and '%'
 * become %XX.  Input beyond GRPC_MESSAGE_MAX is cut at a character
 * boundary.  out must hold GRPC_MESSAGE_ENC_MAX bytes.
 */
void	 grpc_wire_pct_encode(const char *, char *);
/* Decodes into out (NUL-terminated, cut to outlen - 1); bad escapes stay. */
void	 grpc_wire_pct_decode(const char *, size_t, char *, size_t);

/*
 * The request headers of one call: pseudo-headers, content-type, te,
 * user-agent, and grpc-timeout when timeout_ms > 0 (formatted into tmo,
 * which must outlive the submit).  Returns the number of entries.
 */
#define GRPC_WIRE_REQ_NV	8
#define GRPC_WIRE_TMO_LEN	32
size_t	 grpc_wire_request_nv(nghttp2_nv[GRPC_WIRE_REQ_NV], const char *, int,
	    char[GRPC_WIRE_TMO_LEN]);

#endif /* GRPC_WIRE_H */
