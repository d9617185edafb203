/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * TLS termination (sandbox.md §4 with the G16 fixes).  At start proxyd
 * makes a CA of its own (ECDSA P-256, CN "OpenShell Sandbox CA",
 * 30 days, path length 0): its key exists only in this process's
 * memory.  Leaf certificates are made per CONNECT host (the client's
 * SNI is ignored: the policy judged the CONNECT host) and kept in an
 * LRU cache of TLS_LEAF_CACHE entries.  The agent side speaks TLS 1.2
 * or 1.3 with ALPN http/1.1; the upstream side verifies against the
 * system trust store plus the anchors the parent sends
 * (IPC_PROXY_TRUST), with SNI and host name checks: any failure closes
 * the tunnel (fail closed).
 *
 * Termination is on only once the parent sent IPC_PROXY_TRUST: that is
 * how it says it installs our CA (IPC_PROXY_CA, sent in reply) in the
 * agent's trust bundle.  Before that, TLS on an enforced L7 endpoint
 * is closed (l7.c) and other TLS tunnels stay raw.
 *
 * No name constraints: the hosts the CA must cover change with every
 * policy reload, so a constraint would be either too wide to matter or
 * stale.  The short validity and the key never leaving memory bound
 * what a leaked certificate could do.
 */

#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <event2/bufferevent_ssl.h>

#include "log.h"

#include "proxyd.h"

#define TLS_LEAF_CACHE		256
#define TLS_CA_DAYS		30
#define TLS_LEAF_DAYS		7
#define TLS_SYSTEM_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"

struct tls_leaf {
	char		 l_host[256];
	X509		*l_cert;
	EVP_PKEY	*l_key;
	uint64_t	 l_used;
};

struct tls_mitm {
	EVP_PKEY	*t_cakey;
	X509		*t_ca;
	char		*t_capem;
	SSL_CTX		*t_server;	/* towards the agent */
	SSL_CTX		*t_client;	/* towards upstream */
	int		 t_on;		/* the parent installs our CA */
	struct tls_leaf	 t_leaf[TLS_LEAF_CACHE];
	uint64_t	 t_clock;
	uint64_t	 t_hits;
	uint64_t	 t_misses;
};

static EVP_PKEY	*tls_keygen(void);
static int	 tls_ext(X509 *, X509 *, int, const char *);
static int	 tls_serial(X509 *);
static X509	*tls_ca_make(EVP_PKEY *);
static int	 tls_leaf_make(struct tls_mitm *, const char *,
		    struct tls_leaf *);
static struct tls_leaf *tls_leaf_get(struct tls_mitm *, const char *);
static int	 tls_alpn(SSL *, const unsigned char **, unsigned char *,
		    const unsigned char *, unsigned int, void *);
static void	 tls_event(struct bufferevent *, short, void *);

static const unsigned char tls_h11[] = "\x08http/1.1";

static EVP_PKEY *
tls_keygen(void)
{
	return EVP_EC_gen("P-256");
}

static int
tls_serial(X509 *x)
{
	unsigned char	 b[16];
	BIGNUM		*bn;
	int		 rc;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] &= 0x7f;
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		return -1;
	rc = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL ? 0 : -1;
	BN_free(bn);
	return rc;
}

/* One extension by its config text; issuer for the key identifiers. */
static int
tls_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;
	int		 rc;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	rc = X509_add_ext(x, e, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(e);
	return rc;
}

static X509 *
tls_ca_make(EVP_PKEY *key)
{
	X509		*x;
	X509_NAME	*n;

	if ((x = X509_new()) == NULL)
		return NULL;
	n = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 || tls_serial(x) == -1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)TLS_CA_DAYS * 86400) == NULL ||
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"OpenShell", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"OpenShell Sandbox CA", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, n) != 1 || X509_set_pubkey(x, key) != 1 ||
	    tls_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,"
	    "pathlen:0") == -1 ||
	    tls_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ==
	    -1 || tls_ext(x, x, NID_subject_key_identifier, "hash") == -1 ||
	    X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* A fresh leaf for host, signed by the CA, into l. */
static int
tls_leaf_make(struct tls_mitm *t, const char *host, struct tls_leaf *l)
{
	X509		*x = NULL;
	EVP_PKEY	*k;
	char		 san[300];
	unsigned char	 ip[16];
	int		 isip;

	isip = inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1;
	snprintf(san, sizeof(san), "%s:%s", isip ? "IP" : "DNS", host);
	if ((k = tls_keygen()) == NULL || (x = X509_new()) == NULL)
		goto bad;
	if (X509_set_version(x, 2) != 1 || tls_serial(x) == -1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)TLS_LEAF_DAYS * 86400) == NULL ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_UTF8, (const unsigned char *)host, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(t->t_ca)) != 1 ||
	    X509_set_pubkey(x, k) != 1 ||
	    tls_ext(x, t->t_ca, NID_basic_constraints, "critical,CA:FALSE") ==
	    -1 || tls_ext(x, t->t_ca, NID_key_usage,
	    "critical,digitalSignature") == -1 ||
	    tls_ext(x, t->t_ca, NID_ext_key_usage, "serverAuth") == -1 ||
	    tls_ext(x, t->t_ca, NID_subject_alt_name, san) == -1 ||
	    tls_ext(x, t->t_ca, NID_authority_key_identifier, "keyid") == -1 ||
	    X509_sign(x, t->t_cakey, EVP_sha256()) == 0)
		goto bad;
	strlcpy(l->l_host, host, sizeof(l->l_host));
	l->l_cert = x;
	l->l_key = k;
	return 0;
