/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * TLS contexts for the gateway port and its clients: TLS 1.3 only,
 * mutual authentication, ALPN h2 / http/1.1.
 */

#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#define TLS_ALPN_H2	"h2"
#define TLS_ALPN_H1	"http/1.1"

/*
 * Server context: certificate chain and key (PEM files), client
 * certificates required and verified against client_ca.  ALPN picks
 * h2, else http/1.1; a client that offers neither (or no ALPN at all)
 * gets no ALPN and speaks HTTP/1.1.  NULL on error (logged).
 */
SSL_CTX	*tls_server_ctx(const char *, const char *, const char *);
/* The same from PEM strings (certificate chain, key, client CAs). */
SSL_CTX	*tls_server_ctx_mem(const char *, const char *, const char *);
/*
 * Client context: server verified against ca; cert/key may be NULL
 * for no client certificate; alpn is one protocol name or NULL.
 */
SSL_CTX	*tls_client_ctx(const char *, const char *, const char *,
	    const char *);
/* Sets SNI and the name or IP address the server cert must match. */
int	 tls_client_host(SSL *, const char *);
/*
 * The CN of the verified peer certificate into buf.  -1 if there is no
 * verified certificate, no CN, or it does not fit.
 */
int	 tls_peer_cn(SSL *, char *, size_t);
/* 1 if ALPN selected h2 on this connection. */
int	 tls_alpn_is_h2(SSL *);
/* Logs the OpenSSL error queue with a prefix, then clears it. */
void	 tls_log_errors(const char *);

#endif /* TLS_H */
