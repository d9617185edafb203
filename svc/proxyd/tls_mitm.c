/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * TLS termination (sandbox.md §4 with the G16 fixes).  At start proxyd
 * makes a CA of its own (ECDSA P-256, CN "OpenShell Sandbox CA",
 * 30 days, path length 0): its key exists only in this process's
 * memory.  Leaf certificates are made per CONNECT host (the client's
 * SNI is ignored: the policy judged the CONNECT host) and kept in an
 * LRU cache of TLS_LEAF_CACHE entries.  All leaves share one key pair
 * (P-256, made at start like the CA's, in memory only): a leaf costs a
 * signature, not a key generation, and whoever could read that key
 * could read the CA's beside it.  The agent side speaks TLS 1.2 or 1.3
 * with ALPN http/1.1 only (G16: HTTP/2 is not inspected; an h2-only
 * client gets the no_application_protocol alert); the upstream
 * side verifies against the system trust store plus the anchors the
 * parent sends (IPC_PROXY_TRUST), with SNI and host name checks: any
 * failure closes the tunnel (fail closed).
 *
 * Upstream sessions are resumed: the last session (TLS 1.3 ticket or
 * 1.2 session) a verified handshake with host:port gave is kept, by
 * that exact host and port, in an LRU of TLS_SESS_CACHE entries, and
 * offered on the next tunnel to it; a failed handshake forgets it.  A
 * resumed session was verified for that name when it was made, and
 * lives no longer than the server's ticket lifetime.
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

#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdint.h>
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

#include "libpki/pki.h"
#include "log.h"

#include "proxyd.h"

#define TLS_LEAF_CACHE		256
#define TLS_SESS_CACHE		256
#define TLS_CA_DAYS		30
#define TLS_LEAF_DAYS		7
#define TLS_SYSTEM_BUNDLE	"/etc/ssl/certs/ca-certificates.crt"
#define TLS_ROOTS_DELAY_MS	50	/* after the CA went to the parent */
#define TLS_BEV_OPTS		(BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)

struct tls_leaf {
	char		 l_host[256];
	X509		*l_cert;
	uint64_t	 l_used;
};

/* The last upstream session with host:port. */
struct tls_sess {
	char		 s_host[256];
	uint16_t	 s_port;
	SSL_SESSION	*s_sess;
	uint64_t	 s_used;
};

struct tls_mitm {
	EVP_PKEY	*t_cakey;
	EVP_PKEY	*t_leafkey;	/* every leaf's */
	X509		*t_ca;
	X509		*t_leaftpl;	/* what leaves have in common */
	char		*t_capem;
	char		*t_rcert;	/* inference.local's, for routerd */
	char		*t_rkey;
	SSL_CTX		*t_server;	/* towards the agent */
	SSL_CTX		*t_client;	/* towards upstream */
	BIO		*t_roots;	/* the system bundle, not parsed yet */
	int		 t_on;		/* the parent installs our CA */
	struct tls_leaf	 t_leaf[TLS_LEAF_CACHE];
	uint64_t	 t_clock;
	uint64_t	 t_hits;
	uint64_t	 t_misses;
	struct tls_sess	 t_sess[TLS_SESS_CACHE];
	uint64_t	 t_sclock;
};

static EVP_PKEY	*tls_keygen(void);
static int	 tls_ext(X509 *, X509 *, int, const char *);
static int	 tls_serial(X509 *);
static X509	*tls_ca_make(EVP_PKEY *);
static X509	*tls_leaf_template(struct tls_mitm *);
static int	 tls_san(X509 *, const char *);
static int	 tls_leaf_make(struct tls_mitm *, const char *,
		    struct tls_leaf *);
static struct tls_leaf *tls_leaf_get(struct tls_mitm *, const char *);
static X509	*tls_leaf_sign(struct tls_mitm *, X509 *, const char *);
static struct tls_sess *tls_sess_find(struct tls_mitm *, const char *,
		    uint16_t);
static int	 tls_sess_new(SSL *, SSL_SESSION *);
static void	 tls_sess_forget(struct conn *);
static int	 tls_ctx_init(struct tls_mitm *);
static void	 tls_roots_read(struct tls_mitm *);
static void	 tls_roots_load(struct tls_mitm *);
static void	 tls_roots_idle(evutil_socket_t, short, void *);
static int	 tls_upstream(struct conn *, SSL *);
static int	 tls_alpn(SSL *, const unsigned char **, unsigned char *,
		    const unsigned char *, unsigned int, void *);
static void	 tls_event(struct bufferevent *, short, void *);
static void	 tls_alert_flush(struct conn *);
static void	 tls_shut_cb(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);

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

/*
 * What every leaf has in common, made once: encoding the public key
 * costs OpenSSL 3 more than the signature, so a leaf starts as a copy
 * of this.  Signed (it names no host) only so that it can be copied.
 */
static X509 *
tls_leaf_template(struct tls_mitm *t)
{
	X509	*x;

	if ((x = X509_new()) == NULL)
		return NULL;
	if (X509_set_version(x, 2) != 1 || tls_serial(x) == -1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 0) == NULL ||
	    X509_set_issuer_name(x, X509_get_subject_name(t->t_ca)) != 1 ||
	    X509_set_pubkey(x, t->t_leafkey) != 1 ||
	    tls_ext(x, t->t_ca, NID_basic_constraints, "critical,CA:FALSE") ==
	    -1 || tls_ext(x, t->t_ca, NID_key_usage,
	    "critical,digitalSignature") == -1 ||
	    tls_ext(x, t->t_ca, NID_ext_key_usage, "serverAuth") == -1 ||
	    tls_ext(x, t->t_ca, NID_authority_key_identifier, "keyid") == -1 ||
	    X509_sign(x, t->t_cakey, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * The subjectAltName of host: one dNSName, or one iPAddress for an
 * address literal.  Built from its parts, not from config text, so no
 * byte of the host name is syntax.
 */
static int
tls_san(X509 *x, const char *host)
{
	GENERAL_NAMES		*gens;
	GENERAL_NAME		*gn = NULL;
	ASN1_STRING		*v = NULL;
	unsigned char		 ip[16];
	int			 rc = -1, type = GEN_DNS, len = -1;

	if (inet_pton(AF_INET, host, ip) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		len = 16;
	if (len != -1)
		type = GEN_IPADD;
	if ((gens = sk_GENERAL_NAME_new_null()) == NULL ||
	    (gn = GENERAL_NAME_new()) == NULL ||
	    (v = type == GEN_IPADD ? ASN1_OCTET_STRING_new() :
	    ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(v, type == GEN_IPADD ? (const void *)ip :
	    (const void *)host, len) != 1)
		goto out;
	GENERAL_NAME_set0_value(gn, type, v);
	v = NULL;
	if (sk_GENERAL_NAME_push(gens, gn) == 0)
		goto out;
	gn = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	ASN1_STRING_free(v);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* A fresh leaf for host, signed by the CA, into l. */
static int
tls_leaf_make(struct tls_mitm *t, const char *host, struct tls_leaf *l)
{
	X509		*x;

	if ((x = tls_leaf_sign(t, X509_dup(t->t_leaftpl), host)) == NULL)
		return -1;
	strlcpy(l->l_host, host, sizeof(l->l_host));
	l->l_cert = x;
	return 0;
}

/* x (a copy of the template; NULL passes) named host and signed. */
static X509 *
tls_leaf_sign(struct tls_mitm *t, X509 *x, const char *host)
{
	if (x == NULL)
		return NULL;
	if (tls_serial(x) == -1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)TLS_LEAF_DAYS * 86400) == NULL ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_UTF8, (const unsigned char *)host, -1, -1, 0) != 1 ||
	    tls_san(x, host) == -1 ||
	    X509_sign(x, t->t_cakey, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * inference.local's leaf and key in PEM, for routerd, which terminates
 * those tunnels (IPC_ROUTER_TUNNEL).  Its key is its own: the key of
 * every other leaf, and the CA's, stay here.  Made once per CA.
 */
int
tls_router_leaf(struct proxyd *pd, const char **cert, const char **key)
{
	struct tls_mitm	*t = pd->pd_tls;
	EVP_PKEY	*k;
	X509		*x = NULL;

	if (t == NULL || !t->t_on)
		return -1;
	if (t->t_rcert == NULL) {
		if ((k = tls_keygen()) == NULL)
			return -1;
		if ((x = X509_dup(t->t_leaftpl)) != NULL &&
		    X509_set_pubkey(x, k) == 1)
			x = tls_leaf_sign(t, x, "inference.local");
		else {
			X509_free(x);
			x = NULL;
		}
		if (x != NULL && pki_cert_pem(x, &t->t_rcert) == 0 &&
		    pki_cert_key_pem(k, &t->t_rkey) == -1) {
			free(t->t_rcert);
			t->t_rcert = NULL;
		}
		X509_free(x);
		EVP_PKEY_free(k);
		if (t->t_rcert == NULL || t->t_rkey == NULL)
			return -1;
	}
	*cert = t->t_rcert;
	*key = t->t_rkey;
	return 0;
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
	memset(lru, 0, sizeof(*lru));
	if (tls_leaf_make(t, host, lru) == -1)
		return NULL;
	lru->l_used = ++t->t_clock;
	return lru;
}

/*
 * ALPN towards the agent: http/1.1 (G16: the relay inspects HTTP/1.1
 * only).  A client that offers protocols but not http/1.1 (an h2-only
 * or gRPC client) gets the no_application_protocol alert RFC 7301
 * asks for: a clear failure at once, not HTTP/1.1 bytes its HTTP/2
 * parser would choke on.  No ALPN offered: no ALPN answered.
 */
static int
tls_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	struct conn	*c = SSL_get_app_data(ssl);

	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, tls_h11,
	    sizeof(tls_h11) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	if (c != NULL)
		log_info("TLS %s:%u: the agent offers no http/1.1 in ALPN "
		    "(HTTP/2 only?): refused, only HTTP/1.1 is inspected",
		    c->c_host, c->c_port);
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/*
 * Both contexts.  The agent side's holds the leaf key and the CA as
 * the chain, so a handshake only sets its host's certificate.
 */
static int
tls_ctx_init(struct tls_mitm *t)
{
	if ((t->t_server = SSL_CTX_new(TLS_server_method())) == NULL ||
	    (t->t_client = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(t->t_server, TLS1_2_VERSION);
	SSL_CTX_set_min_proto_version(t->t_client, TLS1_2_VERSION);
	SSL_CTX_set_alpn_select_cb(t->t_server, tls_alpn, NULL);
	SSL_CTX_set_alpn_protos(t->t_client, tls_h11, sizeof(tls_h11) - 1);
	SSL_CTX_set_verify(t->t_client, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(t->t_server, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_options(t->t_client, SSL_OP_NO_RENEGOTIATION);
	/* One ticket is what a resuming agent uses; the second costs. */
	SSL_CTX_set_num_tickets(t->t_server, 1);
	SSL_CTX_set_session_cache_mode(t->t_client, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_sess_set_new_cb(t->t_client, tls_sess_new);
	if (SSL_CTX_use_PrivateKey(t->t_server, t->t_leafkey) != 1 ||
	    SSL_CTX_add1_chain_cert(t->t_server, t->t_ca) != 1)
		return -1;
	tls_roots_read(t);
	return 0;
}

/*
 * The system trust store is read now (no filesystem once the sandbox
 * is closed) but parsed later: OpenSSL 3.0 takes some 30 ms for the
 * bundle, which would hold up the sandbox's start.  It is parsed once
 * the CA went to the parent (tls_trust), or by the first upstream
 * handshake if that comes first: no certificate is ever verified
 * against a partial store.
 */
static void
tls_roots_read(struct tls_mitm *t)
{
	BIO	*in;
	char	 buf[16384];
	int	 n, bad = 0;

	if ((in = BIO_new_file(TLS_SYSTEM_BUNDLE, "rb")) == NULL ||
	    (t->t_roots = BIO_new(BIO_s_mem())) == NULL) {
		log_warnx("TLS: no system trust store at %s",
		    TLS_SYSTEM_BUNDLE);
		BIO_free(in);
		ERR_clear_error();
		return;
	}
	while (!bad && (n = BIO_read(in, buf, sizeof(buf))) > 0)
		bad = BIO_write(t->t_roots, buf, n) != n;
	BIO_free(in);
	if (bad) {
		log_warnx("TLS: cannot read %s", TLS_SYSTEM_BUNDLE);
		BIO_free(t->t_roots);
		t->t_roots = NULL;
	}
	ERR_clear_error();
}

static void
tls_roots_load(struct tls_mitm *t)
{
	char	*data;
	long	 len;

	if (t->t_roots == NULL)
		return;
	if ((len = BIO_get_mem_data(t->t_roots, &data)) <= 0 ||
	    pki_store_add_pem(SSL_CTX_get_cert_store(t->t_client), data,
	    (size_t)len) == -1)
		log_warnx("TLS: %s does not parse", TLS_SYSTEM_BUNDLE);
	BIO_free(t->t_roots);
	t->t_roots = NULL;
}

static void
tls_roots_idle(evutil_socket_t fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	tls_roots_load(arg);
}

/* The cached session slot of host:port, or NULL. */
static struct tls_sess *
tls_sess_find(struct tls_mitm *t, const char *host, uint16_t port)
{
	size_t	 i;

	for (i = 0; i < TLS_SESS_CACHE; i++)
		if (t->t_sess[i].s_sess != NULL && t->t_sess[i].s_port == port &&
		    strcasecmp(t->t_sess[i].s_host, host) == 0)
			return &t->t_sess[i];
	return NULL;
}

/*
 * OpenSSL has a new upstream session (after a verified handshake, or
 * a TLS 1.3 ticket later): keep a copy for the tunnel's host:port.  A
 * copy, because OpenSSL marks the connection's own session not
 * resumable when that connection ends in an error (a server's close
 * without close_notify is one).  Returns 0: the reference stays
 * OpenSSL's.
 */
static int
tls_sess_new(SSL *ssl, SSL_SESSION *sess)
{
	struct conn	*c = SSL_get_app_data(ssl);
	struct tls_mitm	*t;
	struct tls_sess	*s, *lru;
	SSL_SESSION	*dup;
	size_t		 i;

	if (c == NULL || SSL_get_verify_result(ssl) != X509_V_OK ||
	    !SSL_SESSION_is_resumable(sess) ||
	    (dup = SSL_SESSION_dup(sess)) == NULL)
		return 0;
	t = c->c_pd->pd_tls;
	if ((s = tls_sess_find(t, c->c_host, c->c_port)) == NULL) {
		for (lru = &t->t_sess[0], i = 0; i < TLS_SESS_CACHE; i++)
			if (t->t_sess[i].s_used < lru->s_used)
				lru = &t->t_sess[i];
		s = lru;
		strlcpy(s->s_host, c->c_host, sizeof(s->s_host));
		s->s_port = c->c_port;
	}
	SSL_SESSION_free(s->s_sess);
	s->s_sess = dup;
	s->s_used = ++t->t_sclock;
	return 0;
}

/* The upstream handshake of c failed: its session goes too. */
static void
tls_sess_forget(struct conn *c)
{
	struct tls_sess	*s;

	if ((s = tls_sess_find(c->c_pd->pd_tls, c->c_host, c->c_port)) ==
	    NULL)
		return;
	SSL_SESSION_free(s->s_sess);
	memset(s, 0, sizeof(*s));
}

/*
 * The upstream SSL of c: verification of the CONNECT host (name with
 * SNI, or address), and its last session if there is one.
 */
static int
tls_upstream(struct conn *c, SSL *us)
{
	struct tls_sess		*s;
	X509_VERIFY_PARAM	*vp = SSL_get0_param(us);
	unsigned char		 ip[16];

	if (inet_pton(AF_INET, c->c_host, ip) == 1 ||
	    inet_pton(AF_INET6, c->c_host, ip) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, c->c_host) != 1)
			return -1;
	} else if (SSL_set_tlsext_host_name(us, c->c_host) != 1 ||
	    SSL_set1_host(us, c->c_host) != 1)
		return -1;
	if ((s = tls_sess_find(c->c_pd->pd_tls, c->c_host, c->c_port)) !=
	    NULL) {
		if (SSL_SESSION_is_resumable(s->s_sess) &&
		    SSL_set_session(us, s->s_sess) == 1)
			s->s_used = ++c->c_pd->pd_tls->t_sclock;
		ERR_clear_error();
	}
	/* For tls_sess_new; the SSL goes with c (the filter's). */
	SSL_set_app_data(us, c);
	return 0;
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

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return;
	if ((t->t_cakey = tls_keygen()) == NULL ||
	    (t->t_leafkey = tls_keygen()) == NULL ||
	    (t->t_ca = tls_ca_make(t->t_cakey)) == NULL ||
	    (t->t_leaftpl = tls_leaf_template(t)) == NULL ||
	    tls_ctx_init(t) == -1)
		goto bad;
	if (pki_cert_pem(t->t_ca, &t->t_capem) == -1)
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
	for (i = 0; i < TLS_LEAF_CACHE; i++)
		X509_free(t->t_leaf[i].l_cert);
	for (i = 0; i < TLS_SESS_CACHE; i++)
		SSL_SESSION_free(t->t_sess[i].s_sess);
	SSL_CTX_free(t->t_server);
	SSL_CTX_free(t->t_client);
	BIO_free(t->t_roots);
	X509_free(t->t_ca);
	X509_free(t->t_leaftpl);
	EVP_PKEY_free(t->t_cakey);
	EVP_PKEY_free(t->t_leafkey);
	free(t->t_capem);
	free(t->t_rcert);
	pki_free_secret(t->t_rkey);
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
	struct ipc_wr		 w;
	struct timeval		 tv = { 0, TLS_ROOTS_DELAY_MS * 1000 };
	int			 n = 0;

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
	if (*pem != '\0' && (n = pki_store_add_pem(
	    SSL_CTX_get_cert_store(t->t_client), pem, strlen(pem))) == -1)
		return -1;
	t->t_on = 1;
	log_info("TLS: termination on, %d extra upstream anchors", n);
	ipc_wr_init(&w);
	ipc_wr_array(&w, 1);
	ipc_wr_str(&w, t->t_capem);
	if (proc_child_compose_wr(&pd->pd_ps, PROC_PARENT, IPC_PROXY_CA, 0,
	    -1, &w) == -1)
		log_warn("TLS: sending the CA");
	/* The CA goes first, then the system bundle is parsed. */
	if (t->t_roots != NULL && event_base_once(pd->pd_base, -1,
	    EV_TIMEOUT, tls_roots_idle, t, &tv) == -1)
		tls_roots_load(t);
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

	tls_roots_load(t);
	if ((l = tls_leaf_get(t, c->c_host)) == NULL ||
	    (cs = SSL_new(t->t_server)) == NULL ||
	    (us = SSL_new(t->t_client)) == NULL ||
	    SSL_use_certificate(cs, l->l_cert) != 1 ||
	    tls_upstream(c, us) == -1)
		goto bad;
	SSL_set_app_data(cs, c);	/* for tls_alpn's log line */
	/*
	 * Deferred callbacks: libevent's TLS filter reports EOF before it
	 * commits the bytes read in the same pass, so a response and the
	 * server's close arriving together would be cut; deferred, the
	 * read callback runs first.
	 */
	cb = bufferevent_openssl_filter_new(c->c_pd->pd_base, c->c_cbev, cs,
	    BUFFEREVENT_SSL_ACCEPTING, TLS_BEV_OPTS);
	if (cb == NULL)
		goto bad;
	cs = NULL;	/* the filter owns it (BEV_OPT_CLOSE_ON_FREE) */
	c->c_cbev = cb;
	ub = bufferevent_openssl_filter_new(c->c_pd->pd_base, c->c_ubev, us,
	    BUFFEREVENT_SSL_CONNECTING, TLS_BEV_OPTS);
	if (ub == NULL)
		goto bad;
	c->c_ubev = ub;
	c->c_tls = 1;
	/*
	 * The filters encrypt into their sockets' output only up to its
	 * write high-water mark: without one a peer that does not read
	 * would have us hold all the other side sends (the pipelines'
	 * PROXY_RELAY_HIGH checks see only the filters' plain output).
	 */
	bufferevent_setwatermark(bufferevent_get_underlying(cb), EV_WRITE,
	    PROXY_RELAY_HIGH / 2, PROXY_RELAY_HIGH);
	bufferevent_setwatermark(bufferevent_get_underlying(ub), EV_WRITE,
	    PROXY_RELAY_HIGH / 2, PROXY_RELAY_HIGH);
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

/*
 * The agent's handshake failed: the alert OpenSSL wrote (say
 * no_application_protocol) waits in the socket's output, which the
 * filter keeps frozen; send it now, best effort and only whole (one
 * small contiguous chunk), before the tunnel is closed.
 */
static void
tls_alert_flush(struct conn *c)
{
	struct bufferevent	*u = bufferevent_get_underlying(c->c_cbev);
	struct evbuffer		*out;
	struct evbuffer_iovec	 v;

	if (u == NULL)
		return;
	out = bufferevent_get_output(u);
	if (evbuffer_peek(out, -1, NULL, &v, 1) != 1 ||
	    v.iov_len != evbuffer_get_length(out) || v.iov_len > 512)
		return;
	(void)send(bufferevent_getfd(u), v.iov_base, v.iov_len,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*
 * The last response went through the agent's TLS layer (front_finish
 * drained the filter): close_notify, then the TCP half-close once the
 * socket took every byte.  A close-delimited body ends only there: the
 * client must not wait for the linger time to learn it is complete.
 * Then front_sent: a client whose end came first is done with.  The
 * callback holds c: tls_conn_free removes it when c goes first.
 */
void
tls_close_notify(struct conn *c)
{
	struct bufferevent	*u = bufferevent_get_underlying(c->c_cbev);
	SSL			*ssl = bufferevent_openssl_get_ssl(c->c_cbev);
	struct evbuffer		*out;

	if (u == NULL || ssl == NULL || c->c_tls != 7)
		return;
	(void)SSL_shutdown(ssl);
	ERR_clear_error();
	out = bufferevent_get_output(u);
	if (evbuffer_get_length(out) == 0) {
		(void)shutdown(bufferevent_getfd(u), SHUT_WR);
		front_sent(c);
	} else	/* failing that, the linger time ends it, as before */
		(void)evbuffer_add_cb(out, tls_shut_cb, c);
}

static void
tls_shut_cb(struct evbuffer *out, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn		*c = arg;
	struct bufferevent	*u = bufferevent_get_underlying(c->c_cbev);

	if (info->n_deleted == 0 || evbuffer_get_length(out) > 0)
		return;
	evbuffer_remove_cb(out, tls_shut_cb, c);
	(void)shutdown(bufferevent_getfd(u), SHUT_WR);
	front_sent(c);
}

/*
 * Bytes for the agent not on the wire yet: plain ones in the filter,
 * or records (the close_notify among them) in the socket's output.
 */
int
tls_unsent(const struct conn *c)
{
	struct bufferevent	*u;

	if (c->c_tls != 7 || (u = bufferevent_get_underlying(c->c_cbev)) ==
	    NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(c->c_cbev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(u)) > 0;
}

/* c goes: its socket's output must not call back into it. */
void
tls_conn_free(struct conn *c)
{
	struct bufferevent	*u;

	if (c->c_tls == 0 || (u = bufferevent_get_underlying(c->c_cbev)) ==
	    NULL)
		return;
	(void)evbuffer_remove_cb(bufferevent_get_output(u), tls_shut_cb, c);
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
		if ((what & BEV_EVENT_EOF) && bev == c->c_cbev)
			c->c_ceof = 1;
		if (c->c_tls == 7)
			l7_start(c);
		return;
	}
	/*
	 * The agent's handshake is done and it sent its requests and its
	 * end (a half-close) before upstream's handshake was: they wait
	 * in its input for l7_start, which sees the EOF.  Nothing sent:
	 * nothing to answer, closed below.
	 */
	if ((what & BEV_EVENT_EOF) && bev == c->c_cbev && (c->c_tls & 2) &&
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0) {
		c->c_ceof = 1;
		return;
	}
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	if (bev == c->c_ubev)
		tls_sess_forget(c);
	else
		tls_alert_flush(c);
	events_l7(c, "-", "-", NULL, "deny", bev == c->c_ubev ?
	    "upstream TLS failed (verification or handshake)" :
	    "agent TLS handshake failed");
	log_info("TLS %s:%u: %s handshake failed: %s", c->c_host, c->c_port,
	    bev == c->c_ubev ? "upstream" : "agent", buf[0] ? buf : "closed");
	front_close(c);
}