bad:
	X509_free(x);
	EVP_PKEY_free(k);
	return -1;
}

/* The cached leaf for host, or a new one in the least used slot. */
static struct tls_leaf *
tls_leaf_get(struct tls_mitm *t, const char *host)
{
	struct tls_leaf	*l, *lru = &t->t_leaf[0];
	size_t		 i;

	for (i = 0; i < TLS_LEAF_CACHE; i++) {
		l = &t->t_leaf[i];
		if (l->l_cert != NULL && strcasecmp(l->l_host, host) == 0) {
			l->l_used = ++t->t_clock;
			t->t_hits++;
			return l;
		}
		if (l->l_used < lru->l_used)
			lru = l;
	}
	t->t_misses++;
	X509_free(lru->l_cert);
	EVP_PKEY_free(lru->l_key);
	memset(lru, 0, sizeof(*lru));
	if (tls_leaf_make(t, host, lru) == -1)
		return NULL;
	lru->l_used = ++t->t_clock;
	return lru;
}

/* ALPN towards the agent: http/1.1 or nothing. */
static int
tls_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, tls_h11,
	    sizeof(tls_h11) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * At start, before the sandbox closes the filesystem: the CA, both
 * contexts, and the system trust store read eagerly (no lazy lookups
 * after Landlock).  A failure leaves termination off (logged).
 */
void
tls_init(struct proxyd *pd)
{
	struct tls_mitm	*t;
	BIO		*b;
	BUF_MEM		*m;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return;
	if ((t->t_cakey = tls_keygen()) == NULL ||
	    (t->t_ca = tls_ca_make(t->t_cakey)) == NULL ||
	    (t->t_server = SSL_CTX_new(TLS_server_method())) == NULL ||
	    (t->t_client = SSL_CTX_new(TLS_client_method())) == NULL)
		goto bad;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, t->t_ca) != 1) {
		BIO_free(b);
		goto bad;
	}
	BIO_get_mem_ptr(b, &m);
	t->t_capem = strndup(m->data, m->length);
	BIO_free(b);
	SSL_CTX_set_min_proto_version(t->t_server, TLS1_2_VERSION);
	SSL_CTX_set_min_proto_version(t->t_client, TLS1_2_VERSION);
	SSL_CTX_set_alpn_select_cb(t->t_server, tls_alpn, NULL);
	SSL_CTX_set_alpn_protos(t->t_client, tls_h11, sizeof(tls_h11) - 1);
	SSL_CTX_set_verify(t->t_client, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(t->t_server, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_options(t->t_client, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_load_verify_file(t->t_client, TLS_SYSTEM_BUNDLE) != 1)
		log_warnx("TLS: no system trust store at %s",
		    TLS_SYSTEM_BUNDLE);
	ERR_clear_error();
	if (t->t_capem == NULL)
		goto bad;
	pd->pd_tls = t;
	log_info("TLS: sandbox CA ready (key in memory only)");
	return;
bad:
	log_warnx("TLS: cannot make the sandbox CA, termination disabled");
	tls_free(t);
}

void
tls_free(struct tls_mitm *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < TLS_LEAF_CACHE; i++) {
		X509_free(t->t_leaf[i].l_cert);
		EVP_PKEY_free(t->t_leaf[i].l_key);
	}
	SSL_CTX_free(t->t_server);
	SSL_CTX_free(t->t_client);
	X509_free(t->t_ca);
	EVP_PKEY_free(t->t_cakey);
	free(t->t_capem);
	free(t);
}

/*
 * [str pem]: extra upstream anchors; turns termination on and answers
 * with our CA (IPC_PROXY_CA).  Returns -1 for a bundle that does not
 * parse (nothing changes then).
 */
