/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The CA and the certificates it issues.
 */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"
#include "pki_local.h"

#define PKI_MAX_SANS	64

struct pki_ca {
	X509		*ca_cert;
	EVP_PKEY	*ca_key;
};

static int	 pki_ca_exists(const char *, const char *);
static int	 pki_write_pair(X509 *, EVP_PKEY *, const char *,
		    const char *);
static int	 pki_server_names(const char *const *, const char **,
		    size_t, char *, size_t);

/*
 * Create a new CA in dir (made 0700 if missing).  An existing CA is
 * never replaced: that would orphan every certificate it issued.
 */
struct pki_ca *
pki_ca_create(const char *dir, int days)
{
	struct pki_ca	*ca;
	char		 crt[PATH_MAX], key[PATH_MAX];

	if (pki_file_mkdirs(dir) == -1 ||
	    pki_file_path(crt, sizeof(crt), dir, PKI_CA_CERT) == -1 ||
	    pki_file_path(key, sizeof(key), dir, PKI_CA_KEY) == -1)
		return NULL;
	if (pki_ca_exists(crt, key)) {
		log_warnx("pki: a CA already exists in %s", dir);
		errno = EEXIST;
		return NULL;
	}
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		log_warn("pki");
		return NULL;
	}
	if ((ca->ca_key = pki_cert_keygen()) == NULL ||
	    (ca->ca_cert = pki_cert_make(PKI_KIND_CA, PKI_CA_CN, ca->ca_key,
	    NULL, NULL, days, NULL)) == NULL ||
	    pki_write_pair(ca->ca_cert, ca->ca_key, crt, key) == -1) {
		pki_ca_free(ca);
		return NULL;
	}
	log_info("pki: created CA in %s", dir);
	return ca;
}

/* Half a pair is the debris of an interrupted create: overwrite it. */
static int
pki_ca_exists(const char *crt, const char *key)
{
	struct stat	 sb;

	return stat(crt, &sb) == 0 && stat(key, &sb) == 0;
}

struct pki_ca *
pki_ca_load(const char *dir)
{
	struct pki_ca	*ca;
	char		 crt[PATH_MAX], key[PATH_MAX];

	if (pki_file_path(crt, sizeof(crt), dir, PKI_CA_CERT) == -1 ||
	    pki_file_path(key, sizeof(key), dir, PKI_CA_KEY) == -1)
		return NULL;
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		log_warn("pki");
		return NULL;
	}
	if ((ca->ca_cert = pki_cert_load(crt)) == NULL ||
	    (ca->ca_key = pki_file_read_key(key)) == NULL) {
		pki_ca_free(ca);
		return NULL;
	}
	if (X509_check_private_key(ca->ca_cert, ca->ca_key) != 1 ||
	    X509_check_ca(ca->ca_cert) < 1) {
		pki_sslerr(dir);
		log_warnx("pki: %s does not hold a CA and its key", dir);
		pki_ca_free(ca);
		return NULL;
	}
	return ca;
}

void
pki_ca_free(struct pki_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->ca_cert);
	EVP_PKEY_free(ca->ca_key);
	free(ca);
}

/* Borrowed: valid until pki_ca_free(). */
X509 *
pki_ca_cert(const struct pki_ca *ca)
{
	return ca->ca_cert;
}

/*
 * Issue dir/server.{crt,key} for localhost, 127.0.0.1, ::1, this host's
 * name and the NULL-terminated extras (names or IP literals).
 */
int
pki_issue_server(struct pki_ca *ca, const char *dir,
    const char *const *extra, int days)
{
	const char	*names[PKI_MAX_SANS + 1];
	char		 host[256], crt[PATH_MAX], keyp[PATH_MAX];
	EVP_PKEY	*key;
	X509		*x = NULL;
	int		 rc = -1;

	if (pki_server_names(extra, names, PKI_MAX_SANS + 1, host,
	    sizeof(host)) == -1 || pki_file_mkdirs(dir) == -1 ||
	    pki_file_path(crt, sizeof(crt), dir, PKI_SERVER_CERT) == -1 ||
	    pki_file_path(keyp, sizeof(keyp), dir, PKI_SERVER_KEY) == -1)
		return -1;
	if ((key = pki_cert_keygen()) == NULL)
		return -1;
	if ((x = pki_cert_make(PKI_KIND_SERVER, PKI_SERVER_CN, key,
	    ca->ca_cert, ca->ca_key, days, names)) != NULL)
		rc = pki_write_pair(x, key, crt, keyp);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int
pki_server_names(const char *const *extra, const char **names,
    size_t max, char *host, size_t hostlen)
{
	size_t	 n = 0;

	names[n++] = "localhost";
	names[n++] = "127.0.0.1";
	names[n++] = "::1";
	/* A host name no DNS label can carry is simply left out. */
	if (gethostname(host, hostlen) == 0 && host[0] != '\0' &&
	    strchr(host, '/') == NULL && strspn(host, "abcdefghijklmnopqrstuvw"
	    "xyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == strlen(host))
		names[n++] = host;
	for (; extra != NULL && *extra != NULL; extra++) {
		if (n + 1 >= max) {
			log_warnx("pki: too many server names");
			return -1;
		}
		names[n++] = *extra;
	}
	names[n] = NULL;
	return 0;
}

/*
 * A client certificate (EKU clientAuth) for cn: PKI_ADMIN_CN for the
 * CLI, or a sandbox id.  The caller owns *cert_pem (free()) and
 * *key_pem (pki_free_secret()).
 */
int
pki_issue_client_pem(struct pki_ca *ca, const char *cn, int days,
    char **cert_pem, char **key_pem)
{
	EVP_PKEY	*key;
	X509		*x;
	int		 rc = -1;

	*cert_pem = *key_pem = NULL;
	if (!pki_cert_valid_cn(cn)) {
		log_warnx("pki: invalid client common name");
		return -1;
	}
	if ((key = pki_cert_keygen()) == NULL)
		return -1;
	if ((x = pki_cert_make(PKI_KIND_CLIENT, cn, key, ca->ca_cert,
	    ca->ca_key, days, NULL)) != NULL &&
	    pki_cert_pem(x, cert_pem) == 0 &&
	    pki_cert_key_pem(key, key_pem) == 0)
		rc = 0;
	if (rc == -1) {
		free(*cert_pem);
		*cert_pem = NULL;
	}
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* As pki_issue_client_pem(), into files (their directory must exist). */
int
pki_issue_client(struct pki_ca *ca, const char *cn, const char *cert_path,
    const char *key_path, int days)
{
	char	*crt, *key;
	int	 rc = -1;

	if (pki_issue_client_pem(ca, cn, days, &crt, &key) == -1)
		return -1;
	if (pki_file_write(key_path, key, 0600) == 0 &&
	    pki_file_write(cert_path, crt, 0644) == 0)
		rc = 0;
	free(crt);
	pki_free_secret(key);
	return rc;
}

/* The key goes first: a certificate is never left without its key. */
static int
pki_write_pair(X509 *x, EVP_PKEY *key, const char *crt_path,
    const char *key_path)
{
	char	*crt = NULL, *pem = NULL;
	int	 rc = -1;

	if (pki_cert_pem(x, &crt) == 0 && pki_cert_key_pem(key, &pem) == 0 &&
	    pki_file_write(key_path, pem, 0600) == 0 &&
	    pki_file_write(crt_path, crt, 0644) == 0)
		rc = 0;
	free(crt);
	pki_free_secret(pem);
	return rc;
}
