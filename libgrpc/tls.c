/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * TLS contexts.  Only TLS 1.3 is offered: every client we have
 * (grpcio, our CLI and supervisors) speaks it, and it removes
 * renegotiation and the weak suites from the picture.
 */

#include <arpa/inet.h>

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"

static int	 tls_alpn_select(SSL *, const unsigned char **,
		    unsigned char *, const unsigned char *, unsigned int,
		    void *);
static int	 tls_load_pair(SSL_CTX *, const char *, const char *);
static SSL_CTX	*tls_ctx_new(const SSL_METHOD *);

/* ALPN wire format: length-prefixed names, preferred first. */
static const unsigned char tls_server_protos[] =
    "\x02h2\x08http/1.1";

void
tls_log_errors(const char *what)
{
	unsigned long	 e;
	char		 buf[256];
	int		 any = 0;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_warnx("%s: %s", what, buf);
		any = 1;
	}
	if (!any)
		log_warnx("%s: failed", what);
}

static SSL_CTX *
tls_ctx_new(const SSL_METHOD *method)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

static int
tls_load_pair(SSL_CTX *ctx, const char *cert, const char *key)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		return -1;
	return 0;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, const char *client_ca)
{
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*names;

	if ((ctx = tls_ctx_new(TLS_server_method())) == NULL)
		goto fail;
	if (tls_load_pair(ctx, cert, key) != 0)
		goto fail;
	if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1)
		goto fail;
	if ((names = SSL_load_client_CA_file(client_ca)) == NULL)
		goto fail;
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/*
	 * No session tickets: resumption would skip the client
	 * certificate check on later connections, and our peers keep
	 * connections open anyway.
	 */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select, NULL);
	return ctx;
fail:
	tls_log_errors("tls server context");
	SSL_CTX_free(ctx);
	return NULL;
}

static int
tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char	*sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, tls_server_protos,
	    sizeof(tls_server_protos) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *
tls_client_ctx(const char *ca, const char *cert, const char *key,
    const char *alpn)
{
	SSL_CTX		*ctx;
	unsigned char	 wire[256];
	size_t		 len;

	if ((ctx = tls_ctx_new(TLS_client_method())) == NULL)
		goto fail;
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert != NULL && tls_load_pair(ctx, cert, key) != 0)
		goto fail;
	if (alpn != NULL) {
		len = strlen(alpn);
		if (len == 0 || len >= sizeof(wire) - 1)
			goto fail;
		wire[0] = (unsigned char)len;
		memcpy(wire + 1, alpn, len);
		/* Returns 0 on success, unlike most of OpenSSL. */
		if (SSL_CTX_set_alpn_protos(ctx, wire, len + 1) != 0)
			goto fail;
	}
	return ctx;
fail:
	tls_log_errors("tls client context");
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_client_host(SSL *ssl, const char *host)
{
	X509_VERIFY_PARAM	*vp;
	struct in6_addr		 a6;
	struct in_addr		 a4;

	vp = SSL_get0_param(ssl);
	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(vp, host) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, host) != 1)
		return -1;
	return X509_VERIFY_PARAM_set1_host(vp, host, 0) == 1 ? 0 : -1;
}

int
tls_peer_cn(SSL *ssl, char *buf, size_t len)
{
	X509		*peer;
	X509_NAME	*name;
	int		 n;

	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	if ((peer = SSL_get0_peer_certificate(ssl)) == NULL)
		return -1;
	if ((name = X509_get_subject_name(peer)) == NULL)
		return -1;
	n = X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)len);
	if (n <= 0 || (size_t)n >= len || strlen(buf) != (size_t)n)
		return -1;	/* none, truncated or with an embedded NUL */
	return 0;
}

int
tls_alpn_is_h2(SSL *ssl)
{
	const unsigned char	*p;
	unsigned int		 len;

	SSL_get0_alpn_selected(ssl, &p, &len);
	return len == 2 && memcmp(p, "h2", 2) == 0;
}
