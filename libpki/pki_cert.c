/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Building and reading certificates.
 */

#include <arpa/inet.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"
#include "pki_local.h"

/* Tolerates clocks a little behind the issuer's (sandbox vs gateway). */
#define PKI_BACKDATE_SECS	300
#define PKI_SERIAL_BYTES	16
#define PKI_DNS_MAX		253

struct pki_ext {
	int		 nid;
	const char	*value;
};

static const struct pki_ext pki_ca_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_undef, NULL }
};

static const struct pki_ext pki_server_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
	{ NID_undef, NULL }
};

static const struct pki_ext pki_client_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "clientAuth" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
	{ NID_undef, NULL }
};

static int	 pki_cert_serial(X509 *);
static int	 pki_cert_validity(X509 *, int);
static int	 pki_cert_names(X509 *, const char *, X509 *);
static int	 pki_cert_exts(X509 *, X509 *, const struct pki_ext *);
static int	 pki_cert_sans(X509 *, const char *const *);
static int	 pki_cert_san_add(GENERAL_NAMES *, const char *);
static int	 pki_cert_san_ip(GENERAL_NAMES *, const char *,
		    GENERAL_NAME **);
static int	 pki_cert_san_dns(GENERAL_NAMES *, const char *,
		    GENERAL_NAME **);
static int	 pki_cert_valid_dns(const char *);
static int	 pki_cert_bio_str(BIO *, char **);

EVP_PKEY *
pki_cert_keygen(void)
{
	EVP_PKEY	*key;

	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		pki_sslerr("P-256 key generation");
	return key;
}

/*
 * A certificate of the given kind for key, named O=openshell, CN=cn,
 * signed by issuer/issuer_key, or self-signed when issuer is NULL.
 * sans only matter for a server.
 */
X509 *
pki_cert_make(enum pki_kind kind, const char *cn, EVP_PKEY *key,
    X509 *issuer, EVP_PKEY *issuer_key, int days, const char *const *sans)
{
	const struct pki_ext	*exts;
	X509			*x;

	exts = kind == PKI_KIND_CA ? pki_ca_exts : kind == PKI_KIND_SERVER ?
	    pki_server_exts : pki_client_exts;
	if ((x = X509_new()) == NULL) {
		pki_sslerr("X509_new");
		return NULL;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    pki_cert_serial(x) == -1 || pki_cert_validity(x, days) == -1 ||
	    pki_cert_names(x, cn, issuer) == -1 ||
	    X509_set_pubkey(x, key) != 1 ||
	    pki_cert_exts(x, issuer, exts) == -1 ||
	    (kind == PKI_KIND_SERVER && pki_cert_sans(x, sans) == -1))
		goto fail;
	if (X509_sign(x, issuer_key != NULL ? issuer_key : key,
	    EVP_sha256()) <= 0)
		goto fail;
	return x;
 fail:
	pki_sslerr(cn);
	X509_free(x);
	return NULL;
}

/* 128 random bits: unpredictable, and unique without any state. */
static int
pki_cert_serial(X509 *x)
{
	unsigned char	 b[PKI_SERIAL_BYTES];
	BIGNUM		*bn;
	ASN1_INTEGER	*ai = NULL;
	int		 rc = -1;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[sizeof(b) - 1] |= 1;	/* never zero */
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) != NULL &&
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	    X509_set_serialNumber(x, ai) == 1)
		rc = 0;
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return rc;
}

static int
pki_cert_validity(X509 *x, int days)
{
	if (days <= 0) {
		log_warnx("pki: validity of %d days", days);
		return -1;
	}
	if (X509_gmtime_adj(X509_getm_notBefore(x), -PKI_BACKDATE_SECS) ==
	    NULL || X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) ==
	    NULL)
		return -1;
	return 0;
}

static int
pki_cert_names(X509 *x, const char *cn, X509 *issuer)
{
	X509_NAME	*name;
	int		 rc = -1;

	if ((name = X509_NAME_new()) == NULL)
		return -1;
	if (X509_NAME_add_entry_by_NID(name, NID_organizationName,
	    MBSTRING_UTF8, (const unsigned char *)PKI_ORG, -1, -1, 0) == 1 &&
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) == 1 &&
	    X509_set_subject_name(x, name) == 1 &&
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name) == 1)
		rc = 0;
	X509_NAME_free(name);
	return rc;
}

