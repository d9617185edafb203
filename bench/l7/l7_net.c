/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The addresses, listening sockets and TLS client context of bench/l7's
 * programs (origin, load generator, floor relay): IPv4 on the bench's
 * own namespace.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "l7_net.h"

/*
 * A TLS client that verifies against ca, offers http/1.1 and keeps
 * sessions for the caller to resume (none in OpenSSL's cache).
 */
SSL_CTX *
l7_net_client_ctx(const char *ca)
{
	static const unsigned char	 h11[] = "\x08http/1.1";
	SSL_CTX				*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_alpn_protos(ctx, h11, sizeof(h11) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL);
	if (SSL_CTX_load_verify_file(ctx, ca) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* "A.B.C.D:PORT" into sin; 0, or -1 if it is not that. */
int
l7_net_addr(struct sockaddr_in *sin, const char *s)
{
	char		 host[64];
	const char	*colon;

	if ((colon = strrchr(s, ':')) == NULL ||
	    (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

/* A listening socket on addr:port (the caller owns it), or -1. */
int
l7_net_listen(const char *addr, const char *port)
{
	struct sockaddr_in	 sin;
	int			 s, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -1;
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 1024) == -1) {
		close(s);
		return -1;
	}
	return s;
}
