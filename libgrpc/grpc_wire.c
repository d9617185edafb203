/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * gRPC wire helpers.
 */

#include <stdio.h>
#include <string.h>

#include "grpc_wire.h"

static int	 wire_hex(int);

static const char *wire_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED"
};

const char *
grpc_wire_code_name(int code)
{
	if (code < 0 || (size_t)code >= sizeof(wire_names) / sizeof(*wire_names))
		return "UNKNOWN";
	return wire_names[code];
}

int
grpc_wire_timeout_parse(const char *s, uint64_t *usec)
{
	uint64_t	 v = 0, mul, div = 1;
	size_t		 i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 8)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || s[i] == '\0' || s[i + 1] != '\0')
		return -1;
	switch (s[i]) {
	case 'H':
		mul = 3600ULL * 1000000;
		break;
	case 'M':
		mul = 60ULL * 1000000;
		break;
	case 'S':
		mul = 1000000;
		break;
	case 'm':
		mul = 1000;
		break;
	case 'u':
		mul = 1;
		break;
	case 'n':
		mul = 1;
		div = 1000;
		break;
	default:
		return -1;
	}
	/* 8 digits of hours stay far below 2^64 microseconds. */
	*usec = (v * mul + div - 1) / div;
	return 0;
}

void
grpc_wire_timeout_format(uint64_t ms, char *buf, size_t len)
{
	if (ms < 100000000ULL)
		snprintf(buf, len, "%llum", (unsigned long long)ms);
	else if (ms / 1000 < 100000000ULL)
		snprintf(buf, len, "%lluS", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "99999999S");
}

void
grpc_wire_pct_encode(const char *in, char *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 len, i, o = 0;
	unsigned char		 c;

	len = strlen(in);
	if (len > GRPC_MESSAGE_MAX) {
		len = GRPC_MESSAGE_MAX;
		/* Do not split a UTF-8 sequence: back off continuation bytes. */
		while (len > 0 && ((unsigned char)in[len] & 0xc0) == 0x80)
			len--;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c >= 0x20 && c <= 0x7e && c != '%') {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	out[o] = '\0';
}

static int
wire_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
grpc_wire_pct_decode(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t	 i, o = 0;
	int	 hi, lo;

	if (outlen == 0)
		return;
	for (i = 0; i < inlen && o + 1 < outlen; i++) {
		if (in[i] == '%' && i + 2 < inlen &&
		    (hi = wire_hex(in[i + 1])) >= 0 &&
		    (lo = wire_hex(in[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[o++] = in[i];
	}
	out[o] = '\0';
}

#define WIRE_NV(n, v)	(nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), \
			    sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

size_t
grpc_wire_request_nv(nghttp2_nv nva[GRPC_WIRE_REQ_NV], const char *path,
    int timeout_ms, char tmo[GRPC_WIRE_TMO_LEN])
{
	size_t	 n = 0;

	nva[n++] = WIRE_NV(":method", "POST");
	nva[n++] = WIRE_NV(":scheme", "https");
	nva[n++] = WIRE_NV(":path", path);
	nva[n++] = WIRE_NV(":authority", "openshell");
	nva[n++] = WIRE_NV("content-type", "application/grpc");
	nva[n++] = WIRE_NV("te", "trailers");
	nva[n++] = WIRE_NV("user-agent", "openshell-c-grpc/1");
	if (timeout_ms > 0) {
		grpc_wire_timeout_format((uint64_t)timeout_ms, tmo,
		    GRPC_WIRE_TMO_LEN);
		nva[n++] = WIRE_NV("grpc-timeout", tmo);
	}
	return n;
}
