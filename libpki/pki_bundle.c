/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The CLI's client bundle: <config>/clusters/<name>/mtls/{ca.crt,
 * tls.crt,tls.key} (architecture.md §6).  The directory is swapped as
 * a whole, so the CLI never sees a certificate next to a stale key.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"
#include "pki_local.h"

#define PKI_NAME_MAX	128

static int	 pki_bundle_valid_name(const char *);
static int	 pki_bundle_check(const char *, const char *, const char *);
static X509	*pki_bundle_parse_cert(const char *);
static int	 pki_bundle_fill(const char *, const char *, const char *,
		    const char *);
static int	 pki_bundle_swap(const char *, const char *, const char *);
static int	 pki_bundle_rmdir(const char *);

/*
 * Write the bundle for gateway `name' under config_dir (normally
 * $XDG_CONFIG_HOME/openshell): fill mtls.tmp/, move the current mtls/
 * aside to mtls.bak/, rename mtls.tmp/ into place, then drop the
 * backup.  On failure the previous bundle is left (or put back).
 */
int
pki_write_client_bundle(const char *config_dir, const char *name,
    const char *ca_pem, const char *cert_pem, const char *key_pem)
{
	char	 base[PATH_MAX], tmp[PATH_MAX], dst[PATH_MAX], bak[PATH_MAX];
	int	 n;

	if (!pki_bundle_valid_name(name)) {
		log_warnx("pki: invalid gateway name \"%s\"", name);
		return -1;
	}
	if (pki_bundle_check(ca_pem, cert_pem, key_pem) == -1)
		return -1;
	n = snprintf(base, sizeof(base), "%s/clusters/%s", config_dir, name);
	if (n < 0 || (size_t)n >= sizeof(base) ||
	    pki_file_path(tmp, sizeof(tmp), base, "mtls.tmp") == -1 ||
	    pki_file_path(dst, sizeof(dst), base, "mtls") == -1 ||
	    pki_file_path(bak, sizeof(bak), base, "mtls.bak") == -1) {
		log_warnx("pki: bundle path too long");
		return -1;
	}
	if (pki_file_mkdirs(base) == -1)
		return -1;
	if (pki_bundle_rmdir(tmp) == -1 ||
	    pki_bundle_fill(tmp, ca_pem, cert_pem, key_pem) == -1) {
		pki_bundle_rmdir(tmp);
		return -1;
	}
	return pki_bundle_swap(tmp, dst, bak);
}

/* The name becomes a path component: no separators, no dot-names. */
static int
pki_bundle_valid_name(const char *name)
{
	size_t	 len = strlen(name);

	if (len == 0 || len > PKI_NAME_MAX || name[0] == '.')
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == len;
}

/* Refuse to replace a working bundle with one that cannot work. */
static int
pki_bundle_check(const char *ca_pem, const char *cert_pem,
    const char *key_pem)
{
	X509		*ca, *cert;
	EVP_PKEY	*key = NULL;
	BIO		*bio;
	int		 rc = -1;

	ca = pki_bundle_parse_cert(ca_pem);
	cert = pki_bundle_parse_cert(cert_pem);
	if ((bio = BIO_new_mem_buf(key_pem, -1)) != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (ca != NULL && cert != NULL && key != NULL &&
	    X509_check_ca(ca) >= 1 && X509_check_private_key(cert, key) == 1)
		rc = 0;
	else {
		ERR_clear_error();
		log_warnx("pki: client bundle is incomplete or inconsistent");
	}
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static X509 *
pki_bundle_parse_cert(const char *pem)
{
	BIO	*bio;
	X509	*x = NULL;

	if ((bio = BIO_new_mem_buf(pem, -1)) != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

static int
pki_bundle_fill(const char *tmp, const char *ca_pem, const char *cert_pem,
    const char *key_pem)
{
	char	 ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX];

	if (pki_file_path(ca, sizeof(ca), tmp, PKI_BUNDLE_CA) == -1 ||
	    pki_file_path(crt, sizeof(crt), tmp, PKI_BUNDLE_CERT) == -1 ||
	    pki_file_path(key, sizeof(key), tmp, PKI_BUNDLE_KEY) == -1)
		return -1;
	if (mkdir(tmp, 0700) == -1) {
		log_warn("pki: mkdir %s", tmp);
		return -1;
	}
	if (pki_file_write(key, key_pem, 0600) == -1 ||
	    pki_file_write(crt, cert_pem, 0644) == -1 ||
	    pki_file_write(ca, ca_pem, 0644) == -1)
		return -1;
	return 0;
}

static int
pki_bundle_swap(const char *tmp, const char *dst, const char *bak)
{
	struct stat	 sb;
	int		 have_old;

	have_old = lstat(dst, &sb) == 0;
	if (have_old && (pki_bundle_rmdir(bak) == -1 ||
	    rename(dst, bak) == -1)) {
		log_warn("pki: back up %s", dst);
		pki_bundle_rmdir(tmp);
		return -1;
	}
	if (rename(tmp, dst) == -1) {
		log_warn("pki: rename %s", tmp);
		if (have_old && rename(bak, dst) == -1)
			log_warn("pki: restore %s", dst);
		pki_bundle_rmdir(tmp);
		return -1;
	}
	if (pki_file_fsync_dir(dst) == -1)
		return -1;
	if (have_old && pki_bundle_rmdir(bak) == -1)
		log_warnx("pki: stale backup left in %s", bak);
	return 0;
}

/*
 * Remove one of our own bundle directories: its plain files (including
 * temporaries of an interrupted write), then the directory.  A missing
 * directory is fine; a subdirectory is not ours and stops us.
 */
static int
pki_bundle_rmdir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1)
			rc = -1;
	}
	closedir(d);
	if (rc == -1 || rmdir(dir) == -1) {
		log_warn("pki: remove %s", dir);
		return -1;
	}
	return 0;
}
