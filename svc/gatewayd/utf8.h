/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * proto3 string fields must hold UTF-8 (control-plane.md §1.3), but
 * protobuf-c only looks at the first byte of each character.  A
 * request that slipped other bytes into the store would make every
 * stock client's later reads of it fail to decode, so gatewayd checks
 * each request fully before a handler sees it.
 */

#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* 1 if the len bytes at s are well-formed UTF-8 (RFC 3629), else 0. */
int	 utf8_valid(const char *, size_t);
/*
 * 1 if every string field of m, at any depth (nested and repeated
 * messages, oneofs, map entries), is well-formed UTF-8.  Else 0, and
 * *badfield (if not NULL) names the first offending field.
 */
int	 utf8_pb_valid(const ProtobufCMessage *, const char **);

#endif /* UTF8_H */