static int
pki_cert_exts(X509 *x, X509 *issuer, const struct pki_ext *exts)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (; exts->nid != NID_undef; exts++) {
		ext = X509V3_EXT_nconf_nid(NULL, &ctx, exts->nid,
		    exts->value);
		if (ext == NULL)
			return -1;
		ok = X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		if (ok != 1)
			return -1;
	}
	return 0;
}

static int
pki_cert_sans(X509 *x, const char *const *sans)
{
	GENERAL_NAMES	*gens;
	int		 rc = -1;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
		return -1;
	for (; sans != NULL && *sans != NULL; sans++)
		if (pki_cert_san_add(gens, *sans) == -1)
			goto done;
	if (sk_GENERAL_NAME_num(gens) == 0) {
		log_warnx("pki: server certificate without names");
		goto done;
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_APPEND) == 1)
		rc = 0;
 done:
	GENERAL_NAMES_free(gens);
	return rc;
}

/* An IP literal becomes an iPAddress, anything else a dNSName. */
static int
pki_cert_san_add(GENERAL_NAMES *gens, const char *s)
{
	unsigned char	 addr[16];
	GENERAL_NAME	*gn;
	int		 rc;

	if (inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1)
		rc = pki_cert_san_ip(gens, s, &gn);
	else
		rc = pki_cert_san_dns(gens, s, &gn);
	if (rc == -1 || gn == NULL)
		return rc;
	if (sk_GENERAL_NAME_push(gens, gn) == 0) {
		GENERAL_NAME_free(gn);
		return -1;
	}
	return 0;
}

/* *gnp stays NULL for a duplicate. */
static int
pki_cert_san_ip(GENERAL_NAMES *gens, const char *s, GENERAL_NAME **gnp)
{
	ASN1_OCTET_STRING	*os;
	GENERAL_NAME		*gn;
	int			 i;

	*gnp = NULL;
	if ((os = a2i_IPADDRESS(s)) == NULL)
		return -1;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		gn = sk_GENERAL_NAME_value(gens, i);
		if (gn->type == GEN_IPADD &&
		    ASN1_OCTET_STRING_cmp(gn->d.iPAddress, os) == 0) {
			ASN1_OCTET_STRING_free(os);
			return 0;
		}
	}
	if ((gn = GENERAL_NAME_new()) == NULL) {
		ASN1_OCTET_STRING_free(os);
		return -1;
	}
	GENERAL_NAME_set0_value(gn, GEN_IPADD, os);
	*gnp = gn;
	return 0;
}