int
tls_trust(struct proxyd *pd, const char *pem)
{
	struct tls_mitm		*t = pd->pd_tls;
	STACK_OF(X509_INFO)	*infos;
	X509_INFO		*xi;
	X509_STORE		*st;
	BIO			*b;
	struct ipc_wr		 w;
	int			 i, n = 0;

	if (t == NULL) {
		/* No CA: say so, the parent must not wait for one. */
		ipc_wr_init(&w);
		ipc_wr_array(&w, 1);
		ipc_wr_str(&w, "");
		if (proc_child_compose_wr(&pd->pd_ps, PROC_PARENT,
		    IPC_PROXY_CA, 0, -1, &w) == -1)
			log_warn("TLS: sending the CA");
		return 0;
	}
	if (*pem != '\0') {
		if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
			return -1;
		infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
		BIO_free(b);
		if (infos == NULL)
			return -1;
		st = SSL_CTX_get_cert_store(t->t_client);
		for (i = 0; i < sk_X509_INFO_num(infos); i++) {
			xi = sk_X509_INFO_value(infos, i);
			if (xi->x509 != NULL &&
			    X509_STORE_add_cert(st, xi->x509) == 1)
				n++;
		}
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
		ERR_clear_error();
	}
	t->t_on = 1;
	log_info("TLS: termination on, %d extra upstream anchors", n);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, t->t_capem);
	if (proc_child_compose_wr(&pd->pd_ps, PROC_PARENT, IPC_PROXY_CA, 0,
	    -1, &w) == -1)
		log_warn("TLS: sending the CA");
	return 0;
}

int
tls_available(const struct proxyd *pd)
{
	return pd->pd_tls != NULL && pd->pd_tls->t_on;
}

void
tls_stats(const struct proxyd *pd, uint64_t *hits, uint64_t *misses)
{
	*hits = pd->pd_tls != NULL ? pd->pd_tls->t_hits : 0;
	*misses = pd->pd_tls != NULL ? pd->pd_tls->t_misses : 0;
}

/*
 * Terminate: the agent's side becomes a TLS server with a leaf for the
 * CONNECT host, the upstream side a verifying TLS client.  The
 * filters own the plain bufferevents (freed with them).  When both
 * handshakes are done the L7 relay starts on the decrypted streams.
 * -1: nothing changed, the caller closes.
 */
int
tls_start(struct conn *c)
{
	struct tls_mitm		*t = c->c_pd->pd_tls;
	struct tls_leaf		*l;
	struct bufferevent	*cb, *ub;
	SSL			*cs = NULL, *us = NULL;
	X509_VERIFY_PARAM	*vp;
	unsigned char		 ip[16];

	if ((l = tls_leaf_get(t, c->c_host)) == NULL ||
	    (cs = SSL_new(t->t_server)) == NULL ||
	    (us = SSL_new(t->t_client)) == NULL ||
	    SSL_use_certificate(cs, l->l_cert) != 1 ||
	    SSL_use_PrivateKey(cs, l->l_key) != 1 ||
	    SSL_add1_chain_cert(cs, t->t_ca) != 1)
		goto bad;
	vp = SSL_get0_param(us);
	if (inet_pton(AF_INET, c->c_host, ip) == 1 ||
	    inet_pton(AF_INET6, c->c_host, ip) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, c->c_host) != 1)
			goto bad;
	} else if (SSL_set_tlsext_host_name(us, c->c_host) != 1 ||
	    SSL_set1_host(us, c->c_host) != 1)
		goto bad;
	cb = bufferevent_openssl_filter_new(c->c_pd->pd_base, c->c_cbev, cs,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (cb == NULL)
		goto bad;
	cs = NULL;	/* the filter owns it (BEV_OPT_CLOSE_ON_FREE) */
	c->c_cbev = cb;
	ub = bufferevent_openssl_filter_new(c->c_pd->pd_base, c->c_ubev, us,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (ub == NULL)
		goto bad;
	c->c_ubev = ub;
	c->c_tls = 1;
	/* Many peers close without close_notify; the HTTP framing, not
	 * the TLS close, tells a complete response from a cut one. */
	bufferevent_openssl_set_allow_dirty_shutdown(cb, 1);
	bufferevent_openssl_set_allow_dirty_shutdown(ub, 1);
	bufferevent_setcb(cb, NULL, NULL, tls_event, c);
	bufferevent_setcb(ub, NULL, NULL, tls_event, c);
	bufferevent_enable(cb, EV_READ | EV_WRITE);
	bufferevent_enable(ub, EV_READ | EV_WRITE);
	/* The ClientHello already sits in the plain input: go on. */
	bufferevent_trigger(bufferevent_get_underlying(cb), EV_READ,
	    BEV_TRIG_IGNORE_WATERMARKS);
	return 0;
bad:
	SSL_free(cs);
	SSL_free(us);
	ERR_clear_error();
	return -1;
}

/* Handshake progress on either side. */
static void
tls_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	unsigned long	 e;
	char		 buf[256] = "";

	if (what & BEV_EVENT_CONNECTED) {
		if (bev == c->c_cbev)
			c->c_tls |= 2;
		else
			c->c_tls |= 4;
		if (c->c_tls == 7)
			l7_start(c);
		return;
	}
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	events_l7(c, "-", "-", NULL, "deny", bev == c->c_ubev ?
	    "upstream TLS failed (verification or handshake)" :
	    "agent TLS handshake failed");
	log_info("TLS %s:%u: %s handshake failed: %s", c->c_host, c->c_port,
	    bev == c->c_ubev ? "upstream" : "agent", buf[0] ? buf : "closed");
	front_close(c);
}
