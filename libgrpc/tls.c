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
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"

static int	 tls_alpn_select(SSL *, const unsigned char **,
		    unsigned char *, const unsigned char *, unsigned int,
		    void *);
static int	 tls_load_pair(SSL_CTX *, const char *, const char *);
static SSL_CTX	*tls_ctx_new(const SSL_METHOD *);
static void	 tls_server_common(SSL_CTX *);
static int	 tls_mem_pair(SSL_CTX *, const char *, const char *);
static int	 tls_mem_ca(SSL_CTX *, const char *);

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
	tls_server_common(ctx);
	return ctx;
fail:
	tls_log_errors("tls server context");
	SSL_CTX_free(ctx);
	return NULL;
}

static void
tls_server_common(SSL_CTX *ctx)
{
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
}

/*
 * As tls_server_ctx(), from PEM strings: a sandboxed process gets its
 * key material over IPC and cannot open the files.
 */
SSL_CTX *
tls_server_ctx_mem(const char *cert_pem, const char *key_pem,
    const char *client_ca_pem)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_ctx_new(TLS_server_method())) == NULL ||
	    tls_mem_pair(ctx, cert_pem, key_pem) != 0 ||
	    tls_mem_ca(ctx, client_ca_pem) != 0) {
		tls_log_errors("tls server context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	tls_server_common(ctx);
	return ctx;
}

/* The leaf, then any chain certificates, then the key. */
static int
tls_mem_pair(SSL_CTX *ctx, const char *cert_pem, const char *key_pem)
{
	BIO		*bio;
	X509		*x;
	EVP_PKEY	*key;
	int		 rc = -1;

	if ((bio = BIO_new_mem_buf(cert_pem, -1)) == NULL)
		return -1;
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1)
		goto done;
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			goto done;
		}
	ERR_clear_error();	/* the end of the chain */
	BIO_free(bio);
	if ((bio = BIO_new_mem_buf(key_pem, -1)) == NULL)
		return -1;
	if ((key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
		goto done;
	if (SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
	    SSL_CTX_check_private_key(ctx) == 1)
		rc = 0;
	EVP_PKEY_free(key);
 done:
	BIO_free(bio);
	return rc;
}

/* Every certificate in the PEM is trusted and named to clients. */
static int
tls_mem_ca(SSL_CTX *ctx, const char *ca_pem)
{
	X509_STORE		*store = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509_NAME)	*names;
	BIO			*bio;
	X509			*x;
	int			 n = 0;

	if ((names = sk_X509_NAME_new_null()) == NULL)
		return -1;
	if ((bio = BIO_new_mem_buf(ca_pem, -1)) == NULL) {
		sk_X509_NAME_free(names);
		return -1;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, x) != 1 ||
		    sk_X509_NAME_push(names,
		    X509_NAME_dup(X509_get_subject_name(x))) <= 0) {
			X509_free(x);
			break;
		}
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (n == 0) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	return 0;
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