static int
pki_cert_san_dns(GENERAL_NAMES *gens, const char *s, GENERAL_NAME **gnp)
{
	ASN1_IA5STRING	*ia5;
	GENERAL_NAME	*gn;
	int		 i;

	*gnp = NULL;
	if (!pki_cert_valid_dns(s)) {
		log_warnx("pki: invalid server name \"%s\"", s);
		return -1;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		gn = sk_GENERAL_NAME_value(gens, i);
		if (gn->type == GEN_DNS && strcasecmp(s, (const char *)
		    ASN1_STRING_get0_data(gn->d.dNSName)) == 0)
			return 0;
	}
	if ((ia5 = ASN1_IA5STRING_new()) == NULL)
		return -1;
	if (ASN1_STRING_set(ia5, s, strlen(s)) != 1 ||
	    (gn = GENERAL_NAME_new()) == NULL) {
		ASN1_IA5STRING_free(ia5);
		return -1;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	*gnp = gn;
	return 0;
}

static int
pki_cert_valid_dns(const char *s)
{
	size_t	 len = strlen(s);

	if (len == 0 || len > PKI_DNS_MAX || *s == '.' || *s == '-')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == len;
}

/*
 * CNs name sandboxes and the gateway authorizes by them, so keep them
 * to a plain alphabet: nothing a peer could make look like another.
 */
int
pki_cert_valid_cn(const char *cn)
{
	size_t	 len = strlen(cn);

	if (len == 0 || len >= PKI_CN_MAX)
		return 0;
	return strspn(cn, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == len;
}

/*
 * The subject's one and only CN into buf.  Several CNs, an embedded
 * NUL or a CN that does not fit fail: authorization must not depend on
 * which of several names a check happened to look at.
 */
int
pki_cert_cn(X509 *x, char *buf, size_t size)
{
	X509_NAME	*name;
	X509_NAME_ENTRY	*e;
	unsigned char	*utf8 = NULL;
	int		 idx, len, rc = -1;

	if ((name = X509_get_subject_name(x)) == NULL ||
	    (idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		return -1;
	e = X509_NAME_get_entry(name, idx);
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	if (len >= 0 && (size_t)len < size &&
	    memchr(utf8, '\0', len) == NULL) {
		memcpy(buf, utf8, len);
		buf[len] = '\0';
		rc = 0;
	}
	OPENSSL_free(utf8);
	return rc;
}

int
pki_cert_file_cn(const char *path, char *buf, size_t size)
{
	X509	*x;
	int	 rc;

	if ((x = pki_cert_load(path)) == NULL)
		return -1;
	rc = pki_cert_cn(x, buf, size);
	X509_free(x);
	return rc;
}

X509 *
pki_cert_load(const char *path)
{
	BIO	*bio;
	X509	*x = NULL;

	if ((bio = BIO_new_file(path, "r")) != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		ERR_clear_error();
		log_warnx("pki: cannot read a certificate from %s", path);
	}
	return x;
}

/* *pem is a NUL-terminated string; free it with free(). */
int
pki_cert_pem(X509 *x, char **pem)
{
	BIO	*bio;
	int	 rc = -1;

	*pem = NULL;
	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_X509(bio, x) == 1)
		rc = pki_cert_bio_str(bio, pem);
	BIO_free(bio);
	if (rc == -1)
		pki_sslerr("certificate PEM");
	return rc;
}

/*
 * PKCS#8 PEM of the private key.  The BIO is secure memory, cleared
 * when freed; *pem must be released with pki_free_secret().
 */
int
pki_cert_key_pem(EVP_PKEY *key, char **pem)
{
	BIO	*bio;
	int	 rc = -1;

	*pem = NULL;
	if ((bio = BIO_new(BIO_s_secmem())) != NULL &&
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) == 1)
		rc = pki_cert_bio_str(bio, pem);
	BIO_free(bio);
	if (rc == -1)
		pki_sslerr("key PEM");
	return rc;
}

/*
 * The certificates of a PEM bundle (len bytes) into st, as trust
 * anchors; text around them and other PEM blocks are skipped.  The
 * number added (a duplicate counts), or -1 for a damaged PEM block.
 */
int
pki_store_add_pem(X509_STORE *st, const char *pem, size_t len)
{
	STACK_OF(X509_INFO)	*infos;
	X509_INFO		*xi;
	BIO			*b;
	int			 i, n = 0;

	if (len > INT_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -1;
	infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	BIO_free(b);
	if (infos == NULL) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 != NULL && X509_STORE_add_cert(st, xi->x509) == 1)
			n++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	return n;
}

static int
pki_cert_bio_str(BIO *bio, char **out)
{
	char	*data;
	long	 len;

	if ((len = BIO_get_mem_data(bio, &data)) <= 0)
		return -1;
	if ((*out = malloc(len + 1)) == NULL) {
		log_warn("pki");
		return -1;
	}
	memcpy(*out, data, len);
	(*out)[len] = '\0';
	return 0;
}

void
pki_free_secret(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Log the first queued OpenSSL error; the rest is noise after it. */
int
pki_sslerr(const char *what)
{
	char		 buf[256];
	unsigned long	 e;

	if ((e = ERR_get_error()) == 0)
		log_warnx("pki: %s failed", what);
	else {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_warnx("pki: %s: %s", what, buf);
	}
	ERR_clear_error();
	return -1;
}
